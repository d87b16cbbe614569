//! Flask's `Set-Cookie` / `Vary` behaviour (`tests/data/flask/behaviour.jsonl`, recorded from
//! real Flask 3.1.3 at a frozen clock) reproduced through the axum adapter in Flask mode.
//!
//! The scenarios were recorded with `SECRET_KEY = "behaviour-secret"` (the recorded signatures
//! verify with it) at 2026-01-01T00:00:00Z. Two scenarios differ on purpose, where Flask's
//! behaviour is the pitfall sessionkit closes; the test asserts sessionkit's outcome for them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, Request};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sessionkit::axum::{Session, SessionLayer};
use sessionkit::flask::FlaskCodec;
use sessionkit::{ConfigError, Refresh, SameSite, SessionConfig, SessionConfigBuilder};
use tower::ServiceExt;

const BEHAVIOUR: &str = include_str!("data/flask/behaviour.jsonl");
const FROZEN: u64 = 1_767_225_600;

#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug)]
struct Data {
    x: Option<i64>,
    y: Option<i64>,
    cart: Option<Vec<i64>>,
}

async fn untouched() -> &'static str {
    "ok"
}

async fn read(session: Session<Data>) -> String {
    format!("{:?}", session.x())
}

async fn write(mut session: Session<Data>) -> &'static str {
    session.set_x(1);
    "ok"
}

async fn write_permanent(mut session: Session<Data>) -> &'static str {
    session.set_permanent(true);
    session.set_x(1);
    "ok"
}

async fn mutate_nested(mut session: Session<Data>) -> &'static str {
    if let Some(cart) = session.cart_mut() {
        cart.push(4);
    }
    "ok"
}

async fn clear(mut session: Session<Data>) -> &'static str {
    session.clear();
    "ok"
}

async fn pop_x(mut session: Session<Data>) -> String {
    format!("{:?}", session.pop_x())
}

async fn pop_y(mut session: Session<Data>) -> String {
    format!("{:?}", session.pop_y())
}

/// The route that does what the scenario's Flask view did.
fn route(scenario: &str) -> &'static str {
    match scenario.rsplit_once('/').map_or(scenario, |(_, last)| last) {
        "untouched" | "refresh-off" if !scenario.contains("write") => "/untouched",
        "read" | "bool" => "/read",
        "write-permanent" => "/write-permanent",
        "mutate-nested" | "mutate-nested+modified" => "/mutate-nested",
        "clear" | "clear-with-attrs" => "/clear",
        "pop-last-key" => "/pop-x",
        "pop-missing-key" => "/pop-y",
        _ => "/write",
    }
}

fn frozen() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(FROZEN)
}

/// Flask's configuration keys as builder calls, over Flask's defaults.
fn configure(config: &Value) -> SessionConfigBuilder<Data> {
    let codec = FlaskCodec::new("behaviour-secret").unwrap();
    let mut builder = SessionConfig::<Data>::builder()
        .flask(codec)
        .secure(false)
        .omit_same_site();
    for (key, value) in config.as_object().unwrap() {
        builder = match (key.as_str(), value) {
            ("SESSION_COOKIE_NAME", Value::String(name)) => builder.cookie_name(name.as_str()),
            ("SESSION_COOKIE_DOMAIN", Value::String(domain)) => builder.domain(domain.as_str()),
            ("SESSION_COOKIE_PATH" | "APPLICATION_ROOT", Value::String(path)) => {
                builder.path(path.as_str())
            }
            ("SESSION_COOKIE_SECURE", Value::Bool(on)) => builder.secure(*on),
            ("SESSION_COOKIE_HTTPONLY", Value::Bool(on)) => builder.http_only(*on),
            ("SESSION_COOKIE_SAMESITE", Value::String(s)) => builder.same_site(match s.as_str() {
                "Strict" => SameSite::Strict,
                "Lax" => SameSite::Lax,
                _ => SameSite::None,
            }),
            // Flask turns Secure on by itself for a partitioned cookie; sessionkit asks for it.
            ("SESSION_COOKIE_PARTITIONED", Value::Bool(true)) => {
                builder.partitioned(true).secure(true)
            }
            ("SESSION_REFRESH_EACH_REQUEST", Value::Bool(false)) => builder.refresh(Refresh::Never),
            other => panic!("unhandled Flask setting {other:?}"),
        };
    }
    builder
}

fn app(config: SessionConfig<Data>) -> Router {
    Router::new()
        .route("/untouched", get(untouched))
        .route("/read", get(read))
        .route("/write", get(write))
        .route("/write-permanent", get(write_permanent))
        .route("/mutate-nested", get(mutate_nested))
        .route("/clear", get(clear))
        .route("/pop-x", get(pop_x))
        .route("/pop-y", get(pop_y))
        .layer(SessionLayer::new(config).clock(frozen))
}

struct Outcome {
    status: u16,
    set_cookie: Vec<String>,
    vary: Option<String>,
}

async fn run(record: &Value, config: SessionConfig<Data>) -> Outcome {
    let name = record["name"].as_str().unwrap();
    let cookie_name = config.cookie_name().to_owned();
    let mut request = Request::get(route(name));
    if let Some(cookie) = record["request_cookie"].as_str() {
        request = request.header(header::COOKIE, format!("{cookie_name}={cookie}"));
    }
    let response = app(config)
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let headers = response.headers();
    Outcome {
        status: response.status().as_u16(),
        set_cookie: headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect(),
        vary: headers
            .get(header::VARY)
            .map(|v| v.to_str().unwrap().to_owned()),
    }
}

/// The cookie value of the one `Set-Cookie` an outcome holds.
fn sent_value(outcome: &Outcome) -> String {
    assert_eq!(outcome.set_cookie.len(), 1);
    let pair = outcome.set_cookie[0].split(';').next().unwrap();
    pair.trim_start_matches("session=").to_owned()
}

fn expected_set_cookie(record: &Value) -> Vec<String> {
    let name = record["name"].as_str().unwrap();
    match name {
        // Flask re-signs an identical value (a new timestamp, same data); sessionkit compares
        // the data and sends nothing.
        "cookie/write-same-value" => Vec::new(),
        // Flask misses an in-place change unless the view sets `session.modified = True`;
        // sessionkit sees it and sends what Flask sends once `modified` is set.
        "cookie/mutate-nested" => expected_set_cookie(&scenario("cookie/mutate-nested+modified")),
        _ => record["set_cookie"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
    }
}

fn scenario(name: &str) -> Value {
    BEHAVIOUR
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["name"] == name)
        .unwrap()
}

#[tokio::test]
async fn every_flask_scenario_sends_what_flask_sends() {
    let mut checked = 0;
    for line in BEHAVIOUR.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        let name = record["name"].as_str().unwrap();
        if name.starts_with("no-secret-key/") {
            continue; // below: a configuration error at start-up instead
        }
        let outcome = run(&record, configure(&record["config"]).build().unwrap()).await;
        assert_eq!(
            outcome.status,
            record["status"].as_u64().unwrap() as u16,
            "{name}"
        );
        assert_eq!(outcome.set_cookie, expected_set_cookie(&record), "{name}");
        assert_eq!(outcome.vary.as_deref(), record["vary"].as_str(), "{name}");
        checked += 1;
    }
    assert_eq!(checked, 23);
}

#[test]
fn no_secret_key_is_an_error_at_start_up_not_at_the_first_write() {
    // Flask serves a NullSession and fails with HTTP 500 when a view writes to it.
    assert_eq!(
        SessionConfig::<Data>::builder().build().unwrap_err(),
        ConfigError::MissingKey
    );
    assert!(FlaskCodec::new("").is_err());
    assert_eq!(scenario("no-secret-key/write")["status"], 500);
}

#[tokio::test]
async fn a_fallback_key_cookie_is_read_and_re_signed_with_the_current_key() {
    let old = FlaskCodec::new("behaviour-secret").unwrap();
    let rotated = FlaskCodec::new("7c1e9a44d0b35f86e2a1c9d7")
        .unwrap()
        .with_fallback("behaviour-secret")
        .unwrap();
    let cookie = old
        .encode(
            serde_json::json!({"x": 1}).as_object().unwrap(),
            FROZEN - 60,
        )
        .unwrap();
    let config = SessionConfig::<Data>::builder()
        .flask(rotated)
        .secure(false)
        .omit_same_site()
        .build()
        .unwrap();
    let record = serde_json::json!({"name": "rotation/read", "request_cookie": cookie});
    let outcome = run(&record, config).await;
    let value = sent_value(&outcome);
    let only_new = FlaskCodec::new("7c1e9a44d0b35f86e2a1c9d7").unwrap();
    assert_eq!(
        only_new.decode(&value, FROZEN, 60).unwrap().data,
        *serde_json::json!({"x": 1}).as_object().unwrap()
    );
}

#[tokio::test]
async fn keys_the_rust_struct_does_not_name_are_kept() {
    // Flask-Login's keys live in the same cookie; the Rust struct knows only x, y and cart.
    let codec = FlaskCodec::new("behaviour-secret").unwrap();
    let flask_data = serde_json::json!({"x": 1, "_user_id": "42", "_fresh": true});
    let cookie = codec
        .encode(flask_data.as_object().unwrap(), FROZEN - 60)
        .unwrap();
    let config = configure(&serde_json::json!({})).build().unwrap();
    let outcome = run(
        &serde_json::json!({"name": "keep/pop-last-key", "request_cookie": cookie}),
        config,
    )
    .await;
    let value = sent_value(&outcome);
    let data = codec.decode(&value, FROZEN, 60).unwrap().data;
    assert_eq!(
        Value::Object(data),
        serde_json::json!({"_user_id": "42", "_fresh": true})
    );
}

#[test]
fn settings_flask_mode_cannot_honour_are_build_errors() {
    let codec = || FlaskCodec::new("behaviour-secret").unwrap();
    for builder in [
        SessionConfig::<Data>::builder()
            .flask(codec())
            .idle_timeout(Duration::from_secs(1_800)),
        SessionConfig::<Data>::builder()
            .flask(codec())
            .persistent_lifetime(Duration::from_secs(86_400))
            .persistent_idle_timeout(Duration::from_secs(3_600)),
    ] {
        let error = builder.build().unwrap_err();
        assert!(
            matches!(error, ConfigError::UnsupportedInFlaskMode(_)),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains("idle timeout"), "{message}");
        assert!(message.contains("remove `.idle_timeout(..)`"), "{message}");
    }
    let keyed = SessionConfig::<Data>::builder()
        .flask(codec())
        .key(sessionkit::Key::generate().unwrap())
        .build()
        .unwrap_err();
    assert!(keyed.to_string().contains("drop `.key(..)`"), "{keyed}");
}

#[test]
fn a_flask_cookie_signed_by_a_server_slightly_ahead_is_read_within_the_skew() {
    let codec = FlaskCodec::new("behaviour-secret").unwrap();
    let config = SessionConfig::<Data>::builder()
        .flask(codec.clone())
        .build()
        .unwrap();
    let now = FROZEN;
    let ahead = codec
        .encode(serde_json::json!({"x": 1}).as_object().unwrap(), now + 30)
        .unwrap();
    let loaded = config.load(
        &format!("session={ahead}"),
        UNIX_EPOCH + Duration::from_secs(now),
    );
    assert_eq!(loaded.rejected, None);
    let too_far = codec
        .encode(serde_json::json!({"x": 1}).as_object().unwrap(), now + 120)
        .unwrap();
    let refused = config.load(
        &format!("session={too_far}"),
        UNIX_EPOCH + Duration::from_secs(now),
    );
    assert!(matches!(
        refused.rejected,
        Some(sessionkit::Rejection::IssuedInFuture { .. })
    ));
}
