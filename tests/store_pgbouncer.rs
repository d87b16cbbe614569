//! `SqlStore` behind a real PgBouncer in transaction mode (`SESSIONKIT_PGBOUNCER_URL`, a pool
//! of four server connections shared by every client): the whole conformance suite, and many
//! concurrent clients, each test in a database of its own reached through the pooler.

mod common;

use sessionkit::BoxedStore;

/// A database of its own (dropped by the guard), and a store reaching it through PgBouncer.
async fn pooled() -> Option<(BoxedStore, Database)> {
    let pooler = common::servers::url("SESSIONKIT_PGBOUNCER_URL")?;
    let direct = common::servers::url("SESSIONKIT_POSTGRES_URL")?;
    let name = common::servers::unique("skpool");
    let admin = sqlx::PgPool::connect(&direct).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name} OWNER sessionkit"))
        .execute(&admin)
        .await
        .unwrap();
    let (base, _) = pooler.rsplit_once('/').unwrap();
    let url = format!("{base}/{name}?pooler=transaction");
    let store = sessionkit::store::connect(&url).await.unwrap();
    Some((store, Database { admin, name }))
}

/// Drops the test's database (and the pooler's connections to it).
struct Database {
    admin: sqlx::PgPool,
    name: String,
}

impl Drop for Database {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async move {
                let _ = sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
                    .execute(&admin)
                    .await;
            });
        })
        .join()
        .unwrap();
    }
}

sessionkit::conformance!(pooled().await; pruned owner index);

/// 64 clients × 75 operations (create, load, update, rotate, touch, delete) through four shared
/// server connections: every one succeeds, as it does on a direct connection. Prepared
/// statements would land on other clients' server connections here.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_clients_share_four_server_connections_and_every_operation_succeeds() {
    use common::conformance::{key, now_ms, record, renewal};
    use sessionkit::store::{Created, Updated};
    use sessionkit::SessionStore as _;
    let Some((store, _db)) = pooled().await else {
        return;
    };
    let store = std::sync::Arc::new(store);
    let tasks: Vec<_> = (0..64)
        .map(|client| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut done = 0;
                for round in 0..15_u64 {
                    let now = now_ms() + round;
                    let owner = format!("user-{client}");
                    let k = key("app");
                    let first = record(1, Some(&owner), "{}");
                    let created = store.create(&k, &first, now).await.unwrap();
                    assert_eq!(created, Created::Ok);
                    let loaded = store.load(&k, now).await.unwrap().unwrap();
                    assert_eq!(loaded.version, 1);
                    let second = record(2, Some(&owner), "{}");
                    let updated = store.update(&k, 1, &second, now).await.unwrap();
                    assert_eq!(updated, Updated::Ok);
                    let (new, third) = (renewal("app", &k), record(3, Some(&owner), "{}"));
                    let rotated = store.rotate(&k, &new, 2, &third, now).await.unwrap();
                    assert_eq!(rotated, Updated::Ok);
                    assert!(store.touch(&new, now + 60_000, now).await.unwrap());
                    store.delete(&new).await.unwrap();
                    done += 5;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert_eq!(total, 64 * 15 * 5);
}
