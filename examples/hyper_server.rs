//! sessionkit on a bare hyper server, with only the core's `load` and `store`: the recipe for
//! any framework that exposes request headers and lets you add response headers.
//!
//! `cargo run --example hyper_server`, then visit <http://127.0.0.1:8001/> a few times.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::SystemTime;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{COOKIE, SET_COOKIE, VARY};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use sessionkit::{Key, SessionConfig};

#[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
struct Visits {
    count: u32,
}

fn handle(config: &SessionConfig<Visits>, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    // 1. Load: every Cookie header, the current time. Never fails.
    let cookies = request
        .headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let mut loaded = config.load_headers(cookies, SystemTime::now());
    if let Some(reason) = &loaded.rejected {
        eprintln!("fresh session: {reason}");
    }

    // 2. The handler works on the typed session.
    *loaded.session.count_mut() += 1;
    let body = format!("visit number {}\n", loaded.session.count());
    let mut response = Response::new(Full::new(Bytes::from(body)));

    // 3. Store: send exactly the Set-Cookie the core decides, and vary by cookie.
    response
        .headers_mut()
        .insert(VARY, "Cookie".parse().expect("static"));
    match config.save(&loaded.session, SystemTime::now()) {
        Ok(command) => {
            if let Some(header) = command.header() {
                response
                    .headers_mut()
                    .append(SET_COOKIE, header.parse().expect("cookie-safe"));
            }
        }
        Err(error) => {
            eprintln!("session not saved: {error}");
            *response.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    response
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = Key::from_env("SESSION_SECRET").or_else(|_| Key::generate())?;
    let config = Arc::new(SessionConfig::<Visits>::builder().key(key).build()?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8001").await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let config = Arc::clone(&config);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                std::future::ready(Ok::<_, Infallible>(handle(&config, &request)))
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                eprintln!("connection error: {error}");
            }
        });
    }
}
