//! What happens when another request wrote first: the conflict policy, and the end of a
//! session as a compare-and-swap.

use std::time::SystemTime;

use super::backoff::Backoff;
use super::driver::{bounded, unix_millis};
use super::merge::reapply;
use super::server_side::{ConflictPolicy, ServerSide};
use super::{Record, SessionStore as _, StoreError, StoreKey, Updated};
use crate::config::unix_seconds;
use crate::session::Incoming;
use crate::session::Stored;
use crate::{
    config::CookieCommand, config::SessionConfig, error::SaveError, schema::SessionSchema,
    session::TrackedSession,
};

impl<T: SessionSchema> SessionConfig<T> {
    /// Ends the session whose record is `old`. Under `Merge` and `Reject` the end is a
    /// compare-and-swap too: the record becomes a tombstone (expired, so no load sees it and a
    /// racing write is `Gone`) only if no other request wrote since this one loaded; if one
    /// did, its change is merged in and the session lives on with it (no cookie is sent).
    pub(super) async fn remove(
        &self,
        server: &ServerSide,
        session: &TrackedSession<T>,
        old: &Stored,
        now: SystemTime,
    ) -> Result<CookieCommand, SaveError> {
        if server.conflict == ConflictPolicy::LastWriteWins {
            bounded(server.timeout, server.store.delete(&old.key))
                .await
                .map_err(SaveError::Store)?;
            return Ok(self.removal());
        }
        let base = session.incoming().map_or(&[][..], Incoming::payload);
        let empty = self.inner.empty_payload.as_slice();
        let (mut expected, mut json, mut owner) = (old.version, empty.to_vec(), None);
        let mut backoff = Backoff::new(server.timeout);
        let at = unix_millis(now);
        loop {
            let record = self.ending(server, session, old, expected, &json, owner.take(), now)?;
            let update = server.store.update(&old.key, expected, &record, at);
            match bounded(server.timeout, update)
                .await
                .map_err(SaveError::Store)?
            {
                Updated::Ok if json == empty => {
                    // Dead to every reader and writer now (an update of it is `Gone`), so it
                    // can go without a race; a failure leaves an expired record to the sweep.
                    let _ = bounded(server.timeout, server.store.delete(&old.key)).await;
                    return Ok(self.removal());
                }
                Updated::Ok => return Ok(CookieCommand::Unchanged),
                Updated::Gone => return Ok(self.removal()),
                Updated::Conflict(current) => {
                    let (version, merged, merged_owner) =
                        Self::resolve(server, &old.key, &current, base, empty, None)?;
                    (expected, json, owner) = (version, merged, merged_owner);
                    backoff.again().await?;
                }
            }
        }
    }

    /// What [`remove`](Self::remove) writes at version `expected + 1`: a tombstone when `json`
    /// is the empty session, else (a racing write was merged in) the merged session.
    #[allow(clippy::too_many_arguments)]
    fn ending(
        &self,
        server: &ServerSide,
        session: &TrackedSession<T>,
        old: &Stored,
        expected: u64,
        json: &[u8],
        owner: Option<String>,
        now: SystemTime,
    ) -> Result<Record, SaveError> {
        let empty = self.inner.empty_payload.as_slice();
        if json == empty {
            // Expired since the epoch's first millisecond, whatever the clocks say.
            return Ok(Record {
                version: expected + 1,
                created_at: 0,
                expires_at: 1,
                owner: None,
                payload: server.payload(&old.key, 0, T::VERSION, empty)?,
            });
        }
        let incoming = session.incoming().map(Incoming::times);
        let stamp = crate::lifetime::Lifetime::next_stamp(
            incoming,
            session.incoming().is_some_and(|i| i.permanent),
            unix_seconds(now),
        );
        self.record(
            server,
            &old.key,
            expected + 1,
            json,
            owner,
            stamp,
            unix_seconds(now),
        )
    }

    /// Applies the conflict policy: the version to expect next and the JSON to write.
    ///
    /// `loaded` and `outgoing` are what this request read and what it wants to write, never an
    /// earlier merge: re-applying a merge would carry other requests' older values over newer
    /// ones.
    pub(super) fn resolve(
        server: &ServerSide,
        key: &StoreKey,
        current: &Record,
        loaded: &[u8],
        outgoing: &[u8],
        owner: Option<&String>,
    ) -> Result<(u64, Vec<u8>, Option<String>), SaveError> {
        match server.conflict {
            ConflictPolicy::Reject => {
                crate::observe::conflict("rejected");
                Err(SaveError::Conflict)
            }
            ConflictPolicy::LastWriteWins => {
                Ok((current.version, outgoing.to_vec(), owner.cloned()))
            }
            ConflictPolicy::Merge => {
                crate::observe::conflict("merged");
                let corrupt = |why: &str| SaveError::Store(StoreError::Corrupt(why.into()));
                let (schema, current_raw, current_json) = server
                    .open(key, current.created_at, current.payload.clone())
                    .map_err(corrupt)?;
                if schema != T::VERSION {
                    return Err(SaveError::Conflict);
                }
                let merged = reapply(&current_raw[current_json], loaded, outgoing)
                    .ok_or_else(|| corrupt("not a JSON object"))?;
                // Written as `T` writes itself, so the next comparison sees no false change.
                let data: T =
                    crate::schema::decode_payload(&merged).map_err(|_| SaveError::Conflict)?;
                let json = serde_json::to_vec(&data).map_err(SaveError::Serialize)?;
                Ok((current.version, json, server.indexed_owner(data.owner())?))
            }
        }
    }
}
