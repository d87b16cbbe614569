//! The three ways `RedisStore` reaches Redis: one server, a Redis Cluster, or the primary a
//! set of Sentinels names, behind one `ConnectionLike` so that the store's code is written once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::SentinelClient;
use redis::{Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult, Value};

/// A connection to one server, to a cluster, or to the primary Sentinel names. Cheap to clone.
#[derive(Clone)]
pub(super) enum Connection {
    /// One server (or a primary at a fixed address), reconnecting by itself.
    Node(ConnectionManager),
    /// A Redis Cluster: each command goes to the master of its key's hash slot, following
    /// `MOVED` and `ASK` and refreshing the slot map when the cluster changes.
    Cluster(ClusterConnection),
    /// The primary of a Sentinel-managed group, followed across failovers.
    Sentinel(Arc<Primary>),
}

impl Connection {
    /// Whether keys name their hash slot (`{tag}`): only a cluster needs it.
    pub(super) fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

pub(super) fn manager_config(timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(timeout)
        .set_response_timeout(timeout)
        .set_number_of_retries(1)
        // Reconnect attempts back off, but never wait more than a second: a server back from
        // an outage serves requests again within a second.
        .set_max_delay(1_000)
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Node(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
            Self::Sentinel(primary) => Box::pin(primary.command(cmd)),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Node(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
            Self::Sentinel(primary) => Box::pin(primary.commands(cmd, offset, count)),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Node(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
            Self::Sentinel(primary) => primary.current().0.get_db(),
        }
    }
}

/// The primary Sentinel names, followed across failovers.
///
/// A command the old primary refused because it is a replica now (`READONLY`), or that could
/// not be sent to it (refused connection), did not run: the connection asks Sentinel for the
/// primary, moves there, and sends the command once more. A command cut off on the way may
/// have run, so its error goes back to the caller (the driver's compare-and-swap makes a
/// retried write safe) and the next command goes to the primary Sentinel names then.
pub(super) struct Primary {
    sentinel: tokio::sync::Mutex<SentinelClient>,
    connection: RwLock<(ConnectionManager, u64)>,
    generation: AtomicU64,
    config: ConnectionManagerConfig,
}

impl Primary {
    pub(super) async fn connect(
        mut sentinel: SentinelClient,
        timeout: Duration,
    ) -> RedisResult<Self> {
        let config = manager_config(timeout);
        let client = sentinel.async_get_client().await?;
        let manager = ConnectionManager::new_with_config(client, config.clone()).await?;
        Ok(Self {
            sentinel: tokio::sync::Mutex::new(sentinel),
            connection: RwLock::new((manager, 0)),
            generation: AtomicU64::new(0),
            config,
        })
    }

    fn current(&self) -> (ConnectionManager, u64) {
        self.connection
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Asks Sentinel for the primary and connects there, unless another caller already moved
    /// past `seen` (every caller failing at once shares one lookup).
    async fn follow(&self, seen: u64) -> RedisResult<()> {
        let mut sentinel = self.sentinel.lock().await;
        if self.generation.load(Ordering::Acquire) != seen {
            return Ok(());
        }
        let client = sentinel.async_get_client().await?;
        let manager = ConnectionManager::new_with_config(client, self.config.clone()).await?;
        let next = seen + 1;
        *self
            .connection
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (manager, next);
        self.generation.store(next, Ordering::Release);
        Ok(())
    }

    async fn command(&self, cmd: &Cmd) -> RedisResult<Value> {
        let (mut connection, seen) = self.current();
        match connection.req_packed_command(cmd).await {
            Err(error) if moved(&error) => {
                self.follow(seen).await?;
                if !did_not_run(&error) {
                    return Err(error);
                }
                self.current().0.req_packed_command(cmd).await
            }
            other => other,
        }
    }

    async fn commands(
        &self,
        cmd: &Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        let (mut connection, seen) = self.current();
        match connection.req_packed_commands(cmd, offset, count).await {
            Err(error) if moved(&error) => {
                self.follow(seen).await?;
                if !did_not_run(&error) {
                    return Err(error);
                }
                self.current()
                    .0
                    .req_packed_commands(cmd, offset, count)
                    .await
            }
            other => other,
        }
    }
}

/// An error after which the primary may be elsewhere.
fn moved(error: &RedisError) -> bool {
    error.kind() == ErrorKind::ReadOnly
        || error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
}

/// An error that proves the command did not run.
fn did_not_run(error: &RedisError) -> bool {
    error.kind() == ErrorKind::ReadOnly || error.is_connection_refusal()
}
