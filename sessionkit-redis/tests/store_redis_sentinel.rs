//! `RedisStore` on a Sentinel-managed primary with a replica (`SESSIONKIT_REDIS_SENTINEL`,
//! `HOST:PORT/SERVICE`): the conformance suite through Sentinel. The failover itself is
//! `tests/redis_failover.rs`, a binary of its own so that it runs alone.

use sessionkit::BoxedStore;

async fn sentinel() -> Option<(BoxedStore, ())> {
    let spec = sessionkit_testkit::servers::url("SESSIONKIT_REDIS_SENTINEL")?;
    let prefix = sessionkit_testkit::servers::unique("sksentinel");
    let (list, service) = spec.split_once('/').unwrap();
    let sentinels: Vec<String> = list.split(',').map(|s| format!("redis://{s}/")).collect();
    let store = sessionkit_redis::RedisStore::connect_sentinel(&sentinels, service)
        .await
        .unwrap()
        .with_prefix(&format!("{prefix}:"));
    Some((BoxedStore::new(store), ()))
}

sessionkit::conformance!(sentinel().await; pruned owner index);
