//! The owner index and the sweep, as an app asks for them: "your devices", "log out
//! everywhere", and the periodic cleanup of expired records.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::driver::{bounded, unix_millis};
use super::{SessionStore as _, StoreError, StoreKey};
use crate::{config::SessionConfig, schema::SessionSchema, session::TrackedSession};

/// One live session of an owner, as [`SessionConfig::list_owner`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// Its public identifier ([`StoreKey::public_id`]): show it, and take it back to revoke
    /// this one session.
    pub id: String,
    /// The key it is stored under (not its id, which is never kept).
    pub key: StoreKey,
    /// When it was created or last renewed.
    pub created_at: SystemTime,
    /// When it ends unless used.
    pub expires_at: SystemTime,
    /// When it was last active: its last write, or its last refresh (the
    /// [`Refresh`](crate::Refresh) policy re-sends an unchanged session now and then, so this
    /// is as fine as that policy). Read from its expiry and the idle timeout; `None` without
    /// an idle timeout, or near the end of its lifetime, where the expiry no longer tells.
    pub last_active: Option<SystemTime>,
}

impl<T: SessionSchema> SessionConfig<T> {
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
        let server = self
            .server()
            .ok_or(StoreError::Unsupported("an owner index without a store"))?;
        let Some(owner) = server.lookup_owner(owner) else {
            return Ok(Vec::new());
        };
        let records = bounded(
            server.timeout,
            server.store.list_owner(&owner, unix_millis(now)),
        )
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
        self.server()?.lookup_owner(owner)
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
        let server = self
            .server()
            .ok_or(StoreError::Unsupported("an owner index without a store"))?;
        bounded(server.timeout, server.store.delete(&info.key)).await?;
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
        let server = self
            .server()
            .ok_or(StoreError::Unsupported("an owner index without a store"))?;
        let Some(owner) = server.lookup_owner(owner) else {
            return Ok(0);
        };
        let except = keep
            .and_then(TrackedSession::current_incoming)
            .and_then(|i| i.server.as_ref())
            .map(|s| s.key);
        bounded(
            server.timeout,
            server.store.revoke_owner(&owner, except.as_ref()),
        )
        .await
    }

    /// Deletes up to `limit` expired records, for backends without native expiry (a periodic
    /// task calls it). Live sessions are never touched.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails.
    pub async fn delete_expired(&self, now: SystemTime, limit: usize) -> Result<usize, StoreError> {
        let Some(server) = self.server() else {
            return Ok(0);
        };
        bounded(
            server.timeout,
            server.store.delete_expired(unix_millis(now), limit),
        )
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
