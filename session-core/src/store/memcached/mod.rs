//! [`MemcachedStore`]: sessions in memcached, compare-and-swap through the meta protocol.

mod client;

use std::collections::HashMap;
use std::sync::Mutex;

pub(crate) use client::{io_error, Client, Set};

use super::{Created, Record, SessionStore, StoreError, StoreKey, StoreResult, Updated};

/// Sessions in memcached, spoken to in its meta protocol (`mg`, `ms`, `md` with CAS tokens).
///
/// - `update`, `touch` and `rotate` read the record with its CAS token and write with `C<cas>`:
///   a write that raced another one is refused by the server and retried or reported, so no
///   update is lost. `rotate` deletes the old id with its CAS token first (from then on a racing
///   request finds it gone), then adds the new one.
/// - Records expire on the server at their absolute `expires_at` (`T` as a Unix time), and
///   every load checks the expiry too.
/// - memcached is a cache: under memory pressure it evicts records. An evicted session is a
///   fresh, anonymous one (`Rejection::UnknownSession`): its user is logged out, and no other
///   user's data can appear in its place, since keys are 256-bit hashes of ids.
/// - There is no owner index: memcached cannot enumerate keys, so `list_owner` and
///   `revoke_owner` are `StoreError::Unsupported`. For "log out everywhere", keep a per-user
///   generation number in your database and check it with
///   [`SessionConfigBuilder::validate`](crate::SessionConfigBuilder::validate), or use a store
///   with an owner index (Redis, SQL, file).
/// - Several nodes ([`connect_nodes`](MemcachedStore::connect_nodes)) share the keys by
///   consistent hashing, as libmemcached's (and pylibmc's) ketama places them: each node holds
///   about its share, and losing one touches only the sessions it held (a 503 while it is
///   down, then those users are logged out if it came back empty; the others never notice).
/// - Each node gets at most 64 connections at once (16 kept idle); a request beyond them waits
///   for one, within the store timeout. Flask-Session's memcached records go through the same
///   client.
/// - A write is two round trips: the CAS token of the load is kept (a few thousand, per
///   process), so a compare-and-swap writes at once; only a token gone stale (another writer,
///   a touch) costs one more read.
#[derive(Debug)]
pub struct MemcachedStore {
    client: Client,
    /// The version, expiry and CAS token each key was last read with.
    seen: Mutex<HashMap<String, Seen>>,
}

/// What a read saw of a record: enough to compare-and-swap it without reading it again.
#[derive(Debug, Clone, Copy)]
struct Seen {
    version: u64,
    expires_at: u64,
    cas: u64,
}

/// How many CAS tokens are kept before the oldest are forgotten.
const SEEN: usize = 4096;

/// A record with the CAS token it was read with.
struct Read {
    record: Record,
    cas: u64,
}

/// memcached's expiry for a record: an absolute Unix time in seconds, rounded up.
fn expiry(record: &Record) -> u64 {
    record.expires_at.div_ceil(1000).max(1)
}

impl MemcachedStore {
    /// A store on the memcached server at `addr` (`127.0.0.1:11211`); checks that it answers.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when it does not.
    pub async fn connect(addr: &str) -> StoreResult<Self> {
        Self::connect_nodes(&[addr]).await
    }

    /// A store over several memcached servers (`host:port` each), keys placed by ketama
    /// consistent hashing as libmemcached places them; checks that each answers.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when one does not; [`StoreError::BadUrl`] for no address.
    pub async fn connect_nodes(addrs: &[&str]) -> StoreResult<Self> {
        if addrs.is_empty() {
            return Err(StoreError::BadUrl(
                "memcached needs at least one node".into(),
            ));
        }
        let client = Client::new(addrs);
        client.check().await?;
        Ok(Self {
            client,
            seen: Mutex::new(HashMap::new()),
        })
    }

    fn key(key: &StoreKey) -> String {
        format!("sk:{}", key.to_hex())
    }

    fn remember(&self, key: &str, record: &Record, cas: u64) {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() >= SEEN {
            seen.clear();
        }
        let entry = Seen {
            version: record.version,
            expires_at: record.expires_at,
            cas,
        };
        seen.insert(key.to_owned(), entry);
    }

    /// The CAS token `key` was last read with, if it was read at `version` and that record is
    /// still live at `now_ms` (a record past its expiry is `Gone`, whatever memcached holds).
    fn token(&self, key: &str, version: u64, now_ms: u64) -> Option<u64> {
        let seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.get(key)
            .filter(|s| s.version == version && s.expires_at > now_ms)
            .map(|s| s.cas)
    }

    fn forget(&self, key: &str) {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }

    async fn read(&self, key: &str) -> StoreResult<Option<Read>> {
        let found = self.client.get(key).await?;
        match found {
            None => Ok(None),
            Some((bytes, cas)) => {
                let record = Record::from_bytes(&bytes).map_err(|e| io_error(&e))?;
                self.remember(key, &record, cas);
                Ok(Some(Read { record, cas }))
            }
        }
    }

    async fn set(&self, key: &str, record: &Record, mode: Set) -> StoreResult<bool> {
        let bytes = record.to_bytes();
        self.client.set(key, &bytes, expiry(record), mode).await
    }
}

impl SessionStore for MemcachedStore {
    fn expires_natively(&self) -> bool {
        true
    }

    async fn load(&self, key: &StoreKey, now_ms: u64) -> StoreResult<Option<Record>> {
        let read = self.read(&Self::key(key)).await?;
        Ok(read.map(|r| r.record).filter(|r| r.is_live(now_ms)))
    }

    async fn create(&self, key: &StoreKey, record: &Record, now_ms: u64) -> StoreResult<Created> {
        let key = Self::key(key);
        if self.set(&key, record, Set::Add).await? {
            return Ok(Created::Ok);
        }
        // Something is there: only an expired record may be replaced, and only that one.
        match self.read(&key).await? {
            Some(current) if current.record.is_live(now_ms) => Ok(Created::Collision),
            Some(current) => Ok(Created::inserted(
                self.set(&key, record, Set::Swap(current.cas)).await?,
            )),
            None => Ok(Created::inserted(self.set(&key, record, Set::Add).await?)),
        }
    }

    async fn update(
        &self,
        key: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> StoreResult<Updated> {
        let key = Self::key(key);
        // The token of the load: a write in one round trip while nobody else wrote.
        if let Some(cas) = self.token(&key, expected, now_ms) {
            self.forget(&key);
            if self.set(&key, record, Set::Swap(cas)).await? {
                return Ok(Updated::Ok);
            }
        }
        loop {
            let Some(current) = self.read(&key).await?.filter(|r| r.record.is_live(now_ms)) else {
                return Ok(Updated::Gone);
            };
            if current.record.version != expected {
                return Ok(Updated::Conflict(current.record));
            }
            if self.set(&key, record, Set::Swap(current.cas)).await? {
                self.forget(&key);
                return Ok(Updated::Ok);
            }
            // The CAS token changed between the read and the write: look again.
        }
    }

    async fn touch(&self, key: &StoreKey, expires_at: u64, now_ms: u64) -> StoreResult<bool> {
        let key = Self::key(key);
        loop {
            let Some(current) = self.read(&key).await?.filter(|r| r.record.is_live(now_ms)) else {
                return Ok(false);
            };
            let touched = Record {
                expires_at,
                ..current.record
            };
            if self.set(&key, &touched, Set::Swap(current.cas)).await? {
                return Ok(true);
            }
        }
    }

    async fn rotate(
        &self,
        old: &StoreKey,
        new: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> StoreResult<Updated> {
        let old = Self::key(old);
        loop {
            let Some(current) = self.read(&old).await?.filter(|r| r.record.is_live(now_ms)) else {
                return Ok(Updated::Gone);
            };
            if current.record.version != expected {
                return Ok(Updated::Conflict(current.record));
            }
            // The old id dies first, and only if nobody wrote it since the read.
            let deleted = self.client.delete(&old, Some(current.cas)).await?;
            if deleted {
                self.set(&Self::key(new), record, Set::Add).await?;
                return Ok(Updated::Ok);
            }
        }
    }

    async fn delete(&self, key: &StoreKey) -> StoreResult<()> {
        let key = Self::key(key);
        self.forget(&key);
        self.client.delete(&key, None).await?;
        Ok(())
    }

    async fn delete_expired(&self, _now_ms: u64, _limit: usize) -> StoreResult<usize> {
        Ok(0)
    }
}
