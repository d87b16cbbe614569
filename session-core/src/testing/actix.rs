//! [`ActixClient`]: an actix-web service driven in-process across requests.

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header;
use actix_web::test;

use super::{CookieJar, TestClock, TestResponse};

/// Drives an actix-web service (from `actix_web::test::init_service`) in-process as one
/// browser would; see [`AxumClient`](super::AxumClient) for the axum one, which it mirrors.
///
/// ```
/// # actix_web::rt::System::new().block_on(async {
/// use std::time::{Duration, UNIX_EPOCH};
/// use actix_web::{test, web, App};
/// use sessionkit::actix::{Session, SessionMiddleware};
/// use sessionkit::testing::{ActixClient, TestClock};
/// # #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
/// # struct Data { user: Option<String> }
///
/// let clock = TestClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// let config = sessionkit::SessionConfig::<Data>::builder()
///     .key(sessionkit::Key::generate()?)
///     .idle_timeout(Duration::from_secs(600))
///     .secure(false)
///     .build()?;
/// let service = test::init_service(
///     App::new()
///         .wrap(SessionMiddleware::new(config).clock(clock.reader()))
///         .route("/login", web::get().to(|mut s: Session<Data>| async move { s.set_user("alice"); "in" }))
///         .route("/me", web::get().to(|s: Session<Data>| async move { s.user().unwrap_or("guest").to_owned() })),
/// )
/// .await;
/// let mut client = ActixClient::new(service, clock.clone());
/// client.get("/login").await;
/// assert_eq!(client.get("/me").await.body, "alice");
/// clock.advance(Duration::from_secs(601));
/// assert_eq!(client.get("/me").await.body, "guest");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ActixClient<S> {
    service: S,
    jar: CookieJar,
    clock: TestClock,
}

impl<S, B> ActixClient<S>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    /// A client of `service` with an empty jar, at the time `clock` shows.
    #[must_use]
    pub fn new(service: S, clock: TestClock) -> Self {
        Self {
            service,
            jar: CookieJar::new(),
            clock,
        }
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.send(test::TestRequest::get().uri(path)).await
    }

    /// `POST path` with `form` as `application/x-www-form-urlencoded` (`a=1&b=2`).
    pub async fn post_form(&mut self, path: &str, form: &str) -> TestResponse {
        let request = test::TestRequest::post()
            .uri(path)
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(form.to_owned());
        self.send(request).await
    }

    /// Sends `request` with the jar's cookies for its path, and keeps the response's.
    pub async fn send(&mut self, request: test::TestRequest) -> TestResponse {
        let request = request.to_request();
        let path = request.path().to_owned();
        let now = self.clock.now();
        let mut request = request;
        if let Some(cookies) = self.jar.header(&path, now) {
            if let Ok(value) = header::HeaderValue::from_str(&cookies) {
                request.headers_mut().insert(header::COOKIE, value);
            }
        }
        let response = test::call_service(&self.service, request).await;
        let status = response.status().as_u16();
        let headers: Vec<(String, Vec<u8>)> = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
            .collect();
        let body = test::read_body(response).await;
        let headers = headers.iter().map(|(n, v)| (n.as_str(), v.as_slice()));
        TestResponse::received(&mut self.jar, &path, now, status, headers, &body)
    }

    /// The cookies kept so far.
    #[must_use]
    pub fn jar(&self) -> &CookieJar {
        &self.jar
    }

    /// The cookies, to change by hand.
    pub fn jar_mut(&mut self) -> &mut CookieJar {
        &mut self.jar
    }
}
