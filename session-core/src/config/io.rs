//! The asynchronous half of [`SessionConfig`]: the engine decides, the store's driver runs
//! what it planned, and the cookie goes out only once the store operation succeeded.

use std::time::SystemTime;

use super::SessionConfig;
use crate::engine::outcome::{request_pair, CookieCommand, Loaded};
use crate::engine::{Opening, Work};
use crate::error::{Rejection, SaveError, StoreError};
use crate::id::SessionId;
use crate::lifetime::unix_seconds;
use crate::schema::SessionSchema;
use crate::session::TrackedSession;
use crate::store::StoreFailure;

impl<T: SessionSchema> SessionConfig<T> {
    /// A short keyed fingerprint of a session id, for logs: ids themselves are never logged.
    #[must_use]
    pub fn fingerprint(&self, id: &SessionId) -> String {
        self.inner.engine.fingerprint(id)
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
        let Some(check) = &self.inner.engine.async_validator else {
            return Ok(loaded);
        };
        if loaded.session.is_new() || check(&loaded.session).await {
            return Ok(loaded);
        }
        Ok(self.inner.engine.refused(Some(Rejection::Revoked)))
    }

    /// [`SessionConfig::load_async`] before the asynchronous check: the engine opens the
    /// cookies, the driver fetches the records they point to, in order, until one resumes.
    async fn load_unchecked<'h>(
        &self,
        headers: impl IntoIterator<Item = &'h [u8]>,
        now: SystemTime,
    ) -> Result<Loaded<T>, StoreError> {
        let engine = &self.inner.engine;
        let tries = match engine.open(headers, unix_seconds(now), true) {
            Opening::Ready(loaded) => return Ok(loaded),
            Opening::Fetch(tries) => tries,
        };
        let Some(driver) = &self.inner.driver else {
            return Ok(engine.refused(Some(Rejection::ServerSide)));
        };
        let mut first_rejection = None;
        for attempt in tries {
            let outcome = match attempt {
                Ok(pending) => {
                    let fetched = match driver.load(&pending.key, now).await {
                        // A record the store holds but cannot read is a refused session.
                        Err(StoreError::Corrupt(why)) => Err(why),
                        other => Ok(other?),
                    };
                    engine.resume(pending, fetched, unix_seconds(now))
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
        Ok(engine.refused(first_rejection))
    }

    /// Saves the session: in the store when one is configured (otherwise as
    /// [`SessionConfig::save`]). The returned cookie is to be sent only because the store
    /// operation succeeded.
    ///
    /// A write that races a logout is not brought back: the session ends and a removal cookie
    /// is returned. On a conflict, the [`ConflictPolicy`](crate::ConflictPolicy) applies.
    ///
    /// # Errors
    ///
    /// [`SaveError::Store`] when the store fails, [`SaveError::Conflict`] under
    /// [`ConflictPolicy::Reject`](crate::ConflictPolicy::Reject), and the errors of [`SessionConfig::save`].
    pub async fn save_async(
        &self,
        session: &TrackedSession<T>,
        now: SystemTime,
    ) -> Result<CookieCommand, SaveError> {
        let engine = &self.inner.engine;
        let now_s = unix_seconds(now);
        match (engine.plan(session, now_s)?, &self.inner.driver) {
            (Work::Send(command), _) => Ok(command),
            (Work::Store(op), Some(driver)) => {
                let done = driver.execute(engine, op, now).await?;
                engine.finish(done, now_s)
            }
            (Work::Store(_), None) => Err(SaveError::NeedsAsync),
        }
    }

    /// [`SessionConfig::cookie_for`] with a store: writes the record of a new session holding
    /// `data` and returns the `Cookie` request header (`name=value`) that carries its id.
    ///
    /// # Errors
    ///
    /// As [`SessionConfig::save_async`].
    pub async fn cookie_for_async(&self, data: T, now: SystemTime) -> Result<String, SaveError> {
        let command = self.save_async(&TrackedSession::new(data), now).await?;
        Ok(request_pair(&command))
    }

    /// Whether loading must go through [`SessionConfig::load_async`]: a store, or an
    /// asynchronous check.
    #[cfg(any(feature = "axum", feature = "actix"))]
    pub(crate) fn loads_async(&self) -> bool {
        self.inner.driver.is_some() || self.inner.engine.async_validator.is_some()
    }

    /// The failure policy for store errors ([`SessionConfigBuilder::on_store_error`](crate::SessionConfigBuilder::on_store_error)),
    /// which the adapters apply and a server of your own can too; `None` in cookie mode.
    #[must_use]
    pub fn store_failure(&self) -> Option<StoreFailure> {
        self.inner.driver.as_ref().map(|d| d.failure)
    }
}
