//! HTTP plumbing shared by the provider crates.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use zeroize::Zeroize;

use crate::secret_buf::{SecretBuf, secret_json};
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::{Host, Url};

use crate::{Error, ErrorKind, FetchContext, Result};

/// The largest response body read, 1 MiB. Token responses are a few hundred bytes; anything
/// near this is not a token response.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// `application/json`, the content type of [`json_body`].
pub const JSON: &str = "application/json";

/// `application/x-www-form-urlencoded`, the content type of [`form_body`].
pub const FORM: &str = "application/x-www-form-urlencoded";

/// The default time allowed to open a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default time allowed for a whole request, from sending to the last byte of the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A new reqwest client with adauth's settings: rustls, a 10 s connect timeout, a 30 s
/// overall timeout, redirects not followed (a token endpoint that redirects is misconfigured,
/// and following it could send credentials elsewhere), the proxies of [`proxies_from`] the
/// process environment, and an `adauth` user agent.
///
/// Each call builds a client, with its own connection pool and root certificates; most
/// programs want [`shared_client`] instead.
pub fn default_client() -> Result<reqwest::Client> {
    build_client(DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT)
}

/// The process's one client with adauth's settings (see [`default_client`]), built on first
/// use: one connection pool, and root certificates loaded once. Every [`HttpClient`] that
/// was not given a client of its own (or a connect timeout other than the default) sends
/// through it, so a thousand sources hold one pool, not a thousand.
///
/// The proxy variables are read when it is built. Clones of a reqwest client share its
/// pool: use it for API calls too, as
/// [`AuthorizedClient::new(cache, shared_client()?.clone())`](crate::AuthorizedClient::new).
pub fn shared_client() -> Result<&'static reqwest::Client> {
    static SHARED: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = SHARED.get() {
        return Ok(client);
    }
    let built = default_client()?;
    Ok(SHARED.get_or_init(|| built))
}

fn build_client(connect: Duration, request: Duration) -> Result<reqwest::Client> {
    client_builder(&crate::env::process)
        .connect_timeout(connect)
        .timeout(request)
        .user_agent(concat!("adauth/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            Error::configuration("adauth", "the HTTP client could not be built").with_source(e)
        })
}

/// A reqwest client builder with adauth's settings (see [`default_client`]), the proxies
/// taken from `lookup` (the process environment: [`crate::env::process`]), to add to.
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

/// Parses an endpoint or base URL and checks that it is safe to send credentials to:
/// `https`, or plain `http` only for loopback hosts (`localhost`, `127.0.0.0/8`, `[::1]`).
/// URLs carrying a user name, password or fragment are refused.
///
/// ```
/// use adauth_core::http::parse_endpoint;
///
/// assert!(parse_endpoint("fyber", "https://reporting.fyber.com/").is_ok());
/// assert!(parse_endpoint("fyber", "http://127.0.0.1:8080/").is_ok());
/// let err = parse_endpoint("fyber", "http://reporting.fyber.com/").unwrap_err();
/// assert!(err.is_configuration());
/// ```
pub fn parse_endpoint(provider: &str, url: &str) -> Result<Url> {
    let parsed = Url::parse(url.trim()).map_err(|e| {
        Error::configuration(
            provider.to_owned(),
            format!("invalid URL {:?}: {e}", redact_unparsed(url)),
        )
    })?;
    check_endpoint(provider, &parsed)?;
    Ok(parsed)
}

/// Checks an already parsed URL as [`parse_endpoint`] does.
pub fn check_endpoint(provider: &str, url: &Url) -> Result<()> {
    let fail = |why: &str| {
        Err(Error::configuration(
            provider.to_owned(),
            format!("URL {}: {why}", redact_url(url)),
        ))
    };
    if !url.username().is_empty() || url.password().is_some() {
        return fail("credentials in URLs are not accepted");
    }
    if url.fragment().is_some() {
        return fail("a fragment is not accepted");
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => fail("plain http is accepted only for loopback hosts; use https"),
        _ => fail("only https (or http to a loopback host) is supported"),
    }
}

/// A URL that did not parse, as it may be shown: anything before an `@` (a user name and
/// password) replaced, the query dropped, and at most 100 characters.
fn redact_unparsed(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = match rest.rfind('@') {
        Some(at) => format!("[redacted]@{}", &rest[at + 1..]),
        None => rest.to_owned(),
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let shown = if scheme.is_empty() {
        rest.to_owned()
    } else {
        format!("{scheme}://{rest}")
    };
    shown.chars().take(100).collect()
}

fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Joins `path` to a base URL, keeping any path prefix of the base
/// (`http://127.0.0.1:1/fake` + `/auth/v1/token` = `http://127.0.0.1:1/fake/auth/v1/token`).
pub fn join_path(provider: &str, base: &Url, path: &str) -> Result<Url> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let with_slash = format!("{}/", base.path());
        base.set_path(&with_slash);
    }
    base.join(path.trim_start_matches('/')).map_err(|e| {
        Error::configuration(provider.to_owned(), format!("cannot join {path:?}: {e}"))
    })
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
    /// The process's [`shared_client`].
    Shared,
    /// One of its own, for a connect timeout other than the default: built on first use,
    /// shared by the clones.
    Own(Arc<OnceLock<reqwest::Client>>),
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
                Client::Own(Arc::default())
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
    pub fn client(&self) -> Result<&reqwest::Client> {
        match &self.client {
            Client::Shared => shared_client(),
            Client::Given(client) => Ok(client),
            Client::Own(cell) => {
                if let Some(client) = cell.get() {
                    return Ok(client);
                }
                let built = build_client(self.connect_timeout, self.request_timeout)?;
                Ok(cell.get_or_init(|| built))
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
            let mut request = build(client);
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
        let expected = response.content_length().unwrap_or(0) as usize;
        let mut body = SecretBuf::with_capacity(expected.max(512).min(self.max_body));
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

/// `fields` form-encoded (`application/x-www-form-urlencoded`), as a request body that is
/// zeroized when its last clone is dropped: the buffer never leaves a copy of a secret in
/// freed memory.
///
/// ```
/// let body = adauth_core::http::form_body(&[("grant_type", "client_credentials"), ("scope", "a b")]);
/// assert_eq!(&body[..], b"grant_type=client_credentials&scope=a+b");
/// ```
pub fn form_body(fields: &[(&str, &str)]) -> Bytes {
    let mut body = SecretBuf::with_capacity(256);
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            body.extend(b"&");
        }
        for part in url::form_urlencoded::byte_serialize(name.as_bytes()) {
            body.extend(part.as_bytes());
        }
        body.extend(b"=");
        for part in url::form_urlencoded::byte_serialize(value.as_bytes()) {
            body.extend(part.as_bytes());
        }
    }
    body.into_bytes()
}

/// `value` as a JSON request body that is zeroized when its last clone is dropped.
///
/// ```
/// let body = adauth_core::http::json_body(&serde_json::json!({"client_id": "c"}));
/// assert_eq!(&body[..], br#"{"client_id":"c"}"#);
/// ```
pub fn json_body<T: Serialize + ?Sized>(value: &T) -> Bytes {
    secret_json(value).into_bytes()
}

/// An `Authorization: Basic` value for `user` and `password` (RFC 7617), marked sensitive,
/// built in buffers that are zeroized: the value itself is wiped when its last clone is
/// dropped.
///
/// ```
/// let value = adauth_core::http::basic_authorization("Aladdin", "open sesame");
/// assert_eq!(value, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
/// assert!(value.is_sensitive());
/// ```
pub fn basic_authorization(user: &str, password: &str) -> reqwest::header::HeaderValue {
    use base64::Engine as _;
    let mut pair = SecretBuf::with_capacity(user.len() + 1 + password.len());
    pair.extend(user.as_bytes());
    pair.extend(b":");
    pair.extend(password.as_bytes());
    let engine = &base64::engine::general_purpose::STANDARD;
    let mut encoded = vec![0; base64::encoded_len(pair.len(), true).unwrap_or(0)];
    let written = engine
        .encode_slice(pair.as_slice(), &mut encoded)
        .unwrap_or(0);
    let mut value = SecretBuf::with_capacity("Basic ".len() + written);
    value.extend(b"Basic ");
    value.extend(&encoded[..written]);
    encoded.zeroize();
    // "Basic " and base64: always a valid header value.
    sensitive_header(value).unwrap_or_else(|| reqwest::header::HeaderValue::from_static(""))
}

/// `request` with `name` set to `value`, replacing any value it already had: reqwest's
/// `RequestBuilder::header` appends, so a request built with its own `Authorization`
/// would leave with two.
///
/// ```
/// use adauth_core::reqwest::header::{AUTHORIZATION, HeaderValue};
/// let client = adauth_core::reqwest::Client::new();
/// let request = client.get("https://example.com").header(AUTHORIZATION, "Bearer theirs");
/// let request = adauth_core::http::set_header(request, AUTHORIZATION, HeaderValue::from_static("Bearer ours"))
///     .build()
///     .unwrap();
/// let values: Vec<_> = request.headers().get_all(AUTHORIZATION).iter().collect();
/// assert_eq!(values, ["Bearer ours"]);
/// ```
pub fn set_header(
    request: RequestBuilder,
    name: reqwest::header::HeaderName,
    value: reqwest::header::HeaderValue,
) -> RequestBuilder {
    // `headers` replaces the values of the names it is given.
    let mut map = HeaderMap::with_capacity(1);
    map.insert(name, value);
    request.headers(map)
}

/// A header value of `bytes`, marked sensitive, that zeroizes its memory when dropped;
/// `None` (wiped) if the bytes cannot be a header value.
pub(crate) fn sensitive_header(bytes: SecretBuf) -> Option<reqwest::header::HeaderValue> {
    let mut value = reqwest::header::HeaderValue::from_maybe_shared(bytes.into_bytes()).ok()?;
    value.set_sensitive(true);
    Some(value)
}

pub(crate) fn transport_error(provider: &str, e: reqwest::Error) -> Error {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else if e.is_builder() {
        ErrorKind::Configuration
    } else {
        ErrorKind::Transport
    };
    let message = match kind {
        ErrorKind::Timeout => "the request timed out",
        ErrorKind::Configuration => "the request could not be built",
        _ if e.is_connect() => "could not connect",
        _ => "the request failed",
    };
    Error::new(provider.to_owned(), kind)
        .with_message(message)
        .with_source(e)
}

/// A provider's answer, read in full (up to the size cap).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    sent_at: SystemTime,
}

/// The error fields of an OAuth-style error body, as far as they could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderError {
    /// The error code (`error`, or a numeric `error_code` when `error` is absent).
    pub code: Option<String>,
    /// The description (`error_description`, `message`, `error_message` or `errmsg`).
    pub description: Option<String>,
}

impl HttpResponse {
    /// Builds a response by hand, for tests and custom transports.
    pub fn new(status: StatusCode, headers: HeaderMap, body: Bytes, sent_at: SystemTime) -> Self {
        Self {
            status,
            headers,
            body,
            sent_at,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The moment just before the request that got this answer was sent: the instant a
    /// token's lifetime counts from.
    pub fn sent_at(&self) -> SystemTime {
        self.sent_at
    }

    /// The `Content-Type` header, if present and readable.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE)?.to_str().ok()
    }

    /// Whether the content type is JSON (`application/json` or any `+json` type).
    pub fn is_json(&self) -> bool {
        self.content_type().is_some_and(|ct| {
            let essence = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        })
    }

    /// The delay asked for by a `Retry-After` header (seconds or an HTTP date).
    pub fn retry_after(&self, now: SystemTime) -> Option<Duration> {
        let value = self.headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
        if let Ok(secs) = value.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        let at = httpdate::parse_http_date(value).ok()?;
        Some(at.duration_since(now).unwrap_or(Duration::ZERO))
    }

    /// Parses a JSON body into `T`, whatever the status.
    ///
    /// A body is read as JSON whatever its content type says (servers label JSON
    /// `text/plain` or `text/html`); one that is not valid JSON or does not have the
    /// expected shape is an [`ErrorKind::UnexpectedResponse`] error with the status, the
    /// content type and a redacted excerpt (an HTML page: "expected a JSON body, got
    /// \"text/html\""). The error never quotes a field's value.
    pub fn json<T: DeserializeOwned>(&self, provider: &str) -> Result<T> {
        self.json_seed(provider, std::marker::PhantomData::<T>)
    }

    /// As [`json`](Self::json), with a [`DeserializeSeed`](serde::de::DeserializeSeed):
    /// for a reader configured at run time (see
    /// [`EndpointSpec::read_token`](crate::endpoint::EndpointSpec::read_token)).
    pub fn json_seed<'de, S: serde::de::DeserializeSeed<'de>>(
        &'de self,
        provider: &str,
        seed: S,
    ) -> Result<S::Value> {
        let parse = |seed: S| {
            let mut de = serde_json::Deserializer::from_slice(&self.body);
            let value = seed.deserialize(&mut de)?;
            de.end().map(|()| value)
        };
        let fail = |why: Cow<'static, str>| {
            Error::unexpected(provider.to_owned(), why)
                .with_status(self.status)
                .with_body(self.content_type(), &self.body)
        };
        if !self.is_json() {
            // Servers mislabel JSON (`text/plain`, `text/html`): read it when it parses.
            return parse(seed).map_err(|_| {
                fail(
                    match self.content_type() {
                        Some(ct) => format!("expected a JSON body, got {ct:?}"),
                        None => "expected a JSON body, got no content type".to_owned(),
                    }
                    .into(),
                )
            });
        }
        parse(seed).map_err(|e| {
            fail(match e.classify() {
                serde_json::error::Category::Eof => "the JSON body is truncated".into(),
                serde_json::error::Category::Syntax => "the body is not valid JSON".into(),
                _ => {
                    let text = e.to_string();
                    // serde's messages may quote the offending value; only "missing field"
                    // ones are known to be safe to repeat.
                    if text.starts_with("missing field") {
                        format!("the JSON body lacks a field: {text}").into()
                    } else {
                        format!(
                            "the JSON body does not have the expected shape (line {}, column {})",
                            e.line(),
                            e.column()
                        )
                        .into()
                    }
                }
            })
        })
    }

    /// Parses a 2xx JSON body into `T`; any other status becomes the error that
    /// [`into_error`](Self::into_error) makes.
    pub fn success_json<T: DeserializeOwned>(&self, provider: &str) -> Result<T> {
        self.success_json_with(provider, classify)
    }

    /// Parses a 2xx JSON body into `T`; any other status becomes the error that
    /// [`error_with`](Self::error_with) makes with `classify`.
    pub fn success_json_with<T: DeserializeOwned>(
        &self,
        provider: &str,
        classify: impl Fn(StatusCode, Option<&str>) -> ErrorKind,
    ) -> Result<T> {
        if self.reports_error() {
            Err(self.error_with(provider, classify))
        } else {
            self.json(provider)
        }
    }

    /// Whether this answer reports an error: any status other than 2xx, or a 2xx whose
    /// JSON body is an OAuth error (`{"error": "invalid_grant", ...}` with no access token),
    /// as some servers send. Token endpoints check this before parsing a token.
    pub fn reports_error(&self) -> bool {
        if !self.status.is_success() {
            return true;
        }
        // Cheap first: most token answers never mention an error.
        if memchr::memmem::find(&self.body, b"\"error\"").is_none() {
            return false;
        }
        let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(&self.body) else {
            return false;
        };
        let error = object.get("error").is_some_and(|e| match e {
            serde_json::Value::String(code) => !code.is_empty(),
            serde_json::Value::Object(_) => true,
            _ => false,
        });
        error && !object.contains_key("access_token") && !object.contains_key("accessToken")
    }

    /// Reads an OAuth-style error body: `{"error": "...", "error_description": "..."}` and
    /// the common variants of it. `None` when the body is not a JSON object.
    pub fn provider_error(&self) -> Option<ProviderError> {
        let value: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        let object = value.as_object()?;
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let mut code = object.get("error").and_then(text);
        let mut description = ["error_description", "message", "error_message", "errmsg"]
            .iter()
            .find_map(|k| object.get(*k).and_then(text));
        // `{"error": {"code": ..., "message": ...}}`
        if let Some(nested) = object.get("error").and_then(|e| e.as_object()) {
            code = code.or_else(|| nested.get("code").and_then(text));
            description = description.or_else(|| nested.get("message").and_then(text));
        }
        code = code.or_else(|| object.get("error_code").and_then(text));
        Some(ProviderError { code, description })
    }

    /// The error this answer stands for, classified by [`classify`].
    pub fn into_error(&self, provider: &str) -> Error {
        self.error_with(provider, classify)
    }

    /// The error this answer stands for, with a provider-specific classification of
    /// (status, provider error code) pairs.
    pub fn error_with(
        &self,
        provider: &str,
        classify: impl Fn(StatusCode, Option<&str>) -> ErrorKind,
    ) -> Error {
        let parsed = self.provider_error().unwrap_or_default();
        let kind = classify(self.status, parsed.code.as_deref());
        let mut err = Error::new(provider.to_owned(), kind)
            .with_status(self.status)
            .with_body(self.content_type(), &self.body);
        if let Some(code) = parsed.code {
            err = err.with_code(code);
        }
        if let Some(desc) = parsed.description {
            err = err.with_description(desc);
        }
        if let Some(delay) = self.retry_after(self.sent_at) {
            err = err.with_retry_after(delay);
        }
        if self.status.is_redirection() {
            // Shown without its query, fragment or user information: a redirect may carry
            // a code or a token (`?code=...`, `#access_token=...`).
            let to = self
                .headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map_or_else(|| "an unknown location".to_owned(), redact_unparsed);
            err = err.with_message(format!("redirect to {to} not followed"));
        }
        err
    }
}

/// OAuth error codes that mean the credentials or grant were refused.
const CREDENTIAL_CODES: &[&str] = &[
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "access_denied",
    "invalid_token",
    "unauthorized",
];

/// OAuth error codes that mean the request itself was refused.
const REQUEST_CODES: &[&str] = &[
    "invalid_request",
    "unsupported_grant_type",
    "invalid_scope",
    "unsupported_response_type",
];

/// The default classification of an error answer:
///
/// | status / code | kind |
/// |---|---|
/// | 429 | [`RateLimited`](ErrorKind::RateLimited) |
/// | 5xx, and the OAuth codes `server_error` and `temporarily_unavailable` at any status | [`ProviderUnavailable`](ErrorKind::ProviderUnavailable) |
/// | `invalid_client`, `invalid_grant`, `unauthorized_client`, `access_denied`, `invalid_token`, `unauthorized` | [`CredentialsRejected`](ErrorKind::CredentialsRejected) |
/// | `invalid_request`, `unsupported_grant_type`, `invalid_scope`, `unsupported_response_type` | [`RequestRejected`](ErrorKind::RequestRejected) |
/// | 401, 403 | [`CredentialsRejected`](ErrorKind::CredentialsRejected) |
/// | 400, 405, 409, 411, 413, 415, 422 | [`RequestRejected`](ErrorKind::RequestRejected) |
/// | anything else (redirects, 404, a 2xx that is an error) | [`UnexpectedResponse`](ErrorKind::UnexpectedResponse) |
pub fn classify(status: StatusCode, code: Option<&str>) -> ErrorKind {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return ErrorKind::RateLimited;
    }
    if status.is_server_error() {
        return ErrorKind::ProviderUnavailable;
    }
    if let Some(code) = code.map(str::to_ascii_lowercase) {
        if matches!(code.as_str(), "server_error" | "temporarily_unavailable") {
            return ErrorKind::ProviderUnavailable;
        }
        if CREDENTIAL_CODES.contains(&code.as_str()) {
            return ErrorKind::CredentialsRejected;
        }
        if REQUEST_CODES.contains(&code.as_str()) {
            return ErrorKind::RequestRejected;
        }
    }
    match status.as_u16() {
        401 | 403 => ErrorKind::CredentialsRejected,
        400 | 405 | 409 | 411 | 413 | 415 | 422 => ErrorKind::RequestRejected,
        _ => ErrorKind::UnexpectedResponse,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn response(status: u16, ct: Option<&str>, body: &str) -> HttpResponse {
        let mut headers = HeaderMap::new();
        if let Some(ct) = ct {
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        }
        HttpResponse::new(
            StatusCode::from_u16(status).unwrap(),
            headers,
            Bytes::from(body.to_owned()),
            SystemTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn endpoints_require_https_except_for_loopback() {
        for ok in [
            "https://api.example.com",
            "http://localhost:8080/x",
            "http://127.0.0.1:1/",
            "http://127.1.2.3/",
            "http://[::1]:9/",
        ] {
            assert!(parse_endpoint("p", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.example.com",
            "http://10.0.0.1/",
            "http://localhost.evil.com/",
            "ftp://localhost/",
            "https://user:pw@api.example.com/",
            "https://api.example.com/#frag",
            "not a url",
        ] {
            let err = parse_endpoint("p", bad).unwrap_err();
            assert!(err.is_configuration(), "{bad}");
            assert!(!err.to_string().contains("pw@"), "{err}");
        }
    }

    #[test]
    fn a_malformed_url_is_never_quoted_with_its_password() {
        for bad in [
            "https://user:CANARY-pw@exa mple.com/",
            "https://CANARY-pw@[::1/",
            "ht tp://user:CANARY-pw@host/",
        ] {
            let err = parse_endpoint("p", bad).unwrap_err();
            assert!(err.is_configuration(), "{bad}");
            assert!(!err.to_string().contains("CANARY"), "{err}");
            assert!(!format!("{err:?}").contains("CANARY"), "{err:?}");
        }
        let long = format!("https://{}", "x".repeat(120 * 1024));
        let err = parse_endpoint("p", &format!("{long} y")).unwrap_err();
        assert!(
            err.to_string().len() < 1000,
            "{} bytes",
            err.to_string().len()
        );
    }

    #[test]
    fn a_redirect_is_named_without_its_query_or_fragment() {
        let mut r = response(302, None, "");
        r.headers.insert(
            LOCATION,
            HeaderValue::from_static(
                "https://user:CANARY@evil.example/cb?code=CANARY-code&access_token=CANARY#access_token=CANARY",
            ),
        );
        let text = r.into_error("p").to_string();
        assert!(!text.contains("CANARY"), "{text}");
        assert!(
            text.contains("redirect to https://[redacted]@evil.example/cb not followed"),
            "{text}"
        );
    }

    #[test]
    fn join_keeps_prefixes() {
        let base = Url::parse("http://127.0.0.1:1/fake").unwrap();
        assert_eq!(
            join_path("p", &base, "/auth/v1/token").unwrap().as_str(),
            "http://127.0.0.1:1/fake/auth/v1/token"
        );
        let base = Url::parse("https://reporting.fyber.com/").unwrap();
        assert_eq!(
            join_path("p", &base, "/auth/v1/token").unwrap().as_str(),
            "https://reporting.fyber.com/auth/v1/token"
        );
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

    #[test]
    fn classification() {
        let s = |n| StatusCode::from_u16(n).unwrap();
        assert_eq!(classify(s(429), None), ErrorKind::RateLimited);
        assert_eq!(
            classify(s(500), Some("internal_server_error")),
            ErrorKind::ProviderUnavailable
        );
        assert_eq!(
            classify(s(400), Some("invalid_client")),
            ErrorKind::CredentialsRejected
        );
        assert_eq!(
            classify(s(400), Some("invalid_request")),
            ErrorKind::RequestRejected
        );
        assert_eq!(classify(s(401), None), ErrorKind::CredentialsRejected);
        assert_eq!(classify(s(404), None), ErrorKind::UnexpectedResponse);
        assert_eq!(
            classify(s(400), Some("temporarily_unavailable")),
            ErrorKind::ProviderUnavailable
        );
        assert_eq!(classify(s(302), None), ErrorKind::UnexpectedResponse);
    }

    #[test]
    fn provider_error_variants() {
        let r = response(
            400,
            Some("application/json"),
            r#"{"error":"invalid_client","error_description":"nope"}"#,
        );
        assert_eq!(
            r.provider_error(),
            Some(ProviderError {
                code: Some("invalid_client".into()),
                description: Some("nope".into())
            })
        );
        let r = response(
            401,
            Some("application/json"),
            r#"{"message":"Unauthenticated."}"#,
        );
        assert_eq!(
            r.provider_error().unwrap().description.as_deref(),
            Some("Unauthenticated.")
        );
        let r = response(
            400,
            Some("application/json"),
            r#"{"error":{"code":7,"message":"m"}}"#,
        );
        assert_eq!(r.provider_error().unwrap().code.as_deref(), Some("7"));
        let r = response(400, Some("application/json"), r#"{"error_code":6}"#);
        assert_eq!(r.provider_error().unwrap().code.as_deref(), Some("6"));
        assert_eq!(
            response(502, Some("text/html"), "<html>").provider_error(),
            None
        );
    }

    #[test]
    fn json_errors_are_clear_and_never_quote_values() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct W {
            access_token: u64,
        }
        let e = response(200, Some("text/html; charset=utf-8"), "<html>hi</html>")
            .json::<W>("p")
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("expected a JSON body, got \"text/html; charset=utf-8\""),
            "{e}"
        );
        let e = response(200, Some("application/json"), r#"{"access_token": 1"#)
            .json::<W>("p")
            .unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        // JSON is JSON whatever its label (issue 11, item 6).
        for label in [Some("text/plain"), Some("text/html; charset=utf-8"), None] {
            let w = response(200, label, r#"{"access_token": 7}"#).json::<W>("p");
            assert_eq!(w.unwrap().access_token, 7, "{label:?}");
        }
        let e = response(200, Some("application/json"), r#"{"x": 1}"#)
            .json::<W>("p")
            .unwrap_err();
        assert!(
            e.to_string().contains("missing field `access_token`"),
            "{e}"
        );
        let e = response(
            200,
            Some("application/json"),
            r#"{"access_token": "SECRETVALUE"}"#,
        )
        .json::<W>("p")
        .unwrap_err();
        assert!(!e.to_string().contains("SECRETVALUE"), "{e}");
        assert!(
            response(
                200,
                Some("application/problem+json"),
                r#"{"access_token":1}"#
            )
            .json::<W>("p")
            .is_ok()
        );
    }

    #[test]
    fn an_oauth_error_in_a_2xx_answer_is_that_error() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct W {
            access_token: String,
        }
        let r = response(
            200,
            Some("application/json"),
            r#"{"error":"invalid_grant","error_description":"Wrong email or password."}"#,
        );
        assert!(r.reports_error());
        let e = r.success_json::<W>("p").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CredentialsRejected);
        assert_eq!(e.status(), Some(StatusCode::OK));
        assert_eq!(e.code(), Some("invalid_grant"));
        assert_eq!(e.description(), Some("Wrong email or password."));
        assert!(!e.to_string().contains("missing field"), "{e}");
        let r = response(200, Some("application/json"), r#"{"error":"slow_down"}"#);
        assert_eq!(
            r.success_json::<W>("p").unwrap_err().kind(),
            ErrorKind::UnexpectedResponse
        );
        // A token that happens to carry an `error` member, and empty or null errors, are
        // tokens.
        for ok in [
            r#"{"access_token":"t","error":"none"}"#,
            r#"{"access_token":"t","error":""}"#,
            r#"{"access_token":"t","error":null}"#,
        ] {
            let r = response(200, Some("application/json"), ok);
            assert!(!r.reports_error(), "{ok}");
            assert!(r.success_json::<W>("p").is_ok(), "{ok}");
        }
        assert!(!response(200, Some("text/html"), "<p>\"error\"</p>").reports_error());
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut r = response(429, None, "");
        r.headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(
            r.retry_after(SystemTime::UNIX_EPOCH),
            Some(Duration::from_secs(7))
        );
        r.headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Thu, 01 Jan 1970 00:01:00 GMT"),
        );
        assert_eq!(
            r.retry_after(SystemTime::UNIX_EPOCH),
            Some(Duration::from_secs(60))
        );
        let err = r.into_error("p");
        assert!(err.is_rate_limited());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    }
}
