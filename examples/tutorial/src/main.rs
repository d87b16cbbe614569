//! The app of the Flask session tutorials, rebuilt with sessionkit and axum.
//!
//! `cargo run -p tutorial` serves it on <http://127.0.0.1:8000>.
//! Options: `--port N` (or `PORT`), `--lifetime 1m` (or `SESSION_LIFETIME`; units s, m, h, d;
//! the tutorial's one minute by default), and `--store URL` (or `SESSION_STORE`) to keep the
//! sessions on the server instead of in the cookie: `memory`, `file:///ABSOLUTE/DIR`,
//! `sqlite:///ABSOLUTE/FILE`, `postgres://USER:PASSWORD@HOST:PORT/DB`, `redis://HOST:PORT/`
//! or `memcached://HOST:PORT` (the last four need their cargo feature, or `--features all-stores`). The key comes from `SESSION_SECRET` (hex digits, or
//! `base64:<text>`); without it a development key is generated, which logs everyone out at
//! every restart.

mod pages;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::response::{Html, Redirect};
use axum::routing::get;
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use sessionkit::axum::{Session, SessionLayer};
use sessionkit::{Key, SessionConfig};

/// Everything the app keeps between requests, typed.
#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug)]
#[session(cookie = "session", lifetime = "1m")]
struct Tutorial {
    /// The registered username (Flask: `session['user']`).
    user: Option<String>,
    /// The tutorial's nested dict: `name`, `email`, `address`.
    item: BTreeMap<String, String>,
    /// One-shot notices (Flask: `session['greet']`, `session['notify']`).
    #[session(flash)]
    notices: Vec<Notice>,
}

/// A message shown once, on the next page.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Notice {
    /// After `/add`.
    Registered {
        /// The new username.
        user: String,
    },
    /// After `/remove`.
    LoggedOut {
        /// The removed username.
        user: String,
    },
}

type AppSession = Session<Tutorial>;

async fn home(mut session: AppSession) -> Html<String> {
    let notices = session.take_flashes();
    Html(pages::home(session.user(), &notices))
}

async fn add_form() -> Html<String> {
    Html(pages::add_form(None))
}

#[derive(Deserialize)]
struct AddForm {
    username: String,
}

async fn add(mut session: AppSession, Form(form): Form<AddForm>) -> Result<Redirect, Html<String>> {
    let user = form.username.trim();
    if user.is_empty() || user.chars().count() > 64 {
        return Err(Html(pages::add_form(Some(
            "Enter a username of 1 to 64 characters.",
        ))));
    }
    session.set_user(user);
    // A login: the session's life (and, with a store, its id) starts again.
    session.renew();
    session.flash(Notice::Registered {
        user: user.to_owned(),
    });
    Ok(Redirect::to("/"))
}

async fn remove(mut session: AppSession) -> Redirect {
    if let Some(user) = session.pop_user() {
        // A logout: everything goes (with a store, the record is deleted), the notice stays.
        session.clear();
        session.flash(Notice::LoggedOut { user });
    }
    Redirect::to("/")
}

async fn set(mut session: AppSession) -> &'static str {
    session.set_user("Alice");
    "Session data set!"
}

async fn get_user(session: AppSession) -> String {
    session
        .user()
        .map_or_else(|| "Not logged in".to_owned(), |u| format!("Hello, {u}!"))
}

async fn clear(mut session: AppSession) -> &'static str {
    session.clear();
    "Session cleared!"
}

async fn item(session: AppSession) -> Html<String> {
    Html(pages::item(session.item()))
}

async fn store_item(mut session: AppSession) -> Redirect {
    let fields = [
        ("name", "Soumitra"),
        ("email", "soumitra@example.com"),
        ("address", "Earth"),
    ];
    session.set_item(
        fields
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
    );
    Redirect::to("/item")
}

async fn remove_item_name(mut session: AppSession) -> Redirect {
    // Flask: `session['item'].pop('name')` plus `session.modified = True`. Here the nested
    // change is seen through `item_mut()`; there is no flag to forget.
    session.item_mut().remove("name");
    Redirect::to("/item")
}

/// The app, ready to serve; tests build it too.
fn app(config: SessionConfig<Tutorial>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/add", get(add_form).post(add))
        .route("/remove", axum::routing::post(remove))
        .route("/set", get(set))
        .route("/get", get(get_user))
        .route("/clear", get(clear))
        .route("/item", get(item))
        .route("/item/store", axum::routing::post(store_item))
        .route("/item/remove-name", axum::routing::post(remove_item_name))
        .layer(SessionLayer::new(config))
}

fn option(name: &str, env: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let flag = format!("--{name}");
    args.iter()
        .position(|a| *a == flag)
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var(env).ok())
}

fn key() -> Key {
    match Key::from_env("SESSION_SECRET") {
        Ok(key) => key,
        Err(sessionkit::KeyError::MissingEnv { .. }) => {
            eprintln!("WARNING: SESSION_SECRET is not set; using a generated development key.");
            eprintln!("WARNING: every restart logs everyone out. Set SESSION_SECRET=$(openssl rand -hex 32).");
            Key::generate().expect("the system random generator works")
        }
        Err(e) => panic!("SESSION_SECRET is unusable: {e}"),
    }
}

fn lifetime() -> Duration {
    let text = option("lifetime", "SESSION_LIFETIME").unwrap_or_else(|| "1m".into());
    let (digits, unit) = text.split_at(text.len().saturating_sub(1));
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => panic!("--lifetime {text:?}: expected a number and one of s, m, h, d, such as 1m"),
    };
    let n: u64 = digits
        .parse()
        .unwrap_or_else(|_| panic!("--lifetime {text:?}: expected a number such as 1m"));
    Duration::from_secs(n * scale)
}

/// Where the sessions live: any URL [`sessionkit::store::connect`] takes (`memory`,
/// `file:///DIR`, `sqlite:///FILE`, `postgres://…`, `memcached://HOST:PORT`) and, with the
/// `redis` feature, `sessionkit_redis::connect`'s `redis://HOST:PORT/`; or (`None`) the cookie.
async fn with_store(
    builder: sessionkit::SessionConfigBuilder<Tutorial>,
    store: Option<&str>,
) -> Result<sessionkit::SessionConfigBuilder<Tutorial>, String> {
    let Some(url) = store else {
        return Ok(builder);
    };
    #[cfg(feature = "redis")]
    let store = sessionkit_redis::connect(url).await;
    #[cfg(not(feature = "redis"))]
    let store = sessionkit::store::connect(url).await;
    let store = store.map_err(|e| format!("--store: {e}"))?;
    Ok(builder.store(store))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = option("port", "PORT").map_or(Ok(8000), |p| p.parse())?;
    let builder = SessionConfig::<Tutorial>::builder()
        .key(key())
        .lifetime(lifetime())
        // The tutorial's sessions are permanent: the browser drops the cookie with the server.
        .permanent(true);
    let store = option("store", "SESSION_STORE");
    let config = with_store(builder, store.as_deref()).await?.build()?;
    // Expired records are garbage: collect them in batches, never touching live sessions.
    let sweeper = config.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            if let Err(e) = sweeper.sweep(std::time::SystemTime::now()).await {
                eprintln!("session sweep failed: {e}");
            }
        }
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "sessionkit tutorial listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app(config)).await?;
    Ok(())
}
