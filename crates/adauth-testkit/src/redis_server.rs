//! A throwaway `redis-server` for tests.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` of a test's own, on a free loopback port, stopped by its pid on drop.
///
/// For tests of code that shares tokens through Redis: no server to keep running, no data
/// left behind. `redis-server` must be on `PATH` (Debian's `redis-server` package).
///
/// ```no_run
/// let server = adauth_testkit::RedisServer::start();
/// // ... adauth_redis::RedisStore::connect(&server.url()) ...
/// ```
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl RedisServer {
    /// Starts a server and waits (at most 10 s) until it accepts connections.
    ///
    /// # Panics
    ///
    /// If `redis-server` cannot be started or does not listen in time: a test that needs
    /// Redis must not pass without it.
    pub fn start() -> RedisServer {
        Self::start_with(&[])
    }

    /// As [`start`](Self::start), with extra `redis-server` arguments.
    pub fn start_with(args: &[&str]) -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let dir = std::env::temp_dir().join(format!(
            "adauth-redis-{}-{port}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("a directory for redis-server");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .args(args)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server could not be started (is it installed?): {e}")
            });
        let server = RedisServer { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on port {port} within 10 s"
            );
            // Polling for the port to open, bounded by the deadline above.
            std::thread::sleep(Duration::from_millis(10));
        }
        server
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server's process (`SIGSTOP`): connections stay open and nothing answers,
    /// as with a hung server. [`resume`](Self::resume) lets it go on.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server go on (`SIGCONT`).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .map(|s| s.success());
        assert!(matches!(sent, Ok(true)), "kill {signal} failed: {sent:?}");
    }

    /// Kills the server (by its pid) and waits for it to exit.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A paused server must be able to die.
        let _ = Command::new("kill")
            .args(["-CONT", &self.pid().to_string()])
            .status();
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
