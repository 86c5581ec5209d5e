//! The wire: what a provider crate's requests and answers are made of. Endpoint URLs
//! checked for safety, request bodies that wipe their memory, headers, the answer as read
//! (bounded, redirects refused) and its classification into an [`ErrorKind`].

use std::borrow::Cow;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::secret_buf::{SecretBuf, secret_json};
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::{Host, Url};

use crate::{Error, ErrorKind, Result};

/// `application/json`, the content type of [`json_body`].
pub const JSON: &str = "application/json";

/// `application/x-www-form-urlencoded`, the content type of [`form_body`].
pub const FORM: &str = "application/x-www-form-urlencoded";

/// Parses an endpoint or base URL and checks that it is safe to send credentials to:
/// `https`, or plain `http` only for loopback hosts (`localhost`, `127.0.0.0/8`, `[::1]`).
/// URLs carrying a user name, password or fragment are refused.
///
/// ```
/// use adauth_core::provider_kit::wire::parse_endpoint;
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

/// A URL as a builder takes it (an API host, a token endpoint): text, parsed and checked
/// when the builder builds, or a [`Url`] parsed beforehand and only checked there. An
/// agency building credentials for thousands of accounts on one host parses the host once
/// and gives each builder a clone.
///
/// Either way the URL must pass [`check_endpoint`]; its `Debug` form never shows a user
/// name, password or query.
///
/// ```
/// use adauth_core::provider_kit::wire::UrlSetting;
/// use adauth_core::reqwest::Url;
///
/// let host = Url::parse("https://reporting.fyber.com/").unwrap();
/// assert!(UrlSetting::from(&host).resolve("fyber").is_ok());
/// assert!(UrlSetting::from("https://reporting.fyber.com/").resolve("fyber").is_ok());
/// let err = UrlSetting::from("http://reporting.fyber.com/").resolve("fyber").unwrap_err();
/// assert!(err.is_configuration());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct UrlSetting(UrlRepr);

#[derive(Clone, PartialEq, Eq)]
enum UrlRepr {
    Text(String),
    Parsed(Url),
}

impl UrlSetting {
    /// The URL, parsed if it was given as text, and checked ([`parse_endpoint`],
    /// [`check_endpoint`]).
    pub fn resolve(self, provider: &str) -> Result<Url> {
        match self.0 {
            UrlRepr::Text(text) => parse_endpoint(provider, &text),
            UrlRepr::Parsed(url) => {
                check_endpoint(provider, &url)?;
                Ok(url)
            }
        }
    }

    /// [`resolve`](Self::resolve) of `setting`, or of `default` when there is none.
    pub fn resolve_or(setting: Option<Self>, provider: &str, default: &str) -> Result<Url> {
        match setting {
            Some(setting) => setting.resolve(provider),
            None => parse_endpoint(provider, default),
        }
    }
}

impl From<&str> for UrlSetting {
    fn from(text: &str) -> Self {
        Self(UrlRepr::Text(text.to_owned()))
    }
}

impl From<String> for UrlSetting {
    fn from(text: String) -> Self {
        Self(UrlRepr::Text(text))
    }
}

impl From<&String> for UrlSetting {
    fn from(text: &String) -> Self {
        Self(UrlRepr::Text(text.clone()))
    }
}

impl From<Url> for UrlSetting {
    fn from(url: Url) -> Self {
        Self(UrlRepr::Parsed(url))
    }
}

impl From<&Url> for UrlSetting {
    fn from(url: &Url) -> Self {
        Self(UrlRepr::Parsed(url.clone()))
    }
}

impl std::fmt::Debug for UrlSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = match &self.0 {
            UrlRepr::Text(text) => redact_unparsed(text),
            UrlRepr::Parsed(url) => redact_url(url),
        };
        f.debug_tuple("UrlSetting").field(&shown).finish()
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

/// A URL as it may be shown: without user name, password, query or fragment.
fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
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
///
/// The base's query and fragment are dropped, as a relative reference drops them. The
/// path is set on the parsed base (one path parse, not a parse of the whole URL): a
/// registry builds one endpoint per key.
pub fn join_path(provider: &str, base: &Url, path: &str) -> Result<Url> {
    if path.contains(['?', '#']) {
        return Err(Error::configuration(
            provider.to_owned(),
            format!("cannot join {path:?}: a path with a query or fragment"),
        ));
    }
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    url.set_path(&joined);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// `fields` form-encoded (`application/x-www-form-urlencoded`), as a request body that is
/// zeroized when its last clone is dropped: the buffer never leaves a copy of a secret in
/// freed memory.
///
/// ```
/// let body = adauth_core::provider_kit::wire::form_body(&[("grant_type", "client_credentials"), ("scope", "a b")]);
/// assert_eq!(&body[..], b"grant_type=client_credentials&scope=a+b");
/// ```
pub fn form_body(fields: &[(&str, &str)]) -> Bytes {
    let size = fields.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    form_body_from(fields.iter().copied(), size)
}

/// [`form_body`] of the pairs an iterator yields, in a buffer that starts with room for
/// `capacity` bytes (the length without escapes).
pub(crate) fn form_body_from<N, V>(fields: impl Iterator<Item = (N, V)>, capacity: usize) -> Bytes
where
    N: AsRef<str>,
    V: AsRef<str>,
{
    let mut body = SecretBuf::with_capacity(capacity);
    for (i, (name, value)) in fields.enumerate() {
        if i > 0 {
            body.push(b'&');
        }
        form_encode(&mut body, name.as_ref().as_bytes());
        body.push(b'=');
        form_encode(&mut body, value.as_ref().as_bytes());
    }
    body.into_bytes()
}

/// Appends `text` form-encoded, as `form_urlencoded` writes it (WHATWG URL, section 5.2):
/// the bytes that encoding keeps as they are, a space as `+`, any other byte as `%XX`. Runs
/// of kept bytes (all of the usual ids, grant types and tokens) are copied whole.
fn form_encode(body: &mut SecretBuf, text: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    /// The bytes `application/x-www-form-urlencoded` keeps, as a table: one load per byte.
    const KEPT: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            table[b] = crate::scan::form_plain(b as u8);
            b += 1;
        }
        table
    };
    let mut run = 0;
    for (i, &b) in text.iter().enumerate() {
        if KEPT[usize::from(b)] {
            continue;
        }
        body.extend(&text[run..i]);
        if b == b' ' {
            body.push(b'+');
        } else {
            body.extend(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
        }
        run = i + 1;
    }
    body.extend(&text[run..]);
}

/// Appends `text` as a JSON string, as `serde_json` writes it: whole between quotes when no
/// byte needs an escape (the usual ids, grant types and secrets), otherwise through
/// `serde_json`'s escaping.
pub(crate) fn json_str(body: &mut SecretBuf, text: &str) {
    if crate::scan::every_byte(text.as_bytes(), crate::scan::json_plain) {
        body.push(b'"');
        body.extend(text.as_bytes());
        body.push(b'"');
    } else if serde_json::to_writer(&mut *body, text).is_err() {
        // Writing a string into memory cannot fail.
        body.extend(b"\"\"");
    }
}

/// `value` as a JSON request body that is zeroized when its last clone is dropped.
///
/// ```
/// let body = adauth_core::provider_kit::wire::json_body(&serde_json::json!({"client_id": "c"}));
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
/// let value = adauth_core::provider_kit::wire::basic_authorization("Aladdin", "open sesame");
/// assert_eq!(value, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
/// assert!(value.is_sensitive());
/// ```
pub fn basic_authorization(user: &str, password: &str) -> reqwest::header::HeaderValue {
    let mut pair = SecretBuf::with_capacity(user.len() + 1 + password.len());
    pair.extend(user.as_bytes());
    pair.extend(b":");
    pair.extend(password.as_bytes());
    basic_authorization_of(pair.as_slice())
}

/// `Basic ` and the Base64 of `pair` (`user:password`), encoded in place in a buffer that
/// is wiped when the header is dropped.
fn basic_authorization_of(pair: &[u8]) -> reqwest::header::HeaderValue {
    use base64::Engine as _;
    let encoded_len = base64::encoded_len(pair.len(), true).unwrap_or(0);
    let mut value = SecretBuf::with_capacity("Basic ".len() + encoded_len);
    value.extend(b"Basic ");
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(pair, value.extend_zeroed(encoded_len))
        .unwrap_or(0);
    value.truncate("Basic ".len() + written);
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
/// let request = adauth_core::provider_kit::wire::set_header(request, AUTHORIZATION, HeaderValue::from_static("Bearer ours"))
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

/// A header value of `parts` joined, marked sensitive, built in one buffer that is wiped
/// when the last clone of the value is dropped; `None` (wiped) if the text cannot be a
/// header value (a line break, say). For a credential sent as it is issued, built once and
/// cloned into every request.
///
/// ```
/// let value = adauth_core::provider_kit::wire::sensitive_header_of(&["Basic ", "dG9rZW4="]).unwrap();
/// assert_eq!(value, "Basic dG9rZW4=");
/// assert!(value.is_sensitive());
/// assert!(adauth_core::provider_kit::wire::sensitive_header_of(&["a\nb"]).is_none());
/// ```
pub fn sensitive_header_of(parts: &[&str]) -> Option<reqwest::header::HeaderValue> {
    let mut bytes = SecretBuf::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        bytes.extend(part.as_bytes());
    }
    sensitive_header(bytes)
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
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) sent_at: SystemTime,
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
            let essence = ct.split(';').next().unwrap_or("").trim().as_bytes();
            let suffix = b"+json";
            essence.eq_ignore_ascii_case(b"application/json")
                || (essence.len() >= suffix.len()
                    && essence[essence.len() - suffix.len()..].eq_ignore_ascii_case(suffix))
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
    /// [`EndpointSpec::read_token`](crate::provider_kit::endpoint::EndpointSpec::read_token)).
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
        static ERROR_KEY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"error\""));
        if ERROR_KEY.find(&self.body).is_none() {
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { failure_persistence: None, ..Default::default() })]

        /// Any text, form-encoded, is byte for byte what `form_urlencoded` writes.
        #[test]
        fn any_text_is_form_encoded_as_form_urlencoded_does(
            name in "\\PC{0,40}|[\\x00-\\x7f]{0,40}",
            value in "\\PC{0,80}|[\\x00-\\x7f]{0,80}|[a-z ]{0,80}",
        ) {
            let fields = [(name.as_str(), value.as_str())];
            let expected = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish();
            proptest::prop_assert_eq!(&form_body(&fields)[..], expected.as_bytes());
        }
    }

    /// The form encoding, with its shortcut for text that needs no escape, is byte for
    /// byte `form_urlencoded`'s.
    #[test]
    fn form_bodies_are_encoded_as_form_urlencoded_does() {
        let every_byte: String = (1..=127u8).map(char::from).collect();
        let texts = [
            "",
            "client_credentials",
            "advcampaigns banners websites",
            "a*b-c.d_e~f",
            "p@ss/w+rd=&?#%",
            "пароль é 漢字",
            every_byte.as_str(),
        ];
        for name in texts {
            for value in texts {
                let fields = [("grant_type", "password"), (name, value)];
                let expected = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields)
                    .finish();
                assert_eq!(
                    &form_body(&fields)[..],
                    expected.as_bytes(),
                    "{name:?}={value:?}"
                );
            }
        }
    }

    /// The Basic header, encoded in place, is RFC 7617's example.
    #[test]
    fn the_basic_header_is_rfc_7617s() {
        let value = basic_authorization("Aladdin", "open sesame");
        assert_eq!(
            value.to_str().unwrap(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert!(value.is_sensitive());
        for (user, password) in [
            ("", ""),
            ("a", ""),
            ("ab", "c"),
            ("id", "a much longer secret"),
        ] {
            use base64::Engine as _;
            let expected =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            assert_eq!(
                basic_authorization(user, password).to_str().unwrap(),
                format!("Basic {expected}")
            );
        }
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
    fn a_parsed_url_setting_passes_the_same_checks_as_text() {
        for (text, ok) in [
            ("https://api.example.com/", true),
            ("http://127.0.0.1:1/prefix", true),
            ("http://api.example.com/", false),
            ("https://user:pw@api.example.com/", false),
            ("https://api.example.com/#frag", false),
            ("ftp://localhost/", false),
        ] {
            let url = Url::parse(text).unwrap();
            for setting in [
                UrlSetting::from(text),
                UrlSetting::from(&url),
                UrlSetting::from(url.clone()),
            ] {
                let resolved = setting.clone().resolve("p");
                assert_eq!(resolved.is_ok(), ok, "{setting:?}");
                match resolved {
                    Ok(resolved) => assert_eq!(resolved, url),
                    Err(e) => {
                        assert!(e.is_configuration(), "{e}");
                        assert!(!e.to_string().contains("pw"), "{e}");
                    }
                }
            }
        }
        let default = UrlSetting::resolve_or(None, "p", "https://default.example.com/").unwrap();
        assert_eq!(default.as_str(), "https://default.example.com/");
        let given =
            UrlSetting::resolve_or(Some("http://[::1]:9/".into()), "p", "https://x.example/");
        assert_eq!(given.unwrap().as_str(), "http://[::1]:9/");
    }

    #[test]
    fn a_refused_url_is_named_without_its_query() {
        let text = "http://api.example.com/v1?key=CANARY-KEY";
        for setting in [
            UrlSetting::from(text),
            UrlSetting::from(Url::parse(text).unwrap()),
        ] {
            let err = setting.resolve("p").unwrap_err().to_string();
            assert!(!err.contains("CANARY"), "{err}");
            assert!(err.contains("api.example.com"), "{err}");
        }
    }

    #[test]
    fn a_url_setting_never_shows_a_password_or_query() {
        let text = "https://agency:CANARY-PW@api.example.com/v1?key=CANARY-KEY";
        for setting in [
            UrlSetting::from(text),
            UrlSetting::from(Url::parse(text).unwrap()),
        ] {
            let shown = format!("{setting:?}");
            assert!(!shown.contains("CANARY"), "{shown}");
            assert!(shown.contains("api.example.com"), "{shown}");
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
        // (base, path, joined): a prefix, a bare host with and without a slash, and a
        // prefix with a trailing slash and a query on the base, joined to a path ending in `/`.
        let cases = [
            (
                "http://127.0.0.1:1/fake",
                "/auth/v1/token",
                "http://127.0.0.1:1/fake/auth/v1/token",
            ),
            (
                "https://reporting.fyber.com/",
                "/auth/v1/token",
                "https://reporting.fyber.com/auth/v1/token",
            ),
            (
                "https://reporting.fyber.com",
                "auth/v1/token",
                "https://reporting.fyber.com/auth/v1/token",
            ),
            (
                "https://api.example/gateway/v2/?x=1",
                "/token/",
                "https://api.example/gateway/v2/token/",
            ),
        ];
        for (base, path, joined) in cases {
            let base = Url::parse(base).unwrap();
            assert_eq!(join_path("p", &base, path).unwrap().as_str(), joined);
        }
        let base = Url::parse("https://api.example/gateway/v2/").unwrap();
        let err = join_path("p", &base, "/token?a=1").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Configuration);
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
    fn json_content_types_are_told_apart_whatever_their_case_and_parameters() {
        for (content_type, json) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            (" application/json ;charset=utf-8", true),
            ("application/problem+json", true),
            ("application/VND.API+JSON", true),
            ("application/jsonp", false),
            ("text/html", false),
            ("json", false),
            ("+json", true),
            ("", false),
        ] {
            assert_eq!(
                response(200, Some(content_type), "{}").is_json(),
                json,
                "{content_type:?}"
            );
        }
        assert!(!response(200, None, "{}").is_json());
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
