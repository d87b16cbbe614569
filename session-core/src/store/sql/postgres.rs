//! The Postgres connections `SqlStore` runs its statements on: sessionkit's own set, or a
//! pool the app configured.
//!
//! sqlx's pool tests every connection it gets back with a round trip (`Sync`, then waiting for
//! `ReadyForQuery`), spawned after each statement, so a statement costs the server and the
//! client two round trips' work where it waits for one. sessionkit's set hands a connection
//! back as it is when its statement completed, and keeps the pool's other guarantees:
//!
//! - a connection whose statement did not complete (a timeout dropped it halfway, or the
//!   statement failed on the wire) is closed, never lent again: what it still has to read
//!   could be taken for the next statement's answer;
//! - a statement that failed on the wire takes the idle connections with it (a restarted or
//!   failed-over server has closed them all), so the driver's retry connects afresh;
//! - a connection idle for more than [`TEST_AFTER`] is tested before it is lent, one idle
//!   past [`IDLE`] or open past [`LIFETIME`] is closed (politely: `Terminate`, then the socket);
//! - at most [`MAX`] connections are open; a statement waits at most [`ACQUIRE`] for one.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};
use sqlx::{ConnectOptions as _, Connection as _};
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// The most connections open at once.
const MAX: usize = 16;
/// How long a statement waits for a connection (then [`sqlx::Error::PoolTimedOut`]).
const ACQUIRE: Duration = Duration::from_secs(2);
/// A connection idle longer than this is tested (one round trip) before it is lent.
const TEST_AFTER: Duration = Duration::from_secs(10);
/// A connection idle longer than this is closed.
const IDLE: Duration = Duration::from_secs(60);
/// A connection open longer than this is closed when it comes back.
const LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Where `SqlStore`'s Postgres statements get their connection.
#[derive(Debug, Clone)]
pub(crate) enum Postgres {
    /// sessionkit's own connections ([`SqlStore::postgres`](super::SqlStore::postgres)).
    Own(Arc<Connections>),
    /// A pool the app configured ([`SqlStore::from_postgres_pool`](super::SqlStore::from_postgres_pool)).
    Pool(PgPool),
}

impl Postgres {
    /// A connection for one statement; [`Lease::settle`] says how the statement ended.
    pub(crate) async fn lease(&self) -> Result<Lease<'_>, sqlx::Error> {
        match self {
            Self::Own(connections) => connections.lease().await.map(Lease::Own),
            Self::Pool(pool) => pool.acquire().await.map(Lease::Pooled),
        }
    }
}

/// sessionkit's own connections to one server.
pub(crate) struct Connections {
    options: PgConnectOptions,
    /// Connections between statements, the most recently used last.
    idle: Mutex<Vec<Idle>>,
    /// One permit per connection lent.
    lent: Semaphore,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("host", &self.options.get_host())
            .field("port", &self.options.get_port())
            .finish_non_exhaustive()
    }
}

struct Idle {
    connection: PgConnection,
    opened: Instant,
    since: Instant,
}

impl Connections {
    /// Connects once, to find out now whether the server can be reached, and keeps that
    /// connection for the first statement.
    pub(crate) async fn connect(options: PgConnectOptions) -> Result<Arc<Self>, sqlx::Error> {
        let connection = tokio::time::timeout(ACQUIRE, options.connect())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        let now = Instant::now();
        Ok(Arc::new(Self {
            options,
            idle: Mutex::new(vec![Idle {
                connection,
                opened: now,
                since: now,
            }]),
            lent: Semaphore::new(MAX),
        }))
    }

    async fn lease(&self) -> Result<OwnLease<'_>, sqlx::Error> {
        let deadline = Instant::now() + ACQUIRE;
        let permit = tokio::time::timeout_at(deadline, self.lent.acquire())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        while let Some(idle) = self.take_idle() {
            let now = Instant::now();
            if now - idle.since > IDLE || now - idle.opened > LIFETIME {
                close(idle.connection);
                continue;
            }
            let mut connection = idle.connection;
            if now - idle.since > TEST_AFTER
                && tokio::time::timeout_at(deadline, connection.ping())
                    .await
                    .map_or(true, |pinged| pinged.is_err())
            {
                continue;
            }
            return Ok(OwnLease {
                connections: self,
                connection,
                opened: idle.opened,
                _permit: permit,
            });
        }
        let connection = tokio::time::timeout_at(deadline, self.options.connect())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        Ok(OwnLease {
            connections: self,
            connection,
            opened: Instant::now(),
            _permit: permit,
        })
    }

    /// The idle connections (a panic elsewhere while they were locked leaves them usable).
    fn idle(&self) -> MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take_idle(&self) -> Option<Idle> {
        self.idle().pop()
    }

    fn give_back(&self, connection: PgConnection, opened: Instant) {
        let now = Instant::now();
        if now - opened > LIFETIME {
            close(connection);
            return;
        }
        let mut idle = self.idle();
        // The least recently used come first: those idle too long are closed here, so that a
        // quiet store does not keep connections open it no longer needs.
        let stale = idle.iter().take_while(|i| now - i.since > IDLE).count();
        for old in idle.drain(..stale) {
            close(old.connection);
        }
        idle.push(Idle {
            connection,
            opened,
            since: now,
        });
    }

    /// Closes every idle connection (the server they lead to has gone away).
    fn forget_idle(&self) {
        drop(std::mem::take(&mut *self.idle()));
    }
}

/// Ends a healthy connection politely (`Terminate`), off the request's path. A lost or cut-off
/// one is dropped instead: there is nobody to tell, or it has a statement in flight.
fn close(connection: PgConnection) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        drop(runtime.spawn(async move {
            let _ = connection.close().await;
        }));
    }
}

/// A connection lent for one statement.
pub(crate) enum Lease<'a> {
    Own(OwnLease<'a>),
    Pooled(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

/// One of sessionkit's own connections, lent. Dropped without [`Lease::settle`] (the statement
/// was cancelled), the connection is closed.
pub(crate) struct OwnLease<'a> {
    connections: &'a Connections,
    connection: PgConnection,
    opened: Instant,
    _permit: SemaphorePermit<'a>,
}

impl Lease<'_> {
    /// The statement ended with `error`, or none: a connection whose statement completed goes
    /// back (the server answered in full, an error of its own included); one the server or
    /// the wire lost is closed, and the idle ones with it; any other is closed alone.
    pub(crate) fn settle(self, error: Option<&sqlx::Error>) {
        let Self::Own(OwnLease {
            connections,
            connection,
            opened,
            _permit,
        }) = self
        else {
            // sqlx's pool takes its connection back (and tests it) when it is dropped.
            return;
        };
        match error {
            Some(e) if super::connection_lost(e) => {
                drop(connection);
                connections.forget_idle();
            }
            // The server answered in full: its own refusal, no row, or a value that did not
            // decode once read.
            None
            | Some(
                sqlx::Error::Database(_)
                | sqlx::Error::RowNotFound
                | sqlx::Error::ColumnDecode { .. }
                | sqlx::Error::Decode(_),
            ) => connections.give_back(connection, opened),
            Some(_) => drop(connection),
        }
    }
}

impl Deref for Lease<'_> {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        match self {
            Self::Own(lease) => &lease.connection,
            Self::Pooled(connection) => connection,
        }
    }
}

impl DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            Self::Own(lease) => &mut lease.connection,
            Self::Pooled(connection) => connection,
        }
    }
}
