//! The adapters on a server-side store: the same handlers, the data on the server, and a store
//! failure answered with 503 and no cookie, never with an empty session.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use sessionkit::axum::{Session, SessionLayer};
use sessionkit::store::{Created, Record, StoreResult, Updated};
use sessionkit::{MemoryStore, SessionConfig, SessionStore, StoreError, StoreFailure, StoreKey};
use tower::ServiceExt;

#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug)]
struct App {
    #[session(owner)]
    user: Option<String>,
}

async fn login(mut session: Session<App>) -> &'static str {
    session.set_user("alice");
    session.renew();
    "in"
}

async fn read(session: Session<App>) -> String {
    session.user().unwrap_or("anonymous").to_owned()
}

async fn logout(mut session: Session<App>) -> &'static str {
    session.clear();
    "out"
}

fn app(config: SessionConfig<App>) -> Router {
    Router::new()
        .route("/login", get(login))
        .route("/read", get(read))
        .route("/logout", get(logout))
        .layer(SessionLayer::new(config))
}

struct Reply {
    status: StatusCode,
    set_cookie: Option<String>,
    retry_after: Option<String>,
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
    let text = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let (set_cookie, retry_after) = (text(header::SET_COOKIE), text(header::RETRY_AFTER));
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    Reply {
        status,
        set_cookie,
        retry_after,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

#[tokio::test]
async fn the_same_handlers_keep_their_data_on_the_server() {
    let dir = common::temp::TempDir::new("adapter");
    let store = sessionkit::FileStore::new(dir.path()).unwrap();
    let config = common::builder::<App>()
        .store(store.clone())
        .build()
        .unwrap();
    let app = app(config.clone());
    let reply = send(&app, "/login", None).await;
    let cookie = common::pair(&reply.set_cookie.unwrap());
    assert!(!cookie.contains("alice"));
    assert_eq!(send(&app, "/read", Some(&cookie)).await.body, "alice");
    assert_eq!(
        config
            .list_owner("alice", std::time::SystemTime::now())
            .await
            .unwrap()
            .len(),
        1
    );

    // A restart (a new app on the same directory) keeps the user logged in.
    let restarted = self::app(
        common::builder::<App>()
            .store(sessionkit::FileStore::new(dir.path()).unwrap())
            .build()
            .unwrap(),
    );
    assert_eq!(send(&restarted, "/read", Some(&cookie)).await.body, "alice");

    // Logging out deletes the record: the old cookie is worth nothing, even replayed.
    let out = send(&restarted, "/logout", Some(&cookie)).await;
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(send(&app, "/read", Some(&cookie)).await.body, "anonymous");
    assert!(config
        .list_owner("alice", std::time::SystemTime::now())
        .await
        .unwrap()
        .is_empty());
}

/// A store whose server is down: every operation fails.
#[derive(Debug, Default)]
struct Down;

impl SessionStore for Down {
    async fn load(&self, _: &StoreKey, _: u64) -> StoreResult<Option<Record>> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn create(&self, _: &StoreKey, _: &Record, _: u64) -> StoreResult<Created> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn update(&self, _: &StoreKey, _: u64, _: &Record, _: u64) -> StoreResult<Updated> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn touch(&self, _: &StoreKey, _: u64, _: u64) -> StoreResult<bool> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn rotate(
        &self,
        _: &StoreKey,
        _: &StoreKey,
        _: u64,
        _: &Record,
        _: u64,
    ) -> StoreResult<Updated> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn delete(&self, _: &StoreKey) -> StoreResult<()> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn delete_expired(&self, _: u64, _: usize) -> StoreResult<usize> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
}

/// A store whose reads fail while its writes work (a replica down, a read timeout).
#[derive(Debug, Default)]
struct ReadsFail(MemoryStore);

impl SessionStore for ReadsFail {
    async fn load(&self, _: &StoreKey, _: u64) -> StoreResult<Option<Record>> {
        Err(StoreError::Unavailable("read timed out".into()))
    }
    async fn create(&self, key: &StoreKey, record: &Record, now: u64) -> StoreResult<Created> {
        self.0.create(key, record, now).await
    }
    async fn update(
        &self,
        key: &StoreKey,
        expected: u64,
        record: &Record,
        now: u64,
    ) -> StoreResult<Updated> {
        self.0.update(key, expected, record, now).await
    }
    async fn touch(&self, key: &StoreKey, expires_at: u64, now: u64) -> StoreResult<bool> {
        self.0.touch(key, expires_at, now).await
    }
    async fn rotate(
        &self,
        old: &StoreKey,
        new: &StoreKey,
        expected: u64,
        record: &Record,
        now: u64,
    ) -> StoreResult<Updated> {
        self.0.rotate(old, new, expected, record, now).await
    }
    async fn delete(&self, key: &StoreKey) -> StoreResult<()> {
        self.0.delete(key).await
    }
    async fn delete_expired(&self, now: u64, limit: usize) -> StoreResult<usize> {
        self.0.delete_expired(now, limit).await
    }
}

/// Under `ContinueAnonymous`, a request whose load failed writes nothing: a new anonymous
/// session would replace the cookie of the session it could not read, logging its user out.
#[tokio::test]
async fn continue_anonymous_never_replaces_the_cookie_it_could_not_read() {
    let config = common::builder::<App>()
        .store(ReadsFail::default())
        .on_store_error(StoreFailure::ContinueAnonymous)
        .build()
        .unwrap();
    let app = app(config);
    let cookie = some_id_cookie().await;
    let reply = send(&app, "/login", Some(&cookie)).await;
    assert_eq!((reply.status, reply.set_cookie), (StatusCode::OK, None));
}

/// A store slower than any timeout.
#[derive(Debug, Default)]
struct Slow(MemoryStore);

impl SessionStore for Slow {
    async fn load(&self, key: &StoreKey, now: u64) -> StoreResult<Option<Record>> {
        tokio::time::sleep(Duration::from_secs(30)).await;
        self.0.load(key, now).await
    }
    async fn create(&self, key: &StoreKey, record: &Record, now: u64) -> StoreResult<Created> {
        tokio::time::sleep(Duration::from_secs(30)).await;
        self.0.create(key, record, now).await
    }
    async fn update(
        &self,
        key: &StoreKey,
        expected: u64,
        record: &Record,
        now: u64,
    ) -> StoreResult<Updated> {
        self.0.update(key, expected, record, now).await
    }
    async fn touch(&self, key: &StoreKey, expires_at: u64, now: u64) -> StoreResult<bool> {
        self.0.touch(key, expires_at, now).await
    }
    async fn rotate(
        &self,
        old: &StoreKey,
        new: &StoreKey,
        expected: u64,
        record: &Record,
        now: u64,
    ) -> StoreResult<Updated> {
        self.0.rotate(old, new, expected, record, now).await
    }
    async fn delete(&self, key: &StoreKey) -> StoreResult<()> {
        self.0.delete(key).await
    }
    async fn delete_expired(&self, now: u64, limit: usize) -> StoreResult<usize> {
        self.0.delete_expired(now, limit).await
    }
}

/// A signed id cookie for the test key, so a load reaches the store.
async fn some_id_cookie() -> String {
    let config = common::builder::<App>()
        .store(MemoryStore::new())
        .build()
        .unwrap();
    let app = app(config);
    common::pair(&send(&app, "/login", None).await.set_cookie.unwrap())
}

#[tokio::test]
async fn a_store_that_is_down_is_a_503_with_retry_after_and_no_cookie() {
    let app = app(common::builder::<App>().store(Down).build().unwrap());
    let cookie = some_id_cookie().await;
    for (path, cookie) in [("/read", Some(cookie.as_str())), ("/login", None)] {
        let reply = send(&app, path, cookie).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(reply.retry_after.as_deref(), Some("1"), "{path}");
        assert_eq!(reply.set_cookie, None, "{path}");
        assert_eq!(reply.body, "session store unavailable");
    }
}

#[tokio::test]
async fn continue_anonymous_is_an_opt_in() {
    let config = common::builder::<App>()
        .store(Down)
        .on_store_error(StoreFailure::ContinueAnonymous)
        .build()
        .unwrap();
    let app = app(config);
    let cookie = some_id_cookie().await;
    let reply = send(&app, "/read", Some(&cookie)).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "anonymous")
    );
    assert_eq!(reply.set_cookie, None);
    // A write still cannot succeed, and says so.
    assert_eq!(
        send(&app, "/login", None).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn a_store_slower_than_the_timeout_is_a_bounded_503() {
    let config = common::builder::<App>()
        .store(Slow::default())
        .store_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let app = app(config);
    let cookie = some_id_cookie().await;
    let started = std::time::Instant::now();
    let reply = send(&app, "/read", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    // Tried twice (a load may be retried once), each bounded by the timeout.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let login = send(&app, "/login", None).await;
    assert_eq!(
        (login.status, login.set_cookie),
        (StatusCode::SERVICE_UNAVAILABLE, None)
    );
}

#[actix_web::test]
async fn actix_answers_a_store_outage_the_same_way() {
    use actix_web::{test, web, App as ActixApp};
    use sessionkit::actix::{Session as ActixSession, SessionMiddleware};
    async fn read(session: ActixSession<App>) -> String {
        session.user().unwrap_or_default().to_owned()
    }
    let middleware = SessionMiddleware::new(common::builder::<App>().store(Down).build().unwrap());
    let app = test::init_service(
        ActixApp::new()
            .wrap(middleware)
            .route("/read", web::get().to(read)),
    )
    .await;
    let cookie = some_id_cookie().await;
    let request = test::TestRequest::get()
        .uri("/read")
        .insert_header(("cookie", cookie))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers().get("retry-after").unwrap(), "1");
    assert!(response.headers().get("set-cookie").is_none());
}
