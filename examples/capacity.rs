//! Measures what sessionkit asks of each store, for the README's capacity section: bytes per
//! session at rest, round trips per read-only and read-write request (counted on the server),
//! and the server's CPU time per request (from `/proc`, the server's own processes).
//!
//! `scripts/servers start && . target/servers/env &&
//!  cargo run --release --example capacity --all-features`
//!
//! Each store gets 10,000 logged-in sessions (an owner, a 32-character CSRF token, two roles, a
//! cart of three items), then 10,000 read-only requests (load by cookie) and 10,000 read-write
//! requests (load, add to the cart, save).
#![allow(missing_docs)]
// Counts of at most a few million, shown as ratios.
#![allow(clippy::cast_precision_loss)]

use std::time::{Duration, SystemTime};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sessionkit::store::{Created, Record, StoreResult, Updated};
use sessionkit::{BoxedStore, CookieCommand, Key, SessionConfig, SessionStore, StoreKey};

/// The store, counting the operations the driver asks of it (each one request to the server,
/// one statement in SQL).
#[derive(Clone)]
struct Counting(BoxedStore, Arc<AtomicU64>);

impl Counting {
    fn count(&self) {
        self.1.fetch_add(1, Ordering::Relaxed);
    }
}

impl SessionStore for Counting {
    fn expires_natively(&self) -> bool {
        self.0.expires_natively()
    }
    async fn load(&self, key: &StoreKey, now: u64) -> StoreResult<Option<Record>> {
        self.count();
        self.0.load(key, now).await
    }
    async fn create(&self, key: &StoreKey, record: &Record, now: u64) -> StoreResult<Created> {
        self.count();
        self.0.create(key, record, now).await
    }
    async fn update(
        &self,
        key: &StoreKey,
        v: u64,
        record: &Record,
        now: u64,
    ) -> StoreResult<Updated> {
        self.count();
        self.0.update(key, v, record, now).await
    }
    async fn touch(&self, key: &StoreKey, expires_at: u64, now: u64) -> StoreResult<bool> {
        self.count();
        self.0.touch(key, expires_at, now).await
    }
    async fn rotate(
        &self,
        old: &StoreKey,
        new: &StoreKey,
        v: u64,
        record: &Record,
        now: u64,
    ) -> StoreResult<Updated> {
        self.count();
        self.0.rotate(old, new, v, record, now).await
    }
    async fn delete(&self, key: &StoreKey) -> StoreResult<()> {
        self.count();
        self.0.delete(key).await
    }
    async fn delete_expired(&self, now: u64, limit: usize) -> StoreResult<usize> {
        self.0.delete_expired(now, limit).await
    }
}

const SESSIONS: usize = 10_000;

#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
struct Shop {
    #[session(owner)]
    user: Option<String>,
    csrf: String,
    roles: Vec<String>,
    cart: Vec<u32>,
}

/// The server's CPU seconds so far.
type Probe<'a> = Box<dyn Fn() -> f64 + 'a>;

struct Row {
    store: String,
    bytes: f64,
    ro: (f64, f64),
    rw: (f64, f64),
}

fn ticks_per_second() -> f64 {
    100.0 // Linux's USER_HZ
}

/// CPU seconds of `pids` and of their children's live processes (Postgres backends).
fn cpu(pids: &[u32]) -> f64 {
    let mut total = 0.0;
    let mut all: Vec<u32> = pids.to_vec();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            let fields: Vec<&str> = after.split_whitespace().collect();
            if let Some(parent) = fields.get(1).and_then(|p| p.parse::<u32>().ok()) {
                if pids.contains(&parent) {
                    all.push(pid);
                }
            }
        }
    }
    for pid in all {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: f64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i).and_then(|t| t.parse::<f64>().ok()))
            .sum();
        total += ticks / ticks_per_second();
    }
    total
}

fn pid(file: &str) -> Option<u32> {
    let dir = std::env::var("SESSIONKIT_SERVERS_DIR").unwrap_or("target/servers".into());
    std::fs::read_to_string(format!("{dir}/{file}"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

fn config(store: Counting) -> SessionConfig<Shop> {
    SessionConfig::builder()
        .key(Key::from_hex(sessionkit_testkit::fixture::KEY_A).unwrap())
        .store(store)
        .lifetime(Duration::from_secs(12 * 3600))
        .build()
        .unwrap()
}

fn cookie_of(command: CookieCommand) -> String {
    match command {
        CookieCommand::Set(header) => header.split(';').next().unwrap_or_default().to_owned(),
        other => panic!("a new session sets its cookie: {other:?}"),
    }
}

async fn measure(name: &str, store: BoxedStore, at_rest: impl Fn() -> f64, cpu: Probe<'_>) -> Row {
    let operations = Arc::new(AtomicU64::new(0));
    let config = config(Counting(store, operations.clone()));
    let ops = || operations.load(Ordering::Relaxed);
    let now = SystemTime::now();
    let before = at_rest();
    let mut cookies = Vec::with_capacity(SESSIONS);
    for i in 0..SESSIONS {
        let mut fresh = config.load_async([&b""[..]], now).await.unwrap();
        fresh.session.set_user(format!("user-{i}"));
        fresh.session.set_csrf("0123456789abcdef0123456789abcdef");
        fresh
            .session
            .set_roles(vec!["admin".into(), "editor".into()]);
        fresh.session.set_cart(vec![1, 2, 3]);
        cookies.push(cookie_of(
            config.save_async(&fresh.session, now).await.unwrap(),
        ));
    }
    let bytes = (at_rest() - before) / SESSIONS as f64;
    let (ops0, cpu0) = (ops(), cpu());
    for cookie in &cookies {
        let loaded = config.load_async([cookie.as_bytes()], now).await.unwrap();
        assert!(loaded.rejected.is_none());
    }
    let (ops1, cpu1) = (ops(), cpu());
    for cookie in &cookies {
        let mut loaded = config.load_async([cookie.as_bytes()], now).await.unwrap();
        loaded.session.cart_mut().push(4);
        let _sent = config.save_async(&loaded.session, now).await.unwrap();
    }
    let (ops2, cpu2) = (ops(), cpu());
    let per = |ops: u64, cpu: f64| (ops as f64 / SESSIONS as f64, cpu / SESSIONS as f64 * 1e6);
    eprintln!("measured {name}");
    Row {
        store: name.into(),
        bytes,
        ro: per(ops1 - ops0, cpu1 - cpu0),
        rw: per(ops2 - ops1, cpu2 - cpu1),
    }
}

fn redis_info(url: &str, section: &str) -> String {
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_connection().unwrap();
    redis::cmd("INFO")
        .arg(section)
        .query(&mut connection)
        .unwrap()
}

fn info_field(info: &str, field: &str) -> u64 {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn redis_memory(urls: &[String]) -> f64 {
    urls.iter()
        .map(|u| info_field(&redis_info(u, "memory"), "used_memory") as f64)
        .sum()
}

/// The table's size, through `psql`.
fn postgres_size(url: &str) -> f64 {
    let out = std::process::Command::new("psql")
        .args([url, "-tAc"])
        .arg("SELECT pg_total_relation_size('sessionkit_sessions')")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim().parse().unwrap_or(0.0)
}

fn env(var: &str) -> Option<String> {
    std::env::var(var).ok()
}

async fn redis_rows(rows: &mut Vec<Row>) {
    if let Some(url) = env("SESSIONKIT_REDIS_URL") {
        let prefix = format!("capacity{}:", std::process::id());
        let store = sessionkit_redis::RedisStore::connect(&url)
            .await
            .unwrap()
            .with_prefix(&prefix);
        let urls = vec![url.clone()];
        let redis_pid = pid("redis.pid").into_iter().collect::<Vec<_>>();
        let probe: Probe<'_> = Box::new(|| cpu(&redis_pid));
        rows.push(
            measure(
                "`RedisStore`, one server",
                BoxedStore::new(store),
                || redis_memory(&urls),
                probe,
            )
            .await,
        );
    }
    if let Some(list) = env("SESSIONKIT_REDIS_CLUSTER") {
        let urls: Vec<String> = list.split(',').map(|n| format!("redis://{n}/")).collect();
        let prefix = format!("capacity{}:", std::process::id());
        let store = sessionkit_redis::RedisStore::connect_cluster(&urls)
            .await
            .unwrap()
            .with_prefix(&prefix);
        let pids: Vec<u32> = list
            .split(',')
            .filter_map(|n| pid(&format!("cluster-{}.pid", n.rsplit(':').next().unwrap())))
            .collect();
        let probe: Probe<'_> = Box::new(|| cpu(&pids));
        rows.push(
            measure(
                "`RedisStore`, cluster of 3",
                BoxedStore::new(store),
                || redis_memory(&urls),
                probe,
            )
            .await,
        );
    }
}

async fn postgres_rows(rows: &mut Vec<Row>) {
    if let Some(url) = env("SESSIONKIT_POSTGRES_URL") {
        let name = format!("capacity{}", std::process::id());
        let admin = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        let (base, _) = url.rsplit_once('/').unwrap();
        for (label, target) in [
            ("`SqlStore`, Postgres", format!("{base}/{name}")),
            (
                "`SqlStore`, Postgres via PgBouncer",
                env("SESSIONKIT_PGBOUNCER_URL")
                    .map(|u| {
                        format!(
                            "{}/{name}?pooler=transaction",
                            u.rsplit_once('/').unwrap().0
                        )
                    })
                    .unwrap_or_default(),
            ),
        ] {
            if target.is_empty() {
                continue;
            }
            let direct = format!("{base}/{name}");
            let _ = std::process::Command::new("psql")
                .args([
                    direct.as_str(),
                    "-qc",
                    "DROP TABLE IF EXISTS sessionkit_sessions",
                ])
                .output();
            let store = sessionkit::store::connect(&target).await.unwrap();
            let postmaster = std::fs::read_to_string("target/servers/pg/postmaster.pid")
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u32>().ok()))
                .into_iter()
                .collect::<Vec<_>>();
            let probe: Probe<'_> = Box::new(|| cpu(&postmaster));
            rows.push(measure(label, store, || postgres_size(&direct), probe).await);
        }
        let _ = sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&admin)
            .await;
    }
}

async fn memcached_rows(rows: &mut Vec<Row>) {
    if let Some(addr) = env("SESSIONKIT_MEMCACHED_ADDR") {
        let store = sessionkit::store::connect(&format!("memcached://{addr}"))
            .await
            .unwrap();
        let stats = || -> f64 {
            use std::io::{Read as _, Write as _};
            let mut stream = std::net::TcpStream::connect(&addr).unwrap();
            stream.write_all(b"stats\r\n").unwrap();
            let mut text = String::new();
            let mut buffer = [0; 8192];
            while !text.ends_with("END\r\n") {
                let n = stream.read(&mut buffer).unwrap();
                text.push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
            let field = |name: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(&format!("STAT {name} ")))
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(0)
            };
            field("bytes") as f64
        };
        let memcached_pid = pid("memcached.pid").into_iter().collect::<Vec<_>>();
        let probe: Probe<'_> = Box::new(|| cpu(&memcached_pid));
        rows.push(measure("`MemcachedStore`", store, stats, probe).await);
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut rows = Vec::new();
    redis_rows(&mut rows).await;
    postgres_rows(&mut rows).await;
    memcached_rows(&mut rows).await;
    println!("| store | bytes per session at rest | store requests /ro | store requests /rw | server CPU µs /ro | server CPU µs /rw |");
    println!("|---|---:|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.1} | {:.1} |",
            row.store, row.bytes, row.ro.0, row.rw.0, row.ro.1, row.rw.1
        );
    }
}
