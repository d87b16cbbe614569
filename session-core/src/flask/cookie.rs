//! Flask's session cookie as a carrier: a verified cookie becomes the typed-form JSON of the
//! whole Flask session, and a session is written back as that map with the keys `T` names
//! replaced, so keys another app (or Flask itself) keeps survive.

use serde_json::{Map, Value};

use super::{FlaskCodec, FlaskError};
use crate::error::{Rejection, SaveError};
use crate::schema::SessionSchema;
use crate::session::TrackedSession;

/// The key Flask keeps `session.permanent` in.
const PERMANENT: &str = "_permanent";

/// A verified Flask cookie: the typed-form JSON of its session and what Flask signs beside.
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) json: Vec<u8>,
    pub(crate) permanent: bool,
    /// The one signed time, the engine's to check.
    pub(crate) timestamp: u64,
    pub(crate) by_fallback: bool,
}

/// Verifies a Flask cookie.
pub(crate) fn open(codec: &FlaskCodec, value: &[u8]) -> Result<Opened, Rejection> {
    // Flask's value is dotted base64url: bytes that are not ASCII are not its.
    let value = std::str::from_utf8(value)
        .ok()
        .filter(|v| v.is_ascii())
        .ok_or(Rejection::Malformed)?;
    let flask_error = |e| match e {
        FlaskError::Invalid(reason) => reason,
        FlaskError::BadPayload(why) | FlaskError::Encode(why) => Rejection::Payload(why),
    };
    let verified = codec.verify_cookie(value).map_err(flask_error)?;
    let data = verified.data().map_err(flask_error)?;
    let permanent = data.get(PERMANENT) == Some(&Value::Bool(true));
    Ok(Opened {
        json: serde_json::to_vec(&data).map_err(|e| Rejection::Payload(e.to_string()))?,
        permanent,
        timestamp: verified.timestamp,
        by_fallback: verified.by_fallback,
    })
}

/// The Flask session to write: the incoming one with the keys `T` names replaced, and
/// `_permanent` as `permanent` says.
pub(crate) fn outgoing<T: SessionSchema>(
    session: &TrackedSession<T>,
    permanent: bool,
) -> Result<Map<String, Value>, SaveError> {
    let mut map = match session.current_incoming() {
        Some(i) => serde_json::from_slice(i.payload()).map_err(SaveError::Serialize)?,
        None => Map::new(),
    };
    crate::schema::refuse_non_finite(&**session)?;
    merge::<T>(
        &mut map,
        serde_json::to_value(&**session).map_err(SaveError::Serialize)?,
    )?;
    Ok(with_permanence(map, permanent))
}

/// The Flask session that came in (`payload`), with `_permanent` as `permanent` says.
pub(crate) fn resigned(payload: &[u8], permanent: bool) -> Result<Map<String, Value>, SaveError> {
    let map = serde_json::from_slice(payload).map_err(SaveError::Serialize)?;
    Ok(with_permanence(map, permanent))
}

fn with_permanence(mut map: Map<String, Value>, permanent: bool) -> Map<String, Value> {
    map.remove(PERMANENT);
    if permanent {
        map.insert(PERMANENT.to_owned(), Value::Bool(true));
    }
    map
}

/// Replaces the keys `T` names by its current values; `None` (null) means the key is absent.
/// Keys that `T` does not name (another app's, or Flask's own) are kept.
fn merge<T: SessionSchema>(map: &mut Map<String, Value>, ours: Value) -> Result<(), SaveError> {
    let Value::Object(ours) = ours else {
        return Err(SaveError::Serialize(serde::ser::Error::custom(
            "a Flask session must serialize to a map",
        )));
    };
    for key in crate::schema::owned_keys::<T>(&ours) {
        map.remove(&key);
    }
    map.extend(ours.into_iter().filter(|(_, v)| !v.is_null()));
    Ok(())
}
