//! What happens when another request wrote first: the conflict policy, and the end of a
//! session as a compare-and-swap.

use super::backoff::Backoff;
use super::driver::{Clock, Driver};
use super::policy::ConflictPolicy;
use super::{SessionStore as _, Updated};
use crate::engine::record::Record;
use crate::engine::{Done, Engine};
use crate::error::SaveError;
use crate::id::StoreKey;
use crate::lifetime::Stamp;
use crate::schema::SessionSchema;
use crate::session::Stored;

impl Driver {
    /// Ends the session whose record is `old`. Under `Merge` and `Reject` the end is a
    /// compare-and-swap too: the record becomes a tombstone (expired, so no load sees it and a
    /// racing write is `Gone`) only if no other request wrote since this one loaded (`base`);
    /// if one did, its change is merged in and the session lives on with it under `stamp`
    /// (no cookie is sent).
    pub(super) async fn remove<T: SessionSchema>(
        &self,
        engine: &Engine<T>,
        old: &Stored,
        base: &[u8],
        stamp: Stamp,
        at: Clock,
    ) -> Result<Done, SaveError> {
        if self.conflict == ConflictPolicy::LastWriteWins {
            let delete = self.store.delete(&old.key);
            self.bounded(delete).await.map_err(SaveError::Store)?;
            return Ok(Done::Removed);
        }
        let empty = engine.empty();
        let (mut expected, mut json, mut owner) = (old.version, empty.to_vec(), None);
        let mut backoff = Backoff::new(self.timeout);
        loop {
            let record = if json == empty {
                engine.tombstone(&old.key, expected + 1)?
            } else {
                engine.record(&old.key, expected + 1, &json, owner.take(), stamp, at.s)?
            };
            let update = self.store.update(&old.key, expected, &record, at.ms);
            match self.bounded(update).await.map_err(SaveError::Store)? {
                Updated::Ok if json == empty => {
                    // Dead to every reader and writer now (an update of it is `Gone`), so it
                    // can go without a race; a failure leaves an expired record to the sweep.
                    let _ = self.bounded(self.store.delete(&old.key)).await;
                    return Ok(Done::Removed);
                }
                Updated::Ok => return Ok(Done::Unchanged),
                Updated::Gone => return Ok(Done::Removed),
                Updated::Conflict(current) => {
                    let next = self.resolve(engine, &old.key, &current, base, empty, None)?;
                    (expected, json, owner) = next;
                    backoff.again().await?;
                }
            }
        }
    }

    /// Applies the conflict policy: the version to expect next, the JSON to write and its
    /// owner.
    ///
    /// `loaded` and `outgoing` are what this request read and what it wants to write, never an
    /// earlier merge: re-applying a merge would carry other requests' older values over newer
    /// ones.
    pub(super) fn resolve<T: SessionSchema>(
        &self,
        engine: &Engine<T>,
        key: &StoreKey,
        current: &Record,
        loaded: &[u8],
        outgoing: &[u8],
        owner: Option<&String>,
    ) -> Result<(u64, Vec<u8>, Option<String>), SaveError> {
        match self.conflict {
            ConflictPolicy::Reject => {
                crate::observe::conflict("rejected");
                Err(SaveError::Conflict)
            }
            ConflictPolicy::LastWriteWins => {
                Ok((current.version, outgoing.to_vec(), owner.cloned()))
            }
            ConflictPolicy::Merge => {
                crate::observe::conflict("merged");
                let merged = engine
                    .merge(key, current, loaded, outgoing)?
                    .ok_or(SaveError::Conflict)?;
                Ok((current.version, merged.json, merged.owner))
            }
        }
    }
}
