//! Re-applies, on a conflict, the top-level fields this request changed onto the current record.

use serde_json::{Map, Value};

/// The JSON of `current` with every top-level key whose value differs between `loaded` (what
/// this request read) and `outgoing` (what it would write) set as in `outgoing`. Keys this
/// request did not change keep the value another request wrote. `None` when one of the three is
/// not a JSON object.
pub(crate) fn reapply(current: &[u8], loaded: &[u8], outgoing: &[u8]) -> Option<Vec<u8>> {
    let object = |bytes: &[u8]| match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    let (mut merged, loaded, outgoing) = (object(current)?, object(loaded)?, object(outgoing)?);
    for key in changed_keys(&loaded, &outgoing) {
        match outgoing.get(&key) {
            Some(value) => {
                merged.insert(key, value.clone());
            }
            None => {
                merged.remove(&key);
            }
        }
    }
    serde_json::to_vec(&Value::Object(merged)).ok()
}

fn changed_keys(loaded: &Map<String, Value>, outgoing: &Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<String> = outgoing
        .iter()
        .filter(|(k, v)| loaded.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    keys.extend(
        loaded
            .keys()
            .filter(|k| !outgoing.contains_key(*k))
            .cloned(),
    );
    keys
}

#[cfg(test)]
mod tests {
    use super::reapply;

    #[test]
    fn only_the_fields_this_request_changed_are_reapplied() {
        let loaded = br#"{"a":1,"b":1,"c":1}"#;
        let current = br#"{"a":2,"b":1,"c":1}"#; // another request changed a
        let outgoing = br#"{"a":1,"b":5,"c":1}"#; // this one changed b
        let merged = reapply(current, loaded, outgoing).unwrap();
        assert_eq!(merged, br#"{"a":2,"b":5,"c":1}"#);
    }

    #[test]
    fn a_key_this_request_removed_is_removed() {
        let merged = reapply(br#"{"a":2,"b":1}"#, br#"{"a":1,"b":1}"#, br#"{"a":1}"#).unwrap();
        assert_eq!(merged, br#"{"a":2}"#);
        assert_eq!(reapply(b"[1]", b"{}", b"{}"), None);
    }
}
