//! The engine: every decision about a session, with no I/O.
//!
//! ```text
//! open(headers, now)  → Ready(session) | Fetch(keys)      one place opens a cookie
//! resume(key, record) → session                            store mode
//! plan(session, now)  → Done(cookie) | Store(operation)    the only `match Action`
//! finish(done, now)   → the Set-Cookie to send             once the operation succeeded
//! ```
//!
//! [`SessionConfig`](crate::SessionConfig) holds an engine and, with a store, the driver that
//! runs the operations it plans (`store/driver.rs`).

mod merge;
pub(crate) mod outcome;
mod plan;
pub(crate) mod record;
#[cfg(test)]
mod tests;

use std::sync::Arc;

pub(crate) use plan::{Done, StoreOp, Work};

use self::record::{Record, Records};
use crate::carrier::{Arrival, Carrier};
use crate::error::Rejection;
use crate::header::{self as cookie, Layout};
use crate::id::{SessionId, StoreKey};
use crate::lifetime::{to_s, Lifetime, Stamp};
use crate::schema::SessionSchema;
use crate::session::{Incoming, Refused, Stored, TrackedSession};

/// A hook that decides whether a verified session is still valid (see
/// [`SessionConfigBuilder::validate`](crate::SessionConfigBuilder::validate)).
pub(crate) type Validator<T> = Arc<dyn Fn(&T) -> bool + Send + Sync>;
/// An asynchronous session check: `true` keeps the session.
pub(crate) type AsyncValidator<T> = Arc<
    dyn Fn(&T) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>> + Send + Sync,
>;

/// The settings every decision reads.
pub(crate) struct Engine<T> {
    pub(crate) name: String,
    pub(crate) carrier: Carrier,
    pub(crate) layout: Layout,
    pub(crate) lifetime: Lifetime,
    pub(crate) max_cookie_bytes: usize,
    pub(crate) permanent: bool,
    pub(crate) cache_control: Option<String>,
    /// The JSON of `T::default()`: the empty session.
    pub(crate) empty_payload: Vec<u8>,
    pub(crate) validator: Option<Validator<T>>,
    pub(crate) async_validator: Option<AsyncValidator<T>>,
    /// With a store: how records are written, read and keyed.
    pub(crate) records: Option<Records>,
}

/// What came in with a request, as far as the engine can take it alone.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // cookie mode's session, by value: a box would allocate
pub(crate) enum Opening<T> {
    /// The session (or a fresh one, and why the cookie was refused).
    Ready(outcome::Loaded<T>),
    /// Store mode: the candidate cookies in order, each an id whose record to fetch or why it
    /// was refused.
    Fetch(Vec<Result<Pending, Rejection>>),
}

/// A verified id cookie waiting for its record.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) id: SessionId,
    pub(crate) key: StoreKey,
    stamp: Stamp,
    by_fallback: bool,
}

/// What came in once its carrier opened it.
enum Arrived<T> {
    Session(TrackedSession<T>),
    Id(Pending),
}

impl<T: SessionSchema> Engine<T> {
    /// Opens the request's `Cookie` headers: one scan for the exact name, at most
    /// [`MAX_CANDIDATES`](crate::MAX_CANDIDATES) values, each bounded before decoding. The
    /// first that opens is the session; `checked_later` when the caller runs the async check.
    pub(crate) fn open<'h>(
        &self,
        headers: impl IntoIterator<Item = &'h [u8]>,
        now: u64,
        checked_later: bool,
    ) -> Opening<T> {
        let candidates = cookie::find(headers, &self.name);
        let mut fetch = Vec::new();
        let mut first_rejection = None;
        for value in candidates.as_slice() {
            match self.arrive(value, now, checked_later) {
                Ok(Arrived::Session(session)) => {
                    return Opening::Ready(outcome::Loaded {
                        session,
                        rejected: None,
                    })
                }
                Ok(Arrived::Id(pending)) => fetch.push(Ok(pending)),
                Err(reason) if self.carrier.carries_id() => fetch.push(Err(reason)),
                Err(reason) => {
                    first_rejection.get_or_insert(reason);
                }
            }
        }
        if self.carrier.carries_id() && !fetch.is_empty() {
            return Opening::Fetch(fetch);
        }
        Opening::Ready(self.refused(first_rejection))
    }

    /// One cookie value: bounded, opened by the carrier, held against the lifetime. An id
    /// cookie's idle time is not checked: the record's expiry is the authority.
    fn arrive(&self, value: &[u8], now: u64, checked_later: bool) -> Result<Arrived<T>, Rejection> {
        if self.async_validator.is_some() && !checked_later {
            return Err(Rejection::NeedsAsync);
        }
        if value.len() > self.max_cookie_bytes {
            return Err(Rejection::TooLarge {
                bytes: value.len(),
                limit: self.max_cookie_bytes,
            });
        }
        let arrival = self.carrier.open(value, T::VERSION)?;
        let (permanent, issued_at, created_at) =
            (arrival.permanent, arrival.issued_at, arrival.created_at);
        if let Some(records) = &self.records {
            self.lifetime
                .check_absolute(permanent, issued_at, created_at, now)?;
            return Self::pending(records, arrival).map(Arrived::Id);
        }
        self.lifetime.check(permanent, issued_at, created_at, now)?;
        let data = self.accept(&arrival.raw[arrival.body.clone()])?;
        let mut incoming = arrival.into_incoming();
        let (issued_at, created_at) = incoming.times();
        let stamp = Stamp {
            permanent,
            issued_at,
            created_at,
        };
        incoming.expires_at = Some(self.lifetime.expires_at(stamp, issued_at));
        Ok(Arrived::Session(TrackedSession::loaded(data, incoming)))
    }

    fn pending(records: &Records, arrival: Arrival) -> Result<Pending, Rejection> {
        let id = SessionId::from_bytes(&arrival.raw[arrival.body]).ok_or(Rejection::Malformed)?;
        let (issued_at, created_at) = (arrival.issued_at, arrival.created_at);
        Ok(Pending {
            key: records.key(&id),
            id,
            stamp: Stamp {
                permanent: arrival.permanent,
                issued_at,
                created_at: created_at.unwrap_or(issued_at),
            },
            by_fallback: arrival.by_fallback,
        })
    }

    /// A fresh session standing in for a refused cookie (or for none), which the response
    /// removes: a browser that keeps sending a dead cookie costs a verification (and with a
    /// store, a read) on every request.
    pub(crate) fn refused(&self, rejected: Option<Rejection>) -> outcome::Loaded<T> {
        if let Some(reason) = &rejected {
            crate::observe::refused(reason);
        }
        let refused = match &rejected {
            // Not the cookie's fault: the configuration is loaded the wrong way.
            None | Some(Rejection::NeedsAsync | Rejection::ServerSide) => Refused::Nothing,
            Some(_) => Refused::Cookie,
        };
        outcome::Loaded {
            session: TrackedSession::refused(T::default(), self.permanent, refused),
            rejected,
        }
    }

    /// The session a verified payload holds, if it decodes and the app's check keeps it.
    pub(crate) fn accept(&self, payload: &[u8]) -> Result<T, Rejection> {
        let data: T = crate::schema::decode_payload(payload)?;
        if let Some(validate) = &self.validator {
            if !validate(&data) {
                return Err(Rejection::Revoked);
            }
        }
        Ok(data)
    }

    /// Resumes a session from the record its id cookie points to (`Err`: the store holds one
    /// it cannot read, and why): schema, absolute lifetime, payload, validation.
    pub(crate) fn resume(
        &self,
        pending: Pending,
        fetched: Result<Option<Record>, String>,
        now: u64,
    ) -> Result<TrackedSession<T>, Rejection> {
        let records = self.records.as_ref().ok_or(Rejection::ServerSide)?;
        let record = fetched
            .map_err(|why| self.corrupt(&pending.id, why))?
            .ok_or(Rejection::UnknownSession)?;
        let (schema, raw, payload) = records
            .open(&pending.key, record.created_at, record.payload)
            .map_err(|why| self.corrupt(&pending.id, why.into()))?;
        if schema != T::VERSION {
            return Err(Rejection::SchemaMismatch {
                found: schema,
                expected: T::VERSION,
            });
        }
        let (stamp, created_at) = (pending.stamp, to_s(record.created_at));
        self.lifetime.check_age(stamp.permanent, created_at, now)?;
        let data = self.accept(&raw[payload.clone()])?;
        let incoming = Incoming {
            payload,
            raw,
            permanent: stamp.permanent,
            issued_at: stamp.issued_at,
            created_at: Some(created_at.min(stamp.issued_at)),
            by_fallback: pending.by_fallback,
            server: Some(Stored {
                id: pending.id,
                key: pending.key,
                version: record.version,
            }),
            expires_at: Some(to_s(record.expires_at)),
        };
        Ok(TrackedSession::loaded(data, incoming))
    }

    /// A short keyed fingerprint of a session id, for logs: ids themselves are never logged.
    pub(crate) fn fingerprint(&self, id: &SessionId) -> String {
        match &self.records {
            Some(records) => records.fingerprint(id),
            None => record::fingerprint(&[0; 32], id),
        }
    }

    fn corrupt(&self, id: &SessionId, reason: String) -> Rejection {
        Rejection::CorruptRecord {
            session: self.fingerprint(id),
            reason,
        }
    }
}
