//! The conformance suite on `RedisStore` against a real `redis-server`
//! (`SESSIONKIT_REDIS_URL`), each test under a key prefix of its own.

use sessionkit::BoxedStore;
use sessionkit_redis::RedisStore;

async fn redis() -> Option<(BoxedStore, ())> {
    let url = sessionkit_testkit::servers::url("SESSIONKIT_REDIS_URL")?;
    let prefix = format!("{}:", sessionkit_testkit::servers::unique("sktest"));
    let store = RedisStore::connect(&url)
        .await
        .unwrap()
        .with_prefix(&prefix);
    Some((BoxedStore::new(store), ()))
}

sessionkit::conformance!(redis().await; pruned owner index);

/// The owner index is a sorted set pruned as its sessions expire, and it expires itself with
/// its last session: 10,000 logins over expiring sessions leave one entry.
#[tokio::test]
async fn the_owner_index_shrinks_as_sessions_expire() {
    use sessionkit::conformance::{key, now_ms, record};
    use sessionkit::SessionStore as _;
    let Some(url) = sessionkit_testkit::servers::url("SESSIONKIT_REDIS_URL") else {
        return;
    };
    let prefix = format!("{}:", sessionkit_testkit::servers::unique("skprune"));
    let store = RedisStore::connect(&url)
        .await
        .unwrap()
        .with_prefix(&prefix);
    let mut now = now_ms();
    for _ in 0..10_000 {
        let mut r = record(1, Some("bob"), "{}");
        (r.created_at, r.expires_at) = (now, now + 1);
        let created = store.create(&key("prune"), &r, now).await.unwrap();
        assert_eq!(created, sessionkit::store::Created::Ok);
        now += 2;
    }
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let index = format!("{prefix}owners:{}", "626f62"); // "bob" in hex
    let (entries, ttl): (u64, i64) = redis::pipe()
        .zcard(&index)
        .pttl(&index)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(entries, 1);
    assert!(ttl > 0, "the index expires with its last session: {ttl}");
}
