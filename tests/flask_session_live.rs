//! A real Flask-Session 0.8 app (the Flask venv `scripts/test` makes, or
//! `SESSIONKIT_FLASK_PYTHON`) and sessionkit share sessions on one real Redis: each uses and
//! changes a session the other created, keys sessionkit's struct does not name survive, a
//! pickle planted in the store is refused, and a session is migrated to sessionkit's own store.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::SystemTime;

use common::servers;
use common::{free_port, http_get, wait_for_port};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sessionkit::{Key, Session, SessionConfig};
use sessionkit_redis::RedisStore;

#[derive(Session, Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
struct Shared {
    user: Option<String>,
    cart: Vec<i64>,
}

struct Flask(Child, u16);

impl Flask {
    fn start(redis_url: &str, prefix: &str) -> Self {
        let python = std::env::var("SESSIONKIT_FLASK_PYTHON")
            .unwrap_or_else(|_| "target/flask-venv/bin/python".into());
        let port = free_port();
        let child = Command::new(&python)
            .arg("tests/flask_session_live/app.py")
            .arg(port.to_string())
            .env("REDIS_URL", redis_url)
            .env("SESSION_PREFIX", prefix)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {python} (run scripts/test, which makes the Flask venv): {e}")
            });
        wait_for_port(port);
        Self(child, port)
    }

    fn get(&self, path: &str, sid: Option<&str>) -> common::Reply {
        let cookie = sid.map(|s| format!("session={s}"));
        http_get(self.1, path, cookie.as_deref())
    }

    fn show(&self, sid: &str) -> Value {
        let reply = self.get("/show", Some(sid));
        assert_eq!(reply.status, 200, "{reply:?}");
        serde_json::from_str::<Value>(&reply.body).unwrap()["session"].clone()
    }
}

impl Drop for Flask {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).unwrap();
    buf.iter().fold(String::new(), |mut out, b| {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The session id Flask-Session set in its cookie.
fn sid_of(reply: &common::Reply) -> String {
    assert_eq!(reply.set_cookie.len(), 1, "{reply:?}");
    let pair = reply.set_cookie[0].split(';').next().unwrap();
    pair.strip_prefix("session=").unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flask_session_and_sessionkit_share_sessions_on_one_redis_then_migrate() {
    let Some(url) = servers::url("SESSIONKIT_REDIS_URL") else {
        return;
    };
    // A prefix of this run's own, so runs never see each other's records.
    let prefix = format!("session:{}:", random_hex(8));
    let flask = Flask::start(&url, &prefix);
    let store = sessionkit_redis::flask_session(&url)
        .await
        .unwrap()
        .with_prefix(&prefix)
        .unwrap();

    // Flask-Session logs alice in; sessionkit reads her.
    let sid = sid_of(&flask.get("/login", None));
    assert_eq!(sid.len(), 43);
    let loaded = store.load::<Shared>(&sid).await.unwrap();
    assert_eq!(loaded.rejected, None);
    let mut record = loaded.record.expect("the session Flask-Session wrote");
    assert_eq!(
        (&record.data, record.permanent),
        (
            &Shared {
                user: Some("alice".into()),
                cart: vec![1, 2]
            },
            true
        )
    );

    // sessionkit changes the cart; Flask-Session reads the change, and Flask-Login's key,
    // which the struct does not name, is still there.
    record.data.cart.push(3);
    store.save(&record).await.unwrap();
    assert_eq!(
        flask.show(&sid),
        json!({"_permanent": true, "user": "alice", "cart": [1, 2, 3], "_user_id": "42"})
    );

    // Flask-Session changes it again; sessionkit sees that.
    assert_eq!(flask.get("/add?item=4", Some(&sid)).status, 200);
    let again = store.load::<Shared>(&sid).await.unwrap().record.unwrap();
    assert_eq!(again.data.cart, [1, 2, 3, 4]);

    // sessionkit starts a session; Flask-Session uses and changes it.
    let bob = store
        .create(
            Shared {
                user: Some("bob".into()),
                cart: vec![9],
            },
            true,
        )
        .await
        .unwrap();
    assert_eq!(bob.sid.len(), 43);
    assert_eq!(
        flask.show(&bob.sid),
        json!({"_permanent": true, "user": "bob", "cart": [9]})
    );
    assert_eq!(flask.get("/add?item=10", Some(&bob.sid)).status, 200);
    let bob_again = store
        .load::<Shared>(&bob.sid)
        .await
        .unwrap()
        .record
        .unwrap();
    assert_eq!(bob_again.data.cart, [9, 10]);

    // A pickle planted in the store (Flask-Session would unpickle it) is refused, unread.
    let planted = random_hex(22);
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let pickle = b"\x80\x02}q\x00X\x04\x00\x00\x00userq\x01X\x05\x00\x00\x00aliceq\x02s.";
    redis::cmd("SET")
        .arg(format!("{prefix}{planted}"))
        .arg(&pickle[..])
        .query_async::<()>(&mut connection)
        .await
        .unwrap();
    let refused = store.load::<Shared>(&planted).await.unwrap();
    assert!(refused.record.is_none());
    assert!(refused
        .rejected
        .unwrap()
        .starts_with("a pickle record: refused"));

    // Alice's session moves to sessionkit's own store: the Flask-Session record is gone, and
    // the new cookie carries her to the same data.
    let native = SessionConfig::<Shared>::builder()
        .key(Key::generate().unwrap())
        .store(
            RedisStore::connect(&url)
                .await
                .unwrap()
                .with_prefix(&format!("{prefix}native:")),
        )
        .build()
        .unwrap();
    let now = SystemTime::now();
    let cookie = store
        .migrate(&sid, &native, now)
        .await
        .unwrap()
        .expect("a session to move");
    assert!(store.load::<Shared>(&sid).await.unwrap().record.is_none());
    assert_eq!(flask.show(&sid), json!({"_permanent": true}));
    let moved = native.load_async([cookie.as_bytes()], now).await.unwrap();
    assert_eq!(moved.rejected, None);
    assert_eq!(moved.session.cart(), &[1, 2, 3, 4]);
    assert!(moved.session.is_permanent());
}
