#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

pub mod contract;
pub mod fake;
#[cfg(feature = "httpmock")]
#[cfg_attr(docsrs, doc(cfg(feature = "httpmock")))]
pub mod mock;
mod redis_server;
mod server;
mod store;
mod units;
pub mod wire;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use fake::{FakeProvider, Store};
pub use redis_server::{RedisCluster, RedisServer};
use server::Server;
pub use units::{MemoryStore, StaticSource};

/// A lookup over `vars`, as provider crates' `from_lookup` functions take one: for tests
/// of how a provider reads its variables, without touching the process environment.
///
/// ```
/// let lookup = adauth_testkit::lookup(&[("ADAUTH_X_ID", "1")]);
/// assert_eq!(lookup("ADAUTH_X_ID").as_deref(), Some("1"));
/// assert_eq!(lookup("ADAUTH_X_SECRET"), None);
/// ```
pub fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + use<> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// A set of variables for tests of how a provider reads them, with a variable changed or
/// left out, and a lookup over them; the process environment is never touched.
///
/// ```
/// let vars = adauth_testkit::Vars::new(&[("A", "1"), ("B", "2")]);
/// let lookup = vars.with("A", "3").without("B").lookup();
/// assert_eq!(lookup("A").as_deref(), Some("3"));
/// assert_eq!(lookup("B"), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Vars(Vec<(String, String)>);

impl Vars {
    /// The variables `pairs`.
    pub fn new(pairs: &[(&str, &str)]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    /// These variables with `name` set to `value`, in place of any value it had.
    pub fn with(&self, name: &str, value: &str) -> Self {
        let mut vars = self.without(name);
        vars.0.push((name.to_owned(), value.to_owned()));
        vars
    }

    /// These variables without `name`.
    pub fn without(&self, name: &str) -> Self {
        Self(self.0.iter().filter(|(k, _)| k != name).cloned().collect())
    }

    /// A lookup over these variables, as provider crates' `from_lookup` functions take one.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> + Send + Sync + use<> {
        let vars = self.0.clone();
        move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }
}

/// Asserts what a token read from a provider's answer holds: its access token, its type,
/// when it was issued and how long it lives.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use adauth_core::Token;
///
/// let issued = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let token = Token::new("abc".into(), issued, issued + Duration::from_secs(3600));
/// adauth_testkit::assert_token(&token, "abc", "Bearer", issued, Duration::from_secs(3600));
/// ```
#[track_caller]
pub fn assert_token(
    token: &adauth_core::Token,
    access_token: &str,
    token_type: &str,
    issued_at: std::time::SystemTime,
    lifetime: Duration,
) {
    use adauth_core::secrecy::ExposeSecret as _;
    assert_eq!(
        token.access_token().expose_secret(),
        access_token,
        "access token"
    );
    assert_eq!(token.token_type(), token_type, "token type");
    assert_eq!(token.issued_at(), issued_at, "issued at");
    assert_eq!(token.expires_at(), issued_at + lifetime, "expires at");
}

/// The token lifetime a [`Sandbox`] starts with: one hour.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// A set of fakes, each serving on its own `127.0.0.1` port until the sandbox is dropped.
pub struct Sandbox {
    fakes: Vec<Fake>,
}

/// Builds a [`Sandbox`] with settings other than the defaults.
#[derive(Clone)]
pub struct SandboxBuilder {
    token_lifetime: Duration,
    path_prefix: String,
    fakes: Vec<&'static dyn FakeProvider>,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            path_prefix: String::new(),
            fakes: Vec::new(),
        }
    }
}

impl fmt::Debug for SandboxBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxBuilder")
            .field("token_lifetime", &self.token_lifetime)
            .field("path_prefix", &self.path_prefix)
            .field(
                "fakes",
                &self.fakes.iter().map(|p| p.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl SandboxBuilder {
    /// How long every fake's tokens live (default [`DEFAULT_TOKEN_LIFETIME`]); `expires_in`
    /// is this in whole seconds.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Serves every fake under `prefix` (`"/gateway/v2"`; default none), as behind a gateway
    /// that adds a path: each fake's base URL and variables include it, so a provider that
    /// loses a base URL's path misses every endpoint.
    pub fn path_prefix(mut self, prefix: &str) -> Self {
        self.path_prefix = format!("/{}", prefix.trim_matches('/'));
        if self.path_prefix == "/" {
            self.path_prefix.clear();
        }
        self
    }

    /// Adds `fake` (its provider crate's `testkit::FAKE`, or one from a registration).
    pub fn fake(mut self, fake: &'static dyn FakeProvider) -> Self {
        self.fakes.push(fake);
        self
    }

    /// Adds every fake in `fakes`, in order.
    pub fn fakes(mut self, fakes: impl IntoIterator<Item = &'static dyn FakeProvider>) -> Self {
        self.fakes.extend(fakes);
        self
    }

    /// Starts the fakes on the current tokio runtime.
    pub async fn build(self) -> std::io::Result<Sandbox> {
        let mut fakes = Vec::with_capacity(self.fakes.len());
        for provider in self.fakes {
            fakes.push(Fake::start_at(provider, self.token_lifetime, &self.path_prefix).await?);
        }
        Ok(Sandbox { fakes })
    }
}

impl Sandbox {
    /// Starts `fakes` with the default settings.
    pub async fn start(
        fakes: impl IntoIterator<Item = &'static dyn FakeProvider>,
    ) -> std::io::Result<Sandbox> {
        Self::builder().fakes(fakes).build().await
    }

    /// A builder, to choose the fakes and set the token lifetime.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The fake of the provider called `provider`.
    pub fn fake(&self, provider: &str) -> Option<&Fake> {
        self.fakes.iter().find(|f| f.provider() == provider)
    }

    /// Every fake, in the order they were added.
    pub fn fakes(&self) -> &[Fake] {
        &self.fakes
    }

    /// Every `ADAUTH_*` variable that points the provider crates at the fakes.
    pub fn env(&self) -> Vec<(String, String)> {
        self.fakes.iter().flat_map(Fake::env).collect()
    }
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("fakes", &self.fakes)
            .finish()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for fake in &self.fakes {
            fake.inner.stop();
        }
    }
}

struct Inner {
    provider: &'static dyn FakeProvider,
    base_url: String,
    store: Arc<Store>,
    server: std::sync::Mutex<Option<Server>>,
}

impl Inner {
    fn stop(&self) {
        // Dropping the server signals its shutdown.
        self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// A cheap handle to one fake: its address, its variables, its counters and its controls.
///
/// The handle stays usable after the [`Sandbox`] is dropped, but the server no longer
/// answers.
#[derive(Clone)]
pub struct Fake {
    inner: Arc<Inner>,
}

impl Fake {
    /// Starts `provider`'s fake alone, on the current tokio runtime, with tokens that
    /// live for `lifetime`.
    pub async fn start(
        provider: &'static dyn FakeProvider,
        lifetime: Duration,
    ) -> std::io::Result<Self> {
        Self::start_at(provider, lifetime, "").await
    }

    /// As [`start`](Self::start), serving the fake under `prefix` (`""` or `"/a/b"`).
    async fn start_at(
        provider: &'static dyn FakeProvider,
        lifetime: Duration,
        prefix: &str,
    ) -> std::io::Result<Self> {
        let store = Arc::new(Store::new(provider.name(), lifetime));
        let mut router = provider.router(store.clone());
        if !prefix.is_empty() {
            router = axum::Router::new().nest(prefix, router);
        }
        let router = router.layer(axum::middleware::map_response_with_state(
            store.clone(),
            store::adjust_response,
        ));
        let server = Server::start(router).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                provider,
                base_url: format!("http://{}{prefix}", server.addr),
                store,
                server: std::sync::Mutex::new(Some(server)),
            }),
        })
    }

    /// Stops the server; the handle's counters stay readable.
    pub fn stop(&self) {
        self.inner.stop();
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The provider's name.
    pub fn provider(&self) -> &'static str {
        self.inner.provider.name()
    }

    /// The fake's base URL, `http://127.0.0.1:PORT` (and the sandbox's path prefix).
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// This provider's `ADAUTH_*` variables: the sandbox credentials and the fake's URL.
    pub fn env(&self) -> Vec<(String, String)> {
        self.inner.provider.env(&self.inner.base_url)
    }

    /// Credentials pointing at this fake, read from its variables by `from_lookup` (a
    /// provider's `Credentials::from_lookup`).
    ///
    /// ```ignore
    /// let fake = adauth::testkit::start(&adauth::fyber::DESCRIPTOR).await?;
    /// let credentials = fake.credentials(adauth::fyber::Credentials::from_lookup)?;
    /// ```
    pub fn credentials<C>(
        &self,
        from_lookup: impl FnOnce(&dyn Fn(&str) -> Option<String>) -> adauth_core::Result<C>,
    ) -> adauth_core::Result<C> {
        from_lookup(&self.lookup(&[]))
    }

    /// A lookup over [`env`](Self::env) with `overrides` on top, as provider crates'
    /// `from_lookup` functions take one.
    pub fn lookup(
        &self,
        overrides: &[(&str, &str)],
    ) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static + use<> {
        let mut vars = self.env();
        for (name, value) in overrides {
            vars.retain(|(k, _)| k != name);
            vars.push(((*name).to_owned(), (*value).to_owned()));
        }
        move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    /// An API endpoint that answers 200 to a valid token and 401 otherwise.
    pub fn protected_url(&self) -> String {
        format!(
            "{}{}",
            self.inner.base_url,
            self.inner.provider.protected().1
        )
    }

    /// The method of [`protected_url`](Self::protected_url): `GET` or `POST`.
    pub fn protected_method(&self) -> &'static str {
        self.inner.provider.protected().0
    }

    /// Requests received at the token endpoints (every grant), valid or not.
    pub fn token_requests(&self) -> usize {
        self.store().token_requests.load(Ordering::SeqCst)
    }

    /// Requests received at the protected endpoints.
    pub fn protected_requests(&self) -> usize {
        self.store().protected_requests.load(Ordering::SeqCst)
    }

    /// 401 answers given by the protected endpoints.
    pub fn unauthorized(&self) -> usize {
        self.store().unauthorized.load(Ordering::SeqCst)
    }

    /// Access tokens issued.
    pub fn issued(&self) -> usize {
        self.store().issued.load(Ordering::SeqCst)
    }

    /// Makes every access token issued so far stop working, as a provider does when it
    /// revokes a token; refresh tokens keep working (see
    /// [`revoke_refresh_tokens`](Self::revoke_refresh_tokens)).
    pub fn revoke_all(&self) {
        self.store().revoke_all();
    }

    /// Makes every refresh token issued so far stop working, so the next renewal must use
    /// the credentials again.
    pub fn revoke_refresh_tokens(&self) {
        self.store().revoke_refresh_tokens();
    }

    /// Makes the next `count` token requests fail with `status` (an invalid status counts
    /// as 500) and the provider's error shape, without issuing tokens.
    pub fn fail_next(&self, count: usize, status: u16) {
        self.store().fail_next(count, status);
    }

    /// Sends `Retry-After: <seconds>` with every 429 and 5xx answer while set (`None`, the
    /// default: without it), as a provider that throttles does.
    pub fn set_retry_after(&self, after: Option<Duration>) {
        self.store().set_retry_after(after);
    }

    /// Holds every token request received from now on for `delay` before answering it
    /// ([`Duration::ZERO`], the default, answers at once). The request is counted in
    /// [`token_requests`](Self::token_requests) on arrival, so a test can see that a client
    /// is blocked in its token request (and kill it there); changing the delay does not
    /// shorten requests already held.
    pub fn delay_tokens(&self, delay: Duration) {
        self.store().delay_tokens(delay);
    }

    /// Sets the lifetime of tokens issued from now on; [`Duration::ZERO`] issues tokens
    /// that are expired at once.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.store().set_lifetime(lifetime);
    }

    /// Labels every JSON answer with `content_type` (`text/plain`, say) while set, as a
    /// provider whose server mislabels its answers; `None` (the default) labels them
    /// `application/json`.
    pub fn label_json_as(&self, content_type: Option<&'static str>) {
        self.store().set_json_label(content_type);
    }

    /// While `yes`, token answers carry `null` for the token's lifetime (`expires_in`,
    /// Fyber's `expiresIn`) and MediaMath's session answer no `expires`, as answers that do
    /// not say how long the token lives; the tokens still live for the configured lifetime.
    pub fn withhold_lifetime(&self, yes: bool) {
        self.store().set_withhold_lifetime(yes);
    }

    /// Answers `value` (`0`, `-1`, `"soon"`, ...) where the token's lifetime goes, as a
    /// provider with an absurd `expires_in`; `None` (the default) answers the configured
    /// lifetime. Tokens still live for the configured lifetime.
    pub fn answer_expires_in(&self, value: Option<serde_json::Value>) {
        self.store().set_expires_in(value);
    }

    /// Caps how many live access tokens the client may hold, as Admitad caps tokens per
    /// application (`None`, the default: no cap); a fake whose provider caps them refuses
    /// more with the provider's code.
    pub fn cap_tokens(&self, cap: Option<usize>) {
        self.store().set_token_cap(cap);
    }

    /// How often an already rotated refresh token was presented again (Admitad,
    /// MediaMath).
    pub fn refresh_token_reuses(&self) -> usize {
        self.store().refresh_token_reuses.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for Fake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fake")
            .field("provider", &self.provider())
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}
