//! How `SqlStore` sends a statement: bound parameters through prepared statements (SQLite,
//! Postgres), or, for Postgres behind a transaction-mode pooler, one simple query with its
//! values written in as hex literals. Every statement is written once, with `$n` placeholders,
//! and goes through here.

use sqlx::Row as _;

use super::{db_error, from_ms};
use crate::store::{Record, StoreError, StoreKey, StoreResult};

/// The connection pool of one of the supported databases.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(super::postgres::Postgres),
}

/// A database every statement of sessionkit goes through: the session table's and
/// Flask-Session's.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    pub(crate) pool: Pool,
    /// Postgres behind a transaction-mode pooler: statements go as simple queries.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pooled: bool,
}

/// A statement parameter.
#[derive(Clone, Copy)]
pub(crate) enum Arg<'a> {
    Int(i64),
    Bytes(&'a [u8]),
    Text(Option<&'a str>),
}

/// Binds `$args` to `$query` in order (each database binds its own types).
macro_rules! bound {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match *arg {
                Arg::Int(n) => query.bind(n),
                Arg::Bytes(b) => query.bind(b),
                Arg::Text(t) => query.bind(t),
            };
        }
        query
    }};
}

/// `sql` with each `$n` replaced by its value as a literal. Only hex digits and decimal digits
/// are written into the text (bytes and text go through `decode(…, 'hex')`), so no value can
/// change the statement, whatever the server's string settings.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn inline(sql: &str, args: &[Arg<'_>]) -> String {
    let mut out = sql.to_owned();
    // From the last placeholder down, so that `$1` never matches the start of `$10`.
    for (i, arg) in args.iter().enumerate().rev() {
        let literal = match *arg {
            Arg::Int(n) => n.to_string(),
            Arg::Bytes(b) => format!("decode('{}', 'hex')", hex::encode(b)),
            Arg::Text(Some(t)) => {
                format!("convert_from(decode('{}', 'hex'), 'UTF8')", hex::encode(t))
            }
            Arg::Text(None) => "NULL::text".to_owned(),
        };
        out = out.replace(&format!("${}", i + 1), &literal);
    }
    out
}

/// Runs `$run`, a statement's future over `$connection` (a `&mut PgConnection`), on a
/// connection `$pg` lends, and settles the lease with how the statement ended.
#[cfg(feature = "postgres")]
macro_rules! leased {
    ($pg:expr, |$connection:ident| $run:expr) => {
        async {
            let mut lease = $pg.lease().await?;
            let result = {
                let $connection: &mut sqlx::PgConnection = &mut lease;
                $run.await
            };
            lease.settle(result.as_ref().err());
            result
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

/// A row's key and record.
macro_rules! keyed_from {
    ($row:expr) => {{
        let row = $row;
        let key: Vec<u8> = row.try_get("key").map_err(db_error)?;
        let key = StoreKey::from_bytes(&key)
            .ok_or_else(|| StoreError::Corrupt("a key is not 32 bytes".into()))?;
        (key, record_from!(row))
    }};
}

/// Runs a query for at most one row on whichever database `$db` is, and reads it with `$read`.
macro_rules! optional_row {
    ($db:expr, $sql:expr, $args:expr, |$row:ident| $read:expr) => {{
        macro_rules! one {
            ($fetch:expr) => {
                match $fetch.await.map_err(db_error)? {
                    Some($row) => Ok(Some($read)),
                    None => Ok(None),
                }
            };
        }
        match &$db.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => one!(bound!(sqlx::query($sql), $args).fetch_optional(pool)),
            #[cfg(feature = "postgres")]
            // (sqlx's `RawSql::fetch_optional` fails on no row: take the first of all.)
            Pool::Postgres(pg) if $db.pooled => one!(async {
                let rows = leased!(pg, |c| sqlx::Executor::fetch_all(
                    c,
                    sqlx::raw_sql(&inline($sql, $args))
                ))
                .await?;
                Ok::<_, sqlx::Error>(rows.into_iter().next())
            }),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pg) => one!(leased!(pg, |c| sqlx::Executor::fetch_optional(
                c,
                bound!(sqlx::query($sql), $args)
            ))),
        }
    }};
}

impl Db {
    pub(crate) fn new(pool: Pool, pooled: bool) -> Self {
        Self { pool, pooled }
    }

    /// Whether this is Postgres (whose SQL differs from SQLite's in places).
    #[cfg_attr(not(feature = "flask-session"), allow(dead_code))]
    pub(crate) fn is_postgres(&self) -> bool {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => false,
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => true,
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64> {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => bound!(sqlx::query(sql), args)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(db_error),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pg) if self.pooled => leased!(pg, |c| sqlx::Executor::execute(
                c,
                sqlx::raw_sql(&inline(sql, args))
            ))
            .await
            .map(|r| r.rows_affected())
            .map_err(db_error),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pg) => leased!(pg, |c| sqlx::Executor::execute(
                c,
                bound!(sqlx::query(sql), args)
            ))
            .await
            .map(|r| r.rows_affected())
            .map_err(db_error),
        }
    }

    /// Runs a query and reads its first column of its one row as an integer.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) async fn count(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<i64> {
        let pick = |n: Result<i64, sqlx::Error>| n.map_err(db_error);
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => pick(
                bound!(sqlx::query(sql), args)
                    .fetch_one(pool)
                    .await
                    .and_then(|row| row.try_get(0)),
            ),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pg) if self.pooled => pick(
                leased!(pg, |c| sqlx::Executor::fetch_one(
                    c,
                    sqlx::raw_sql(&inline(sql, args))
                ))
                .await
                .and_then(|row| row.try_get(0)),
            ),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pg) => pick(
                leased!(pg, |c| sqlx::Executor::fetch_one(
                    c,
                    bound!(sqlx::query(sql), args)
                ))
                .await
                .and_then(|row| row.try_get(0)),
            ),
        }
    }

    /// Runs a query for at most one row of a bytes column and a text column (Flask-Session's
    /// `data` and `expiry`).
    #[cfg(feature = "flask-session")]
    pub(crate) async fn bytes_and_text(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> StoreResult<Option<(Option<Vec<u8>>, Option<String>)>> {
        optional_row!(self, sql, args, |row| (
            row.try_get(0).map_err(db_error)?,
            row.try_get(1).map_err(db_error)?,
        ))
    }

    /// Runs a query for at most one record.
    pub(crate) async fn record(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Option<Record>> {
        optional_row!(self, sql, args, |row| record_from!(row))
    }

    /// Runs a query for records with their keys.
    pub(crate) async fn keyed(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> StoreResult<Vec<(StoreKey, Record)>> {
        macro_rules! all {
            ($fetch:expr) => {{
                let rows = $fetch.await.map_err(db_error)?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    out.push(keyed_from!(row));
                }
                Ok(out)
            }};
        }
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => all!(bound!(sqlx::query(sql), args).fetch_all(pool)),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pg) if self.pooled => {
                all!(leased!(pg, |c| sqlx::Executor::fetch_all(
                    c,
                    sqlx::raw_sql(&inline(sql, args))
                )))
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres(pg) => all!(leased!(pg, |c| sqlx::Executor::fetch_all(
                c,
                bound!(sqlx::query(sql), args)
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_in_as_hex_and_digits_only() {
        let sql = inline(
            "SELECT $1, $2, $3, $10, $4",
            &[
                Arg::Int(-5),
                Arg::Bytes(b"\x00'"),
                Arg::Text(Some("o'); DROP TABLE x; --")),
                Arg::Text(None),
                Arg::Int(1),
                Arg::Int(2),
                Arg::Int(3),
                Arg::Int(4),
                Arg::Int(5),
                Arg::Int(10),
            ],
        );
        assert_eq!(
            sql,
            "SELECT -5, decode('0027', 'hex'), convert_from(decode('6f27293b2044524f50205441424c4520783b202d2d', 'hex'), 'UTF8'), 10, NULL::text"
        );
    }
}
