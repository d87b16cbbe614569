//! How a session travels: the one carrier a configuration opens and seals its cookie with.
//!
//! | carrier    | the cookie holds                  | sealed by                      |
//! |------------|-----------------------------------|--------------------------------|
//! | `Envelope` | the session, signed or encrypted  | [`Codec`]                      |
//! | `Flask`    | Flask's session                   | `FlaskCodec`                   |
//! | `StoreId`  | the id of a record in a store     | [`Codec`], flagged as an id    |
//!
//! A carrier opens a cookie value into what it holds and seals what the engine decided to
//! send; the lifetime policy, the send-back decision and the `Set-Cookie` header are the
//! engine's. An enum, not a trait object: cookie mode stays within its allocation budget.

use std::ops::Range;

use crate::codec::{Codec, Stamp, FLAG_SERVER};
use crate::error::{Rejection, SaveError};
use crate::schema::SessionSchema;
use crate::session::{Incoming, TrackedSession};

/// How a configuration's cookie carries its sessions.
#[derive(Debug)]
pub(crate) enum Carrier {
    /// sessionkit's envelope holding the session.
    Envelope(Codec),
    /// Flask's `URLSafeTimedSerializer` cookie.
    #[cfg(feature = "flask")]
    Flask(crate::flask::FlaskCodec),
    /// sessionkit's envelope holding the id of the session's record in a store.
    StoreId(Codec),
}

/// A verified cookie value: its bytes, where what it carries sits in them, and its signed
/// times, not yet held against the lifetime.
#[derive(Debug)]
pub(crate) struct Arrival {
    pub(crate) raw: Vec<u8>,
    /// The session's JSON, or a store's id.
    pub(crate) body: Range<usize>,
    pub(crate) permanent: bool,
    pub(crate) issued_at: u64,
    /// `None` for Flask's cookie, which signs one time.
    pub(crate) created_at: Option<u64>,
    /// To be written again: a fallback key verified it, or it is not in the configured form.
    pub(crate) by_fallback: bool,
}

impl Arrival {
    /// What came in, as every save decision compares against it.
    pub(crate) fn into_incoming(self) -> Incoming {
        Incoming {
            raw: self.raw,
            payload: self.body,
            permanent: self.permanent,
            issued_at: self.issued_at,
            created_at: self.created_at,
            by_fallback: self.by_fallback,
            server: None,
            expires_at: None,
        }
    }
}

/// A session's data as its carrier writes it, before sealing.
#[derive(Debug)]
pub(crate) struct Outgoing {
    /// An envelope's header and payload, or the JSON alone.
    raw: Vec<u8>,
    /// Where the JSON starts in `raw`.
    json: usize,
    /// The empty session: nothing to keep.
    pub(crate) empty: bool,
    /// Flask's session, encoded when sealed.
    map: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

impl Outgoing {
    #[inline]
    fn new(raw: Vec<u8>, json: usize, empty: &[u8]) -> Self {
        Self {
            empty: raw[json..] == *empty,
            raw,
            json,
            map: None,
        }
    }

    /// The session's JSON.
    #[inline]
    pub(crate) fn json(&self) -> &[u8] {
        &self.raw[self.json..]
    }

    /// The session's JSON, taken out.
    pub(crate) fn into_json(mut self) -> Vec<u8> {
        self.raw.drain(..self.json);
        self.raw
    }

    /// Whether `incoming` holds the same session as this one (asked when the bytes differ).
    #[inline]
    pub(crate) fn same<T: SessionSchema>(&self, data: &T, incoming: &[u8]) -> bool {
        // Flask's map is compared by its bytes' meaning (its keys were re-tagged), not by the
        // type's own comparison.
        if self.map.is_some() {
            return crate::schema::same_json_bytes(incoming, self.json());
        }
        data.same_data(incoming)
    }
}

impl Carrier {
    /// Whether the cookie carries a store's id (the record holds the session).
    #[inline]
    pub(crate) fn carries_id(&self) -> bool {
        matches!(self, Self::StoreId(_))
    }

    /// Whether an unchanged browser-session cookie is refreshed too (Flask refreshes only
    /// persistent ones: `SESSION_REFRESH_EACH_REQUEST` applies to permanent sessions).
    #[inline]
    pub(crate) fn refreshes_browser_sessions(&self) -> bool {
        !self.is_flask()
    }

    /// Whether a refused cookie is removed when nothing replaces it (Flask leaves it, and
    /// Flask mode sends what Flask sends).
    #[inline]
    pub(crate) fn removes_refused(&self) -> bool {
        !self.is_flask()
    }

    #[inline]
    fn is_flask(&self) -> bool {
        #[cfg(feature = "flask")]
        return matches!(self, Self::Flask(_));
        #[cfg(not(feature = "flask"))]
        {
            let _ = self;
            false
        }
    }

    /// Verifies a cookie value of schema version `schema`, whose length the caller bounded.
    pub(crate) fn open(&self, value: &[u8], schema: u32) -> Result<Arrival, Rejection> {
        let (codec, id) = match self {
            Self::Envelope(codec) => (codec, false),
            Self::StoreId(codec) => (codec, true),
            #[cfg(feature = "flask")]
            Self::Flask(codec) => {
                let opened = crate::flask::cookie::open(codec, value)?;
                return Ok(Arrival {
                    body: 0..opened.json.len(),
                    raw: opened.json,
                    permanent: opened.permanent,
                    issued_at: opened.timestamp,
                    created_at: None,
                    by_fallback: opened.by_fallback,
                });
            }
        };
        let opened = codec.open_as(value, id, schema)?;
        Ok(Arrival {
            raw: opened.raw,
            body: opened.payload,
            permanent: opened.stamp.permanent,
            issued_at: opened.stamp.issued_at,
            created_at: Some(opened.stamp.created_at),
            by_fallback: opened.by_fallback,
        })
    }

    /// The session's data as this carrier writes it, under `stamp`. A store's session is its
    /// JSON alone.
    #[inline]
    pub(crate) fn outgoing<T: SessionSchema>(
        &self,
        session: &TrackedSession<T>,
        stamp: Stamp,
        empty: &[u8],
    ) -> Result<Outgoing, SaveError> {
        // Room for the data as it came in, and some: one allocation where serde's default
        // (128 bytes, then doubling) reallocates a typical session once or twice.
        let room = session
            .incoming()
            .map_or(empty.len(), |incoming| incoming.payload.len())
            + 64;
        match self {
            Self::Envelope(codec) => {
                let mut raw = codec.begin(stamp, room);
                let start = raw.len();
                crate::schema::refuse_non_finite(&**session)?;
                serde_json::to_writer(&mut raw, &**session).map_err(SaveError::Serialize)?;
                Ok(Outgoing::new(raw, start, empty))
            }
            Self::StoreId(_) => Ok(Outgoing::new(
                crate::schema::to_json(&**session, room)?,
                0,
                empty,
            )),
            #[cfg(feature = "flask")]
            Self::Flask(_) => Self::flask_outgoing(session, stamp),
        }
    }

    /// Flask's session to write, kept out of line: the envelope's path stays small.
    #[cfg(feature = "flask")]
    #[inline(never)]
    fn flask_outgoing<T: SessionSchema>(
        session: &TrackedSession<T>,
        stamp: Stamp,
    ) -> Result<Outgoing, SaveError> {
        let map = crate::flask::cookie::outgoing(session, stamp.permanent)?;
        // `_permanent` alone is an empty session.
        let empty = map.len() == usize::from(stamp.permanent);
        let raw = serde_json::to_vec(&map).map_err(SaveError::Serialize)?;
        Ok(Outgoing {
            raw,
            json: 0,
            empty,
            map: Some(Box::new(map)),
        })
    }

    /// The data that came in, under a new `stamp` (a refresh, a key rotation, a change of
    /// permanence).
    #[cfg_attr(not(feature = "flask"), allow(clippy::unnecessary_wraps))]
    pub(crate) fn resigned(
        &self,
        incoming: &Incoming,
        stamp: Stamp,
        empty: &[u8],
    ) -> Result<Outgoing, SaveError> {
        match self {
            Self::Envelope(codec) => {
                let mut raw = codec.begin(stamp, incoming.payload().len());
                let start = raw.len();
                raw.extend_from_slice(incoming.payload());
                Ok(Outgoing::new(raw, start, empty))
            }
            Self::StoreId(_) => Ok(Outgoing::new(incoming.payload().to_vec(), 0, empty)),
            #[cfg(feature = "flask")]
            Self::Flask(_) => {
                let map = crate::flask::cookie::resigned(incoming.payload(), stamp.permanent)?;
                Ok(Outgoing {
                    raw: Vec::new(),
                    json: 0,
                    empty: false,
                    map: Some(Box::new(map)),
                })
            }
        }
    }

    /// The stamp the cookie is signed with: Flask's cookie carries one time, the signing time,
    /// and Flask refuses one in its future, so it is this server's clock, as Flask signs.
    #[inline]
    pub(crate) fn signing_stamp(&self, stamp: Stamp, now: u64) -> Stamp {
        if self.is_flask() {
            Stamp {
                issued_at: now,
                created_at: now,
                ..stamp
            }
        } else {
            stamp
        }
    }

    /// Seals `outgoing`, signed as `stamp` says, and appends the cookie value to `out`.
    /// `renewed_from` is the cookie a renewal replaces: the new one must differ from it.
    #[inline]
    pub(crate) fn seal(
        &self,
        outgoing: Outgoing,
        stamp: Stamp,
        renewed_from: Option<&Incoming>,
        out: &mut String,
    ) -> Result<(), SaveError> {
        match self {
            Self::Envelope(codec) | Self::StoreId(codec) => {
                let _ = stamp; // in the envelope's header since it was begun
                let mut raw = outgoing.raw;
                if let Some(incoming) = renewed_from {
                    let signed = incoming.raw.get(..incoming.payload.end).unwrap_or_default();
                    codec.renewal(&mut raw, signed);
                }
                codec.seal(raw, out)
            }
            #[cfg(feature = "flask")]
            Self::Flask(codec) => Self::flask_seal(codec, outgoing, stamp, out),
        }
    }

    /// Flask's cookie value, appended to `out`; out of line, as [`Carrier::flask_outgoing`].
    #[cfg(feature = "flask")]
    #[inline(never)]
    fn flask_seal(
        codec: &crate::flask::FlaskCodec,
        outgoing: Outgoing,
        stamp: Stamp,
        out: &mut String,
    ) -> Result<(), SaveError> {
        let map = outgoing.map.unwrap_or_default();
        let value = codec
            .encode(&map, stamp.issued_at)
            .map_err(|e| SaveError::Serialize(serde::ser::Error::custom(e)))?;
        out.push_str(&value);
        Ok(())
    }

    /// A store id's cookie value, appended to `out`.
    pub(crate) fn seal_id(
        &self,
        id: &[u8],
        stamp: Stamp,
        out: &mut String,
    ) -> Result<(), SaveError> {
        let Self::StoreId(codec) = self else {
            return Err(SaveError::NeedsAsync);
        };
        let mut raw = codec.begin_with(stamp, FLAG_SERVER, id.len());
        raw.extend_from_slice(id);
        codec.seal(raw, out)
    }
}
