//! [`SessionConfig`]: cookie attributes, lifetimes, refresh policy, and the `load`/`save` core.

mod admin;
mod builder;
mod checks;
#[cfg(any(feature = "axum", feature = "actix"))]
mod failure;
mod io;

#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) use failure::Failure;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

pub use builder::SessionConfigBuilder;

use crate::engine::outcome::request_pair;
pub use crate::engine::outcome::{CookieCommand, Loaded};
use crate::engine::{Engine, Opening, Work};
use crate::error::{Rejection, SaveError};
use crate::lifetime::unix_seconds;
use crate::schema::SessionSchema;
use crate::session::TrackedSession;
use crate::store::Driver;

/// The `__Host-` cookie name prefix.
pub const HOST_PREFIX: &str = "__Host-";

/// How sessions of type `T` are kept in a signed cookie. Build one at start-up and share it:
/// clones are cheap and share the settings.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use sessionkit::{CookieCommand, Key, SessionConfig, SessionSchema};
///
/// #[derive(Default, serde::Serialize, serde::Deserialize)]
/// struct App { user: Option<String> }
/// impl SessionSchema for App { const FIELDS: &'static [&'static str] = &["user"]; }
///
/// let config = SessionConfig::<App>::builder().key(Key::generate()?).build()?;
/// let now = SystemTime::now();
///
/// let mut loaded = config.load("", now);
/// assert!(loaded.rejected.is_none() && loaded.session.is_new());
/// loaded.session.user = Some("alice".into());
/// let CookieCommand::Set(header) = config.save(&loaded.session, now)? else { panic!() };
///
/// let value = header.split(';').next().unwrap();       // "session=..."
/// let again = config.load(value, now + Duration::from_secs(5));
/// assert_eq!(again.session.user.as_deref(), Some("alice"));
/// assert_eq!(config.save(&again.session, now)?, CookieCommand::Unchanged);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SessionConfig<T> {
    pub(crate) inner: Arc<Inner<T>>,
}

/// What a [`SessionConfig`] shares between its clones: the engine that decides, and with a
/// store, the driver that runs what it plans.
pub(crate) struct Inner<T> {
    pub(crate) engine: Engine<T>,
    pub(crate) driver: Option<Driver>,
}

impl<T> Clone for SessionConfig<T> {
    /// A cheap clone: the settings are shared.
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> fmt::Debug for SessionConfig<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let engine = &self.inner.engine;
        f.debug_struct("SessionConfig")
            .field("name", &engine.name)
            .field("carrier", &engine.carrier)
            .field("layout", &engine.layout)
            .field("lifetime", &engine.lifetime)
            .field("max_cookie_bytes", &engine.max_cookie_bytes)
            .field("store", &self.inner.driver)
            .finish_non_exhaustive()
    }
}

impl<T: SessionSchema> SessionConfig<T> {
    /// A builder with secure defaults: `HttpOnly; Secure; SameSite=Lax; Path=/`, no `Domain`,
    /// the cookie name and lifetime from `T`'s [`SessionSchema`], a 4096-byte limit.
    pub fn builder() -> SessionConfigBuilder<T> {
        SessionConfigBuilder::new()
    }

    /// The cookie name.
    #[must_use]
    pub fn cookie_name(&self) -> &str {
        &self.inner.engine.name
    }

    /// The `Cache-Control` value a response carrying the session's `Set-Cookie` gets when the
    /// handler set none (see [`SessionConfigBuilder::cache_control`]).
    #[must_use]
    pub fn cache_control(&self) -> Option<&str> {
        self.inner.engine.cache_control.as_deref()
    }

    /// Loads the session from a `Cookie` header value; see [`SessionConfig::load_headers`].
    pub fn load(&self, cookie_header: &str, now: SystemTime) -> Loaded<T> {
        self.load_header_bytes([cookie_header.as_bytes()], now)
    }

    /// Loads the session from the request's `Cookie` headers (HTTP/2 may send several).
    ///
    /// Never fails and never panics: a missing (or empty) cookie gives a new session, a refused
    /// one gives a new session and the [`Rejection`]. Work is bounded whatever the headers hold:
    /// one scan for the exact name, at most [`MAX_CANDIDATES`](crate::MAX_CANDIDATES) values,
    /// each capped at `max_cookie_bytes` before decoding.
    pub fn load_headers<'h>(
        &self,
        headers: impl IntoIterator<Item = &'h str>,
        now: SystemTime,
    ) -> Loaded<T> {
        self.load_header_bytes(headers.into_iter().map(str::as_bytes), now)
    }

    /// Loads the session from the raw bytes of the request's `Cookie` headers, as a server
    /// receives them.
    ///
    /// Other cookies may hold any bytes (browsers send UTF-8 values such as
    /// `display_name=Zoë`): they are skipped over, never decoded, and never hide the session
    /// cookie. Adapters call this one, so no header is dropped for not being ASCII.
    ///
    /// With [`validate_async`](SessionConfigBuilder::validate_async) configured, every cookie is
    /// refused here with [`Rejection::NeedsAsync`]: load with
    /// [`load_async`](SessionConfig::load_async), which runs the check.
    pub fn load_header_bytes<'h>(
        &self,
        headers: impl IntoIterator<Item = &'h [u8]>,
        now: SystemTime,
    ) -> Loaded<T> {
        self.load_bytes(headers, now, false)
    }

    /// [`SessionConfig::load_header_bytes`]; `checked_later` when the caller runs the async
    /// check itself.
    pub(crate) fn load_bytes<'h>(
        &self,
        headers: impl IntoIterator<Item = &'h [u8]>,
        now: SystemTime,
        checked_later: bool,
    ) -> Loaded<T> {
        let engine = &self.inner.engine;
        match engine.open(headers, unix_seconds(now), checked_later) {
            Opening::Ready(loaded) => loaded,
            // The session is in a store: loading it is `load_async`'s.
            Opening::Fetch(_) => engine.refused(Some(Rejection::ServerSide)),
        }
    }

    /// Decides what to send back for `session` at the end of a request.
    ///
    /// An untouched session is not serialized. A touched one is serialized and compared with the
    /// bytes that came in: [`CookieCommand::Set`] goes out only on a real change, when a fallback
    /// key verified the cookie (it is re-signed with the current key), when the permanence
    /// changed, after [`TrackedSession::renew`], or when the [`Refresh`](crate::Refresh) policy says
    /// so. A session emptied back to `T::default()` gives [`CookieCommand::Remove`] if a cookie
    /// came in.
    ///
    /// # Errors
    ///
    /// [`SaveError::TooLarge`] when the whole `Set-Cookie` value would exceed
    /// `max_cookie_bytes`; [`SaveError::Serialize`] when `T` fails to serialize.
    pub fn save(
        &self,
        session: &TrackedSession<T>,
        now: SystemTime,
    ) -> Result<CookieCommand, SaveError> {
        if self.inner.driver.is_some() {
            return Err(SaveError::NeedsAsync);
        }
        match self.inner.engine.plan(session, unix_seconds(now))? {
            Work::Send(command) => Ok(command),
            Work::Store(_) => Err(SaveError::NeedsAsync),
        }
    }

    /// The `Cookie` request header (`name=value`) that carries a new session holding `data`,
    /// signed as of `now`: to start a test logged in, or to replay a user in a load test.
    /// Empty when `data` is the default (an empty session sends no cookie). With a store, use
    /// [`SessionConfig::cookie_for_async`], which writes the record.
    ///
    /// ```
    /// # use std::time::{Duration, SystemTime};
    /// # use sessionkit::{Key, SessionConfig};
    /// # #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default, Debug, PartialEq)]
    /// # struct App { user: Option<String> }
    /// let config = SessionConfig::<App>::builder().key(Key::generate()?).build()?;
    /// let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    /// let cookie = config.cookie_for(App { user: Some("alice".into()) }, an_hour_ago)?;
    /// let loaded = config.load(&cookie, SystemTime::now());
    /// assert_eq!(loaded.session.user(), Some("alice"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`SessionConfig::save`].
    pub fn cookie_for(&self, data: T, now: SystemTime) -> Result<String, SaveError> {
        let command = self.save(&TrackedSession::new(data), now)?;
        Ok(request_pair(&command))
    }
}
