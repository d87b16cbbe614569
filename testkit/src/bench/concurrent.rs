//! Concurrent request batches, shared by `benches/servers.rs` and `benches/peers`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

/// One request of task `n` (each task owns its own session).
pub type Request = Arc<dyn Fn(usize) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Requests per batch.
pub const REQUESTS: usize = 256;

/// Runs `REQUESTS` requests with `concurrency` of them in flight; returns ns per request.
pub async fn batch(request: &Request, concurrency: usize) -> f64 {
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
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Logs in one session per concurrent task on `config`; returns their `Cookie` values.
pub async fn sessions(
    config: &sessionkit::SessionConfig<super::workload::Workload>,
) -> Vec<String> {
    let mut cookies = Vec::new();
    for _ in 0..64 {
        let now = std::time::SystemTime::now();
        let mut loaded = config.load_async([&b""[..]], now).await.unwrap();
        *loaded.session = super::workload::workload();
        let sessionkit::CookieCommand::Set(header) =
            config.save_async(&loaded.session, now).await.unwrap()
        else {
            panic!("a new session sets a cookie")
        };
        cookies.push(header.split(';').next().unwrap().to_owned());
    }
    cookies
}

/// A sessionkit request of task `n`: load its session, change one field, save.
pub fn sessionkit_request(
    config: sessionkit::SessionConfig<super::workload::Workload>,
    cookies: Vec<String>,
) -> Request {
    let cookies = Arc::new(cookies);
    Arc::new(move |task| {
        let (config, cookies) = (config.clone(), cookies.clone());
        Box::pin(async move {
            let now = std::time::SystemTime::now();
            let mut loaded = config
                .load_async([cookies[task].as_bytes()], now)
                .await
                .unwrap();
            *loaded.session.user_id_mut() += 1;
            drop(config.save_async(&loaded.session, now).await.unwrap());
        })
    })
}
