//! [`SessionSchema`]: what the core needs to know about a session type.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

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
}

/// The owner string of a field value: a string as is, a number in decimal, `None` for null.
#[doc(hidden)]
pub fn owner_of<V: Serialize + ?Sized>(value: &V) -> Option<String> {
    match serde_json::to_value(value).ok()? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Deserializes a verified payload into `T`, filling fields the payload lacks from
/// `T::default()`.
///
/// Adding a field to the session struct between deploys must not log everyone out, whether
/// or not the struct carries `#[serde(default)]`: when the direct parse fails, the payload's
/// keys are laid over the serialized default and parsed again. Unknown keys are ignored (unless
/// `T` denies them); a key whose value no longer fits its field is still a rejection. The
/// direct parse is the fast path; the mending runs only after a `missing field` error.
pub(crate) fn decode_payload<T: SessionSchema>(payload: &[u8]) -> Result<T, crate::Rejection> {
    let first = match serde_json::from_slice(payload) {
        Ok(data) => return Ok(data),
        Err(e) => e,
    };
    let refuse = |e: &dyn std::fmt::Display| crate::Rejection::Payload(e.to_string());
    // Only a missing field is mended; every other error (a duplicate key, a wrong type, trailing
    // data) stays a rejection, as strict as the direct parse.
    if !first.to_string().starts_with("missing field") {
        return Err(refuse(&first));
    }
    let Ok(serde_json::Value::Object(incoming)) = serde_json::from_slice(payload) else {
        return Err(refuse(&first));
    };
    let Ok(serde_json::Value::Object(mut merged)) = serde_json::to_value(T::default()) else {
        return Err(refuse(&first));
    };
    merged.extend(incoming);
    serde_json::from_value(serde_json::Value::Object(merged)).map_err(|e| refuse(&e))
}
