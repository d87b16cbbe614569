//! The per-request span (`sessionkit`, `debug`): how the session came in and what went out,
//! in cookie mode and with a store, captured by a real `tracing-subscriber` layer. It carries
//! kinds, a fingerprint and latencies, never the cookie, the id or the session's data.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use sessionkit::axum::{Session, SessionLayer};
use sessionkit::testing::{AxumClient, TestClock};
use sessionkit::{Key, MemoryStore, SessionConfig};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::Layer;

#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug)]
struct App {
    user: Option<String>,
}

type Fields = BTreeMap<String, String>;

/// Every `session` span's fields, in the order the spans were opened.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<(Id, Fields)>>>);

struct Collect<'a>(&'a mut Fields);

impl Visit for Collect<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        if attrs.metadata().target() == "sessionkit" && attrs.metadata().name() == "session" {
            let mut fields = Fields::new();
            attrs.record(&mut Collect(&mut fields));
            self.0.lock().unwrap().push((id.clone(), fields));
        }
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some((_, fields)) = spans.iter_mut().rev().find(|(i, _)| i == id) {
            values.record(&mut Collect(fields));
        }
    }
}

impl Spans {
    fn take(&self) -> Vec<Fields> {
        self.0
            .lock()
            .unwrap()
            .drain(..)
            .map(|(_, fields)| fields)
            .collect()
    }
}

fn app(config: SessionConfig<App>, clock: &TestClock) -> Router {
    Router::new()
        .route(
            "/login",
            get(|mut s: Session<App>| async move {
                s.set_user("alice-secret-name");
                "in"
            }),
        )
        .route(
            "/me",
            get(|s: Session<App>| async move { s.user().unwrap_or("guest").to_owned() }),
        )
        .layer(SessionLayer::new(config).clock(clock.reader()))
}

fn field<'a>(span: &'a Fields, name: &str) -> Option<&'a str> {
    span.get(name).map(String::as_str)
}

#[tokio::test]
async fn each_request_has_a_span_with_its_outcome_and_no_secret() {
    let spans = Spans::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    let clock = TestClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let config = SessionConfig::<App>::builder()
        .key(Key::generate().unwrap())
        .secure(false)
        .build()
        .unwrap();
    let mut client = AxumClient::new(app(config, &clock), clock.clone());

    client.get("/login").await;
    client.get("/me").await;
    client
        .jar_mut()
        .store("session=AAAAforged", "/", clock.now());
    client.get("/me").await;

    let seen = spans.take();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(
        (field(&seen[0], "loaded"), field(&seen[0], "saved")),
        (Some("fresh"), Some("set"))
    );
    assert_eq!(
        (field(&seen[1], "loaded"), field(&seen[1], "saved")),
        (Some("cookie"), Some("unchanged"))
    );
    assert_eq!(
        (
            field(&seen[2], "loaded"),
            field(&seen[2], "reason"),
            field(&seen[2], "saved")
        ),
        (Some("refused"), Some("malformed"), Some("removed"))
    );
    let all = format!("{seen:?}");
    assert!(
        !all.contains("alice-secret-name") && !all.contains("forged"),
        "{all}"
    );
}

#[tokio::test]
async fn with_a_store_the_span_has_the_fingerprint_and_the_latencies() {
    let spans = Spans::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    let clock = TestClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let config = SessionConfig::<App>::builder()
        .key(Key::generate().unwrap())
        .secure(false)
        .store(MemoryStore::new())
        .build()
        .unwrap();
    let mut client = AxumClient::new(app(config.clone(), &clock), clock.clone());
    client.get("/login").await;
    client.get("/me").await;

    let seen = spans.take();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(field(&seen[0], "loaded"), Some("fresh"));
    assert_eq!(field(&seen[0], "saved"), Some("set"));
    assert!(field(&seen[0], "save_ms").is_some(), "{seen:?}");
    assert_eq!(field(&seen[1], "loaded"), Some("cookie"));
    assert!(field(&seen[1], "load_ms").is_some(), "{seen:?}");
    let fingerprint = field(&seen[1], "session").expect("the session's fingerprint");
    // The cookie carries the id; the span has only a short keyed fingerprint of it.
    let cookie = client.jar().get("session", clock.now()).unwrap().to_owned();
    assert!(
        !cookie.contains(fingerprint) && fingerprint.len() < 20,
        "{fingerprint}"
    );
    assert!(!format!("{seen:?}").contains("alice-secret-name"));
}
