//! `RedisStore` on a real Redis Cluster of three masters (`SESSIONKIT_REDIS_CLUSTER`): the
//! conformance suite, sessions spread over the masters, and a login's rotate in one slot.

use sessionkit::BoxedStore;
use sessionkit_redis::RedisStore;

fn nodes() -> Option<Vec<String>> {
    let list = sessionkit_testkit::servers::url("SESSIONKIT_REDIS_CLUSTER")?;
    Some(list.split(',').map(|n| format!("redis://{n}/")).collect())
}

async fn cluster() -> Option<(RedisStore, String)> {
    let prefix = format!("{}:", sessionkit_testkit::servers::unique("skcluster"));
    let store = RedisStore::connect_cluster(&nodes()?).await.unwrap();
    Some((store.with_prefix(&prefix), prefix))
}

sessionkit::conformance!(cluster().await.map(|(s, _)| (BoxedStore::new(s), ())); pruned owner index, no scan);

/// 300 sessions land on all three masters, none with more than half of them; each key names
/// its slot with the id's tag.
#[tokio::test]
async fn sessions_spread_over_the_three_masters() {
    use sessionkit::conformance::{key, now_ms, record};
    use sessionkit::SessionStore as _;
    let Some((store, prefix)) = cluster().await else {
        return;
    };
    for _ in 0..300 {
        let (k, r) = (key("app"), record(1, None, "{}"));
        let created = store.create(&k, &r, now_ms()).await.unwrap();
        assert_eq!(created, sessionkit::store::Created::Ok);
    }
    let mut per_master = Vec::new();
    for node in nodes().unwrap() {
        let client = redis::Client::open(node.as_str()).unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!(keys.iter().all(|k| k[prefix.len()..].starts_with('{')));
        per_master.push(keys.len());
    }
    assert_eq!(per_master.iter().sum::<usize>(), 300, "{per_master:?}");
    assert!(
        per_master.iter().all(|&n| n > 0 && n < 150),
        "uneven: {per_master:?}"
    );
}

/// Logins through the driver: an anonymous session (a cart) logs in with `renew()`, a rotate
/// to a new id in the same slot, with an owner; all twelve land and the owner's index, on
/// another master, lists them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_rotate_in_one_slot_and_the_owner_index_follows() {
    use sessionkit::conformance::{config, load, t0};
    use sessionkit_testkit::fixture::{at, pair, set_header};
    let Some((store, _)) = cluster().await else {
        return;
    };
    let config = config(&BoxedStore::new(store));
    let mut cookies = Vec::new();
    for _ in 0..12 {
        let mut cart = config.load_async([&b""[..]], at(t0())).await.unwrap();
        *cart.session.f00_mut() = 3;
        let cookie = pair(&set_header(
            config.save_async(&cart.session, at(t0())).await.unwrap(),
        ));
        let mut login = load(&config, &cookie, 1).await;
        login.session.renew();
        login.session.set_user("alice");
        let renewed = pair(&set_header(
            config
                .save_async(&login.session, at(t0() + 1))
                .await
                .unwrap(),
        ));
        assert_ne!(renewed, cookie);
        assert_eq!(load(&config, &cookie, 2).await.session.user(), None);
        let after = load(&config, &renewed, 2).await;
        assert_eq!(
            (after.session.user(), after.session.f00()),
            (Some("alice"), 3)
        );
        cookies.push(renewed);
    }
    assert_eq!(
        config
            .list_owner("alice", at(t0() + 2))
            .await
            .unwrap()
            .len(),
        12
    );
    assert_eq!(config.revoke_owner("alice", None).await.unwrap(), 12);
    for cookie in &cookies {
        assert_eq!(load(&config, cookie, 3).await.session.user(), None);
    }
}
