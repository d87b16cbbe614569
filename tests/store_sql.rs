//! The conformance suite on `SqlStore`: SQLite in a temporary file, and a real Postgres server
//! (`SESSIONKIT_POSTGRES_URL`), also with the connections' `TimeZone` set away from UTC.

mod common;

use sessionkit::store::SqlStore;
use sessionkit::BoxedStore;

/// A Postgres store in a schema of its own (dropped by the guard), with `time_zone` set on
/// every connection when given.
async fn postgres(time_zone: Option<&'static str>) -> Option<(BoxedStore, Schema)> {
    let url = common::servers::url("SESSIONKIT_POSTGRES_URL")?;
    let (admin, schema) = new_schema(&url).await;
    let path = schema.clone();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .after_connect(move |conn, _| {
            let path = path.clone();
            Box::pin(async move {
                sqlx::query(&format!("SET search_path TO {path}"))
                    .execute(&mut *conn)
                    .await?;
                if let Some(zone) = time_zone {
                    sqlx::query(&format!("SET TIME ZONE '{zone}'"))
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
        .unwrap();
    if let Some(zone) = time_zone {
        let shown: String = sqlx::query_scalar("SHOW TIME ZONE")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(shown, zone);
    }
    let store = SqlStore::from_postgres_pool(pool);
    store.migrate().await.unwrap();
    Some((
        BoxedStore::new(store),
        Schema {
            admin,
            name: schema,
        },
    ))
}

/// A schema of the test's own, and a pool to administer it with.
async fn new_schema(url: &str) -> (sqlx::PgPool, String) {
    let schema = common::servers::unique("sk");
    let admin = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    (admin, schema)
}

/// `SqlStore::postgres` (sessionkit's own connections, named `schema` to the server) in a
/// schema of its own.
async fn postgres_own() -> Option<(SqlStore, Schema)> {
    let url = common::servers::url("SESSIONKIT_POSTGRES_URL")?;
    let (admin, schema) = new_schema(&url).await;
    let store = SqlStore::postgres(&own_url(&url, &schema)).await.unwrap();
    store.migrate().await.unwrap();
    Some((
        store,
        Schema {
            admin,
            name: schema,
        },
    ))
}

/// `url` with `schema` as the connections' search path and application name.
fn own_url(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}&application_name={schema}")
}

/// Drops the test's schema.
struct Schema {
    admin: sqlx::PgPool,
    name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // The test's runtime is ending; drop on a runtime of its own.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async move {
                let _ = sqlx::query(&format!("DROP SCHEMA {name} CASCADE"))
                    .execute(&admin)
                    .await;
            });
        })
        .join()
        .unwrap();
    }
}

mod sqlite {
    use super::*;
    use common::temp::TempDir;

    sessionkit::conformance!({
        let dir = TempDir::new("sqlite");
        let url = format!("sqlite://{}", dir.path().join("sessions.db").display());
        Some((BoxedStore::new(SqlStore::sqlite(&url).await.unwrap()), dir))
    }; pruned owner index);
}

mod postgres_utc {
    use super::*;

    sessionkit::conformance!(postgres(None).await; pruned owner index);
}

mod postgres_non_utc {
    use super::*;

    sessionkit::conformance!(postgres(Some("Pacific/Kiritimati")).await; pruned owner index);
}

mod postgres_own_connections {
    use super::*;

    sessionkit::conformance!(postgres_own()
        .await
        .map(|(store, schema)| (BoxedStore::new(store), schema)); pruned owner index);
}

mod own_connections {
    use super::*;
    use common::at;
    use common::conformance::t0;
    use sessionkit::{SessionConfig, StoreError};
    use sqlx::Connection as _;
    use std::time::Duration;

    #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default, Debug)]
    struct Cart {
        items: Vec<String>,
    }

    fn config(store: SqlStore, timeout: Duration) -> SessionConfig<Cart> {
        SessionConfig::builder()
            .key(sessionkit::Key::from_hex(common::KEY_A).unwrap())
            .store(store)
            .store_timeout(timeout)
            .build()
            .unwrap()
    }

    /// Logs in `n` sessions at once (so that several connections open); their cookies.
    async fn logged_in(config: &SessionConfig<Cart>, n: usize) -> Vec<String> {
        let saves: Vec<_> = (0..n)
            .map(|i| {
                let config = config.clone();
                tokio::spawn(async move {
                    let cart = Cart {
                        items: vec![format!("item {i}")],
                    };
                    config.cookie_for_async(cart, at(t0())).await.unwrap()
                })
            })
            .collect();
        let mut cookies = Vec::with_capacity(n);
        for save in saves {
            cookies.push(save.await.unwrap());
        }
        cookies
    }

    async fn items(config: &SessionConfig<Cart>, cookie: &str) -> Result<Vec<String>, StoreError> {
        let loaded = config.load_async([cookie.as_bytes()], at(t0())).await?;
        assert_eq!(loaded.rejected, None);
        Ok(loaded.session.items.clone())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_server_that_closed_every_connection_is_met_with_new_ones() {
        let Some((store, schema)) = postgres_own().await else {
            return;
        };
        let config = config(store, Duration::from_secs(2));
        let cookies = logged_in(&config, 8).await;
        // Every connection the store holds is closed from the server's side, as a restart or
        // a failover does.
        let closed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        )
        .bind(&schema.name)
        .fetch_all(&schema.admin)
        .await
        .unwrap();
        assert!(closed.len() >= 2, "{} connections were open", closed.len());
        // The first statement finds its connection dead; the load goes once more, on a new one.
        for (i, cookie) in cookies.iter().enumerate() {
            assert_eq!(items(&config, cookie).await.unwrap(), [format!("item {i}")]);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_statement_cut_off_by_the_timeout_leaves_no_answer_for_the_next() {
        let Some((store, schema)) = postgres_own().await else {
            return;
        };
        let config = config(store, Duration::from_millis(300));
        let cookies = logged_in(&config, 2).await;
        // The table is locked: loads wait on the server until the store's timeout cuts them off.
        // (On a connection of its own: the schema's guard drops it on another runtime.)
        let url = common::servers::url("SESSIONKIT_POSTGRES_URL").unwrap();
        let mut locker = sqlx::PgConnection::connect(&url).await.unwrap();
        let mut lock = locker.begin().await.unwrap();
        sqlx::query(&format!(
            "LOCK TABLE {}.sessionkit_sessions IN ACCESS EXCLUSIVE MODE",
            schema.name
        ))
        .execute(&mut *lock)
        .await
        .unwrap();
        for cookie in &cookies {
            assert_eq!(items(&config, cookie).await, Err(StoreError::Timeout));
        }
        lock.commit().await.unwrap();
        locker.close().await.unwrap();
        // Each load gets its own row, never an answer left over from a statement cut off.
        for _ in 0..3 {
            for (i, cookie) in cookies.iter().enumerate() {
                assert_eq!(items(&config, cookie).await.unwrap(), [format!("item {i}")]);
            }
        }
    }
}

#[tokio::test]
async fn the_migration_is_idempotent_and_names_its_indexes() {
    let dir = common::temp::TempDir::new("migrate");
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let store = SqlStore::sqlite(&url).await.unwrap();
    store.migrate().await.unwrap();
    let sql = store.migration_sql();
    assert!(sql.contains("CREATE INDEX IF NOT EXISTS sessionkit_sessions_expires_at"));
    assert!(sql.contains("CREATE INDEX IF NOT EXISTS sessionkit_sessions_owner"));
    assert!(sql.contains("expires_at BIGINT NOT NULL"));
}
