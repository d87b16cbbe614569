//! [`SessionConfigBuilder`]: secure defaults, every check at build time.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "flask")]
use super::checks::check_flask;
use super::checks::{check_attributes, check_times};
use super::{Inner, SessionConfig, HOST_PREFIX};
use crate::carrier::Carrier;
use crate::codec::Codec;
use crate::engine::record::Records;
use crate::engine::{AsyncValidator, Engine, Validator};
use crate::header::{Attributes, Layout, SameSite};
use crate::lifetime::{Lifetime, Limits, Refresh};
use crate::store::Driver;
use crate::{error::ConfigError, key::Key, key::Keyring, schema::SessionSchema};

/// Builds a [`SessionConfig`]; every check runs in [`SessionConfigBuilder::build`].
#[must_use = "call .build() to get the configuration"]
#[allow(clippy::struct_excessive_bools)] // independent switches, each set by its own method
pub struct SessionConfigBuilder<T> {
    key: Option<Result<Key, ConfigError>>,
    fallbacks: Vec<Result<Key, ConfigError>>,
    name: String,
    host_prefix: bool,
    attributes: Attributes,
    lifetime: Duration,
    idle_timeout: Option<Duration>,
    persistent_lifetime: Option<Duration>,
    persistent_idle_timeout: Option<Duration>,
    refresh: Refresh,
    max_cookie_bytes: usize,
    clock_skew: Duration,
    permanent: bool,
    cache_control: Option<String>,
    validator: Option<Validator<T>>,
    async_validator: Option<AsyncValidator<T>>,
    store: Option<crate::store::BoxedStore>,
    /// The store sessions move from during a migration window.
    previous: Option<crate::store::BoxedStore>,
    /// The first store setting given, which needs a store to take effect.
    store_setting: Option<&'static str>,
    namespace: Option<String>,
    conflict: crate::store::ConflictPolicy,
    store_timeout: Duration,
    store_failure: crate::store::StoreFailure,
    encrypted: bool,
    read_unbound: bool,
    #[cfg(feature = "flask")]
    flask: Option<crate::flask::FlaskCodec>,
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
    pub(super) fn new() -> Self {
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
                same_site: Some(SameSite::Lax),
                partitioned: false,
            },
            lifetime: T::LIFETIME,
            idle_timeout: None,
            persistent_lifetime: None,
            persistent_idle_timeout: None,
            refresh: Refresh::default(),
            max_cookie_bytes: 4096,
            clock_skew: Duration::from_secs(60),
            permanent: false,
            cache_control: Some("private".to_owned()),
            validator: None,
            async_validator: None,
            store: None,
            previous: None,
            store_setting: None,
            namespace: None,
            conflict: crate::store::ConflictPolicy::default(),
            store_timeout: Duration::from_secs(2),
            store_failure: crate::store::StoreFailure::default(),
            encrypted: false,
            read_unbound: false,
            #[cfg(feature = "flask")]
            flask: None,
            schema: PhantomData,
        }
    }

    /// Reads and writes Flask's own session cookie instead of sessionkit's envelope, so a Flask
    /// app and this one share sessions. The codec holds Flask's `SECRET_KEY` and fallbacks (no
    /// `.key()` is needed). It also takes Flask's defaults, which later calls may override:
    /// new sessions are not permanent, and permanent ones are re-signed on every response
    /// (`Refresh::EveryRequest`, Flask's `SESSION_REFRESH_EACH_REQUEST`).
    ///
    /// In this mode expiry is Flask's: `now - timestamp <= lifetime`, counted from the last
    /// signing time (Flask's cookie carries no creation time), with the configured clock skew
    /// for a timestamp ahead of this server. An idle timeout cannot be told apart from that
    /// lifetime, so [`SessionConfigBuilder::idle_timeout`] is a build error in this mode. A session field that is `None` is written as an absent key, and keys
    /// of the Flask session that `T` does not name are kept as they were.
    #[cfg(feature = "flask")]
    #[cfg_attr(docsrs, doc(cfg(feature = "flask")))]
    pub fn flask(mut self, codec: crate::flask::FlaskCodec) -> Self {
        self.flask = Some(codec);
        self.permanent = false;
        self.refresh = Refresh::EveryRequest;
        self
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
        self.attributes.same_site = Some(same_site);
        self
    }

    /// Sends no `SameSite` attribute, as Flask does by default; browsers then apply their own
    /// default (`Lax` in Chromium). Prefer an explicit [`SessionConfigBuilder::same_site`].
    pub fn omit_same_site(mut self) -> Self {
        self.attributes.same_site = None;
        self
    }

    /// The `Partitioned` attribute (CHIPS), for a cookie used in a third-party context; it
    /// requires `Secure`.
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.attributes.partitioned = partitioned;
        self
    }

    /// The absolute lifetime from creation (default `T::LIFETIME`, 31 days unless the schema says
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

    /// Gives persistent ("remember me") sessions, those made with
    /// [`TrackedSession::set_permanent(true)`](crate::TrackedSession::set_permanent), their own absolute
    /// lifetime, with no idle timeout unless [`SessionConfigBuilder::persistent_idle_timeout`]
    /// sets one. So a 30-minute idle timeout for browser sessions no longer caps a remember-me
    /// cookie at `Max-Age=1800`.
    ///
    /// Without either call, persistent sessions follow [`SessionConfigBuilder::lifetime`] and
    /// [`SessionConfigBuilder::idle_timeout`] like the others.
    pub fn persistent_lifetime(mut self, lifetime: Duration) -> Self {
        self.persistent_lifetime = Some(lifetime);
        self
    }

    /// The idle timeout of persistent ("remember me") sessions; see
    /// [`SessionConfigBuilder::persistent_lifetime`].
    ///
    /// A persistent cookie's `Max-Age` is what is left of its idle window, not of its lifetime:
    /// with a 30-day lifetime and a 7-day idle timeout, the cookie says `Max-Age=604800` and is
    /// sent again (with a new `Max-Age`) as the session is used, so an active user stays
    /// signed in for the 30 days and an idle one is dropped by the browser after 7, as the
    /// server drops the session. A refresh re-signs it after half the idle window
    /// ([`Refresh`](crate::Refresh)).
    pub fn persistent_idle_timeout(mut self, idle: Duration) -> Self {
        self.persistent_idle_timeout = Some(idle);
        self
    }

    /// Encrypts the session, so the browser (or whoever reads the cookie) sees nothing of it.
    ///
    /// A signed cookie hides nothing: its payload is base64 JSON that anyone holding the cookie
    /// can read (the user id, the CSRF token, the cart). Encrypted, the cookie carries the
    /// payload sealed with AES-256-GCM under a subkey derived from the same secret for
    /// this purpose alone; the cookie name, the schema version and the times are bound to it as
    /// associated data, so a ciphertext moved to another cookie or another schema does not open.
    /// Key rotation works as for signing: [`fallback_key`](Self::fallback_key)s still open, and
    /// what they opened is sealed again with the current key on its response.
    ///
    /// With a [`store`](Self::store), the records are encrypted at rest as well (sealed to their
    /// store key, so a record copied to another session's key does not open), and the cookie,
    /// which carries only the session id, is encrypted too. The owner index of
    /// `#[session(owner)]` stays readable to the store: choose an opaque owner id.
    ///
    /// Cookies written before encryption was turned on are still read (they are signed), and
    /// are sealed from their next response; turning it off again reads the encrypted ones the
    /// same way. Store records written in signed mode are read too (they are bound to their
    /// store key with the secret, so none can be planted) and sealed at their next change; a
    /// record bound to nothing (planted, or written before 0.2) is refused unless
    /// [`read_unbound_records`](Self::read_unbound_records) opens a migration window. Not
    /// available with
    /// [`flask`](Self::flask): Flask reads its cookie as signed JSON.
    ///
    /// The cost: 16 bytes more per cookie (a 12-byte nonce and a 16-byte tag in place of the
    /// 32-byte signature), and about the time of signing (see the README's table).
    pub fn encrypted(mut self) -> Self {
        self.encrypted = true;
        self
    }

    /// A migration window for records not bound to their store key: those written before
    /// [`encrypted`](Self::encrypted) was turned on, or by a sessionkit before 0.2 (which did
    /// not bind signed records). They are still read, and are bound (or sealed) at their next
    /// change. Remove it once the sessions of that time have expired; while it is on, anyone
    /// who can write to the store can plant a record that loads as any session.
    ///
    /// Without it, every record is bound to its store key: a signed record carries an
    /// HMAC-SHA256 tag over its key, creation time and JSON, a sealed one is sealed to them,
    /// and a record copied over another session's (or planted) is a refused session.
    pub fn read_unbound_records(mut self) -> Self {
        self.read_unbound = true;
        self.store_setting.get_or_insert("read_unbound_records");
        self
    }

    /// The `Cache-Control` value added to a response that carries the session's `Set-Cookie`
    /// when the handler set no `Cache-Control` of its own (default `Some("private")`, OWASP's
    /// advice: a shared cache must not store a response that sets someone's session). `None`
    /// adds nothing.
    pub fn cache_control(mut self, value: Option<&str>) -> Self {
        self.cache_control = value.map(str::to_owned);
        self
    }

    /// Keeps the session data in `store`; the cookie then carries only a signed 256-bit id.
    /// The handlers do not change. Load and save with
    /// [`SessionConfig::load_async`] / [`SessionConfig::save_async`] (the adapters do).
    pub fn store(mut self, store: impl crate::store::SessionStore + 'static) -> Self {
        self.store = Some(crate::store::BoxedStore::new(store));
        self
    }

    /// A migration window from another store (files or SQLite in development, Redis or
    /// Postgres in production): a session the new [`store`](Self::store) does not hold is
    /// looked up in `previous`, copied to the new store (same id, same cookie) and deleted
    /// from the old one, so nobody is logged out by the move. Writes go to the new store
    /// only. Keep the same key and namespace as the old configuration; remove the window once
    /// the old store's sessions have moved or expired.
    pub fn migrate_from(mut self, previous: impl crate::store::SessionStore + 'static) -> Self {
        self.previous = Some(crate::store::BoxedStore::new(previous));
        self.store_setting.get_or_insert("migrate_from");
        self
    }

    /// Separates this app's records from another's in a shared store (default: the cookie
    /// name). Records are keyed by `SHA-256(namespace ‖ id)`.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self.store_setting.get_or_insert("namespace");
        self
    }

    /// What to do when two requests change one session at once (default
    /// [`ConflictPolicy::Merge`](crate::ConflictPolicy::Merge)).
    pub fn conflict_policy(mut self, policy: crate::store::ConflictPolicy) -> Self {
        self.conflict = policy;
        self.store_setting.get_or_insert("conflict_policy");
        self
    }

    /// The longest a store operation may take before the request fails (default 2 s; applied
    /// with the `tokio` feature, which the adapters enable).
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self.store_setting.get_or_insert("store_timeout");
        self
    }

    /// What a request gets when the store fails (default: 503 with `Retry-After: 1`).
    pub fn on_store_error(mut self, policy: crate::store::StoreFailure) -> Self {
        self.store_failure = policy;
        self.store_setting.get_or_insert("on_store_error");
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

    /// Whether new sessions get a persistent cookie, with `Max-Age` (default `false`: a
    /// browser-session cookie, as OWASP recommends and as Flask does); see
    /// [`TrackedSession::set_permanent`](crate::TrackedSession::set_permanent). The server-side lifetime
    /// applies either way.
    pub fn permanent(mut self, permanent: bool) -> Self {
        self.permanent = permanent;
        self
    }

    /// A check run on every verified session; returning `false` rejects it with
    /// [`Rejection::Revoked`](crate::Rejection::Revoked). Use it to revoke sessions a signature cannot: compare a
    /// per-user generation number kept in the session with the current one in your database.
    pub fn validate(mut self, check: impl Fn(&T) -> bool + Send + Sync + 'static) -> Self {
        self.validator = Some(Arc::new(check));
        self
    }

    /// Checks every loaded session with `check`, which may wait (a database or cache lookup):
    /// a session it answers `false` for is replaced by a fresh one, with
    /// [`Rejection::Revoked`](crate::Rejection::Revoked). Revoke a stolen or logged-out session
    /// this way in cookie mode, where there is no record to delete.
    ///
    /// The check runs in [`SessionConfig::load_async`] and in the adapters (which then load
    /// asynchronously in cookie mode too); the synchronous `load` methods refuse every cookie
    /// with [`Rejection::NeedsAsync`](crate::Rejection::NeedsAsync) rather than skip it. The
    /// future owns what it needs: copy the id out of the session first.
    ///
    /// ```
    /// # use sessionkit::{Key, SessionConfig};
    /// # #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
    /// # struct App { user_id: Option<u64> }
    /// # async fn is_revoked(_: Option<u64>) -> bool { false }
    /// let config = SessionConfig::<App>::builder()
    ///     .key(Key::generate()?)
    ///     .validate_async(|session: &App| {
    ///         let user = session.user_id();
    ///         async move { !is_revoked(user).await }
    ///     })
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate_async<F, Fut>(mut self, check: F) -> Self
    where
        F: Fn(&T) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = bool> + Send + 'static,
    {
        self.async_validator = Some(Arc::new(move |data: &T| Box::pin(check(data))));
        self
    }

    /// Checks everything and builds the configuration.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for a missing or weak key, an invalid name or attribute (a `Domain` that
    /// is not a host name, a `Path` not starting with `/`), an impossible mix (`SameSite=None`
    /// without `Secure`, `__Host-` with a `Domain`), a zero lifetime, a refresh fraction outside
    /// `(0, 1]`, or a setting Flask mode cannot honour.
    pub fn build(self) -> Result<SessionConfig<T>, ConfigError> {
        let name = if self.host_prefix && !self.name.starts_with(HOST_PREFIX) {
            format!("{HOST_PREFIX}{}", self.name)
        } else {
            self.name.clone()
        };
        check_attributes(&name, &self.attributes)?;
        let lifetime = self.lifetime_policy();
        check_times(&lifetime)?;
        self.finish_build(name, lifetime)
    }

    fn lifetime_policy(&self) -> Lifetime {
        Lifetime {
            browser: Limits {
                absolute: self.lifetime,
                idle: self.idle_timeout,
            },
            persistent: if self.persistent_lifetime.is_some()
                || self.persistent_idle_timeout.is_some()
            {
                Limits {
                    absolute: self.persistent_lifetime.unwrap_or(self.lifetime),
                    idle: self.persistent_idle_timeout,
                }
            } else {
                Limits {
                    absolute: self.lifetime,
                    idle: self.idle_timeout,
                }
            },
            skew: self.clock_skew,
            refresh: self.refresh,
        }
    }

    /// The cookie size limit and the `Cache-Control` value.
    fn check_response_settings(&self) -> Result<(), ConfigError> {
        if self.max_cookie_bytes < 256 {
            return Err(ConfigError::CookieLimitTooSmall(self.max_cookie_bytes));
        }
        if let Some(value) = &self.cache_control {
            if value.trim().is_empty() || !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                return Err(ConfigError::InvalidAttribute {
                    attribute: "Cache-Control",
                    value: value.clone(),
                    expected: "a header value such as `private` or `no-store`",
                });
            }
        }
        Ok(())
    }

    fn finish_build(
        mut self,
        name: String,
        lifetime: Lifetime,
    ) -> Result<SessionConfig<T>, ConfigError> {
        self.check_response_settings()?;
        if self.store_timeout.is_zero() {
            return Err(ConfigError::ZeroStoreTimeout);
        }
        if let (None, Some(setting)) = (&self.store, self.store_setting) {
            return Err(ConfigError::NeedsStore(setting));
        }
        let (carrier, layout, records) = self.carrier(&name, &lifetime)?;
        let driver = self.store.take().map(|store| Driver {
            store,
            previous: self.previous.take(),
            conflict: self.conflict,
            timeout: self.store_timeout,
            failure: self.store_failure,
        });
        Ok(SessionConfig {
            inner: Arc::new(Inner {
                engine: Engine {
                    empty_payload: serde_json::to_vec(&T::default()).unwrap_or_default(),
                    carrier,
                    layout,
                    name,
                    lifetime,
                    max_cookie_bytes: self.max_cookie_bytes,
                    permanent: self.permanent,
                    cache_control: self.cache_control,
                    validator: self.validator,
                    async_validator: self.async_validator,
                    records,
                },
                driver,
            }),
        })
    }

    /// The carrier, its attribute layout, and with a store, how records are written.
    fn carrier(
        &mut self,
        name: &str,
        lifetime: &Lifetime,
    ) -> Result<(Carrier, Layout, Option<Records>), ConfigError> {
        #[cfg(feature = "flask")]
        if let Some(codec) = self.flask.take() {
            check_flask(lifetime)?;
            if self.store.is_some() {
                return Err(ConfigError::UnsupportedInFlaskMode(
                    "a server-side store: Flask's cookie carries the session itself; drop \
                     `.flask(..)` to keep sessions in the store with sessionkit's cookie",
                ));
            }
            if self.key.is_some() || !self.fallbacks.is_empty() {
                return Err(ConfigError::UnsupportedInFlaskMode(
                    "a sessionkit key: Flask mode signs with Flask's `SECRET_KEY`, given to \
                     `FlaskCodec::new` (and its fallbacks to the codec); drop `.key(..)` and \
                     `.fallback_key(..)`",
                ));
            }
            if self.encrypted {
                return Err(ConfigError::UnsupportedInFlaskMode(
                    "encryption: Flask reads its cookie as signed JSON and could not open an \
                     encrypted one; drop `.encrypted()`, or drop `.flask(..)` once the Flask app \
                     no longer reads the cookie",
                ));
            }
            if codec.uses_weak_legacy_secret() {
                tracing::warn!(
                    "sessionkit: Flask mode runs with a weak legacy secret, and anyone who \
                     guesses it can forge sessions: sign with a strong key and keep the weak \
                     one as a fallback for one lifetime, then remove it"
                );
            }
            return Ok((
                Carrier::Flask(codec),
                Layout::flask(name, &self.attributes),
                None,
            ));
        }
        let _ = lifetime;
        let key = self.key.take().ok_or(ConfigError::MissingKey)??;
        let mut keys = Keyring::new(key);
        for fallback in std::mem::take(&mut self.fallbacks) {
            keys = keys.with_fallback(fallback?);
        }
        let codec = Codec::new(&keys, name, T::VERSION, self.encrypted);
        let layout = Layout::native(name, &self.attributes);
        if self.store.is_none() {
            return Ok((Carrier::Envelope(codec), layout, None));
        }
        let namespace = self.namespace.take().unwrap_or_else(|| name.to_owned());
        let records = Records::new(&keys, namespace, self.encrypted, self.read_unbound);
        Ok((Carrier::StoreId(codec), layout, Some(records)))
    }
}
