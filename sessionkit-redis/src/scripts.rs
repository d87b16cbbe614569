//! The record's text head and the Lua scripts that read it. Every script touches only the
//! record keys it is given in `KEYS` (one key, or an old and a new key in one hash slot), so
//! each runs on a Redis Cluster as on one server; the owner index is kept by the store beside
//! them (`RedisStore::index`).

use std::fmt::Write as _;

use redis::aio::ConnectionLike;
use redis::{Cmd, ErrorKind, FromRedisValue, Script, ToRedisArgs};

use session_core::store::{Record, StoreError, StoreResult};

use crate::store::redis_error;

/// The latest expiry Redis is given (the end of year 9999, in milliseconds).
pub(super) const MAX_EXPIRY_MS: u64 = 253_402_300_799_999;

/// A record is one string: `version:expires_at:created_at:owner hex[/horizon]:` then the
/// payload. The horizon (Unix ms) is how far the owner index has been told this record may
/// live: while the record's expiry stays within it, a write leaves the index alone.
const HEAD: &str = r"
local function head(s) return string.find(s, '^(%d+):(%d+):(%d+):(%x*)/?(%d*):') end
";

/// KEYS: the record. ARGV: now, value, expires.
const CREATE: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur then
  local _, _, v, e = head(cur)
  if v and tonumber(e) > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
return 1
";

/// KEYS: the record to check, the record to write (the same for an update; one slot for a
/// rotate). ARGV: now, expected version, the new head without its horizon, expires, owner hex,
/// the horizon the index was just given (or ''), payload.
///
/// With an owner and no fresh index entry, the write goes through only when the owner, the key
/// and an index horizon covering the new expiry are all unchanged; otherwise the answer is
/// `index`, and the store indexes first, then writes.
///
/// Answers: written, the previous owner's hex as a plain string (`''` for none: the store drops
/// that owner's index entry if it no longer applies); `0`, gone; `1`, index first; the table
/// `{'conflict', current record}`. The common answer is a string, not a table: building a
/// reply table costs Redis about 1.5 µs of its 8 µs per call (`INFO commandstats`).
const SWAP: &str = r"
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local _, _, v, e, c, o, h = head(cur)
if not v or tonumber(e) <= tonumber(ARGV[1]) then return 0 end
if v ~= ARGV[2] then return {'conflict', cur} end
local horizon = ARGV[6]
if ARGV[5] ~= '' and horizon == '' then
  if o ~= ARGV[5] or KEYS[1] ~= KEYS[2] or h == '' or tonumber(h) < tonumber(ARGV[4]) then
    return 1
  end
  horizon = h
end
if KEYS[1] ~= KEYS[2] then redis.call('DEL', KEYS[1]) end
local sep = ':'
if horizon ~= '' then sep = '/' .. horizon .. ':' end
redis.call('SET', KEYS[2], ARGV[3] .. sep .. ARGV[7], 'PXAT', ARGV[4])
return o
";

/// KEYS: the record. ARGV: now, new expiry, the horizon the index was just given (or '').
/// Answers `1`, moved; `0`, gone; or, as a string, the owner whose index must cover the new
/// expiry first.
const TOUCH: &str = r"
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local _, n, v, e, c, o, h = head(cur)
if not v or tonumber(e) <= tonumber(ARGV[1]) then return 0 end
local horizon = ARGV[3]
if o ~= '' and horizon == '' then
  if h == '' or tonumber(h) < tonumber(ARGV[2]) then return o end
  horizon = h
end
local sep = ':'
if horizon ~= '' then sep = '/' .. horizon .. ':' end
local moved = v .. ':' .. ARGV[2] .. ':' .. c .. ':' .. o .. sep .. string.sub(cur, n + 1)
redis.call('SET', KEYS[1], moved, 'PXAT', ARGV[2])
return 1
";

/// KEYS: the record. Deletes it; answers the owner hex it had ('' for none).
const DELETE: &str = r"
local cur = redis.call('GET', KEYS[1])
if not cur then return '' end
redis.call('DEL', KEYS[1])
local _, _, v, e, c, o = head(cur)
return o or ''
";

/// KEYS: the record. ARGV: owner hex. Deletes the record only if that owner still holds it (an
/// index entry left behind by a crash never deletes another owner's session).
const DELETE_IF_OWNER: &str = r"
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local _, _, v, e, c, o = head(cur)
if o ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
";

pub(super) struct Scripts {
    pub(super) create: Script,
    pub(super) swap: Script,
    pub(super) touch: Script,
    pub(super) delete: Script,
    pub(super) delete_if_owner: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        let with_head = |body: &str| Script::new(&format!("{HEAD}{body}"));
        Self {
            create: with_head(CREATE),
            swap: with_head(SWAP),
            touch: with_head(TOUCH),
            delete: with_head(DELETE),
            delete_if_owner: with_head(DELETE_IF_OWNER),
        }
    }
}

/// A call of a script: `EVALSHA`, the script's hash, its keys and then its arguments, written
/// straight into one command. (`redis::Script`'s invocation copies each key and argument into
/// a vector of its own, then all of them into the command: a dozen allocations a write.)
pub(super) struct Call<'s> {
    script: &'s Script,
    cmd: Cmd,
}

impl<'s> Call<'s> {
    /// A call of `script` on `keys`, with room for `args` arguments of `data` bytes in all.
    pub(super) fn new(script: &'s Script, keys: &[&str], args: usize, data: usize) -> Self {
        let bytes = keys.iter().map(|k| k.len()).sum::<usize>() + 64 + data;
        let mut cmd = Cmd::with_capacity(3 + keys.len() + args, bytes);
        cmd.arg("EVALSHA").arg(script.get_hash()).arg(keys.len());
        for key in keys {
            cmd.arg(*key);
        }
        Self { script, cmd }
    }

    /// Appends an argument.
    pub(super) fn arg(&mut self, arg: impl ToRedisArgs) -> &mut Self {
        self.cmd.arg(arg);
        self
    }

    /// Runs the call. A server that does not know the script (restarted, failed over, a new
    /// cluster node) is given it, and the call goes once more.
    pub(super) async fn run<T: FromRedisValue>(
        &self,
        connection: &mut (impl ConnectionLike + Send),
    ) -> StoreResult<T> {
        match self.cmd.query_async(connection).await {
            Err(e) if e.kind() == ErrorKind::NoScriptError => {
                self.script
                    .load_async(connection)
                    .await
                    .map_err(|e| redis_error(&e))?;
                self.cmd.query_async(connection).await
            }
            other => other,
        }
        .map_err(|e| redis_error(&e))
    }
}

/// The owner as the hex that names its index set (any owner text is a valid key part).
pub(super) fn owner_hex(owner: Option<&str>) -> String {
    // `hex::encode` builds its string a `char` at a time, which every write paid for.
    let Some(owner) = owner else {
        return String::new();
    };
    let mut buf = vec![0; owner.len() * 2];
    match hex::encode_to_slice(owner, &mut buf) {
        Ok(()) => String::from_utf8(buf).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The head without its horizon: `version:expires_at:created_at:owner hex`, given the owner's
/// hex ([`owner_hex`]).
pub(super) fn head(record: &Record, owner_hex: &str) -> String {
    // Three numbers of at most 20 digits, three colons and the owner's hex: one allocation.
    let mut head = String::with_capacity(63 + owner_hex.len());
    let _ = write!(
        head,
        "{}:{}:{}:",
        record.version,
        record.expires_at.min(MAX_EXPIRY_MS),
        record.created_at,
    );
    head.push_str(owner_hex);
    head
}

/// The whole value: the head, `/horizon` when the record has an index entry, the payload.
pub(super) fn encode(record: &Record, horizon: Option<u64>) -> Vec<u8> {
    let mut head = head(record, &owner_hex(record.owner.as_deref()));
    if let Some(horizon) = horizon {
        head = format!("{head}/{horizon}");
    }
    head.push(':');
    let mut out = Vec::with_capacity(head.len() + record.payload.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(&record.payload);
    out
}

pub(super) fn decode(value: &[u8]) -> StoreResult<Record> {
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
    let owner_field = field()?;
    let owner_hex = match owner_field.iter().position(|&b| b == b'/') {
        Some(slash) => {
            number(&owner_field[slash + 1..])?;
            &owner_field[..slash]
        }
        None => owner_field,
    };
    let payload = field()?.to_vec();
    let owner = if owner_hex.is_empty() {
        None
    } else {
        let bytes = hex::decode(owner_hex).map_err(|_| corrupt())?;
        Some(String::from_utf8(bytes).map_err(|_| corrupt())?)
    };
    Ok(Record {
        version,
        created_at,
        expires_at,
        owner,
        payload,
    })
}

/// How far an index entry written at `now` for a record expiring at `expires` reaches: twice
/// the remaining life, so an active session updates its index entry about once per half
/// lifetime instead of at every write.
pub(super) fn horizon(expires: u64, now: u64) -> u64 {
    let expires = expires.min(MAX_EXPIRY_MS);
    expires
        .saturating_add(expires.saturating_sub(now))
        .min(MAX_EXPIRY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_is_named_by_its_bytes_in_lower_case_hex() {
        assert_eq!(owner_hex(Some("Alice é")), "416c69636520c3a9");
        assert_eq!(owner_hex(Some("")), "");
        assert_eq!(owner_hex(None), "");
    }

    #[test]
    fn records_round_trip_with_and_without_a_horizon() {
        let record = Record {
            version: 3,
            created_at: 10,
            expires_at: 20,
            owner: Some("bob:x/y".into()),
            payload: b"\x03a:b/c".to_vec(),
        };
        for horizon in [None, Some(40)] {
            assert_eq!(decode(&encode(&record, horizon)).unwrap(), record);
        }
        assert!(decode(b"1:2:3:62/x:{}").is_err());
        assert_eq!(horizon(100, 40), 160);
    }
}
