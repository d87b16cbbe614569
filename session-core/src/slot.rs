//! The per-request hand-off between an adapter's middleware and its extractor.
//!
//! The middleware loads the session into a [`Slot`] and puts the slot in the request's
//! extensions. The extractor moves the session out, so handler code owns it outright (plain
//! `Deref`/`DerefMut`, no lock guard), and moves it back when dropped at the end of the handler.
//! After the handler, the middleware asks the slot what to send.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use tracing::field::Empty;
use tracing::Instrument as _;

pub(crate) use crate::config::Failure;
use crate::session::Refused;
use crate::{
    config::CookieCommand, config::Loaded, config::SessionConfig, error::Rejection,
    error::SaveError, schema::SessionSchema, session::TrackedSession,
};

/// The clock an adapter reads: `SystemTime::now` unless a test gives another.
pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// What an adapter keeps for every request: the configuration and the clock, behind one
/// `Arc` (a request clones it once).
pub(crate) struct Shared<T> {
    inner: Arc<Parts<T>>,
}

pub(crate) struct Parts<T> {
    config: SessionConfig<T>,
    clock: Clock,
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = Parts<T>;

    fn deref(&self) -> &Parts<T> {
        &self.inner
    }
}

impl<T> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl<T: SessionSchema> Shared<T> {
    pub(crate) fn new(config: SessionConfig<T>) -> Self {
        Self {
            inner: Arc::new(Parts {
                config,
                clock: Arc::new(SystemTime::now),
            }),
        }
    }

    /// Replaces the clock (for tests).
    pub(crate) fn set_clock(&mut self, clock: Clock) {
        self.inner = Arc::new(Parts {
            config: self.inner.config.clone(),
            clock,
        });
    }

    /// Starts a request from the raw bytes of its `Cookie` headers: in cookie mode the session
    /// is loaded at once; with a store, the headers are kept for [`Shared::load`].
    pub(crate) fn begin<'h>(&self, cookie_headers: impl IntoIterator<Item = &'h [u8]>) -> Begin<T> {
        if self.config.loads_async() {
            return Begin::Load(cookie_headers.into_iter().map(<[u8]>::to_vec).collect());
        }
        let now = (self.clock)();
        let loaded = self.config.load_header_bytes(cookie_headers, now);
        Begin::Ready(self.slot(loaded, now, None))
    }

    /// Loads the session from the store. A store failure is the response to send (503 by
    /// default), unless the policy continues anonymous.
    pub(crate) async fn load(&self, headers: Vec<Vec<u8>>) -> Result<Slot<T>, Failure> {
        let now = (self.clock)();
        let started = Instant::now();
        // Boxed: the store's future is large, and kept inline it would make every request's
        // future as large, cookie mode's included.
        let loading = Box::pin(
            self.config
                .load_async(headers.iter().map(Vec::as_slice), now),
        );
        match loading.await {
            Ok(loaded) => Ok(self.slot(loaded, now, Some(started))),
            Err(error) => {
                tracing::error!(%error, "sessionkit: the session store failed on load");
                match self.config.load_failure() {
                    None => Ok(self.slot(
                        Loaded {
                            session: TrackedSession::refused(T::default(), false, Refused::Unread),
                            rejected: None,
                        },
                        now,
                        Some(started),
                    )),
                    Some(failure) => Err(failure),
                }
            }
        }
    }

    /// The request's span (`sessionkit`, level `debug`): how the session came in (`loaded`:
    /// `cookie`, `fresh` or `refused`, with the refusal's `reason` kind), the store session's
    /// `session` fingerprint and `load_ms`, and, once the response is decided, `saved` (`set`,
    /// `removed`, `unchanged`, `failed`) and `save_ms`. Never an id, a key or session data.
    fn span(&self, loaded: &Loaded<T>, load: Option<Instant>) -> tracing::Span {
        // No subscriber takes `debug`: no span, not even the `log` fallback some dependency's
        // `tracing/log` feature turns on for a disabled one.
        if !tracing::level_enabled!(tracing::Level::DEBUG) {
            return tracing::Span::none();
        }
        let span = tracing::debug_span!(
            target: "sessionkit",
            "session",
            loaded = Empty,
            reason = Empty,
            session = Empty,
            load_ms = Empty,
            saved = Empty,
            save_ms = Empty,
        );
        if span.is_disabled() {
            return span;
        }
        let incoming = loaded.session.current_incoming();
        let how = match (&loaded.rejected, incoming) {
            (Some(reason), _) => {
                span.record("reason", reason.kind());
                "refused"
            }
            (None, Some(_)) => "cookie",
            (None, None) => "fresh",
        };
        span.record("loaded", how);
        if let Some(stored) = incoming.and_then(|i| i.server.as_ref()) {
            span.record("session", self.config.fingerprint(&stored.id).as_str());
        }
        if let Some(started) = load {
            span.record("load_ms", started.elapsed().as_secs_f64() * 1000.0);
        }
        span
    }

    fn slot(&self, loaded: Loaded<T>, now: SystemTime, load: Option<Instant>) -> Slot<T> {
        let span = self.span(&loaded, load);
        match &loaded.rejected {
            // A deploy that cannot read its sessions, or a store holding records it cannot
            // read, logs users out: an operator must see it.
            Some(
                reason @ (Rejection::Payload(_)
                | Rejection::SchemaMismatch { .. }
                | Rejection::CorruptRecord { .. }),
            ) => {
                tracing::warn!(%reason, "sessionkit: session refused, starting a fresh session");
            }
            Some(reason) => {
                tracing::debug!(%reason, "session cookie rejected, starting a fresh session");
            }
            None => {}
        }
        Slot::new(loaded, now, span)
    }

    /// Decides what to add to a response with `status`; `varies` says whether its `Vary`
    /// already covers `Cookie` ([`varies_by_cookie`]). Logs what the app must know. This is the
    /// one response policy both adapters apply.
    ///
    /// In cookie mode the outcome is decided at once. With a store, the save is a boxed
    /// future: the store's future is large, and kept inline it would make every request's
    /// future (boxed by the adapter) as large, cookie mode's included.
    pub(crate) fn end(
        &self,
        slot: &Slot<T>,
        status: u16,
        varies: bool,
        has_cache_control: bool,
    ) -> Ending<impl Future<Output = Outcome> + '_> {
        if !self.config.saves_async() {
            return Ending::Done(self.end_now(slot, status, varies, has_cache_control));
        }
        let (session, outcome) = slot.settle(status >= 500);
        let Some(session) = session else {
            return Ending::Done(self.conclude(
                slot.span(),
                outcome,
                None,
                status,
                varies,
                has_cache_control,
            ));
        };
        let now = (self.clock)();
        let span = slot.span().clone();
        Ending::Saving(Box::pin(
            async move {
                let started = Instant::now();
                let saved = self.config.save_async(&session, now).await;
                let span = tracing::Span::current();
                span.record("save_ms", started.elapsed().as_secs_f64() * 1000.0);
                self.conclude(
                    &span,
                    outcome,
                    Some(saved),
                    status,
                    varies,
                    has_cache_control,
                )
            }
            .instrument(span),
        ))
    }

    /// [`Shared::end`] in cookie mode, where nothing waits: the outcome at once.
    pub(crate) fn end_now(
        &self,
        slot: &Slot<T>,
        status: u16,
        varies: bool,
        has_cache_control: bool,
    ) -> Outcome {
        let (session, outcome) = slot.settle(status >= 500);
        let saved = session.map(|session| self.config.save(&session, (self.clock)()));
        let span = slot.span();
        // A disabled span (no subscriber takes `debug`) is not entered: entering and leaving
        // one still costs, on every request.
        if span.is_disabled() {
            return self.conclude(span, outcome, saved, status, varies, has_cache_control);
        }
        span.in_scope(|| self.conclude(span, outcome, saved, status, varies, has_cache_control))
    }

    /// Turns the save into the outcome, and completes the request's `span` with it.
    fn conclude(
        &self,
        span: &tracing::Span,
        mut outcome: Outcome,
        saved: Option<Result<CookieCommand, SaveError>>,
        status: u16,
        varies: bool,
        has_cache_control: bool,
    ) -> Outcome {
        let how = match &saved {
            Some(Ok(CookieCommand::Set(_))) => "set",
            Some(Ok(CookieCommand::Remove(_))) => "removed",
            Some(Ok(CookieCommand::Unchanged)) | None => "unchanged",
            Some(Err(_)) => "failed",
        };
        span.record("saved", how);
        match saved {
            Some(Ok(CookieCommand::Set(h) | CookieCommand::Remove(h))) => {
                outcome.set_cookie = Some(h);
                outcome.vary_cookie = true;
            }
            Some(Ok(CookieCommand::Unchanged)) | None => {}
            Some(Err(error)) => {
                tracing::error!(%error, %status, "sessionkit: the session could not be saved");
                outcome.failure = Some(self.config.save_failure(&error));
            }
        }
        outcome.vary_cookie &= !varies;
        if outcome.set_cookie.is_some() && !has_cache_control {
            outcome.cache_control = self.config.cache_control().map(str::to_owned);
        }
        if outcome.escaped {
            tracing::error!("sessionkit: the session extractor outlived its request (moved into a spawned task?); its changes were not saved");
        }
        outcome
    }
}

/// What [`Shared::end`] decided, or the store save that will decide it.
pub(crate) enum Ending<F> {
    Done(Outcome),
    Saving(Pin<Box<F>>),
}

impl<F: Future<Output = Outcome>> Ending<F> {
    pub(crate) async fn outcome(self) -> Outcome {
        match self {
            Self::Done(outcome) => outcome,
            Self::Saving(saving) => saving.await,
        }
    }
}

/// How a request starts: loaded, or to be loaded from the store.
pub(crate) enum Begin<T> {
    Ready(Slot<T>),
    Load(Vec<Vec<u8>>),
}

/// Shared between the middleware and the extractor of one request: one pointer, so the
/// request's future and its extensions carry 8 bytes each, and a clone is one atomic add.
pub(crate) struct Slot<T> {
    inner: Arc<SlotInner<T>>,
}

struct SlotInner<T> {
    state: Mutex<State<T>>,
    /// When the request's session was loaded, by the layer's clock.
    now: SystemTime,
    /// The request's span ([`Shared::span`]).
    span: tracing::Span,
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct State<T> {
    /// Boxed: the session moves from the middleware to the extractor and back, and a pointer
    /// moves cheaper than the session.
    session: Option<Box<TrackedSession<T>>>,
    rejected: Option<Rejection>,
    extracted: bool,
    /// Read in place before the handler (a middleware or a guard).
    read: bool,
}

/// Why an extractor could not take the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TakeError {
    /// A second extractor in the same request.
    AlreadyTaken,
}

/// What the middleware does with the response.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The `Set-Cookie` value to append, if any.
    pub(crate) set_cookie: Option<String>,
    /// Whether to add `Vary: Cookie`: the handler read the session and the response does not
    /// already vary by cookie.
    pub(crate) vary_cookie: bool,
    /// The `Cache-Control` to add: the response sets the cookie and has none of its own.
    pub(crate) cache_control: Option<String>,
    /// Why the session could not be saved: the response to send instead.
    pub(crate) failure: Option<Failure>,
    /// The extractor was moved somewhere that outlived the request; its changes are lost.
    pub(crate) escaped: bool,
}

impl<T: SessionSchema> Slot<T> {
    pub(crate) fn new(loaded: Loaded<T>, now: SystemTime, span: tracing::Span) -> Self {
        Self {
            inner: Arc::new(SlotInner {
                state: Mutex::new(State {
                    session: Some(Box::new(loaded.session)),
                    rejected: loaded.rejected,
                    extracted: false,
                    read: false,
                }),
                now,
                span,
            }),
        }
    }

    /// When the request's session was loaded, by the layer's clock.
    pub(crate) fn now(&self) -> SystemTime {
        self.inner.now
    }

    fn span(&self) -> &tracing::Span {
        &self.inner.span
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // The state stays consistent across a panic in user code: take the guard anyway.
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Moves the session out for a handler, with the reason an incoming cookie was refused.
    pub(crate) fn take(&self) -> Result<(Box<TrackedSession<T>>, Option<Rejection>), TakeError> {
        let mut state = self.lock();
        let session = state.session.take().ok_or(TakeError::AlreadyTaken)?;
        state.extracted = true;
        Ok((session, state.rejected.clone()))
    }

    /// Reads the session in place, for a middleware or a guard that runs before the handler;
    /// `None` while a handler holds it. The response then varies by cookie, as when a handler
    /// reads it.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&TrackedSession<T>) -> R) -> Option<R> {
        let mut state = self.lock();
        let read = state.session.as_deref().map(f);
        state.read |= read.is_some();
        read
    }

    /// Returns the session when the handler's extractor is dropped.
    pub(crate) fn put_back(&self, session: Box<TrackedSession<T>>) {
        self.lock().session = Some(session);
    }

    /// Takes the session back once the handler has returned, with the outcome so far.
    /// `server_error` skips saving.
    ///
    /// The core decides even when the handler never took the session, so a refresh policy
    /// (Flask's re-signing of permanent sessions) applies to every response.
    fn settle(&self, server_error: bool) -> (Option<Box<TrackedSession<T>>>, Outcome) {
        let mut state = self.lock();
        let outcome = Outcome {
            set_cookie: None,
            vary_cookie: state.extracted || state.read,
            cache_control: None,
            failure: None,
            escaped: state.extracted && state.session.is_none(),
        };
        let session = state.session.take().filter(|_| !server_error);
        (session, outcome)
    }
}

/// True when a response's `Vary` values already cover `Cookie` (`Cookie` in any case, in a
/// list, or `*`).
pub(crate) fn varies_by_cookie<'v>(values: impl IntoIterator<Item = &'v [u8]>) -> bool {
    values.into_iter().any(|value| {
        value.split(|&b| b == b',').any(|token| {
            let token = token.trim_ascii();
            token.eq_ignore_ascii_case(b"cookie") || token == b"*"
        })
    })
}

/// The message logged and returned when an extractor runs without the middleware.
pub(crate) const MISSING_LAYER: &str = "sessionkit: the session extractor ran without the session \
    middleware; add it when building the app (axum: `.layer(sessionkit::axum::SessionLayer::new(config))`, \
    actix-web: `.wrap(sessionkit::actix::SessionMiddleware::new(config))`) for the same session type";

/// The message logged and returned when two extractors take the same session.
pub(crate) const TAKEN_TWICE: &str =
    "sessionkit: the session was extracted twice in one request; take one `TrackedSession<T>` per handler";
