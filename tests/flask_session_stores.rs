//! Flask-Session's memcached and `SQLAlchemy` records, on a real memcached, a real SQLite file
//! and a real Postgres: records Flask-Session wrote (the bytes of `vectors.jsonl`) read into a typed
//! struct and written back byte for byte, with Flask-Session's expiry rules.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpStream;

use common::temp::TempDir;
use serde::{Deserialize, Serialize};
use sessionkit::flask_session::FlaskSessionStore;
use sessionkit::Session;
use sessionkit_testkit::flask_vectors::flask_session_stored;

#[derive(Session, Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
struct Mixed {
    user: Option<String>,
    n: u64,
}

#[derive(Session, Serialize, Deserialize, Default, Debug)]
struct User {
    user: Option<String>,
}

fn random_sid() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// One memcached text-protocol exchange, for what the test plants and inspects.
fn memcached(addr: &str, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request).unwrap();
    stream.write_all(b"mn\r\n").unwrap(); // a no-op whose `MN` ends the answer
    let mut reader = BufReader::new(stream);
    let mut out = Vec::new();
    loop {
        let mut line = Vec::new();
        reader.read_until(b'\n', &mut line).unwrap();
        if line == b"MN\r\n" {
            return out;
        }
        out.extend_from_slice(&line);
    }
}

/// The remaining seconds in a meta-get answer (`... t2678400`).
fn ttl_of(head: &str) -> u64 {
    head.split_whitespace()
        .find_map(|f| f.strip_prefix('t'))
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_memcached_record_reads_and_writes_back_with_flask_sessions_expiry() {
    let Some(addr) = common::servers::url("SESSIONKIT_MEMCACHED_ADDR") else {
        return;
    };
    let bytes = flask_session_stored("memcached-mixed");
    let sid = random_sid();
    let key = format!("session:{sid}");
    let mut set = format!("set {key} 0 3600 {}\r\n", bytes.len()).into_bytes();
    set.extend_from_slice(&bytes);
    set.extend_from_slice(b"\r\n");
    assert_eq!(memcached(&addr, &set), b"STORED\r\n");

    let store = FlaskSessionStore::memcached(&addr);
    let mut record = store.load::<Mixed>(&sid).await.unwrap().record.unwrap();
    assert_eq!(
        record.data,
        Mixed {
            user: Some("bob".into()),
            n: 7
        }
    );
    // Written back unchanged: the same bytes, blob, tuple, datetime and all; with the default
    // 31-day lifetime, an absolute expiry (a relative one over 30 days would be in 1970).
    store.save(&record).await.unwrap();
    let got = memcached(&addr, format!("mg {key} v t\r\n").as_bytes());
    let (head, value) = got.split_at(got.iter().position(|&b| b == b'\n').unwrap() + 1);
    assert_eq!(&value[..value.len() - 2], &bytes[..]);
    let head = String::from_utf8(head.to_vec()).unwrap();
    // memcached's clock ticks once a second and may lag the system's: a second either way.
    let ttl = ttl_of(&head);
    assert!((31 * 86_400 - 5..=31 * 86_400 + 2).contains(&ttl), "{head}");

    // A change, and a shorter lifetime (relative).
    record.data.n = 8;
    let short =
        FlaskSessionStore::memcached(&addr).with_lifetime(std::time::Duration::from_secs(600));
    short.save(&record).await.unwrap();
    assert_eq!(
        short
            .load::<Mixed>(&sid)
            .await
            .unwrap()
            .record
            .unwrap()
            .data
            .n,
        8
    );
    let head = String::from_utf8(memcached(&addr, format!("mg {key} t\r\n").as_bytes())).unwrap();
    assert!((595..=602).contains(&ttl_of(&head)), "{head}");
}

#[tokio::test]
async fn the_sqlalchemy_table_on_sqlite_reads_writes_and_expires_as_flask_session() {
    let dir = TempDir::new("flask-session-sql");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    // Flask-Session's own DDL (SQLAlchemy 2.1 on SQLite).
    sqlx::query(
        "CREATE TABLE sessions (id INTEGER NOT NULL, session_id VARCHAR(255), data BLOB, \
         expiry DATETIME, PRIMARY KEY (id), UNIQUE (session_id))",
    )
    .execute(&pool)
    .await
    .unwrap();
    let bytes = flask_session_stored("sql-str");
    let (live, past, null) = (random_sid(), random_sid(), random_sid());
    for (sid, expiry) in [
        (&live, Some("2999-01-01 00:00:00.000000")),
        (&past, Some("2000-01-01 00:00:00")),
        (&null, None),
    ] {
        sqlx::query("INSERT INTO sessions (session_id, data, expiry) VALUES (?, ?, ?)")
            .bind(format!("session:{sid}"))
            .bind(&bytes)
            .bind(expiry)
            .execute(&pool)
            .await
            .unwrap();
    }
    let store = FlaskSessionStore::sqlite(pool.clone(), "sessions");
    let mut record = store.load::<User>(&live).await.unwrap().record.unwrap();
    assert_eq!(record.data.user(), Some("alice"));
    // Expired and undated rows are no session, and are deleted, as Flask-Session does.
    for sid in [&past, &null] {
        assert!(store.load::<User>(sid).await.unwrap().record.is_none());
    }
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);

    // Written back: msgspec's bytes, and a naive UTC expiry with microseconds.
    record.data.set_user("bob");
    store.save(&record).await.unwrap();
    let (data, expiry): (Vec<u8>, String) =
        sqlx::query_as("SELECT data, expiry FROM sessions WHERE session_id = ?")
            .bind(format!("session:{live}"))
            .fetch_one(&pool)
            .await
            .unwrap();
    let mut expected = bytes.clone();
    let at = expected.len() - 6;
    expected.splice(at.., b"\xa3bob".iter().copied());
    assert_eq!(data, expected);
    assert_eq!(expiry.len(), 26, "{expiry}");
    assert_eq!((&expiry[10..11], &expiry[19..20]), (" ", "."));
    // A new session is an INSERT.
    let created = store
        .create(
            User {
                user: Some("carol".into()),
            },
            true,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .load::<User>(&created.sid)
            .await
            .unwrap()
            .record
            .unwrap()
            .data
            .user(),
        Some("carol")
    );
}

#[tokio::test]
async fn the_sqlalchemy_table_on_postgres_reads_writes_and_expires_as_flask_session() {
    let Some(url) = common::servers::url("SESSIONKIT_POSTGRES_URL") else {
        return;
    };
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let table = format!(
        "flask_sessions_{}",
        &random_sid()[..8]
            .to_ascii_lowercase()
            .replace(['-', '_'], "x")
    );
    // Flask-Session's table as SQLAlchemy creates it on Postgres.
    sqlx::query(&format!(
        "CREATE TABLE \"{table}\" (id SERIAL PRIMARY KEY, session_id VARCHAR(255) UNIQUE, \
         data BYTEA, expiry TIMESTAMP WITHOUT TIME ZONE)"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let bytes = flask_session_stored("sql-str");
    let (live, past) = (random_sid(), random_sid());
    for (sid, expiry) in [
        (&live, "2999-01-01 00:00:00"),
        (&past, "2000-01-01 00:00:00"),
    ] {
        sqlx::query(&format!(
            "INSERT INTO \"{table}\" (session_id, data, expiry) VALUES ($1, $2, $3::timestamp)"
        ))
        .bind(format!("session:{sid}"))
        .bind(&bytes)
        .bind(expiry)
        .execute(&pool)
        .await
        .unwrap();
    }
    let store = FlaskSessionStore::postgres(pool.clone(), &table);
    let mut record = store.load::<User>(&live).await.unwrap().record.unwrap();
    assert_eq!(record.data.user(), Some("alice"));
    assert!(store.load::<User>(&past).await.unwrap().record.is_none());
    record.data.set_user("bob");
    store.save(&record).await.unwrap();
    let (data, in_a_month): (Vec<u8>, bool) = sqlx::query_as(&format!(
        "SELECT data, expiry > (now() AT TIME ZONE 'UTC') + interval '30 days' \
         FROM \"{table}\" WHERE session_id = $1"
    ))
    .bind(format!("session:{live}"))
    .fetch_one(&pool)
    .await
    .unwrap();
    let mut expected = bytes.clone();
    let at = expected.len() - 6;
    expected.splice(at.., b"\xa3bob".iter().copied());
    assert_eq!((data, in_a_month), (expected, true));
    let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\""))
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    sqlx::query(&format!("DROP TABLE \"{table}\""))
        .execute(&pool)
        .await
        .unwrap();
}

/// A memcached key prefix the text protocol cannot carry is refused when it is set, and a
/// session id that would make a bad key never reaches the server.
#[tokio::test]
async fn memcached_keys_the_protocol_cannot_carry_are_refused() {
    let Some(addr) = common::servers::url("SESSIONKIT_MEMCACHED_ADDR") else {
        return;
    };
    // A canary the injected `flush_all` would remove.
    let canary = format!("canary:{}", random_sid());
    let set = format!("set {canary} 0 600 2\r\nok\r\n");
    assert_eq!(memcached(&addr, set.as_bytes()), b"STORED\r\n");
    for prefix in ["session: other", "x\r\nflush_all\r\n", "sessión:", "tab\t"] {
        assert!(
            FlaskSessionStore::memcached(&addr)
                .with_prefix(prefix)
                .is_err(),
            "{prefix:?}"
        );
    }
    let store = FlaskSessionStore::memcached(&addr)
        .with_prefix("session:")
        .unwrap();
    let loaded = store.load::<Mixed>("a b\r\nflush_all").await;
    assert!(
        !matches!(loaded, Ok(ref l) if l.record.is_some()),
        "{loaded:?}"
    );
    let got = memcached(&addr, format!("mg {canary} v\r\n").as_bytes());
    assert!(
        got.starts_with(b"VA 2"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}
