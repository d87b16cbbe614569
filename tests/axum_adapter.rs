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
    session.user().unwrap_or("Not logged in").to_owned()
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

async fn set_varying(
    mut session: Session<App>,
) -> ([(header::HeaderName, &'static str); 1], &'static str) {
    session.set_user("alice");
    ([(header::VARY, "Accept-Encoding, cookie")], "set")
}

async fn set_no_store(
    mut session: Session<App>,
) -> ([(header::HeaderName, &'static str); 1], &'static str) {
    session.set_user("alice");
    ([(header::CACHE_CONTROL, "no-store")], "set")
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
        .route("/set-varying", get(set_varying))
        .route("/set-no-store", get(set_no_store))
        .layer(SessionLayer::new(config))
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
        ["session=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0"]
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
        ["session=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0"]
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
    // The refused cookie is removed, so the browser stops sending it.
    assert_eq!(
        reply.set_cookie,
        ["session=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0"]
    );
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
async fn a_session_cookie_that_is_not_utf8_is_refused_and_removed() {
    let app = app();
    let value = axum::http::HeaderValue::from_bytes(b"session=\xff\xfe\x80").unwrap();
    let request = Request::get("/read")
        .header(header::COOKIE, value)
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers().get(header::SET_COOKIE).unwrap(),
        "session=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0"
    );
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(&body[..], b"Not logged in");
}

#[tokio::test]
async fn a_non_ascii_byte_in_another_cookie_keeps_the_user_logged_in() {
    let app = app();
    let cookie = logged_in(&app).await;
    for other in [
        "display_name=Zo\u{eb}".as_bytes(),
        b"legacy=caf\xe9",
        b"emoji=\xf0\x9f\x8d\xaa; city=K\xc3\xb8benhavn",
    ] {
        let mut header = other.to_vec();
        header.extend_from_slice(b"; ");
        header.extend_from_slice(cookie.as_bytes());
        let reply = send_bytes(&app, "/read", Some(&header)).await;
        assert_eq!(reply.body, "alice", "{}", String::from_utf8_lossy(other));
        assert!(reply.set_cookie.is_empty());
    }
}

#[tokio::test]
async fn the_session_cookie_itself_holding_non_ascii_bytes_is_a_fresh_session() {
    let app = app();
    let cookie = logged_in(&app).await;
    let mut header = cookie.into_bytes();
    header.push(0xe9);
    let reply = send_bytes(&app, "/read", Some(&header)).await;
    assert_eq!(reply.body, "Not logged in");
}

#[tokio::test]
async fn vary_from_the_handler_is_kept_and_not_doubled() {
    let reply = send(&app(), "/set-varying", None).await;
    assert_eq!(reply.vary, ["Accept-Encoding, cookie"]);
    assert_eq!(reply.set_cookie.len(), 1);
}

#[tokio::test]
async fn a_response_that_sets_the_cookie_is_private_unless_the_handler_chose() {
    let app = app();
    let set = send(&app, "/set", None).await;
    assert_eq!(set.cache_control, ["private"]);
    let chosen = send(&app, "/set-no-store", None).await;
    assert_eq!(chosen.cache_control, ["no-store"]);
    let cookie = common::pair(&set.set_cookie[0]);
    let unchanged = send(&app, "/read", Some(&cookie)).await;
    assert!(unchanged.cache_control.is_empty());
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

/// A refused cookie is removed from the browser, so it is not sent (and checked) again.
#[tokio::test]
async fn a_refused_cookie_is_removed() {
    let app = app();
    let cookie = logged_in(&app).await;
    let forged = format!("{cookie}x");
    let reply = send(&app, "/read", Some(&forged)).await;
    assert_eq!(reply.body, "Not logged in");
    assert_eq!(
        reply.set_cookie,
        ["session=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0"]
    );
    // A route that never touches the session removes it too.
    let plain = send(&app, "/plain", Some(&forged)).await;
    assert_eq!(plain.set_cookie.len(), 1);
}
