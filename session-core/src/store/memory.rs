//! [`MemoryStore`]: the reference backend, for tests and single-process apps.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{
    sorted_page, Created, Record, ScanCursor, ScanPage, SessionStore, StoreKey, StoreResult,
    Updated,
};

/// Sessions in this process's memory, behind one lock: every operation is trivially atomic.
///
/// The reference the conformance suite holds every backend to. Sessions are lost when the
/// process ends, and each process has its own: use [`FileStore`](super::FileStore) or a server
/// store when that matters.
///
/// Clones share the sessions (like [`FileStore`](super::FileStore) clones share a directory):
/// keep one for a test's assertions and give another to the configuration.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    records: HashMap<StoreKey, Record>,
    owners: HashMap<String, BTreeSet<StoreKey>>,
}

impl State {
    fn live(&self, key: &StoreKey, now: u64) -> Option<&Record> {
        self.records.get(key).filter(|r| r.is_live(now))
    }

    /// Stores `record`; when it joins an owner's index, that owner's expired sessions go (so
    /// the index holds live sessions, however many logins came before).
    fn put(&mut self, key: StoreKey, record: Record, now: u64) {
        let owner = record.owner.clone();
        let old = self.records.insert(key, record).and_then(|old| old.owner);
        if old == owner {
            return; // the common update: same owner, the index stands
        }
        if let Some(old) = old {
            self.unindex(&old, &key);
        }
        if let Some(owner) = owner {
            self.owners.entry(owner.clone()).or_default().insert(key);
            self.prune(&owner, now);
        }
    }

    fn prune(&mut self, owner: &str, now: u64) {
        let dead: Vec<StoreKey> = self
            .owners
            .get(owner)
            .into_iter()
            .flatten()
            .filter(|k| self.live(k, now).is_none())
            .copied()
            .collect();
        for key in &dead {
            self.remove(key);
        }
    }

    fn unindex(&mut self, owner: &str, key: &StoreKey) {
        if let Some(keys) = self.owners.get_mut(owner) {
            keys.remove(key);
            if keys.is_empty() {
                self.owners.remove(owner);
            }
        }
    }

    fn remove(&mut self, key: &StoreKey) -> Option<Record> {
        let old = self.records.remove(key)?;
        if let Some(owner) = &old.owner {
            self.unindex(owner, key);
        }
        Some(old)
    }

    /// The compare step of an update or rotate.
    fn check(&self, key: &StoreKey, expected: u64, now: u64) -> Option<Updated> {
        match self.live(key, now) {
            None => Some(Updated::Gone),
            Some(current) if current.version != expected => {
                Some(Updated::Conflict(current.clone()))
            }
            Some(_) => None,
        }
    }
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many records it holds, expired ones included.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    /// True when it holds no record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SessionStore for MemoryStore {
    async fn scan(&self, cursor: &ScanCursor, limit: usize, now_ms: u64) -> StoreResult<ScanPage> {
        let state = self.lock();
        let keys = state.records.keys().copied().collect();
        sorted_page(keys, cursor, limit, |key| {
            Ok(state.live(key, now_ms).cloned())
        })
    }

    async fn load(&self, key: &StoreKey, now_ms: u64) -> StoreResult<Option<Record>> {
        Ok(self.lock().live(key, now_ms).cloned())
    }

    async fn create(&self, key: &StoreKey, record: &Record, now_ms: u64) -> StoreResult<Created> {
        let mut state = self.lock();
        if state.live(key, now_ms).is_some() {
            return Ok(Created::Collision);
        }
        state.put(*key, record.clone(), now_ms);
        Ok(Created::Ok)
    }

    async fn update(
        &self,
        key: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> StoreResult<Updated> {
        let mut state = self.lock();
        if let Some(refused) = state.check(key, expected, now_ms) {
            return Ok(refused);
        }
        state.put(*key, record.clone(), now_ms);
        Ok(Updated::Ok)
    }

    async fn touch(&self, key: &StoreKey, expires_at: u64, now_ms: u64) -> StoreResult<bool> {
        let mut state = self.lock();
        match state.records.get_mut(key).filter(|r| r.is_live(now_ms)) {
            Some(record) => {
                record.expires_at = expires_at;
                Ok(true)
            }
            None => Ok(false),
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
        let mut state = self.lock();
        if let Some(refused) = state.check(old, expected, now_ms) {
            return Ok(refused);
        }
        state.remove(old);
        state.put(*new, record.clone(), now_ms);
        Ok(Updated::Ok)
    }

    async fn delete(&self, key: &StoreKey) -> StoreResult<()> {
        self.lock().remove(key);
        Ok(())
    }

    async fn delete_expired(&self, now_ms: u64, limit: usize) -> StoreResult<usize> {
        let mut state = self.lock();
        let expired: Vec<StoreKey> = state
            .records
            .iter()
            .filter(|(_, r)| !r.is_live(now_ms))
            .map(|(k, _)| *k)
            .take(limit)
            .collect();
        for key in &expired {
            state.remove(key);
        }
        Ok(expired.len())
    }

    async fn list_owner(&self, owner: &str, now_ms: u64) -> StoreResult<Vec<(StoreKey, Record)>> {
        let state = self.lock();
        let keys = state.owners.get(owner).into_iter().flatten();
        Ok(keys
            .filter_map(|k| state.live(k, now_ms).map(|r| (*k, r.clone())))
            .collect())
    }

    async fn revoke_owner(&self, owner: &str, except: Option<&StoreKey>) -> StoreResult<usize> {
        let mut state = self.lock();
        let keys: Vec<StoreKey> = state
            .owners
            .get(owner)
            .into_iter()
            .flatten()
            .filter(|k| Some(*k) != except)
            .copied()
            .collect();
        for key in &keys {
            state.remove(key);
        }
        Ok(keys.len())
    }
}
