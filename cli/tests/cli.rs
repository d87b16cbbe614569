//! The `sessionkit` binary end to end: cookies minted by sessionkit and by Flask's format
//! decoded with the key from the environment, with the app's verdict; an owner's sessions
//! listed and revoked in real stores (SQLite in a temporary file, and the Redis and Postgres
//! servers `scripts/servers start` runs); a store swept.

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sessionkit::{CookieCommand, Key, SessionConfig};

use sessionkit_testkit::fixture::KEY_A as KEY_HEX;
use sessionkit_testkit::servers::url as server;

#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
struct App {
    #[session(owner)]
    user: Option<String>,
    cart: Vec<u32>,
}

/// Runs the tool with the key in `SESSION_SECRET`; its exit code and output.
fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sessionkit"))
        .args(args)
        .env("SESSION_SECRET", KEY_HEX)
        .env("FLASK_SECRET", "3f9c2a7e5b1d8f40c6e2a9d3b7f1c50e")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn cookie(command: CookieCommand) -> String {
    match command {
        CookieCommand::Set(header) => header.split(';').next().unwrap().to_owned(),
        other => panic!("expected a cookie, got {other:?}"),
    }
}

#[test]
fn decode_shows_a_cookie_and_the_apps_verdict() {
    let config: SessionConfig<App> = SessionConfig::builder()
        .key(Key::from_hex(KEY_HEX).unwrap())
        .build()
        .unwrap();
    let mut session = sessionkit::TrackedSession::new(App::default());
    session.set_user("alice");
    session.cart_mut().push(7);
    let pair = cookie(config.save(&session, SystemTime::now()).unwrap());

    let (code, out) = run(&["decode", &pair]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("format: signed"), "{out}");
    assert!(out.contains("\"user\": \"alice\""), "{out}");
    assert!(out.contains("\"cart\": [\n    7\n  ]"), "{out}");
    assert!(out.ends_with("verdict: accepted\n"), "{out}");

    // A day past a one-hour lifetime: refused as expired, the data still shown.
    let later = (now() + 86_400).to_string();
    let (code, out) = run(&["decode", "--lifetime", "3600", "--now", &later, &pair]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("verdict: refused: expired"), "{out}");

    let (code, out) = run(&["decode", "--schema", "2", &pair]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("verdict: refused: schema version 0 where the app expects 2"),
        "{out}"
    );

    // One character changed in the signature: refused, with the app's reason.
    let mut forged = pair.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let (code, out) = run(&["decode", &forged]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("verdict: refused: session cookie has a bad signature"),
        "{out}"
    );

    // Another cookie name: its signature covers the name.
    let (code, out) = run(&["decode", "--name", "other", &pair]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("verdict: refused:"), "{out}");
}

#[test]
fn decode_reads_flask_cookies_and_says_what_is_missing() {
    let codec = sessionkit::flask::FlaskCodec::new("3f9c2a7e5b1d8f40c6e2a9d3b7f1c50e").unwrap();
    let data = serde_json::json!({"user_id": 42, "cart": [1, 2]});
    let value = codec.encode(data.as_object().unwrap(), now()).unwrap();
    let (code, out) = run(&["decode", "--flask", "--key-env", "FLASK_SECRET", &value]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("format: flask"), "{out}");
    assert!(out.contains("\"user_id\": 42"), "{out}");

    let (code, out) = run(&["decode", "--flask", "--key-env", "SESSION_SECRET", &value]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("verdict: refused:"), "{out}");

    let (code, out) = run(&["decode", "--key-env", "NO_SUCH_VARIABLE_SET", &value]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("NO_SUCH_VARIABLE_SET"), "{out}");
}

/// A configuration of `App` over the store at `url`.
async fn on_store(url: &str) -> SessionConfig<App> {
    let store = sessionkit_redis::connect(url).await.unwrap();
    SessionConfig::builder()
        .key(Key::from_hex(KEY_HEX).unwrap())
        .store(store)
        .build()
        .unwrap()
}

/// Logs `user` in through `config`; the cookie.
async fn login(config: &SessionConfig<App>, user: &str) -> String {
    let mut loaded = config
        .load_async([&b""[..]], SystemTime::now())
        .await
        .unwrap();
    loaded.session.set_user(user);
    cookie(
        config
            .save_async(&loaded.session, SystemTime::now())
            .await
            .unwrap(),
    )
}

/// Logs `owner` in twice through a configuration over `url`; returns one id cookie.
async fn two_logins(url: &str, owner: &str) -> String {
    let config = on_store(url).await;
    login(&config, owner).await;
    login(&config, owner).await
}

async fn list_and_revoke(url: &str) {
    let owner = format!(
        "cli-{}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let pair = two_logins(url, &owner).await;
    let (code, out) = run(&["sessions", "list", "--store", url, &owner]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(&format!("2 session(s) of {owner}\n")),
        "{out}"
    );
    assert_eq!(out.lines().count(), 3, "{out}");

    // The id cookie decodes to its record's public id, one of those listed.
    let (code, decoded) = run(&["decode", &pair]);
    assert_eq!(code, 0, "{decoded}");
    let public = decoded
        .lines()
        .find_map(|l| l.strip_prefix("stored: the data is in the store, record "))
        .unwrap_or_else(|| panic!("{decoded}"));
    assert!(out.contains(public), "{public} in {out}");

    let (code, out) = run(&["sessions", "revoke", "--store", url, &owner]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, format!("revoked 2 session(s) of {owner}\n"));
    let (_, out) = run(&["sessions", "list", "--store", url, &owner]);
    assert_eq!(out, format!("0 session(s) of {owner}\n"));
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_in_real_stores() {
    let dir = std::env::temp_dir().join(format!("sessionkit-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    list_and_revoke(&format!("sqlite://{}?mode=rwc", dir.join("s.db").display())).await;
    if let Some(url) = server("SESSIONKIT_REDIS_URL") {
        list_and_revoke(&url).await;
    }
    if let Some(url) = server("SESSIONKIT_POSTGRES_URL") {
        list_and_revoke(&url).await;
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn sweep_deletes_expired_records() {
    let dir = std::env::temp_dir().join(format!("sessionkit-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("s.db").display());
    let store = sessionkit::store::connect(&url).await.unwrap();
    let config: SessionConfig<App> = SessionConfig::builder()
        .key(Key::from_hex(KEY_HEX).unwrap())
        .store(store)
        .lifetime(Duration::from_secs(60))
        .build()
        .unwrap();
    // Three sessions created two minutes ago (expired now), one created now.
    let past = SystemTime::now() - Duration::from_secs(120);
    for at in [past, past, past, SystemTime::now()] {
        let mut loaded = config.load_async([&b""[..]], at).await.unwrap();
        loaded.session.cart_mut().push(1);
        let _ = cookie(config.save_async(&loaded.session, at).await.unwrap());
    }
    let (code, out) = run(&["sweep", "--store", &url]);
    assert_eq!((code, out.as_str()), (0, "deleted 3 expired record(s)\n"));
    let (_, out) = run(&["sweep", "--store", &url]);
    assert_eq!(out, "deleted 0 expired record(s)\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Logs in `n` users on the store at `url`; their cookies.
async fn logins(url: &str, n: usize) -> (SessionConfig<App>, Vec<String>) {
    let config = on_store(url).await;
    let mut cookies = Vec::new();
    for i in 0..n {
        cookies.push(login(&config, &format!("mover-{i}")).await);
    }
    (config, cookies)
}

/// Every cookie of `cookies` loads user `mover-i` through `config`, or (`false`) none does.
async fn all_logged_in(config: &SessionConfig<App>, cookies: &[String], expected: bool) {
    for (i, c) in cookies.iter().enumerate() {
        let loaded = config
            .load_async([c.as_bytes()], SystemTime::now())
            .await
            .unwrap();
        let user = expected.then(|| format!("mover-{i}"));
        assert_eq!(loaded.session.user(), user.as_deref(), "{c}");
    }
}

#[tokio::test]
async fn move_takes_every_session_to_another_store_and_keeps_the_cookies() {
    let dir = std::env::temp_dir().join(format!("sessionkit-move-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = format!("file://{}", dir.join("files").display());
    let sqlite = format!("sqlite://{}?mode=rwc", dir.join("s.db").display());
    // 1,203 sessions: more than two pages of the tool's 500.
    let (in_files, cookies) = logins(&files, 1203).await;
    let (in_sqlite, _) = logins(&sqlite, 0).await;
    let (code, out) = run(&["move", "--from", &files, "--to", &sqlite]);
    assert_eq!((code, out.as_str()), (0, "moved 1203 session(s)\n"));
    all_logged_in(&in_sqlite, &cookies, true).await;
    all_logged_in(&in_files, &cookies, false).await;
    // And on to a real Redis, then back to the files: nobody is logged out.
    let mut last = (sqlite.clone(), in_sqlite);
    if let Some(url) = server("SESSIONKIT_REDIS_URL") {
        // A database of this test's own: the move takes every session the store holds.
        let url = format!("{}/13", url.trim_end_matches('/'));
        let client = redis::Client::open(url.as_str()).unwrap();
        let _: () = redis::cmd("FLUSHDB")
            .query(&mut client.get_connection().unwrap())
            .unwrap();
        let (in_redis, _) = logins(&url, 0).await;
        let (code, out) = run(&["move", "--from", &sqlite, "--to", &url]);
        assert_eq!((code, out.as_str()), (0, "moved 1203 session(s)\n"));
        all_logged_in(&in_redis, &cookies, true).await;
        all_logged_in(&last.1, &cookies, false).await;
        last = (url, in_redis);
    }
    let (code, out) = run(&["move", "--from", &last.0, "--to", &files]);
    assert_eq!((code, out.as_str()), (0, "moved 1203 session(s)\n"));
    all_logged_in(&in_files, &cookies, true).await;
    all_logged_in(&last.1, &cookies, false).await;
    std::fs::remove_dir_all(&dir).unwrap();
}
