//! sessionkit's `RedisStore` beside the Redis stores of tower-sessions
//! (`tower-sessions-redis-store`) and actix-session (`RedisSessionStore`), and a floor (one raw
//! `GET` and one `SET` of the same bytes), on the same local Redis, the same typed session and
//! the same request: load the session, change one field, save it. Then, with
//! `SESSIONKIT_POSTGRES_URL` set, sessionkit's `SqlStore` beside tower-sessions' `PostgresStore`
//! (`tower-sessions-sqlx-store`) and a floor (one `SELECT` and one `UPDATE` of the same bytes).
//! The floor and tower-sessions get a pool like the one `SqlStore::postgres` makes: 16
//! connections, none pinged before use (sqlx's default ping would add a round trip to every
//! statement).
//! Rounds rotate the order, so a shared machine's drift cancels out in the ratios.
//!
//! ```sh
//! scripts/servers start && . target/servers/env
//! cargo run --release --manifest-path benches/peers/Cargo.toml
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use actix_session::storage::{RedisSessionStore, SessionKey, SessionStore as _};
use redis::AsyncCommands as _;
use sessionkit::store::SqlStore;
use sessionkit::{Key, SessionConfig};
use sessionkit_redis::RedisStore;
use tower_sessions::session::{Id, Record};
use tower_sessions_redis_store::fred::prelude::{ClientLike as _, Config, Pool};

use sessionkit_testkit::bench::concurrent::{batch, median, sessionkit_request, sessions, Request};
use sessionkit_testkit::bench::workload::{workload, Workload};

const ROUNDS: usize = 15;

async fn sessionkit(url: &str) -> Request {
    let config = SessionConfig::<Workload>::builder()
        .key(Key::generate().unwrap())
        .store(RedisStore::connect(url).await.unwrap())
        .build()
        .unwrap();
    let cookies = sessions(&config).await;
    sessionkit_request(config, cookies)
}

async fn tower_sessions(url: &str) -> Request {
    let pool = Pool::new(Config::from_url(url).unwrap(), None, None, None, 6).unwrap();
    pool.init().await.unwrap();
    tower_sessions_request(tower_sessions_redis_store::RedisStore::new(pool)).await
}

/// Creates one session per task in a tower-sessions store; the request loads it, changes one
/// field and saves it.
async fn tower_sessions_request(store: impl tower_sessions::SessionStore) -> Request {
    let mut ids = Vec::new();
    for _ in 0..64 {
        let data: HashMap<String, serde_json::Value> =
            serde_json::from_value(serde_json::to_value(workload()).unwrap()).unwrap();
        let mut record = Record {
            id: Id::default(),
            data,
            expiry_date: tower_sessions::cookie::time::OffsetDateTime::now_utc()
                + tower_sessions::cookie::time::Duration::days(1),
        };
        store.create(&mut record).await.unwrap();
        ids.push(record.id);
    }
    let (store, ids) = (Arc::new(store), Arc::new(ids));
    Arc::new(move |task| {
        let (store, ids) = (store.clone(), ids.clone());
        Box::pin(async move {
            let mut record = store.load(&ids[task]).await.unwrap().unwrap();
            let value = serde_json::Value::Object(record.data.clone().into_iter().collect());
            let mut data: Workload = serde_json::from_value(value).unwrap();
            data.user_id += 1;
            record.data = serde_json::from_value(serde_json::to_value(&data).unwrap()).unwrap();
            store.save(&record).await.unwrap();
        })
    })
}

async fn actix_session(url: &str) -> Request {
    let store = RedisSessionStore::new(url).await.unwrap();
    let ttl = actix_web::cookie::time::Duration::days(1);
    let state = |data: &Workload| -> HashMap<String, String> {
        let serde_json::Value::Object(map) = serde_json::to_value(data).unwrap() else {
            panic!()
        };
        map.into_iter().map(|(k, v)| (k, v.to_string())).collect()
    };
    let mut keys = Vec::new();
    for _ in 0..64 {
        keys.push(store.save(state(&workload()), &ttl).await.unwrap());
    }
    // Each task owns its session; the key changes at every update (actix-session renews it).
    let keys: Arc<Vec<std::sync::Mutex<Option<SessionKey>>>> = Arc::new(
        keys.into_iter()
            .map(|k| std::sync::Mutex::new(Some(k)))
            .collect(),
    );
    let store = Arc::new(store);
    Arc::new(move |task| {
        let (store, keys) = (store.clone(), keys.clone());
        Box::pin(async move {
            let key = keys[task].lock().unwrap().take().unwrap();
            let loaded = store.load(&key).await.unwrap().unwrap();
            let map: serde_json::Map<String, serde_json::Value> = loaded
                .into_iter()
                .map(|(k, v)| (k, serde_json::from_str(&v).unwrap()))
                .collect();
            let mut data: Workload =
                serde_json::from_value(serde_json::Value::Object(map)).unwrap();
            data.user_id += 1;
            let key = store.update(key, state(&data), &ttl).await.unwrap();
            *keys[task].lock().unwrap() = Some(key);
        })
    })
}

async fn floor(url: &str) -> Request {
    let connection = redis::aio::ConnectionManager::new(redis::Client::open(url).unwrap())
        .await
        .unwrap();
    let json = serde_json::to_vec(&workload()).unwrap();
    for task in 0..64 {
        let _: () = connection
            .clone()
            .set(format!("peers-floor:{task}"), &json)
            .await
            .unwrap();
    }
    Arc::new(move |task| {
        let mut connection = connection.clone();
        Box::pin(async move {
            let key = format!("peers-floor:{task}");
            let bytes: Vec<u8> = connection.get(&key).await.unwrap();
            let mut data: Workload = serde_json::from_slice(&bytes).unwrap();
            data.user_id += 1;
            let _: () = connection
                .set(&key, serde_json::to_vec(&data).unwrap())
                .await
                .unwrap();
        })
    })
}

/// The pool of the floor and of tower-sessions, like `SqlStore::postgres`'s own.
async fn pool(url: &str) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .test_before_acquire(false)
        .connect(url)
        .await
        .unwrap()
}

async fn sessionkit_postgres(url: &str) -> Request {
    let store = SqlStore::postgres(url).await.unwrap();
    store.migrate().await.unwrap();
    let config = SessionConfig::<Workload>::builder()
        .key(Key::generate().unwrap())
        .store(store)
        .build()
        .unwrap();
    let cookies = sessions(&config).await;
    sessionkit_request(config, cookies)
}

async fn tower_sessions_postgres(url: &str) -> Request {
    let store = tower_sessions_sqlx_store::PostgresStore::new(pool(url).await);
    store.migrate().await.unwrap();
    tower_sessions_request(store).await
}

async fn floor_postgres(url: &str) -> Request {
    sessionkit_testkit::bench::floor::postgres(pool(url).await, "peers_floor").await
}

/// Prints one table: every implementation at 1 and at 64 concurrent requests, as a ratio to
/// the first (the floor).
async fn compare(implementations: &[(&str, Request)]) {
    println!("| implementation | concurrent | ns/request | ratio to the floor |");
    println!("|---|---:|---:|---:|");
    for concurrency in [1, 64] {
        let n = implementations.len();
        let mut times = vec![Vec::new(); n];
        for round in 0..ROUNDS {
            for k in 0..n {
                let i = (round + k) % n;
                times[i].push(batch(&implementations[i].1, concurrency).await);
            }
        }
        for (i, (name, _)) in implementations.iter().enumerate() {
            let ratios: Vec<f64> = times[i].iter().zip(&times[0]).map(|(t, f)| t / f).collect();
            println!(
                "| {name} | {concurrency} | {:.0} | {:.2}x |",
                median(times[i].clone()),
                median(ratios)
            );
        }
    }
}

#[tokio::main]
async fn main() {
    let url = std::env::var("SESSIONKIT_REDIS_URL")
        .expect("SESSIONKIT_REDIS_URL (scripts/servers start)");
    let implementations = [
        ("floor (GET + SET)", floor(&url).await),
        ("sessionkit RedisStore", sessionkit(&url).await),
        ("tower-sessions RedisStore", tower_sessions(&url).await),
        ("actix-session RedisSessionStore", actix_session(&url).await),
    ];
    compare(&implementations).await;
    if let Ok(url) = std::env::var("SESSIONKIT_POSTGRES_URL") {
        println!();
        let implementations = [
            ("floor (SELECT + UPDATE)", floor_postgres(&url).await),
            ("sessionkit SqlStore", sessionkit_postgres(&url).await),
            (
                "tower-sessions PostgresStore",
                tower_sessions_postgres(&url).await,
            ),
        ];
        compare(&implementations).await;
    }
}
