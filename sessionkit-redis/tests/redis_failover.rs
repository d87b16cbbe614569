//! A failover of the Sentinel-managed primary (`SESSIONKIT_REDIS_SENTINEL`) under a running
//! app: a store connected through `redis-sentinel://` keeps its sessions, and after Sentinel
//! has moved the primary every write goes to the new one, without restarting anything.

use std::time::{Duration, Instant};

use sessionkit::conformance::{config, load, t0};
use sessionkit_testkit::fixture::{at, pair, set_header};

async fn query(addr: &str, cmd: &mut redis::Cmd) -> redis::RedisResult<redis::Value> {
    let client = redis::Client::open(format!("redis://{addr}/"))?;
    let mut connection = client.get_multiplexed_async_connection().await?;
    cmd.query_async(&mut connection).await
}

async fn primary(sentinel: &str, service: &str) -> String {
    let reply = query(
        sentinel,
        redis::cmd("SENTINEL")
            .arg("get-master-addr-by-name")
            .arg(service),
    )
    .await
    .unwrap();
    let (host, port): (String, String) = redis::from_redis_value(&reply).unwrap();
    format!("{host}:{port}")
}

async fn role(addr: &str) -> String {
    let reply = query(addr, &mut redis::cmd("ROLE")).await.unwrap();
    let redis::Value::Array(parts) = reply else {
        panic!("ROLE: {reply:?}")
    };
    redis::from_redis_value(&parts[0]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_failover_writes_go_to_the_new_primary() {
    let Some(spec) = sessionkit_testkit::servers::url("SESSIONKIT_REDIS_SENTINEL") else {
        return;
    };
    let (sentinel, service) = spec.split_once('/').unwrap();
    let store = sessionkit_redis::connect(&format!("redis-sentinel://{spec}"))
        .await
        .unwrap();
    let config = config(&store);
    let mut fresh = config.load_async([&b""[..]], at(t0())).await.unwrap();
    fresh.session.set_user("alice");
    let cookie = pair(&set_header(
        config.save_async(&fresh.session, at(t0())).await.unwrap(),
    ));

    let old = primary(sentinel, service).await;
    query(
        sentinel,
        redis::cmd("SENTINEL").arg("FAILOVER").arg(service),
    )
    .await
    .unwrap();
    // Sentinel names the new primary, then turns the old one into its replica.
    let deadline = Instant::now() + Duration::from_secs(20);
    let new = loop {
        let now = primary(sentinel, service).await;
        if now != old && role(&now).await == "master" && role(&old).await == "slave" {
            break now;
        }
        assert!(Instant::now() < deadline, "no failover within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The app was not restarted: its store still holds a connection to the old primary, which
    // now refuses writes. Every write succeeds, on the new primary.
    for value in 1..=20 {
        let mut loaded = load(&config, &cookie, 1).await;
        assert_eq!(loaded.session.user(), Some("alice"));
        *loaded.session.f00_mut() = value;
        let saved = config.save_async(&loaded.session, at(t0() + 1)).await;
        assert!(saved.is_ok(), "write {value} after the failover: {saved:?}");
        assert_eq!(load(&config, &cookie, 1).await.session.f00(), value);
    }
    let keys: Vec<String> = redis::from_redis_value(
        &query(&new, redis::cmd("KEYS").arg("sessionkit:*"))
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(!keys.is_empty(), "no session on the new primary {new}");
}
