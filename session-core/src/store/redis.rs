//! [`RedisStore`]: sessions in Redis, every read-compare-write an atomic Lua script.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use super::{Created, Record, SessionStore, StoreError, StoreKey, StoreResult, Updated};

/// Records are hashes under `<prefix><hex store key>`; owner indexes are sets of hex store keys
/// under `<prefix>owner:<owner>`.
const DEFAULT_PREFIX: &str = "sessionkit:";
/// The latest expiry Redis is given (the end of year 9999, in milliseconds).
const MAX_EXPIRY_MS: u64 = 253_402_300_799_999;

const CREATE: &str = r"
local e = redis.call('HGET', KEYS[1], 'e')
if e and tonumber(e) > tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'c', ARGV[3], 'e', ARGV[4], 'p', ARGV[6])
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 'o', ARGV[5])
  redis.call('SADD', ARGV[7] .. string.sub(ARGV[5], 2), ARGV[8])
end
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
return 1
";

/// KEYS: the record to check, the record to write (the same for an update). ARGV: now,
/// expected version, version, created, expires, owner ('' or '=name'), payload, owner prefix,
/// member to check, member to write.
const SWAP: &str = r"
local cur = redis.call('HMGET', KEYS[1], 'v', 'c', 'e', 'o', 'p')
if not cur[1] or tonumber(cur[3]) <= tonumber(ARGV[1]) then return {'gone'} end
if cur[1] ~= ARGV[2] then
  return {'conflict', cur[1], cur[2], cur[3], cur[4] or '', cur[5]}
end
local old = cur[4] or ''
if old ~= '' then redis.call('SREM', ARGV[8] .. string.sub(old, 2), ARGV[9]) end
if KEYS[1] ~= KEYS[2] then redis.call('DEL', KEYS[1]) end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'v', ARGV[3], 'c', ARGV[4], 'e', ARGV[5], 'p', ARGV[7])
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[2], 'o', ARGV[6])
  redis.call('SADD', ARGV[8] .. string.sub(ARGV[6], 2), ARGV[10])
end
redis.call('PEXPIREAT', KEYS[2], ARGV[5])
return {'ok'}
";

const TOUCH: &str = r"
local e = redis.call('HGET', KEYS[1], 'e')
if not e or tonumber(e) <= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'e', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
";

const DELETE: &str = r"
local o = redis.call('HGET', KEYS[1], 'o')
redis.call('DEL', KEYS[1])
if o then redis.call('SREM', ARGV[1] .. string.sub(o, 2), ARGV[2]) end
return 1
";

/// Lists the live records of an owner, pruning members whose record Redis expired.
const LIST_OWNER: &str = r"
local out = {}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local cur = redis.call('HMGET', ARGV[2] .. m, 'v', 'c', 'e', 'o', 'p')
  if not cur[1] then
    redis.call('SREM', KEYS[1], m)
  elseif tonumber(cur[3]) > tonumber(ARGV[1]) then
    table.insert(out, m)
    for i = 1, 5 do table.insert(out, cur[i] or '') end
  end
end
return out
";

const REVOKE_OWNER: &str = r"
local n = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if m ~= ARGV[2] then
    n = n + redis.call('DEL', ARGV[1] .. m)
    redis.call('SREM', KEYS[1], m)
  end
end
return n
";

/// Sessions in Redis, over the `redis` crate's reconnecting connection manager.
///
/// - Each record is a hash expiring at its absolute `expires_at` (`PEXPIREAT`), so Redis
///   collects garbage itself and [`SessionStore::delete_expired`] has nothing to do; every
///   load still checks the expiry.
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

fn redis_error(error: &redis::RedisError) -> StoreError {
    if error.is_timeout() {
        StoreError::Timeout
    } else if error.is_io_error() || error.is_connection_dropped() || error.is_connection_refusal()
    {
        StoreError::Unavailable(error.to_string())
    } else {
        StoreError::Other(error.to_string())
    }
}

fn owner_arg(owner: Option<&String>) -> String {
    owner.map(|o| format!("={o}")).unwrap_or_default()
}

fn number(bytes: &[u8]) -> StoreResult<u64> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| StoreError::Corrupt("a record field is not a number".into()))
}

/// A record from the fields `v c e o p`.
fn decode(fields: &[Vec<u8>]) -> StoreResult<Record> {
    let [version, created, expires, owner, payload] = fields else {
        return Err(StoreError::Corrupt("a record has missing fields".into()));
    };
    let owner = match owner.split_first() {
        Some((b'=', name)) => Some(
            String::from_utf8(name.to_vec())
                .map_err(|_| StoreError::Corrupt("an owner is not UTF-8".into()))?,
        ),
        _ => None,
    };
    Ok(Record {
        version: number(version)?,
        created_at: number(created)?,
        expires_at: number(expires)?,
        owner,
        payload: payload.clone(),
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
            owner_prefix: format!("{DEFAULT_PREFIX}owner:").into(),
            scripts: std::sync::Arc::new(Scripts {
                create: Script::new(CREATE),
                swap: Script::new(SWAP),
                touch: Script::new(TOUCH),
                delete: Script::new(DELETE),
                list_owner: Script::new(LIST_OWNER),
                revoke_owner: Script::new(REVOKE_OWNER),
            }),
        })
    }

    /// Puts this store's keys under `prefix` (default `sessionkit:`), to share one Redis
    /// between apps or test runs.
    #[must_use]
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.into();
        self.owner_prefix = format!("{prefix}owner:").into();
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
            .arg(record.version)
            .arg(record.created_at)
            .arg(record.expires_at.min(MAX_EXPIRY_MS))
            .arg(owner_arg(record.owner.as_ref()))
            .arg(&record.payload[..])
            .arg(&*self.owner_prefix)
            .arg(check.to_hex())
            .arg(write.to_hex())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| redis_error(&e))?;
        match reply.first().map(Vec::as_slice) {
            Some(b"ok") => Ok(Updated::Ok),
            Some(b"gone") => Ok(Updated::Gone),
            Some(b"conflict") => Ok(Updated::Conflict(decode(&reply[1..])?)),
            _ => Err(StoreError::Other("unexpected script reply".into())),
        }
    }
}

impl SessionStore for RedisStore {
    async fn load(&self, key: &StoreKey, now_ms: u64) -> StoreResult<Option<Record>> {
        let fields: Vec<Option<Vec<u8>>> = redis::cmd("HMGET")
            .arg(self.key(key))
            .arg(&["v", "c", "e", "o", "p"])
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|e| redis_error(&e))?;
        if fields.first().is_none_or(Option::is_none) {
            return Ok(None);
        }
        let fields: Vec<Vec<u8>> = fields.into_iter().map(Option::unwrap_or_default).collect();
        let record = decode(&fields)?;
        Ok(Some(record).filter(|r| r.is_live(now_ms)))
    }

    async fn create(&self, key: &StoreKey, record: &Record, now_ms: u64) -> StoreResult<Created> {
        let created: i64 = self
            .scripts
            .create
            .key(self.key(key))
            .arg(now_ms)
            .arg(record.version)
            .arg(record.created_at)
            .arg(record.expires_at.min(MAX_EXPIRY_MS))
            .arg(owner_arg(record.owner.as_ref()))
            .arg(&record.payload[..])
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
            .key(format!("{}{owner}", self.owner_prefix))
            .arg(now_ms)
            .arg(&*self.prefix)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| redis_error(&e))?;
        flat.chunks(6)
            .map(|chunk| {
                let key = std::str::from_utf8(&chunk[0])
                    .ok()
                    .and_then(StoreKey::from_hex)
                    .ok_or_else(|| {
                        StoreError::Corrupt("an owner index member is not a key".into())
                    })?;
                Ok((key, decode(&chunk[1..])?))
            })
            .collect()
    }

    async fn revoke_owner(&self, owner: &str, except: Option<&StoreKey>) -> StoreResult<usize> {
        let removed: i64 = self
            .scripts
            .revoke_owner
            .key(format!("{}{owner}", self.owner_prefix))
            .arg(&*self.prefix)
            .arg(except.map(StoreKey::to_hex).unwrap_or_default())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| redis_error(&e))?;
        Ok(usize::try_from(removed).unwrap_or(0))
    }
}
