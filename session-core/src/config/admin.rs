//! The owner index and the sweep, as an app asks for them: "your devices", "log out
//! everywhere", and the periodic cleanup of expired records.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::SessionConfig;
use crate::engine::record::Records;
use crate::error::StoreError;
use crate::lifetime::unix_millis;
use crate::schema::SessionSchema;
use crate::session::TrackedSession;
use crate::store::{Driver, SessionInfo, SessionStore as _};

impl<T: SessionSchema> SessionConfig<T> {
    /// The store and its record settings; [`StoreError::Unsupported`] without a store.
    fn admin(&self) -> Result<(&Driver, &Records), StoreError> {
        let unsupported = || StoreError::Unsupported("an owner index without a store");
        let driver = self.inner.driver.as_ref().ok_or_else(unsupported)?;
        let records = self.inner.engine.records.as_ref().ok_or_else(unsupported)?;
        Ok((driver, records))
    }

    /// The live sessions of `owner` (the field marked `#[session(owner)]`), for a "your
    /// devices" page.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails, [`StoreError::Unsupported`] without a store or an
    /// owner index.
    pub async fn list_owner(
        &self,
        owner: &str,
        now: SystemTime,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        let (driver, records) = self.admin()?;
        let Some(owner) = records.lookup_owner(owner) else {
            return Ok(Vec::new());
        };
        let records = driver
            .bounded(driver.store.list_owner(&owner, unix_millis(now)))
            .await?;
        let time = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
        Ok(records
            .into_iter()
            .map(|(key, r)| SessionInfo {
                id: key.public_id(),
                key,
                created_at: time(r.created_at),
                expires_at: time(r.expires_at),
                last_active: self
                    .inner
                    .engine
                    .lifetime
                    .last_active_ms(r.created_at, r.expires_at)
                    .map(time),
            })
            .collect())
    }

    /// `owner` as this configuration's store indexes it (a tag of the namespace, then the
    /// id), for code that reads the store's owner index itself; `None` for an id no session
    /// can have (empty, or with a control character) and without a store.
    #[must_use]
    pub fn indexed_owner(&self, owner: &str) -> Option<String> {
        self.inner.engine.records.as_ref()?.lookup_owner(owner)
    }

    /// Logs out one session of `owner`, the one whose public identifier is `id` (from
    /// [`SessionInfo::id`], as a "your devices" page shows it). Returns whether it was there:
    /// an id of another owner's session deletes nothing.
    ///
    /// # Errors
    ///
    /// As [`SessionConfig::list_owner`].
    pub async fn revoke_session(
        &self,
        owner: &str,
        id: &str,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let Some(info) = self
            .list_owner(owner, now)
            .await?
            .into_iter()
            .find(|info| info.id == id)
        else {
            return Ok(false);
        };
        let (driver, _) = self.admin()?;
        driver.bounded(driver.store.delete(&info.key)).await?;
        Ok(true)
    }

    /// Logs `owner` out everywhere: deletes every session of theirs, but `keep` (the current
    /// one, for "log out my other devices"). Returns how many were deleted.
    ///
    /// # Errors
    ///
    /// As [`SessionConfig::list_owner`].
    pub async fn revoke_owner(
        &self,
        owner: &str,
        keep: Option<&TrackedSession<T>>,
    ) -> Result<usize, StoreError> {
        let (driver, records) = self.admin()?;
        let Some(owner) = records.lookup_owner(owner) else {
            return Ok(0);
        };
        let except = keep
            .and_then(TrackedSession::current_incoming)
            .and_then(|i| i.server.as_ref())
            .map(|s| s.key);
        driver
            .bounded(driver.store.revoke_owner(&owner, except.as_ref()))
            .await
    }

    /// Deletes up to `limit` expired records, for backends without native expiry (a periodic
    /// task calls it). Live sessions are never touched.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails.
    pub async fn delete_expired(&self, now: SystemTime, limit: usize) -> Result<usize, StoreError> {
        let Some(driver) = &self.inner.driver else {
            return Ok(0);
        };
        driver
            .bounded(driver.store.delete_expired(unix_millis(now), limit))
            .await
    }

    /// Deletes every record expired at `now`, in batches of 10,000 (each a short statement
    /// that touches expired rows only, so live traffic goes on), and returns how many went.
    /// Call it from a periodic task; backends that expire records themselves (Redis,
    /// memcached) have nothing to do.
    ///
    /// Sizing: sessions expire at about `sessions / lifetime` a second (10 M sessions of 12
    /// hours: 231 a second, 14,000 a minute). On Postgres one batch of 10,000 takes about
    /// 0.2 s here (see the README's capacity notes), so a sweep every minute keeps up with
    /// tens of millions of sessions.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails; what was deleted before stays deleted.
    pub async fn sweep(&self, now: SystemTime) -> Result<usize, StoreError> {
        const BATCH: usize = 10_000;
        let mut total = 0;
        loop {
            let deleted = self.delete_expired(now, BATCH).await?;
            total += deleted;
            if deleted < BATCH {
                return Ok(total);
            }
        }
    }
}
