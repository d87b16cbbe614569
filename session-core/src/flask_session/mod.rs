//! Flask-Session 0.8's server-side sessions, read and written in place: a Rust service can take
//! over (or run beside) a Flask-Session app on the same Redis without logging anyone out, and
//! move each session to sessionkit's own records as it is used.
//!
//! What Flask-Session keeps (the interop spec in the repository has the sources):
//!
//! - the cookie holds the raw session id, 43 characters of `token_urlsafe(32)`, unsigned (or,
//!   with the deprecated `SESSION_USE_SIGNER`, `sid.signature` with itsdangerous' HMAC-SHA1);
//! - the record is under `session:<sid>`, the session dict encoded by msgspec as msgpack (or
//!   JSON), keys in insertion order, `"_permanent": true` first for a permanent session;
//! - Redis expires it `PERMANENT_SESSION_LIFETIME` after the last write, permanent or not.
//!
//! [`FlaskSessionStore`] (on Redis, memcached or the `SQLAlchemy` table) reads a record into a
//! typed struct, keeping the keys the struct does not name (Flask-Login's `_user_id`, say), and writes it back byte-compatible with msgspec.
//! It is safe where Flask-Session is not: a pickle record (Flask-Session's fallback, which runs
//! whatever code the store holds) is refused and never unpickled, and a corrupt or foreign
//! record is a fresh session with a reason, not an error page. The cachelib and filesystem
//! backends, which are pickle only, are not read at all.
//!
//! [`FlaskSessionStore::migrate`] moves a session to sessionkit's own store (hashed keys,
//! versioned records, signed ids) and deletes the Flask-Session record, so a migration ends
//! with no session lost and with Flask-Session's weaknesses (unsigned ids, 31-day life of
//! non-permanent sessions) gone.

mod backend;
pub mod record;

use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rmpv::{Utf8String, Value};

use backend::{Backend, DynFlaskSessionBackend};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{config::SessionConfig, error::SaveError, error::StoreError, schema::SessionSchema};
pub use backend::FlaskSessionBackend;
pub use record::{Entries, RecordError};

/// The key Flask keeps `session.permanent` in.
const PERMANENT: &str = "_permanent";

/// A Flask-Session session read into `T`, with everything else the record holds.
#[derive(Debug, Clone)]
pub struct FlaskSessionRecord<T> {
    /// The session id (what the cookie carries, unsigned).
    pub sid: String,
    /// The keys `T` names.
    pub data: T,
    /// Flask's `session.permanent` (the `_permanent` key; absent means `false`).
    pub permanent: bool,
    /// The whole stored dict in its order, kept so that writing back loses no key `T` does not
    /// name.
    entries: Entries,
}

impl<T: SessionSchema> FlaskSessionRecord<T> {
    /// The dict to store: the record's entries with the keys `T` names replaced in place (a
    /// `null` removes the key, as an absent key reads back as `None`), new keys at the end,
    /// and `_permanent` as chosen.
    ///
    /// # Errors
    ///
    /// [`SaveError::Serialize`] when `T` fails to serialize to a map.
    pub fn entries(&self) -> Result<Entries, SaveError> {
        let json = serde_json::to_value(&self.data).map_err(SaveError::Serialize)?;
        let serde_json::Value::Object(fields) = json else {
            return Err(SaveError::Serialize(serde::ser::Error::custom(
                "a Flask-Session session must serialize to a map",
            )));
        };
        let mut entries = self.entries.clone();
        for key in crate::schema::owned_keys::<T>(&fields) {
            let key = key.as_str();
            let value = fields.get(key).unwrap_or(&serde_json::Value::Null);
            let at = entries.iter().position(|(k, _)| k.as_str() == Some(key));
            match (at, value.is_null()) {
                (Some(at), true) => {
                    entries.remove(at);
                }
                (Some(at), false) => entries[at].1 = merge(&entries[at].1, value),
                (None, true) => {}
                (None, false) => entries.push((string(key), record::from_json(value))),
            }
        }
        let at = entries
            .iter()
            .position(|(k, _)| k.as_str() == Some(PERMANENT));
        match (at, self.permanent) {
            (Some(at), permanent) => entries[at].1 = Value::Boolean(permanent),
            (None, true) => entries.insert(0, (string(PERMANENT), Value::Boolean(true))),
            (None, false) => {}
        }
        Ok(entries)
    }
}

/// `new` as msgpack, keeping what `old` has that JSON cannot say (binary, timestamps) where the
/// struct read it back unchanged, and keeping the order of `old`'s maps at every depth: a key
/// stays where it was, a new one goes at the end (as a Python dict inserts it), so a record
/// sessionkit changed reads back in the order msgspec would write it.
fn merge(old: &Value, new: &serde_json::Value) -> Value {
    if record::to_json(old) == *new {
        return old.clone();
    }
    match (old, new) {
        (Value::Map(entries), serde_json::Value::Object(fields)) => {
            let mut out: Entries = entries
                .iter()
                .filter_map(|(key, value)| {
                    let field = fields.get(key.as_str()?)?;
                    Some((key.clone(), merge(value, field)))
                })
                .collect();
            for (key, field) in fields {
                if !entries.iter().any(|(k, _)| k.as_str() == Some(key)) {
                    out.push((string(key), record::from_json(field)));
                }
            }
            Value::Map(out)
        }
        (Value::Array(items), serde_json::Value::Array(fields)) => Value::Array(
            fields
                .iter()
                .enumerate()
                .map(|(i, field)| match items.get(i) {
                    Some(item) => merge(item, field),
                    None => record::from_json(field),
                })
                .collect(),
        ),
        _ => record::from_json(new),
    }
}

fn string(text: &str) -> Value {
    Value::String(Utf8String::from(text))
}

/// What [`FlaskSessionStore::load`] found: a session, or why there is none.
#[derive(Debug)]
pub struct FlaskSessionLoad<T> {
    /// The session, when the cookie named a live, readable record.
    pub record: Option<FlaskSessionRecord<T>>,
    /// Why a record the cookie named was not used (for logs); `None` when there was no cookie
    /// or no record.
    pub rejected: Option<String>,
}

/// Flask-Session's records where the app keeps them (Redis with the `sessionkit-redis` crate;
/// memcached with the `memcached` feature; its `SQLAlchemy` table with `sqlite` or
/// `postgres`), read and written as Flask-Session 0.8 does.
#[derive(Clone)]
pub struct FlaskSessionStore {
    backend: Backend,
    prefix: String,
    lifetime: Duration,
    signer: Option<Vec<u8>>,
}

impl std::fmt::Debug for FlaskSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlaskSessionStore")
            .field("backend", &self.backend.name())
            .field("prefix", &self.prefix)
            .field("lifetime", &self.lifetime)
            .field("signed", &self.signer.is_some())
            .finish_non_exhaustive()
    }
}

impl FlaskSessionStore {
    fn with_backend(backend: Backend) -> Self {
        Self {
            backend,
            prefix: "session:".into(),
            lifetime: Duration::from_secs(31 * 86_400),
            signer: None,
        }
    }

    /// The memcached at `addr` (`127.0.0.1:11211`) that the app's `SESSION_TYPE = "memcached"`
    /// uses. Records are written with flags 0, and an expiry over 30 days as an absolute time,
    /// as pymemcache writes them.
    #[cfg(feature = "memcached")]
    #[cfg_attr(docsrs, doc(cfg(feature = "memcached")))]
    #[must_use]
    pub fn memcached(addr: &str) -> Self {
        Self::with_backend(Backend::Memcached(std::sync::Arc::new(
            crate::store::memcached::Client::new(&[addr]),
        )))
    }

    /// The app's `SESSION_TYPE = "sqlalchemy"` table on SQLite (`SESSION_SQLALCHEMY_TABLE`,
    /// default `sessions`). Expired rows are deleted when read, as Flask-Session does.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    #[must_use]
    pub fn sqlite(pool: sqlx::SqlitePool, table: &str) -> Self {
        Self::with_backend(Backend::Sql(
            crate::store::sql::Db::new(crate::store::sql::Pool::Sqlite(pool), false),
            quoted(table),
        ))
    }

    /// The app's `SESSION_TYPE = "sqlalchemy"` table on Postgres.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    #[must_use]
    pub fn postgres(pool: sqlx::PgPool, table: &str) -> Self {
        Self::with_backend(Backend::Sql(
            crate::store::sql::Db::new(
                crate::store::sql::Pool::Postgres(crate::store::sql::Postgres::Pool(pool)),
                false,
            ),
            quoted(table),
        ))
    }

    /// The records in `backend`, a store another crate supplies (Redis:
    /// `sessionkit_redis::flask_session`), with Flask-Session's defaults: prefix `session:`,
    /// lifetime 31 days (`PERMANENT_SESSION_LIFETIME`), unsigned ids.
    #[must_use]
    pub fn new(backend: impl FlaskSessionBackend + 'static) -> Self {
        Self::with_backend(Backend::Other(std::sync::Arc::from(
            DynFlaskSessionBackend::new_box(backend),
        )))
    }

    /// The app's `SESSION_KEY_PREFIX`.
    ///
    /// # Errors
    ///
    /// On memcached, a prefix its text protocol cannot carry (a space, a control character,
    /// anything but printable ASCII): with a space it would read another key as the session,
    /// with CRLF it would send commands. pymemcache refuses the same keys.
    pub fn with_prefix(mut self, prefix: &str) -> Result<Self, StoreError> {
        self.backend.check_prefix(prefix)?;
        prefix.clone_into(&mut self.prefix);
        Ok(self)
    }

    /// The app's `PERMANENT_SESSION_LIFETIME`: every write sets this expiry, as Flask-Session's.
    #[must_use]
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// For an app with the deprecated `SESSION_USE_SIGNER = True`: cookies are
    /// `sid.signature`, checked with the app's `SECRET_KEY`; unsigned ones are refused.
    #[must_use]
    pub fn with_signer(mut self, secret_key: &[u8]) -> Self {
        self.signer = Some(secret_key.to_vec());
        self
    }

    /// The session id a cookie value carries, or `None` for a value Flask-Session never issued
    /// (or a bad signature).
    #[must_use]
    pub fn sid_of(&self, cookie_value: &str) -> Option<String> {
        let sid = match &self.signer {
            Some(secret) => {
                let (sid, signature) = cookie_value.rsplit_once('.')?;
                let given = URL_SAFE_NO_PAD.decode(signature).ok()?;
                signer_mac(secret, sid).verify_slice(&given).ok()?;
                sid
            }
            None => cookie_value,
        };
        let token = sid.len() >= 22
            && sid.len() <= 128
            && sid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        token.then(|| sid.to_owned())
    }

    /// The cookie value for `sid` (signed when the app signs).
    #[must_use]
    pub fn cookie_value(&self, sid: &str) -> String {
        match &self.signer {
            Some(secret) => {
                let signature = signer_mac(secret, sid).finalize().into_bytes();
                format!("{sid}.{}", URL_SAFE_NO_PAD.encode(signature))
            }
            None => sid.to_owned(),
        }
    }

    /// Reads the session the cookie value names. A missing record is no session; a pickle, a
    /// corrupt or a foreign record is no session with the reason.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot answer.
    pub async fn load<T: SessionSchema + DeserializeOwned>(
        &self,
        cookie_value: &str,
    ) -> Result<FlaskSessionLoad<T>, StoreError> {
        let Some(sid) = self.sid_of(cookie_value) else {
            let rejected = (!cookie_value.is_empty())
                .then(|| "not a Flask-Session id (or a bad signature)".to_owned());
            return Ok(FlaskSessionLoad {
                record: None,
                rejected,
            });
        };
        let bytes = self.backend.get(&self.key(&sid)).await?;
        let read = match bytes.as_deref().map(record::decode) {
            None | Some(Ok(None)) => Ok(None),
            Some(Ok(Some(entries))) => read_record::<T>(sid, entries).map(Some),
            Some(Err(error)) => Err(error.to_string()),
        };
        Ok(match read {
            Ok(record) => FlaskSessionLoad {
                record,
                rejected: None,
            },
            Err(reason) => FlaskSessionLoad {
                record: None,
                rejected: Some(reason),
            },
        })
    }

    /// Writes the session back, as Flask-Session does on every request that changes (or, with
    /// `SESSION_REFRESH_EACH_REQUEST`, reads) it: the whole dict, with a fresh expiry. An empty
    /// session is deleted instead.
    ///
    /// # Errors
    ///
    /// [`SaveError::Store`] when the store fails, [`SaveError::Serialize`] when `T` does.
    pub async fn save<T: SessionSchema>(
        &self,
        record: &FlaskSessionRecord<T>,
    ) -> Result<(), SaveError> {
        let entries = record.entries()?;
        let key = self.key(&record.sid);
        let only_permanent = entries.iter().all(|(k, _)| k.as_str() == Some(PERMANENT));
        let result = if only_permanent {
            self.backend.delete(&key).await
        } else {
            self.backend
                .set(&key, &record::encode(&entries), self.lifetime)
                .await
        };
        result.map_err(SaveError::Store)
    }

    /// Starts a new Flask-Session session holding `data` (a fresh 43-character id, as
    /// `secrets.token_urlsafe(32)`), and stores it. Send [`cookie_value`](Self::cookie_value)
    /// of its `sid` as the cookie.
    ///
    /// # Errors
    ///
    /// [`SaveError::Random`] when the operating system gives no random bytes for the id, and
    /// as [`FlaskSessionStore::save`].
    pub async fn create<T: SessionSchema>(
        &self,
        data: T,
        permanent: bool,
    ) -> Result<FlaskSessionRecord<T>, SaveError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| SaveError::Random)?;
        let record = FlaskSessionRecord {
            sid: URL_SAFE_NO_PAD.encode(bytes),
            data,
            permanent,
            entries: Vec::new(),
        };
        self.save(&record).await?;
        Ok(record)
    }

    /// Moves the session the cookie names to sessionkit's own store (through `config`, which
    /// must have one) and deletes the Flask-Session record: returns the sessionkit cookie
    /// (`name=value`) to send, or `None` when there was no session to move. Keys `T` does not
    /// name are not moved: give `T` the fields the app still needs first.
    ///
    /// # Errors
    ///
    /// [`SaveError::Store`] when either store fails (the Flask-Session record is deleted only
    /// after the new one is written).
    pub async fn migrate<T>(
        &self,
        cookie_value: &str,
        config: &SessionConfig<T>,
        now: SystemTime,
    ) -> Result<Option<String>, SaveError>
    where
        T: SessionSchema + DeserializeOwned + Serialize,
    {
        let loaded = self
            .load::<T>(cookie_value)
            .await
            .map_err(SaveError::Store)?;
        let Some(record) = loaded.record else {
            return Ok(None);
        };
        let mut session = crate::session::TrackedSession::new(record.data);
        session.set_permanent(record.permanent);
        let command = config.save_async(&session, now).await?;
        let cookie = crate::engine::outcome::request_pair(&command);
        self.backend
            .delete(&self.key(&record.sid))
            .await
            .map_err(SaveError::Store)?;
        Ok(Some(cookie))
    }

    fn key(&self, sid: &str) -> String {
        format!("{}{sid}", self.prefix)
    }
}

/// A table name as an SQL identifier.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn quoted(table: &str) -> String {
    format!("\"{}\"", table.replace('"', "\"\""))
}

/// The entries of a stored dict as `T`, keeping them all.
fn read_record<T: SessionSchema + DeserializeOwned>(
    sid: String,
    entries: Entries,
) -> Result<FlaskSessionRecord<T>, String> {
    let permanent = entries
        .iter()
        .any(|(k, v)| k.as_str() == Some(PERMANENT) && *v == Value::Boolean(true));
    let json = record::to_json(&Value::Map(entries.clone()));
    let data: T = crate::schema::decode_payload(&serde_json::to_vec(&json).unwrap_or_default())
        .map_err(|reason| reason.to_string())?;
    Ok(FlaskSessionRecord {
        sid,
        data,
        permanent,
        entries,
    })
}

/// itsdangerous' signer with Flask-Session's salt, over `sid`.
fn signer_mac(secret: &[u8], sid: &str) -> Hmac<sha1::Sha1> {
    let mut mac = crate::flask::itsdangerous_signer(secret, b"flask-session");
    mac.update(sid.as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_nested_dict_keeps_its_key_order() {
        let old = record::decode(br#"{"prefs":{"zebra":1,"apple":2,"mango":{"z":1,"a":2}}}"#)
            .unwrap()
            .unwrap()
            .remove(0)
            .1;
        let new = serde_json::json!({"apple": 3, "mango": {"a": 2, "z": 5}, "zebra": 1, "kiwi": 4});
        let merged = merge(&old, &new);
        let mut out = String::new();
        let entries = vec![(string("prefs"), merged)];
        out.push_str(std::str::from_utf8(&record::encode_json(&entries)).unwrap());
        assert_eq!(
            out,
            r#"{"prefs":{"zebra":1,"apple":3,"mango":{"z":5,"a":2},"kiwi":4}}"#
        );
    }
}
