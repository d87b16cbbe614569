//! [`SessionSchema`]: what the core needs to know about a session type.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// The default absolute lifetime: 31 days, as Flask's `PERMANENT_SESSION_LIFETIME`.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(31 * 24 * 60 * 60);

/// A type that can live in a session cookie. `#[derive(Session)]` implements it; the constants
/// come from `#[session(cookie = .., lifetime = .., version = ..)]`.
///
/// # Examples
///
/// ```
/// use sessionkit::SessionSchema;
///
/// #[derive(Default, serde::Serialize, serde::Deserialize)]
/// struct Cart { items: Vec<u32> }
///
/// impl SessionSchema for Cart {
///     const COOKIE_NAME: &'static str = "cart";
///     const VERSION: u32 = 2;
///     const FIELDS: &'static [&'static str] = &["items"];
/// }
/// assert_eq!(Cart::LIFETIME.as_secs(), 31 * 24 * 3600);
/// ```
pub trait SessionSchema: Serialize + DeserializeOwned + Default {
    /// The cookie name.
    const COOKIE_NAME: &'static str = "session";
    /// The default absolute lifetime.
    const LIFETIME: Duration = DEFAULT_LIFETIME;
    /// The schema version, signed into every cookie: raise it when a change to the struct must
    /// invalidate existing sessions rather than load them with defaults.
    const VERSION: u32 = 0;
    /// The session keys, as serialized.
    const FIELDS: &'static [&'static str];

    /// Who the session belongs to (the field marked `#[session(owner)]`), indexed by
    /// server-side stores so that a user's sessions can be listed and revoked. `None` for an
    /// anonymous session.
    fn owner(&self) -> Option<String> {
        None
    }

    /// Whether `payload`, the JSON that came in with the request, holds the same session as
    /// `self`. Asked only when the bytes differ, so that equal values are never sent again as
    /// a change: two serializations of one `HashMap` differ in key order.
    ///
    /// Asked only when the outgoing bytes differ from `payload`. The default compares the JSON
    /// by meaning (objects whatever their key order), which covers maps at any depth.
    /// `#[derive(Session)]` on a struct whose every field's JSON is one text per value
    /// (numbers, strings, `Option`, `Vec`, `BTreeMap`, ... of them) answers `false` at once:
    /// different bytes are different data, and no decode is paid. On any other struct that
    /// also implements `PartialEq` it decodes `payload` and compares with `==`, which covers
    /// sets (`HashSet` serializes as an array in a different order each time) too.
    fn same_data(&self, payload: &[u8]) -> bool {
        same_json(self, payload)
    }

    /// Whether a field is `#[serde(flatten)]`: its keys are not in [`FIELDS`](Self::FIELDS),
    /// so the formats that keep other apps' keys (Flask's) find them from the serialized data.
    #[doc(hidden)]
    const FLATTENED: bool = false;

    /// The key of a float field holding NaN or an infinity, if any: JSON writes those as
    /// `null`, which the next request could not read back, so the save is refused instead.
    /// `#[derive(Session)]` checks its `f32`/`f64` fields (and `Option`s of them).
    #[doc(hidden)]
    fn non_finite_field(&self) -> Option<&'static str> {
        None
    }
}

/// Serializes `data` as the session's JSON into a buffer of `room` bytes to start with,
/// refusing a float JSON cannot carry.
pub(crate) fn to_json<T: SessionSchema>(
    data: &T,
    room: usize,
) -> Result<Vec<u8>, crate::error::SaveError> {
    refuse_non_finite(data)?;
    let mut json = Vec::with_capacity(room);
    serde_json::to_writer(&mut json, data).map_err(crate::error::SaveError::Serialize)?;
    Ok(json)
}

/// [`SessionSchema::non_finite_field`] as a save error.
pub(crate) fn refuse_non_finite<T: SessionSchema>(data: &T) -> Result<(), crate::error::SaveError> {
    match data.non_finite_field() {
        Some(field) => Err(crate::error::SaveError::NotFinite { field }),
        None => Ok(()),
    }
}

/// Deserializes a verified payload into `T`, filling fields the payload lacks, at any depth.
///
/// Changing the session struct between deploys must not log everyone out, whether or not the
/// struct carries `#[serde(default)]`: when the direct parse fails with `missing field`, the
/// missing field is added where serde asked for it and the parse runs again. Its value comes
/// from `T::default()` when the default has that place (a top-level field, a nested struct
/// that is there by default), else it is the first of `null`, `{}`, `[]`, `""`, `0`, `false`
/// its type accepts (`None`, an empty struct filled the same way, an empty collection, an empty
/// string, zero). Only the field serde reports is added, so a field renamed with
/// `#[serde(alias = "old")]` is found under its old key rather than duplicated. Unknown keys are
/// ignored (unless `T` denies them); a value that no longer fits its field is still a
/// rejection. The direct parse is the fast path; the mending runs only after a `missing field`
/// error.
pub(crate) fn decode_payload<T: SessionSchema>(
    payload: &[u8],
) -> Result<T, crate::error::Rejection> {
    let first = match serde_json::from_slice(payload) {
        Ok(data) => return Ok(data),
        Err(e) => e,
    };
    let refuse = |e: &dyn std::fmt::Display| crate::error::Rejection::Payload(e.to_string());
    // Only a missing field is mended; every other error (a duplicate key, a wrong type, trailing
    // data) stays a rejection, as strict as the direct parse.
    if missing_field(&first.to_string()).is_none() {
        return Err(refuse(&first));
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(payload) else {
        return Err(refuse(&first));
    };
    let template = serde_json::to_value(T::default()).ok();
    let mut mending = Mending::default();
    for _ in 0..MAX_MENDS {
        let error = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(data) => return Ok(data),
            Err(error) => error,
        };
        let path: Vec<Step> = error.path().iter().filter_map(Step::of).collect();
        let message = error.into_inner().to_string();
        if !mending.mend(&mut value, template.as_ref(), path, &message) {
            return Err(refuse(&message));
        }
    }
    Err(refuse(&first))
}

/// How many fields one payload may have mended (each try of a stand-in value counts).
const MAX_MENDS: usize = 256;

/// The values tried, in order, for a missing field `T::default()` has no value for.
const STAND_INS: [fn() -> Value; 6] = [
    || Value::Null,
    || Value::Object(serde_json::Map::new()),
    || Value::Array(Vec::new()),
    || Value::String(String::new()),
    || Value::from(0),
    || Value::Bool(false),
];

/// The field name of a serde `missing field` message.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.get(..rest.find('`')?)
}

/// One step of a path into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

impl Step {
    fn of(segment: &serde_path_to_error::Segment) -> Option<Self> {
        match segment {
            serde_path_to_error::Segment::Map { key } => Some(Self::Key(key.clone())),
            serde_path_to_error::Segment::Seq { index } => Some(Self::Index(*index)),
            _ => None,
        }
    }
}

fn at_mut<'v>(mut value: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    for step in path {
        value = match step {
            Step::Key(key) => value.get_mut(key.as_str())?,
            Step::Index(index) => value.get_mut(*index)?,
        };
    }
    Some(value)
}

fn at<'v>(mut value: &'v Value, path: &[Step]) -> Option<&'v Value> {
    for step in path {
        value = match step {
            Step::Key(key) => value.get(key.as_str())?,
            Step::Index(index) => value.get(*index)?,
        };
    }
    Some(value)
}

/// The fields added so far: where, and which stand-in each holds.
#[derive(Debug, Default)]
struct Mending {
    added: Vec<(Vec<Step>, usize)>,
}

impl Mending {
    /// Mends the error `message` at `path`: adds a missing field, or tries the next stand-in
    /// for a field added before whose value did not fit. False when nothing can be done.
    fn mend(
        &mut self,
        value: &mut Value,
        template: Option<&Value>,
        mut path: Vec<Step>,
        message: &str,
    ) -> bool {
        if let Some(field) = missing_field(message) {
            path.push(Step::Key(field.to_owned()));
            let (filler, stand_in) = match template.and_then(|t| at(t, &path)) {
                Some(default) => (default.clone(), STAND_INS.len()),
                None => (STAND_INS[0](), 0),
            };
            let Some(Value::Object(object)) = at_mut(value, &path[..path.len() - 1]) else {
                return false;
            };
            object.insert(field.to_owned(), filler);
            self.added.push((path, stand_in));
            return true;
        }
        // A stand-in of the wrong type: the error is at the added field or inside it.
        let Some(entry) = self
            .added
            .iter_mut()
            .rev()
            .find(|(added, _)| path.starts_with(added))
        else {
            return false;
        };
        entry.1 += 1;
        let (Some(next), Some(slot)) = (STAND_INS.get(entry.1), at_mut(value, &entry.0)) else {
            return false;
        };
        *slot = next();
        let added = entry.0.clone();
        // Fields added inside the replaced value are gone with it.
        self.added
            .retain(|(p, _)| p == &added || !p.starts_with(&added));
        true
    }
}

/// Whether the JSON `payload` holds the same value as `data`, compared by meaning: objects
/// equal whatever their key order (a `HashMap` serializes in a different order each time),
/// everything else as written.
pub fn same_json<V: Serialize + ?Sized>(data: &V, payload: &[u8]) -> bool {
    match (
        serde_json::to_value(data),
        serde_json::from_slice::<Value>(payload),
    ) {
        (Ok(ours), Ok(theirs)) => ours == theirs,
        _ => false,
    }
}

/// Whether two JSON texts hold the same value, objects compared whatever their key order.
pub(crate) fn same_json_bytes(a: &[u8], b: &[u8]) -> bool {
    match (
        serde_json::from_slice::<Value>(a),
        serde_json::from_slice::<Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The comparison `#[derive(Session)]` picks for `SessionSchema::same_data`: `==` when the
/// struct implements `PartialEq`, the JSON compared by meaning otherwise (autoref
/// specialization: the generated code calls `(&&Compare(self)).same_as(payload)`).
#[doc(hidden)]
#[derive(Debug)]
pub struct Compare<'a, T>(pub &'a T);

/// The `PartialEq` arm of [`Compare`].
#[doc(hidden)]
pub trait SameByEq {
    fn same_as(&self, payload: &[u8]) -> bool;
}

impl<T: SessionSchema + PartialEq> SameByEq for &Compare<'_, T> {
    fn same_as(&self, payload: &[u8]) -> bool {
        decode_payload::<T>(payload).is_ok_and(|old| old == *self.0)
    }
}

/// The JSON arm of [`Compare`].
#[doc(hidden)]
pub trait SameByJson {
    fn same_as(&self, payload: &[u8]) -> bool;
}

impl<T: Serialize> SameByJson for Compare<'_, T> {
    fn same_as(&self, payload: &[u8]) -> bool {
        same_json(self.0, payload)
    }
}

/// Every key `T` owns in a session that also holds other apps' keys (Flask's formats): its
/// [`FIELDS`](SessionSchema::FIELDS), and with a flattened field the keys it writes now (`ours`)
/// or by default.
#[cfg(feature = "flask")]
pub(crate) fn owned_keys<T: SessionSchema>(ours: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<String> = T::FIELDS.iter().map(|k| (*k).to_owned()).collect();
    if T::FLATTENED {
        let default = serde_json::to_value(T::default()).ok();
        let written = default
            .as_ref()
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.keys());
        for key in ours.keys().chain(written) {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
    }
    keys
}
