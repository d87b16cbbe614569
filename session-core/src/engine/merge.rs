//! The three-way merge of a conflict: what this request changed, re-applied on the current
//! record, at any depth.
//!
//! `base` is what this request loaded, `mine` what it would write, `theirs` the record another
//! request wrote meanwhile. The rules, applied recursively:
//!
//! | `base` → `mine` | `base` → `theirs` | merged |
//! |---|---|---|
//! | unchanged | anything | `theirs` |
//! | changed | unchanged | `mine` |
//! | changed | changed the same way | `mine` |
//! | objects on all sides | | merged key by key (a key absent on one side was removed there) |
//! | `base` an array both only appended to | | `theirs`, then what `mine` appended |
//! | changed | changed differently | `mine` (the clash: this request's value wins) |
//!
//! So two requests adding one item each to the same cart keep both items, and two requests
//! changing different keys of one nested object keep both changes. What cannot merge: two
//! increments of one counter (both wrote `n + 1`: one increment is lost), and two different
//! values for the same key (the later write wins).

use serde_json::{Map, Value};

/// The JSON of `theirs` with the changes `mine` made to `base` re-applied. `None` when one of
/// the three is not JSON.
pub(crate) fn reapply(theirs: &[u8], base: &[u8], mine: &[u8]) -> Option<Vec<u8>> {
    let parse = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).ok();
    let (theirs, base, mine) = (parse(theirs)?, parse(base)?, parse(mine)?);
    let merged = merge(Some(&base), Some(&mine), Some(&theirs))?;
    serde_json::to_vec(&merged).ok()
}

/// One value of the merge; `None` is a key absent on that side.
fn merge(base: Option<&Value>, mine: Option<&Value>, theirs: Option<&Value>) -> Option<Value> {
    if mine == base || mine == theirs {
        return theirs.cloned();
    }
    if theirs == base {
        return mine.cloned();
    }
    match (base, mine, theirs) {
        (base, Some(Value::Object(mine)), Some(Value::Object(theirs))) => {
            let empty = Map::new();
            let base = match base {
                Some(Value::Object(base)) => base,
                _ => &empty,
            };
            Some(Value::Object(merge_objects(base, mine, theirs)))
        }
        (Some(Value::Array(base)), Some(Value::Array(mine)), Some(Value::Array(theirs)))
            if mine.starts_with(base) && theirs.starts_with(base) =>
        {
            let mut both = theirs.clone();
            both.extend_from_slice(&mine[base.len()..]);
            Some(Value::Array(both))
        }
        // Changed differently on both sides: this request's value wins.
        _ => mine.cloned(),
    }
}

fn merge_objects(
    base: &Map<String, Value>,
    mine: &Map<String, Value>,
    theirs: &Map<String, Value>,
) -> Map<String, Value> {
    let mut merged = Map::new();
    // `theirs`' keys first, in their order, then keys only this request added.
    let keys = theirs
        .keys()
        .chain(mine.keys().filter(|k| !theirs.contains_key(*k)));
    for key in keys {
        if let Some(value) = merge(base.get(key), mine.get(key), theirs.get(key)) {
            merged.insert(key.clone(), value);
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::reapply;

    fn merged(theirs: &str, base: &str, mine: &str) -> String {
        let out = reapply(theirs.as_bytes(), base.as_bytes(), mine.as_bytes()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn only_the_fields_this_request_changed_are_reapplied() {
        let loaded = r#"{"a":1,"b":1,"c":1}"#;
        let current = r#"{"a":2,"b":1,"c":1}"#; // another request changed a
        let outgoing = r#"{"a":1,"b":5,"c":1}"#; // this one changed b
        assert_eq!(merged(current, loaded, outgoing), r#"{"a":2,"b":5,"c":1}"#);
    }

    #[test]
    fn a_key_this_request_removed_is_removed() {
        assert_eq!(
            merged(r#"{"a":2,"b":1}"#, r#"{"a":1,"b":1}"#, r#"{"a":1}"#),
            r#"{"a":2}"#
        );
        assert_eq!(reapply(b"[1]", b"{}", b"nope"), None);
    }

    #[test]
    fn appends_on_both_sides_keep_both() {
        let base = r#"{"cart":[1]}"#;
        let theirs = r#"{"cart":[1,2]}"#;
        let mine = r#"{"cart":[1,3]}"#;
        assert_eq!(merged(theirs, base, mine), r#"{"cart":[1,2,3]}"#);
    }

    #[test]
    fn nested_objects_merge_per_key() {
        let base = r#"{"prefs":{"theme":"light","lang":"en"}}"#;
        let theirs = r#"{"prefs":{"theme":"dark","lang":"en"}}"#;
        let mine = r#"{"prefs":{"theme":"light","lang":"fr"}}"#;
        assert_eq!(
            merged(theirs, base, mine),
            r#"{"prefs":{"lang":"fr","theme":"dark"}}"#
        );
    }

    #[test]
    fn a_clash_takes_this_requests_value_and_a_counter_loses_an_increment() {
        let base = r#"{"n":1,"s":[1,2]}"#;
        let theirs = r#"{"n":2,"s":[2]}"#;
        let mine = r#"{"n":2,"s":[1,2,3]}"#;
        // Both wrote n + 1; the array was shortened on one side, so it is a clash.
        assert_eq!(merged(theirs, base, mine), r#"{"n":2,"s":[1,2,3]}"#);
    }

    #[test]
    fn a_change_on_one_side_wins_over_no_change() {
        let base = r#"{"a":{"b":[1]}}"#;
        assert_eq!(merged(base, base, r#"{"a":{"b":[]}}"#), r#"{"a":{"b":[]}}"#);
        assert_eq!(merged(r#"{"a":null}"#, base, base), r#"{"a":null}"#);
    }
}
