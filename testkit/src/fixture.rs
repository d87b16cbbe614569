//! The fixtures: fixed keys, a fixed clock, a hand-written schema, and cookies minted with them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sessionkit::{CookieCommand, Key, Loaded, SessionConfig, SessionConfigBuilder, SessionSchema};

/// 2023-11-14T22:13:20Z.
pub const T0: u64 = 1_700_000_000;
/// The fixture key: 32 bytes, as hex.
pub const KEY_A: &str = "8f3c9a1e5b7d2f40c6e81a93d5b7f2046e8c1a3f5d7b9e20c4a6e81f3d5b7c90";
/// A second key, for rotation.
pub const KEY_B: &str = "1d9e7a5c3b2f4e6d8c0a1b3c5d7e9f20416b3a5c7d9e1f3a5b7c9d1e3f5a7b9c";
/// A third key.
pub const KEY_C: &str = "c4e2a08f6d4b2907e5c3a1f9d7b5e3c1a9f7d5b3e1c9a7f5d3b1e9c7a5f3d1b0";

/// A session schema written by hand (no derive): a user and a cart.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct App {
    /// Who is logged in.
    pub user: Option<String>,
    /// Item ids.
    pub cart: Vec<u32>,
}

impl SessionSchema for App {
    const FIELDS: &'static [&'static str] = &["user", "cart"];
}

/// The key a hex fixture holds.
pub fn key(hex: &str) -> Key {
    Key::from_hex(hex).expect("test keys are strong")
}

/// The time `secs` seconds after the Unix epoch.
pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A builder with the fixture key.
pub fn builder<T: SessionSchema>() -> SessionConfigBuilder<T> {
    SessionConfig::<T>::builder().key(key(KEY_A))
}

/// The default configuration of [`App`] with the fixture key.
pub fn config() -> SessionConfig<App> {
    builder::<App>().build().expect("valid config")
}

/// Alice, logged in, with three items.
pub fn alice() -> App {
    App {
        user: Some("alice".into()),
        cart: vec![1, 2, 3],
    }
}

/// The `Set-Cookie` value of a command that must set a cookie.
pub fn set_header(command: CookieCommand) -> String {
    match command {
        CookieCommand::Set(header) => header,
        other => panic!("expected Set, got {other:?}"),
    }
}

/// The `name=value` pair of a `Set-Cookie` value, as a browser sends it back.
pub fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// The value of a `Set-Cookie` header.
pub fn value(set_cookie: &str) -> String {
    pair(set_cookie).split_once('=').unwrap().1.to_owned()
}

/// Stores `data` as a new persistent session (with `Max-Age`) at `now`; returns `name=value`.
pub fn mint_permanent<T: SessionSchema>(config: &SessionConfig<T>, data: T, now: u64) -> String {
    let mut session = sessionkit::TrackedSession::new(data);
    session.set_permanent(true);
    pair(&set_header(config.save(&session, at(now)).unwrap()))
}

/// Stores `data` as a new session at `now` and returns the `name=value` pair.
pub fn mint<T: SessionSchema>(config: &SessionConfig<T>, data: T, now: u64) -> String {
    let session = sessionkit::TrackedSession::new(data);
    pair(&set_header(config.save(&session, at(now)).unwrap()))
}

/// Why a load refused its cookie, if it did.
pub fn rejected<T>(loaded: &Loaded<T>) -> Option<sessionkit::Rejection> {
    loaded.rejected.clone()
}
