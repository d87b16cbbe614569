//! [`SqlStore`]: SQLite and Postgres over sqlx, one table, integer times.

use sqlx::Row as _;

use super::{Created, Record, SessionStore, StoreError, StoreKey, StoreResult, Updated};

/// The table sessions live in.
const TABLE: &str = "sessionkit_sessions";

/// The connection pool of one of the supported databases.
#[derive(Debug, Clone)]
enum Pool {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// Sessions in one SQL table: SQLite (embedded, WAL) or Postgres, over sqlx.
///
/// - Times are integer Unix milliseconds from the app's clock, compared as integers: no
///   time-zone type and no database clock enters, so a server whose `TimeZone` is not UTC reads
///   sessions exactly as one that is (a bug of the peers, tested here against a real Postgres
///   with a non-UTC `TimeZone`).
/// - `create` inserts unless a live row has the key and reports the collision (it never
///   reports success for a row it did not write); `update` is a compare-and-swap on the
///   version; `rotate` deletes and inserts in one transaction; indexes on `expires_at` and
///   `owner` serve the sweep and the owner index.
/// - The schema is [`SqlStore::migration_sql`]; [`SqlStore::migrate`] applies it (idempotent),
///   or apply it with your own migrations.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: Pool,
}

fn db_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::PoolTimedOut => StoreError::Timeout,
        sqlx::Error::Io(e) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => StoreError::Unavailable(error.to_string()),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(error.to_string())
        }
        other => StoreError::Other(other.to_string()),
    }
}

/// Milliseconds as the signed 64-bit integer SQL stores.
fn ms(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn from_ms(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Runs the same statement on whichever pool this is: `$pool` binds to the pool, and the body
/// is written once for both databases.
macro_rules! on_pool {
    ($self:expr, |$pool:ident| $body:expr) => {
        match &$self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite($pool) => $body,
            #[cfg(feature = "postgres")]
            Pool::Postgres($pool) => $body,
        }
    };
}

macro_rules! record_from {
    ($row:expr) => {{
        let row = $row;
        Record {
            version: from_ms(row.try_get::<i64, _>("version").map_err(db_error)?),
            created_at: from_ms(row.try_get::<i64, _>("created_at").map_err(db_error)?),
            expires_at: from_ms(row.try_get::<i64, _>("expires_at").map_err(db_error)?),
            owner: row
                .try_get::<Option<String>, _>("owner")
                .map_err(db_error)?,
            payload: row.try_get::<Vec<u8>, _>("payload").map_err(db_error)?,
        }
    }};
}

const SELECT_LIVE: &str = "SELECT version, created_at, expires_at, owner, payload \
    FROM sessionkit_sessions WHERE key = $1 AND expires_at > $2";

impl SqlStore {
    /// Opens (creating it if missing) the SQLite database at `url` (`sqlite:///ABSOLUTE/FILE`
    /// or `sqlite://relative.db`) in WAL mode, and applies the schema.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the file cannot be opened.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub async fn sqlite(url: &str) -> StoreResult<Self> {
        use std::str::FromStr as _;
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("{url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(2))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("{url}: {e}")))?;
        let store = Self {
            pool: Pool::Sqlite(pool),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to Postgres at `url` (`postgres://user:password@host:port/database`); the
    /// schema is not touched: call [`SqlStore::migrate`] or apply [`SqlStore::migration_sql`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the server cannot be reached.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub async fn postgres(url: &str) -> StoreResult<Self> {
        // No ping before each use (sqlx's `test_before_acquire` costs a round trip per
        // statement): a connection that died is dropped when a statement fails on it (a load
        // is then tried once more), and none is kept idle past a minute or used past half an
        // hour, so a restarted server is not met with a pool of dead connections.
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(std::time::Duration::from_secs(2))
            .test_before_acquire(false)
            .idle_timeout(std::time::Duration::from_secs(60))
            .max_lifetime(std::time::Duration::from_secs(30 * 60))
            .connect(url)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self::from_postgres_pool(pool))
    }

    /// A store over a Postgres pool you configured yourself.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    #[must_use]
    pub fn from_postgres_pool(pool: sqlx::PgPool) -> Self {
        Self {
            pool: Pool::Postgres(pool),
        }
    }

    /// A store over a SQLite pool you configured yourself.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    #[must_use]
    pub fn from_sqlite_pool(pool: sqlx::SqlitePool) -> Self {
        Self {
            pool: Pool::Sqlite(pool),
        }
    }

    /// The schema for this store's database: the table and its two indexes.
    #[must_use]
    pub fn migration_sql(&self) -> String {
        let bytes = match self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => "BLOB",
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => "BYTEA",
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {TABLE} (\n    key {bytes} PRIMARY KEY,\n    \
             version BIGINT NOT NULL,\n    created_at BIGINT NOT NULL,\n    \
             expires_at BIGINT NOT NULL,\n    owner TEXT,\n    payload {bytes} NOT NULL\n);\n\
             CREATE INDEX IF NOT EXISTS {TABLE}_expires_at ON {TABLE} (expires_at);\n\
             CREATE INDEX IF NOT EXISTS {TABLE}_owner ON {TABLE} (owner);\n"
        )
    }

    /// Applies [`SqlStore::migration_sql`]; safe to run at every start.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the database refuses it.
    pub async fn migrate(&self) -> StoreResult<()> {
        for statement in self
            .migration_sql()
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            on_pool!(self, |pool| sqlx::query(statement)
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(db_error))?;
        }
        Ok(())
    }

    async fn live(&self, key: &StoreKey, now: u64) -> StoreResult<Option<Record>> {
        let key = &key.as_bytes()[..];
        on_pool!(self, |pool| {
            let row = sqlx::query(SELECT_LIVE)
                .bind(key)
                .bind(ms(now))
                .fetch_optional(pool)
                .await
                .map_err(db_error)?;
            match row {
                Some(row) => Ok(Some(record_from!(row))),
                None => Ok(None),
            }
        })
    }

    /// The outcome of a compare-and-swap that changed no row: the row is gone, or newer.
    async fn refused(&self, key: &StoreKey, now: u64) -> StoreResult<Updated> {
        Ok(match self.live(key, now).await? {
            None => Updated::Gone,
            Some(current) => Updated::Conflict(current),
        })
    }
}

const INSERT: &str = "INSERT INTO sessionkit_sessions \
    (key, version, created_at, expires_at, owner, payload) VALUES ($1, $2, $3, $4, $5, $6) \
    ON CONFLICT (key) DO UPDATE SET version = excluded.version, \
    created_at = excluded.created_at, expires_at = excluded.expires_at, \
    owner = excluded.owner, payload = excluded.payload \
    WHERE sessionkit_sessions.expires_at <= $7";

/// A login's owner index stays bounded: the owner's expired rows go when a session joins it.
const PRUNE_OWNER: &str = "DELETE FROM sessionkit_sessions WHERE owner = $1 AND expires_at <= $2";

const UPDATE: &str = "UPDATE sessionkit_sessions SET version = $1, created_at = $2, \
    expires_at = $3, owner = $4, payload = $5 \
    WHERE key = $6 AND version = $7 AND expires_at > $8";

impl SessionStore for SqlStore {
    async fn load(&self, key: &StoreKey, now_ms: u64) -> StoreResult<Option<Record>> {
        self.live(key, now_ms).await
    }

    async fn create(&self, key: &StoreKey, record: &Record, now_ms: u64) -> StoreResult<Created> {
        let key = &key.as_bytes()[..];
        let done = on_pool!(self, |pool| sqlx::query(INSERT)
            .bind(key)
            .bind(ms(record.version))
            .bind(ms(record.created_at))
            .bind(ms(record.expires_at))
            .bind(record.owner.as_deref())
            .bind(&record.payload[..])
            .bind(ms(now_ms))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(db_error))?;
        if let (1, Some(owner)) = (done, record.owner.as_deref()) {
            on_pool!(self, |pool| sqlx::query(PRUNE_OWNER)
                .bind(owner)
                .bind(ms(now_ms))
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(db_error))?;
        }
        // No row written: a live session has this key. Never report success for it.
        Ok(if done == 1 {
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
        let bytes = &key.as_bytes()[..];
        let done = on_pool!(self, |pool| sqlx::query(UPDATE)
            .bind(ms(record.version))
            .bind(ms(record.created_at))
            .bind(ms(record.expires_at))
            .bind(record.owner.as_deref())
            .bind(&record.payload[..])
            .bind(bytes)
            .bind(ms(expected))
            .bind(ms(now_ms))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(db_error))?;
        if done == 1 {
            return Ok(Updated::Ok);
        }
        self.refused(key, now_ms).await
    }

    async fn touch(&self, key: &StoreKey, expires_at: u64, now_ms: u64) -> StoreResult<bool> {
        let key = &key.as_bytes()[..];
        let done = on_pool!(self, |pool| sqlx::query(
            "UPDATE sessionkit_sessions SET expires_at = $1 WHERE key = $2 AND expires_at > $3"
        )
        .bind(ms(expires_at))
        .bind(key)
        .bind(ms(now_ms))
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        .map_err(db_error))?;
        Ok(done == 1)
    }

    async fn rotate(
        &self,
        old: &StoreKey,
        new: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> StoreResult<Updated> {
        let (old_bytes, new_bytes) = (&old.as_bytes()[..], &new.as_bytes()[..]);
        let rotated = on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(db_error)?;
            let deleted = sqlx::query(
                "DELETE FROM sessionkit_sessions WHERE key = $1 AND version = $2 AND expires_at > $3",
            )
            .bind(old_bytes)
            .bind(ms(expected))
            .bind(ms(now_ms))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
            if deleted == 1 {
                sqlx::query(INSERT)
                    .bind(new_bytes)
                    .bind(ms(record.version))
                    .bind(ms(record.created_at))
                    .bind(ms(record.expires_at))
                    .bind(record.owner.as_deref())
                    .bind(&record.payload[..])
                    .bind(ms(u64::MAX))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                if let Some(owner) = record.owner.as_deref() {
                    sqlx::query(PRUNE_OWNER)
                        .bind(owner)
                        .bind(ms(now_ms))
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)?;
                true
            } else {
                tx.rollback().await.map_err(db_error)?;
                false
            }
        });
        if rotated {
            Ok(Updated::Ok)
        } else {
            self.refused(old, now_ms).await
        }
    }

    async fn delete(&self, key: &StoreKey) -> StoreResult<()> {
        let key = &key.as_bytes()[..];
        on_pool!(self, |pool| sqlx::query(
            "DELETE FROM sessionkit_sessions WHERE key = $1"
        )
        .bind(key)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(db_error))?;
        Ok(())
    }

    async fn delete_expired(&self, now_ms: u64, limit: usize) -> StoreResult<usize> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let done = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM sessionkit_sessions WHERE key IN \
             (SELECT key FROM sessionkit_sessions WHERE expires_at <= $1 LIMIT $2)"
        )
        .bind(ms(now_ms))
        .bind(limit)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        .map_err(db_error))?;
        Ok(usize::try_from(done).unwrap_or(usize::MAX))
    }

    async fn list_owner(&self, owner: &str, now_ms: u64) -> StoreResult<Vec<(StoreKey, Record)>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT key, version, created_at, expires_at, owner, payload \
                 FROM sessionkit_sessions WHERE owner = $1 AND expires_at > $2",
            )
            .bind(owner)
            .bind(ms(now_ms))
            .fetch_all(pool)
            .await
            .map_err(db_error)?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let key: Vec<u8> = row.try_get("key").map_err(db_error)?;
                let key = StoreKey::from_bytes(&key)
                    .ok_or_else(|| StoreError::Corrupt("a key is not 32 bytes".into()))?;
                out.push((key, record_from!(row)));
            }
            Ok(out)
        })
    }

    async fn revoke_owner(&self, owner: &str, except: Option<&StoreKey>) -> StoreResult<usize> {
        let done = match except {
            Some(keep) => {
                let keep = &keep.as_bytes()[..];
                on_pool!(self, |pool| sqlx::query(
                    "DELETE FROM sessionkit_sessions WHERE owner = $1 AND key <> $2"
                )
                .bind(owner)
                .bind(keep)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(db_error))?
            }
            None => on_pool!(self, |pool| sqlx::query(
                "DELETE FROM sessionkit_sessions WHERE owner = $1"
            )
            .bind(owner)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(db_error))?,
        };
        Ok(usize::try_from(done).unwrap_or(usize::MAX))
    }
}
