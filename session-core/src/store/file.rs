//! [`FileStore`]: one file per session in sharded directories, the embedded default.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{
    sorted_page, Created, Record, ScanCursor, ScanPage, SessionStore, StoreError, StoreKey,
    StoreResult, Updated,
};

/// A temporary file older than this is left over from a crashed writer: the sweep removes it.
const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(600);

/// The largest record file read: a larger file at a record's path is refused, not read.
pub(crate) const MAX_RECORD_FILE: u64 = 8 * 1024 * 1024;

/// Sessions as files under one directory, shared safely by several processes (Flask-Session's
/// "filesystem" backend, without its races).
///
/// - Layout: `DIR/ab/abcdef…` (the hex store key, sharded by its first byte), directories
///   `0700`, files `0600`.
/// - Every write goes to a temporary file in the shard, is flushed to disk, then renamed over
///   the record: a reader sees the old record or the new one, never a part. A writer killed
///   between the write and the rename leaves the previous record intact (and a temporary file
///   the sweep removes).
/// - Read-compare-write runs under an exclusive lock on the shard's `.lock` file (`flock`), so
///   compare-and-swap holds across processes.
/// - [`SessionStore::delete_expired`] removes expired records (and stale temporary files) in
///   batches, re-checking each under the lock, so it never removes a session touched meanwhile.
/// - The owner index is a scan of the directory: fine for thousands of sessions; use a server
///   store for more.
/// - The directory belongs to the app: one that other users can write (group or world
///   writable) is refused at start-up. Inside it, no link is followed (files are opened with
///   `O_NOFOLLOW`, created with `O_EXCL`), anything at a record's path that is not a regular
///   file (a FIFO, a device, a link) is a refused session without being opened for reading, and
///   a record file is read up to 8 MiB, never whole.
///
/// File operations are blocking; with the `tokio` feature they run on tokio's blocking pool.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: Arc<PathBuf>,
}

impl FileStore {
    /// A store in `dir`, created (with mode `0700`) if missing.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the directory cannot be created or written, and when
    /// it is a link or other users can write to it (the message says how to fix it).
    pub fn new(dir: impl AsRef<Path>) -> StoreResult<Self> {
        let root = dir.as_ref().to_path_buf();
        create_private_dir(&root).map_err(|e| unavailable(&root, &e))?;
        check_private_dir(&root)?;
        let probe = root.join(format!(".probe-{:016x}", random_u64()?));
        write_private(&probe, b"ok").map_err(|e| unavailable(&root, &e))?;
        let _ = fs::remove_file(probe);
        Ok(Self {
            root: Arc::new(root),
        })
    }

    /// The directory the sessions live in.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.root
    }

    fn shard(&self, key: &StoreKey) -> PathBuf {
        self.root.join(format!("{:02x}", key.as_bytes()[0]))
    }

    fn path(&self, key: &StoreKey) -> PathBuf {
        self.shard(key).join(key.to_hex())
    }

    /// Runs `op` on the blocking pool (with tokio) or inline.
    #[cfg_attr(not(feature = "tokio"), allow(clippy::unused_async))] // awaits only on tokio
    async fn run<R: Send + 'static>(
        &self,
        op: impl FnOnce(&Self) -> io::Result<R> + Send + 'static,
    ) -> StoreResult<R> {
        let this = self.clone();
        #[cfg(feature = "tokio")]
        let result = match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle
                .spawn_blocking(move || op(&this))
                .await
                .map_err(|e| StoreError::Other(e.to_string()))?,
            Err(_) => op(&this),
        };
        #[cfg(not(feature = "tokio"))]
        let result = op(&this);
        result.map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData => StoreError::Corrupt(e.to_string()),
            _ => unavailable(&self.root, &e),
        })
    }

    /// Runs `op` with the shard of `key` locked (and the shard created).
    fn locked<R>(&self, key: &StoreKey, op: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        let shard = self.shard(key);
        let lock = match open_lock(&shard) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                create_private_dir(&shard)?;
                open_lock(&shard)?
            }
            other => other?,
        };
        lock.lock()?;
        let result = op();
        lock.unlock()?;
        result
    }

    fn read(&self, key: &StoreKey) -> io::Result<Option<Record>> {
        match read_record_file(&self.path(key)) {
            Ok(bytes) => Record::from_bytes(&bytes).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn read_live(&self, key: &StoreKey, now: u64) -> io::Result<Option<Record>> {
        Ok(self.read(key)?.filter(|r| r.is_live(now)))
    }

    /// Writes `record` for `key`: temporary file, flush to disk, rename. The caller holds the
    /// shard's lock, so the shard exists.
    fn write(&self, key: &StoreKey, record: &Record) -> io::Result<()> {
        let shard = self.shard(key);
        let suffix = random_u64().map_err(|e| io::Error::other(e.to_string()))?;
        let tmp = shard.join(format!(".tmp-{suffix:016x}"));
        let written =
            write_private(&tmp, &record.to_bytes()).and_then(|()| fs::rename(&tmp, self.path(key)));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    fn remove(&self, key: &StoreKey) -> io::Result<()> {
        match fs::remove_file(self.path(key)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Every record file, with its key.
    fn scan(&self) -> io::Result<Vec<StoreKey>> {
        let mut keys = Vec::new();
        for shard in fs::read_dir(&*self.root)? {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            for entry in fs::read_dir(shard.path())? {
                let name = entry?.file_name();
                if let Some(key) = name.to_str().and_then(StoreKey::from_hex) {
                    keys.push(key);
                }
            }
        }
        Ok(keys)
    }

    /// Removes temporary files a crashed writer left behind.
    fn sweep_temporaries(&self) -> io::Result<()> {
        for shard in fs::read_dir(&*self.root)? {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            for entry in fs::read_dir(shard.path())? {
                let entry = entry?;
                let stale = entry
                    .metadata() // `DirEntry::metadata` does not follow links
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STALE_TMP));
                if entry.file_name().to_string_lossy().starts_with(".tmp-") && stale {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }
}

impl SessionStore for FileStore {
    async fn load(&self, key: &StoreKey, now_ms: u64) -> StoreResult<Option<Record>> {
        let key = *key;
        self.run(move |s| s.read_live(&key, now_ms)).await
    }

    async fn create(&self, key: &StoreKey, record: &Record, now_ms: u64) -> StoreResult<Created> {
        let (key, record) = (*key, record.clone());
        self.run(move |s| {
            s.locked(&key, || {
                if s.read_live(&key, now_ms)?.is_some() {
                    return Ok(Created::Collision);
                }
                s.write(&key, &record)?;
                Ok(Created::Ok)
            })
        })
        .await
    }

    async fn update(
        &self,
        key: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> StoreResult<Updated> {
        let (key, record) = (*key, record.clone());
        self.run(move |s| {
            s.locked(&key, || match s.read_live(&key, now_ms)? {
                None => Ok(Updated::Gone),
                Some(current) if current.version != expected => Ok(Updated::Conflict(current)),
                Some(_) => s.write(&key, &record).map(|()| Updated::Ok),
            })
        })
        .await
    }

    async fn touch(&self, key: &StoreKey, expires_at: u64, now_ms: u64) -> StoreResult<bool> {
        let key = *key;
        self.run(move |s| {
            s.locked(&key, || match s.read_live(&key, now_ms)? {
                None => Ok(false),
                Some(mut current) => {
                    current.expires_at = expires_at;
                    s.write(&key, &current).map(|()| true)
                }
            })
        })
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
        let (old, new, record) = (*old, *new, record.clone());
        self.run(move |s| {
            let swap = || match s.read_live(&old, now_ms)? {
                None => Ok(Updated::Gone),
                Some(current) if current.version != expected => Ok(Updated::Conflict(current)),
                Some(_) => {
                    s.write(&new, &record)?;
                    s.remove(&old)?;
                    Ok(Updated::Ok)
                }
            };
            // Two shards are locked in a fixed order, so two rotations cannot deadlock.
            let (first, second) = if s.shard(&old) <= s.shard(&new) {
                (old, new)
            } else {
                (new, old)
            };
            if s.shard(&first) == s.shard(&second) {
                s.locked(&first, swap)
            } else {
                s.locked(&first, || s.locked(&second, swap))
            }
        })
        .await
    }

    async fn delete(&self, key: &StoreKey) -> StoreResult<()> {
        let key = *key;
        self.run(move |s| s.locked(&key, || s.remove(&key))).await
    }

    async fn delete_expired(&self, now_ms: u64, limit: usize) -> StoreResult<usize> {
        self.run(move |s| {
            s.sweep_temporaries()?;
            let mut removed = 0;
            for key in s.scan()? {
                if removed == limit {
                    break;
                }
                let expired = |r: &Option<Record>| r.as_ref().is_some_and(|r| !r.is_live(now_ms));
                // A cheap look first, then a second look under the lock: a session touched in
                // between is live again and stays.
                if !expired(&s.read(&key).unwrap_or(None)) {
                    continue;
                }
                let gone = s.locked(&key, || {
                    let again = s.read(&key).unwrap_or(None);
                    if expired(&again) {
                        s.remove(&key).map(|()| true)
                    } else {
                        Ok(false)
                    }
                })?;
                removed += usize::from(gone);
            }
            Ok(removed)
        })
        .await
    }

    async fn scan(&self, cursor: &ScanCursor, limit: usize, now_ms: u64) -> StoreResult<ScanPage> {
        let cursor = cursor.clone();
        self.run(move |s| {
            let keys = s.scan()?;
            // A record that cannot be read is left where it is, for `load` to report.
            sorted_page(keys, &cursor, limit, |key| {
                Ok(s.read_live(key, now_ms).ok().flatten())
            })
            .map_err(|e| io::Error::other(e.to_string()))
        })
        .await
    }

    async fn list_owner(&self, owner: &str, now_ms: u64) -> StoreResult<Vec<(StoreKey, Record)>> {
        let owner = owner.to_owned();
        self.run(move |s| {
            let mut found = Vec::new();
            for key in s.scan()? {
                if let Ok(Some(record)) = s.read_live(&key, now_ms) {
                    if record.owner.as_deref() == Some(owner.as_str()) {
                        found.push((key, record));
                    }
                }
            }
            Ok(found)
        })
        .await
    }

    async fn revoke_owner(&self, owner: &str, except: Option<&StoreKey>) -> StoreResult<usize> {
        let (owner, except) = (owner.to_owned(), except.copied());
        self.run(move |s| {
            let mut removed = 0;
            for key in s.scan()? {
                if Some(key) == except {
                    continue;
                }
                let gone = s.locked(&key, || match s.read(&key) {
                    Ok(Some(r)) if r.owner.as_deref() == Some(owner.as_str()) => {
                        s.remove(&key).map(|()| true)
                    }
                    _ => Ok(false),
                })?;
                removed += usize::from(gone);
            }
            Ok(removed)
        })
        .await
    }
}

fn unavailable(root: &Path, error: &io::Error) -> StoreError {
    StoreError::Unavailable(format!("session directory {}: {error}", root.display()))
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// A new file, never an existing one or a link's target: temporary names are random, so an
/// existing name was planted.
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options
}

fn random_u64() -> StoreResult<u64> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Other(e.to_string()))?;
    Ok(u64::from_be_bytes(bytes))
}

/// Refuses a directory that is a link or that other users can write: they could plant links
/// or records in it.
fn check_private_dir(root: &Path) -> StoreResult<()> {
    let meta = fs::symlink_metadata(root).map_err(|e| unavailable(root, &e))?;
    if !meta.is_dir() {
        return Err(StoreError::Unavailable(format!(
            "session directory {} is not a directory (a link?): give the store a real directory",
            root.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(StoreError::Unavailable(format!(
                "session directory {} is writable by other users (mode {mode:o}): restrict it \
                 with `chmod 700 {}`, or give the store a directory of its own",
                root.display(),
                root.display()
            )));
        }
    }
    Ok(())
}

/// Reads a record file: never through a link, never anything but a regular file (a FIFO
/// would block the reader), never more than [`MAX_RECORD_FILE`] bytes.
fn read_record_file(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NOFOLLOW | libc::O_NONBLOCK,
    );
    let file = options.open(path).map_err(|e| match e.raw_os_error() {
        #[cfg(unix)]
        Some(libc::ELOOP) => io::Error::new(io::ErrorKind::InvalidData, "a link, not a record"),
        _ => e,
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    if meta.len() > MAX_RECORD_FILE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} bytes, over the {MAX_RECORD_FILE}-byte record limit",
                meta.len()
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_RECORD_FILE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_RECORD_FILE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "over the record limit",
        ));
    }
    Ok(bytes)
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = private_options().open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The shard's lock file; a link planted in its place (or in the shard's) is an error, never
/// followed to create a file elsewhere.
fn open_lock(shard: &Path) -> io::Result<File> {
    if fs::symlink_metadata(shard).is_ok_and(|m| !m.is_dir()) {
        return Err(io::Error::other(format!(
            "{} is not a directory (a link?)",
            shard.display()
        )));
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(shard.join(".lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_damage_is_corrupt_not_a_panic() {
        let record = Record {
            version: 3,
            created_at: 1,
            expires_at: 2,
            owner: Some("alice".into()),
            payload: vec![1, 0, 0, 0, 0, b'{', b'}'],
        };
        let bytes = record.to_bytes();
        assert_eq!(Record::from_bytes(&bytes).unwrap(), record);
        for cut in 0..bytes.len() {
            assert!(Record::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Record::from_bytes(&longer).is_err());
        let mut lying = bytes;
        lying[40] = 0xff; // the owner length
        assert!(Record::from_bytes(&lying).is_err());
    }
}
