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
    /// The CA certificate (PEM) of a TLS server.
    ca: Option<Vec<u8>>,
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
        Self::launch(args, false)
    }

    /// A server that speaks TLS only (`rediss://`), with a certificate for `127.0.0.1` and
    /// `localhost` from a CA made for it alone ([`ca_pem`](Self::ca_pem)). Clients are not
    /// asked for certificates.
    pub fn start_tls() -> RedisServer {
        Self::launch(&[], true)
    }

    fn launch(args: &[&str], tls: bool) -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        Self::launch_on(port, args, tls)
    }

    fn launch_on(port: u16, args: &[&str], tls: bool) -> RedisServer {
        let dir = std::env::temp_dir().join(format!(
            "adauth-redis-{}-{port}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("a directory for redis-server");
        let mut command = Command::new("redis-server");
        let ca = if tls {
            let ca = write_certificates(&dir);
            command
                .args(["--bind", "127.0.0.1", "--port", "0"])
                .args(["--tls-port", &port.to_string()])
                .arg("--tls-cert-file")
                .arg(dir.join("server.pem"))
                .arg("--tls-key-file")
                .arg(dir.join("server-key.pem"))
                .arg("--tls-ca-cert-file")
                .arg(dir.join("ca.pem"))
                .args(["--tls-auth-clients", "no"]);
            Some(ca)
        } else {
            command.args(["--bind", "127.0.0.1", "--port", &port.to_string()]);
            None
        };
        let child = command
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .args(args)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server could not be started (is it installed?): {e}")
            });
        let server = RedisServer {
            child,
            port,
            dir,
            ca,
        };
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

    /// `redis://127.0.0.1:<port>/`, or `rediss://` for a TLS server.
    pub fn url(&self) -> String {
        let scheme = if self.ca.is_some() { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}/", self.port)
    }

    /// The PEM certificate of the CA that signed a TLS server's certificate.
    pub fn ca_pem(&self) -> Option<&[u8]> {
        self.ca.as_deref()
    }

    /// The file holding [`ca_pem`](Self::ca_pem), for `ADAUTH_REDIS_CA_FILE`.
    pub fn ca_file(&self) -> Option<std::path::PathBuf> {
        self.ca.as_ref().map(|_| self.dir.join("ca.pem"))
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

/// A Redis Cluster of three masters (no replicas), each a `redis-server` of its own on a
/// free loopback port (with its cluster bus port, 10000 above it, free too), the 16384
/// slots split between them by `redis-cli --cluster create`. Stopped by their pids on drop.
///
/// `redis-server` and `redis-cli` must be on `PATH` (Debian's `redis-server` package).
///
/// ```no_run
/// let cluster = adauth_testkit::RedisCluster::start();
/// // ... adauth_redis::RedisStore::connect_cluster(&cluster.urls()) ...
/// ```
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts the three nodes, creates the cluster and waits (at most 20 s) until every
    /// node reports it healthy.
    ///
    /// # Panics
    ///
    /// If a node cannot be started or the cluster does not form in time.
    pub fn start() -> RedisCluster {
        let mut ports = Vec::new();
        while ports.len() < 3 {
            let port = cluster_port(&ports);
            ports.push(port);
        }
        let args = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "5000",
        ];
        let nodes: Vec<RedisServer> = ports
            .iter()
            .map(|port| RedisServer::launch_on(*port, &args, false))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(ports.iter().map(|p| format!("127.0.0.1:{p}")))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("redis-cli could not be started (is it installed?): {e}"));
        assert!(
            created.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&created.stdout)
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        for port in &ports {
            loop {
                let info = Command::new("redis-cli")
                    .args(["-p", &port.to_string(), "cluster", "info"])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                    .unwrap_or_default();
                if info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3") {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the Redis Cluster did not form within 20 s: {info}"
                );
                // Polling the node's own report of the cluster, bounded by the deadline.
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        RedisCluster { nodes }
    }

    /// Each node's `redis://127.0.0.1:<port>/`, the seed nodes of a cluster client.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The nodes.
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }
}

/// A free loopback port whose cluster bus port (10000 above it) is free too, and is
/// neither of `taken` nor their bus ports.
fn cluster_port(taken: &[u16]) -> u16 {
    for _ in 0..1000 {
        let port = 20_000 + fastrand::u16(..25_000);
        let clash = taken.iter().any(|t| {
            [*t, t + 10_000].contains(&port) || [*t, t + 10_000].contains(&(port + 10_000))
        });
        let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
        if !clash && free(port) && free(port + 10_000) {
            return port;
        }
    }
    panic!("no free pair of loopback ports for a Redis Cluster node");
}

/// Writes a new CA (`ca.pem`) and a server certificate it signed for `127.0.0.1` and
/// `localhost` (`server.pem`, `server-key.pem`) into `dir`; returns the CA's PEM.
fn write_certificates(dir: &std::path::Path) -> Vec<u8> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca_params = CertificateParams::new(Vec::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "adauth test CA");
    let ca = ca_params.self_signed(&ca_key).expect("a CA certificate");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().expect("a server key");
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("server parameters")
        .signed_by(&server_key, &issuer)
        .expect("a server certificate");
    let write = |name: &str, pem: String| {
        std::fs::write(dir.join(name), pem).unwrap_or_else(|e| panic!("writing {name}: {e}"))
    };
    write("ca.pem", ca.pem());
    write("server.pem", server.pem());
    write("server-key.pem", server_key.serialize_pem());
    ca.pem().into_bytes()
}
