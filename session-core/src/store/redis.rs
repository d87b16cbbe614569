//! [`RedisStore`]: sessions in Redis, every read-compare-write an atomic Lua script.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use super::{Created, Record, SessionStore, StoreError, StoreKey, StoreResult, Updated};

/// Records are strings under `<prefix><hex store key>`; owner indexes are sorted sets of hex
/// store keys under `<prefix>owners:<owner in hex>`, each scored with its record's expiry, so
/// that expired entries are pruned and the index itself expires with its last session.
const DEFAULT_PREFIX: &str = "sessionkit:";
/// The latest expiry Redis is given (the end of year 9999, in milliseconds).
const MAX_EXPIRY_MS: u64 = 253_402_300_799_999;

/// A record is one string: `version:expires_at:created_at:owner hex:` then the payload. The
/// scripts read the text head; a load is one `GET`.
const HEAD: &str = r"
local function head(s) return string.match(s, '^(%d+):(%d+):(%d+):(%x*):') end
local function index(k, member, expires, now)
  redis.call('ZADD', k, expires, member)
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
  redis.call('PEXPIREAT', k, expires, 'GT')
  if redis.call('PTTL', k) < 0 then redis.call('PEXPIREAT', k, expires) end
end
local function extend(k, member, expires)
  if redis.call('ZADD', k, 'XX', 'GT', 'CH', expires, member) == 1 then
    redis.call('PEXPIREAT', k, expires, 'GT')
  end
end
";

/// KEYS: the record. ARGV: now, value, expires, owner hex, owner prefix, member.
const CREATE: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur then
  local v, e = head(cur)
  if v and tonumber(e) > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
if ARGV[4] ~= '' then index(ARGV[5] .. ARGV[4], ARGV[6], ARGV[3], ARGV[1]) end
return 1
";

/// KEYS: the record to check, the record to write (the same for an update). ARGV: now,
/// expected version, value, expires, owner hex, owner prefix, member to check, member to write.
/// An update that keeps its owner only raises its index entry's score (one `ZADD`).
const SWAP: &str = r"
local cur = redis.call('GET', KEYS[1])
if not cur then return {'gone'} end
local v, e, c, o = head(cur)
if not v or tonumber(e) <= tonumber(ARGV[1]) then return {'gone'} end
if v ~= ARGV[2] then return {'conflict', cur} end
if o ~= ARGV[5] or KEYS[1] ~= KEYS[2] then
  if o ~= '' then redis.call('ZREM', ARGV[6] .. o, ARGV[7]) end
  if ARGV[5] ~= '' then index(ARGV[6] .. ARGV[5], ARGV[8], ARGV[4], ARGV[1]) end
elseif o ~= '' then
  extend(ARGV[6] .. o, ARGV[8], ARGV[4])
end
if KEYS[1] ~= KEYS[2] then redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[2], ARGV[3], 'PXAT', ARGV[4])
return {'ok'}
";

/// KEYS: the record. ARGV: now, new expiry, owner prefix, member.
const TOUCH: &str = r"
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local v, e, c, o = head(cur)
if not v or tonumber(e) <= tonumber(ARGV[1]) then return 0 end
local moved = v .. ':' .. ARGV[2] .. ':' .. string.sub(cur, #v + #e + 3)
redis.call('SET', KEYS[1], moved, 'PXAT', ARGV[2])
if o ~= '' then extend(ARGV[3] .. o, ARGV[4], ARGV[2]) end
return 1
";

/// KEYS: the record. ARGV: owner prefix, member.
const DELETE: &str = r"
local cur = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
if cur then
  local v, e, c, o = head(cur)
  if o and o ~= '' then redis.call('ZREM', ARGV[1] .. o, ARGV[2]) end
end
return 1
";

/// Lists the live records of an owner, pruning entries whose record is gone.
/// KEYS: the owner's index. ARGV: now, record prefix.
const LIST_OWNER: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local out = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local cur = redis.call('GET', ARGV[2] .. m)
  if not cur then
    redis.call('ZREM', KEYS[1], m)
  else
    local v, e = head(cur)
    if v and tonumber(e) > tonumber(ARGV[1]) then
      table.insert(out, m)
      table.insert(out, cur)
    end
  end
end
return out
";

const REVOKE_OWNER: &str = r"
local n = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if m ~= ARGV[2] then
    n = n + redis.call('DEL', ARGV[1] .. m)
    redis.call('ZREM', KEYS[1], m)
  end
end
return n
";

/// Sessions in Redis, over the `redis` crate's reconnecting connection manager.
///
/// - Each record is one string expiring at its absolute `expires_at` (`SET … PXAT`, Redis 6.2
///   or later), so a load is one `GET`, Redis collects garbage itself and
///   [`SessionStore::delete_expired`] has nothing to do; every load still checks the expiry.
/// - Create-if-absent, compare-and-swap update, touch, the atomic rotate and the owner index
///   are Lua scripts: each runs atomically on the server.
/// - The connection reconnects by itself after an outage; every command has a response
///   timeout, so a server that hangs is an error, not a stuck request.
/// - Single-node Redis (or a primary with replicas): the scripts touch the owner index beside
///   the record, which a Redis Cluster would place on another node.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    scripts: std::sync::Arc<Scripts>,
    prefix: std::sync::Arc<str>,
    owner_prefix: std::sync::Arc<str>,
}

struct Scripts {
    create: Script,
    swap: Script,
    touch: Script,
    delete: Script,
    list_owner: Script,
    revoke_owner: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

pub(crate) fn redis_error(error: &redis::RedisError) -> StoreError {
    if error.is_timeout() {
        StoreError::Timeout
    } else if error.is_io_error() || error.is_connection_dropped() || error.is_connection_refusal()
    {
        StoreError::Unavailable(error.to_string())
    } else {
        StoreError::Other(error.to_string())
    }
}

/// The owner as the hex that names its index set (any owner text is a valid key part).
fn owner_hex(owner: Option<&String>) -> String {
    owner
        .map(|o| super::id::hex(o.as_bytes()))
        .unwrap_or_default()
}

/// `version:expires_at:created_at:owner hex:` then the payload.
fn encode(record: &Record) -> Vec<u8> {
    let head = format!(
        "{}:{}:{}:{}:",
        record.version,
        record.expires_at.min(MAX_EXPIRY_MS),
        record.created_at,
        owner_hex(record.owner.as_ref())
    );
    let mut out = Vec::with_capacity(head.len() + record.payload.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(&record.payload);
    out
}

fn decode(value: &[u8]) -> StoreResult<Record> {
    let corrupt = || StoreError::Corrupt("not a sessionkit record".into());
    let mut parts = value.splitn(5, |&b| b == b':');
    let mut field = || parts.next().ok_or_else(corrupt);
    let number = |bytes: &[u8]| -> StoreResult<u64> {
        std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(corrupt)
    };
    let (version, expires_at, created_at) =
        (number(field()?)?, number(field()?)?, number(field()?)?);
    let owner_hex = field()?;
    let payload = field()?.to_vec();
    let owner = if owner_hex.is_empty() {
        None
    } else {
        let bytes: Option<Vec<u8>> = owner_hex
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
            .collect();
        Some(String::from_utf8(bytes.ok_or_else(corrupt)?).map_err(|_| corrupt())?)
    };
    Ok(Record {
        version,
        created_at,
        expires_at,
        owner,
        payload,
    })
}

impl RedisStore {
    /// Connects to `url` (`redis://127.0.0.1:6379/`) with 2-second connection and response
    /// timeouts.
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
        let client =
            redis::Client::open(url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(timeout)
            .set_response_timeout(timeout)
            .set_number_of_retries(1)
            // Reconnect attempts back off, but never wait more than a second: a server back
            // from an outage serves requests again within a second.
            .set_max_delay(1_000);
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| redis_error(&e))?;
        Ok(Self {
            connection,
            prefix: DEFAULT_PREFIX.into(),
            owner_prefix: format!("{DEFAULT_PREFIX}owners:").into(),
            scripts: std::sync::Arc::new(Scripts {
                create: Script::new(&format!("{HEAD}{CREATE}")),
                swap: Script::new(&format!("{HEAD}{SWAP}")),
                touch: Script::new(&format!("{HEAD}{TOUCH}")),
                delete: Script::new(&format!("{HEAD}{DELETE}")),
                list_owner: Script::new(&format!("{HEAD}{LIST_OWNER}")),
                revoke_owner: Script::new(REVOKE_OWNER),
            }),
        })
    }

    /// Puts this store's keys under `prefix` (default `sessionkit:`), to share one Redis
    /// between apps or test runs.
    #[must_use]
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.into();
        self.owner_prefix = format!("{prefix}owners:").into();
        self
    }

    fn key(&self, key: &StoreKey) -> String {
        format!("{}{}", self.prefix, key.to_hex())
    }

    /// Runs the compare-and-swap script: `check` is read, `write` is written.
    async fn swap(
        &self,
        check: &StoreKey,
        write: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> StoreResult<Updated> {
        let reply: Vec<Vec<u8>> = self
            .scripts
            .swap
            .key(self.key(check))
            .key(self.key(write))
            .arg(now_ms)
            .arg(expected)
            .arg(encode(record))
            .arg(record.expires_at.min(MAX_EXPIRY_MS))
            .arg(owner_hex(record.owner.as_ref()))
            .arg(&*self.owner_prefix)
            .arg(check.to_hex())
            .arg(write.to_hex())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| redis_error(&e))?;
        match (reply.first().map(Vec::as_slice), reply.get(1)) {
            (Some(b"ok"), _) => Ok(Updated::Ok),
            (Some(b"gone"), _) => Ok(Updated::Gone),
            (Some(b"conflict"), Some(current)) => Ok(Updated::Conflict(decode(current)?)),
            _ => Err(StoreError::Other("unexpected script reply".into())),
        }
    }
}

impl SessionStore for RedisStore {
    async fn load(&self, key: &StoreKey, now_ms: u64) -> StoreResult<Option<Record>> {
        let value: Option<Vec<u8>> = redis::cmd("GET")
            .arg(self.key(key))
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|e| redis_error(&e))?;
        match value {
            Some(value) => Ok(Some(decode(&value)?).filter(|r| r.is_live(now_ms))),
            None => Ok(None),
        }
    }

    async fn create(&self, key: &StoreKey, record: &Record, now_ms: u64) -> StoreResult<Created> {
        let created: i64 = self
            .scripts
            .create
            .key(self.key(key))
            .arg(now_ms)
            .arg(encode(record))
            .arg(record.expires_at.min(MAX_EXPIRY_MS))
            .arg(owner_hex(record.owner.as_ref()))
            .arg(&*self.owner_prefix)
            .arg(key.to_hex())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| redis_error(&e))?;
        Ok(if created == 1 {
            Created::Ok
        } else {
            Created::Collision
        })
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
        let touched: i64 = self
            .scripts
            .touch
            .key(self.key(key))
            .arg(now_ms)
            .arg(expires_at.min(MAX_EXPIRY_MS))
            .arg(&*self.owner_prefix)
            .arg(key.to_hex())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| redis_error(&e))?;
        Ok(touched == 1)
    }

    async fn rotate(
        &self,
        old: &StoreKey,
        new: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> StoreResult<Updated> {
        self.swap(old, new, expected, record, now_ms).await
    }

    async fn delete(&self, key: &StoreKey) -> StoreResult<()> {
        let _: i64 = self
            .scripts
            .delete
            .key(self.key(key))
            .arg(&*self.owner_prefix)
            .arg(key.to_hex())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| redis_error(&e))?;
        Ok(())
    }

    fn expires_natively(&self) -> bool {
        true
    }

    /// Redis expires records itself (`PEXPIREAT`): nothing to collect.
    async fn delete_expired(&self, _now_ms: u64, _limit: usize) -> StoreResult<usize> {
        Ok(0)
    }

    async fn list_owner(&self, owner: &str, now_ms: u64) -> StoreResult<Vec<(StoreKey, Record)>> {
        let flat: Vec<Vec<u8>> = self
            .scripts
            .list_owner
            .key(format!(
                "{}{}",
                self.owner_prefix,
                super::id::hex(owner.as_bytes())
            ))
            .arg(now_ms)
            .arg(&*self.prefix)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| redis_error(&e))?;
        flat.chunks(2)
            .map(|chunk| {
                let key = std::str::from_utf8(&chunk[0])
                    .ok()
                    .and_then(StoreKey::from_hex)
                    .ok_or_else(|| {
                        StoreError::Corrupt("an owner index member is not a key".into())
                    })?;
                let value = chunk
                    .get(1)
                    .ok_or_else(|| StoreError::Other("an odd reply".into()))?;
                Ok((key, decode(value)?))
            })
            .collect()
    }

    async fn revoke_owner(&self, owner: &str, except: Option<&StoreKey>) -> StoreResult<usize> {
        let removed: i64 = self
            .scripts
            .revoke_owner
            .key(format!(
                "{}{}",
                self.owner_prefix,
                super::id::hex(owner.as_bytes())
            ))
            .arg(&*self.prefix)
            .arg(except.map(StoreKey::to_hex).unwrap_or_default())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| redis_error(&e))?;
        Ok(usize::try_from(removed).unwrap_or(0))
    }
}
