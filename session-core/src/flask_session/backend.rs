//! Where Flask-Session keeps its records, spoken as Flask-Session 0.8 does: memcached (with
//! `memcached`), its `SQLAlchemy` table (with `sqlite` or `postgres`), and any backend another
//! crate supplies through [`FlaskSessionBackend`] (Redis: `sessionkit-redis`).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::StoreError;

/// memcached reads an expiry above 30 days as an absolute Unix time (pymemcache passes the
/// lifetime when it is at most this, `now + lifetime` otherwise).
#[cfg(feature = "memcached")]
const MEMCACHED_RELATIVE_MAX: u64 = 30 * 86_400;

/// A key-value backend that holds a Flask-Session app's records, for backends this crate does
/// not carry: `sessionkit-redis` implements it for Redis. Keys are the app's prefix and the
/// session id (`session:<sid>`); values are the record's bytes, as Flask-Session wrote them.
// `DynFlaskSessionBackend`: the object-safe form the store holds, each future boxed.
#[dynosaur::dynosaur(pub(crate) DynFlaskSessionBackend = dyn(box) FlaskSessionBackend)]
#[allow(unreachable_pub)] // the erased trait dynosaur generates beside it
pub trait FlaskSessionBackend: Send + Sync {
    /// The backend's name, for `Debug` and logs (`"redis"`).
    fn name(&self) -> &'static str;

    /// The value under `key`; `None` when there is none or it has expired.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// Stores `value` under `key`, expiring `lifetime` from now (at least a second).
    fn set(
        &self,
        key: &str,
        value: &[u8],
        lifetime: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the value under `key`; deleting an absent key is not an error.
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

#[derive(Clone)]
pub(super) enum Backend {
    /// A backend from another crate.
    Other(Arc<DynFlaskSessionBackend<'static>>),
    #[cfg(feature = "memcached")]
    Memcached(std::sync::Arc<crate::store::memcached::Client>),
    /// Flask-Session's `SQLAlchemy` table (quoted name) on SQLite or Postgres.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    Sql(crate::store::sql::Db, String),
}

impl Backend {
    /// Refuses a key prefix this backend cannot carry.
    #[cfg_attr(
        not(feature = "memcached"),
        allow(clippy::unused_self, clippy::unnecessary_wraps)
    )]
    pub(super) fn check_prefix(&self, prefix: &str) -> Result<(), StoreError> {
        #[cfg(not(feature = "memcached"))]
        let _ = prefix;
        match self {
            #[cfg(feature = "memcached")]
            Self::Memcached(_) => memcached::check_prefix(prefix),
            _ => Ok(()),
        }
    }

    pub(super) fn name(&self) -> &'static str {
        match self {
            Self::Other(backend) => backend.name(),
            #[cfg(feature = "memcached")]
            Self::Memcached(_) => "memcached",
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            Self::Sql(db, _) if db.is_postgres() => "sqlalchemy (Postgres)",
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            Self::Sql(..) => "sqlalchemy (SQLite)",
        }
    }

    /// The stored value under `key`; `None` when there is none. The SQL table, which no
    /// server expires, is checked (and an expired row deleted) as Flask-Session does.
    pub(super) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Self::Other(backend) => backend.get(key).await,
            #[cfg(feature = "memcached")]
            Self::Memcached(addr) => memcached::get(addr, key).await,
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            Self::Sql(db, table) => sql::get(db, table, key).await,
        }
    }

    /// Stores `value` under `key`, expiring `lifetime` from now.
    pub(super) async fn set(
        &self,
        key: &str,
        value: &[u8],
        lifetime: Duration,
    ) -> Result<(), StoreError> {
        let seconds = lifetime.as_secs().max(1);
        match self {
            Self::Other(backend) => backend.set(key, value, Duration::from_secs(seconds)).await,
            #[cfg(feature = "memcached")]
            Self::Memcached(addr) => {
                let exptime = if seconds <= MEMCACHED_RELATIVE_MAX {
                    seconds
                } else {
                    unix_now().saturating_add(seconds)
                };
                memcached::set(addr, key, value, exptime).await
            }
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            Self::Sql(db, table) => sql::set(db, table, key, value, &expiry_text(lifetime)).await,
        }
    }

    pub(super) async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self {
            Self::Other(backend) => backend.delete(key).await,
            #[cfg(feature = "memcached")]
            Self::Memcached(addr) => memcached::delete(addr, key).await,
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            Self::Sql(db, table) => sql::delete(db, table, key).await,
        }
    }
}

#[cfg_attr(not(feature = "memcached"), allow(dead_code))]
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `utcnow() + lifetime` as `SQLAlchemy` writes a naive UTC `DateTime` on SQLite:
/// `YYYY-MM-DD HH:MM:SS.ffffff`, no zone (a zone makes Flask-Session fail).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
fn expiry_text(lifetime: Duration) -> String {
    let at = SystemTime::now() + lifetime;
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    let text = crate::httpdate::rfc3339(secs);
    format!(
        "{} {}.{:06}",
        &text[..10],
        &text[11..19],
        since.subsec_micros()
    )
}

/// Reads `YYYY-MM-DD HH:MM:SS[.ffffff]` (or with `T`) as Unix seconds; `None` for anything
/// else, which Flask-Session cannot compare either.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
fn parse_expiry(text: &str) -> Option<i64> {
    let base = text.get(..19)?.replace(' ', "T");
    let rest = &text[19..];
    let fraction_ok = rest.is_empty()
        || rest
            .strip_prefix('.')
            .is_some_and(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    fraction_ok
        .then(|| crate::httpdate::parse_rfc3339(&format!("{base}Z")))
        .flatten()
}

/// Flask-Session's memcached records through sessionkit's one memcached client: its keys and
/// values as pymemcache writes them (flags 0), placed over several nodes as pylibmc's ketama
/// places them.
#[cfg(feature = "memcached")]
mod memcached {
    use crate::error::StoreError;
    use crate::store::memcached::{Client, Set};

    /// A prefix every key of which memcached could not carry.
    pub(super) fn check_prefix(prefix: &str) -> Result<(), StoreError> {
        if prefix.len() < 250 && prefix.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(())
        } else {
            Err(StoreError::Other(format!(
                "memcached cannot carry the session key prefix {prefix:?}: use printable ASCII \
                 without spaces"
            )))
        }
    }

    pub(super) async fn get(client: &Client, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(client.get(key).await?.map(|(value, _)| value))
    }

    pub(super) async fn set(
        client: &Client,
        key: &str,
        value: &[u8],
        exptime: u64,
    ) -> Result<(), StoreError> {
        client.set(key, value, exptime, Set::Always).await?;
        Ok(())
    }

    pub(super) async fn delete(client: &Client, key: &str) -> Result<(), StoreError> {
        client.delete(key, None).await?;
        Ok(())
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql {
    //! Flask-Session's `SQLAlchemy` table: `session_id` (the prefixed key), `data`, `expiry`
    //! (naive UTC). A row whose expiry is missing or past is deleted on read, as Flask-Session
    //! deletes it. Statements go through the session store's one SQL path (`Db`), written once
    //! for both databases but for the expiry's type on Postgres.

    use super::parse_expiry;
    use crate::error::StoreError;
    use crate::store::sql::{Arg, Db};

    fn live(expiry: Option<&str>) -> bool {
        let now = i64::try_from(super::unix_now()).unwrap_or(i64::MAX);
        expiry.and_then(parse_expiry).is_some_and(|at| at > now)
    }

    /// The placeholder of the expiry: a `timestamp` on Postgres, text on SQLite (as
    /// `SQLAlchemy` stores it there).
    fn expiry_param(db: &Db, n: u8) -> String {
        if db.is_postgres() {
            format!("${n}::timestamp")
        } else {
            format!("${n}")
        }
    }

    pub(super) async fn get(
        db: &Db,
        table: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = format!(
            "SELECT data, CAST(expiry AS TEXT) AS expiry FROM {table} WHERE session_id = $1"
        );
        let Some((data, expiry)) = db.bytes_and_text(&sql, &[Arg::Text(Some(key))]).await? else {
            return Ok(None);
        };
        if !live(expiry.as_deref()) {
            delete(db, table, key).await?;
            return Ok(None);
        }
        Ok(data)
    }

    pub(super) async fn set(
        db: &Db,
        table: &str,
        key: &str,
        value: &[u8],
        expiry: &str,
    ) -> Result<(), StoreError> {
        let at = expiry_param(db, 2);
        let update = format!("UPDATE {table} SET data = $1, expiry = {at} WHERE session_id = $3");
        let args = [
            Arg::Bytes(value),
            Arg::Text(Some(expiry)),
            Arg::Text(Some(key)),
        ];
        if db.execute(&update, &args).await? == 0 {
            let at = expiry_param(db, 3);
            let insert =
                format!("INSERT INTO {table} (session_id, data, expiry) VALUES ($1, $2, {at})");
            let args = [
                Arg::Text(Some(key)),
                Arg::Bytes(value),
                Arg::Text(Some(expiry)),
            ];
            db.execute(&insert, &args).await?;
        }
        Ok(())
    }

    pub(super) async fn delete(db: &Db, table: &str, key: &str) -> Result<(), StoreError> {
        let sql = format!("DELETE FROM {table} WHERE session_id = $1");
        db.execute(&sql, &[Arg::Text(Some(key))]).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_text_is_naive_utc_with_microseconds_and_reads_back() {
        let text = expiry_text(Duration::from_secs(3600));
        assert_eq!(text.len(), 26, "{text}");
        assert_eq!((&text[10..11], &text[19..20]), (" ", "."));
        let at = parse_expiry(&text).unwrap();
        let now = i64::try_from(unix_now()).unwrap();
        assert!((at - now - 3600).abs() <= 2);
        assert_eq!(parse_expiry("2030-01-01 00:00:00"), Some(1_893_456_000));
        assert_eq!(parse_expiry("2030-01-01T00:00:00.5"), Some(1_893_456_000));
        assert_eq!(parse_expiry("2030-01-01 00:00:00Z"), None);
        assert_eq!(parse_expiry("2030-01-01 00:00:00+00:00"), None);
        assert_eq!(parse_expiry("1893456000"), None);
    }
}
