//! [`SqlStore`]: SQLite and Postgres over sqlx, one table, integer times.

#[cfg(feature = "postgres")]
mod postgres;
mod statement;

#[cfg(feature = "postgres")]
pub(crate) use self::postgres::Postgres;
pub(crate) use self::statement::{Arg, Db, Pool};
use super::{
    Created, Record, ScanCursor, ScanPage, SessionStore, StoreError, StoreKey, StoreResult, Updated,
};

/// The table sessions live in.
const TABLE: &str = "sessionkit_sessions";

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
///
/// Behind PgBouncer in transaction mode (the usual way to share Postgres among many app
/// instances), connect with [`SqlStore::postgres_behind_pooler`] (or the URL option
/// `?pooler=transaction` of [`connect`](crate::store::connect)): each statement is then one
/// simple query, still one round trip, since a prepared statement cannot outlive the
/// transaction the pooler lends a server connection for.
#[derive(Debug, Clone)]
pub struct SqlStore {
    db: Db,
}

/// Whether `error` says the connection is gone: a failure on the wire, or the server ending
/// the connection (SQLSTATE class `08`, or `57P01`–`57P05`: an administrator's command, a
/// restart, a crash, a dropped database, an idle timeout).
pub(crate) fn connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

fn db_error(error: sqlx::Error) -> StoreError {
    if connection_lost(&error) {
        return StoreError::Unavailable(error.to_string());
    }
    match error {
        sqlx::Error::PoolTimedOut => StoreError::Timeout,
        sqlx::Error::PoolClosed => StoreError::Unavailable(error.to_string()),
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
            db: Db::new(Pool::Sqlite(pool), false),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to Postgres at `url` (`postgres://user:password@host:port/database`); the
    /// schema is not touched: call [`SqlStore::migrate`] or apply [`SqlStore::migration_sql`].
    ///
    /// The store keeps connections of its own (at most 16; a statement waits at most 2 s for
    /// one), each statement one round trip of work for the server. sqlx's pool, which
    /// [`SqlStore::from_postgres_pool`] takes, tests every connection it gets back with a round
    /// trip of its own. A connection whose statement a timeout cut off is closed, never lent
    /// again; one the server ends (a restart, a failover, `pg_terminate_backend`) takes the
    /// idle ones with it, so the load that met it is tried again on a new connection; one idle
    /// for more than 10 seconds is tested before use, and none stays idle past a minute or
    /// open past half an hour.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the server cannot be reached.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub async fn postgres(url: &str) -> StoreResult<Self> {
        Ok(Self {
            db: Db::new(
                Pool::Postgres(Self::postgres_connections(url).await?),
                false,
            ),
        })
    }

    /// Connects to Postgres through a pooler in transaction mode (PgBouncer's
    /// `pool_mode = transaction`) at `url`. Nothing needs changing on the pooler:
    ///
    /// - no prepared statement is used (the pooler may give each transaction another server
    ///   connection, where a statement prepared on the previous one does not exist): each
    ///   statement is one simple query, its values written in as hex and decimal literals, so
    ///   a statement is still one round trip;
    /// - no startup parameter the pooler refuses is sent (`extra_float_digits`);
    /// - a rotate is one statement, never a transaction spread over round trips.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the pooler cannot be reached.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub async fn postgres_behind_pooler(url: &str) -> StoreResult<Self> {
        Ok(Self {
            db: Db::new(Pool::Postgres(Self::postgres_connections(url).await?), true),
        })
    }

    /// sessionkit's own connections to the server at `url` (see [`Postgres`]): at most 16, a
    /// statement one round trip, no test after each use.
    #[cfg(feature = "postgres")]
    async fn postgres_connections(url: &str) -> StoreResult<Postgres> {
        use std::str::FromStr as _;
        let options = sqlx::postgres::PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?
            // Integers only are stored: no float setting needed, and PgBouncer refuses this one.
            .extra_float_digits(None);
        let connections = postgres::Connections::connect(options)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Postgres::Own(connections))
    }

    /// A store over a Postgres pool you configured yourself. sqlx's pool tests each connection
    /// it gets back (a round trip after every statement, off the request's path):
    /// [`SqlStore::postgres`] does without.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    #[must_use]
    pub fn from_postgres_pool(pool: sqlx::PgPool) -> Self {
        Self {
            db: Db::new(Pool::Postgres(Postgres::Pool(pool)), false),
        }
    }

    /// A store over a SQLite pool you configured yourself.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    #[must_use]
    pub fn from_sqlite_pool(pool: sqlx::SqlitePool) -> Self {
        Self {
            db: Db::new(Pool::Sqlite(pool), false),
        }
    }

    /// The schema for this store's database: the table and its two indexes.
    #[must_use]
    pub fn migration_sql(&self) -> String {
        let bytes = match self.db.pool {
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
            self.db.execute(statement, &[]).await?;
        }
        Ok(())
    }

    async fn live(&self, key: &StoreKey, now: u64) -> StoreResult<Option<Record>> {
        self.db
            .record(
                SELECT_LIVE,
                &[Arg::Bytes(key.as_bytes()), Arg::Int(ms(now))],
            )
            .await
    }

    /// The outcome of a compare-and-swap that changed no row: the row is gone, or newer.
    async fn refused(&self, key: &StoreKey, now: u64) -> StoreResult<Updated> {
        Ok(match self.live(key, now).await? {
            None => Updated::Gone,
            Some(current) => Updated::Conflict(current),
        })
    }

    /// The parameters of [`INSERT`] and [`ROTATE`] after the key: the record's columns.
    fn columns(record: &Record) -> [Arg<'_>; 5] {
        [
            Arg::Int(ms(record.version)),
            Arg::Int(ms(record.created_at)),
            Arg::Int(ms(record.expires_at)),
            Arg::Text(record.owner.as_deref()),
            Arg::Bytes(&record.payload),
        ]
    }

    /// A login's owner index stays bounded: the owner's expired rows go when a session joins.
    async fn prune_owner(&self, owner: Option<&str>, now: u64) -> StoreResult<()> {
        if let Some(owner) = owner {
            self.db
                .execute(PRUNE_OWNER, &[Arg::Text(Some(owner)), Arg::Int(ms(now))])
                .await?;
        }
        Ok(())
    }

    /// SQLite's rotate: a transaction (it has no data-changing `WITH`).
    #[cfg(feature = "sqlite")]
    async fn rotate_in_transaction(
        pool: &sqlx::SqlitePool,
        old: &StoreKey,
        new: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> StoreResult<bool> {
        let mut tx = pool.begin().await.map_err(db_error)?;
        let deleted = sqlx::query(DELETE_VERSION)
            .bind(&old.as_bytes()[..])
            .bind(ms(expected))
            .bind(ms(now_ms))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        if deleted != 1 {
            tx.rollback().await.map_err(db_error)?;
            return Ok(false);
        }
        sqlx::query(INSERT)
            .bind(&new.as_bytes()[..])
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
        Ok(true)
    }
}

const INSERT: &str = "INSERT INTO sessionkit_sessions \
    (key, version, created_at, expires_at, owner, payload) VALUES ($1, $2, $3, $4, $5, $6) \
    ON CONFLICT (key) DO UPDATE SET version = excluded.version, \
    created_at = excluded.created_at, expires_at = excluded.expires_at, \
    owner = excluded.owner, payload = excluded.payload \
    WHERE sessionkit_sessions.expires_at <= $7";

const PRUNE_OWNER: &str = "DELETE FROM sessionkit_sessions WHERE owner = $1 AND expires_at <= $2";

const UPDATE: &str = "UPDATE sessionkit_sessions SET version = $2, created_at = $3, \
    expires_at = $4, owner = $5, payload = $6 \
    WHERE key = $1 AND version = $7 AND expires_at > $8";

#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
const DELETE_VERSION: &str =
    "DELETE FROM sessionkit_sessions WHERE key = $1 AND version = $2 AND expires_at > $3";

/// Postgres's rotate, one statement (so one round trip, and no transaction a pooler must pin):
/// the old row goes if it has the expected version, the new one comes only then, and the
/// owner's expired rows are pruned. Answers 1 when it rotated.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
const ROTATE: &str = "WITH gone AS (DELETE FROM sessionkit_sessions \
    WHERE key = $8 AND version = $9 AND expires_at > $10 RETURNING 1), \
    moved AS (INSERT INTO sessionkit_sessions \
    (key, version, created_at, expires_at, owner, payload) \
    SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM gone) \
    ON CONFLICT (key) DO UPDATE SET version = excluded.version, \
    created_at = excluded.created_at, expires_at = excluded.expires_at, \
    owner = excluded.owner, payload = excluded.payload RETURNING 1), \
    pruned AS (DELETE FROM sessionkit_sessions WHERE owner = $5 AND expires_at <= $10 \
    AND EXISTS (SELECT 1 FROM gone)) \
    SELECT count(*) FROM moved";

const SELECT_OWNER: &str = "SELECT key, version, created_at, expires_at, owner, payload \
    FROM sessionkit_sessions WHERE owner = $1 AND expires_at > $2";

impl SessionStore for SqlStore {
    async fn load(&self, key: &StoreKey, now_ms: u64) -> StoreResult<Option<Record>> {
        self.live(key, now_ms).await
    }

    async fn create(&self, key: &StoreKey, record: &Record, now_ms: u64) -> StoreResult<Created> {
        let [version, created, expires, owner, payload] = Self::columns(record);
        let key = Arg::Bytes(key.as_bytes());
        let args = [
            key,
            version,
            created,
            expires,
            owner,
            payload,
            Arg::Int(ms(now_ms)),
        ];
        let done = self.db.execute(INSERT, &args).await?;
        // No row written: a live session has this key. Never report success for it.
        if done != 1 {
            return Ok(Created::Collision);
        }
        self.prune_owner(record.owner.as_deref(), now_ms).await?;
        Ok(Created::Ok)
    }

    async fn update(
        &self,
        key: &StoreKey,
        expected: u64,
        record: &Record,
        now_ms: u64,
    ) -> StoreResult<Updated> {
        let [version, created, expires, owner, payload] = Self::columns(record);
        let (key_arg, expected, now) = (
            Arg::Bytes(key.as_bytes()),
            Arg::Int(ms(expected)),
            Arg::Int(ms(now_ms)),
        );
        let args = [
            key_arg, version, created, expires, owner, payload, expected, now,
        ];
        if self.db.execute(UPDATE, &args).await? == 1 {
            return Ok(Updated::Ok);
        }
        self.refused(key, now_ms).await
    }

    async fn touch(&self, key: &StoreKey, expires_at: u64, now_ms: u64) -> StoreResult<bool> {
        let done = self
            .db
            .execute(
                "UPDATE sessionkit_sessions SET expires_at = $1 WHERE key = $2 AND expires_at > $3",
                &[
                    Arg::Int(ms(expires_at)),
                    Arg::Bytes(key.as_bytes()),
                    Arg::Int(ms(now_ms)),
                ],
            )
            .await?;
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
        let rotated = match &self.db.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => {
                Self::rotate_in_transaction(pool, old, new, expected, record, now_ms).await?
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => {
                let [version, created, expires, owner, payload] = Self::columns(record);
                let (new, unused, old) = (
                    Arg::Bytes(new.as_bytes()),
                    Arg::Int(0),
                    Arg::Bytes(old.as_bytes()),
                );
                let (expected, now) = (Arg::Int(ms(expected)), Arg::Int(ms(now_ms)));
                let args = [
                    new, version, created, expires, owner, payload, unused, old, expected, now,
                ];
                self.db.count(ROTATE, &args).await? == 1
            }
        };
        if rotated {
            Ok(Updated::Ok)
        } else {
            self.refused(old, now_ms).await
        }
    }

    async fn delete(&self, key: &StoreKey) -> StoreResult<()> {
        self.db
            .execute(
                "DELETE FROM sessionkit_sessions WHERE key = $1",
                &[Arg::Bytes(key.as_bytes())],
            )
            .await?;
        Ok(())
    }

    async fn delete_expired(&self, now_ms: u64, limit: usize) -> StoreResult<usize> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let done = self
            .db
            .execute(
                "DELETE FROM sessionkit_sessions WHERE key IN \
                 (SELECT key FROM sessionkit_sessions WHERE expires_at <= $1 LIMIT $2)",
                &[Arg::Int(ms(now_ms)), Arg::Int(limit)],
            )
            .await?;
        Ok(usize::try_from(done).unwrap_or(usize::MAX))
    }

    async fn scan(&self, cursor: &ScanCursor, limit: usize, now_ms: u64) -> StoreResult<ScanPage> {
        let after = cursor.after().map_or(Vec::new(), |k| k.as_bytes().to_vec());
        let limit = limit.clamp(1, 10_000);
        let records = self
            .db
            .keyed(
                "SELECT key, version, created_at, expires_at, owner, payload \
                 FROM sessionkit_sessions WHERE key > $1 AND expires_at > $2 \
                 ORDER BY key LIMIT $3",
                &[
                    Arg::Bytes(&after),
                    Arg::Int(ms(now_ms)),
                    Arg::Int(i64::try_from(limit).unwrap_or(i64::MAX)),
                ],
            )
            .await?;
        let next = (records.len() == limit)
            .then(|| records.last().map(|(k, _)| ScanCursor(k.to_hex())))
            .flatten();
        Ok(ScanPage { records, next })
    }

    async fn list_owner(&self, owner: &str, now_ms: u64) -> StoreResult<Vec<(StoreKey, Record)>> {
        self.db
            .keyed(
                SELECT_OWNER,
                &[Arg::Text(Some(owner)), Arg::Int(ms(now_ms))],
            )
            .await
    }

    async fn revoke_owner(&self, owner: &str, except: Option<&StoreKey>) -> StoreResult<usize> {
        let done = match except {
            Some(keep) => {
                self.db
                    .execute(
                        "DELETE FROM sessionkit_sessions WHERE owner = $1 AND key <> $2",
                        &[Arg::Text(Some(owner)), Arg::Bytes(keep.as_bytes())],
                    )
                    .await?
            }
            None => {
                self.db
                    .execute(
                        "DELETE FROM sessionkit_sessions WHERE owner = $1",
                        &[Arg::Text(Some(owner))],
                    )
                    .await?
            }
        };
        Ok(usize::try_from(done).unwrap_or(usize::MAX))
    }
}
