//! The actix-web adapter: [`SessionMiddleware`] and the [`Session`] extractor.
//!
//! ```
//! use actix_web::{web, App};
//! use sessionkit::actix::{Session, SessionMiddleware};
//! use sessionkit::{Key, SessionConfig};
//!
//! #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
//! struct Visits { visits: u32 }
//!
//! async fn count(mut session: Session<Visits>) -> String {
//!     *session.visits_mut() += 1;          // saved when the handler returns
//!     format!("visit {}", session.visits())
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SessionConfig::<Visits>::builder().key(Key::generate()?).build()?;
//! let middleware = SessionMiddleware::new(config);     // build once, clone per worker
//! let app = move || App::new().wrap(middleware.clone()).route("/", web::get().to(count));
//! # let _ = app;
//! # Ok(()) }
//! ```
//!
//! Behaviour matches the axum adapter: exactly the `Set-Cookie` the core decides, `Vary: Cookie`
//! when the handler took the session, nothing saved on a 5xx, and a 500 naming the fix when the
//! middleware is missing.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderValue, CACHE_CONTROL, COOKIE, RETRY_AFTER, SET_COOKIE, VARY};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use crate::engine::outcome::CookieCommand;
pub use crate::extract::Session;
use crate::slot::{
    varies_by_cookie, Begin, Failure, Outcome, Shared, Slot, MISSING_LAYER, TAKEN_TWICE,
};
use crate::{config::SessionConfig, schema::SessionSchema};

impl CookieCommand {
    /// The cookie to send as actix-web's `Cookie` (its `cookie` 0.16), for
    /// `HttpResponse::cookie` or `add_cookie`; the same `Set-Cookie` value as
    /// [`header`](Self::header).
    ///
    /// ```
    /// # use sessionkit::{Key, Session, SessionConfig};
    /// # #[derive(Session, Default, serde::Serialize, serde::Deserialize)]
    /// # struct App { visits: u32 }
    /// # let config = SessionConfig::<App>::builder().key(Key::generate()?).build()?;
    /// # let now = std::time::SystemTime::now();
    /// let command = config.save(&sessionkit::TrackedSession::new(App { visits: 1 }), now)?;
    /// let cookie = command.to_actix_cookie().expect("a cookie to set");
    /// let response = actix_web::HttpResponse::Ok().cookie(cookie).finish();
    /// let sent = response.headers().get("set-cookie").unwrap().to_str()?;
    /// assert_eq!(Some(sent), command.header());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn to_actix_cookie(&self) -> Option<actix_web::cookie::Cookie<'static>> {
        actix_web::cookie::Cookie::parse(self.header()?.to_owned()).ok()
    }
}

/// Middleware that gives handlers a [`Session<T>`]. Build it once, clone it into each worker.
pub struct SessionMiddleware<T> {
    shared: Shared<T>,
}

impl<T: SessionSchema> SessionMiddleware<T> {
    /// Middleware over `config`; a weak key already failed when `config` was built.
    #[must_use]
    pub fn new(config: SessionConfig<T>) -> Self {
        Self {
            shared: Shared::new(config),
        }
    }

    /// Replaces the clock (`SystemTime::now`), for tests that need a fixed or moving time: a
    /// function or a closure (one that reads a shared `Arc<Mutex<SystemTime>>`, say).
    #[must_use]
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.shared.set_clock(std::sync::Arc::new(clock));
        self
    }
}

impl<T> Clone for SessionMiddleware<T> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T> std::fmt::Debug for SessionMiddleware<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionMiddleware")
            .field("shared", &self.shared)
            .finish()
    }
}

impl<S, B, T> Transform<S, ServiceRequest> for SessionMiddleware<T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
    T: SessionSchema + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = SessionService<S, T>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionService {
            service: Rc::new(service),
            shared: self.shared.clone(),
        }))
    }
}

type BoxFuture<O> = Pin<Box<dyn Future<Output = O>>>;

pin_project_lite::pin_project! {
    /// The response future of [`SessionService`]. In cookie mode it is the inner service's
    /// future and the decision after it, with no allocation of its own; with a store, a boxed
    /// future that loads, calls and saves.
    pub struct ResponseFuture<F, T> {
        #[pin]
        kind: Kind<F, T>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProjection]
    enum Kind<F, T> {
        Ready {
            #[pin]
            responding: F,
            shared: Shared<T>,
            slot: Slot<T>,
        },
        Store {
            future: BoxFuture<Result<ServiceResponse<BoxBody>, actix_web::Error>>,
        },
    }
}

impl<F, B, T> Future for ResponseFuture<F, T>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
    B: MessageBody + 'static,
    T: SessionSchema,
{
    type Output = Result<ServiceResponse<BoxBody>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProjection::Ready {
                responding,
                shared,
                slot,
            } => {
                let response = std::task::ready!(responding.poll(cx))?.map_into_boxed_body();
                let (status, varies, has_cache_control) = inspect(&response);
                let outcome = shared.end_now(slot, status, varies, has_cache_control);
                Poll::Ready(Ok(apply(outcome, response)))
            }
            KindProjection::Store { future } => future.as_mut().poll(cx),
        }
    }
}

impl<F, T> std::fmt::Debug for ResponseFuture<F, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

/// The service [`SessionMiddleware`] wraps around the app.
pub struct SessionService<S, T> {
    service: Rc<S>,
    shared: Shared<T>,
}

impl<S, T> std::fmt::Debug for SessionService<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService").finish_non_exhaustive()
    }
}

impl<S, B, T> Service<ServiceRequest> for SessionService<S, T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
    T: SessionSchema + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = ResponseFuture<S::Future, T>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let headers = request.headers().get_all(COOKIE);
        let begin = self.shared.begin(headers.map(HeaderValue::as_bytes));
        let shared = self.shared.clone();
        let kind = match begin {
            // Cookie mode: the session is loaded already, so the inner service is called here.
            Begin::Ready(slot) => {
                request.extensions_mut().insert(slot.clone());
                Kind::Ready {
                    responding: self.service.call(request),
                    shared,
                    slot,
                }
            }
            Begin::Load(headers) => {
                let service = Rc::clone(&self.service);
                Kind::Store {
                    future: Box::pin(async move {
                        let slot = match shared.load(headers).await {
                            Ok(slot) => slot,
                            Err(failure) => {
                                let (request, _) = request.into_parts();
                                let response = failure_response(failure);
                                return Ok(ServiceResponse::new(request, response));
                            }
                        };
                        request.extensions_mut().insert(slot.clone());
                        let response = service.call(request).await?;
                        Ok(finish(&shared, &slot, response).await)
                    }),
                }
            }
        };
        ResponseFuture { kind }
    }
}

/// After the handler: saves, and writes the outcome into the response (or replaces it).
async fn finish<B: MessageBody + 'static, T: SessionSchema>(
    shared: &Shared<T>,
    slot: &Slot<T>,
    response: ServiceResponse<B>,
) -> ServiceResponse<BoxBody> {
    let response = response.map_into_boxed_body();
    let (status, varies, has_cache_control) = inspect(&response);
    let outcome = shared
        .end(slot, status, varies, has_cache_control)
        .outcome()
        .await;
    apply(outcome, response)
}

/// The status of the handler's response, whether its `Vary` covers `Cookie`, and whether it
/// has a `Cache-Control`.
fn inspect(response: &ServiceResponse<BoxBody>) -> (u16, bool, bool) {
    let headers = response.headers();
    let varies = varies_by_cookie(headers.get_all(VARY).map(HeaderValue::as_bytes));
    (
        response.status().as_u16(),
        varies,
        headers.contains_key(CACHE_CONTROL),
    )
}

/// Writes the outcome into `response`, or replaces it with the error response.
fn apply(outcome: Outcome, mut response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    if let Some(failure) = outcome.failure {
        return response.into_response(failure_response(failure));
    }
    let headers = response.headers_mut();
    if outcome.vary_cookie {
        headers.append(VARY, HeaderValue::from_static("Cookie"));
    }
    if let Some(value) = outcome
        .cache_control
        .and_then(|v| HeaderValue::try_from(v).ok())
    {
        headers.append(CACHE_CONTROL, value);
    }
    if let Some(value) = outcome
        .set_cookie
        .and_then(|c| HeaderValue::try_from(c).ok())
    {
        headers.append(SET_COOKIE, value);
    }
    response
}

/// The response that replaces the handler's when the session cannot be loaded or saved.
fn failure_response(failure: Failure) -> HttpResponse {
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut response = HttpResponse::build(status);
    if let Some(seconds) = failure.retry_after {
        response.insert_header((RETRY_AFTER, seconds.to_string()));
    }
    response.body(failure.body)
}

/// Why the [`Session`] extractor failed: a setup mistake, answered with a 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// No [`SessionMiddleware`] for this session type wraps the route.
    MissingMiddleware,
    /// The handler takes the session twice.
    ExtractedTwice,
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::MissingMiddleware => MISSING_LAYER,
            Self::ExtractedTwice => TAKEN_TWICE,
        })
    }
}

impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!("{self}");
        HttpResponse::InternalServerError().body(self.to_string())
    }
}

/// Reads the session of a request before its handler runs, without taking it from the
/// handler: for a guard (`ctx.req_data()`) or a middleware (`request.extensions()`) that
/// checks the user. `None` when the [`SessionMiddleware`] for `T` does not wrap this route
/// (or a handler already holds the session).
///
/// ```
/// use actix_web::guard::{self, GuardContext};
/// # #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
/// # struct App { user: Option<String> }
///
/// fn signed_in(ctx: &GuardContext<'_>) -> bool {
///     sessionkit::actix::read_session(&ctx.req_data(), |s: &sessionkit::TrackedSession<App>| {
///         s.user().is_some()
///     }) == Some(true)
/// }
/// let _ = actix_web::web::resource("/account").guard(guard::fn_guard(signed_in));
/// ```
pub fn read_session<T, R>(
    extensions: &actix_web::dev::Extensions,
    read: impl FnOnce(&crate::session::TrackedSession<T>) -> R,
) -> Option<R>
where
    T: SessionSchema + 'static,
{
    extensions.get::<Slot<T>>()?.read(read)
}

impl<T: SessionSchema + 'static> FromRequest for Session<T> {
    type Error = SessionError;
    type Future = Ready<Result<Self, SessionError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let slot = request.extensions().get::<Slot<T>>().cloned();
        ready(
            slot.ok_or(SessionError::MissingMiddleware)
                .and_then(|slot| Self::take_from(slot).map_err(|_| SessionError::ExtractedTwice)),
        )
    }
}
