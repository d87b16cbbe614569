//! What a session knows about itself (created, issued, expires), the asynchronous revocation
//! check, and the test helpers (`cookie_for`, a closure clock) through a real axum handler.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use common::{at, builder, key, KEY_A, T0};
use sessionkit::axum::SessionLayer;
use sessionkit::{MemoryStore, Rejection, Session, SessionConfig};
use tower::ServiceExt as _;

#[derive(Session, serde::Serialize, serde::Deserialize, Default, Debug, PartialEq, Clone)]
struct App {
    user: Option<String>,
    visits: u32,
}

fn alice() -> App {
    App {
        user: Some("alice".into()),
        visits: 0,
    }
}

#[test]
fn a_loaded_session_knows_when_it_was_made_signed_and_ends() {
    let config = builder::<App>()
        .lifetime(Duration::from_secs(86_400))
        .idle_timeout(Duration::from_secs(1800))
        .build()
        .unwrap();
    let fresh = config.load("", at(T0));
    assert_eq!(
        (fresh.session.created_at(), fresh.session.expires_at()),
        (None, None)
    );
    let cookie = config.cookie_for(alice(), at(T0)).unwrap();
    let loaded = config.load(&cookie, at(T0 + 60));
    assert_eq!(loaded.session.created_at(), Some(at(T0)));
    assert_eq!(loaded.session.issued_at(), Some(at(T0)));
    // The idle window ends first: 30 minutes after the cookie was signed.
    assert_eq!(loaded.session.expires_at(), Some(at(T0 + 1800)));
    // An empty session sends no cookie, so there is none to hand out.
    assert_eq!(config.cookie_for(App::default(), at(T0)).unwrap(), "");
}

#[tokio::test]
async fn with_a_store_the_record_says_when_it_ends() {
    let config = builder::<App>()
        .store(MemoryStore::new())
        .lifetime(Duration::from_secs(600))
        .build()
        .unwrap();
    let cookie = config.cookie_for_async(alice(), at(T0)).await.unwrap();
    let loaded = config
        .load_async([cookie.as_bytes()], at(T0 + 5))
        .await
        .unwrap();
    assert_eq!(
        (loaded.rejected.as_ref(), loaded.session.user()),
        (None, Some("alice"))
    );
    assert_eq!(loaded.session.expires_at(), Some(at(T0 + 600)));
}

/// A revocation list the check consults asynchronously, as a database would be.
#[derive(Clone, Default)]
struct Revoked(Arc<Mutex<HashSet<String>>>);

impl Revoked {
    async fn contains(&self, user: Option<String>) -> bool {
        tokio::task::yield_now().await;
        user.is_some_and(|u| self.0.lock().unwrap().contains(&u))
    }
}

fn checked(revoked: &Revoked) -> SessionConfig<App> {
    let revoked = revoked.clone();
    builder::<App>()
        .validate_async(move |session: &App| {
            let (revoked, user) = (revoked.clone(), session.user().map(str::to_owned));
            async move { !revoked.contains(user).await }
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_async_check_revokes_a_cookie_session_and_sync_loads_refuse_to_skip_it() {
    let revoked = Revoked::default();
    let config = checked(&revoked);
    let cookie = config.cookie_for(alice(), at(T0)).unwrap();
    let kept = config
        .load_async([cookie.as_bytes()], at(T0 + 1))
        .await
        .unwrap();
    assert_eq!((kept.rejected, kept.session.user()), (None, Some("alice")));
    revoked.0.lock().unwrap().insert("alice".into());
    let gone = config
        .load_async([cookie.as_bytes()], at(T0 + 2))
        .await
        .unwrap();
    assert_eq!(gone.rejected, Some(Rejection::Revoked));
    assert_eq!(*gone.session, App::default());
    // The synchronous load cannot wait for the check, so it does not pretend to have run it.
    let sync = config.load(&cookie, at(T0 + 2));
    assert_eq!(sync.rejected, Some(Rejection::NeedsAsync));
    assert!(sync.session.is_new());
}

async fn count(mut session: Session<App>) -> String {
    *session.visits_mut() += 1;
    format!(
        "{} {}",
        session.user().unwrap_or("anonymous"),
        session.visits()
    )
}

async fn get_body(app: &Router, cookie: &str) -> (StatusCode, String) {
    let request = Request::get("/")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn a_handler_tested_logged_in_with_a_moving_clock_and_the_async_check() {
    let revoked = Revoked::default();
    let config = checked(&revoked);
    // The test's clock: a shared time the test moves.
    let clock = Arc::new(Mutex::new(at(T0)));
    let reader = Arc::clone(&clock);
    let layer = SessionLayer::new(config.clone()).clock(move || *reader.lock().unwrap());
    let app = Router::new().route("/", get(count)).layer(layer);

    // Start logged in: the cookie a login would have set.
    let cookie = config.cookie_for(alice(), at(T0)).unwrap();
    assert_eq!(
        get_body(&app, &cookie).await,
        (StatusCode::OK, "alice 1".into())
    );

    // A month later the session has expired, whatever the cookie says.
    *clock.lock().unwrap() = at(T0) + Duration::from_secs(32 * 86_400);
    assert_eq!(get_body(&app, &cookie).await.1, "anonymous 1");

    // Back in time, and alice revoked: the async check runs in the adapter too.
    *clock.lock().unwrap() = at(T0 + 10);
    revoked.0.lock().unwrap().insert("alice".into());
    assert_eq!(get_body(&app, &cookie).await.1, "anonymous 1");
}

#[test]
fn a_config_without_the_async_check_loads_synchronously_as_before() {
    let config: SessionConfig<App> = SessionConfig::builder().key(key(KEY_A)).build().unwrap();
    let cookie = config.cookie_for(alice(), at(T0)).unwrap();
    let loaded = config.load(&cookie, SystemTime::now().min(at(T0 + 1)));
    assert_eq!(loaded.session.user(), Some("alice"));
}
