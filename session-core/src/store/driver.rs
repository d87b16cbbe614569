//! The driver: runs the store operations the engine plans, and nothing else. Each operation is
//! bounded by the store timeout; a load is tried once more after an outage; a new record is
//! created under a fresh id until one is free; a compare-and-swap that lost a race goes again
//! as the conflict policy says, backing off within the timeout.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use super::backoff::Backoff;
use super::policy::{ConflictPolicy, StoreFailure};
use super::{BoxedStore, Created, SessionStore as _, Updated};
use crate::engine::record::Record;
use crate::engine::{Done, Engine, StoreOp};
use crate::error::{SaveError, StoreError};
use crate::id::{SessionId, StoreKey};
use crate::lifetime::{unix_millis, unix_seconds, Stamp};
use crate::schema::SessionSchema;

/// The store of a configuration and how it is driven.
#[derive(Debug, Clone)]
pub(crate) struct Driver {
    pub(crate) store: BoxedStore,
    /// The store sessions move from ([`migrate_from`](crate::SessionConfigBuilder::migrate_from)).
    pub(crate) previous: Option<BoxedStore>,
    pub(crate) conflict: ConflictPolicy,
    pub(crate) timeout: Duration,
    pub(crate) failure: StoreFailure,
}

/// An idempotent operation may be tried once more after an outage or a timeout.
fn retryable(error: &StoreError) -> bool {
    matches!(error, StoreError::Unavailable(_) | StoreError::Timeout)
}

impl Driver {
    /// Runs a store operation under the configured timeout (with the `tokio` feature; without
    /// it, the backend's own timeouts apply).
    pub(crate) async fn bounded<F, R>(&self, operation: F) -> Result<R, StoreError>
    where
        F: std::future::Future<Output = Result<R, StoreError>>,
    {
        #[cfg(feature = "tokio")]
        {
            tokio::time::timeout(self.timeout, operation)
                .await
                .unwrap_or(Err(StoreError::Timeout))
        }
        #[cfg(not(feature = "tokio"))]
        {
            operation.await
        }
    }

    /// A load from `store`, tried once more after an outage or a timeout.
    async fn load_from(
        &self,
        store: &BoxedStore,
        key: &StoreKey,
        now_ms: u64,
    ) -> Result<Option<Record>, StoreError> {
        // A loop, so that both tries share one future's room.
        let mut tries = 2;
        loop {
            tries -= 1;
            match self.bounded(store.load(key, now_ms)).await {
                Err(e) if tries > 0 && retryable(&e) => {}
                other => return other,
            }
        }
    }

    /// The record under `key`; in a migration window, one the store does not hold yet is
    /// moved from the previous store (copied, then deleted there), keeping its id.
    pub(crate) async fn load(
        &self,
        key: &StoreKey,
        now: SystemTime,
    ) -> Result<Option<Record>, StoreError> {
        let now_ms = unix_millis(now);
        let found = self.load_from(&self.store, key, now_ms).await?;
        let (None, Some(previous)) = (&found, &self.previous) else {
            return Ok(found);
        };
        // Boxed: the migration is rare, and the common load's future stays small.
        Box::pin(self.migrate(previous, key, now_ms)).await
    }

    /// A record the store does not hold yet, moved from the `previous` store.
    async fn migrate(
        &self,
        previous: &BoxedStore,
        key: &StoreKey,
        now_ms: u64,
    ) -> Result<Option<Record>, StoreError> {
        let Some(record) = self.load_from(previous, key, now_ms).await? else {
            return Ok(None);
        };
        match self
            .bounded(self.store.create(key, &record, now_ms))
            .await?
        {
            Created::Ok => {
                // The copy is the session now; the old record goes (a failure leaves a copy
                // the old store's expiry collects).
                let _ = self.bounded(previous.delete(key)).await;
                Ok(Some(record))
            }
            // Another request moved it first.
            Created::Collision => self.load_from(&self.store, key, now_ms).await,
        }
    }

    /// Runs what the engine planned; the engine turns the outcome into the cookie.
    pub(crate) async fn execute<T: SessionSchema>(
        &self,
        engine: &Engine<T>,
        op: Box<StoreOp<'_>>,
        now: SystemTime,
    ) -> Result<Done, SaveError> {
        let at = Clock::at(now);
        // The operation stays boxed until a branch takes it apart: the future that waits on
        // the store holds a pointer, not a copy.
        match *op {
            StoreOp::Touch {
                stored,
                expires_at_ms,
                stamp,
            } => {
                let touch = self.store.touch(&stored.key, expires_at_ms, at.ms);
                Ok(if self.bounded(touch).await.map_err(SaveError::Store)? {
                    Done::Stored(stored.id, stamp)
                } else {
                    Done::Removed
                })
            }
            StoreOp::Create {
                replaces,
                json,
                owner,
                stamp,
            } => {
                if let Some(old) = replaces {
                    let delete = self.store.delete(&old);
                    self.bounded(delete).await.map_err(SaveError::Store)?;
                }
                self.create(engine, &json, owner, stamp, at).await
            }
            StoreOp::Swap { .. } => self.swap(engine, op, at).await,
            StoreOp::Remove {
                stored,
                base,
                stamp,
            } => self.remove(engine, &stored, base, stamp, at).await,
        }
    }

    /// A new record under a fresh id. A collision of 256-bit random ids means a broken
    /// generator: a few draws, then fail.
    async fn create<T: SessionSchema>(
        &self,
        engine: &Engine<T>,
        json: &[u8],
        owner: Option<String>,
        stamp: Stamp,
        at: Clock,
    ) -> Result<Done, SaveError> {
        for _ in 0..4 {
            let id = SessionId::generate().map_err(SaveError::Store)?;
            let key = engine.key(&id)?;
            let record = engine.record(&key, 1, json, owner.clone(), stamp, at.s)?;
            let create = self.store.create(&key, &record, at.ms);
            if self.bounded(create).await.map_err(SaveError::Store)? == Created::Ok {
                crate::observe::created();
                return Ok(Done::Stored(id, stamp));
            }
        }
        Err(SaveError::Store(StoreError::Other(
            "four id collisions in a row".into(),
        )))
    }

    /// The compare-and-swap loop of an update, or of a rotation to a new id: on a conflict,
    /// the policy decides what to write next, from what this request read and what it wants
    /// to write.
    async fn swap<T: SessionSchema>(
        &self,
        engine: &Engine<T>,
        op: Box<StoreOp<'_>>,
        at: Clock,
    ) -> Result<Done, SaveError> {
        let StoreOp::Swap {
            stored,
            to,
            loaded,
            json: outgoing,
            owner,
            stamp,
            resend,
        } = *op
        else {
            return Ok(Done::Unchanged);
        };
        let target = to.as_ref().map_or(&stored.key, |(_, key)| key);
        let (mut expected, mut json, mut owner_now) =
            (stored.version, Cow::Borrowed(&outgoing[..]), owner.clone());
        let mut backoff = Backoff::new(self.timeout);
        loop {
            let record =
                engine.record(target, expected + 1, &json, owner_now.take(), stamp, at.s)?;
            let moved_to = to.as_ref().map(|(_, key)| key);
            match self
                .put(&stored.key, moved_to, expected, &record, at)
                .await?
            {
                Updated::Ok => {
                    return Ok(match to {
                        Some((id, _)) => Done::Stored(id, stamp),
                        // The id did not change: the cookie goes again when it is due anyway,
                        // or when the write moved the record's expiry and the cookie's must
                        // follow.
                        None if resend => Done::Stored(stored.id, stamp),
                        None => Done::Unchanged,
                    });
                }
                Updated::Gone => return Ok(Done::Removed),
                Updated::Conflict(current) => {
                    let next = self.resolve(
                        engine,
                        &stored.key,
                        &current,
                        loaded,
                        &outgoing,
                        owner.as_ref(),
                    )?;
                    (expected, json, owner_now) = (next.0, Cow::Owned(next.1), next.2);
                    backoff.again().await?;
                }
            }
        }
    }

    /// One compare-and-swap of `key` at version `expected`: in place, or moved to `new`.
    async fn put(
        &self,
        key: &StoreKey,
        new: Option<&StoreKey>,
        expected: u64,
        record: &Record,
        at: Clock,
    ) -> Result<Updated, SaveError> {
        if let Some(new) = new {
            self.bounded(self.store.rotate(key, new, expected, record, at.ms))
                .await
        } else {
            self.bounded(self.store.update(key, expected, record, at.ms))
                .await
        }
        .map_err(SaveError::Store)
    }
}

/// One request's time, in the two units the engine and the store read.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    /// Unix seconds, for the engine's stamps.
    pub(super) s: u64,
    /// Unix milliseconds, for the store.
    pub(super) ms: u64,
}

impl Clock {
    fn at(now: SystemTime) -> Self {
        Self {
            s: unix_seconds(now),
            ms: unix_millis(now),
        }
    }
}
