//! The conformance suite on `MemcachedStore` against a real `memcached`
//! (`SESSIONKIT_MEMCACHED_ADDR`), and what eviction does: a logged-out user, never another
//! user's data.

mod common;

use std::io::{Read as _, Write as _};

use common::conformance::{logged_in, now_ms, t0, Wide};
use common::own::OwnServer;
use common::{at, builder};
use sessionkit::store::MemcachedStore;
use sessionkit::{
    BoxedStore, Rejection, SessionConfig, SessionId, SessionStore, StoreError, StoreKey,
};

async fn memcached() -> Option<(BoxedStore, ())> {
    let addr = common::servers::url("SESSIONKIT_MEMCACHED_ADDR")?;
    Some((
        BoxedStore::new(MemcachedStore::connect(&addr).await.unwrap()),
        (),
    ))
}

sessionkit::conformance!(memcached().await; no owner index);

/// Sends raw text to memcached and returns its first reply line.
fn raw(addr: &str, command: &[u8]) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(command).unwrap();
    let mut reply = [0u8; 64];
    let n = stream.read(&mut reply).unwrap();
    String::from_utf8_lossy(&reply[..n]).trim_end().to_owned()
}

#[tokio::test]
async fn a_corrupt_value_is_a_corrupt_error_never_a_panic() {
    let Some(addr) = common::servers::url("SESSIONKIT_MEMCACHED_ADDR") else {
        return;
    };
    let store = MemcachedStore::connect(&addr).await.unwrap();
    let key = StoreKey::new("app", &SessionId::generate().unwrap());
    let set = format!("ms sk:{} 7 T0\r\nnot-SKR\r\n", key.to_hex());
    assert_eq!(raw(&addr, set.as_bytes()), "HD");
    assert!(matches!(
        store.load(&key, now_ms()).await,
        Err(StoreError::Corrupt(_))
    ));
}

/// A memcached of its own with 2 MB of memory, so that eviction comes quickly.
struct SmallMemcached(std::process::Child, String);

impl SmallMemcached {
    fn start() -> Self {
        let port = common::free_port();
        let mut command = std::process::Command::new("memcached");
        command.args([
            "-l",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "0",
            "-m",
            "2",
        ]);
        if std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout == b"0\n")
        {
            command.args(["-u", "nobody"]);
        }
        let child = command
            .spawn()
            .expect("memcached is installed (scripts/servers installs it)");
        common::wait_for_port(port);
        Self(child, format!("127.0.0.1:{port}"))
    }
}

impl Drop for SmallMemcached {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn an_evicted_session_logs_its_user_out_and_shows_no_other_data() {
    if common::servers::url("SESSIONKIT_MEMCACHED_ADDR").is_none() {
        return;
    }
    let server = SmallMemcached::start();
    let config: SessionConfig<Wide> = builder::<Wide>()
        .store(MemcachedStore::connect(&server.1).await.unwrap())
        .build()
        .unwrap();
    let cookie = logged_in(&config).await;
    // Other users' sessions of the same size fill the 2 MB: the oldest, alice's, is evicted.
    let others: SessionConfig<Wide> = builder::<Wide>()
        .store(MemcachedStore::connect(&server.1).await.unwrap())
        .build()
        .unwrap();
    for _ in 0..12_000 {
        let mut loaded = others.load_async([&b""[..]], at(t0())).await.unwrap();
        loaded.session.set_user("mallory");
        let _sent = others.save_async(&loaded.session, at(t0())).await.unwrap();
    }
    let loaded = config
        .load_async([cookie.as_bytes()], at(t0()))
        .await
        .unwrap();
    assert_eq!(loaded.rejected, Some(Rejection::UnknownSession));
    assert!(loaded.session.is_new());
    assert_eq!(*loaded.session, Wide::default());
}

/// A memcached of this test's own.
fn own_memcached() -> OwnServer {
    OwnServer::start("memcached", |port, _| {
        let mut command = std::process::Command::new("memcached");
        command.args(["-l", "127.0.0.1", "-p", &port.to_string(), "-U", "0"]);
        if unix_root() {
            command.args(["-u", "nobody"]);
        }
        command
    })
}

fn unix_root() -> bool {
    // memcached refuses to run as root without `-u`.
    std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

/// After a memcached restart, the pooled connections are dead: the first request on one tries
/// again on a new connection instead of answering 503, so nobody sees an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_memcached_restart_costs_no_request_an_error() {
    if common::servers::url("SESSIONKIT_MEMCACHED_ADDR").is_none() {
        return;
    }
    let mut server = own_memcached();
    let store = MemcachedStore::connect(&server.addr()).await.unwrap();
    let config: SessionConfig<Wide> = builder::<Wide>().store(store).build().unwrap();
    // Fill the pool with several connections.
    let cookies: Vec<String> = futures_join(&config).await;
    server.kill();
    server.restart();
    for cookie in &cookies {
        // The records went with the restart: a fresh session, never a store error.
        let loaded = config
            .load_async([cookie.as_bytes()], at(t0() + 1))
            .await
            .expect("no request fails after a restart");
        assert_eq!(loaded.rejected, Some(Rejection::UnknownSession));
    }
    let cookie = logged_in(&config).await;
    let loaded = config
        .load_async([cookie.as_bytes()], at(t0() + 1))
        .await
        .unwrap();
    assert_eq!(loaded.session.user(), Some("alice"));
}

async fn futures_join(config: &SessionConfig<Wide>) -> Vec<String> {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let config = config.clone();
            tokio::spawn(async move { logged_in(&config).await })
        })
        .collect();
    let mut cookies = Vec::new();
    for task in tasks {
        cookies.push(task.await.unwrap());
    }
    cookies
}

/// A session over memcached's item size limit is a save error that says so: no retry could
/// store it, so it is not reported as an outage.
#[tokio::test]
async fn a_session_over_the_item_limit_is_too_large_not_unavailable() {
    let Some(addr) = common::servers::url("SESSIONKIT_MEMCACHED_ADDR") else {
        return;
    };
    let store = MemcachedStore::connect(&addr).await.unwrap();
    let key = StoreKey::new("big", &SessionId::generate().unwrap());
    let mut record = common::conformance::record(1, None, "{}");
    record.payload.extend(std::iter::repeat_n(b' ', 2 << 20));
    let created = store.create(&key, &record, now_ms()).await;
    assert!(
        matches!(created, Err(StoreError::TooLarge { bytes }) if bytes > 2 << 20),
        "{created:?}"
    );
    // The connection is still good for the next request.
    assert_eq!(store.load(&key, now_ms()).await.unwrap(), None);
}

/// Garbage under a session's key is a refused session (fresh, the cookie removed), as on every
/// other backend: not a 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_under_a_sessions_key_is_a_refused_session() {
    if common::servers::url("SESSIONKIT_MEMCACHED_ADDR").is_none() {
        return;
    }
    let server = own_memcached();
    let store = MemcachedStore::connect(&server.addr()).await.unwrap();
    let config: SessionConfig<Wide> = builder::<Wide>().store(store).build().unwrap();
    let cookie = logged_in(&config).await;
    // The only key on this server is the session's.
    let dump = {
        let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
        stream.write_all(b"lru_crawler metadump all\r\n").unwrap();
        let mut dump = String::new();
        let mut reader = std::io::BufReader::new(stream);
        while !dump.ends_with("END\r\n") {
            std::io::BufRead::read_line(&mut reader, &mut dump).unwrap();
        }
        dump
    };
    let key = dump
        .split_whitespace()
        .find_map(|w| w.strip_prefix("key="))
        .unwrap()
        .replace("%3A", ":"); // the dump URL-encodes keys
    let set = format!("set {key} 0 0 7\r\ngarbage\r\n");
    assert_eq!(raw(&server.addr(), set.as_bytes()), "STORED");
    let loaded = config
        .load_async([cookie.as_bytes()], at(t0() + 1))
        .await
        .expect("a refused session, not a store error");
    assert!(
        matches!(loaded.rejected, Some(Rejection::CorruptRecord { .. })),
        "{:?}",
        loaded.rejected
    );
    assert!(matches!(
        config
            .save_async(&loaded.session, at(t0() + 1))
            .await
            .unwrap(),
        sessionkit::CookieCommand::Remove(_)
    ));
}

/// Three memcached servers of the test's own, stopped with the guard.
struct ThreeNodes(Vec<OwnServer>);

async fn three_nodes() -> Option<(BoxedStore, ThreeNodes)> {
    common::servers::url("SESSIONKIT_MEMCACHED_ADDR")?;
    let nodes: Vec<OwnServer> = (0..3).map(|_| own_memcached()).collect();
    let addrs: Vec<String> = nodes.iter().map(OwnServer::addr).collect();
    let addrs: Vec<&str> = addrs.iter().map(String::as_str).collect();
    let store = MemcachedStore::connect_nodes(&addrs).await.unwrap();
    Some((BoxedStore::new(store), ThreeNodes(nodes)))
}

mod three {
    use super::*;

    sessionkit::conformance!(three_nodes().await; no owner index);
}

/// Over three nodes each holds a share of the sessions, and losing one touches only its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sessions_spread_over_nodes_and_a_lost_node_touches_only_its_share() {
    let Some((store, ThreeNodes(mut nodes))) = three_nodes().await else {
        return;
    };
    let config: SessionConfig<Wide> = builder::<Wide>().store(store).build().unwrap();
    let mut cookies = Vec::new();
    for _ in 0..60 {
        cookies.push(logged_in(&config).await);
    }
    let held: Vec<usize> = nodes.iter().map(|n| items(&n.addr())).collect();
    assert_eq!(held.iter().sum::<usize>(), 60);
    assert!(held.iter().all(|&n| n >= 5), "{held:?}");
    nodes[1].kill();
    let (mut fine, mut failed) = (0, 0);
    for cookie in &cookies {
        match config.load_async([cookie.as_bytes()], at(t0() + 1)).await {
            Ok(loaded) if loaded.session.user() == Some("alice") => fine += 1,
            Err(StoreError::Unavailable(_) | StoreError::Timeout) => failed += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((fine, failed), (60 - held[1], held[1]));
}

/// A memcached server's `stats`, by name.
fn stats(addr: &str) -> std::collections::HashMap<String, u64> {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(b"stats\r\n").unwrap();
    let mut reader = std::io::BufReader::new(stream);
    let mut all = std::collections::HashMap::new();
    let mut line = String::new();
    while line.trim() != "END" {
        line.clear();
        std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        let mut words = line.split_whitespace().skip(1);
        if let (Some(name), Some(Ok(n))) = (words.next(), words.next().map(str::parse)) {
            all.insert(name.to_owned(), n);
        }
    }
    all
}

/// How many items a memcached server holds.
fn items(addr: &str) -> usize {
    usize::try_from(stats(addr)["curr_items"]).unwrap()
}

/// A write is two round trips: the load (`mg`) and the compare-and-swap (`ms` with the load's
/// token), not a third read in between.
#[tokio::test]
async fn a_write_is_the_load_and_one_compare_and_swap() {
    if common::servers::url("SESSIONKIT_MEMCACHED_ADDR").is_none() {
        return;
    }
    let server = own_memcached();
    let store = MemcachedStore::connect(&server.addr()).await.unwrap();
    let config: SessionConfig<Wide> = builder::<Wide>().store(store).build().unwrap();
    let cookie = logged_in(&config).await;
    let counts = |addr: &str| {
        let all = stats(addr);
        (all["cmd_get"], all["cmd_set"])
    };
    let before = counts(&server.addr());
    let mut loaded = config
        .load_async([cookie.as_bytes()], at(t0() + 1))
        .await
        .unwrap();
    *loaded.session.f04_mut() = 4;
    let saved = config
        .save_async(&loaded.session, at(t0() + 1))
        .await
        .unwrap();
    assert_eq!(saved, sessionkit::CookieCommand::Unchanged);
    let after = counts(&server.addr());
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1));
}

/// Placement agrees with libmemcached's ketama as pylibmc uses it (`behaviors={"ketama": True}`,
/// the venv `scripts/test` makes): every session written over three nodes is found by a
/// pylibmc client given the same three nodes, so other clients of the same pool agree on
/// where each session lives.
#[tokio::test]
async fn pylibmc_with_ketama_finds_every_session_where_sessionkit_put_it() {
    use common::conformance::{key, now_ms, record};
    use sessionkit::SessionStore as _;
    let Some((store, nodes)) = three_nodes().await else {
        return;
    };
    let mut keys = Vec::new();
    for _ in 0..90 {
        let k = key("app");
        let created = store.create(&k, &record(1, None, "{}"), now_ms()).await;
        assert_eq!(created.unwrap(), sessionkit::store::Created::Ok);
        keys.push(format!("sk:{}", k.to_hex()));
    }
    let held: Vec<usize> = nodes.0.iter().map(|n| items(&n.addr())).collect();
    assert!(held.iter().all(|&n| n > 0), "{held:?}");
    let servers: Vec<String> = nodes.0.iter().map(OwnServer::addr).collect();
    let python = std::env::var("SESSIONKIT_FLASK_PYTHON")
        .unwrap_or_else(|_| "target/flask-venv/bin/python".into());
    let script = "import pylibmc, sys\n\
        mc = pylibmc.Client(sys.argv[1].split(','), behaviors={'ketama': True})\n\
        keys = sys.stdin.read().split()\n\
        print(sum(1 for k in keys if mc.get(k) is not None))\n";
    let mut child = std::process::Command::new(&python)
        .args(["-c", script, &servers.join(",")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python} (run scripts/test): {e}"));
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), keys.join("\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "pylibmc: {out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "90");
}
