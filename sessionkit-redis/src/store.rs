//! [`RedisStore`]: sessions in Redis (one server, a Redis Cluster, or a Sentinel-managed
//! primary), every read-compare-write an atomic Lua script on the record's own key.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::sentinel::{SentinelClient, SentinelServerType};
use redis::Value;

use session_core::store::{
    Created, Record, ScanCursor, ScanPage, SessionStore, StoreError, StoreKey, StoreResult, Updated,
};

use crate::connection::{manager_config, Connection, Primary};
use crate::scripts::{decode, encode, head, horizon, owner_hex, Call, Scripts, MAX_EXPIRY_MS};

/// Records are strings under `<prefix><hex store key>` (on a cluster
/// `<prefix>{<tag>}<hex store key>`, the tag naming the hash slot); owner indexes are sorted
/// sets of those key suffixes under `<prefix>owners:<owner in hex>`, each scored with how long
/// its record may live, so that expired entries are pruned and the index itself expires with
/// its last session.
const DEFAULT_PREFIX: &str = "sessionkit:";

/// Sessions in Redis: one server, a Redis Cluster, or the primary that Redis Sentinel names.
///
/// - Each record is one string expiring at its absolute `expires_at` (`SET … PXAT`, Redis 6.2
///   or later), so a load is one `GET`, Redis collects garbage itself and
///   [`SessionStore::delete_expired`] has nothing to do; every load still checks the expiry.
/// - Create-if-absent, compare-and-swap update, touch and the atomic rotate are Lua scripts
///   that touch only the record's key (a rotate's two keys share a hash slot: a renewal keeps
///   the id's tag, [`SessionId::tag`](session_core::store::SessionId::tag)), so each runs atomically
///   on one server and on a cluster alike.
/// - The owner index ("log out everywhere") is a sorted set per owner, kept beside the
///   scripts and written *before* the record, so a crash leaves at worst a stale index entry
///   (pruned when read), never a record missing from its owner's index. A write that keeps its
///   owner and stays within the entry's horizon does not touch the index at all.
/// - [`RedisStore::connect`] reconnects by itself; [`RedisStore::connect_cluster`] follows
///   `MOVED`/`ASK` and slot map changes; [`RedisStore::connect_sentinel`] moves to the new
///   primary after a failover. Every command has a response timeout, so a server that hangs is
///   an error, not a stuck request.
#[derive(Clone)]
pub struct RedisStore {
    pub(crate) connection: Connection,
    scripts: Arc<Scripts>,
    pub(crate) prefix: Arc<str>,
    owner_prefix: Arc<str>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let topology = match self.connection {
            Connection::Node(_) => "node",
            Connection::Cluster(_) => "cluster",
            Connection::Sentinel(_) => "sentinel",
        };
        f.debug_struct("RedisStore")
            .field("topology", &topology)
            .field("prefix", &&*self.prefix)
            .finish_non_exhaustive()
    }
}

pub(crate) fn redis_error(error: &redis::RedisError) -> StoreError {
    if error.is_timeout() {
        StoreError::Timeout
    } else if error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_cluster_error()
        || error.kind() == redis::ErrorKind::ReadOnly
    {
        StoreError::Unavailable(error.to_string())
    } else {
        StoreError::Other(error.to_string())
    }
}

/// A script answered what it never answers.
fn unexpected() -> StoreError {
    StoreError::Other("unexpected script reply".into())
}

fn unavailable(error: &redis::RedisError) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

/// A reconnecting connection to the one server at `url`, with `timeout` for connecting and
/// for each response.
pub(crate) async fn connect_manager(
    url: &str,
    timeout: Duration,
) -> StoreResult<ConnectionManager> {
    let client = redis::Client::open(url).map_err(|e| unavailable(&e))?;
    ConnectionManager::new_with_config(client, manager_config(timeout))
        .await
        .map_err(|e| redis_error(&e))
}

impl RedisStore {
    /// Connects to one server at `url` (`redis://127.0.0.1:6379/`) with 2-second connection
    /// and response timeouts.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the URL is invalid or the server cannot be reached.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with_timeout(url, Duration::from_secs(2)).await
    }

    /// As [`RedisStore::connect`], with `timeout` for connecting and for each response.
    ///
    /// # Errors
    ///
    /// As [`RedisStore::connect`].
    pub async fn connect_with_timeout(url: &str, timeout: Duration) -> StoreResult<Self> {
        let connection = connect_manager(url, timeout).await?;
        Ok(Self::over(Connection::Node(connection)))
    }

    /// Connects to a Redis Cluster through any of its `nodes` (`redis://127.0.0.1:7000/`),
    /// with 2-second connection and response timeouts. Sessions spread over the masters by
    /// their ids' tags; a login's rotate stays in its session's slot.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when no node can be reached or the URLs are invalid.
    pub async fn connect_cluster<S: AsRef<str>>(nodes: &[S]) -> StoreResult<Self> {
        Self::connect_cluster_with_timeout(nodes, Duration::from_secs(2)).await
    }

    /// As [`RedisStore::connect_cluster`], with `timeout` for connecting and for each
    /// response.
    ///
    /// # Errors
    ///
    /// As [`RedisStore::connect_cluster`].
    pub async fn connect_cluster_with_timeout<S: AsRef<str>>(
        nodes: &[S],
        timeout: Duration,
    ) -> StoreResult<Self> {
        let nodes: Vec<&str> = nodes.iter().map(AsRef::as_ref).collect();
        let client = redis::cluster::ClusterClientBuilder::new(nodes)
            .connection_timeout(timeout)
            .response_timeout(timeout)
            .retries(2)
            .max_retry_wait(500)
            .build()
            .map_err(|e| unavailable(&e))?;
        let connection = client
            .get_async_connection()
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(Self::over(Connection::Cluster(connection)))
    }

    /// Connects to the primary that the Sentinels at `sentinels` (`redis://127.0.0.1:26379/`)
    /// name for `service`, with 2-second connection and response timeouts. After a failover,
    /// the first write the old primary refuses (`READONLY`) or cannot take moves the store to
    /// the new primary.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when no Sentinel answers or the primary cannot be reached.
    pub async fn connect_sentinel<S: AsRef<str>>(
        sentinels: &[S],
        service: &str,
    ) -> StoreResult<Self> {
        Self::connect_sentinel_with_timeout(sentinels, service, Duration::from_secs(2)).await
    }

    /// As [`RedisStore::connect_sentinel`], with `timeout` for connecting and for each
    /// response.
    ///
    /// # Errors
    ///
    /// As [`RedisStore::connect_sentinel`].
    pub async fn connect_sentinel_with_timeout<S: AsRef<str>>(
        sentinels: &[S],
        service: &str,
        timeout: Duration,
    ) -> StoreResult<Self> {
        let sentinels: Vec<&str> = sentinels.iter().map(AsRef::as_ref).collect();
        let client = SentinelClient::build(
            sentinels,
            service.to_owned(),
            None,
            SentinelServerType::Master,
        )
        .map_err(|e| unavailable(&e))?;
        let primary = Primary::connect(client, timeout)
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(Self::over(Connection::Sentinel(Arc::new(primary))))
    }

    fn over(connection: Connection) -> Self {
        Self {
            connection,
            prefix: DEFAULT_PREFIX.into(),
            owner_prefix: format!("{DEFAULT_PREFIX}owners:").into(),
            scripts: Arc::new(Scripts::new()),
        }
    }

    /// Puts this store's keys under `prefix` (default `sessionkit:`), to share one Redis
    /// between apps or test runs.
    #[must_use]
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.into();
        self.owner_prefix = format!("{prefix}owners:").into();
        self
    }

    /// The part of a record's Redis key after the prefix, also its owner index member: the
    /// hex key, after `{tag}` on a cluster.
    fn member(&self, key: &StoreKey) -> String {
        self.named(key, "")
    }

    pub(crate) fn key(&self, key: &StoreKey) -> String {
        self.named(key, &self.prefix)
    }

    /// `prefix`, then the member, in one allocation: a request names its key two or three
    /// times.
    fn named(&self, key: &StoreKey, prefix: &str) -> String {
        let mut out = String::with_capacity(prefix.len() + 6 + 64);
        out.push_str(prefix);
        if self.connection.is_cluster() {
            let _ = write!(out, "{{{:04x}}}", key.tag());
        }
        key.push_hex(&mut out);
        out
    }

    fn owner_key(&self, owner_hex: &str) -> String {
        format!("{}{owner_hex}", self.owner_prefix)
    }

    pub(crate) fn connection(&self) -> Connection {
        self.connection.clone()
    }

    /// Puts `member` in the owner's index until `until` (never lowering its entry), drops the
    /// owner's expired entries, and keeps the index alive as long as its longest entry.
    async fn index(&self, owner_hex: &str, member: &str, until: u64, now: u64) -> StoreResult<()> {
        let index = self.owner_key(owner_hex);
        let _: () = redis::pipe()
            .cmd("ZADD")
            .arg(&index)
            .arg("GT")
            .arg(until)
            .arg(member)
            .ignore()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&index)
            .arg("-inf")
            .arg(now)
            .ignore()
            .cmd("PEXPIREAT")
            .arg(&index)
            .arg(until)
            .arg("NX")
            .ignore()
            .cmd("PEXPIREAT")
            .arg(&index)
            .arg(until)
            .arg("GT")
            .ignore()
            .query_async(&mut self.connection())
            .await
            .map_err(|e| redis_error(&e))?;
        Ok(())
    }

    /// Drops `member` from the owner's index (a stale entry left by a crash here is pruned
    /// when the index is read).
    async fn unindex(&self, owner_hex: &str, member: &str) -> StoreResult<()> {
        let _: i64 = redis::cmd("ZREM")
            .arg(self.owner_key(owner_hex))
            .arg(member)
            .query_async(&mut self.connection())
            .await
            .map_err(|e| redis_error(&e))?;
        Ok(())
    }

    /// The key a member names (`{tag}hex` on a cluster, `hex` otherwise).
    pub(super) fn key_of(member: &str) -> Option<StoreKey> {
        match member.strip_prefix('{') {
            Some(rest) => {
                let (tag, hex) = rest.split_once('}')?;
                let tag = u16::from_str_radix(tag, 16).ok()?;
                Some(StoreKey::from_hex(hex)?.with_tag(tag))
            }
            None => StoreKey::from_hex(member),
        }
    }

    /// Runs the compare-and-swap script: `check` is read, `write` is written. The owner's
    /// index entry is written first when the write needs one.
    async fn swap(
        &self,
        check: &StoreKey,
        write: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> StoreResult<Updated> {
        let owner = owner_hex(record.owner.as_deref());
        let expires = record.expires_at.min(MAX_EXPIRY_MS);
        // Named once: an update checks and writes the same key.
        let check_key = self.key(check);
        let rotated_key = (check != write).then(|| self.key(write));
        let write_key = rotated_key.as_ref().unwrap_or(&check_key);
        // A rotate's new key has no index entry yet: index it first without asking.
        let mut indexed = None;
        if !owner.is_empty() && check != write {
            indexed = Some(
                self.indexed(&owner, &self.member(write), expires, now_ms)
                    .await?,
            );
        }
        let head = head(record, &owner);
        loop {
            let data = head.len() + owner.len() + record.payload.len() + 80;
            let mut call = Call::new(&self.scripts.swap, &[&check_key, write_key], 7, data);
            call.arg(now_ms)
                .arg(expected)
                .arg(&head)
                .arg(expires)
                .arg(&owner);
            match indexed {
                Some(horizon) => call.arg(horizon),
                None => call.arg(""),
            };
            call.arg(&record.payload[..]);
            let reply: Value = call.run(&mut self.connection()).await?;
            return match reply {
                Value::BulkString(previous) => {
                    if !previous.is_empty() && (previous != owner.as_bytes() || check != write) {
                        let previous = String::from_utf8_lossy(&previous);
                        self.unindex(&previous, &self.member(check)).await?;
                    }
                    Ok(Updated::Ok)
                }
                Value::Int(1) if indexed.is_none() => {
                    indexed = Some(
                        self.indexed(&owner, &self.member(write), expires, now_ms)
                            .await?,
                    );
                    continue;
                }
                Value::Int(0) => Ok(Updated::Gone),
                Value::Array(reply) => match reply.get(1) {
                    Some(Value::BulkString(current)) => Ok(Updated::Conflict(decode(current)?)),
                    _ => Err(unexpected()),
                },
                _ => Err(unexpected()),
            };
        }
    }

    /// Indexes `member` under `owner` with the horizon of a record expiring at `expires`;
    /// returns that horizon.
    async fn indexed(&self, owner: &str, member: &str, expires: u64, now: u64) -> StoreResult<u64> {
        let until = horizon(expires, now);
        self.index(owner, member, until, now).await?;
        Ok(until)
    }
}

impl SessionStore for RedisStore {
    async fn scan(&self, cursor: &ScanCursor, limit: usize, now_ms: u64) -> StoreResult<ScanPage> {
        self.scan_page(cursor, limit, now_ms).await
    }

    async fn load(&self, key: &StoreKey, now_ms: u64) -> StoreResult<Option<Record>> {
        let name = self.key(key);
        let value: Option<Vec<u8>> = redis::Cmd::with_capacity(2, name.len() + 24)
            .arg("GET")
            .arg(name)
            .query_async(&mut self.connection())
            .await
            .map_err(|e| redis_error(&e))?;
        match value {
            Some(value) => Ok(Some(decode(&value)?).filter(|r| r.is_live(now_ms))),
            None => Ok(None),
        }
    }

    async fn create(&self, key: &StoreKey, record: &Record, now_ms: u64) -> StoreResult<Created> {
        let expires = record.expires_at.min(MAX_EXPIRY_MS);
        let owner = owner_hex(record.owner.as_deref());
        let until = if owner.is_empty() {
            None
        } else {
            Some(
                self.indexed(&owner, &self.member(key), expires, now_ms)
                    .await?,
            )
        };
        let value = encode(record, until);
        let mut call = Call::new(&self.scripts.create, &[&self.key(key)], 3, value.len() + 40);
        call.arg(now_ms).arg(value).arg(expires);
        let created: i64 = call.run(&mut self.connection()).await?;
        Ok(Created::inserted(created == 1))
    }

    async fn update(
        &self,
        key: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> StoreResult<Updated> {
        self.swap(key, key, expected, record, now_ms).await
    }

    async fn touch(&self, key: &StoreKey, expires_at: u64, now_ms: u64) -> StoreResult<bool> {
        let expires = expires_at.min(MAX_EXPIRY_MS);
        let name = self.key(key);
        let mut indexed: Option<u64> = None;
        loop {
            let mut call = Call::new(&self.scripts.touch, &[&name], 3, 64);
            call.arg(now_ms).arg(expires);
            match indexed {
                Some(horizon) => call.arg(horizon),
                None => call.arg(""),
            };
            let reply: Value = call.run(&mut self.connection()).await?;
            return match reply {
                Value::Int(1) => Ok(true),
                Value::Int(0) => Ok(false),
                Value::BulkString(owner) if indexed.is_none() => {
                    let owner = String::from_utf8_lossy(&owner).into_owned();
                    indexed = Some(
                        self.indexed(&owner, &self.member(key), expires, now_ms)
                            .await?,
                    );
                    continue;
                }
                _ => Err(unexpected()),
            };
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
        if self.connection.is_cluster() && old.tag() != new.tag() {
            return Err(StoreError::Unsupported(
                "a rotate between two hash slots (draw the new id with the old id's tag)",
            ));
        }
        self.swap(old, new, expected, record, now_ms).await
    }

    async fn delete(&self, key: &StoreKey) -> StoreResult<()> {
        let call = Call::new(&self.scripts.delete, &[&self.key(key)], 0, 0);
        let owner: String = call.run(&mut self.connection()).await?;
        if !owner.is_empty() {
            self.unindex(&owner, &self.member(key)).await?;
        }
        Ok(())
    }

    fn expires_natively(&self) -> bool {
        true
    }

    /// Redis expires records itself (`PEXPIREAT`): nothing to collect.
    async fn delete_expired(&self, _now_ms: u64, _limit: usize) -> StoreResult<usize> {
        Ok(0)
    }

    /// The owner's live records: the index entries within their horizon, each record read
    /// (`MGET`, split by slot on a cluster) and kept only if it is live and still this
    /// owner's; the other entries are pruned.
    async fn list_owner(&self, owner: &str, now_ms: u64) -> StoreResult<Vec<(StoreKey, Record)>> {
        let owner_hex = owner_hex(Some(owner));
        let index = self.owner_key(&owner_hex);
        let members: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(&index)
            .arg(format!("({now_ms}"))
            .arg("+inf")
            .query_async(&mut self.connection())
            .await
            .map_err(|e| redis_error(&e))?;
        let mut live = Vec::with_capacity(members.len());
        let mut stale = Vec::new();
        if !members.is_empty() {
            let keys: Vec<String> = members
                .iter()
                .map(|m| format!("{}{m}", self.prefix))
                .collect();
            let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                .arg(&keys)
                .query_async(&mut self.connection())
                .await
                .map_err(|e| redis_error(&e))?;
            for (member, value) in members.iter().zip(values) {
                let key = Self::key_of(member).ok_or_else(|| {
                    StoreError::Corrupt("an owner index member is not a key".into())
                })?;
                match value.map(|v| decode(&v)).transpose()? {
                    Some(record)
                        if record.is_live(now_ms) && record.owner.as_deref() == Some(owner) =>
                    {
                        live.push((key, record));
                    }
                    _ => stale.push(member.clone()),
                }
            }
        }
        let mut prune = redis::pipe();
        prune
            .cmd("ZREMRANGEBYSCORE")
            .arg(&index)
            .arg("-inf")
            .arg(now_ms)
            .ignore();
        if !stale.is_empty() {
            prune.cmd("ZREM").arg(&index).arg(&stale).ignore();
        }
        let _: () = prune
            .query_async(&mut self.connection())
            .await
            .map_err(|e| redis_error(&e))?;
        Ok(live)
    }

    async fn revoke_owner(&self, owner: &str, except: Option<&StoreKey>) -> StoreResult<usize> {
        let owner_hex = owner_hex(Some(owner));
        let index = self.owner_key(&owner_hex);
        let members: Vec<String> = redis::cmd("ZRANGE")
            .arg(&index)
            .arg(0)
            .arg(-1)
            .query_async(&mut self.connection())
            .await
            .map_err(|e| redis_error(&e))?;
        let keep = except.map(StoreKey::to_hex);
        let mut removed = 0;
        for member in members {
            if keep.as_deref().is_some_and(|k| member.ends_with(k)) {
                continue;
            }
            let record = format!("{}{member}", self.prefix);
            let mut call = Call::new(
                &self.scripts.delete_if_owner,
                &[&record],
                1,
                owner_hex.len(),
            );
            call.arg(&owner_hex);
            let deleted: i64 = call.run(&mut self.connection()).await?;
            removed += usize::try_from(deleted).unwrap_or(0);
            self.unindex(&owner_hex, &member).await?;
        }
        Ok(removed)
    }
}
