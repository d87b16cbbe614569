//! The conformance suite on `SqlStore`: SQLite in a temporary file, and a real Postgres server
//! (`SESSIONKIT_POSTGRES_URL`), also with the connections' `TimeZone` set away from UTC.

mod common;

use sessionkit::store::SqlStore;
use sessionkit::BoxedStore;

/// A Postgres store in a schema of its own (dropped by the guard), with `time_zone` set on
/// every connection when given.
async fn postgres(time_zone: Option<&'static str>) -> Option<(BoxedStore, Schema)> {
    let url = common::servers::url("SESSIONKIT_POSTGRES_URL")?;
    let schema = common::servers::unique("sk");
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
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
