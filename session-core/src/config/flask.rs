//! Flask mode of [`SessionConfig`]: Flask's cookie and keys kept; the lifetime policy and the
//! send-back decision are the shared ones.

use serde_json::{Map, Value};

use super::SessionConfig;
use crate::decide::Action;
use crate::flask::{FlaskCodec, FlaskError};
use crate::lifetime::Lifetime;
use crate::session::Incoming;
use crate::{
    config::CookieCommand, error::Rejection, error::SaveError, schema::SessionSchema,
    session::TrackedSession,
};

/// The key Flask keeps `session.permanent` in.
const PERMANENT: &str = "_permanent";

/// Verifies a Flask cookie and checks its one signed time against the lifetime policy; the
/// payload becomes the typed-form JSON of the whole Flask session.
pub(super) fn open(
    codec: &FlaskCodec,
    value: &str,
    now: u64,
    lifetime: &Lifetime,
) -> Result<Incoming, Rejection> {
    let flask_error = |e| match e {
        FlaskError::Invalid(reason) => reason,
        FlaskError::BadPayload(why) | FlaskError::Encode(why) => Rejection::Payload(why),
    };
    let verified = codec.verify_cookie(value).map_err(flask_error)?;
    let data = verified.data().map_err(flask_error)?;
    let permanent = data.get(PERMANENT) == Some(&Value::Bool(true));
    lifetime.check(permanent, verified.timestamp, None, now)?;
    let raw = serde_json::to_vec(&data).map_err(|e| Rejection::Payload(e.to_string()))?;
    Ok(Incoming {
        payload: 0..raw.len(),
        raw,
        permanent,
        issued_at: verified.timestamp,
        created_at: None,
        by_fallback: verified.by_fallback,
        server: None,
        expires_at: None,
    })
}

/// Flask's save rules through the shared decision: the outgoing payload is the incoming
/// Flask session with the keys `T` names replaced, and only persistent sessions are refreshed
/// (Flask's `SESSION_REFRESH_EACH_REQUEST` applies to permanent sessions only).
pub(super) fn save<T: SessionSchema>(
    config: &SessionConfig<T>,
    codec: &FlaskCodec,
    session: &TrackedSession<T>,
    now: u64,
) -> Result<CookieCommand, SaveError> {
    let mut plan = config.plan(session, false, now);
    // Flask leaves a refused cookie in place; the recorded behaviour pins it.
    plan.remove_refused = false;
    let incoming_map = || -> Result<Map<String, Value>, SaveError> {
        match session.current_incoming() {
            Some(i) => serde_json::from_slice(i.payload()).map_err(SaveError::Serialize),
            None => Ok(Map::new()),
        }
    };
    let mut map = Map::new();
    let action = if plan.needs_payload() {
        map = outgoing_map(session, incoming_map()?, plan.stamp.permanent)?;
        // `_permanent` alone is an empty session.
        let empty = map.len() == usize::from(plan.stamp.permanent);
        let bytes = serde_json::to_vec(&map).map_err(SaveError::Serialize)?;
        plan.decide(session, Some((&bytes, empty)), |incoming| {
            crate::schema::same_json_bytes(incoming, &bytes)
        })
    } else {
        plan.decide(session, None, |_| false)
    };
    let stamp = match action {
        Action::Keep => return Ok(CookieCommand::Unchanged),
        Action::Remove => return Ok(config.removal()),
        Action::Resign(stamp) => {
            map = incoming_map()?;
            map.remove(PERMANENT);
            if stamp.permanent {
                map.insert(PERMANENT.to_owned(), Value::Bool(true));
            }
            stamp
        }
        Action::Write(stamp) => stamp,
    };
    // Flask's cookie carries one time, the signing time, and Flask refuses one in its future:
    // sign with this server's clock, as Flask does.
    let stamp = crate::lifetime::Stamp {
        issued_at: now,
        created_at: now,
        ..stamp
    };
    let value = codec
        .encode(&map, stamp.issued_at)
        .map_err(|e| SaveError::Serialize(serde::ser::Error::custom(e)))?;
    config.finish(
        |out| {
            out.push_str(&value);
            Ok(())
        },
        stamp,
        now,
    )
}

/// The Flask session to write: the incoming one with the keys `T` names replaced, and
/// `_permanent` as `permanent` says.
fn outgoing_map<T: SessionSchema>(
    session: &TrackedSession<T>,
    mut map: Map<String, Value>,
    permanent: bool,
) -> Result<Map<String, Value>, SaveError> {
    crate::schema::refuse_non_finite(&**session)?;
    merge::<T>(
        &mut map,
        serde_json::to_value(&**session).map_err(SaveError::Serialize)?,
    )?;
    map.remove(PERMANENT);
    if permanent {
        map.insert(PERMANENT.to_owned(), Value::Bool(true));
    }
    Ok(map)
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
