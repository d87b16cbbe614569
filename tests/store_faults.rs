//! Faults on real servers: Redis killed in the middle of traffic, and a store slower than the
//! timeout behind a delaying proxy. Nothing is lost, nothing hangs, no cookie goes out with a
//! failure, and the app recovers without a restart.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use sessionkit::axum::{Session, SessionLayer};
use sessionkit::store::SqlStore;
use sessionkit_redis::RedisStore;
use tower::ServiceExt;

#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug)]
struct Counter {
    hits: u64,
}

async fn hit(mut session: Session<Counter>) -> String {
    *session.hits_mut() += 1;
    session.hits().to_string()
}

fn app(config: sessionkit::SessionConfig<Counter>) -> Router {
    Router::new()
        .route("/hit", get(hit))
        .layer(SessionLayer::new(config))
}

async fn send(app: &Router, cookie: Option<&str>) -> (StatusCode, Option<String>, String) {
    let mut request = Request::get("/hit");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let set_cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned());
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    (
        status,
        set_cookie,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

/// A `redis-server` of this test's own, on a port and a data directory that stay the same
/// across restarts; every write is on disk before it is acknowledged (`appendfsync always`),
/// so a killed server comes back with its data, as a production one would.
fn own_redis() -> common::own::OwnServer {
    common::own::OwnServer::start("redis", |port, dir| {
        let mut command = common::own::redis_server(port, dir);
        command.args(["--appendonly", "yes", "--appendfsync", "always"]);
        command
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_in_traffic_gives_503s_loses_nothing_and_recovers() {
    if common::servers::url("SESSIONKIT_REDIS_URL").is_none() {
        return;
    }
    let mut redis = own_redis();
    let url = format!("redis://127.0.0.1:{}/", redis.port);
    let store = RedisStore::connect_with_timeout(&url, Duration::from_millis(500))
        .await
        .unwrap();
    let config = common::builder::<Counter>()
        .store(store)
        .store_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let app = app(config);
    let (_, set_cookie, body) = send(&app, None).await;
    assert_eq!(body, "1");
    let cookie = common::pair(&set_cookie.unwrap());
    for expected in 2..=5 {
        assert_eq!(send(&app, Some(&cookie)).await.2, expected.to_string());
    }

    // The server dies. Every request is a prompt 503 with no cookie, and nothing is written.
    redis.kill();
    for _ in 0..3 {
        let started = Instant::now();
        let (status, set_cookie, _) = send(&app, Some(&cookie)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(set_cookie, None);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    // Back with its data: the session goes on where it was, without restarting the app.
    redis.restart();
    let recovered = wait_for(|| async {
        let (status, _, body) = send(&app, Some(&cookie)).await;
        (status == StatusCode::OK).then_some(body)
    })
    .await;
    assert_eq!(recovered, "6");
}

/// Polls `probe` for up to 20 seconds.
async fn wait_for<R, F: std::future::Future<Output = Option<R>>>(probe: impl Fn() -> F) -> R {
    let started = Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never recovered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A loopback TCP proxy that holds every byte for `delay` before passing it on.
async fn delaying_proxy(target: String, delay: Duration) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(&target).await else {
                    return;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let up = pump(&mut client_read, &mut server_write, delay);
                let down = pump(&mut server_read, &mut client_write, delay);
                let _ = tokio::join!(up, down);
            });
        }
    });
    port
}

async fn pump(
    from: &mut tokio::net::tcp::OwnedReadHalf,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let Ok(n) = from.read(&mut buffer).await else {
            return;
        };
        if n == 0 {
            return;
        }
        tokio::time::sleep(delay).await;
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_slower_than_the_timeout_is_a_bounded_503() {
    let Some(url) = common::servers::url("SESSIONKIT_POSTGRES_URL") else {
        return;
    };
    // Connect straight first (the schema), then through a proxy that delays every packet.
    SqlStore::postgres(&url)
        .await
        .unwrap()
        .migrate()
        .await
        .unwrap();
    let address = url
        .rsplit('@')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let port = delaying_proxy(address.clone(), Duration::from_millis(0)).await;
    let slow_port = delaying_proxy(address, Duration::from_millis(1_500)).await;
    let through = |port: u16| {
        url.replace(
            &url.rsplit('@')
                .next()
                .unwrap()
                .split('/')
                .next()
                .unwrap()
                .to_owned(),
            &format!("127.0.0.1:{port}"),
        )
    };
    // The same app, fast and slow: the fast one works through a proxy, the slow one times out.
    let fast = app(common::builder::<Counter>()
        .store(SqlStore::postgres(&through(port)).await.unwrap())
        .build()
        .unwrap());
    assert_eq!(send(&fast, None).await.0, StatusCode::OK);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_lazy(&through(slow_port))
        .unwrap();
    let slow = app(common::builder::<Counter>()
        .store(SqlStore::from_postgres_pool(pool))
        .store_timeout(Duration::from_millis(300))
        .build()
        .unwrap());
    let started = Instant::now();
    let (status, set_cookie, _) = send(&slow, None).await;
    assert_eq!(
        (status, set_cookie),
        (StatusCode::SERVICE_UNAVAILABLE, None)
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
