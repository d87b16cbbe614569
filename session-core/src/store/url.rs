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
/// | the same with `?pooler=transaction`: Postgres behind PgBouncer in transaction mode | `SqlStore::postgres_behind_pooler` | `postgres` |
/// | `memcached://HOST:PORT` or `memcached://HOST:PORT,HOST:PORT,…` (ketama over the nodes) | `MemcachedStore` | `memcached` |
///
/// Redis lives in a crate of its own, `sessionkit-redis`, so that an app without Redis does
/// not compile the redis client: its `sessionkit_redis::connect` takes `redis://`,
/// `redis-cluster://` and `redis-sentinel://` URLs and hands every other URL to this function.
/// Given a Redis URL, this function says so.
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
        "redis" | "rediss" | "redis-cluster" | "redis-sentinel" => Err(StoreError::BadUrl(format!(
            "{url:?} is a Redis URL, which the `sessionkit-redis` crate serves: add it to \
             Cargo.toml (`sessionkit-redis = \"0.1\"`) and connect with \
             `sessionkit_redis::connect(url)`, which takes this URL and every other one"
        ))),
        "memcached" => memcached(rest).await,
        _ => Err(StoreError::BadUrl(format!(
            "{url:?} names no session store: expected one of `memory`, `file:///DIR`, \
             `sqlite:///FILE`, `postgres://USER:PASSWORD@HOST:PORT/DB[?pooler=transaction]`, \
             `memcached://HOST:PORT[,HOST:PORT]` (and, with `sessionkit-redis`, `redis://HOST:PORT/`, \
             `redis-cluster://HOST:PORT,HOST:PORT`, `redis-sentinel://HOST:PORT,HOST:PORT/SERVICE`)"
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
    let (url, pooled) = pooler(url)?;
    let store = if pooled {
        super::SqlStore::postgres_behind_pooler(&url).await?
    } else {
        super::SqlStore::postgres(&url).await?
    };
    store.migrate().await?;
    Ok(BoxedStore::new(store))
}

/// The URL without its `pooler` option, and whether it said `pooler=transaction`.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn pooler(url: &str) -> Result<(String, bool), StoreError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), false));
    };
    let mut pooled = false;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("pooler", "transaction")) => pooled = true,
            Some(("pooler", other)) => {
                return Err(StoreError::BadUrl(format!(
                    "pooler={other:?} is not understood: `pooler=transaction` is for Postgres \
                     behind PgBouncer in transaction mode; leave it out for a direct \
                     connection or a session-mode pooler"
                )))
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, pooled))
}

#[cfg(not(feature = "postgres"))]
#[allow(clippy::unused_async)]
async fn postgres(url: &str) -> Result<BoxedStore, StoreError> {
    Err(needs("postgres", url))
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_pooler_option_is_taken_out_of_the_url() {
        let pooled = super::pooler("postgres://u@h:1/db?pooler=transaction&sslmode=disable");
        assert_eq!(
            pooled.unwrap(),
            ("postgres://u@h:1/db?sslmode=disable".to_owned(), true)
        );
        assert_eq!(
            super::pooler("postgres://u@h:1/db").unwrap(),
            ("postgres://u@h:1/db".to_owned(), false)
        );
        let error = super::pooler("postgres://u@h/db?pooler=session").unwrap_err();
        assert!(error.to_string().contains("pooler=transaction"), "{error}");
    }
}
