//! A Redis Cluster master killed and restarted under traffic, on a three-master cluster of the
//! test's own (`redis-server`, `redis-cli`): requests on its slots answer 503 while it is
//! down, the other masters' sessions keep working, and once it is back every request succeeds
//! again with the same store, without restarting the app.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sessionkit::conformance::{config, load, t0, Wide};
use sessionkit::{SaveError, SessionConfig, StoreError};
use sessionkit_testkit::fixture::{at, pair, set_header};
use sessionkit_testkit::own::OwnServer;

/// A cluster node of the test's own: started again from its own `nodes.conf`, it rejoins the
/// cluster with its slots. The others keep serving their slots while one is down
/// (`cluster-require-full-coverage no`); with Redis' default, once the node timeout passes the
/// whole cluster refuses every request until it is back.
fn master() -> OwnServer {
    OwnServer::start("cluster", |port, dir| {
        let mut command = sessionkit_testkit::own::redis_server(port, dir);
        command.args(["--cluster-enabled", "yes", "--cluster-node-timeout", "1000"]);
        command.args(["--cluster-require-full-coverage", "no"]);
        command
    })
}

fn cluster_ok(port: u16) -> bool {
    Command::new("redis-cli")
        .args(["-p", &port.to_string(), "cluster", "info"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what} within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A new session holding `n`; `Ok(cookie)`, or the store's error.
async fn create(config: &SessionConfig<Wide>, n: u32) -> Result<String, SaveError> {
    let mut fresh = config.load_async([&b""[..]], at(t0())).await.unwrap();
    *fresh.session.f00_mut() = n;
    Ok(pair(&set_header(
        config.save_async(&fresh.session, at(t0())).await?,
    )))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_master_killed_and_restarted_costs_only_its_share_and_recovers() {
    if sessionkit_testkit::servers::url("SESSIONKIT_REDIS_CLUSTER").is_none() {
        return;
    }
    let mut masters: Vec<OwnServer> = (0..3).map(|_| master()).collect();
    let status = Command::new("redis-cli")
        .args(["--cluster", "create"])
        .args(masters.iter().map(OwnServer::addr))
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    wait_until("the cluster is up", || {
        masters.iter().all(|m| cluster_ok(m.port))
    });
    let nodes: Vec<String> = masters
        .iter()
        .map(|m| format!("redis://{}/", m.addr()))
        .collect();
    let store = sessionkit_redis::RedisStore::connect_cluster_with_timeout(
        &nodes,
        Duration::from_millis(500),
    )
    .await
    .unwrap();
    let config = config(&sessionkit::BoxedStore::new(store));
    let mut before = Vec::new();
    for n in 1..=30 {
        before.push(create(&config, n).await.unwrap());
    }

    masters[2].kill();
    let (mut served, mut refused) = (0, 0);
    for n in 1..=30 {
        match create(&config, n).await {
            Ok(_) => served += 1,
            Err(SaveError::Store(StoreError::Unavailable(_) | StoreError::Timeout)) => {
                refused += 1;
            }
            Err(other) => panic!("a master down is a 503, not {other:?}"),
        }
    }
    assert!(
        served > 0 && refused > 0,
        "{served} served, {refused} refused"
    );

    masters[2].restart();
    wait_until("the cluster is whole again", || {
        masters.iter().all(|m| cluster_ok(m.port))
    });
    // The same store (no restart of the app) serves every request again within seconds.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut streak = 0;
    while streak < 30 {
        assert!(Instant::now() < deadline, "no recovery within 30 s");
        if let Ok(cookie) = create(&config, 7).await {
            assert_eq!(load(&config, &cookie, 0).await.session.f00(), 7);
            streak += 1;
        } else {
            streak = 0;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Sessions on the two masters that stayed up were never lost (the restarted one kept
    // nothing: it persists nothing to disk here).
    let kept = futures_load(&config, &before).await;
    assert!((10..30).contains(&kept), "{kept} of 30 sessions kept");
}

async fn futures_load(config: &SessionConfig<Wide>, cookies: &[String]) -> usize {
    let mut kept = 0;
    for (n, cookie) in (1..).zip(cookies) {
        let loaded = load(config, cookie, 0).await;
        if loaded.rejected.is_none() {
            assert_eq!(loaded.session.f00(), n);
            kept += 1;
        }
    }
    kept
}
