//! Typed, signed web sessions: Flask's `session`, with types.
//!
//! Derive [`Session`](derive@Session) on your own struct, and sessionkit keeps it in an
//! HMAC-SHA256 signed cookie: verified, expired and rotated on the server, sent back only when it
//! really changed.
//!
//! ```
//! use std::time::SystemTime;
//! use serde::{Deserialize, Serialize};
//! use sessionkit::{CookieCommand, Key, Session, SessionConfig};
//!
//! #[derive(Session, Serialize, Deserialize, Default, Debug)]
//! struct AppSession {
//!     user: Option<String>,
//!     cart: Vec<u32>,
//!     #[session(flash)]
//!     flashes: Vec<String>,
//! }
//!
//! // Once, at start-up: a weak or missing key is an error here, not at the first request.
//! let config = SessionConfig::<AppSession>::builder().key(Key::generate()?).build()?;
//!
//! // Per request (an adapter does this for you): load, use, save.
//! let now = SystemTime::now();
//! let mut loaded = config.load("theme=dark", now);        // the Cookie header
//! loaded.session.set_user("alice");                       // session['user'] = 'alice'
//! loaded.session.cart_mut().push(7);                      // nested change, tracked
//! loaded.session.flash("Registered");
//! let CookieCommand::Set(set_cookie) = config.save(&loaded.session, now)? else { panic!() };
//! assert!(set_cookie.ends_with("; HttpOnly; SameSite=Lax; Secure; Path=/"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Typed accessors
//!
//! `#[derive(Session)]` generates, for each field, the Flask operations as methods: a misspelt
//! key or a wrong type is a compile error, not a `KeyError`. The [`derive`](mod@derive) manual lists every
//! attribute; the [`cookbook`] shows login, remember-me, CSRF, flash, key rotation, stores and
//! testing, each as code that compiles.
//!
//! | Flask | sessionkit |
//! |---|---|
//! | `session.get('user')` | `session.user()` |
//! | `session['user'] = v` | `session.set_user(v)` |
//! | `session.pop('user', None)` | `session.pop_user()` |
//! | `'user' in session` | `session.has_user()` |
//! | `session['cart'].append(7)` + `session.modified = True` | `session.cart_mut().push(7)` |
//! | `session.clear()` | `session.clear()` |
//! | `flash(m)` / `get_flashed_messages()` | `session.flash(m)` / `session.take_flashes()` |
//!
//! # Only real changes are sent
//!
//! Reading costs nothing; a mutable borrow marks the session touched, and [`SessionConfig::save`]
//! compares the serialized bytes with what came in. No change, no `Set-Cookie`:
//!
//! ```
//! # use std::time::SystemTime;
//! # use sessionkit::{CookieCommand, Key, SessionConfig};
//! # #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
//! # struct App { user: Option<String> }
//! # let config = SessionConfig::<App>::builder().key(Key::generate()?).build()?;
//! # let now = SystemTime::now();
//! # let mut first = config.load("", now);
//! # first.session.set_user("alice");
//! # let set = config.save(&first.session, now)?;
//! # let cookie = set.header().unwrap().split(';').next().unwrap().to_owned();
//! let mut loaded = config.load(&cookie, now);
//! assert!(loaded.session.has_user());                 // a read
//! let _ = loaded.session.user_mut();                  // touched, but unchanged
//! assert!(loaded.session.is_modified());
//! assert_eq!(config.save(&loaded.session, now)?, CookieCommand::Unchanged);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Refused cookies are fresh sessions, with a reason
//!
//! A tampered, expired, foreign or oversized cookie never fails the request: the session starts
//! empty and [`Loaded::rejected`] says why, for your logs.
//!
//! ```
//! # use std::time::SystemTime;
//! # use sessionkit::{Key, Rejection, SessionConfig};
//! # #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
//! # struct App { user: Option<String> }
//! # let config = SessionConfig::<App>::builder().key(Key::generate()?).build()?;
//! let loaded = config.load("session=forged", SystemTime::now());
//! assert_eq!(loaded.rejected, Some(Rejection::Malformed));
//! assert!(loaded.session.is_new());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Expiry, refresh and rotation
//!
//! The absolute lifetime (31 days by default, like Flask's `PERMANENT_SESSION_LIFETIME`) and an
//! optional idle timeout are checked from timestamps inside the signature, never from the
//! browser. [`Refresh`] decides when an unchanged session is re-signed; fallback keys verify old
//! cookies during a key rotation, which are then re-signed with the current key.
//!
//! ```
//! # use std::time::Duration;
//! # use sessionkit::{Key, Refresh, SessionConfig};
//! # #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
//! # struct App { user: Option<String> }
//! # let (new_key, old_key) = (Key::generate()?, Key::generate()?);
//! let config = SessionConfig::<App>::builder()
//!     .key(new_key)
//!     .fallback_key(old_key)
//!     .lifetime(Duration::from_secs(8 * 3600))
//!     .idle_timeout(Duration::from_secs(30 * 60))
//!     .refresh(Refresh::AfterFraction(0.5))
//!     .build()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Frameworks
//!
//! With the `axum` feature, [`axum::SessionLayer`] and the [`axum::Session`] extractor; with
//! `actix`, [`actix::SessionMiddleware`] and [`actix::Session`]. Any other framework calls
//! [`SessionConfig::load_headers`] and [`SessionConfig::save`] itself (see the `hyper_server`
//! example: about 80 lines).
//!
//! # Flask's own cookie
//!
//! With the `flask` feature, a configuration can read and write Flask's session cookie
//! (itsdangerous, TaggedJSON, zlib, `SECRET_KEY_FALLBACKS`), so a Flask app can move to Rust, or
//! run beside it, without logging anyone out. The derive and the adapters work unchanged:
//!
//! ```
//! # #[cfg(feature = "flask")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use sessionkit::SessionConfig;
//! # #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
//! # struct AppSession { user: Option<String> }
//! # let (flask_secret_key, old_key) = ("5f0c8e2a9d41b7c3e6a0", "c91d7e3f0a58b2e4d6f1");
//! let codec = sessionkit::flask::FlaskCodec::new(flask_secret_key)?.with_fallback(old_key)?;
//! let config = SessionConfig::<AppSession>::builder().flask(codec).build()?;
//! # Ok(()) }
//! # #[cfg(not(feature = "flask"))]
//! # fn main() {}
//! ```
//!
//! A Flask app that runs on a weak secret (`app.secret_key = "secret key"`, as tutorials show)
//! cannot be verified with [`FlaskCodec::new`](flask::FlaskCodec::new), which refuses it. The
//! migration path: deploy with the weak secret through the loudly named opt-in (a warning is
//! logged when the configuration is built), then sign with a strong key and keep the weak one as
//! a fallback for one lifetime (every cookie is re-signed with the strong key as it is used),
//! then drop it. Flask's `SECRET_KEY_FALLBACKS` does the same on the Python side.
//!
//! ```
//! # #[cfg(feature = "flask")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use sessionkit::SessionConfig;
//! # #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
//! # struct AppSession { user: Option<String> }
//! use sessionkit::flask::FlaskCodec;
//! // Stage 1: the weak secret still signs.
//! let legacy = FlaskCodec::new_weak_legacy("secret key")?;
//! // Stage 2: a strong key signs; the weak one only verifies, for one lifetime.
//! let rotating = FlaskCodec::new(std::env::var("FLASK_SECRET_KEY").unwrap_or("5f0c8e2a9d41b7c3e6a0".into()))?
//!     .with_weak_legacy_fallback("secret key")?;
//! let config = SessionConfig::<AppSession>::builder().flask(rotating).build()?;
//! # let _ = (legacy, config);
//! # Ok(()) }
//! # #[cfg(not(feature = "flask"))]
//! # fn main() {}
//! ```
//!
//! See [`flask`] for the codec on its own and the mapping of Python types.
//!
//! # Server-side sessions
//!
//! One builder line keeps the data in a [`SessionStore`] ([`FileStore`], [`MemoryStore`]); the
//! cookie then carries only a signed id. Handlers do not change; the adapters call the async
//! pair [`SessionConfig::load_async`] / [`SessionConfig::save_async`], and so can any server:
//!
//! ```
//! use std::time::SystemTime;
//! use sessionkit::{CookieCommand, Key, MemoryStore, SessionConfig};
//!
//! #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
//! struct AppSession {
//!     #[session(owner)]
//!     user: Option<String>,
//! }
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let config = SessionConfig::<AppSession>::builder()
//!     .key(Key::generate()?)
//!     .store(MemoryStore::new())
//!     .build()?;
//! let now = SystemTime::now();
//! let mut loaded = config.load_async([&b""[..]], now).await?;
//! loaded.session.set_user("alice");
//! let CookieCommand::Set(header) = config.save_async(&loaded.session, now).await? else {
//!     panic!("a new session sets its id cookie")
//! };
//! assert!(!header.contains("alice"));                     // only a signed id travels
//! assert_eq!(config.list_owner("alice", now).await?.len(), 1);
//! assert_eq!(config.revoke_owner("alice", None).await?, 1); // logged out everywhere
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! - `axum`: the axum/tower adapter.
//! - `actix`: the actix-web adapter.
//! - `flask`: Flask's session cookie format (adds `sha1` and `flate2`).
//! - `tokio`: store timeouts, and the file store's I/O on tokio's blocking pool (the adapters
//!   turn it on).
//! - `sqlite`, `postgres`: [`store::SqlStore`] over sqlx.
//! - `memcached`: [`store::MemcachedStore`], memcached's meta protocol over tokio, ketama over
//!   several nodes as pylibmc places keys.
//! - `flask-session`: Flask-Session's server-side records ([`flask_session`]).
//! - `metrics`: counters and latencies on the `metrics` facade, for whatever exporter the app
//!   installs: `sessionkit_sessions_created_total`, `sessionkit_sessions_refused_total{reason}`
//!   (the reason is [`Rejection::kind`]), `sessionkit_store_operations_total{backend, op,
//!   outcome}`, `sessionkit_store_operation_seconds{backend, op}`,
//!   `sessionkit_conflicts_total{outcome}`, `sessionkit_merges_total` and
//!   `sessionkit_unavailable_total` (503s). No id or secret is ever a label.
//!
//! - `conformance`: the store contract as a test suite ([`conformance`](mod@conformance)), for a
//!   [`SessionStore`] of your own.
//!
//! With `axum` or `actix`, [`testing`] drives an app across requests in tests.
//!
//! All are off by default.
//!
//! Redis is a crate of its own, `sessionkit-redis`: its `RedisStore` (one server, a Redis
//! Cluster, Sentinel), its `connect(url)` that takes the Redis URLs beside every URL
//! [`store::connect`] takes, and, with its `flask-session` feature, Flask-Session's records
//! in Redis. An app without Redis compiles no Redis client.
#![cfg_attr(docsrs, feature(doc_cfg))]

// The public surface, item by item (no glob): what sessionkit offers is this list.
#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub use session_core::actix;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use session_core::axum;
#[cfg(feature = "flask")]
#[cfg_attr(docsrs, doc(cfg(feature = "flask")))]
pub use session_core::flask;
#[cfg(feature = "flask-session")]
#[cfg_attr(docsrs, doc(cfg(feature = "flask-session")))]
pub use session_core::flask_session;
#[cfg(any(feature = "axum", feature = "actix"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "axum", feature = "actix"))))]
pub use session_core::testing;
#[cfg(any(feature = "axum", feature = "actix"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "axum", feature = "actix"))))]
pub use session_core::Session;
pub use session_core::{
    cookie, inspect, store, BoxedStore, ConfigError, ConflictPolicy, CookieCommand, CsrfToken,
    FileStore, Key, KeyError, Keyring, Loaded, MemoryStore, OwnerId, Refresh, Rejection, SameSite,
    SaveError, SessionConfig, SessionConfigBuilder, SessionId, SessionInfo, SessionSchema,
    SessionStore, StoreError, StoreFailure, StoreKey, TrackedSession, DEFAULT_LIFETIME,
    ENCRYPTED_FORMAT_VERSION, FORMAT_VERSION, HOST_PREFIX, MAX_CANDIDATES, MIN_KEY_BYTES,
};
#[doc(hidden)]
pub use session_core::{same_json, Compare, ComparesSets, CopyField, SameByEq, SameByJson};
/// See [the manual](mod@crate::derive).
pub use session_derive::Session;

// The derive's expansion names `::sessionkit`, which the conformance suite's own schema uses.
#[cfg(feature = "conformance")]
extern crate self as sessionkit;

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;

#[doc = include_str!("docs/derive.md")]
pub mod derive {}

#[doc = include_str!("docs/cookbook.md")]
pub mod cookbook {}

/// What generated code uses. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use session_core::{
        Compare, ComparesSets, CopyField, OwnerId, SameByEq, SameByJson, SessionSchema,
    };
}
