//! Flask mode of [`SessionConfig`]: Flask's cookie, Flask's expiry, Flask's keys kept.

use serde_json::{Map, Value};

use super::{Refresh, SessionConfig};
use crate::codec::{Opened, Stamp};
use crate::flask::{FlaskCodec, FlaskError};
use crate::{CookieCommand, Rejection, Session, SessionSchema, StoreError};

/// The key Flask keeps `session.permanent` in.
const PERMANENT: &str = "_permanent";

/// Verifies a Flask cookie; the payload becomes the typed-form JSON of the whole Flask session.
pub(super) fn open(
    codec: &FlaskCodec,
    value: &str,
    now: u64,
    lifetime: std::time::Duration,
) -> Result<Opened, Rejection> {
    let session = codec
        .decode(value, now, lifetime.as_secs())
        .map_err(|e| match e {
            FlaskError::Invalid(reason) => reason,
            FlaskError::BadPayload(why) | FlaskError::Encode(why) => Rejection::Payload(why),
        })?;
    let permanent = session.permanent();
    let raw = serde_json::to_vec(&session.data).map_err(|e| Rejection::Payload(e.to_string()))?;
    Ok(Opened {
        payload: 0..raw.len(),
        raw,
        stamp: Stamp {
            permanent,
            issued_at: session.timestamp,
            created_at: session.timestamp,
        },
        schema: 0,
        by_fallback: session.by_fallback,
    })
}

/// Flask's save rules, with sessionkit's change detection: a cookie goes out when the merged
/// session changed, when a fallback key verified it, when the permanence changed, or for a
/// permanent session under `Refresh::EveryRequest`; an emptied session is removed.
pub(super) fn store<T: SessionSchema>(
    config: &SessionConfig<T>,
    codec: &FlaskCodec,
    session: &Session<T>,
    now: u64,
) -> Result<CookieCommand, StoreError> {
    let incoming = session.incoming().filter(|_| !session.was_cleared());
    let permanent = session.is_permanent();
    let must_resign = incoming.is_some_and(|o| {
        o.by_fallback
            || o.stamp.permanent != permanent
            || (permanent && config.refresh == Refresh::EveryRequest)
    });
    if !session.was_touched() && !must_resign {
        return Ok(CookieCommand::Unchanged);
    }
    let mut map: Map<String, Value> = match incoming {
        Some(opened) => serde_json::from_slice(opened.payload()).map_err(StoreError::Serialize)?,
        None => Map::new(),
    };
    if session.was_touched() {
        merge::<T>(
            &mut map,
            serde_json::to_value(&**session).map_err(StoreError::Serialize)?,
        )?;
    }
    map.remove(PERMANENT);
    if map.is_empty() {
        return Ok(config.removal(session));
    }
    if permanent {
        map.insert(PERMANENT.to_owned(), Value::Bool(true));
    }
    let unchanged = incoming
        .is_some_and(|o| serde_json::to_vec(&map).is_ok_and(|now_bytes| now_bytes == o.payload()));
    if unchanged && !must_resign {
        return Ok(CookieCommand::Unchanged);
    }
    let value = codec
        .encode(&map, now)
        .map_err(|e| StoreError::Serialize(serde::ser::Error::custom(e)))?;
    let stamp = Stamp {
        permanent,
        issued_at: now,
        created_at: now,
    };
    config.finish(|out| out.push_str(&value), stamp, now)
}

/// Replaces the keys `T` names by its current values; `None` (null) means the key is absent.
/// Keys that `T` does not name (another app's, or Flask's own) are kept.
fn merge<T: SessionSchema>(map: &mut Map<String, Value>, ours: Value) -> Result<(), StoreError> {
    let Value::Object(ours) = ours else {
        return Err(StoreError::Serialize(serde::ser::Error::custom(
            "a Flask session must serialize to a map",
        )));
    };
    for key in T::FIELDS {
        map.remove(*key);
    }
    map.extend(ours.into_iter().filter(|(_, v)| !v.is_null()));
    Ok(())
}
