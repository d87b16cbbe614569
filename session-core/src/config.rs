//! [`SessionConfig`]: cookie attributes, lifetimes, refresh policy, and the `load`/`store` core.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::codec::{Codec, Opened, Stamp, HEADER_LEN};
use crate::cookie::{self, Attributes, SameSite};
use crate::{ConfigError, Key, Keyring, Rejection, Session, SessionSchema, StoreError};

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
    codec: Codec,
    suffix: String,
    removal: String,
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
            .field("attributes", &self.suffix)
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
    /// Never fails and never panics: a missing cookie gives a new session, a refused one gives a
    /// new session and the [`Rejection`]. Work is bounded whatever the headers hold: one scan for
    /// the exact name, at most [`MAX_CANDIDATES`](crate::MAX_CANDIDATES) values, each capped at
    /// `max_cookie_bytes` before decoding.
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
        let opened = self.codec.open(value, self.max_cookie_bytes)?;
        if opened.schema != T::VERSION {
            return Err(Rejection::SchemaMismatch {
                found: opened.schema,
                expected: T::VERSION,
            });
        }
        self.check_time(opened.stamp, now)?;
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
        let incoming = session.incoming().filter(|_| !session.was_cleared());
        let stamp = Stamp {
            permanent: session.is_permanent(),
            issued_at: now,
            created_at: incoming.map_or(now, |o| o.stamp.created_at),
        };
        let must_resign = incoming.is_some_and(|o| self.must_resign(o, stamp));
        if !session.was_touched() {
            return match incoming {
                Some(opened) if must_resign => self.seal(stamp, opened.payload(), now),
                _ => Ok(CookieCommand::Unchanged),
            };
        }
        let mut raw = self.codec.begin(stamp, self.empty_payload.len() + 64);
        serde_json::to_writer(&mut raw, &**session).map_err(StoreError::Serialize)?;
        let payload = &raw[HEADER_LEN..];
        if payload == self.empty_payload {
            return Ok(match session.incoming() {
                Some(_) => CookieCommand::Remove(self.removal.clone()),
                None => CookieCommand::Unchanged,
            });
        }
        if !must_resign && incoming.is_some_and(|o| o.payload() == payload) {
            return Ok(CookieCommand::Unchanged);
        }
        self.finish(raw, stamp, now)
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

    fn seal(&self, stamp: Stamp, payload: &[u8], now: u64) -> Result<CookieCommand, StoreError> {
        let mut raw = self.codec.begin(stamp, payload.len());
        raw.extend_from_slice(payload);
        self.finish(raw, stamp, now)
    }

    fn finish(&self, raw: Vec<u8>, stamp: Stamp, now: u64) -> Result<CookieCommand, StoreError> {
        let value_len = (raw.len() + crate::codec::TAG_LEN).div_ceil(3) * 4;
        let mut header =
            String::with_capacity(self.name.len() + value_len + self.suffix.len() + 24);
        header.push_str(&self.name);
        header.push('=');
        self.codec.seal(raw, &mut header);
        if stamp.permanent {
            let max_age = self.max_age(stamp.created_at, now);
            header.push_str("; Max-Age=");
            header.push_str(itoa_u64(max_age, &mut [0u8; 20]));
        }
        header.push_str(&self.suffix);
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

fn itoa_u64(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[at..]).expect("digits are ASCII")
}

/// Builds a [`SessionConfig`]; every check runs in [`SessionConfigBuilder::build`].
#[must_use = "call .build() to get the configuration"]
pub struct SessionConfigBuilder<T> {
    key: Option<Result<Key, ConfigError>>,
    fallbacks: Vec<Result<Key, ConfigError>>,
    name: String,
    host_prefix: bool,
    attributes: Attributes,
    lifetime: Duration,
    idle_timeout: Option<Duration>,
    refresh: Refresh,
    max_cookie_bytes: usize,
    clock_skew: Duration,
    permanent: bool,
    validator: Option<Validator<T>>,
    schema: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for SessionConfigBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfigBuilder")
            .field("name", &self.name)
            .field("attributes", &self.attributes)
            .finish_non_exhaustive()
    }
}

impl<T: SessionSchema> SessionConfigBuilder<T> {
    fn new() -> Self {
        Self {
            key: None,
            fallbacks: Vec::new(),
            name: T::COOKIE_NAME.to_owned(),
            host_prefix: false,
            attributes: Attributes {
                path: "/".to_owned(),
                domain: None,
                secure: true,
                http_only: true,
                same_site: SameSite::Lax,
            },
            lifetime: T::MAX_AGE,
            idle_timeout: None,
            refresh: Refresh::default(),
            max_cookie_bytes: 4096,
            clock_skew: Duration::from_secs(60),
            permanent: true,
            validator: None,
            schema: PhantomData,
        }
    }

    /// The key that signs (and verifies) cookies.
    pub fn key(mut self, key: Key) -> Self {
        self.key = Some(Ok(key));
        self
    }

    /// The signing secret as raw bytes; it is checked in [`SessionConfigBuilder::build`].
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.key = Some(Key::from_bytes(secret).map_err(ConfigError::Key));
        self
    }

    /// A key that verifies cookies but never signs: the previous key during a rotation. Cookies
    /// it verifies are re-signed with the current key. May be called several times.
    pub fn fallback_key(mut self, key: Key) -> Self {
        self.fallbacks.push(Ok(key));
        self
    }

    /// Uses a whole [`Keyring`].
    pub fn keyring(mut self, keys: Keyring) -> Self {
        self.key = Some(Ok(keys.current));
        self.fallbacks = keys.fallbacks.into_iter().map(Ok).collect();
        self
    }

    /// The cookie name (default: `T::COOKIE_NAME`).
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Prefixes the cookie name with `__Host-`, which browsers accept only with `Secure`,
    /// `Path=/` and no `Domain`: the cookie cannot be set or shadowed by a subdomain.
    pub fn host_prefix(mut self, on: bool) -> Self {
        self.host_prefix = on;
        self
    }

    /// The `Path` attribute (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.attributes.path = path.into();
        self
    }

    /// The `Domain` attribute (default: none, so only the exact host gets the cookie).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.attributes.domain = Some(domain.into());
        self
    }

    /// The `Secure` attribute (default `true`). Browsers accept `Secure` cookies from
    /// `http://localhost`, so turn this off only for plain-HTTP hosts in development.
    pub fn secure(mut self, secure: bool) -> Self {
        self.attributes.secure = secure;
        self
    }

    /// The `HttpOnly` attribute (default `true`): scripts cannot read the cookie.
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.attributes.http_only = http_only;
        self
    }

    /// The `SameSite` attribute (default [`SameSite::Lax`]).
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.attributes.same_site = same_site;
        self
    }

    /// The absolute lifetime from creation (default `T::MAX_AGE`, 31 days unless the schema says
    /// otherwise), as Flask's `PERMANENT_SESSION_LIFETIME`.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Ends a session unused for this long (default: none).
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = Some(idle);
        self
    }

    /// When unchanged sessions are re-signed (default `Refresh::AfterFraction(0.5)`).
    pub fn refresh(mut self, refresh: Refresh) -> Self {
        self.refresh = refresh;
        self
    }

    /// The largest `Set-Cookie` value sent and the largest cookie value read (default 4096).
    pub fn max_cookie_bytes(mut self, limit: usize) -> Self {
        self.max_cookie_bytes = limit;
        self
    }

    /// How far in the future an issued-at time may be, for servers whose clocks differ
    /// (default 60 seconds).
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// Whether new sessions get a persistent cookie (default `true`); see
    /// [`Session::set_permanent`].
    pub fn permanent(mut self, permanent: bool) -> Self {
        self.permanent = permanent;
        self
    }

    /// A check run on every verified session; returning `false` rejects it with
    /// [`Rejection::Revoked`]. Use it to revoke sessions a signature cannot: compare a
    /// per-user generation number kept in the session with the current one in your database.
    pub fn validate(mut self, check: impl Fn(&T) -> bool + Send + Sync + 'static) -> Self {
        self.validator = Some(Arc::new(check));
        self
    }

    /// Checks everything and builds the configuration.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for a missing or weak key, an invalid name or attribute, an impossible
    /// mix (`SameSite=None` without `Secure`, `__Host-` with a `Domain`), or a zero lifetime.
    pub fn build(self) -> Result<SessionConfig<T>, ConfigError> {
        let key = self.key.ok_or(ConfigError::MissingKey)??;
        let mut keys = Keyring::new(key);
        for fallback in self.fallbacks {
            keys = keys.with_fallback(fallback?);
        }
        let name = if self.host_prefix && !self.name.starts_with(HOST_PREFIX) {
            format!("{HOST_PREFIX}{}", self.name)
        } else {
            self.name
        };
        check_attributes(&name, &self.attributes)?;
        check_times(self.lifetime, self.idle_timeout, self.refresh)?;
        if self.max_cookie_bytes < 256 {
            return Err(ConfigError::CookieLimitTooSmall(self.max_cookie_bytes));
        }
        let empty_payload = serde_json::to_vec(&T::default()).unwrap_or_default();
        let suffix = self.attributes.suffix();
        Ok(SessionConfig {
            codec: Codec::new(&keys, &name, T::VERSION),
            removal: format!("{name}=; Max-Age=0{suffix}"),
            name,
            suffix,
            lifetime: self.lifetime,
            idle_timeout: self.idle_timeout,
            refresh: self.refresh,
            max_cookie_bytes: self.max_cookie_bytes,
            clock_skew: self.clock_skew,
            permanent: self.permanent,
            empty_payload,
            validator: self.validator,
        })
    }
}

fn check_attributes(name: &str, attributes: &Attributes) -> Result<(), ConfigError> {
    if !cookie::is_token(name) {
        return Err(ConfigError::InvalidCookieName(name.to_owned()));
    }
    let values = [
        ("Path", Some(&attributes.path)),
        ("Domain", attributes.domain.as_ref()),
    ];
    for (attribute, value) in values {
        if let Some(value) = value.filter(|v| !cookie::is_attribute_value(v)) {
            return Err(ConfigError::InvalidAttribute {
                attribute,
                value: value.clone(),
            });
        }
    }
    if attributes.same_site == SameSite::None && !attributes.secure {
        return Err(ConfigError::SameSiteNoneWithoutSecure);
    }
    if name.starts_with(HOST_PREFIX) {
        if !attributes.secure {
            return Err(ConfigError::Prefix(
                "the `__Host-` prefix requires Secure: remove `.secure(false)`",
            ));
        }
        if attributes.path != "/" {
            return Err(ConfigError::Prefix(
                "the `__Host-` prefix requires Path=/: remove `.path(..)`",
            ));
        }
        if attributes.domain.is_some() {
            return Err(ConfigError::Prefix(
                "the `__Host-` prefix forbids Domain: remove `.domain(..)`",
            ));
        }
    }
    if name.starts_with("__Secure-") && !attributes.secure {
        return Err(ConfigError::Prefix(
            "the `__Secure-` prefix requires Secure: remove `.secure(false)`",
        ));
    }
    Ok(())
}

fn check_times(
    lifetime: Duration,
    idle: Option<Duration>,
    refresh: Refresh,
) -> Result<(), ConfigError> {
    if lifetime.as_secs() == 0 || idle.is_some_and(|d| d.as_secs() == 0) {
        return Err(ConfigError::ZeroLifetime);
    }
    match refresh {
        Refresh::AfterFraction(f) if !(0.0..=1.0).contains(&f) => {
            Err(ConfigError::InvalidRefreshFraction(f))
        }
        _ => Ok(()),
    }
}
