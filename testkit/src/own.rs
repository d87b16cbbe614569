//! [`OwnServer`]: a server process of a test's own (a Redis, a memcached, a cluster node), on a
//! port and a data directory that stay the same across restarts, killed with the guard.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::temp::TempDir;

/// The command that starts a server on a port, in a directory.
type Launch = Box<dyn Fn(u16, &Path) -> Command + Send>;

/// A server process a test starts and kills itself.
pub struct OwnServer {
    /// The port it listens on.
    pub port: u16,
    dir: TempDir,
    launch: Launch,
    child: Option<Child>,
}

impl std::fmt::Debug for OwnServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl OwnServer {
    /// Starts the server `launch` builds, on a free port, and waits until it listens.
    pub fn start(name: &str, launch: impl Fn(u16, &Path) -> Command + Send + 'static) -> Self {
        let mut server = Self {
            port: crate::http::free_port(),
            dir: TempDir::new(name),
            launch: Box::new(launch),
            child: None,
        };
        server.restart();
        server
    }

    /// Starts it again on its port, in its directory.
    pub fn restart(&mut self) {
        let mut command = (self.launch)(self.port, self.dir.path());
        let child = command
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{command:?} (scripts/servers installs it): {e}"));
        crate::http::wait_for_port(self.port);
        self.child = Some(child);
    }

    /// Kills it (`SIGKILL`) and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `redis-server` (`SESSIONKIT_REDIS_SERVER`, else from the `PATH`) on `port` with `dir` as its
/// directory, persisting nothing.
pub fn redis_server(port: u16, dir: &Path) -> Command {
    let binary = std::env::var("SESSIONKIT_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
    let mut command = Command::new(binary);
    command
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir);
    command
}
