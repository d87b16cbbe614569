//! One memcached client for every sessionkit store that speaks to memcached (the session store
//! and Flask-Session's records): the meta protocol (`mg`, `ms`, `md`, with CAS tokens) over
//! tokio, a bounded pool per node, and libmemcached's ketama placement over several nodes.

use std::io;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::error::StoreError;

/// Idle connections kept for reuse, per node.
const IDLE: usize = 16;

/// Connections open to one node at once; a request beyond them waits for one.
const OPEN: usize = 64;

/// A client of one memcached server or several, placing keys as libmemcached's ketama does.
#[derive(Debug)]
pub(crate) struct Client {
    nodes: Vec<Node>,
    /// Points on the ketama circle, sorted, with the node each belongs to.
    continuum: Vec<(u32, usize)>,
}

/// One memcached server and its connections.
#[derive(Debug)]
struct Node {
    addr: String,
    connect_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    open: Semaphore,
}

#[derive(Debug)]
struct Connection {
    stream: BufReader<TcpStream>,
}

/// Runs an operation on a connection to `node`, and once more on a new one when a pooled
/// connection turned out closed (each request after a memcached restart would fail otherwise).
macro_rules! run {
    ($node:expr, $op:expr) => {{
        let node = $node;
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

impl Client {
    /// A client of the servers at `addrs` (`host:port` each). Connects on first use.
    pub(crate) fn new(addrs: &[&str]) -> Self {
        let nodes = addrs
            .iter()
            .map(|addr| Node {
                addr: (*addr).to_owned(),
                connect_timeout: Duration::from_secs(2),
                idle: Mutex::new(Vec::new()),
                open: Semaphore::new(OPEN),
            })
            .collect();
        Self {
            nodes,
            continuum: continuum(addrs),
        }
    }

    /// Opens a connection to every node, to report one that does not answer.
    pub(crate) async fn check(&self) -> Result<(), StoreError> {
        for node in &self.nodes {
            let (connection, _) = node.connection().await?;
            node.release(connection);
        }
        Ok(())
    }

    /// The value under `key` and its CAS token; `None` on a miss.
    pub(crate) async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>, StoreError> {
        let key = checked(key)?;
        run!(self.node(key), async |c| c.get(key).await)
    }

    /// Stores `value` under `key` until `expires_s` (memcached's exptime: seconds from now
    /// up to 30 days, a Unix time beyond); `false` when `mode` refused it.
    pub(crate) async fn set(
        &self,
        key: &str,
        value: &[u8],
        expires_s: u64,
        mode: Set,
    ) -> Result<bool, StoreError> {
        let key = checked(key)?;
        run!(self.node(key), async |c| c
            .set(key, value, expires_s, mode)
            .await)
    }

    /// Deletes `key` (only at CAS token `cas`, if given); `false` when it was not there or
    /// the token did not match.
    pub(crate) async fn delete(&self, key: &str, cas: Option<u64>) -> Result<bool, StoreError> {
        let key = checked(key)?;
        run!(self.node(key), async |c| c.delete(key, cas).await)
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
}

/// `key` when memcached's protocol can carry it: 1 to 250 bytes, printable, no space.
/// Anything else (a prefix with a space reads another key, one with CRLF injects commands) is
/// refused before a byte is sent, as pymemcache refuses it.
fn checked(key: &str) -> Result<&str, StoreError> {
    let fits = (1..=250).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
    if fits {
        Ok(key)
    } else {
        Err(StoreError::Other(format!(
            "memcached cannot carry the key {key:?}: keys are 1 to 250 printable bytes \
             without spaces; check the session key prefix"
        )))
    }
}

pub(crate) fn io_error(error: &io::Error) -> StoreError {
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
            Set::Always => String::new(),
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

/// How a value is stored.
#[derive(Clone, Copy)]
pub(crate) enum Set {
    /// Only if absent.
    Add,
    /// Only if the CAS token still matches.
    Swap(u64),
    /// Whatever is there (Flask-Session's plain `set`).
    #[cfg_attr(not(feature = "flask-session"), allow(dead_code))]
    Always,
}

impl Node {
    /// A pooled connection (`true`) or a new one.
    async fn connection(&self) -> Result<(Connection, bool), StoreError> {
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

    async fn fresh_connection(&self) -> Result<(Connection, bool), StoreError> {
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
        if idle.len() < IDLE {
            idle.push(connection);
        }
    }

    /// Runs `op` once on a pooled (or new) connection; a connection that failed is dropped,
    /// not reused. [`Failed::Dead`] when a pooled connection turned out closed by the server.
    async fn attempt<R>(
        &self,
        op: impl AsyncFnOnce(&mut Connection) -> io::Result<R>,
    ) -> Result<R, Failed> {
        // At most `OPEN` connections to a node at once; the others wait (the store timeout
        // bounds the wait).
        let _permit = self.open.acquire().await.map_err(|_| {
            Failed::Error(StoreError::Unavailable("memcached client closed".into()))
        })?;
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

#[cfg(test)]
mod tests {
    use super::{checked, continuum};
    use crate::error::StoreError;

    #[test]
    fn keys_the_protocol_cannot_carry_are_refused() {
        assert_eq!(checked("session:abc"), Ok("session:abc"));
        for bad in [
            "",
            "a b",
            "x\r\nflush_all",
            "tab\there",
            "é",
            &"k".repeat(251),
        ] {
            assert!(matches!(checked(bad), Err(StoreError::Other(_))), "{bad:?}");
        }
    }

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
