//! The axum adapter, driven in-process: what only axum has (a missing layer, its
//! `Cache-Control` setting, a `from_fn` middleware reading the session). The scenarios both
//! adapters share are in `tests/adapter_scenarios.rs`.

mod common;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use sessionkit::axum::{Session, SessionLayer};
use sessionkit::testing::{AxumClient, TestClock};

#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug)]
struct App {
    user: Option<String>,
}

async fn set(mut session: Session<App>) -> &'static str {
    session.set_user("alice");
    "set"
}

async fn read(session: Session<App>) -> String {
    session.user().unwrap_or("Not logged in").to_owned()
}

/// A client of `app` (as a browser: it keeps the cookies), with the system clock.
fn client(app: Router) -> AxumClient {
    AxumClient::new(app, TestClock::new(std::time::SystemTime::now()))
}

#[tokio::test]
async fn a_missing_layer_is_a_500_that_names_the_fix() {
    let bare = Router::new().route("/read", get(read));
    let reply = client(bare).get("/read").await;
    assert_eq!(reply.status, 500);
    assert!(
        reply
            .body
            .contains(".layer(sessionkit::axum::SessionLayer::new(config))"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn cache_control_is_configurable() {
    let config = common::builder::<App>()
        .cache_control(None)
        .build()
        .unwrap();
    let off = Router::new()
        .route("/set", get(set))
        .layer(SessionLayer::new(config));
    let reply = client(off).get("/set").await;
    assert!(reply.header_values("cache-control").is_empty());
    let config = common::builder::<App>()
        .cache_control(Some("private, no-cache"))
        .build()
        .unwrap();
    let custom = Router::new()
        .route("/set", get(set))
        .layer(SessionLayer::new(config));
    let reply = client(custom).get("/set").await;
    assert_eq!(reply.header_values("cache-control"), ["private, no-cache"]);
}

/// A `from_fn` middleware reads the typed session before the handler, without taking it.
#[tokio::test]
async fn a_middleware_reads_the_session_before_the_handler() {
    use axum::middleware::{from_fn, Next};
    use axum::response::{IntoResponse, Response};

    async fn signed_in_only(request: axum::extract::Request, next: Next) -> Response {
        let user = sessionkit::axum::read_session(
            request.extensions(),
            |s: &sessionkit::TrackedSession<App>| s.user().map(str::to_owned),
        );
        match user {
            Some(Some(_)) => next.run(request).await,
            _ => StatusCode::UNAUTHORIZED.into_response(),
        }
    }
    let config = common::builder::<App>().build().unwrap();
    let app = Router::new()
        .route("/account", get(read).route_layer(from_fn(signed_in_only)))
        .route("/set", get(set))
        .layer(SessionLayer::new(config));
    let mut browser = client(app);
    let anonymous = browser.get("/account").await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.header_values("vary"), ["Cookie"]);
    assert_eq!(
        browser.get("/set").await.header_values("set-cookie").len(),
        1
    );
    let account = browser.get("/account").await;
    assert_eq!((account.status, account.body.as_str()), (200, "alice"));
    assert!(account.header_values("set-cookie").is_empty());
}

/// `Session::now()` is the layer's clock, so a handler that asks a store for sessions at that
/// time agrees with the layer (and a test's `TestClock` applies to both).
#[tokio::test]
async fn the_session_tells_the_time_of_the_layers_clock() {
    use std::time::{Duration, UNIX_EPOCH};

    async fn when(session: Session<App>) -> String {
        let at = session.now().duration_since(UNIX_EPOCH).unwrap();
        at.as_secs().to_string()
    }
    let clock = TestClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let config = common::builder::<App>().build().unwrap();
    let app = Router::new()
        .route("/when", get(when))
        .layer(SessionLayer::new(config).clock(clock.reader()));
    let mut client = AxumClient::new(app, clock.clone());
    assert_eq!(client.get("/when").await.body, "1700000000");
    clock.advance(Duration::from_secs(90));
    assert_eq!(client.get("/when").await.body, "1700000090");
}
