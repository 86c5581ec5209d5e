//! The plumbing every fake shares: the token store, its counters and injected faults, and
//! helpers to read requests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use axum::http::{HeaderMap, StatusCode, header};

/// An access token the fake issued.
struct Access {
    expires_at: Instant,
    revoked: bool,
    /// Who it was issued to (Mediago: the API token), for "a new token revokes the old".
    owner: String,
}

/// What happened to a refresh token the fake issued.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RefreshState {
    Live,
    /// Exchanged once already: presenting it again is a reuse.
    Rotated,
    Revoked,
}

struct Refresh {
    state: RefreshState,
    /// What the refresh token was issued with (Admitad and MediaMath: the scope).
    scope: String,
}

/// Why [`Store::rotate_refresh`] refuses a refresh grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefused {
    /// The request has no refresh token.
    Missing,
    /// The refresh token is unknown, revoked or already used.
    Spent,
}

/// The result of presenting a refresh token.
pub enum RefreshCheck {
    /// A live refresh token, now rotated; carries the scope it was issued with.
    Rotated(String),
    /// One that was already exchanged (counted in `refresh_token_reuses`).
    Reused,
    /// Unknown or revoked.
    Unknown,
}

/// Why an access token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No bearer token in the request.
    Missing,
    /// A token this fake never issued.
    Unknown,
    /// A token whose lifetime is over.
    Expired,
    /// A token revoked by a newer one or by the test.
    Revoked,
}

impl Refusal {
    /// The refusal in words, for an error description.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Missing => "no access token in the request",
            Self::Unknown => "the access token is unknown",
            Self::Expired => "the access token has expired",
            Self::Revoked => "the access token has been revoked",
        }
    }
}

#[derive(Default)]
struct Tokens {
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    /// MediaMath's `adama_session` ids and the access token each belongs to.
    sessions: HashMap<String, String>,
    /// Authorization codes not yet exchanged.
    codes: HashMap<String, CodeGrant>,
}

/// What an authorization code was issued for, as [`Store::issue_code`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeGrant {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI of the authorization request; the exchange must send the same.
    pub redirect_uri: String,
    /// The scope asked for.
    pub scope: String,
    /// The PKCE `code_challenge` (S256), when the request had one.
    pub code_challenge: Option<String>,
}

/// One fake's state: tokens, counters, the configured lifetime and injected failures.
pub struct Store {
    provider: &'static str,
    tokens: Mutex<Tokens>,
    lifetime: Mutex<Duration>,
    fail: Mutex<(usize, u16)>,
    retry_after: Mutex<Option<Duration>>,
    delay: Mutex<Duration>,
    withhold_lifetime: AtomicBool,
    json_label: Mutex<Option<&'static str>>,
    expires_in: Mutex<Option<serde_json::Value>>,
    token_cap: Mutex<Option<usize>>,
    pub(crate) token_requests: AtomicUsize,
    pub(crate) protected_requests: AtomicUsize,
    pub(crate) unauthorized: AtomicUsize,
    pub(crate) issued: AtomicUsize,
    pub(crate) refresh_token_reuses: AtomicUsize,
}

impl Store {
    /// A store whose tokens are named after `provider` and live for `lifetime`.
    pub fn new(provider: &'static str, lifetime: Duration) -> Self {
        Self {
            provider,
            tokens: Mutex::default(),
            lifetime: Mutex::new(lifetime),
            fail: Mutex::new((0, 500)),
            retry_after: Mutex::new(None),
            delay: Mutex::new(Duration::ZERO),
            withhold_lifetime: AtomicBool::new(false),
            json_label: Mutex::new(None),
            expires_in: Mutex::new(None),
            token_cap: Mutex::new(None),
            token_requests: AtomicUsize::new(0),
            protected_requests: AtomicUsize::new(0),
            unauthorized: AtomicUsize::new(0),
            issued: AtomicUsize::new(0),
            refresh_token_reuses: AtomicUsize::new(0),
        }
    }

    fn tokens(&self) -> std::sync::MutexGuard<'_, Tokens> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The lifetime of tokens issued from now on.
    pub fn lifetime(&self) -> Duration {
        *self.lifetime.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the lifetime of tokens issued from now on.
    pub fn set_lifetime(&self, lifetime: Duration) {
        *self.lifetime.lock().unwrap_or_else(|e| e.into_inner()) = lifetime;
    }

    /// The lifetime as the `expires_in` the fakes answer: `null` while it is withheld.
    pub fn expires_in(&self) -> serde_json::Value {
        if let Some(value) = &*self.expires_in.lock().unwrap_or_else(|e| e.into_inner()) {
            return value.clone();
        }
        if self.withhold_lifetime.load(Ordering::SeqCst) {
            serde_json::Value::Null
        } else {
            self.lifetime().as_secs().into()
        }
    }

    /// Answers `value` as every token's lifetime (`None`: the configured one).
    pub fn set_expires_in(&self, value: Option<serde_json::Value>) {
        *self.expires_in.lock().unwrap_or_else(|e| e.into_inner()) = value;
    }

    /// Labels JSON answers with `label` instead of `application/json` (`None`: don't).
    pub fn set_json_label(&self, label: Option<&'static str>) {
        *self.json_label.lock().unwrap_or_else(|e| e.into_inner()) = label;
    }

    /// Whether answers leave out the token's lifetime.
    pub fn withholds_lifetime(&self) -> bool {
        self.withhold_lifetime.load(Ordering::SeqCst)
    }

    /// Makes answers leave out the token's lifetime (or not).
    pub fn set_withhold_lifetime(&self, yes: bool) {
        self.withhold_lifetime.store(yes, Ordering::SeqCst);
    }

    /// Fails the next `count` token requests with `status`.
    pub fn fail_next(&self, count: usize, status: u16) {
        *self.fail.lock().unwrap_or_else(|e| e.into_inner()) = (count, status);
    }

    /// Sends `Retry-After` with 429 and 5xx answers (or not).
    pub fn set_retry_after(&self, after: Option<Duration>) {
        *self.retry_after.lock().unwrap_or_else(|e| e.into_inner()) = after;
    }

    /// Holds each token request for `delay` before answering.
    pub fn delay_tokens(&self, delay: Duration) {
        *self.delay.lock().unwrap_or_else(|e| e.into_inner()) = delay;
    }

    /// Counts a token request, holds it for the configured delay, and says whether it must
    /// fail, and with which status.
    pub async fn token_request(&self) -> Option<StatusCode> {
        self.token_requests.fetch_add(1, Ordering::SeqCst);
        let delay = *self.delay.lock().unwrap_or_else(|e| e.into_inner());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut fail = self.fail.lock().unwrap_or_else(|e| e.into_inner());
        if fail.0 == 0 {
            return None;
        }
        fail.0 -= 1;
        Some(StatusCode::from_u16(fail.1).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
    }

    /// A new unique value: `fake-<provider>-<kind>-<n>-<random hex>`.
    fn unique(&self, kind: &str, n: usize) -> String {
        format!(
            "fake-{}-{kind}-{n}-{:016x}{:016x}",
            self.provider,
            fastrand::u64(..),
            fastrand::u64(..)
        )
    }

    /// Issues an access token to `owner`, valid for the configured lifetime.
    pub fn issue(&self, owner: &str) -> String {
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let token = self.unique("access", n);
        let expires_at = Instant::now() + self.lifetime();
        self.tokens().access.insert(
            token.clone(),
            Access {
                expires_at,
                revoked: false,
                owner: owner.to_owned(),
            },
        );
        token
    }

    /// Revokes every live access token of `owner` (Mediago: one token per API token).
    pub fn revoke_owner(&self, owner: &str) {
        for access in self.tokens().access.values_mut() {
            if access.owner == owner {
                access.revoked = true;
            }
        }
    }

    /// Issues a refresh token that remembers `scope`.
    pub fn issue_refresh(&self, scope: &str) -> String {
        let mut tokens = self.tokens();
        let token = self.unique("refresh", tokens.refresh.len() + 1);
        tokens.refresh.insert(
            token.clone(),
            Refresh {
                state: RefreshState::Live,
                scope: scope.to_owned(),
            },
        );
        token
    }

    /// Exchanges a refresh token: a live one is rotated (it will not work again).
    pub fn use_refresh(&self, token: &str) -> RefreshCheck {
        let mut tokens = self.tokens();
        match tokens.refresh.get_mut(token) {
            Some(r) if r.state == RefreshState::Live => {
                r.state = RefreshState::Rotated;
                RefreshCheck::Rotated(r.scope.clone())
            }
            Some(r) if r.state == RefreshState::Rotated => {
                self.refresh_token_reuses.fetch_add(1, Ordering::SeqCst);
                RefreshCheck::Reused
            }
            _ => RefreshCheck::Unknown,
        }
    }

    /// As [`use_refresh`](Self::use_refresh), for a refresh grant that answers "issued",
    /// "missing" or "refused": the scope of a live refresh token, now rotated, or why it is
    /// refused (a reuse is counted).
    pub fn rotate_refresh(&self, token: Option<&str>) -> Result<String, RefreshRefused> {
        match self.use_refresh(token.ok_or(RefreshRefused::Missing)?) {
            RefreshCheck::Rotated(scope) => Ok(scope),
            RefreshCheck::Reused | RefreshCheck::Unknown => Err(RefreshRefused::Spent),
        }
    }

    /// Checks an access token (without counting anything).
    pub fn check(&self, token: Option<&str>) -> Result<(), Refusal> {
        let token = token.ok_or(Refusal::Missing)?;
        let tokens = self.tokens();
        let access = tokens.access.get(token).ok_or(Refusal::Unknown)?;
        if access.revoked {
            Err(Refusal::Revoked)
        } else if Instant::now() >= access.expires_at {
            Err(Refusal::Expired)
        } else {
            Ok(())
        }
    }

    /// Who an access token was issued to ([`issue`](Self::issue)'s `owner`).
    pub fn owner_of(&self, token: &str) -> Option<String> {
        self.tokens().access.get(token).map(|a| a.owner.clone())
    }

    /// The wall-clock expiry of a live access token.
    pub fn expires_at(&self, token: &str) -> Option<SystemTime> {
        let tokens = self.tokens();
        let left = tokens
            .access
            .get(token)?
            .expires_at
            .saturating_duration_since(Instant::now());
        Some(SystemTime::now() + left)
    }

    /// Counts a protected request and checks its bearer token; a refusal counts as a 401.
    pub fn protected(&self, headers: &HeaderMap) -> Result<String, Refusal> {
        self.protected_requests.fetch_add(1, Ordering::SeqCst);
        let token = bearer(headers);
        match self.check(token) {
            Ok(()) => Ok(token.unwrap_or_default().to_owned()),
            Err(refusal) => {
                self.unauthorized.fetch_add(1, Ordering::SeqCst);
                Err(refusal)
            }
        }
    }

    /// Counts a 401 decided by the provider module (MediaMath's missing session).
    pub fn count_unauthorized(&self) {
        self.unauthorized.fetch_add(1, Ordering::SeqCst);
    }

    /// Opens a session for `access_token` and returns its id.
    pub fn open_session(&self, access_token: &str) -> String {
        let mut tokens = self.tokens();
        let id = self.unique("session", tokens.sessions.len() + 1);
        tokens.sessions.insert(id.clone(), access_token.to_owned());
        id
    }

    /// Whether session `id` belongs to `access_token`.
    pub fn session_of(&self, id: &str, access_token: &str) -> bool {
        self.tokens()
            .sessions
            .get(id)
            .is_some_and(|owner| owner == access_token)
    }

    /// Issues a one-time authorization code for `grant`.
    pub fn issue_code(&self, grant: CodeGrant) -> String {
        let mut tokens = self.tokens();
        let code = self.unique("code", tokens.codes.len() + 1);
        tokens.codes.insert(code.clone(), grant);
        code
    }

    /// Takes an authorization code: what it was issued for, once; `None` for an unknown or
    /// spent code.
    pub fn use_code(&self, code: &str) -> Option<CodeGrant> {
        self.tokens().codes.remove(code)
    }

    /// Caps how many live access tokens one owner may hold, as a provider that caps tokens
    /// per application does (`None`, the default: no cap).
    pub fn set_token_cap(&self, cap: Option<usize>) {
        *self.token_cap.lock().unwrap_or_else(|e| e.into_inner()) = cap;
    }

    /// Whether `owner` holds as many live access tokens as the cap allows.
    pub fn at_token_cap(&self, owner: &str) -> bool {
        let Some(cap) = *self.token_cap.lock().unwrap_or_else(|e| e.into_inner()) else {
            return false;
        };
        let now = Instant::now();
        let live = self
            .tokens()
            .access
            .values()
            .filter(|a| a.owner == owner && !a.revoked && a.expires_at > now)
            .count();
        live >= cap
    }

    /// Every access token stops working.
    pub fn revoke_all(&self) {
        for access in self.tokens().access.values_mut() {
            access.revoked = true;
        }
    }

    /// Every refresh token stops working.
    pub fn revoke_refresh_tokens(&self) {
        for refresh in self.tokens().refresh.values_mut() {
            refresh.state = RefreshState::Revoked;
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

/// The credentials of an `Authorization: Basic <base64>` header: the raw Base64 text.
pub fn basic(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("basic").then(|| token.trim())
}

/// The Content-Type header, lower-cased, without spaces.
fn content_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.to_ascii_lowercase().replace(' ', ""))
}

/// Whether the content type is `essence`, with at most a UTF-8 charset parameter.
pub fn content_type_is(headers: &HeaderMap, essence: &str) -> bool {
    content_type(headers).is_some_and(|ct| {
        let mut parts = ct.split(';');
        parts.next() == Some(essence)
            && parts.all(|p| p.is_empty() || p == "charset=utf-8" || p == "charset=\"utf-8\"")
    })
}

/// A JSON object body, or `None` if the body is not one.
pub fn json_object(body: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_slice(body).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A form body as fields; `None` if a field repeats or the body is not UTF-8.
pub fn form(body: &[u8]) -> Option<HashMap<String, String>> {
    std::str::from_utf8(body).ok()?;
    let mut fields = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        if fields
            .insert(name.into_owned(), value.into_owned())
            .is_some()
        {
            return None;
        }
    }
    Some(fields)
}

/// A string field of a JSON object: `Err` names the field when it is missing or not a
/// string.
pub fn json_str<'a>(
    object: &'a serde_json::Map<String, serde_json::Value>,
    field: &str,
) -> Result<&'a str, String> {
    match object.get(field) {
        Some(serde_json::Value::String(s)) => Ok(s),
        Some(_) => Err(format!("{field} must be a string")),
        None => Err(format!("{field} is required")),
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            (n.trim() == name).then(|| v.trim())
        })
}

/// Adds the configured `Retry-After` to 429 and 5xx answers.
pub(crate) async fn adjust_response(
    axum::extract::State(store): axum::extract::State<std::sync::Arc<Store>>,
    mut response: axum::response::Response,
) -> axum::response::Response {
    let label = *store.json_label.lock().unwrap_or_else(|e| e.into_inner());
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"application/json"));
    if let Some(label) = label
        && is_json
    {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(label),
        );
    }
    let after = *store.retry_after.lock().unwrap_or_else(|e| e.into_inner());
    let status = response.status();
    if let Some(after) = after
        && (status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error())
    {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, after.as_secs().into());
    }
    response
}
