//! The axum adapter, driven in-process: what only axum has (a missing layer, its
//! `Cache-Control` setting, a `from_fn` middleware reading the session). The scenarios both
//! adapters share are in `tests/adapter_scenarios.rs`.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use sessionkit::axum::{Session, SessionLayer};
use tower::ServiceExt;

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

struct Reply {
    status: StatusCode,
    set_cookie: Vec<String>,
    vary: Vec<String>,
    cache_control: Vec<String>,
    body: String,
}

async fn send(app: &Router, path: &str, cookie: Option<&str>) -> Reply {
    send_bytes(app, path, cookie.map(str::as_bytes)).await
}

/// Sends a `Cookie` header of any bytes, as a browser may.
async fn send_bytes(app: &Router, path: &str, cookie: Option<&[u8]>) -> Reply {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        let value = axum::http::HeaderValue::from_bytes(cookie).unwrap();
        request = request.header(header::COOKIE, value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let all = |name| {
        response
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let (set_cookie, vary) = (all(header::SET_COOKIE), all(header::VARY));
    let cache_control = all(header::CACHE_CONTROL);
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    Reply {
        status,
        set_cookie,
        vary,
        cache_control,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn logged_in(app: &Router) -> String {
    let reply = send(app, "/set", None).await;
    assert_eq!(reply.set_cookie.len(), 1);
    common::pair(&reply.set_cookie[0])
}

#[tokio::test]
async fn a_missing_layer_is_a_500_that_names_the_fix() {
    let bare = Router::new().route("/read", get(read));
    let reply = send(&bare, "/read", None).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
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
    assert!(send(&off, "/set", None).await.cache_control.is_empty());
    let config = common::builder::<App>()
        .cache_control(Some("private, no-cache"))
        .build()
        .unwrap();
    let custom = Router::new()
        .route("/set", get(set))
        .layer(SessionLayer::new(config));
    assert_eq!(
        send(&custom, "/set", None).await.cache_control,
        ["private, no-cache"]
    );
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
    let anonymous = send(&app, "/account", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.vary, ["Cookie"]);
    let cookie = logged_in(&app).await;
    let account = send(&app, "/account", Some(&cookie)).await;
    assert_eq!(
        (account.status, account.body.as_str()),
        (StatusCode::OK, "alice")
    );
    assert!(account.set_cookie.is_empty());
}

/// `Session::now()` is the layer's clock, so a handler that asks a store for sessions at that
/// time agrees with the layer (and a test's `TestClock` applies to both).
#[tokio::test]
async fn the_session_tells_the_time_of_the_layers_clock() {
    use sessionkit::testing::{AxumClient, TestClock};
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
