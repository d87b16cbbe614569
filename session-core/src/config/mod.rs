//! [`SessionConfig`]: cookie attributes, lifetimes, refresh policy, and the `load`/`store` core.

mod builder;
#[cfg(feature = "flask")]
mod flask;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use builder::SessionConfigBuilder;

use crate::codec::{Codec, Opened, Stamp};
use crate::cookie::{self, Layout};
use crate::{Rejection, Session, SessionSchema, StoreError};

/// The `__Host-` cookie name prefix.
pub const HOST_PREFIX: &str = "__Host-";

/// When an unchanged session's cookie is signed again with a new issued-at time.
///
/// Re-signing slides the idle timeout forward; the created-at time is kept, so the absolute
/// lifetime still holds.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Refresh {
    /// Only changed sessions are sent.
    Never,
    /// Every request that loaded a session re-signs it (Flask's `SESSION_REFRESH_EACH_REQUEST`).
    EveryRequest,
    /// Re-sign once this fraction of the idle timeout has passed since the cookie was issued.
    /// Without an idle timeout there is nothing to slide, so nothing is re-signed.
    AfterFraction(f64),
}

impl Default for Refresh {
    /// `AfterFraction(0.5)`: at most one extra `Set-Cookie` per half idle window.
    fn default() -> Self {
        Self::AfterFraction(0.5)
    }
}

/// A hook that decides whether a verified session is still valid (see
/// [`SessionConfigBuilder::validate`]).
type Validator<T> = Arc<dyn Fn(&T) -> bool + Send + Sync>;

/// The cookie format a configuration reads and writes.
#[derive(Debug)]
enum Format {
    /// sessionkit's signed envelope (`codec.rs`).
    Native(Codec),
    /// Flask's `URLSafeTimedSerializer` cookie.
    #[cfg(feature = "flask")]
    Flask(crate::flask::FlaskCodec),
}

/// How sessions of type `T` are kept in a signed cookie. Build one at start-up and share it.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use session_core::{CookieCommand, Key, SessionConfig, SessionSchema};
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
/// let CookieCommand::Set(header) = config.store(&loaded.session, now)? else { panic!() };
///
/// let value = header.split(';').next().unwrap();       // "session=..."
/// let again = config.load(value, now + Duration::from_secs(5));
/// assert_eq!(again.session.user.as_deref(), Some("alice"));
/// assert_eq!(config.store(&again.session, now)?, CookieCommand::Unchanged);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SessionConfig<T> {
    name: String,
    format: Format,
    layout: Layout,
    lifetime: Duration,
    idle_timeout: Option<Duration>,
    refresh: Refresh,
    max_cookie_bytes: usize,
    clock_skew: Duration,
    permanent: bool,
    empty_payload: Vec<u8>,
    validator: Option<Validator<T>>,
}

impl<T> fmt::Debug for SessionConfig<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("layout", &self.layout)
            .field("lifetime", &self.lifetime)
            .field("idle_timeout", &self.idle_timeout)
            .field("refresh", &self.refresh)
            .field("max_cookie_bytes", &self.max_cookie_bytes)
            .finish_non_exhaustive()
    }
}

/// The outcome of [`SessionConfig::load`]: always a session, and why a cookie was refused.
#[derive(Debug)]
#[must_use = "the session must be stored after the request for changes to persist"]
pub struct Loaded<T> {
    /// The session: the cookie's data, or a fresh one.
    pub session: Session<T>,
    /// Why the incoming cookie was not used, if one came and was refused.
    pub rejected: Option<Rejection>,
}

/// What to send back: the full `Set-Cookie` header value, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the command says which Set-Cookie header to send"]
pub enum CookieCommand {
    /// Send this `Set-Cookie` value.
    Set(String),
    /// Send this `Set-Cookie` value, which removes the cookie from the browser.
    Remove(String),
    /// Send no `Set-Cookie`.
    Unchanged,
}

impl CookieCommand {
    /// The `Set-Cookie` value to send, if any.
    #[must_use]
    pub fn header(&self) -> Option<&str> {
        match self {
            Self::Set(h) | Self::Remove(h) => Some(h),
            Self::Unchanged => None,
        }
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
        &self.name
    }

    /// Loads the session from a `Cookie` header value; see [`SessionConfig::load_headers`].
    pub fn load(&self, cookie_header: &str, now: SystemTime) -> Loaded<T> {
        self.load_headers([cookie_header], now)
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
        let now = unix_seconds(now);
        let candidates = cookie::find(headers, &self.name);
        let mut first_rejection = None;
        for value in candidates.as_slice() {
            match self.open(value, now) {
                Ok(session) => {
                    return Loaded {
                        session,
                        rejected: None,
                    }
                }
                Err(reason) => {
                    first_rejection.get_or_insert(reason);
                }
            }
        }
        Loaded {
            session: Session::fresh(T::default(), self.permanent),
            rejected: first_rejection,
        }
    }

    fn open(&self, value: &str, now: u64) -> Result<Session<T>, Rejection> {
        if value.len() > self.max_cookie_bytes {
            return Err(Rejection::TooLarge {
                bytes: value.len(),
                limit: self.max_cookie_bytes,
            });
        }
        let opened = match &self.format {
            Format::Native(codec) => {
                let opened = codec.open(value)?;
                if opened.schema != T::VERSION {
                    return Err(Rejection::SchemaMismatch {
                        found: opened.schema,
                        expected: T::VERSION,
                    });
                }
                self.check_time(opened.stamp, now)?;
                opened
            }
            #[cfg(feature = "flask")]
            Format::Flask(codec) => flask::open(codec, value, now, self.lifetime)?,
        };
        let data: T = serde_json::from_slice(opened.payload())
            .map_err(|e| Rejection::Payload(e.to_string()))?;
        if let Some(validate) = &self.validator {
            if !validate(&data) {
                return Err(Rejection::Revoked);
            }
        }
        Ok(Session::loaded(data, opened))
    }

    /// Expiry from the signed timestamps: valid while `age <= lifetime` and `idle <= timeout`.
    fn check_time(&self, stamp: Stamp, now: u64) -> Result<(), Rejection> {
        if stamp.created_at > stamp.issued_at {
            return Err(Rejection::Malformed);
        }
        if stamp.issued_at > now.saturating_add(self.clock_skew.as_secs()) {
            return Err(Rejection::IssuedInFuture {
                by: Duration::from_secs(stamp.issued_at - now),
            });
        }
        let age = Duration::from_secs(now.saturating_sub(stamp.created_at));
        if age > self.lifetime {
            return Err(Rejection::Expired {
                age,
                limit: self.lifetime,
            });
        }
        let idle = Duration::from_secs(now.saturating_sub(stamp.issued_at));
        match self.idle_timeout {
            Some(limit) if idle > limit => Err(Rejection::IdleTimeout { idle, limit }),
            _ => Ok(()),
        }
    }

    /// Decides what to send back for `session` at the end of a request.
    ///
    /// An untouched session is not serialized. A touched one is serialized and compared with the
    /// bytes that came in: [`CookieCommand::Set`] goes out only on a real change, when a fallback
    /// key verified the cookie (it is re-signed with the current key), when the permanence
    /// changed, or when the [`Refresh`] policy says so. A session emptied back to
    /// `T::default()` gives [`CookieCommand::Remove`] if a cookie came in.
    ///
    /// # Errors
    ///
    /// [`StoreError::TooLarge`] when the whole `Set-Cookie` value would exceed
    /// `max_cookie_bytes`; [`StoreError::Serialize`] when `T` fails to serialize.
    pub fn store(
        &self,
        session: &Session<T>,
        now: SystemTime,
    ) -> Result<CookieCommand, StoreError> {
        let now = unix_seconds(now);
        match &self.format {
            Format::Native(codec) => self.store_native(codec, session, now),
            #[cfg(feature = "flask")]
            Format::Flask(codec) => flask::store(self, codec, session, now),
        }
    }

    fn store_native(
        &self,
        codec: &Codec,
        session: &Session<T>,
        now: u64,
    ) -> Result<CookieCommand, StoreError> {
        let incoming = session.incoming().filter(|_| !session.was_cleared());
        let stamp = Stamp {
            permanent: session.is_permanent(),
            issued_at: now,
            created_at: incoming.map_or(now, |o| o.stamp.created_at),
        };
        let must_resign = incoming.is_some_and(|o| self.must_resign(o, stamp));
        if !session.was_touched() {
            return match incoming {
                Some(opened) if must_resign => {
                    let mut raw = codec.begin(stamp, opened.payload().len());
                    raw.extend_from_slice(opened.payload());
                    self.finish(|out| codec.seal(raw, out), stamp, now)
                }
                _ => Ok(CookieCommand::Unchanged),
            };
        }
        let mut raw = codec.begin(stamp, self.empty_payload.len() + 64);
        let start = raw.len();
        serde_json::to_writer(&mut raw, &**session).map_err(StoreError::Serialize)?;
        let payload = &raw[start..];
        if payload == self.empty_payload {
            return Ok(self.removal(session));
        }
        if !must_resign && incoming.is_some_and(|o| o.payload() == payload) {
            return Ok(CookieCommand::Unchanged);
        }
        self.finish(|out| codec.seal(raw, out), stamp, now)
    }

    /// A removal cookie if one came in, otherwise nothing.
    fn removal(&self, session: &Session<T>) -> CookieCommand {
        match session.incoming() {
            Some(_) => CookieCommand::Remove(self.layout.removal(&self.name)),
            None => CookieCommand::Unchanged,
        }
    }

    fn must_resign(&self, opened: &Opened, stamp: Stamp) -> bool {
        opened.by_fallback || opened.stamp.permanent != stamp.permanent || {
            let since = stamp.issued_at.saturating_sub(opened.stamp.issued_at);
            match (self.refresh, self.idle_timeout) {
                (Refresh::EveryRequest, _) => true,
                (Refresh::AfterFraction(f), Some(idle)) => {
                    Duration::from_secs(since) >= idle.mul_f64(f)
                }
                _ => false,
            }
        }
    }

    /// Builds the `Set-Cookie` value around the cookie value `write_value` appends, and checks
    /// its length.
    fn finish(
        &self,
        write_value: impl FnOnce(&mut String),
        stamp: Stamp,
        now: u64,
    ) -> Result<CookieCommand, StoreError> {
        let mut header = String::with_capacity(self.name.len() + 384);
        header.push_str(&self.name);
        header.push('=');
        write_value(&mut header);
        let expiry = stamp.permanent.then(|| self.max_age(stamp.created_at, now));
        self.layout.attributes(&mut header, expiry, now);
        if header.len() > self.max_cookie_bytes {
            return Err(StoreError::TooLarge {
                bytes: header.len(),
                limit: self.max_cookie_bytes,
            });
        }
        Ok(CookieCommand::Set(header))
    }

    /// The remaining server-side lifetime: never more than the absolute limit left, nor the
    /// idle timeout.
    fn max_age(&self, created_at: u64, now: u64) -> u64 {
        let left = self
            .lifetime
            .as_secs()
            .saturating_sub(now.saturating_sub(created_at));
        self.idle_timeout
            .map_or(left, |idle| left.min(idle.as_secs()))
    }
}

fn unix_seconds(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
