//! Live interop with real Flask 3.1: a Flask app (`tests/flask_live/app.py`, run by the Python of
//! the venv `scripts/test` makes, or `SESSIONKIT_FLASK_PYTHON`) and a sessionkit app share one
//! session cookie, both ways, across a key rotation.

mod common;

use std::process::{Child, Command, Stdio};

use axum::extract::Query;
use axum::routing::get;
use axum::{Json, Router};
use common::{free_port, http_get, wait_for_port};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sessionkit::axum::{Session, SessionLayer};
use sessionkit::flask::{FlaskCodec, FlaskError, Tuple};
use sessionkit::{Rejection, SessionConfig};

const OLD_KEY: &str = "flask-live-old-9d31c7e2";
const NEW_KEY: &str = "flask-live-new-4b8e0f6a";
/// The secret the seed tutorials' Flask app really runs on.
const TUTORIAL_KEY: &str = "secret key";

/// The Rust side's view of the session Flask writes.
#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug)]
struct Shared {
    user: Option<String>,
    #[serde(default)]
    cart: Vec<i64>,
    /// Flask's `flash()` queue: `(category, message)` tuples.
    #[session(rename = "_flashes")]
    #[serde(rename = "_flashes", default)]
    flashes: Vec<Tuple<(String, String)>>,
}

struct Flask(Child, u16);

impl Flask {
    fn start(secret: &str, fallbacks: &[&str]) -> Self {
        let python = std::env::var("SESSIONKIT_FLASK_PYTHON")
            .unwrap_or_else(|_| "target/flask-venv/bin/python".into());
        let port = free_port();
        let child = Command::new(&python)
            .arg("tests/flask_live/app.py")
            .arg(port.to_string())
            .env("FLASK_SECRET", secret)
            .env("FLASK_FALLBACKS", fallbacks.join(","))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {python} (run scripts/test, which makes the Flask venv): {e}")
            });
        wait_for_port(port);
        Self(child, port)
    }

    fn get(&self, path: &str, cookie: Option<&str>) -> common::Reply {
        http_get(self.1, path, cookie)
    }
}

impl Drop for Flask {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn whoami(session: Session<Shared>) -> Json<Value> {
    let flashes: Vec<(String, String)> = session.flashes.iter().map(|t| t.0.clone()).collect();
    Json(json!({"user": session.user(), "cart": session.cart(), "flashes": flashes}))
}

#[derive(Deserialize)]
struct Item {
    item: i64,
}

async fn add(mut session: Session<Shared>, Query(q): Query<Item>) -> &'static str {
    session.cart_mut().push(q.item);
    "ok"
}

#[derive(Deserialize)]
struct Fill {
    n: i64,
}

/// Adds `n` items: a session large enough to be written compressed.
async fn fill(mut session: Session<Shared>, Query(q): Query<Fill>) -> &'static str {
    session.cart_mut().extend(1000..1000 + q.n);
    "ok"
}

/// Serves the sessionkit app in Flask mode on a free port.
fn serve_rust(codec: FlaskCodec) -> u16 {
    let config = SessionConfig::<Shared>::builder()
        .flask(codec)
        .build()
        .unwrap();
    let app = Router::new()
        .route("/whoami", get(whoami))
        .route("/add", get(add))
        .route("/fill", get(fill))
        .layer(SessionLayer::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    wait_for_port(port);
    port
}

/// `session=<value>` from the one `Set-Cookie` of a reply.
fn cookie_of(reply: &common::Reply) -> String {
    assert_eq!(reply.set_cookie.len(), 1, "{reply:?}");
    reply.set_cookie[0].split(';').next().unwrap().to_owned()
}

fn json_body(reply: &common::Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {reply:?}"))
}

#[test]
fn flask_and_sessionkit_share_a_session_both_ways_and_across_a_rotation() {
    let flask = Flask::start(OLD_KEY, &[]);
    let rust = serve_rust(FlaskCodec::new(OLD_KEY).unwrap());

    // Flask logs alice in; Rust reads her, her cart and Flask's flash tuple.
    let from_flask = cookie_of(&flask.get("/login", None));
    let seen = json_body(&http_get(rust, "/whoami", Some(&from_flask)));
    assert_eq!(
        seen,
        json!({"user": "alice", "cart": [1, 2], "flashes": [["message", "Welcome"]]})
    );

    // Rust adds to the cart; Flask reads the change, its flash still a tuple.
    let from_rust = cookie_of(&http_get(rust, "/add?item=3", Some(&from_flask)));
    let shown = json_body(&flask.get("/show", Some(&from_rust)));
    assert_eq!(
        shown["session"],
        json!({"user": "alice", "cart": [1, 2, 3]})
    );
    assert_eq!(shown["flashes"], json!([["message", "Welcome"]]));
    assert_eq!(shown["flash_types"], json!(["tuple"]));
    // That cookie is small and written uncompressed; a large one is compressed, and Flask
    // reads both.
    assert!(!from_rust.starts_with("session=."), "{from_rust}");
    let large = cookie_of(&http_get(rust, "/fill?n=150", Some(&from_rust)));
    assert!(large.starts_with("session=."), "{large}");
    let cart = json_body(&flask.get("/show", Some(&large)))["session"]["cart"].clone();
    let expected: Vec<i64> = [1, 2, 3].into_iter().chain(1000..1150).collect();
    assert_eq!(cart, json!(expected));

    // Flask changes it again; Rust sees that.
    let again = cookie_of(&flask.get("/add?item=4", Some(&from_rust)));
    assert_eq!(
        json_body(&http_get(rust, "/whoami", Some(&again)))["cart"],
        json!([1, 2, 3, 4])
    );

    // Rotation: Flask now signs with a new key and keeps the old one as a fallback.
    drop(flask);
    let rotated = Flask::start(NEW_KEY, &[OLD_KEY]);
    let rotated_rust = serve_rust(
        FlaskCodec::new(NEW_KEY)
            .unwrap()
            .with_fallback(OLD_KEY)
            .unwrap(),
    );
    // An old-key cookie written by Rust is still read by the rotated Flask.
    assert_eq!(
        json_body(&rotated.get("/show", Some(&from_rust)))["session"]["cart"],
        json!([1, 2, 3])
    );
    // A new-key cookie written by Flask is read by the rotated Rust app, not by the old one.
    let new_cookie = cookie_of(&rotated.get("/login", None));
    assert_eq!(
        json_body(&http_get(rotated_rust, "/whoami", Some(&new_cookie)))["user"],
        "alice"
    );
    assert_eq!(
        json_body(&http_get(rust, "/whoami", Some(&new_cookie)))["user"],
        Value::Null
    );
    // The rotated Rust app re-signs an old-key cookie with the new key, which Flask reads.
    let resigned = cookie_of(&http_get(rotated_rust, "/whoami", Some(&from_rust)));
    assert_eq!(
        json_body(&rotated.get("/show", Some(&resigned)))["session"]["cart"],
        json!([1, 2, 3])
    );
    let old_only = FlaskCodec::new(OLD_KEY).unwrap();
    let value = resigned.trim_start_matches("session=");
    assert_eq!(
        old_only.decode(value, u64::MAX / 2, u64::MAX),
        Err(FlaskError::Invalid(Rejection::BadSignature))
    );
}

#[test]
fn an_app_on_a_weak_tutorial_secret_migrates_without_logging_anyone_out() {
    // Stage 0: Flask signs with the tutorial's weak secret. sessionkit refuses it by default...
    let flask = Flask::start(TUTORIAL_KEY, &[]);
    assert!(FlaskCodec::new(TUTORIAL_KEY).is_err());
    // ...and reads and writes it only through the loudly named opt-in.
    let legacy = serve_rust(FlaskCodec::new_weak_legacy(TUTORIAL_KEY).unwrap());
    let weak_cookie = cookie_of(&flask.get("/login", None));
    assert_eq!(
        json_body(&http_get(legacy, "/whoami", Some(&weak_cookie)))["user"],
        "alice"
    );
    let weak_from_rust = cookie_of(&http_get(legacy, "/add?item=3", Some(&weak_cookie)));
    assert_eq!(
        json_body(&flask.get("/show", Some(&weak_from_rust)))["session"]["cart"],
        json!([1, 2, 3])
    );
    drop(flask);

    // Stage 1, the rotation: a strong key signs, the weak one only verifies, on both sides.
    let rotated = Flask::start(NEW_KEY, &[TUTORIAL_KEY]);
    let rotating = serve_rust(
        FlaskCodec::new(NEW_KEY)
            .unwrap()
            .with_weak_legacy_fallback(TUTORIAL_KEY)
            .unwrap(),
    );
    // A weak-key cookie is still read, and even a read-only request re-signs it.
    let reply = http_get(rotating, "/whoami", Some(&weak_from_rust));
    assert_eq!(json_body(&reply)["cart"], json!([1, 2, 3]));
    let strong_cookie = cookie_of(&reply);
    assert_eq!(
        json_body(&rotated.get("/show", Some(&strong_cookie)))["session"]["cart"],
        json!([1, 2, 3])
    );

    // Stage 2: the weak secret is gone. The re-signed cookie still works; a weak one does not.
    let strict = serve_rust(FlaskCodec::new(NEW_KEY).unwrap());
    assert_eq!(
        json_body(&http_get(strict, "/whoami", Some(&strong_cookie)))["cart"],
        json!([1, 2, 3])
    );
    assert_eq!(
        json_body(&http_get(strict, "/whoami", Some(&weak_from_rust)))["user"],
        Value::Null
    );
}
