//! The per-request hand-off between an adapter's middleware and its extractor.
//!
//! The middleware loads the session into a [`Slot`] and puts the slot in the request's
//! extensions. The extractor moves the session out, so handler code owns it outright (plain
//! `Deref`/`DerefMut`, no lock guard), and moves it back when dropped at the end of the handler.
//! After the handler, the middleware asks the slot what to send.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use crate::{CookieCommand, Loaded, Rejection, SaveError, Session, SessionConfig, SessionSchema};

/// The clock an adapter reads: `SystemTime::now` unless a test gives another.
pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// What an adapter keeps for every request: the configuration and the clock.
pub(crate) struct Shared<T> {
    config: SessionConfig<T>,
    pub(crate) clock: Clock,
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            clock: Arc::clone(&self.clock),
        }
    }
}

impl<T> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<T: SessionSchema> Shared<T> {
    pub(crate) fn new(config: SessionConfig<T>) -> Self {
        Self {
            config,
            clock: Arc::new(SystemTime::now),
        }
    }

    /// Loads the request's session from the raw bytes of its `Cookie` headers into a new slot.
    pub(crate) fn begin<'h>(&self, cookie_headers: impl IntoIterator<Item = &'h [u8]>) -> Slot<T> {
        let loaded = self
            .config
            .load_header_bytes(cookie_headers, (self.clock)());
        if let Some(reason) = &loaded.rejected {
            tracing::debug!(%reason, "session cookie rejected, starting a fresh session");
        }
        Slot::new(loaded)
    }

    /// Decides what to add to a response with `status`, whose `Vary` values and whether it has
    /// a `Cache-Control` are given, logging what the app must know. This is the one response
    /// policy both adapters apply.
    pub(crate) fn end<'v>(
        &self,
        slot: &Slot<T>,
        status: u16,
        vary: impl IntoIterator<Item = &'v [u8]>,
        has_cache_control: bool,
    ) -> Outcome {
        let mut outcome = slot.finish(&self.config, status >= 500, (self.clock)());
        outcome.vary_cookie &= !varies_by_cookie(vary);
        if outcome.set_cookie.is_some() && !has_cache_control {
            outcome.cache_control = self.config.cache_control().map(str::to_owned);
        }
        if outcome.escaped {
            tracing::error!("sessionkit: the session extractor outlived its request (moved into a spawned task?); its changes were not saved");
        }
        if let Some(error) = &outcome.error {
            tracing::error!(%error, %status, "sessionkit: the session could not be saved");
        }
        outcome
    }
}

/// Shared between the middleware and the extractor of one request.
pub(crate) struct Slot<T> {
    inner: Arc<Mutex<State<T>>>,
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct State<T> {
    session: Option<Session<T>>,
    rejected: Option<Rejection>,
    extracted: bool,
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
    /// Why the session could not be saved: the response must become an error.
    pub(crate) error: Option<SaveError>,
    /// The extractor was moved somewhere that outlived the request; its changes are lost.
    pub(crate) escaped: bool,
}

impl<T: SessionSchema> Slot<T> {
    pub(crate) fn new(loaded: Loaded<T>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(State {
                session: Some(loaded.session),
                rejected: loaded.rejected,
                extracted: false,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // The state stays consistent across a panic in user code: take the guard anyway.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Moves the session out for a handler, with the reason an incoming cookie was refused.
    pub(crate) fn take(&self) -> Result<(Session<T>, Option<Rejection>), TakeError> {
        let mut state = self.lock();
        let session = state.session.take().ok_or(TakeError::AlreadyTaken)?;
        state.extracted = true;
        Ok((session, state.rejected.clone()))
    }

    /// Returns the session when the handler's extractor is dropped.
    pub(crate) fn put_back(&self, session: Session<T>) {
        self.lock().session = Some(session);
    }

    /// Decides what to send, once the handler has returned. `server_error` skips saving.
    ///
    /// The core decides even when the handler never took the session, so a refresh policy
    /// (Flask's re-signing of permanent sessions) applies to every response.
    fn finish(&self, config: &SessionConfig<T>, server_error: bool, now: SystemTime) -> Outcome {
        let state = self.lock();
        let mut outcome = Outcome {
            set_cookie: None,
            vary_cookie: state.extracted,
            cache_control: None,
            error: None,
            escaped: state.extracted && state.session.is_none(),
        };
        let Some(session) = state.session.as_ref().filter(|_| !server_error) else {
            return outcome;
        };
        match config.save(session, now) {
            Ok(CookieCommand::Set(h) | CookieCommand::Remove(h)) => {
                outcome.set_cookie = Some(h);
                outcome.vary_cookie = true;
            }
            Ok(CookieCommand::Unchanged) => {}
            Err(e) => outcome.error = Some(e),
        }
        outcome
    }
}

/// True when a response's `Vary` values already cover `Cookie` (`Cookie` in any case, in a
/// list, or `*`).
fn varies_by_cookie<'v>(values: impl IntoIterator<Item = &'v [u8]>) -> bool {
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
    "sessionkit: the session was extracted twice in one request; take one `Session<T>` per handler";
