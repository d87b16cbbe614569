//! The axum adapter, driven in-process: what each request sends back.

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
    session
        .user()
        .cloned()
        .unwrap_or_else(|| "Not logged in".into())
}

async fn pop(mut session: Session<App>) -> String {
    session.pop_user().unwrap_or_default()
}

async fn clear(mut session: Session<App>) -> &'static str {
    session.clear();
    "cleared"
}

async fn fail(mut session: Session<App>) -> StatusCode {
    session.set_user("mallory");
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn plain() -> &'static str {
    "no session here"
}

fn app() -> Router {
    let config = common::builder::<App>().build().unwrap();
    Router::new()
        .route("/set", get(set))
        .route("/read", get(read))
        .route("/pop", get(pop))
        .route("/clear", get(clear))
        .route("/fail", get(fail))
        .route("/plain", get(plain))
        .layer(SessionLayer::new(config))
}

struct Reply {
    status: StatusCode,
    set_cookie: Vec<String>,
    vary: Vec<String>,
    body: String,
}

async fn send(app: &Router, path: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
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
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    Reply {
        status,
        set_cookie,
        vary,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn logged_in(app: &Router) -> String {
    let reply = send(app, "/set", None).await;
    assert_eq!(reply.set_cookie.len(), 1);
    common::pair(&reply.set_cookie[0])
}

#[tokio::test]
async fn set_sends_one_cookie_and_read_gets_it_back() {
    let app = app();
    let cookie = logged_in(&app).await;
    let reply = send(&app, "/read", Some(&cookie)).await;
    assert_eq!(reply.body, "alice");
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unchanged_request_sends_no_cookie_but_varies() {
    let app = app();
    let cookie = logged_in(&app).await;
    let reply = send(&app, "/read", Some(&format!("theme=dark; {cookie}"))).await;
    assert!(reply.set_cookie.is_empty());
    assert_eq!(reply.vary, ["Cookie"]);
}

#[tokio::test]
async fn a_route_without_the_extractor_neither_varies_nor_sets() {
    let app = app();
    let cookie = logged_in(&app).await;
    let reply = send(&app, "/plain", Some(&cookie)).await;
    assert!(reply.set_cookie.is_empty() && reply.vary.is_empty());
}

#[tokio::test]
async fn pop_sends_a_removal_for_the_last_key() {
    let app = app();
    let cookie = logged_in(&app).await;
    let reply = send(&app, "/pop", Some(&cookie)).await;
    assert_eq!(reply.body, "alice");
    assert_eq!(
        reply.set_cookie,
        ["session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"]
    );
}

#[tokio::test]
async fn pop_of_an_absent_key_sends_nothing() {
    let reply = send(&app(), "/pop", None).await;
    assert_eq!(reply.body, "");
    assert!(reply.set_cookie.is_empty());
}

#[tokio::test]
async fn clear_sends_the_removal_cookie() {
    let app = app();
    let cookie = logged_in(&app).await;
    let reply = send(&app, "/clear", Some(&cookie)).await;
    assert_eq!(
        reply.set_cookie,
        ["session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"]
    );
}

#[tokio::test]
async fn a_tampered_cookie_is_a_fresh_session() {
    let app = app();
    let cookie = logged_in(&app).await;
    // Position 60 is inside the payload; 'A' <-> 'B' keeps it valid base64url.
    let mut bytes = cookie.clone().into_bytes();
    bytes[60] = if bytes[60] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let reply = send(&app, "/read", Some(&tampered)).await;
    assert_eq!(reply.body, "Not logged in");
    assert!(reply.set_cookie.is_empty());
}

#[tokio::test]
async fn a_server_error_saves_nothing() {
    let reply = send(&app(), "/fail", None).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.set_cookie.is_empty());
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
async fn a_cookie_header_that_is_not_utf8_is_no_cookie() {
    let app = app();
    let value = axum::http::HeaderValue::from_bytes(b"session=\xff\xfe\x80").unwrap();
    let request = Request::get("/read")
        .header(header::COOKIE, value)
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(&body[..], b"Not logged in");
}
