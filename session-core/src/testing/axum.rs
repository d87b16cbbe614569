//! [`AxumClient`]: an axum `Router` driven in-process across requests.

use ::axum::body::Body;
use ::axum::http::{header, Request};
use ::axum::Router;
use tower_service::Service as _;

use super::{CookieJar, TestClock, TestResponse};

/// Drives an axum [`Router`] in-process as one browser would: each request carries the cookies
/// the jar holds for its path, and each response's `Set-Cookie` goes into the jar, at the time
/// the [`TestClock`] shows.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use std::time::{Duration, UNIX_EPOCH};
/// use axum::{routing::get, Router};
/// use sessionkit::axum::{Session, SessionLayer};
/// use sessionkit::testing::{AxumClient, TestClock};
/// # #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
/// # struct App { user: Option<String> }
///
/// let clock = TestClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// let config = sessionkit::SessionConfig::<App>::builder()
///     .key(sessionkit::Key::generate()?)
///     .idle_timeout(Duration::from_secs(600))
///     .secure(false)                                     // the client speaks plain HTTP
///     .build()?;
/// let app = Router::new()
///     .route("/login", get(|mut s: Session<App>| async move { s.set_user("alice"); "in" }))
///     .route("/me", get(|s: Session<App>| async move { s.user().unwrap_or("guest").to_owned() }))
///     .layer(SessionLayer::new(config).clock(clock.reader()));
/// let mut client = AxumClient::new(app, clock.clone());
/// client.get("/login").await;
/// assert_eq!(client.get("/me").await.body, "alice");
/// clock.advance(Duration::from_secs(601));                // idle past the timeout
/// assert_eq!(client.get("/me").await.body, "guest");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AxumClient {
    router: Router,
    jar: CookieJar,
    clock: TestClock,
}

impl AxumClient {
    /// A client of `router` with an empty jar, at the time `clock` shows.
    #[must_use]
    pub fn new(router: Router, clock: TestClock) -> Self {
        Self {
            router,
            jar: CookieJar::new(),
            clock,
        }
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.send(Request::get(path).body(Body::empty()).unwrap_or_default())
            .await
    }

    /// `POST path` with `form` as `application/x-www-form-urlencoded` (`a=1&b=2`).
    pub async fn post_form(&mut self, path: &str, form: &str) -> TestResponse {
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned()))
            .unwrap_or_default();
        self.send(request).await
    }

    /// Sends `request` with the jar's cookies for its path, and keeps the response's.
    pub async fn send(&mut self, mut request: Request<Body>) -> TestResponse {
        let path = request.uri().path().to_owned();
        let now = self.clock.now();
        if let Some(cookies) = self.jar.header(&path, now) {
            if let Ok(value) = header::HeaderValue::from_str(&cookies) {
                request.headers_mut().insert(header::COOKIE, value);
            }
        }
        let mut router = self.router.clone();
        let Ok(response) = router.call(request).await;
        let status = response.status().as_u16();
        let (parts, body) = response.into_parts();
        let body = ::axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let headers = parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()));
        TestResponse::received(&mut self.jar, &path, now, status, headers, &body)
    }

    /// The cookies kept so far.
    #[must_use]
    pub fn jar(&self) -> &CookieJar {
        &self.jar
    }

    /// The cookies, to change by hand (a browser restart: [`CookieJar::close_browser`]).
    pub fn jar_mut(&mut self) -> &mut CookieJar {
        &mut self.jar
    }
}
