//! [`SessionConfig`]: cookie attributes, lifetimes, refresh policy, and the `load`/`save` core.

mod builder;
mod checks;
#[cfg(any(feature = "axum", feature = "actix"))]
mod failure;
#[cfg(feature = "flask")]
mod flask;

#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) use failure::Failure;

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use builder::SessionConfigBuilder;

use crate::codec::Codec;
use crate::decide::{Action, Plan};
use crate::header::{self as cookie, Layout};
use crate::lifetime::{Lifetime, Stamp};
use crate::session::Refused;
use crate::{error::Rejection, error::SaveError, schema::SessionSchema, session::TrackedSession};

/// The `__Host-` cookie name prefix.
pub const HOST_PREFIX: &str = "__Host-";

/// A hook that decides whether a verified session is still valid (see
/// [`SessionConfigBuilder::validate`]).
type Validator<T> = Arc<dyn Fn(&T) -> bool + Send + Sync>;
/// An asynchronous session check: `true` keeps the session.
pub(crate) type AsyncValidator<T> = Arc<
    dyn Fn(&T) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>> + Send + Sync,
>;

/// The cookie format a configuration reads and writes.
#[derive(Debug)]
pub(crate) enum Format {
    /// sessionkit's signed envelope (`codec.rs`).
    Native(Codec),
    /// Flask's `URLSafeTimedSerializer` cookie.
    #[cfg(feature = "flask")]
    Flask(crate::flask::FlaskCodec),
}

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

/// The settings behind a [`SessionConfig`], shared by its clones.
pub(crate) struct Inner<T> {
    pub(crate) name: String,
    pub(crate) format: Format,
    pub(crate) layout: Layout,
    pub(crate) lifetime: Lifetime,
    pub(crate) max_cookie_bytes: usize,
    pub(crate) permanent: bool,
    pub(crate) cache_control: Option<String>,
    pub(crate) empty_payload: Vec<u8>,
    pub(crate) validator: Option<Validator<T>>,
    pub(crate) async_validator: Option<AsyncValidator<T>>,
    /// Where the data lives when it is not in the cookie.
    pub(crate) server: Option<crate::store::ServerSide>,
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
        let inner = &*self.inner;
        f.debug_struct("SessionConfig")
            .field("name", &inner.name)
            .field("format", &inner.format)
            .field("layout", &inner.layout)
            .field("lifetime", &inner.lifetime)
            .field("max_cookie_bytes", &inner.max_cookie_bytes)
            .finish_non_exhaustive()
    }
}

/// The outcome of [`SessionConfig::load`]: always a session, and why a cookie was refused.
#[derive(Debug)]
#[must_use = "the session must be saved after the request for changes to persist"]
pub struct Loaded<T> {
    /// The session: the cookie's data, or a fresh one.
    pub session: TrackedSession<T>,
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

    /// The cookie to send as a [`cookie::Cookie`](::cookie::Cookie), if any: for a cookie jar
    /// such as axum-extra's `CookieJar` (`jar.add(cookie)`), or any code built on the `cookie`
    /// crate. It renders to the same `Set-Cookie` value as [`header`](Self::header); a removal
    /// is a cookie with an empty value and `Max-Age=0`. `cookie` is re-exported as
    /// `sessionkit::cookie`, so the versions always match.
    ///
    /// actix-web 4 builds on an older `cookie` (0.16): use
    /// [`to_actix_cookie`](Self::to_actix_cookie) there.
    ///
    /// ```
    /// # use sessionkit::{Key, Session, SessionConfig};
    /// # #[derive(Session, Default, serde::Serialize, serde::Deserialize)]
    /// # struct App { visits: u32 }
    /// # let config = SessionConfig::<App>::builder().key(Key::generate()?).build()?;
    /// # let now = std::time::SystemTime::now();
    /// let mut loaded = config.load("", now);
    /// loaded.session.set_visits(1_u32);
    /// let command = config.save(&loaded.session, now)?;
    /// let cookie: sessionkit::cookie::Cookie<'static> = command.to_cookie().expect("a cookie to set");
    /// assert_eq!(cookie.name(), "session");
    /// assert_eq!(cookie.http_only(), Some(true));
    /// assert_eq!(Some(cookie.to_string().as_str()), command.header());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn to_cookie(&self) -> Option<::cookie::Cookie<'static>> {
        ::cookie::Cookie::parse(self.header()?.to_owned()).ok()
    }

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
    #[cfg(feature = "actix")]
    #[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
    #[must_use]
    pub fn to_actix_cookie(&self) -> Option<actix_web::cookie::Cookie<'static>> {
        actix_web::cookie::Cookie::parse(self.header()?.to_owned()).ok()
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
        &self.inner.name
    }

    /// The `Cache-Control` value a response carrying the session's `Set-Cookie` gets when the
    /// handler set none (see [`SessionConfigBuilder::cache_control`]).
    #[must_use]
    pub fn cache_control(&self) -> Option<&str> {
        self.inner.cache_control.as_deref()
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
        let now = unix_seconds(now);
        let candidates = cookie::find(headers, &self.inner.name);
        let mut first_rejection = None;
        for value in candidates.as_slice() {
            match self.open(value, now, checked_later) {
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
        self.refused(first_rejection)
    }

    /// A fresh session standing in for a refused cookie (or for none), which the response
    /// removes: a browser that keeps sending a dead cookie costs a verification (and with a
    /// store, a read) on every request.
    pub(crate) fn refused(&self, rejected: Option<Rejection>) -> Loaded<T> {
        if let Some(reason) = &rejected {
            crate::observe::refused(reason);
        }
        let refused = match &rejected {
            // Not the cookie's fault: the configuration is loaded the wrong way.
            None | Some(Rejection::NeedsAsync | Rejection::ServerSide) => Refused::Nothing,
            Some(_) => Refused::Cookie,
        };
        Loaded {
            session: TrackedSession::refused(T::default(), self.inner.permanent, refused),
            rejected,
        }
    }

    fn open(
        &self,
        value: &[u8],
        now: u64,
        checked_later: bool,
    ) -> Result<TrackedSession<T>, Rejection> {
        let inner = &*self.inner;
        if inner.server.is_some() {
            return Err(Rejection::ServerSide);
        }
        if inner.async_validator.is_some() && !checked_later {
            return Err(Rejection::NeedsAsync);
        }
        if value.len() > inner.max_cookie_bytes {
            return Err(Rejection::TooLarge {
                bytes: value.len(),
                limit: inner.max_cookie_bytes,
            });
        }
        let incoming = match &inner.format {
            Format::Native(codec) => Self::open_native(codec, value, now, &inner.lifetime)?,
            #[cfg(feature = "flask")]
            Format::Flask(codec) => {
                // Flask's value is dotted base64url: bytes that are not ASCII are not its.
                let value = std::str::from_utf8(value)
                    .ok()
                    .filter(|v| v.is_ascii())
                    .ok_or(Rejection::Malformed)?;
                flask::open(codec, value, now, &inner.lifetime)?
            }
        };
        let data = self.accept(incoming.payload())?;
        let mut incoming = incoming;
        let (issued_at, created_at) = incoming.times();
        let stamp = crate::lifetime::Stamp {
            permanent: incoming.permanent,
            issued_at,
            created_at,
        };
        incoming.expires_at = Some(inner.lifetime.expires_at(stamp, issued_at));
        Ok(TrackedSession::loaded(data, incoming))
    }

    /// The session a verified payload holds, if it decodes and the app's check keeps it.
    pub(crate) fn accept(&self, payload: &[u8]) -> Result<T, Rejection> {
        let data: T = crate::schema::decode_payload(payload)?;
        if let Some(validate) = &self.inner.validator {
            if !validate(&data) {
                return Err(Rejection::Revoked);
            }
        }
        Ok(data)
    }

    /// Verifies sessionkit's envelope holding a session (not a store's id) of this schema,
    /// within its lifetime.
    fn open_native(
        codec: &Codec,
        value: &[u8],
        now: u64,
        lifetime: &Lifetime,
    ) -> Result<crate::session::Incoming, Rejection> {
        // An id for a server-side store is not a session.
        let opened = codec.open_as(value, false, T::VERSION)?;
        let stamp = opened.stamp;
        lifetime.check(
            stamp.permanent,
            stamp.issued_at,
            Some(stamp.created_at),
            now,
        )?;
        Ok(opened.into_incoming())
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
        if self.inner.server.is_some() {
            return Err(SaveError::NeedsAsync);
        }
        let now = unix_seconds(now);
        match &self.inner.format {
            Format::Native(codec) => self.save_native(codec, session, now),
            #[cfg(feature = "flask")]
            Format::Flask(codec) => flask::save(self, codec, session, now),
        }
    }

    pub(crate) fn plan(
        &self,
        session: &TrackedSession<T>,
        refresh_browser_sessions: bool,
        now: u64,
    ) -> Plan {
        let inner = &*self.inner;
        Plan::new(
            session,
            inner.permanent,
            &inner.lifetime,
            refresh_browser_sessions,
            now,
        )
    }

    fn save_native(
        &self,
        codec: &Codec,
        session: &TrackedSession<T>,
        now: u64,
    ) -> Result<CookieCommand, SaveError> {
        let plan = self.plan(session, true, now);
        if !plan.needs_payload() {
            // Untouched: nothing is serialized, and nothing allocated unless it is re-signed.
            return match (
                plan.decide(session, None, |_| false),
                session.current_incoming(),
            ) {
                (Action::Resign(stamp), Some(incoming)) => {
                    let mut raw = codec.begin(stamp, incoming.payload().len());
                    raw.extend_from_slice(incoming.payload());
                    self.finish(|out| codec.seal(raw, out), stamp, now)
                }
                (Action::Remove, _) => Ok(self.removal()),
                _ => Ok(CookieCommand::Unchanged),
            };
        }
        let empty = &self.inner.empty_payload;
        let mut raw = codec.begin(plan.stamp, empty.len() + 64);
        let start = raw.len();
        crate::schema::refuse_non_finite(&**session)?;
        serde_json::to_writer(&mut raw, &**session).map_err(SaveError::Serialize)?;
        let payload = &raw[start..];
        let outgoing = Some((payload, payload == empty.as_slice()));
        match plan.decide(session, outgoing, |incoming| session.same_data(incoming)) {
            Action::Keep => Ok(CookieCommand::Unchanged),
            Action::Remove => Ok(self.removal()),
            Action::Resign(stamp) | Action::Write(stamp) => {
                if session.incoming().is_none() {
                    crate::observe::created();
                }
                if session.was_renewed() {
                    codec.renewal(&mut raw, session.incoming());
                }
                self.finish(|out| codec.seal(raw, out), stamp, now)
            }
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

    /// The removal cookie, with the same attributes.
    pub(crate) fn removal(&self) -> CookieCommand {
        CookieCommand::Remove(self.inner.layout.removal().to_owned())
    }

    /// Builds the `Set-Cookie` value around the cookie value `write_value` appends, and checks
    /// its length.
    pub(crate) fn finish(
        &self,
        write_value: impl FnOnce(&mut String) -> Result<(), SaveError>,
        stamp: Stamp,
        now: u64,
    ) -> Result<CookieCommand, SaveError> {
        let inner = &*self.inner;
        let mut header = String::with_capacity(inner.name.len() + 384);
        header.push_str(&inner.name);
        header.push('=');
        write_value(&mut header)?;
        let expiry = stamp.permanent.then(|| inner.lifetime.max_age(stamp, now));
        inner.layout.attributes(&mut header, expiry, now);
        if header.len() > inner.max_cookie_bytes {
            return Err(SaveError::TooLarge {
                bytes: header.len(),
                limit: inner.max_cookie_bytes,
            });
        }
        Ok(CookieCommand::Set(header))
    }
}

/// The `name=value` a browser sends back for a `Set-Cookie`; empty for none or a removal.
pub(crate) fn request_pair(command: &CookieCommand) -> String {
    match command {
        CookieCommand::Set(header) => header.split(';').next().unwrap_or_default().to_owned(),
        CookieCommand::Remove(_) | CookieCommand::Unchanged => String::new(),
    }
}

pub(crate) fn unix_seconds(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
