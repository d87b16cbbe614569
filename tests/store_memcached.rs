//! The conformance suite on `MemcachedStore` against a real `memcached`
//! (`SESSIONKIT_MEMCACHED_ADDR`), and what eviction does: a logged-out user, never another
//! user's data.

mod common;

use std::io::{Read as _, Write as _};

use common::conformance::{logged_in, now_ms, t0, Wide};
use common::{at, builder};
use sessionkit::store::MemcachedStore;
use sessionkit::{
    BoxedStore, Rejection, SessionConfig, SessionId, SessionStore, StoreError, StoreKey,
};

async fn memcached() -> Option<(BoxedStore, ())> {
    let addr = common::servers::url("SESSIONKIT_MEMCACHED_ADDR")?;
    Some((
        BoxedStore::new(MemcachedStore::connect(&addr).await.unwrap()),
        (),
    ))
}

crate::conformance!(memcached().await; no owner index);

/// Sends raw text to memcached and returns its first reply line.
fn raw(addr: &str, command: &[u8]) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(command).unwrap();
    let mut reply = [0u8; 64];
    let n = stream.read(&mut reply).unwrap();
    String::from_utf8_lossy(&reply[..n]).trim_end().to_owned()
}

#[tokio::test]
async fn a_corrupt_value_is_a_corrupt_error_never_a_panic() {
    let Some(addr) = common::servers::url("SESSIONKIT_MEMCACHED_ADDR") else {
        return;
    };
    let store = MemcachedStore::connect(&addr).await.unwrap();
    let key = StoreKey::new("app", &SessionId::generate().unwrap());
    let set = format!("ms sk:{} 7 T0\r\nnot-SKR\r\n", key.to_hex());
    assert_eq!(raw(&addr, set.as_bytes()), "HD");
    assert!(matches!(
        store.load(&key, now_ms()).await,
        Err(StoreError::Corrupt(_))
    ));
}

/// A memcached of its own with 2 MB of memory, so that eviction comes quickly.
struct SmallMemcached(std::process::Child, String);

impl SmallMemcached {
    fn start() -> Self {
        let port = common::free_port();
        let mut command = std::process::Command::new("memcached");
        command.args([
            "-l",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "0",
            "-m",
            "2",
        ]);
        if std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout == b"0\n")
        {
            command.args(["-u", "nobody"]);
        }
        let child = command
            .spawn()
            .expect("memcached is installed (scripts/servers installs it)");
        common::wait_for_port(port);
        Self(child, format!("127.0.0.1:{port}"))
    }
}

impl Drop for SmallMemcached {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn an_evicted_session_logs_its_user_out_and_shows_no_other_data() {
    if common::servers::url("SESSIONKIT_MEMCACHED_ADDR").is_none() {
        return;
    }
    let server = SmallMemcached::start();
    let config: SessionConfig<Wide> = builder::<Wide>()
        .store(MemcachedStore::connect(&server.1).await.unwrap())
        .build()
        .unwrap();
    let cookie = logged_in(&config).await;
    // Other users' sessions of the same size fill the 2 MB: the oldest, alice's, is evicted.
    let others: SessionConfig<Wide> = builder::<Wide>()
        .store(MemcachedStore::connect(&server.1).await.unwrap())
        .build()
        .unwrap();
    for _ in 0..12_000 {
        let mut loaded = others.load_async([&b""[..]], at(t0())).await.unwrap();
        loaded.session.set_user("mallory");
        let _sent = others.save_async(&loaded.session, at(t0())).await.unwrap();
    }
    let loaded = config
        .load_async([cookie.as_bytes()], at(t0()))
        .await
        .unwrap();
    assert_eq!(loaded.rejected, Some(Rejection::UnknownSession));
    assert!(loaded.session.is_new());
    assert_eq!(*loaded.session, Wide::default());
}
