//! [`MemcachedStore`]: sessions in memcached, compare-and-swap through the meta protocol.

use std::collections::HashMap;

use std::io;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

use super::{Created, Record, SessionStore, StoreError, StoreKey, StoreResult, Updated};

/// Connections kept for reuse.
const POOL: usize = 16;

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
/// - A write is two round trips: the CAS token of the load is kept (a few thousand, per
///   process), so a compare-and-swap writes at once; only a token gone stale (another writer,
///   a touch) costs one more read.
#[derive(Debug)]
pub struct MemcachedStore {
    nodes: Vec<Node>,
    /// Points on the ketama circle, sorted, with the node each belongs to.
    continuum: Vec<(u32, usize)>,
    /// The version, expiry and CAS token each key was last read with.
    seen: Mutex<HashMap<String, Seen>>,
}

/// One memcached server and its idle connections.
#[derive(Debug)]
struct Node {
    addr: String,
    connect_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
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

#[derive(Debug)]
struct Connection {
    stream: BufReader<TcpStream>,
}

/// A record with the CAS token it was read with.
struct Read {
    record: Record,
    cas: u64,
}

fn io_error(error: &io::Error) -> StoreError {
    match error.kind() {
        io::ErrorKind::FileTooLarge => StoreError::TooLarge {
            bytes: error
                .to_string()
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
        },
        io::ErrorKind::TimedOut => StoreError::Timeout,
        io::ErrorKind::InvalidData => StoreError::Corrupt(error.to_string()),
        _ => StoreError::Unavailable(error.to_string()),
    }
}

fn protocol(line: &str) -> io::Error {
    io::Error::other(format!("unexpected memcached reply: {line}"))
}

impl Connection {
    async fn line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.stream.read_line(&mut line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(line.trim_end().to_owned())
    }

    /// `mg <key> v c`: the value and its CAS token, or `None` on a miss.
    async fn get(&mut self, key: &str) -> io::Result<Option<(Vec<u8>, u64)>> {
        self.stream
            .get_mut()
            .write_all(format!("mg {key} v c\r\n").as_bytes())
            .await?;
        let line = self.line().await?;
        if line == "EN" {
            return Ok(None);
        }
        let mut words = line.split(' ');
        let (Some("VA"), Some(size)) = (words.next(), words.next()) else {
            return Err(protocol(&line));
        };
        let size: usize = size.parse().map_err(|_| protocol(&line))?;
        let cas = words
            .find_map(|w| w.strip_prefix('c'))
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| protocol(&line))?;
        let mut value = vec![0u8; size + 2];
        self.stream.read_exact(&mut value).await?;
        value.truncate(size);
        Ok(Some((value, cas)))
    }

    /// `ms <key> <len> T<unix> [C<cas>] [ME]`: `true` when stored.
    async fn set(
        &mut self,
        key: &str,
        value: &[u8],
        expires_s: u64,
        mode: Set,
    ) -> io::Result<bool> {
        let flags = match mode {
            Set::Add => " ME".to_owned(),
            Set::Swap(cas) => format!(" C{cas}"),
        };
        let head = format!("ms {key} {} T{expires_s}{flags}\r\n", value.len());
        let mut request = Vec::with_capacity(head.len() + value.len() + 2);
        request.extend_from_slice(head.as_bytes());
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
        self.stream.get_mut().write_all(&request).await?;
        let line = self.line().await?;
        match line.as_str() {
            "HD" => Ok(true),
            "NS" | "EX" | "NF" => Ok(false),
            _ if line.contains("too large") => Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!("{} bytes", value.len()),
            )),
            _ => Err(protocol(&line)),
        }
    }

    /// `md <key> [C<cas>]`: `true` when deleted.
    async fn delete(&mut self, key: &str, cas: Option<u64>) -> io::Result<bool> {
        let cas = cas.map(|c| format!(" C{c}")).unwrap_or_default();
        self.stream
            .get_mut()
            .write_all(format!("md {key}{cas}\r\n").as_bytes())
            .await?;
        let line = self.line().await?;
        match line.as_str() {
            "HD" => Ok(true),
            "NF" | "EX" => Ok(false),
            _ => Err(protocol(&line)),
        }
    }
}

/// Why one attempt failed.
enum Failed {
    /// A pooled connection the server had closed: worth one more try on a new connection.
    Dead,
    Error(StoreError),
}

impl Failed {
    fn into_error(self) -> StoreError {
        match self {
            Self::Dead => StoreError::Unavailable("memcached closed the connection".into()),
            Self::Error(e) => e,
        }
    }
}

/// Runs an operation on a connection, and once more on a new one when a pooled connection
/// turned out closed (each request after a memcached restart would fail otherwise).
macro_rules! with {
    ($store:expr, $key:expr, $op:expr) => {{
        let node = $store.node($key);
        match node.attempt($op).await {
            Err(Failed::Dead) => {
                node.drain();
                node.attempt($op).await
            }
            other => other,
        }
        .map_err(Failed::into_error)
    }};
}

/// Whether `error` says the connection is gone (the server closed or reset it), rather than
/// that the request failed on a live one.
fn dead_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
    )
}

#[derive(Clone, Copy)]
enum Set {
    /// Only if absent.
    Add,
    /// Only if the CAS token still matches.
    Swap(u64),
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
        let nodes: Vec<Node> = addrs
            .iter()
            .map(|addr| Node {
                addr: (*addr).to_owned(),
                connect_timeout: Duration::from_secs(2),
                idle: Mutex::new(Vec::new()),
            })
            .collect();
        for node in &nodes {
            let (connection, _) = node.connection().await?;
            node.release(connection);
        }
        Ok(Self {
            continuum: continuum(addrs),
            nodes,
            seen: Mutex::new(HashMap::new()),
        })
    }

    fn key(key: &StoreKey) -> String {
        format!("sk:{}", key.to_hex())
    }

    /// The node holding `key`: the first point of the circle at or after the key's hash.
    fn node(&self, key: &str) -> &Node {
        let hash = one_at_a_time(key.as_bytes());
        let at = self.continuum.partition_point(|(p, _)| *p < hash);
        let (_, node) = self
            .continuum
            .get(at)
            .or(self.continuum.first())
            .copied()
            .unwrap_or((0, 0));
        &self.nodes[node]
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
        let found = with!(self, key, async |c| c.get(key).await)?;
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
        with!(self, key, async |c| c
            .set(key, &bytes, expiry(record), mode)
            .await)
    }
}

impl Node {
    /// A pooled connection (`true`) or a new one.
    async fn connection(&self) -> StoreResult<(Connection, bool)> {
        let reused = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        if let Some(connection) = reused {
            return Ok((connection, true));
        }
        self.fresh_connection().await
    }

    async fn fresh_connection(&self) -> StoreResult<(Connection, bool)> {
        let stream = tokio::time::timeout(self.connect_timeout, TcpStream::connect(&self.addr))
            .await
            .map_err(|_| StoreError::Timeout)?
            .map_err(|e| StoreError::Unavailable(format!("memcached at {}: {e}", self.addr)))?;
        stream
            .set_nodelay(true)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok((
            Connection {
                stream: BufReader::new(stream),
            },
            false,
        ))
    }

    fn release(&self, connection: Connection) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < POOL {
            idle.push(connection);
        }
    }

    /// Runs `op` once on a pooled (or new) connection; a connection that failed is dropped,
    /// not reused. [`Failed::Dead`] when a pooled connection turned out closed by the server.
    async fn attempt<R>(
        &self,
        op: impl AsyncFnOnce(&mut Connection) -> io::Result<R>,
    ) -> Result<R, Failed> {
        let (mut connection, pooled) = self.connection().await.map_err(Failed::Error)?;
        match op(&mut connection).await {
            Ok(result) => {
                self.release(connection);
                Ok(result)
            }
            Err(e) if pooled && dead_connection(&e) => Err(Failed::Dead),
            Err(e) => Err(Failed::Error(io_error(&e))),
        }
    }

    /// Forgets every pooled connection: after one was found closed (a memcached restart),
    /// the others opened before it are closed too.
    fn drain(&self) {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// libhashkit's default hash (Jenkins' one-at-a-time), which libmemcached's ketama uses for
/// both the circle and the keys unless told otherwise; bytes are read as C's signed `char`.
fn one_at_a_time(bytes: &[u8]) -> u32 {
    let mut value: u32 = 0;
    for &byte in bytes {
        #[allow(clippy::cast_possible_wrap, clippy::cast_sign_loss)]
        let byte = i32::from(byte as i8) as u32;
        value = value.wrapping_add(byte);
        value = value.wrapping_add(value << 10);
        value ^= value >> 6;
    }
    value = value.wrapping_add(value << 3);
    value ^= value >> 11;
    value.wrapping_add(value << 15)
}

/// libmemcached's ketama circle as pylibmc's `ketama: True` sets it up: 100 points a node, the
/// hash of `host:port-i` for `i` in 0..100 (`host-i` on the default port 11211). Tested against
/// pylibmc itself.
fn continuum(addrs: &[&str]) -> Vec<(u32, usize)> {
    let mut points = Vec::with_capacity(addrs.len() * 100);
    for (node, addr) in addrs.iter().enumerate() {
        let label = addr.strip_suffix(":11211").unwrap_or(addr);
        for i in 0..100 {
            points.push((one_at_a_time(format!("{label}-{i}").as_bytes()), node));
        }
    }
    points.sort_unstable();
    points
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
            Some(current) => Ok(if self.set(&key, record, Set::Swap(current.cas)).await? {
                Created::Ok
            } else {
                Created::Collision
            }),
            None => Ok(if self.set(&key, record, Set::Add).await? {
                Created::Ok
            } else {
                Created::Collision
            }),
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
            let deleted = with!(self, &old, async |c| c
                .delete(&old, Some(current.cas))
                .await)?;
            if deleted {
                self.set(&Self::key(new), record, Set::Add).await?;
                return Ok(Updated::Ok);
            }
        }
    }

    async fn delete(&self, key: &StoreKey) -> StoreResult<()> {
        let key = Self::key(key);
        self.forget(&key);
        with!(self, &key, async |c| c.delete(&key, None).await)?;
        Ok(())
    }

    async fn delete_expired(&self, _now_ms: u64, _limit: usize) -> StoreResult<usize> {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::continuum;

    fn owner(circle: &[(u32, usize)], key: &str) -> usize {
        let hash = super::one_at_a_time(key.as_bytes());
        let at = circle.partition_point(|(p, _)| *p < hash);
        circle.get(at).or(circle.first()).unwrap().1
    }

    #[test]
    fn ketama_spreads_keys_and_a_new_node_moves_only_its_share() {
        let three = continuum(&["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"]);
        assert_eq!(three.len(), 300);
        let keys: Vec<String> = (0..6000).map(|i| format!("sk:{i:064x}")).collect();
        let mut counts = [0; 3];
        for key in &keys {
            counts[owner(&three, key)] += 1;
        }
        assert!(
            counts.iter().all(|&n| (1200..2800).contains(&n)),
            "{counts:?}"
        );
        let four = continuum(&[
            "10.0.0.1:11211",
            "10.0.0.2:11211",
            "10.0.0.3:11211",
            "10.0.0.4:11211",
        ]);
        let moved = keys
            .iter()
            .filter(|k| owner(&three, k) != owner(&four, k))
            .count();
        // Only keys the new node takes move: about a quarter, never the others.
        assert!((900..2400).contains(&moved), "{moved}");
        assert!(keys
            .iter()
            .all(|k| owner(&four, k) == 3 || owner(&four, k) == owner(&three, k)));
    }
}
