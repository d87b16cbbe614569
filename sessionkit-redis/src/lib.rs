//! Redis for [sessionkit](https://docs.rs/sessionkit): server-side sessions in one Redis
//! server, a Redis Cluster or the primary Redis Sentinel names.
//!
//! ```toml
//! [dependencies]
//! sessionkit = { version = "0.1", features = ["axum"] }
//! sessionkit-redis = "0.1"
//! ```
//!
//! - [`RedisStore`] is a `SessionStore` like the stores in `sessionkit::store`: hand it to
//!   `SessionConfigBuilder::store`, and the same handlers keep their data in Redis.
//! - [`connect`] turns a URL from configuration into a store: the Redis URLs below, and every
//!   URL `sessionkit::store::connect` takes (`memory`, `file://`, `sqlite://`, `postgres://`,
//!   `memcached://`), so an app that picks its store from configuration calls this one.
//! - With the `flask-session` feature, [`flask_session`] reads and writes the records a
//!   Flask-Session app keeps in Redis (`SESSION_TYPE = "redis"`).
//!
//! Redis is a crate of its own so that an app without it does not compile the redis client,
//! and sessionkit's pages do not list the client's traits.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod connection;
#[cfg(feature = "flask-session")]
mod flask;
mod scan;
mod scripts;
mod store;

use session_core::store::{BoxedStore, StoreError};

pub use store::RedisStore;

/// The store a URL names, connected: a Redis URL here, any other URL by
/// [`sessionkit::store::connect`](session_core::store::connect).
///
/// | URL | store |
/// |---|---|
/// | `redis://HOST:PORT/` (or `rediss://`) | [`RedisStore::connect`] |
/// | `redis-cluster://HOST:PORT,HOST:PORT,…` (any of the cluster's nodes) | [`RedisStore::connect_cluster`] |
/// | `redis-sentinel://HOST:PORT,HOST:PORT,…/SERVICE` (the Sentinels, the primary's name) | [`RedisStore::connect_sentinel`] |
/// | `memory`, `file://…`, `sqlite://…`, `postgres://…`, `memcached://…` | as `sessionkit::store::connect` |
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = sessionkit_redis::connect("memory").await?;
/// # let _ = store;
/// let Err(error) = sessionkit_redis::connect("redis-sentinel://127.0.0.1:26379").await else {
///     panic!()
/// };
/// assert!(error.to_string().contains("names no primary"));
/// # Ok::<(), sessionkit::StoreError>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`StoreError::BadUrl`] for a URL no store answers to, or a Sentinel URL without the
/// primary's name; [`StoreError::Unavailable`] when the servers cannot be reached.
pub async fn connect(url: &str) -> Result<BoxedStore, StoreError> {
    let nodes = |list: &str| -> Vec<String> {
        list.split(',')
            .filter(|n| !n.is_empty())
            .map(|n| format!("redis://{n}/"))
            .collect()
    };
    let (scheme, rest) = url.split_once("://").unwrap_or((url, ""));
    let store = match scheme {
        "redis" | "rediss" => RedisStore::connect(url).await?,
        "redis-cluster" => RedisStore::connect_cluster(&nodes(rest.trim_end_matches('/'))).await?,
        "redis-sentinel" => {
            let Some((list, service)) = rest.split_once('/').filter(|(_, s)| !s.is_empty()) else {
                return Err(StoreError::BadUrl(format!(
                    "{url:?} names no primary: write `redis-sentinel://HOST:PORT,HOST:PORT/SERVICE`, \
                     SERVICE being the name the Sentinels monitor"
                )));
            };
            RedisStore::connect_sentinel(&nodes(list), service).await?
        }
        _ => return session_core::store::connect(url).await,
    };
    Ok(BoxedStore::new(store))
}

/// The records a Flask-Session app keeps in Redis: [`FlaskSessionStore`] over a connection to
/// the Redis at `url`, with Flask-Session's defaults (prefix `session:`, lifetime 31 days,
/// unsigned ids; change them with its `with_*` methods).
///
/// [`FlaskSessionStore`]: session_core::flask_session::FlaskSessionStore
///
/// # Errors
///
/// [`StoreError::Unavailable`] when the URL is invalid or the server cannot be reached.
#[cfg(feature = "flask-session")]
#[cfg_attr(docsrs, doc(cfg(feature = "flask-session")))]
pub async fn flask_session(
    url: &str,
) -> Result<session_core::flask_session::FlaskSessionStore, StoreError> {
    let connection = store::connect_manager(url, std::time::Duration::from_secs(2)).await?;
    Ok(session_core::flask_session::FlaskSessionStore::new(
        flask::Records(connection),
    ))
}
