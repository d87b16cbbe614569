//! `sessionkit::store::connect` and `sessionkit_redis::connect`: every backend from its URL,
//! on the real servers, and a URL no store answers to refused with the forms it takes.

mod common;

use common::conformance::{logged_in, Wide};
use common::{at, builder};
use sessionkit::StoreError;

async fn round_trip(url: &str) {
    // `sessionkit_redis::connect` takes the Redis URLs and hands every other one to
    // `sessionkit::store::connect`.
    let store = sessionkit_redis::connect(url).await.unwrap();
    let config = builder::<Wide>().store(store).build().unwrap();
    let cookie = logged_in(&config).await;
    let loaded = config
        .load_async([cookie.as_bytes()], at(common::conformance::t0()))
        .await
        .unwrap();
    assert_eq!(loaded.session.user(), Some("alice"), "{url}");
}

#[tokio::test]
async fn every_backend_connects_from_its_url() {
    round_trip("memory").await;
    let dir = common::temp::TempDir::new("connect");
    round_trip(&format!("file://{}", dir.path().join("files").display())).await;
    round_trip(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("sessions.db").display()
    ))
    .await;
    if let Some(url) = common::servers::url("SESSIONKIT_POSTGRES_URL") {
        round_trip(&url).await;
    }
    if let Some(url) = common::servers::url("SESSIONKIT_REDIS_URL") {
        round_trip(&url).await;
    }
    if let Some(addr) = common::servers::url("SESSIONKIT_MEMCACHED_ADDR") {
        round_trip(&format!("memcached://{addr}")).await;
    }
    if let Some(nodes) = common::servers::url("SESSIONKIT_REDIS_CLUSTER") {
        round_trip(&format!("redis-cluster://{nodes}")).await;
    }
    if let Some(spec) = common::servers::url("SESSIONKIT_REDIS_SENTINEL") {
        round_trip(&format!("redis-sentinel://{spec}")).await;
    }
    if let Some(url) = common::servers::url("SESSIONKIT_PGBOUNCER_URL") {
        round_trip(&format!("{url}?pooler=transaction")).await;
    }
}

#[tokio::test]
async fn the_distributed_forms_say_what_is_missing() {
    let cases = [
        ("redis-sentinel://127.0.0.1:1", "names no primary"),
        ("redis-sentinel://127.0.0.1:1/", "names no primary"),
        (
            "postgres://u@127.0.0.1:1/db?pooler=session",
            "pooler=transaction",
        ),
    ];
    for (url, says) in cases {
        match sessionkit_redis::connect(url).await {
            Err(StoreError::BadUrl(why)) => assert!(why.contains(says), "{url}: {why}"),
            other => panic!("{url}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_url_no_store_answers_to_says_which_forms_are_taken() {
    for url in ["mongodb://127.0.0.1", "file://", "", "memory://x"] {
        match sessionkit::store::connect(url).await {
            Err(StoreError::BadUrl(why)) => assert!(why.contains("expected one of"), "{why}"),
            other => panic!("{url}: {other:?}"),
        }
        match sessionkit_redis::connect(url).await {
            Err(StoreError::BadUrl(why)) => assert!(why.contains("expected one of"), "{why}"),
            other => panic!("{url}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_redis_url_without_the_redis_crate_names_the_crate_to_add() {
    for url in [
        "redis://127.0.0.1:6379/",
        "rediss://127.0.0.1:6379/",
        "redis-cluster://127.0.0.1:7000",
        "redis-sentinel://127.0.0.1:26379/mymaster",
    ] {
        match sessionkit::store::connect(url).await {
            Err(StoreError::BadUrl(why)) => assert!(
                why.contains("`sessionkit-redis`") && why.contains("sessionkit_redis::connect"),
                "{url}: {why}"
            ),
            other => panic!("{url}: {other:?}"),
        }
    }
}
