//! Concurrent request batches, shared by `benches/servers.rs` and `benches/peers`.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

/// One request of task `n` (each task owns its own session).
pub(crate) type Request =
    Arc<dyn Fn(usize) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Requests per batch.
pub(crate) const REQUESTS: usize = 256;

/// Runs `REQUESTS` requests with `concurrency` of them in flight; returns ns per request.
pub(crate) async fn batch(request: &Request, concurrency: usize) -> f64 {
    let started = Instant::now();
    let per_task = REQUESTS / concurrency;
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let request = request.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    request(task).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let requests = u32::try_from(per_task * concurrency).unwrap();
    started.elapsed().as_secs_f64() * 1e9 / f64::from(requests)
}

/// The median of `values`.
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
