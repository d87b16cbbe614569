//! [`connect`]: a store from a URL, as configuration gives it.

use super::{BoxedStore, FileStore, MemoryStore, StoreError};

/// The store a URL names, connected (and, for SQL, its table created if missing), ready for
/// [`SessionConfigBuilder::store`](crate::SessionConfigBuilder::store):
///
/// | URL | store | cargo feature |
/// |---|---|---|
/// | `memory` | [`MemoryStore`] | none |
/// | `file:///ABSOLUTE/DIR` or `file://RELATIVE/DIR` | [`FileStore`] | none |
/// | `sqlite:///ABSOLUTE/FILE` (sqlx's URL, `?mode=rwc` implied) | `SqlStore` | `sqlite` |
/// | `postgres://USER:PASSWORD@HOST:PORT/DB` (or `postgresql://`) | `SqlStore` | `postgres` |
/// | `redis://HOST:PORT/` (or `rediss://`) | `RedisStore` | `redis` |
/// | `memcached://HOST:PORT` or `memcached://HOST:PORT,HOST:PORT,…` (ketama over the nodes) | `MemcachedStore` | `memcached` |
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = sessionkit::store::connect("memory").await?;
/// # let _ = store;
/// let Err(error) = sessionkit::store::connect("mongodb://127.0.0.1").await else { panic!() };
/// assert!(error.to_string().contains("expected one of"));
/// # Ok::<(), sessionkit::StoreError>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`StoreError::BadUrl`] for a URL no store answers to, with the forms it takes, or one whose
/// backend this build leaves out (the message names the cargo feature to turn on); the
/// store's own error when it cannot be reached.
#[allow(clippy::unused_async)] // awaits only with a server backend compiled in
pub async fn connect(url: &str) -> Result<BoxedStore, StoreError> {
    let (scheme, rest) = url.split_once("://").unwrap_or((url, ""));
    match scheme {
        "memory" if rest.is_empty() => Ok(BoxedStore::new(MemoryStore::new())),
        "file" if !rest.is_empty() => Ok(BoxedStore::new(FileStore::new(rest)?)),
        "sqlite" => sqlite(url).await,
        "postgres" | "postgresql" => postgres(url).await,
        "redis" | "rediss" => redis(url).await,
        "memcached" => memcached(rest).await,
        _ => Err(StoreError::BadUrl(format!(
            "{url:?} names no session store: expected one of `memory`, `file:///DIR`, \
             `sqlite:///FILE`, `postgres://USER:PASSWORD@HOST:PORT/DB`, `redis://HOST:PORT/`, \
             `memcached://HOST:PORT`"
        ))),
    }
}

/// The error for a scheme whose backend is not compiled in.
#[allow(dead_code)] // used only where a backend feature is off
fn needs(feature: &str, url: &str) -> StoreError {
    StoreError::BadUrl(format!(
        "{url:?} needs sessionkit's `{feature}` feature: add it to the dependency \
         (`sessionkit = {{ version = \"..\", features = [\"{feature}\"] }}`)"
    ))
}

#[cfg(feature = "sqlite")]
async fn sqlite(url: &str) -> Result<BoxedStore, StoreError> {
    let store = super::SqlStore::sqlite(url).await?;
    store.migrate().await?;
    Ok(BoxedStore::new(store))
}

#[cfg(not(feature = "sqlite"))]
#[allow(clippy::unused_async)]
async fn sqlite(url: &str) -> Result<BoxedStore, StoreError> {
    Err(needs("sqlite", url))
}

#[cfg(feature = "postgres")]
async fn postgres(url: &str) -> Result<BoxedStore, StoreError> {
    let store = super::SqlStore::postgres(url).await?;
    store.migrate().await?;
    Ok(BoxedStore::new(store))
}

#[cfg(not(feature = "postgres"))]
#[allow(clippy::unused_async)]
async fn postgres(url: &str) -> Result<BoxedStore, StoreError> {
    Err(needs("postgres", url))
}

#[cfg(feature = "redis")]
async fn redis(url: &str) -> Result<BoxedStore, StoreError> {
    Ok(BoxedStore::new(super::RedisStore::connect(url).await?))
}

#[cfg(not(feature = "redis"))]
#[allow(clippy::unused_async)]
async fn redis(url: &str) -> Result<BoxedStore, StoreError> {
    Err(needs("redis", url))
}

#[cfg(feature = "memcached")]
async fn memcached(addrs: &str) -> Result<BoxedStore, StoreError> {
    let nodes: Vec<&str> = addrs.split(',').filter(|a| !a.is_empty()).collect();
    Ok(BoxedStore::new(
        super::MemcachedStore::connect_nodes(&nodes).await?,
    ))
}

#[cfg(not(feature = "memcached"))]
#[allow(clippy::unused_async)]
async fn memcached(addr: &str) -> Result<BoxedStore, StoreError> {
    Err(needs("memcached", &format!("memcached://{addr}")))
}
