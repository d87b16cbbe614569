//! The `metrics` feature: the counters an operator watches move with what happens.

mod common;

use common::conformance::{logged_in, t0, Wide};
use common::{at, builder};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use sessionkit::MemoryStore;

/// The values of the metric `name`, with `label` among its labels when one is given.
fn values(snapshotter: &Snapshotter, name: &str, label: Option<(&str, &str)>) -> Vec<DebugValue> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == name)
        .filter(|(key, ..)| {
            label.is_none_or(|(k, v)| key.key().labels().any(|l| l.key() == k && l.value() == v))
        })
        .map(|(.., value)| value)
        .collect()
}

fn counter(snapshotter: &Snapshotter, name: &str, label: Option<(&str, &str)>) -> u64 {
    values(snapshotter, name, label)
        .into_iter()
        .map(|value| match value {
            DebugValue::Counter(n) => n,
            _ => 0,
        })
        .sum()
}

/// How many latencies the histogram `name` holds for the store operation `op`.
fn timings(snapshotter: &Snapshotter, name: &str, op: &str) -> usize {
    values(snapshotter, name, Some(("op", op)))
        .into_iter()
        .map(|value| match value {
            DebugValue::Histogram(values) => values.len(),
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
    // Each operation's latency too, under the same labels (the snapshot drains histograms).
    let load_timings = |s: &Snapshotter| timings(s, "sessionkit_store_operation_seconds", "load");
    assert_eq!(load_timings(&snapshotter), 0);
    let again = config
        .load_async([cookie.as_bytes()], at(t0()))
        .await
        .unwrap();
    assert_eq!(again.rejected, None);
    assert_eq!(load_timings(&snapshotter), 1);
    assert_eq!(loads(&snapshotter), before + 2);
    // The login's create and these two loads, all on the memory store.
    assert_eq!(
        counter(
            &snapshotter,
            "sessionkit_store_operations_total",
            Some(("backend", "MemoryStore"))
        ),
        3
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
