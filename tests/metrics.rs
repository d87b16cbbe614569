//! The `metrics` feature: the counters an operator watches move with what happens.

mod common;

use common::conformance::{logged_in, t0, Wide};
use common::{at, builder};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use sessionkit::MemoryStore;

fn counter(snapshotter: &Snapshotter, name: &str, label: Option<(&str, &str)>) -> u64 {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == name)
        .filter(|(key, ..)| {
            label.is_none_or(|(k, v)| key.key().labels().any(|l| l.key() == k && l.value() == v))
        })
        .map(|(.., value)| match value {
            DebugValue::Counter(n) => n,
            _ => 0,
        })
        .sum()
}

#[tokio::test]
async fn counters_move_with_sessions_refusals_and_store_operations() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    let config = builder::<Wide>().store(MemoryStore::new()).build().unwrap();
    let cookie = logged_in(&config).await;
    assert_eq!(
        counter(&snapshotter, "sessionkit_sessions_created_total", None),
        1
    );
    let loads =
        |s: &Snapshotter| counter(s, "sessionkit_store_operations_total", Some(("op", "load")));
    let before = loads(&snapshotter);
    let loaded = config
        .load_async([cookie.as_bytes()], at(t0()))
        .await
        .unwrap();
    assert_eq!(loaded.rejected, None);
    assert_eq!(loads(&snapshotter), before + 1);
    // The login's create and this load, both on the memory store.
    assert_eq!(
        counter(
            &snapshotter,
            "sessionkit_store_operations_total",
            Some(("backend", "MemoryStore"))
        ),
        2
    );

    let forged = format!("{cookie}x");
    let refused = config
        .load_async([forged.as_bytes()], at(t0()))
        .await
        .unwrap();
    let reason = refused.rejected.unwrap().kind();
    assert_eq!(
        counter(
            &snapshotter,
            "sessionkit_sessions_refused_total",
            Some(("reason", reason))
        ),
        1
    );
    assert_eq!(
        counter(&snapshotter, "sessionkit_sessions_refused_total", None),
        1
    );
}
