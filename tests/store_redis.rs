//! The conformance suite on `RedisStore` against a real `redis-server`
//! (`SESSIONKIT_REDIS_URL`), each test under a key prefix of its own.

mod common;

use sessionkit::store::RedisStore;
use sessionkit::BoxedStore;

async fn redis() -> Option<(BoxedStore, ())> {
    let url = common::servers::url("SESSIONKIT_REDIS_URL")?;
    let prefix = format!("{}:", common::servers::unique("sktest"));
    let store = RedisStore::connect(&url)
        .await
        .unwrap()
        .with_prefix(&prefix);
    Some((BoxedStore::new(store), ()))
}

crate::conformance!(redis().await);
