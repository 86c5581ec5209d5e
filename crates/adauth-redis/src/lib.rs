#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use adauth_core::secrecy::zeroize::Zeroizing;
use adauth_core::{Error, ErrorKind, Lease, Result, StoredValue, TokenStore, new_revision};
use async_trait::async_trait;
use futures_util::StreamExt as _;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{AsyncCommands as _, Cmd, Pipeline, RedisFuture, Script, Value};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{broadcast, watch};

/// The provider name on every error of this crate.
pub const PROVIDER: &str = "token store";

/// The environment variable [`RedisStore::from_env`] reads: the server's URL
/// (`redis://`, `rediss://` for TLS, `redis+unix://`).
pub const ENV_URL: &str = "ADAUTH_REDIS_URL";

/// The environment variable naming a PEM file of root certificates to trust for
/// `rediss://` in place of the system's (with the `tls` feature).
pub const ENV_CA_FILE: &str = "ADAUTH_REDIS_CA_FILE";

/// The environment variable naming the seed nodes of a Redis Cluster, comma-separated
/// (`redis://10.0.0.1:6379,redis://10.0.0.2:6379`); [`RedisStore::from_env`] connects to the
/// cluster when it is set, in place of [`ENV_URL`].
pub const ENV_CLUSTER_URLS: &str = "ADAUTH_REDIS_CLUSTER_URLS";

/// Every environment variable this crate reads.
pub const ENV_VARS: &[&str] = &[ENV_URL, ENV_CLUSTER_URLS, ENV_CA_FILE];

/// rustls needs one process-wide crypto provider; when several are compiled in (reqwest's
/// and the redis crate's choice may differ), none is chosen for us. Install aws-lc-rs,
/// the one reqwest uses, unless the application installed one.
#[cfg(feature = "tls")]
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Fails only if another thread installed one meanwhile: that one is used.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}

/// The key prefix unless [`RedisStore::with_prefix`] sets another.
pub const DEFAULT_PREFIX: &str = "adauth:";

/// How long a token key lives after its last write unless
/// [`RedisStore::with_value_ttl`] says otherwise: 30 days.
pub const DEFAULT_VALUE_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// How often [`TokenStore::wait_for_change`] reads the key while it waits, when the store
/// is not subscribed to its change notifications (they are the normal way to wake up).
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// How long the store waits before subscribing again after its notification connection
/// failed; waiters poll meanwhile.
pub const RESUBSCRIBE_DELAY: Duration = Duration::from_secs(5);

/// Compare-and-set in one step on the server.
///
/// KEYS[1] token key. ARGV[1] "1" if a revision is expected, else "0"; ARGV[2] the
/// expected revision; ARGV[3] the new record; ARGV[4] the new revision; ARGV[5] the key's
/// time to live in milliseconds ("0": none); ARGV[6] the channel that announces writes. A
/// value that is not a record of ours (not JSON, another shape, another Redis type) counts
/// as absent and is replaced.
const CAS_SCRIPT: &str = r#"
local current = redis.pcall('GET', KEYS[1])
local foreign_type = type(current) == 'table' and current.err ~= nil
local revision = nil
if type(current) == 'string' then
  local ok, record = pcall(cjson.decode, current)
  if ok and type(record) == 'table' and type(record.revision) == 'string'
      and type(record.value) == 'string' then
    revision = record.revision
  end
end
if ARGV[1] == '1' then
  if revision ~= ARGV[2] then return false end
elseif revision ~= nil then
  return false
end
if foreign_type then redis.call('DEL', KEYS[1]) end
if ARGV[5] == '0' then
  redis.call('SET', KEYS[1], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[5])
end
-- A user without the channel's permission still writes; waiters then poll.
redis.pcall('PUBLISH', ARGV[6], KEYS[1])
return ARGV[4]
"#;

/// Deletes the lease key only if it still holds this holder's fence, and announces it.
///
/// KEYS[1] lease key. ARGV[1] fence; ARGV[2] channel; ARGV[3] the token key waiters watch.
const RELEASE_SCRIPT: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.pcall('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
"#;

/// Extends the lease if it still holds this holder's fence, or takes it back if it lapsed
/// (or was lost with the server's data) and nobody else took it.
///
/// KEYS[1] lease key. ARGV[1] fence; ARGV[2] time to live in milliseconds.
const RENEW_SCRIPT: &str = r#"
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if current == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"#;

/// A [`TokenStore`] in Redis: processes on any number of machines share one token per
/// credential.
///
/// Keys are `<prefix>token:<key>` (the record, as JSON `{"revision","value"}`) and
/// `<prefix>lease:<key>` (the refresh lease: `SET NX PX`, renewed and released by fenced
/// scripts). Compare-and-set is one Lua script; every script touches a single key, so on
/// a Redis Cluster ([`connect_cluster`](Self::connect_cluster)) each runs on the node of
/// that key's slot. The connection is a [`ConnectionManager`] (or a cluster connection):
/// it reconnects by itself after the server restarts.
///
/// Every write and lease release is announced on the channel `<prefix>changes`. A waiting
/// store subscribes to it once (one extra connection per store, opened on the first wait)
/// and wakes on the announcement instead of polling, so a refresh costs each waiting
/// process a handful of commands however long it takes. Without the subscription (before
/// it is confirmed, or while it reconnects) waiters poll every [`POLL_INTERVAL`].
///
/// The stored value is a bearer token: whoever can read the Redis instance can use it.
///
/// ```no_run
/// # async fn run(source: impl adauth_core::TokenSource + 'static) -> adauth_core::Result<()> {
/// use std::sync::Arc;
/// use adauth_core::TokenCache;
/// use adauth_redis::RedisStore;
///
/// let store = Arc::new(RedisStore::connect("redis://:password@redis.internal:6379/").await?);
/// let cache = TokenCache::builder(source).store(store).build();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: Connection,
    redacted_url: String,
    secrets: Vec<String>,
    prefix: String,
    value_ttl: Duration,
    cas: Script,
    release: Script,
    renew: Script,
    notifier: Arc<Notifier>,
}

/// A single server's connection or a cluster's: both reconnect by themselves, and the
/// cluster's routes each command by its key's hash slot (following `MOVED` and `ASK`).
#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(c) => c.req_packed_command(cmd),
            Connection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
        }
    }
}

/// The subscription to the change channel, shared by a store's clones.
struct Notifier {
    client: redis::Client,
    /// Token keys announced on the channel; an empty string means "the subscription was
    /// lost: look again".
    changes: broadcast::Sender<String>,
    state: Mutex<Subscription>,
}

#[derive(Default)]
struct Subscription {
    /// The channel the running subscription listens to.
    channel: String,
    task: Option<tokio::task::JoinHandle<()>>,
    /// Whether the subscription is confirmed and running.
    listening: Option<watch::Receiver<bool>>,
    /// After a failed subscription, none is tried again before this.
    retry_at: Option<tokio::time::Instant>,
}

impl Notifier {
    fn new(client: redis::Client) -> Self {
        Self {
            client,
            changes: broadcast::channel(256).0,
            state: Mutex::new(Subscription::default()),
        }
    }

    /// Whether announcements on `channel` are received, waiting until `deadline` for a
    /// subscription being set up; starts the subscription if it is not running.
    async fn listening(&self, channel: &str, deadline: tokio::time::Instant) -> bool {
        let Some(mut listening) = self.ensure(channel) else {
            return false;
        };
        matches!(
            tokio::time::timeout_at(deadline, listening.wait_for(|yes| *yes)).await,
            Ok(Ok(_))
        )
    }

    fn ensure(&self, channel: &str) -> Option<watch::Receiver<bool>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let running = state.task.as_ref().is_some_and(|t| !t.is_finished());
        if running && state.channel == channel {
            return state.listening.clone();
        }
        if state
            .retry_at
            .is_some_and(|at| tokio::time::Instant::now() < at)
        {
            return None;
        }
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        if let Some(task) = state.task.take() {
            task.abort();
        }
        let (listening, receiver) = watch::channel(false);
        state.listening = Some(receiver.clone());
        state.channel = channel.to_owned();
        state.retry_at = Some(tokio::time::Instant::now() + RESUBSCRIBE_DELAY);
        let client = self.client.clone();
        let changes = self.changes.clone();
        let channel = channel.to_owned();
        state.task = Some(runtime.spawn(async move {
            let subscribed = tokio::time::timeout(CONNECT_TIMEOUT, async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                Ok::<_, redis::RedisError>(pubsub)
            })
            .await;
            let Ok(Ok(pubsub)) = subscribed else {
                tracing::debug!("could not subscribe to token store changes; polling instead");
                return;
            };
            listening.send_replace(true);
            let mut messages = pubsub.into_on_message();
            while let Some(message) = messages.next().await {
                if let Ok(key) = message.get_payload::<String>() {
                    let _ = changes.send(key);
                }
            }
            listening.send_replace(false);
            let _ = changes.send(String::new());
        }));
        Some(receiver)
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = state.task.take() {
            task.abort();
        }
    }
}

/// The limit on connecting and on each command's answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A record as written: the value is borrowed, never copied.
#[derive(serde::Serialize)]
struct RecordRef<'a> {
    revision: &'a str,
    value: &'a str,
}

/// A record as read: the value goes straight into a secret string.
#[derive(serde::Deserialize)]
struct Record {
    revision: String,
    value: SecretString,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.redacted_url)
            .field("prefix", &self.prefix)
            .field("value_ttl", &self.value_ttl)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to the server at `url` (`redis://[user:password@]host[:port][/db]`,
    /// `rediss://` for TLS with the `tls` feature, checked against the system's root
    /// certificates).
    pub async fn connect(url: &str) -> Result<Self> {
        let redacted_url = redact_url(url);
        let secrets = url_secrets(url);
        let client = redis::Client::open(url)
            .map_err(|e| store_error(&format!("invalid Redis URL {redacted_url}"), &e, &secrets))?;
        Self::with_client(client, redacted_url, secrets).await
    }

    /// Connects to the `rediss://` server at `url`, trusting the PEM certificates in
    /// `root_certificates` (a private CA's, say) in place of the system's.
    ///
    /// ```no_run
    /// # async fn run() -> adauth_core::Result<()> {
    /// let ca = std::fs::read("/etc/redis/ca.pem").unwrap();
    /// let store = adauth_redis::RedisStore::connect_tls("rediss://redis.internal:6380", &ca).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub async fn connect_tls(url: &str, root_certificates: &[u8]) -> Result<Self> {
        let redacted_url = redact_url(url);
        let secrets = url_secrets(url);
        if !url.starts_with("rediss://") {
            return Err(Error::configuration(
                PROVIDER,
                format!("{redacted_url}: a CA certificate needs a rediss:// URL"),
            ));
        }
        let client = redis::Client::build_with_tls(
            url,
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(root_certificates.to_vec()),
            },
        )
        .map_err(|e| {
            store_error(
                &format!("invalid Redis URL or CA certificate for {redacted_url}"),
                &e,
                &secrets,
            )
        })?;
        Self::with_client(client, redacted_url, secrets).await
    }

    async fn with_client(
        client: redis::Client,
        redacted_url: String,
        secrets: Vec<String>,
    ) -> Result<Self> {
        #[cfg(feature = "tls")]
        install_crypto_provider();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(CONNECT_TIMEOUT))
            .set_number_of_retries(3);
        let connection = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(|e| {
                store_error(
                    &format!("could not connect to {redacted_url}"),
                    &e,
                    &secrets,
                )
            })?;
        Ok(Self::assemble(
            Connection::Single(connection),
            client,
            redacted_url,
            secrets,
        ))
    }

    fn assemble(
        connection: Connection,
        client: redis::Client,
        redacted_url: String,
        secrets: Vec<String>,
    ) -> Self {
        Self {
            connection,
            redacted_url,
            secrets,
            prefix: DEFAULT_PREFIX.to_owned(),
            value_ttl: DEFAULT_VALUE_TTL,
            cas: Script::new(CAS_SCRIPT),
            release: Script::new(RELEASE_SCRIPT),
            renew: Script::new(RENEW_SCRIPT),
            notifier: Arc::new(Notifier::new(client)),
        }
    }

    /// Connects to the Redis Cluster that `nodes` (seed node URLs: `redis://host:port`, or
    /// `rediss://` with the `tls` feature) belong to. Commands follow the cluster's slot map
    /// and its changes; every script touches one key, so each runs on the node of that key's
    /// slot. Change announcements are classic pub/sub, which a cluster delivers on every
    /// node: the store subscribes on the first seed node.
    ///
    /// ```no_run
    /// # async fn run() -> adauth_core::Result<()> {
    /// let store = adauth_redis::RedisStore::connect_cluster(&[
    ///     "redis://10.0.0.1:6379",
    ///     "redis://10.0.0.2:6379",
    ///     "redis://10.0.0.3:6379",
    /// ])
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_cluster(nodes: &[&str]) -> Result<Self> {
        let Some(first) = nodes.first() else {
            return Err(Error::configuration(
                PROVIDER,
                "a Redis Cluster needs at least one seed node URL",
            ));
        };
        let redacted_url = nodes
            .iter()
            .map(|n| redact_url(n))
            .collect::<Vec<_>>()
            .join(",");
        let mut secrets: Vec<String> = nodes.iter().flat_map(|n| url_secrets(n)).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        #[cfg(feature = "tls")]
        install_crypto_provider();
        let invalid = |e: redis::RedisError| {
            store_error(
                &format!("invalid Redis Cluster URLs {redacted_url}"),
                &e,
                &secrets,
            )
        };
        let cluster = redis::cluster::ClusterClient::builder(nodes.iter().map(|n| n.trim()))
            .connection_timeout(CONNECT_TIMEOUT)
            .response_timeout(CONNECT_TIMEOUT)
            .retries(3)
            .build()
            .map_err(invalid)?;
        let notifications = redis::Client::open(first.trim()).map_err(invalid)?;
        let connection = tokio::time::timeout(CONNECT_TIMEOUT, cluster.get_async_connection())
            .await
            .map_err(|_| {
                Error::new(PROVIDER, ErrorKind::Timeout).with_message(format!(
                    "could not connect to the Redis Cluster {redacted_url} within {} s",
                    CONNECT_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|e| {
                store_error(
                    &format!("could not connect to the Redis Cluster {redacted_url}"),
                    &e,
                    &secrets,
                )
            })?;
        Ok(Self::assemble(
            Connection::Cluster(connection),
            notifications,
            redacted_url,
            secrets,
        ))
    }

    /// Connects to the server named by `ADAUTH_REDIS_URL`.
    pub async fn from_env() -> Result<Self> {
        Self::from_lookup(&adauth_core::provider_kit::env::process).await
    }

    /// Connects to the server named by `ADAUTH_REDIS_URL` as `lookup` supplies it, trusting
    /// the PEM certificates in the file named by `ADAUTH_REDIS_CA_FILE` if it is set (with
    /// the `tls` feature); or, when `ADAUTH_REDIS_CLUSTER_URLS` is set, to that cluster.
    pub async fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        if let Some(urls) = adauth_core::provider_kit::env::optional(lookup, ENV_CLUSTER_URLS) {
            let nodes: Vec<&str> = urls
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect();
            return Self::connect_cluster(&nodes).await;
        }
        let url = adauth_core::provider_kit::env::required(PROVIDER, lookup, ENV_URL)?;
        #[cfg(feature = "tls")]
        if let Some(path) = adauth_core::provider_kit::env::optional(lookup, ENV_CA_FILE) {
            let ca = std::fs::read(&path).map_err(|e| {
                Error::configuration(PROVIDER, format!("{ENV_CA_FILE}: cannot read {path}: {e}"))
            })?;
            return Self::connect_tls(&url, &ca).await;
        }
        Self::connect(&url).await
    }

    /// Puts every key under `prefix` (default `adauth:`), to share one server between
    /// applications or environments.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        // Another prefix, another channel: a subscription of its own.
        self.notifier = Arc::new(Notifier::new(self.notifier.client.clone()));
        self
    }

    /// How long a token key lives after its last write (default 30 days), so keys of
    /// credentials no longer used do not pile up. [`Duration::ZERO`]: forever.
    pub fn with_value_ttl(mut self, ttl: Duration) -> Self {
        self.value_ttl = ttl;
        self
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis key holding the token of `key`.
    pub fn token_key(&self, key: &str) -> String {
        format!("{}token:{key}", self.prefix)
    }

    /// The Redis key holding the refresh lease of `key`.
    pub fn lease_key(&self, key: &str) -> String {
        format!("{}lease:{key}", self.prefix)
    }

    /// The channel on which writes and lease releases are announced.
    pub fn channel(&self) -> String {
        format!("{}changes", self.prefix)
    }

    fn error(&self, what: &str, e: &redis::RedisError) -> Error {
        store_error(
            &format!("could not {what} on {}", self.redacted_url),
            e,
            &self.secrets,
        )
    }
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn load(&self, key: &str) -> Result<Option<StoredValue>> {
        let redis_key = self.token_key(key);
        let mut connection = self.connection.clone();
        let bytes: Option<Vec<u8>> = match connection.get(&redis_key).await {
            Ok(text) => text,
            Err(e) if e.code() == Some("WRONGTYPE") => {
                tracing::warn!(key = %redis_key, "ignoring a Redis key of another type; it will be replaced");
                return Ok(None);
            }
            Err(e) => return Err(self.error("read a token", &e)),
        };
        let Some(bytes) = bytes.map(Zeroizing::new) else {
            return Ok(None);
        };
        match parse_record(&bytes) {
            Some(value) => Ok(Some(value)),
            None => {
                tracing::warn!(key = %redis_key, "ignoring an unreadable token value; it will be replaced");
                Ok(None)
            }
        }
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&str>,
        value: &SecretString,
    ) -> Result<Option<String>> {
        let revision = new_revision();
        // Serialized into a buffer that is wiped once the command is sent.
        let record = adauth_core::provider_kit::wire::json_body(&RecordRef {
            revision: &revision,
            value: value.expose_secret(),
        });
        let ttl_ms = if self.value_ttl.is_zero() {
            0
        } else {
            self.value_ttl.as_millis().max(1)
        };
        let mut connection = self.connection.clone();
        let written: Option<String> = self
            .cas
            .key(self.token_key(key))
            .arg(if expected.is_some() { "1" } else { "0" })
            .arg(expected.unwrap_or(""))
            .arg(&record[..])
            .arg(&revision)
            .arg(ttl_ms.to_string())
            .arg(self.channel())
            .invoke_async(&mut connection)
            .await
            .map_err(|e| self.error("write a token", &e))?;
        Ok(written)
    }

    async fn try_lease(&self, key: &str, ttl: Duration) -> Result<Option<Lease>> {
        let fence = new_revision();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut connection = self.connection.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(self.lease_key(key))
            .arg(&fence)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms)
            .query_async(&mut connection)
            .await
            .map_err(|e| self.error("take a lease", &e))?;
        Ok(set.map(|_| Lease::new(fence)))
    }

    async fn renew(&self, key: &str, lease: &Lease, ttl: Duration) -> Result<bool> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut connection = self.connection.clone();
        let renewed: i64 = self
            .renew
            .key(self.lease_key(key))
            .arg(lease.fence())
            .arg(ttl_ms)
            .invoke_async(&mut connection)
            .await
            .map_err(|e| self.error("renew a lease", &e))?;
        Ok(renewed == 1)
    }

    async fn release(&self, key: &str, lease: Lease) -> Result<()> {
        let mut connection = self.connection.clone();
        let _: i64 = self
            .release
            .key(self.lease_key(key))
            .arg(lease.fence())
            .arg(self.channel())
            .arg(self.token_key(key))
            .invoke_async(&mut connection)
            .await
            .map_err(|e| self.error("release a lease", &e))?;
        Ok(())
    }

    /// Waits for the announcement of a write or a lease release for `key`, for the lease to
    /// lapse, or for `timeout`; reads the key every 250 ms instead of waiting for the
    /// announcement while the store is not subscribed.
    async fn wait_for_change(
        &self,
        key: &str,
        seen: Option<&str>,
        timeout: Duration,
    ) -> Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        // Listening before reading, so that a write between the two is not missed.
        let mut changes = self.notifier.changes.subscribe();
        let setup = deadline.min(tokio::time::Instant::now() + Duration::from_secs(1));
        let listening = self.notifier.listening(&self.channel(), setup).await;
        let current = self.load(key).await?;
        if current.as_ref().map(|v| v.revision.as_str()) != seen {
            return Ok(());
        }
        // A lease lapses silently: wake when it would, to take it over.
        let mut connection = self.connection.clone();
        let lease_left: i64 = connection
            .pttl(self.lease_key(key))
            .await
            .map_err(|e| self.error("read a lease", &e))?;
        let deadline = match u64::try_from(lease_left) {
            Ok(ms) => deadline.min(tokio::time::Instant::now() + Duration::from_millis(ms)),
            // -2: no lease (released meanwhile); -1: a lease without expiry is not ours.
            Err(_) if lease_left == -2 => return Ok(()),
            Err(_) => deadline,
        };
        if listening {
            let token_key = self.token_key(key);
            loop {
                let announced = async {
                    loop {
                        match changes.recv().await {
                            Ok(changed) if changed != token_key && !changed.is_empty() => {
                                continue;
                            }
                            Ok(changed) => return !changed.is_empty(),
                            // Lagged or closed: look again.
                            Err(_) => return false,
                        }
                    }
                };
                match tokio::time::timeout_at(deadline, announced).await {
                    // An announcement of this key may be an older write's, delivered late:
                    // go on waiting unless the revision changed or the lease was released.
                    Ok(true) => {
                        let current = self.load(key).await?;
                        if current.as_ref().map(|v| v.revision.as_str()) != seen {
                            return Ok(());
                        }
                        let left: i64 = connection
                            .pttl(self.lease_key(key))
                            .await
                            .map_err(|e| self.error("read a lease", &e))?;
                        if left == -2 {
                            return Ok(());
                        }
                    }
                    Ok(false) | Err(_) => return Ok(()),
                }
            }
        }
        loop {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(());
            }
            tokio::time::sleep((deadline - now).min(POLL_INTERVAL)).await;
            let current = self.load(key).await?;
            if current.as_ref().map(|v| v.revision.as_str()) != seen {
                return Ok(());
            }
        }
    }
}

/// A record of ours: a JSON object with string `revision` and `value` (the same test the
/// compare-and-set script makes, so both agree on what counts as absent).
fn parse_record(bytes: &[u8]) -> Option<StoredValue> {
    // An object only: serde would read a struct from an array too, the script would not.
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return None;
    }
    let record: Record = serde_json::from_slice(bytes).ok()?;
    Some(StoredValue {
        revision: record.revision,
        value: record.value,
    })
}

/// A transport error naming what failed, with the Redis error's text minus any secret of
/// the URL.
fn store_error(what: &str, e: &redis::RedisError, secrets: &[String]) -> Error {
    let mut detail = e.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        detail = detail.replace(secret.as_str(), "[redacted]");
    }
    Error::new(PROVIDER, ErrorKind::Transport).with_message(format!("{what}: {detail}"))
}

/// `url` with its user information and query (which may carry a password) replaced by
/// `[redacted]`: `redis://:pw@host` becomes `redis://[redacted]@host`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "[redacted]".to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = match authority.rfind('@') {
        Some(at) => format!("[redacted]@{}", &authority[at + 1..]),
        None => authority.to_owned(),
    };
    let path = match path.find('?') {
        Some(q) => format!("{}?[redacted]", &path[..q]),
        None => path.to_owned(),
    };
    format!("{scheme}://{host}{path}")
}

/// The password and query values of `url`, raw and percent-decoded, to scrub
/// from error text.
fn url_secrets(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if let Some(at) = rest[..authority_end].rfind('@') {
        let userinfo = &rest[..at];
        // The password; a lone user name may be a password too (`redis://password@host`).
        secrets.push(
            userinfo
                .split_once(':')
                .map_or(userinfo, |(_, pw)| pw)
                .to_owned(),
        );
    }
    if let Some(q) = rest.find('?') {
        for pair in rest[q + 1..].split(['&', '#']) {
            secrets.push(pair.split_once('=').map_or(pair, |(_, v)| v).to_owned());
        }
    }
    let decoded: Vec<String> = secrets.iter().map(|s| percent_decode(s)).collect();
    secrets.extend(decoded);
    secrets.retain(|s| s.len() >= 3);
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    secrets
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| char::from(b).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(redact_url("redis://:pw@host"), "redis://[redacted]@host");
        assert_eq!(
            redact_url("rediss://user:p%40ss@host:6380/2"),
            "rediss://[redacted]@host:6380/2"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379/"),
            "redis://127.0.0.1:6379/"
        );
        assert_eq!(
            redact_url("redis+unix:///run/redis.sock?db=1&pass=secret"),
            "redis+unix:///run/redis.sock?[redacted]"
        );
        assert_eq!(redact_url("not a url :pw@"), "[redacted]");
        let secrets = url_secrets("rediss://user:p%40ss@host:6380/2");
        assert!(secrets.contains(&"p@ss".to_owned()), "{secrets:?}");
        assert!(secrets.contains(&"p%40ss".to_owned()), "{secrets:?}");
    }
}
