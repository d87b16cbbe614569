//! Server-side sessions: the [`SessionStore`] trait every backend implements, and the two that
//! need no server, [`MemoryStore`] and [`FileStore`].
//!
//! With a store, the cookie carries only a signed 256-bit id; the data lives in the store under
//! `SHA-256(namespace ‖ id)`. The core stays free of I/O: it verifies the cookie, resumes a
//! session from the record and plans the operation (create, compare-and-swap update, data-free
//! touch, atomic rotate, delete); the async driver
//! ([`SessionConfig::load_async`](crate::SessionConfig::load_async) and
//! [`SessionConfig::save_async`](crate::SessionConfig::save_async)) runs it, and the
//! `Set-Cookie` goes out only after the operation succeeded.

mod backoff;
mod conflict;
mod driver;
mod file;
#[cfg(feature = "memcached")]
pub(crate) mod memcached;
mod memory;
mod policy;
mod record;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod sql;
mod url;

use std::fmt;
use std::future::Future;
use std::time::SystemTime;

use crate::observe::{Op, Started, StoreMeter};

pub use crate::engine::record::Record;
pub use crate::error::StoreError;
pub use crate::id::{SessionId, StoreKey};
pub(crate) use driver::Driver;
pub use file::FileStore;
#[cfg(feature = "memcached")]
#[cfg_attr(docsrs, doc(cfg(feature = "memcached")))]
pub use memcached::MemcachedStore;
pub use memory::MemoryStore;
pub use policy::{ConflictPolicy, StoreFailure};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
pub use sql::SqlStore;
pub use url::connect;

/// The outcome of [`SessionStore::create`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Created {
    /// The record was inserted.
    Ok,
    /// A live record already has that key; nothing was written (the driver draws a new id).
    Collision,
}

impl Created {
    /// `Ok` when the record was inserted, `Collision` when a live one held the key: for a
    /// store whose create-if-absent answers a bool.
    pub fn inserted(inserted: bool) -> Self {
        if inserted {
            Self::Ok
        } else {
            Self::Collision
        }
    }
}

/// The outcome of a compare-and-swap ([`SessionStore::update`], [`SessionStore::rotate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Updated {
    /// Written: the record had the expected version.
    Ok,
    /// Another request wrote first: the current record.
    Conflict(Record),
    /// The record is gone (logged out, revoked or expired): nothing was written, and it is not
    /// brought back.
    Gone,
}

/// Where a [`SessionStore::scan`] goes on from: [`ScanCursor::start`] for the first page, then
/// the cursor the last page returned. What it holds is the store's own business.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanCursor(pub(crate) String);

impl ScanCursor {
    /// The beginning of a scan.
    #[must_use]
    pub fn start() -> Self {
        Self::default()
    }

    /// A store's own position, for the next page: what the store's [`SessionStore::scan`] reads
    /// back from [`ScanCursor::position`] (an offset, a server's cursor, the last key).
    #[must_use]
    pub fn at(position: impl Into<String>) -> Self {
        Self(position.into())
    }

    /// The position a store wrote with [`ScanCursor::at`]; empty at the start.
    #[must_use]
    pub fn position(&self) -> &str {
        &self.0
    }

    /// For a store that lists its keys in order: the key the last page ended at.
    pub(crate) fn after(&self) -> Option<StoreKey> {
        StoreKey::from_hex(&self.0)
    }
}

/// A page of the `keys` (in order) after `cursor`, at most `limit` of those `read` finds live.
pub(crate) fn sorted_page(
    mut keys: Vec<StoreKey>,
    cursor: &ScanCursor,
    limit: usize,
    mut read: impl FnMut(&StoreKey) -> StoreResult<Option<Record>>,
) -> StoreResult<ScanPage> {
    keys.sort_unstable();
    let after = cursor.after();
    let mut page = ScanPage::default();
    for key in keys.into_iter().filter(|k| after.is_none_or(|a| *k > a)) {
        if page.records.len() >= limit.max(1) {
            page.next = page.records.last().map(|(k, _)| ScanCursor(k.to_hex()));
            break;
        }
        if let Some(record) = read(&key)? {
            page.records.push((key, record));
        }
    }
    Ok(page)
}

/// One page of a [`SessionStore::scan`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanPage {
    /// Live records, with their keys.
    pub records: Vec<(StoreKey, Record)>,
    /// Where the next page starts; `None` when the scan is complete.
    pub next: Option<ScanCursor>,
}

impl ScanPage {
    /// A page of `records`, the scan going on at `next` (`None`: complete).
    #[must_use]
    pub fn new(records: Vec<(StoreKey, Record)>, next: Option<ScanCursor>) -> Self {
        Self { records, next }
    }
}

/// One live session of an owner, as [`SessionConfig::list_owner`](crate::SessionConfig::list_owner) reports it.
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

/// The result type of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Where server-side sessions live. One trait for every backend; times are Unix milliseconds.
///
/// Every operation is atomic with respect to the others on the same key. A record whose
/// `expires_at` is not after `now` counts as absent for `load` (and `create` may replace it);
/// `delete_expired` only collects garbage.
// `DynStore`: the object-safe form a `BoxedStore` holds, each future boxed (dynosaur).
#[dynosaur::dynosaur(pub(crate) DynStore = dyn(box) SessionStore)]
#[allow(unreachable_pub)] // the erased trait dynosaur generates beside it
pub trait SessionStore: Send + Sync {
    /// The live record under `key`, or `None` if absent or expired.
    fn load(
        &self,
        key: &StoreKey,
        now_ms: u64,
    ) -> impl Future<Output = StoreResult<Option<Record>>> + Send;

    /// Inserts `record` if no live record has `key`.
    fn create(
        &self,
        key: &StoreKey,
        record: &Record,
        now_ms: u64,
    ) -> impl Future<Output = StoreResult<Created>> + Send;

    /// Replaces the record if its version is `expected`; `record.version` is the new one.
    fn update(
        &self,
        key: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> impl Future<Output = StoreResult<Updated>> + Send;

    /// Moves the expiry without rewriting the data. `false` if the record is gone.
    fn touch(
        &self,
        key: &StoreKey,
        expires_at: u64,
        now_ms: u64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Atomically moves the record from `old` to `new` (a login's id change) if `old` has the
    /// version `expected`: afterwards `old` is dead, even for a request racing this one.
    ///
    /// The driver draws `new` with `old`'s tag ([`StoreKey::tag`]), so a clustered backend
    /// finds both keys in one partition.
    fn rotate(
        &self,
        old: &StoreKey,
        new: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> impl Future<Output = StoreResult<Updated>> + Send;

    /// Deletes the record (logout). Deleting an absent record is not an error.
    fn delete(&self, key: &StoreKey) -> impl Future<Output = StoreResult<()>> + Send;

    /// True when the backend removes expired records by itself (a server-side TTL), so
    /// [`SessionStore::delete_expired`] has nothing to do and returns 0.
    fn expires_natively(&self) -> bool {
        false
    }

    /// Deletes up to `limit` records expired at `now`; returns how many. Live records are never
    /// touched.
    fn delete_expired(
        &self,
        now_ms: u64,
        limit: usize,
    ) -> impl Future<Output = StoreResult<usize>> + Send;

    /// The live records of `owner`.
    fn list_owner(
        &self,
        owner: &str,
        now_ms: u64,
    ) -> impl Future<Output = StoreResult<Vec<(StoreKey, Record)>>> + Send {
        let _ = (owner, now_ms);
        async { Err(StoreError::Unsupported("an owner index")) }
    }

    /// Every live record, a page of about `limit` at a time, from `cursor` on: for moving
    /// sessions to another store (`sessionkit move`) and for operators' tools. A record
    /// written during a scan may or may not be in it; one present throughout is listed once.
    fn scan(
        &self,
        cursor: &ScanCursor,
        limit: usize,
        now_ms: u64,
    ) -> impl Future<Output = StoreResult<ScanPage>> + Send {
        let _ = (cursor, limit, now_ms);
        async { Err(StoreError::Unsupported("listing every session")) }
    }

    /// Deletes every record of `owner` but `except`; returns how many.
    fn revoke_owner(
        &self,
        owner: &str,
        except: Option<&StoreKey>,
    ) -> impl Future<Output = StoreResult<usize>> + Send {
        let _ = (owner, except);
        async { Err(StoreError::Unsupported("an owner index")) }
    }
}

/// A type-erased store, as a configuration holds it: adapters' types do not grow a type
/// parameter, and one virtual call costs nothing next to a round trip.
#[derive(Clone)]
pub struct BoxedStore {
    inner: std::sync::Arc<DynStore<'static>>,
    name: &'static str,
    meter: std::sync::Arc<StoreMeter>,
}

impl BoxedStore {
    /// Erases the type of `store`.
    pub fn new<S: SessionStore + 'static>(store: S) -> Self {
        let name = std::any::type_name::<S>();
        let backend = name.rsplit("::").next().unwrap_or(name);
        Self {
            inner: std::sync::Arc::from(DynStore::new_box(store)),
            name,
            meter: std::sync::Arc::new(StoreMeter::new(backend)),
        }
    }
}

impl BoxedStore {
    /// Runs one operation, reporting it (backend, operation, outcome, latency).
    async fn timed<R>(
        &self,
        op: Op,
        operation: impl Future<Output = StoreResult<R>>,
    ) -> StoreResult<R> {
        let started = Started::now();
        let result = operation.await;
        self.meter.record(op, started, result.is_ok());
        result
    }
}

impl fmt::Debug for BoxedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BoxedStore").field(&self.name).finish()
    }
}

impl SessionStore for BoxedStore {
    fn expires_natively(&self) -> bool {
        self.inner.expires_natively()
    }

    async fn load(&self, key: &StoreKey, now_ms: u64) -> StoreResult<Option<Record>> {
        self.timed(Op::Load, self.inner.load(key, now_ms)).await
    }
    async fn create(&self, key: &StoreKey, record: &Record, now_ms: u64) -> StoreResult<Created> {
        self.timed(Op::Create, self.inner.create(key, record, now_ms))
            .await
    }
    async fn update(
        &self,
        key: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> StoreResult<Updated> {
        self.timed(Op::Update, self.inner.update(key, expected, record, now_ms))
            .await
    }
    async fn touch(&self, key: &StoreKey, expires_at: u64, now_ms: u64) -> StoreResult<bool> {
        self.timed(Op::Touch, self.inner.touch(key, expires_at, now_ms))
            .await
    }
    async fn rotate(
        &self,
        old: &StoreKey,
        new: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> StoreResult<Updated> {
        self.timed(
            Op::Rotate,
            self.inner.rotate(old, new, expected, record, now_ms),
        )
        .await
    }
    async fn delete(&self, key: &StoreKey) -> StoreResult<()> {
        self.timed(Op::Delete, self.inner.delete(key)).await
    }
    async fn delete_expired(&self, now_ms: u64, limit: usize) -> StoreResult<usize> {
        self.timed(Op::DeleteExpired, self.inner.delete_expired(now_ms, limit))
            .await
    }
    async fn list_owner(&self, owner: &str, now_ms: u64) -> StoreResult<Vec<(StoreKey, Record)>> {
        self.timed(Op::ListOwner, self.inner.list_owner(owner, now_ms))
            .await
    }
    async fn revoke_owner(&self, owner: &str, except: Option<&StoreKey>) -> StoreResult<usize> {
        self.timed(Op::RevokeOwner, self.inner.revoke_owner(owner, except))
            .await
    }
    async fn scan(&self, cursor: &ScanCursor, limit: usize, now_ms: u64) -> StoreResult<ScanPage> {
        self.timed(Op::Scan, self.inner.scan(cursor, limit, now_ms))
            .await
    }
}
