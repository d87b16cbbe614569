//! The axum/tower adapter: [`SessionLayer`] and the [`Session`] extractor.
//!
//! ```
//! use axum::{routing::get, Router};
//! use sessionkit::axum::{Session, SessionLayer};
//! use sessionkit::{Key, SessionConfig};
//!
//! #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
//! struct App { visits: u32 }
//!
//! async fn count(mut session: Session<App>) -> String {
//!     *session.visits_mut() += 1;          // saved when the handler returns
//!     format!("visit {}", session.visits())
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SessionConfig::<App>::builder().key(Key::generate()?).build()?;
//! let app: Router = Router::new().route("/", get(count)).layer(SessionLayer::new(config));
//! # Ok(()) }
//! ```
//!
//! For the lowest overhead, wrap the whole router rather than each route: `Router::layer`
//! wraps every route in its own service, which costs about as much again as the session layer
//! itself. With `tower::Layer` in scope, `let app = SessionLayer::new(config).layer(router);`
//! gives a service to serve with `axum::serve(listener, app.into_make_service())`
//! (`axum::ServiceExt`).
//!
//! The layer loads the session before the handler and, after it, appends exactly the
//! `Set-Cookie` the core decides (or none), adds `Vary: Cookie` when the handler took the
//! session, and saves nothing on a 5xx response. An extractor without the layer is a 500 whose
//! log line names the fix.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use ::axum::extract::{FromRequestParts, Request};
use ::axum::http::header::{CACHE_CONTROL, COOKIE, RETRY_AFTER, SET_COOKIE, VARY};
use ::axum::http::{request::Parts, HeaderValue, StatusCode};
use ::axum::response::{IntoResponse, Response};

pub use crate::extract::Session;
use crate::slot::{
    varies_by_cookie, Begin, Failure, Outcome, Shared, Slot, MISSING_LAYER, TAKEN_TWICE,
};
use crate::{config::SessionConfig, schema::SessionSchema};

/// A tower layer that gives handlers a [`Session<T>`]. Build it once, at start-up.
pub struct SessionLayer<T> {
    shared: Shared<T>,
}

impl<T: SessionSchema> SessionLayer<T> {
    /// A layer over `config`; a weak key already failed when `config` was built.
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

impl<T> Clone for SessionLayer<T> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T> std::fmt::Debug for SessionLayer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionLayer")
            .field("shared", &self.shared)
            .finish()
    }
}

impl<S, T> tower_layer::Layer<S> for SessionLayer<T> {
    type Service = SessionService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`SessionLayer`] wraps around the app.
pub struct SessionService<S, T> {
    inner: S,
    shared: Shared<T>,
}

impl<S: Clone, T> Clone for SessionService<S, T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S, T> std::fmt::Debug for SessionService<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService").finish_non_exhaustive()
    }
}

type BoxFuture<O> = Pin<Box<dyn Future<Output = O> + Send>>;

pin_project_lite::pin_project! {
    /// The response future of [`SessionService`]. In cookie mode it is the inner service's
    /// future and the decision after it, with no allocation of its own; with a store, a boxed
    /// future that loads, calls and saves.
    pub struct ResponseFuture<F, T, E> {
        #[pin]
        kind: Kind<F, T, E>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProjection]
    enum Kind<F, T, E> {
        Ready {
            #[pin]
            responding: F,
            shared: Shared<T>,
            slot: Slot<T>,
        },
        Store {
            future: BoxFuture<Result<Response, E>>,
        },
    }
}

impl<F, T, E> Future for ResponseFuture<F, T, E>
where
    F: Future<Output = Result<Response, E>>,
    T: SessionSchema,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProjection::Ready {
                responding,
                shared,
                slot,
            } => {
                let mut response = std::task::ready!(responding.poll(cx))?;
                let (status, varies, has_cache_control) = inspect(&response);
                let outcome = shared.end_now(slot, status, varies, has_cache_control);
                Poll::Ready(Ok(apply(outcome, &mut response).unwrap_or(response)))
            }
            KindProjection::Store { future } => future.as_mut().poll(cx),
        }
    }
}

impl<F, T, E> std::fmt::Debug for ResponseFuture<F, T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<S, T> tower_service::Service<Request> for SessionService<S, T>
where
    S: tower_service::Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send,
    T: SessionSchema + Send + Sync + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, T, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let headers = request.headers().get_all(COOKIE).iter();
        let begin = self.shared.begin(headers.map(HeaderValue::as_bytes));
        let shared = self.shared.clone();
        let kind = match begin {
            // Cookie mode: the session is loaded already, so the inner service is called here,
            // as tower-http's middleware call theirs, with no clone of it.
            Begin::Ready(slot) => {
                request.extensions_mut().insert(slot.clone());
                Kind::Ready {
                    responding: self.inner.call(request),
                    shared,
                    slot,
                }
            }
            // With a store, the load comes first: call the instance that was polled ready,
            // and keep a fresh clone for the next call.
            Begin::Load(headers) => {
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Kind::Store {
                    future: Box::pin(async move {
                        let slot = match shared.load(headers).await {
                            Ok(slot) => slot,
                            Err(failure) => return Ok(failure_response(failure)),
                        };
                        request.extensions_mut().insert(slot.clone());
                        let response = inner.call(request).await?;
                        Ok(finish(&shared, &slot, response).await)
                    }),
                }
            }
        };
        ResponseFuture { kind }
    }
}

/// After the handler: saves, and writes the outcome into the response (or replaces it).
async fn finish<T: SessionSchema>(
    shared: &Shared<T>,
    slot: &Slot<T>,
    mut response: Response,
) -> Response {
    let headers = response.headers();
    let varies = varies_by_cookie(headers.get_all(VARY).iter().map(HeaderValue::as_bytes));
    let has_cache_control = headers.contains_key(CACHE_CONTROL);
    let status = response.status().as_u16();
    let outcome = shared
        .end(slot, status, varies, has_cache_control)
        .outcome()
        .await;
    apply(outcome, &mut response).unwrap_or(response)
}

/// The status of the handler's response, whether its `Vary` covers `Cookie`, and whether it
/// has a `Cache-Control`.
fn inspect(response: &Response) -> (u16, bool, bool) {
    let headers = response.headers();
    let varies = varies_by_cookie(headers.get_all(VARY).iter().map(HeaderValue::as_bytes));
    (
        response.status().as_u16(),
        varies,
        headers.contains_key(CACHE_CONTROL),
    )
}

/// The response that replaces the handler's when the session cannot be loaded or saved.
fn failure_response(failure: Failure) -> Response {
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut response = (status, failure.body).into_response();
    if let Some(seconds) = failure.retry_after {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// Writes the outcome into `response`, or returns the error response that replaces it.
fn apply(outcome: Outcome, response: &mut Response) -> Option<Response> {
    if let Some(failure) = outcome.failure {
        return Some(failure_response(failure));
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
    if let Some(cookie) = outcome.set_cookie {
        // The core only builds headers from validated tokens and base64url, so this holds.
        if let Ok(value) = HeaderValue::try_from(cookie) {
            headers.append(SET_COOKIE, value);
        }
    }
    None
}

/// Why the [`Session`] extractor failed: a setup mistake, answered with a 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionRejection {
    /// No [`SessionLayer`] for this session type wraps the route.
    MissingLayer,
    /// The handler takes the session twice.
    ExtractedTwice,
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        let message = match self {
            Self::MissingLayer => MISSING_LAYER,
            Self::ExtractedTwice => TAKEN_TWICE,
        };
        tracing::error!("{message}");
        (StatusCode::INTERNAL_SERVER_ERROR, message).into_response()
    }
}

/// Reads the session of a request before its handler runs, without taking it from the
/// handler: for an `axum::middleware::from_fn` guard that checks the user. `None` when the
/// [`SessionLayer`] for `T` is not around this route (or a handler already holds the session).
///
/// ```
/// use axum::{extract::Request, http::StatusCode, middleware::Next, response::Response};
/// # #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
/// # struct App { user: Option<String> }
///
/// async fn signed_in_only(request: Request, next: Next) -> Result<Response, StatusCode> {
///     let signed_in = sessionkit::axum::read_session(request.extensions(), |s: &sessionkit::TrackedSession<App>| {
///         s.user().is_some()
///     });
///     if signed_in == Some(true) {
///         Ok(next.run(request).await)
///     } else {
///         Err(StatusCode::UNAUTHORIZED)
///     }
/// }
/// ```
pub fn read_session<T, R>(
    extensions: &::axum::http::Extensions,
    read: impl FnOnce(&crate::session::TrackedSession<T>) -> R,
) -> Option<R>
where
    T: SessionSchema + Send + 'static,
{
    extensions.get::<Slot<T>>()?.read(read)
}

impl<S, T> FromRequestParts<S> for Session<T>
where
    S: Send + Sync,
    T: SessionSchema + Send + 'static,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let slot = parts
            .extensions
            .get::<Slot<T>>()
            .cloned()
            .ok_or(SessionRejection::MissingLayer)?;
        Self::take_from(slot).map_err(|_| SessionRejection::ExtractedTwice)
    }
}
