//! The async driver: verify the cookie, load the record, resume; after the handler, plan and run
//! the store operation, then (only then) the cookie.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::backoff::Backoff;
use super::server_side::{ServerSide, StoreFailure};
use super::{Created, Record, SessionId, SessionStore, StoreError, StoreKey, Updated};
use crate::codec::FLAG_SERVER;
use crate::config::unix_seconds;
use crate::decide::{Action, Plan};
use crate::lifetime::{to_ms, to_s, Stamp};
use crate::session::{Incoming, Refused};
use crate::{
    config::CookieCommand, config::Loaded, config::SessionConfig, error::Rejection,
    error::SaveError, header as cookie, schema::SessionSchema, session::Stored,
    session::TrackedSession,
};

pub(super) fn unix_millis(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Runs a store operation under the configured timeout (with the `tokio` feature; without
/// it, the backend's own timeouts apply).
pub(super) async fn bounded<F: std::future::Future<Output = Result<R, StoreError>>, R>(
    timeout: Duration,
    operation: F,
) -> Result<R, StoreError> {
    #[cfg(feature = "tokio")]
    {
        tokio::time::timeout(timeout, operation)
            .await
            .unwrap_or(Err(StoreError::Timeout))
    }
    #[cfg(not(feature = "tokio"))]
    {
        let _ = timeout;
        operation.await
    }
}

/// A load from `store`, tried once more after an outage or a timeout.
async fn load_from(
    store: &super::BoxedStore,
    timeout: Duration,
    key: &StoreKey,
    now_ms: u64,
) -> Result<Option<Record>, StoreError> {
    match bounded(timeout, store.load(key, now_ms)).await {
        Err(e) if retryable(&e) => bounded(timeout, store.load(key, now_ms)).await,
        other => other,
    }
}

/// An idempotent operation may be tried once more after an outage or a timeout.
fn retryable(error: &StoreError) -> bool {
    matches!(error, StoreError::Unavailable(_) | StoreError::Timeout)
}

impl<T: SessionSchema> SessionConfig<T> {
    pub(super) fn server(&self) -> Option<&ServerSide> {
        self.inner.server.as_ref()
    }

    /// A short keyed fingerprint of a session id, for logs: ids themselves are never logged.
    #[must_use]
    pub fn fingerprint(&self, id: &SessionId) -> String {
        use hmac::Mac as _;
        let key = self.server().map_or([0; 32], |s| s.fingerprint_key);
        let Ok(mut mac) = crate::key::HmacSha256::new_from_slice(&key) else {
            return String::new(); // HMAC takes keys of any length
        };
        mac.update(id.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..6])
    }

    fn corrupt(&self, id: &SessionId, reason: String) -> Rejection {
        Rejection::CorruptRecord {
            session: self.fingerprint(id),
            reason,
        }
    }

    /// Loads the session, from the store when one is configured (otherwise as
    /// [`SessionConfig::load_header_bytes`]).
    ///
    /// A missing, forged, expired or unknown id gives a fresh session and a [`Rejection`];
    /// nothing is written for it.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot answer: the request must fail (503), not continue
    /// as if the user had no session.
    pub async fn load_async<'h>(
        &self,
        headers: impl IntoIterator<Item = &'h [u8]>,
        now: SystemTime,
    ) -> Result<Loaded<T>, StoreError> {
        let loaded = self.load_unchecked(headers, now).await?;
        let Some(check) = &self.inner.async_validator else {
            return Ok(loaded);
        };
        if loaded.session.is_new() || check(&loaded.session).await {
            return Ok(loaded);
        }
        Ok(self.refused(Some(Rejection::Revoked)))
    }

    /// [`SessionConfig::load_async`] before the asynchronous check.
    async fn load_unchecked<'h>(
        &self,
        headers: impl IntoIterator<Item = &'h [u8]>,
        now: SystemTime,
    ) -> Result<Loaded<T>, StoreError> {
        let Some(server) = self.server() else {
            return Ok(self.load_bytes(headers, now, true));
        };
        let mut first_rejection = None;
        let candidates = cookie::find(headers, &self.inner.name);
        for value in candidates.as_slice() {
            let outcome = match self.open_id(server, value, unix_seconds(now)) {
                Ok((id, stamp, by_fallback)) => {
                    let key = StoreKey::new(&server.namespace, &id);
                    let record = match self.load_record(server, &key, now).await {
                        // A record the store holds but cannot read is a refused session.
                        Err(StoreError::Corrupt(why)) => Err(self.corrupt(&id, why)),
                        other => other?.ok_or(Rejection::UnknownSession),
                    };
                    record.and_then(|r| {
                        self.resume(
                            server,
                            Stored {
                                id,
                                key,
                                version: r.version,
                            },
                            r,
                            stamp,
                            by_fallback,
                            now,
                        )
                    })
                }
                Err(reason) => Err(reason),
            };
            match outcome {
                Ok(session) => {
                    return Ok(Loaded {
                        session,
                        rejected: None,
                    })
                }
                Err(reason) => {
                    first_rejection.get_or_insert(reason);
                }
            }
        }
        Ok(self.refused(first_rejection))
    }

    /// The record under `key`; in a migration window, one the store does not hold yet is
    /// moved from the previous store (copied, then deleted there), keeping its id.
    async fn load_record(
        &self,
        server: &ServerSide,
        key: &StoreKey,
        now: SystemTime,
    ) -> Result<Option<Record>, StoreError> {
        let now_ms = unix_millis(now);
        let found = load_from(&server.store, server.timeout, key, now_ms).await?;
        let (None, Some(previous)) = (&found, &server.previous) else {
            return Ok(found);
        };
        let Some(record) = load_from(previous, server.timeout, key, now_ms).await? else {
            return Ok(None);
        };
        let create = server.store.create(key, &record, now_ms);
        match bounded(server.timeout, create).await? {
            Created::Ok => {
                // The copy is the session now; the old record goes (a failure leaves a copy
                // the old store's expiry collects).
                let _ = bounded(server.timeout, previous.delete(key)).await;
                Ok(Some(record))
            }
            // Another request moved it first.
            Created::Collision => load_from(&server.store, server.timeout, key, now_ms).await,
        }
    }

    /// Verifies a cookie that carries an id; checks its signed times (no idle timeout: the
    /// record's expiry is the authority).
    fn open_id(
        &self,
        server: &ServerSide,
        value: &[u8],
        now: u64,
    ) -> Result<(SessionId, Stamp, bool), Rejection> {
        if value.len() > self.inner.max_cookie_bytes {
            return Err(Rejection::TooLarge {
                bytes: value.len(),
                limit: self.inner.max_cookie_bytes,
            });
        }
        let opened = server.ids.open_as(value, true, T::VERSION)?;
        let stamp = opened.stamp;
        self.inner.lifetime.check_absolute(
            stamp.permanent,
            stamp.issued_at,
            Some(stamp.created_at),
            now,
        )?;
        let id = SessionId::from_bytes(&opened.raw[opened.payload.clone()])
            .ok_or(Rejection::Malformed)?;
        Ok((id, stamp, opened.by_fallback))
    }

    /// Resumes a session from its record: schema, absolute lifetime, payload, validation.
    fn resume(
        &self,
        server: &ServerSide,
        stored: Stored,
        record: Record,
        stamp: Stamp,
        by_fallback: bool,
        now: SystemTime,
    ) -> Result<TrackedSession<T>, Rejection> {
        let record_expires = record.expires_at;
        let (schema, raw, payload) = server
            .open(&stored.key, record.created_at, record.payload)
            .map_err(|why| self.corrupt(&stored.id, why.into()))?;
        if schema != T::VERSION {
            return Err(Rejection::SchemaMismatch {
                found: schema,
                expected: T::VERSION,
            });
        }
        let created_at = to_s(record.created_at);
        self.inner
            .lifetime
            .check_age(stamp.permanent, created_at, unix_seconds(now))?;
        let data = self.accept(&raw[payload.clone()])?;
        let incoming = Incoming {
            payload,
            raw,
            permanent: stamp.permanent,
            issued_at: stamp.issued_at,
            created_at: Some(created_at.min(stamp.issued_at)),
            by_fallback,
            server: Some(stored),
            expires_at: Some(to_s(record_expires)),
        };
        Ok(TrackedSession::loaded(data, incoming))
    }

    /// Saves the session: in the store when one is configured (otherwise as
    /// [`SessionConfig::save`]). The returned cookie is to be sent only because the store
    /// operation succeeded.
    ///
    /// A write that races a logout is not brought back: the session ends and a removal cookie
    /// is returned. On a conflict, the [`ConflictPolicy`](super::ConflictPolicy) applies.
    ///
    /// # Errors
    ///
    /// [`SaveError::Store`] when the store fails, [`SaveError::Conflict`] under
    /// [`ConflictPolicy::Reject`](super::ConflictPolicy::Reject), and the errors of [`SessionConfig::save`].
    pub async fn save_async(
        &self,
        session: &TrackedSession<T>,
        now: SystemTime,
    ) -> Result<CookieCommand, SaveError> {
        let Some(server) = self.server() else {
            return self.save(session, now);
        };
        if session.refusal() == Refused::Unread {
            // The load failed: writing would replace the cookie of the session that could not
            // be read, and log its user out.
            return Ok(CookieCommand::Unchanged);
        }
        let now_s = unix_seconds(now);
        let plan = self.plan(session, true, now_s);
        let outgoing = if plan.needs_payload() {
            Some(crate::schema::to_json(&**session)?)
        } else {
            None
        };
        let empty = self.inner.empty_payload.as_slice();
        let action = plan.decide(
            session,
            outgoing.as_deref().map(|p| (p, p == empty)),
            |incoming| session.same_data(incoming),
        );
        match action {
            Action::Keep => Ok(CookieCommand::Unchanged),
            Action::Remove => match session.incoming().and_then(|i| i.server.as_ref()) {
                Some(old) => self.remove(server, session, old, now).await,
                None => Ok(self.removal()),
            },
            Action::Resign(stamp) => self.resign(server, session, stamp, plan, now).await,
            Action::Write(stamp) => {
                let json = outgoing.unwrap_or_default();
                self.write(server, session, json, stamp, plan, now).await
            }
        }
    }

    /// Sends the unchanged session's cookie again with new times: the record's expiry moves
    /// (a data-free touch), or, after `renew()`, the record moves to a new id.
    async fn resign(
        &self,
        server: &ServerSide,
        session: &TrackedSession<T>,
        stamp: Stamp,
        plan: Plan,
        now: SystemTime,
    ) -> Result<CookieCommand, SaveError> {
        let stored = session.current_incoming().and_then(|i| i.server.as_ref());
        let (Some(stored), Some(incoming)) = (stored, session.current_incoming()) else {
            return Ok(CookieCommand::Unchanged);
        };
        if session.was_renewed() {
            let json = incoming.payload().to_vec();
            let new = Self::renewed_id(server, stored).map_err(SaveError::Store)?;
            return self
                .swap(server, session, stored, Some(new), json, stamp, plan, now)
                .await;
        }
        let now_s = unix_seconds(now);
        let expires = self.inner.lifetime.expires_at_ms(stamp, now_s);
        let touched = bounded(
            server.timeout,
            server.store.touch(&stored.key, expires, unix_millis(now)),
        )
        .await
        .map_err(SaveError::Store)?;
        if touched {
            self.id_cookie(server, &stored.id, stamp, now_s)
        } else {
            Ok(self.removal())
        }
    }

    /// Writes changed data: a new record for a new session, else a compare-and-swap (moving
    /// to a new id after `renew()`).
    async fn write(
        &self,
        server: &ServerSide,
        session: &TrackedSession<T>,
        json: Vec<u8>,
        stamp: Stamp,
        plan: Plan,
        now: SystemTime,
    ) -> Result<CookieCommand, SaveError> {
        let stored = session.current_incoming().and_then(|i| i.server.as_ref());
        if let Some(old) = session
            .incoming()
            .and_then(|i| i.server.as_ref())
            .filter(|_| stored.is_none())
        {
            // Cleared, then filled again: the old record goes, a new id comes.
            bounded(server.timeout, server.store.delete(&old.key))
                .await
                .map_err(SaveError::Store)?;
        }
        let Some(stored) = stored else {
            let owner = server.indexed_owner(session.owner())?;
            return self.create(server, &json, owner, stamp, now).await;
        };
        let new = if session.was_renewed() {
            Some(Self::renewed_id(server, stored).map_err(SaveError::Store)?)
        } else {
            None
        };
        self.swap(server, session, stored, new, json, stamp, plan, now)
            .await
    }

    /// A renewal's new id and its store key: in the tag (the partition of a clustered store)
    /// of the id it replaces, so that the atomic rotate touches one partition.
    fn renewed_id(
        server: &ServerSide,
        stored: &Stored,
    ) -> Result<(SessionId, StoreKey), StoreError> {
        let id = SessionId::generate_with_tag(stored.id.tag())?;
        let key = StoreKey::new(&server.namespace, &id);
        Ok((id, key))
    }

    /// Whether a write at `now` moves the end of a persistent cookie's life: a cookie with a
    /// `Max-Age` must be sent again when the record it points to lives longer, or the browser
    /// drops it while the session is still live (as cookie mode re-sends on every write).
    fn expiry_moved(&self, session: &TrackedSession<T>, stamp: Stamp, now: u64) -> bool {
        let before = session.current_incoming().and_then(|i| i.expires_at);
        stamp.permanent && before != Some(self.inner.lifetime.expires_at(stamp, now))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn record(
        &self,
        server: &ServerSide,
        key: &StoreKey,
        version: u64,
        json: &[u8],
        owner: Option<String>,
        stamp: Stamp,
        now: u64,
    ) -> Result<Record, SaveError> {
        let created_at = to_ms(stamp.created_at);
        Ok(Record {
            version,
            created_at,
            expires_at: self.inner.lifetime.expires_at_ms(stamp, now),
            owner,
            payload: server.payload(key, created_at, T::VERSION, json)?,
        })
    }

    /// The cookie that carries `id`.
    fn id_cookie(
        &self,
        server: &ServerSide,
        id: &SessionId,
        stamp: Stamp,
        now: u64,
    ) -> Result<CookieCommand, SaveError> {
        let codec = &server.ids;
        let mut raw = codec.begin_with(stamp, FLAG_SERVER, SessionId::LEN);
        raw.extend_from_slice(id.as_bytes());
        self.finish(|out| codec.seal(raw, out), stamp, now)
    }

    async fn create(
        &self,
        server: &ServerSide,
        json: &[u8],
        owner: Option<String>,
        stamp: Stamp,
        now: SystemTime,
    ) -> Result<CookieCommand, SaveError> {
        let now_s = unix_seconds(now);
        // A collision of 256-bit random ids means a broken generator: a few draws, then fail.
        for _ in 0..4 {
            let id = SessionId::generate().map_err(SaveError::Store)?;
            let key = StoreKey::new(&server.namespace, &id);
            let record = self.record(server, &key, 1, json, owner.clone(), stamp, now_s)?;
            let created = bounded(
                server.timeout,
                server.store.create(&key, &record, unix_millis(now)),
            )
            .await
            .map_err(SaveError::Store)?;
            if created == Created::Ok {
                crate::observe::created();
                return self.id_cookie(server, &id, stamp, now_s);
            }
        }
        Err(SaveError::Store(StoreError::Other(
            "four id collisions in a row".into(),
        )))
    }

    /// The compare-and-swap loop of an update (`new` is `None`) or of a rotation to a new id:
    /// on a conflict, the policy decides what to write next, from what this request read and
    /// what it wants to write.
    #[allow(clippy::too_many_arguments)]
    async fn swap(
        &self,
        server: &ServerSide,
        session: &TrackedSession<T>,
        stored: &Stored,
        new: Option<(SessionId, StoreKey)>,
        outgoing: Vec<u8>,
        stamp: Stamp,
        plan: Plan,
        now: SystemTime,
    ) -> Result<CookieCommand, SaveError> {
        let now_s = unix_seconds(now);
        let loaded = session
            .current_incoming()
            .map_or(&[][..], Incoming::payload);
        let owner = server.indexed_owner(session.owner())?;
        let (mut expected, mut json, mut owner_now) =
            (stored.version, Cow::Borrowed(&outgoing[..]), owner.clone());
        let mut backoff = Backoff::new(server.timeout);
        loop {
            let target = new.as_ref().map_or(&stored.key, |(_, key)| key);
            let record = self.record(
                server,
                target,
                expected + 1,
                &json,
                owner_now.take(),
                stamp,
                now_s,
            )?;
            let moved_to = new.as_ref().map(|(_, key)| key);
            let outcome = Self::put(server, &stored.key, moved_to, expected, &record, now).await?;
            match (outcome, &new) {
                (Updated::Ok, Some((id, _))) => return self.id_cookie(server, id, stamp, now_s),
                // The id did not change: the cookie is sent again when it is due anyway, or
                // when the write moved the record's expiry and the cookie's must follow.
                (Updated::Ok, None)
                    if plan.must_write || self.expiry_moved(session, stamp, now_s) =>
                {
                    return self.id_cookie(server, &stored.id, stamp, now_s)
                }
                (Updated::Ok, None) => return Ok(CookieCommand::Unchanged),
                (Updated::Gone, _) => return Ok(self.removal()),
                (Updated::Conflict(current), _) => {
                    let (version, merged, merged_owner) = Self::resolve(
                        server,
                        &stored.key,
                        &current,
                        loaded,
                        &outgoing,
                        owner.as_ref(),
                    )?;
                    (expected, json, owner_now) = (version, Cow::Owned(merged), merged_owner);
                    backoff.again().await?;
                }
            }
        }
    }

    /// One compare-and-swap of `key` at version `expected`: in place, or moved to `new`.
    async fn put(
        server: &ServerSide,
        key: &StoreKey,
        new: Option<&StoreKey>,
        expected: u64,
        record: &Record,
        now: SystemTime,
    ) -> Result<Updated, SaveError> {
        let at = unix_millis(now);
        if let Some(new) = new {
            let rotate = server.store.rotate(key, new, expected, record, at);
            bounded(server.timeout, rotate).await
        } else {
            let update = server.store.update(key, expected, record, at);
            bounded(server.timeout, update).await
        }
        .map_err(SaveError::Store)
    }

    /// [`SessionConfig::cookie_for`] with a store: writes the record of a new session holding
    /// `data` and returns the `Cookie` request header (`name=value`) that carries its id.
    ///
    /// # Errors
    ///
    /// As [`SessionConfig::save_async`].
    pub async fn cookie_for_async(&self, data: T, now: SystemTime) -> Result<String, SaveError> {
        let command = self.save_async(&TrackedSession::new(data), now).await?;
        Ok(crate::config::request_pair(&command))
    }

    /// Whether loading must go through [`SessionConfig::load_async`]: a store, or an
    /// asynchronous check.
    #[cfg(any(feature = "axum", feature = "actix"))]
    pub(crate) fn loads_async(&self) -> bool {
        self.inner.server.is_some() || self.inner.async_validator.is_some()
    }

    /// The failure policy for store errors ([`SessionConfigBuilder::on_store_error`](crate::SessionConfigBuilder::on_store_error)),
    /// which the adapters apply and a server of your own can too; `None` in cookie mode.
    #[must_use]
    pub fn store_failure(&self) -> Option<StoreFailure> {
        self.server().map(|s| s.failure)
    }
}
