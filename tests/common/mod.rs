//! Fixtures shared by the integration tests: a hand-written schema, fixed keys, a fixed clock.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub mod conformance;
pub mod forge;
pub mod own;
pub mod servers;
pub mod temp;

use serde::{Deserialize, Serialize};
use sessionkit::{CookieCommand, Key, Loaded, SessionConfig, SessionConfigBuilder, SessionSchema};

/// 2023-11-14T22:13:20Z.
pub const T0: u64 = 1_700_000_000;
pub const KEY_A: &str = "8f3c9a1e5b7d2f40c6e81a93d5b7f2046e8c1a3f5d7b9e20c4a6e81f3d5b7c90";
pub const KEY_B: &str = "1d9e7a5c3b2f4e6d8c0a1b3c5d7e9f20416b3a5c7d9e1f3a5b7c9d1e3f5a7b9c";
pub const KEY_C: &str = "c4e2a08f6d4b2907e5c3a1f9d7b5e3c1a9f7d5b3e1c9a7f5d3b1e9c7a5f3d1b0";

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct App {
    pub user: Option<String>,
    pub cart: Vec<u32>,
}

impl SessionSchema for App {
    const FIELDS: &'static [&'static str] = &["user", "cart"];
}

pub fn key(hex: &str) -> Key {
    Key::from_hex(hex).expect("test keys are strong")
}

pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

pub fn builder<T: SessionSchema>() -> SessionConfigBuilder<T> {
    SessionConfig::<T>::builder().key(key(KEY_A))
}

pub fn config() -> SessionConfig<App> {
    builder::<App>().build().expect("valid config")
}

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

pub fn rejected<T>(loaded: &Loaded<T>) -> Option<sessionkit::Rejection> {
    loaded.rejected.clone()
}

/// A reply read by [`http_get`].
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub set_cookie: Vec<String>,
    pub body: String,
}

/// A plain HTTP/1.1 GET on loopback, with an optional `Cookie` header, read to the end.
pub fn http_get(port: u16, path: &str, cookie: Option<&str>) -> Reply {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("server listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{cookie}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let set_cookie = lines
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, value)| value.trim().to_owned())
        .collect();
    Reply {
        status,
        set_cookie,
        body: body.to_owned(),
    }
}

/// Waits until something listens on `port`.
pub fn wait_for_port(port: u16) {
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "port {port} never opened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
