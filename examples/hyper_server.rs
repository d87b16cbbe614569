//! sessionkit on a bare hyper server, with only the core's two async calls, `load_async` and
//! `save_async`: the recipe for any framework that exposes request headers and lets you add
//! response headers. The same code serves sessions kept in the cookie or in a store.
//!
//! `cargo run --example hyper_server --features tokio`, then visit <http://127.0.0.1:8001/> a few
//! times; add `-- --memory` to keep the sessions in a server-side store.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::SystemTime;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{COOKIE, RETRY_AFTER, SET_COOKIE, VARY};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use sessionkit::{Key, MemoryStore, SaveError, SessionConfig};

#[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
struct Visits {
    count: u32,
}

async fn handle(
    config: &SessionConfig<Visits>,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    // 1. Load: every Cookie header (as bytes), the current time. A store that cannot answer
    //    is an error to report, never an empty session.
    let cookies = request
        .headers()
        .get_all(COOKIE)
        .iter()
        .map(hyper::http::HeaderValue::as_bytes);
    let mut loaded = match config.load_async(cookies, SystemTime::now()).await {
        Ok(loaded) => loaded,
        Err(error) => return unavailable(&error),
    };
    if let Some(reason) = &loaded.rejected {
        eprintln!("fresh session: {reason}");
    }

    // 2. The handler works on the typed session.
    *loaded.session.count_mut() += 1;
    let body = format!("visit number {}\n", loaded.session.count());
    let mut response = Response::new(Full::new(Bytes::from(body)));

    // 3. Save: the store operation first, then exactly the Set-Cookie the core decides.
    response
        .headers_mut()
        .insert(VARY, "Cookie".parse().expect("static"));
    match config.save_async(&loaded.session, SystemTime::now()).await {
        Ok(command) => {
            if let Some(header) = command.header() {
                response
                    .headers_mut()
                    .append(SET_COOKIE, header.parse().expect("cookie-safe"));
            }
        }
        Err(SaveError::Store(error)) => return unavailable(&error),
        Err(error) => {
            eprintln!("session not saved: {error}");
            *response.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    response
}

fn unavailable(error: &sessionkit::StoreError) -> Response<Full<Bytes>> {
    eprintln!("session store failed: {error}");
    let mut response = Response::new(Full::new(Bytes::from("try again shortly\n")));
    *response.status_mut() = hyper::StatusCode::SERVICE_UNAVAILABLE;
    response
        .headers_mut()
        .insert(RETRY_AFTER, "1".parse().expect("static"));
    response
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = Key::from_env("SESSION_SECRET").or_else(|_| Key::generate())?;
    let mut builder = SessionConfig::<Visits>::builder().key(key);
    if std::env::args().any(|a| a == "--memory") {
        builder = builder.store(MemoryStore::new());
    }
    let config = Arc::new(builder.build()?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8001").await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let config = Arc::clone(&config);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let config = Arc::clone(&config);
                async move { Ok::<_, Infallible>(handle(&config, request).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                eprintln!("connection error: {error}");
            }
        });
    }
}
