//! The HTTP client adauth sends token requests with: one shared connection pool per
//! process, timeouts, proxies from the environment, and the retry policy. What requests and
//! answers are made of is in [`provider_kit::wire`](crate::provider_kit::wire).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::secret_buf::SecretBuf;
use reqwest::header::CONTENT_TYPE;
use reqwest::{RequestBuilder, StatusCode};
use serde::Serialize;
use url::Url;

use crate::provider_kit::wire::{FORM, HttpResponse, JSON, form_body, json_body, transport_error};
use crate::{Error, FetchContext, Result};

/// The largest response body read, 1 MiB. Token responses are a few hundred bytes; anything
/// near this is not a token response.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The default time allowed to open a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default time allowed for a whole request, from sending to the last byte of the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A new reqwest client with adauth's settings: rustls, a 10 s connect timeout, a 30 s
/// overall timeout, redirects not followed (a token endpoint that redirects is misconfigured,
/// and following it could send credentials elsewhere), the proxies of [`proxies_from`] the
/// process environment, and an `adauth` user agent.
///
/// Each call builds a client with its own connection pool (most programs want
/// [`shared_client`] instead). Every client adauth builds shares one TLS configuration, so
/// the system's root certificates are loaded once per process, by the first.
pub fn default_client() -> Result<reqwest::Client> {
    build_client(DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT)
}

/// The shared client with adauth's settings (see [`default_client`]) for the tokio runtime
/// this is called on, built on first use there: one connection pool per runtime, and root
/// certificates loaded once per process. Every [`HttpClient`] that was not given a client
/// of its own (or a connect timeout other than the default) sends through it, so a
/// thousand sources hold one pool, not a thousand.
///
/// Why per runtime: a connection belongs to the runtime that opened it and dies with it.
/// One pool for a whole process would hand a later runtime (each `#[tokio::test]`, each
/// `block_on` of a command) connections that are already dead. A program with one runtime
/// has one pool. The clients of the last [`MAX_SHARED_CLIENTS`] runtimes are kept.
///
/// The proxy variables are read when it is built. Clones of a reqwest client share its
/// pool: use it for API calls too, as
/// [`AuthorizedClient::new(cache, shared_client()?)`](crate::AuthorizedClient::new).
pub fn shared_client() -> Result<reqwest::Client> {
    static SHARED: PerRuntime = PerRuntime::new();
    SHARED.get(default_client)
}

/// How many runtimes' shared clients are kept ([`shared_client`]): 16. A client whose
/// runtime has ended holds only dead connections; the oldest is dropped first.
pub const MAX_SHARED_CLIENTS: usize = 16;

/// A client per tokio runtime (`None`: called outside any), most recently used first.
#[derive(Debug)]
struct PerRuntime(Mutex<Vec<(Option<tokio::runtime::Id>, reqwest::Client)>>);

impl PerRuntime {
    const fn new() -> Self {
        Self(Mutex::new(Vec::new()))
    }

    fn get(&self, build: impl FnOnce() -> Result<reqwest::Client>) -> Result<reqwest::Client> {
        let runtime = tokio::runtime::Handle::try_current().ok().map(|h| h.id());
        let lock = || self.0.lock().unwrap_or_else(|e| e.into_inner());
        {
            let mut clients = lock();
            if let Some(i) = clients.iter().position(|(id, _)| *id == runtime) {
                if i > 0 {
                    let entry = clients.remove(i);
                    clients.insert(0, entry);
                }
                return Ok(clients[0].1.clone());
            }
        }
        // Built outside the lock: loading root certificates takes milliseconds.
        let built = build()?;
        let mut clients = lock();
        if let Some((_, client)) = clients.iter().find(|(id, _)| *id == runtime) {
            return Ok(client.clone());
        }
        clients.insert(0, (runtime, built.clone()));
        clients.truncate(MAX_SHARED_CLIENTS);
        Ok(built)
    }
}

fn build_client(connect: Duration, request: Duration) -> Result<reqwest::Client> {
    let mut builder = client_builder(&crate::provider_kit::env::process);
    if let Some(tls) = process_tls() {
        builder = builder.tls_backend_preconfigured(tls);
    }
    builder
        .connect_timeout(connect)
        .timeout(request)
        .user_agent(concat!("adauth/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            Error::configuration("adauth", "the HTTP client could not be built").with_source(e)
        })
}

/// How many times this process has loaded the system's root certificates: at most once, on
/// its first TLS connection.
static ROOT_LOADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The platform's certificate verifier, made on first use: loading the system's root
/// certificates takes milliseconds, which a process that only talks plain `http` to a
/// loopback host (the sandbox, a fake, a sidecar), or only reads its tokens from a cache,
/// never needs to pay. A verifier that cannot be made (no root certificates) fails each
/// handshake with the reason.
#[derive(Debug)]
struct LazyVerifier {
    provider: Arc<rustls::crypto::CryptoProvider>,
    inner: std::sync::OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl LazyVerifier {
    fn inner(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.inner
            .get_or_init(|| {
                ROOT_LOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                rustls_platform_verifier::Verifier::new(Arc::clone(&self.provider))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl rustls::client::danger::ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        self.inner()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner()?.verify_tls13_signature(message, cert, dss)
    }

    /// The crypto provider's schemes, as the platform's verifier gives them (without loading
    /// the roots to say so: a client hello is sent before any certificate is seen).
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The verifier of every client adauth builds: one per process.
fn process_verifier() -> Arc<LazyVerifier> {
    static VERIFIER: std::sync::OnceLock<Arc<LazyVerifier>> = std::sync::OnceLock::new();
    Arc::clone(VERIFIER.get_or_init(|| {
        Arc::new(LazyVerifier {
            provider: rustls::crypto::CryptoProvider::get_default()
                .cloned()
                .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider())),
            inner: std::sync::OnceLock::new(),
        })
    }))
}

/// The TLS configuration of every client adauth builds, made once per process: what
/// reqwest's `rustls` backend would make for each client (its crypto provider, the
/// platform's verifier and root certificates, TLS 1.2 and 1.3, HTTP/1.1), shared, with the
/// roots loaded on the first TLS connection ([`LazyVerifier`]). `None` if the provider
/// supports neither TLS version: then reqwest makes its own, and reports the failure.
fn process_tls() -> Option<rustls::ClientConfig> {
    static TLS: std::sync::OnceLock<Option<rustls::ClientConfig>> = std::sync::OnceLock::new();
    TLS.get_or_init(|| {
        let verifier = process_verifier();
        let mut config =
            rustls::ClientConfig::builder_with_provider(Arc::clone(&verifier.provider))
                .with_protocol_versions(rustls::ALL_VERSIONS)
                .ok()?
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Some(config)
    })
    .clone()
}

/// A reqwest client builder with adauth's settings (see [`default_client`]), the proxies
/// taken from `lookup` (the process environment: [`crate::provider_kit::env::process`]), to add to.
pub fn client_builder(lookup: &dyn Fn(&str) -> Option<String>) -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(DEFAULT_CONNECT_TIMEOUT)
        .timeout(DEFAULT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        // Replaces reqwest's own reading of the environment: see `proxies_from`.
        .no_proxy();
    for proxy in proxies_from(lookup) {
        builder = builder.proxy(proxy);
    }
    builder
}

/// Hosts that are never reached through a proxy, whatever `NO_PROXY` says: plain `http` is
/// accepted only for them (the sandbox, a local fake, a sidecar), and a proxy would see
/// every credential sent to them in clear.
const LOOPBACK: &str = "localhost,127.0.0.0/8,::1";

/// The proxies that `HTTPS_PROXY`, `HTTP_PROXY` and `ALL_PROXY` (or their lower-case
/// forms) name, as curl and reqwest read them, with `NO_PROXY` honoured and loopback hosts
/// always bypassed. An `https` request goes through its proxy as a `CONNECT` tunnel, so the
/// proxy sees only the host name. `HTTP_PROXY` is ignored under CGI (`REQUEST_METHOD`
/// set), where a client could set it through a `Proxy:` header.
pub fn proxies_from(lookup: &dyn Fn(&str) -> Option<String>) -> Vec<reqwest::Proxy> {
    let var = |name: &str| {
        lookup(name)
            .or_else(|| lookup(&name.to_ascii_lowercase()))
            .filter(|v| !v.trim().is_empty())
    };
    let no_proxy = match var("NO_PROXY") {
        Some(list) => format!("{list},{LOOPBACK}"),
        None => LOOPBACK.to_owned(),
    };
    let no_proxy = || reqwest::NoProxy::from_string(&no_proxy);
    let cgi = lookup("REQUEST_METHOD").is_some();
    let mut proxies = Vec::new();
    let mut add = |made: reqwest::Result<reqwest::Proxy>, name: &str| match made {
        Ok(proxy) => proxies.push(proxy.no_proxy(no_proxy())),
        Err(_) => tracing::warn!("ignoring {name}: not a proxy URL"),
    };
    if let Some(url) = var("HTTPS_PROXY") {
        add(reqwest::Proxy::https(url.trim()), "HTTPS_PROXY");
    }
    if !cgi && let Some(url) = var("HTTP_PROXY") {
        add(reqwest::Proxy::http(url.trim()), "HTTP_PROXY");
    }
    if let Some(url) = var("ALL_PROXY") {
        add(reqwest::Proxy::all(url.trim()), "ALL_PROXY");
    }
    proxies
}

/// How transient failures of one token request are retried: timeouts, connection failures,
/// 5xx and 429 answers. Rejections are never retried.
///
/// Delays grow exponentially from `initial_delay` up to `max_delay`, with full jitter (a
/// random delay between zero and the current bound). A `Retry-After` from the provider is
/// honoured when it is at most `max_retry_after`; a longer one ends the retries at once, and
/// the error carries the delay.
///
/// Defaults: 3 attempts, 200 ms initial delay, 5 s maximum delay, 30 s maximum `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries: one attempt.
    pub fn none() -> Self {
        Self::default().max_attempts(1)
    }

    /// The number of attempts in all, at least 1.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The bound of the first delay.
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The largest bound a delay grows to.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The longest `Retry-After` waited for.
    pub fn max_retry_after(mut self, delay: Duration) -> Self {
        self.max_retry_after = delay;
        self
    }

    /// The delay before retry number `retry` (1 for the first), with `random` from 0 to 1.
    fn backoff(&self, retry: u32, random: f64) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let bound = self
            .initial_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        bound.mul_f64(random.clamp(0.0, 1.0))
    }
}

/// An HTTP client for token requests: a reqwest client plus a retry policy and a response
/// size cap. Cheap to clone.
///
/// ```
/// use adauth_core::http::{HttpClient, RetryPolicy};
///
/// // The defaults, or your own reqwest client (keep redirects off and set timeouts).
/// let http = HttpClient::new().retry_policy(RetryPolicy::none());
/// let custom = HttpClient::with_client(reqwest::Client::new());
/// # let _ = (http, custom);
/// ```
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: Client,
    retry: RetryPolicy,
    max_body: usize,
    connect_timeout: Duration,
    request_timeout: Duration,
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new()
    }
}

/// Which reqwest client an [`HttpClient`] sends through.
#[derive(Debug, Clone)]
enum Client {
    /// The runtime's [`shared_client`].
    Shared,
    /// One of its own, for a connect timeout other than the default: built on first use
    /// on each runtime, shared by the clones.
    Own(Arc<PerRuntime>),
    /// The caller's.
    Given(reqwest::Client),
}

impl HttpClient {
    /// A client that sends through the process's [`shared_client`].
    pub fn new() -> Self {
        Self {
            client: Client::Shared,
            retry: RetryPolicy::default(),
            max_body: MAX_RESPONSE_BYTES,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The time allowed to open a connection (default [`DEFAULT_CONNECT_TIMEOUT`], 10 s).
    /// Not for a client given to [`with_client`](Self::with_client). A connect timeout other
    /// than the default is a setting of the connection pool, so this client (and its clones)
    /// then builds one of its own instead of using the [`shared_client`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        if !matches!(self.client, Client::Given(_)) {
            self.client = if timeout == DEFAULT_CONNECT_TIMEOUT {
                Client::Shared
            } else {
                Client::Own(Arc::new(PerRuntime::new()))
            };
        }
        self
    }

    /// The time allowed for one attempt, from sending to the answer's last byte (default
    /// [`DEFAULT_TIMEOUT`], 30 s), set on each request. Not for a client given to
    /// [`with_client`](Self::with_client), whose own timeout applies.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Uses `client` for every request.
    ///
    /// adauth relies on the client for timeouts and redirects. Build it with
    /// `.redirect(reqwest::redirect::Policy::none())`: reqwest follows redirects by default,
    /// and on a 307 or 308 it would send the token request, credentials included, to
    /// wherever the redirect points. See [`default_client`] for all that adauth sets.
    pub fn with_client(client: reqwest::Client) -> Self {
        Self {
            client: Client::Given(client),
            ..Self::new()
        }
    }

    /// Sets the retry policy (default: 3 attempts; see [`RetryPolicy`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the response size cap (default [`MAX_RESPONSE_BYTES`]).
    pub fn max_response_bytes(mut self, max: usize) -> Self {
        self.max_body = max;
        self
    }

    /// The reqwest client it sends through: the caller's, its own, or the process's
    /// [`shared_client`].
    pub fn client(&self) -> Result<reqwest::Client> {
        match &self.client {
            Client::Shared => shared_client(),
            Client::Given(client) => Ok(client.clone()),
            Client::Own(own) => {
                own.get(|| build_client(self.connect_timeout, self.request_timeout))
            }
        }
    }

    /// Sends the request that `build` makes, retrying transient failures, and reads the
    /// answer up to the size cap.
    ///
    /// `build` is called once per attempt. Non-2xx answers are returned as responses (see
    /// [`HttpResponse::into_error`]); only failures to get an answer at all are errors.
    pub async fn send(
        &self,
        provider: &str,
        cx: &FetchContext,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<HttpResponse> {
        let client = self.client()?;
        let mut attempt = 1;
        loop {
            let sent_at = cx.now();
            let mut request = build(&client);
            // The shared client's own timeout is the default one; another is set per
            // request (an own client is built with it).
            if matches!(self.client, Client::Shared) && self.request_timeout != DEFAULT_TIMEOUT {
                request = request.timeout(self.request_timeout);
            }
            let outcome = match request.send().await {
                Ok(response) => self.read(provider, sent_at, response).await,
                Err(e) => Err(transport_error(provider, e)),
            };
            let delay = match &outcome {
                Ok(r)
                    if r.status.is_server_error() || r.status == StatusCode::TOO_MANY_REQUESTS =>
                {
                    match r.retry_after(cx.now()) {
                        Some(after) if after > self.retry.max_retry_after => None,
                        Some(after) => Some(after),
                        None => Some(self.retry.backoff(attempt, fastrand::f64())),
                    }
                }
                Err(e) if e.is_retryable() => Some(self.retry.backoff(attempt, fastrand::f64())),
                _ => None,
            };
            match delay {
                Some(delay) if attempt < self.retry.max_attempts => {
                    tracing::debug!(
                        provider,
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        "token request failed transiently; retrying"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                _ => return outcome,
            }
        }
    }

    /// POSTs `body` as JSON (`Content-Type: application/json`) to `url`. The body is built
    /// once, sent on every attempt, and zeroized when the request is done ([`json_body`]).
    pub async fn post_json<B: Serialize + ?Sized + Sync>(
        &self,
        provider: &str,
        cx: &FetchContext,
        url: &Url,
        body: &B,
    ) -> Result<HttpResponse> {
        self.post(provider, cx, url, JSON, json_body(body)).await
    }

    /// POSTs `body` with `content_type` to `url`: the same bytes on every attempt (a
    /// [`Bytes`] clone each), so a body from [`form_body`] or [`json_body`] is wiped once the
    /// request is done.
    pub async fn post(
        &self,
        provider: &str,
        cx: &FetchContext,
        url: &Url,
        content_type: &'static str,
        body: Bytes,
    ) -> Result<HttpResponse> {
        self.send(provider, cx, |c| {
            c.post(url.clone())
                .header(CONTENT_TYPE, content_type)
                .body(body.clone())
        })
        .await
    }

    /// POSTs `fields` form-encoded (`Content-Type: application/x-www-form-urlencoded`) to
    /// `url`. The body is zeroized when the request is done ([`form_body`]).
    pub async fn post_form(
        &self,
        provider: &str,
        cx: &FetchContext,
        url: &Url,
        fields: &[(&str, &str)],
    ) -> Result<HttpResponse> {
        self.post(provider, cx, url, FORM, form_body(fields)).await
    }

    async fn read(
        &self,
        provider: &str,
        sent_at: SystemTime,
        mut response: reqwest::Response,
    ) -> Result<HttpResponse> {
        let status = response.status();
        let too_big = || {
            Error::unexpected(
                provider.to_owned(),
                format!(
                    "the response body exceeds the {} KiB limit",
                    self.max_body / 1024
                ),
            )
            .with_status(status)
        };
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body as u64)
        {
            return Err(too_big());
        }
        // The answer holds the token: its buffer is wiped when the response is dropped.
        // Sized to the announced length, so that the buffer neither grows nor has more to
        // wipe than the answer.
        let expected = response.content_length().map_or(512, |len| len as usize);
        let mut body = SecretBuf::with_capacity(expected.min(self.max_body));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(provider, e).with_status(status))?
        {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_big());
            }
            body.extend(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers: std::mem::take(response.headers_mut()),
            body: body.into_bytes(),
            sent_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_client_per_runtime_and_at_most_the_last_sixteen_are_kept() {
        let clients = PerRuntime::new();
        let built = std::sync::atomic::AtomicUsize::new(0);
        let build = || {
            built.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(reqwest::Client::new())
        };
        for _ in 0..MAX_SHARED_CLIENTS + 4 {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            runtime.block_on(async {
                clients.get(build).unwrap();
                clients.get(build).unwrap();
            });
        }
        // Twice on each runtime, built once there.
        assert_eq!(
            built.load(std::sync::atomic::Ordering::SeqCst),
            MAX_SHARED_CLIENTS + 4
        );
        assert_eq!(clients.0.lock().unwrap().len(), MAX_SHARED_CLIENTS);
    }

    /// Root certificates are loaded once per process, however many clients and runtimes:
    /// new clients, and the shared clients of two runtimes.
    #[test]
    fn root_certificates_are_loaded_once_per_process_and_only_for_tls() {
        use rustls::client::danger::ServerCertVerifier as _;
        for _ in 0..3 {
            default_client().unwrap();
        }
        for _ in 0..2 {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            runtime.block_on(async { shared_client().unwrap() });
        }
        assert!(process_tls().is_some(), "this platform's TLS configuration");
        let loads = || ROOT_LOADS.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(loads(), 0, "clients are built without the roots");
        // A client hello names the schemes without them too.
        assert!(!process_verifier().supported_verify_schemes().is_empty());
        assert_eq!(loads(), 0);
        // The first certificate to check loads them, once; this one is refused.
        let name = rustls::pki_types::ServerName::try_from("example.com").unwrap();
        for _ in 0..2 {
            let refused = process_verifier().verify_server_cert(
                &rustls::pki_types::CertificateDer::from(vec![0u8; 16]),
                &[],
                &name,
                &[],
                rustls::pki_types::UnixTime::now(),
            );
            assert!(refused.is_err());
        }
        assert_eq!(loads(), 1);
    }

    #[test]
    fn backoff_is_bounded_full_jitter() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(200));
        assert_eq!(p.backoff(2, 1.0), Duration::from_millis(400));
        assert_eq!(p.backoff(3, 0.5), Duration::from_millis(400));
        assert_eq!(p.backoff(40, 1.0), Duration::from_secs(5));
        assert_eq!(p.backoff(u32::MAX, 1.0), Duration::from_secs(5));
        assert_eq!(p.backoff(1, 0.0), Duration::ZERO);
    }
}
