//! The framework-agnostic runtime of [sessionkit](https://docs.rs/sessionkit): secret keys, the
//! signed cookie envelope, the tracked [`TrackedSession`] wrapper and the [`SessionConfig::load`] /
//! [`SessionConfig::save`] pair that every framework adapter calls.
//!
//! Most apps use this crate through the `sessionkit` facade and `#[derive(Session)]`.
//!
//! ```
//! use std::time::SystemTime;
//! use sessionkit::{CookieCommand, Key, SessionConfig, SessionSchema};
//!
//! #[derive(Default, serde::Serialize, serde::Deserialize)]
//! struct App { visits: u32 }
//! impl SessionSchema for App { const FIELDS: &'static [&'static str] = &["visits"]; }
//!
//! let config = SessionConfig::<App>::builder().key(Key::generate()?).build()?;
//! let now = SystemTime::now();
//! let mut loaded = config.load("theme=dark", now);   // the request's Cookie header
//! loaded.session.visits += 1;
//! let command = config.save(&loaded.session, now)?;
//! assert!(matches!(command, CookieCommand::Set(ref h) if h.starts_with("session=")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;
mod aead;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
mod carrier;
mod codec;
mod config;
mod csrf;
mod decide;
mod engine;
mod error;
#[cfg(any(feature = "axum", feature = "actix"))]
mod extract;
mod field_types;
#[cfg(feature = "flask")]
#[cfg_attr(docsrs, doc(cfg(feature = "flask")))]
pub mod flask;
#[cfg(feature = "flask-session")]
#[cfg_attr(docsrs, doc(cfg(feature = "flask-session")))]
pub mod flask_session;
mod header;
#[cfg(feature = "flask")]
mod httpdate;
mod id;
pub mod inspect;
mod key;
mod lifetime;
mod observe;
mod schema;
mod session;
#[cfg(any(feature = "axum", feature = "actix"))]
mod slot;
pub mod store;
#[cfg(any(feature = "axum", feature = "actix"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "axum", feature = "actix"))))]
pub mod testing;

pub use codec::{ENCRYPTED_FORMAT_VERSION, FORMAT_VERSION};
pub use config::{CookieCommand, Loaded, SessionConfig, SessionConfigBuilder, HOST_PREFIX};
pub use cookie;
pub use csrf::CsrfToken;
pub use error::{ConfigError, KeyError, Rejection, SaveError};
/// The handler's session extractor, for axum and actix-web alike (also
/// `sessionkit::axum::Session` and `sessionkit::actix::Session`, the same type).
///
/// `use sessionkit::Session;` brings both this type and the derive macro of the same name, so a
/// handler written `async fn h(session: Session<App>)` compiles as it reads.
#[cfg(any(feature = "axum", feature = "actix"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "axum", feature = "actix"))))]
pub use extract::Session;
pub use field_types::OwnerId;
#[doc(hidden)]
#[doc(hidden)]
pub use field_types::{ComparesSets, CopyField};
pub use header::{SameSite, MAX_CANDIDATES};
pub use key::{Key, Keyring, MIN_KEY_BYTES};
pub use lifetime::Refresh;
#[doc(hidden)]
pub use schema::{same_json, Compare, SameByEq, SameByJson};
pub use schema::{SessionSchema, DEFAULT_LIFETIME};
pub use session::TrackedSession;
pub use store::{
    BoxedStore, ConflictPolicy, FileStore, MemoryStore, SessionId, SessionInfo, SessionStore,
    StoreError, StoreFailure, StoreKey,
};
