//! The server stores against a floor on the same server, in one run: a whole request (load by
//! id cookie, change one field, save) through sessionkit's `RedisStore` and `SqlStore` on
//! Postgres, beside the floor (the same client doing one raw read and one raw write of the same
//! bytes: `GET`/`SET`, `SELECT`/`UPDATE`), at 1 and at 64 concurrent requests. Rounds alternate
//! the two so that a shared machine's drift cancels out in the ratio. Postgres is measured
//! against two floors: on sqlx's pool, and on 16 plain connections with no pool's work.
//!
//! `scripts/servers start && . target/servers/env && cargo bench --bench servers --all-features`
//!
//! With `SESSIONKIT_BENCH_ALONE=floor` (or `sessionkit`), each server runs that side alone at 64
//! concurrent requests, for `perf stat -e task-clock` to give the client's CPU per request.
#![allow(missing_docs)]

use std::sync::Arc;

use redis::AsyncCommands as _;
use sessionkit::store::SqlStore;
use sessionkit::{Key, SessionConfig, SessionStore};
use sessionkit_redis::RedisStore;
use workload::{workload, Workload};

use sessionkit_testkit::bench::concurrent;
use sessionkit_testkit::bench::workload;

use concurrent::{batch, median, sessionkit_request, sessions, Request};
use sessionkit_testkit::bench::floor::change;

use sessionkit_testkit::fixture::KEY_A as KEY_HEX;
const ROUNDS: usize = 15;

async fn compare(label: &str, floor: Request, sessionkit: Request) {
    if let Ok(side) = std::env::var("SESSIONKIT_BENCH_ALONE") {
        let request = if side == "floor" { floor } else { sessionkit };
        alone(label, &side, &request).await;
        return;
    }
    for concurrency in [1, 64] {
        let (mut floors, mut ours, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let (f, s) = if round % 2 == 0 {
                let f = batch(&floor, concurrency).await;
                (f, batch(&sessionkit, concurrency).await)
            } else {
                let s = batch(&sessionkit, concurrency).await;
                (batch(&floor, concurrency).await, s)
            };
            floors.push(f);
            ours.push(s);
            ratios.push(s / f);
        }
        println!(
            "| {label} | {concurrency} | {:.0} | {:.0} | {:.2}x |",
            median(floors),
            median(ours),
            median(ratios)
        );
    }
}

/// One side alone at 64 concurrent requests for `SESSIONKIT_BENCH_SECONDS` (10 by default), for
/// `perf stat` or `perf record` to measure the client's own work per request.
async fn alone(label: &str, side: &str, request: &Request) {
    let seconds = std::env::var("SESSIONKIT_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let started = std::time::Instant::now();
    let mut requests = 0u32;
    while started.elapsed().as_secs() < seconds {
        batch(request, 64).await;
        requests += u32::try_from(concurrent::REQUESTS).unwrap();
    }
    let ns = started.elapsed().as_secs_f64() * 1e9 / f64::from(requests);
    println!("{label}, {side} alone: {requests} requests, {ns:.0} ns a request");
}

fn config(store: impl SessionStore + 'static) -> SessionConfig<Workload> {
    SessionConfig::builder()
        .key(Key::from_hex(KEY_HEX).unwrap())
        .store(store)
        .build()
        .unwrap()
}

async fn redis(url: &str) {
    let config = config(RedisStore::connect(url).await.unwrap());
    let cookies = sessions(&config).await;
    let client = redis::Client::open(url).unwrap();
    let connection = redis::aio::ConnectionManager::new(client).await.unwrap();
    let json = serde_json::to_vec(&workload()).unwrap();
    for task in 0..64 {
        let _: () = connection
            .clone()
            .set(format!("floor:{task}"), &json)
            .await
            .unwrap();
    }
    let floor: Request = Arc::new(move |task| {
        let mut connection = connection.clone();
        Box::pin(async move {
            let key = format!("floor:{task}");
            let bytes: Vec<u8> = connection.get(&key).await.unwrap();
            let _: () = connection.set(&key, change(&bytes)).await.unwrap();
        })
    });
    compare("Redis", floor, sessionkit_request(config, cookies)).await;
}

async fn postgres(url: &str) {
    let store = SqlStore::postgres(url).await.unwrap();
    store.migrate().await.unwrap();
    let config = config(store);
    let cookies = sessions(&config).await;
    // The floor's pool pings no connection before use either (sqlx's default would add a round
    // trip to every statement, which `SqlStore` does not pay).
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .test_before_acquire(false)
        .connect(url)
        .await
        .unwrap();
    let floor = sessionkit_testkit::bench::floor::postgres(pool, "floor").await;
    let sessionkit = sessionkit_request(config, cookies);
    compare("Postgres", floor, sessionkit.clone()).await;
    // The same statements on plain connections: what a request costs with no pool at all.
    let plain = sessionkit_testkit::bench::floor::postgres_plain(url, "floor").await;
    compare("Postgres, plain connections", plain, sessionkit).await;
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    println!("\n| server | concurrent | floor ns/request | sessionkit ns/request | ratio |");
    println!("|---|---:|---:|---:|---:|");
    runtime.block_on(async {
        match std::env::var("SESSIONKIT_REDIS_URL") {
            Ok(url) => redis(&url).await,
            Err(_) => println!("| Redis | skipped: SESSIONKIT_REDIS_URL is not set | | | |"),
        }
        match std::env::var("SESSIONKIT_POSTGRES_URL") {
            Ok(url) => postgres(&url).await,
            Err(_) => println!("| Postgres | skipped: SESSIONKIT_POSTGRES_URL is not set | | | |"),
        }
    });
}
