#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod adgem;
mod admitad;
mod fyber;
mod mediago;
mod mediamath;
mod redis_server;
mod server;
mod store;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;

pub use redis_server::RedisServer;
use server::Server;
use store::Store;

/// The providers, in the order [`Sandbox::fakes`] lists them.
pub const PROVIDERS: [&str; 5] = ["mediago", "mediamath", "admitad", "fyber", "adgem"];

/// The token lifetime a [`Sandbox`] starts with: one hour.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The id half of Mediago's sandbox API token.
pub const MEDIAGO_API_ID: &str = "sandbox-mediago-client";
/// The secret half of Mediago's sandbox API token.
pub const MEDIAGO_API_SECRET: &str = "sandbox-mediago-secret";
/// The `client_id` Mediago's fake answers with its tokens.
pub const MEDIAGO_CLIENT_ID: &str = "146";
/// The account the sandbox names in `ADAUTH_MEDIAGO_ACCOUNT_ID`; reports require it.
pub const MEDIAGO_ACCOUNT_ID: &str = "100146";
/// MediaMath's sandbox client ID.
pub const MEDIAMATH_CLIENT_ID: &str = "sandbox-mediamath-client";
/// MediaMath's sandbox client secret.
pub const MEDIAMATH_CLIENT_SECRET: &str = "sandbox-mediamath-secret";
/// MediaMath's sandbox user name.
pub const MEDIAMATH_USERNAME: &str = "sandbox-user@example.com";
/// MediaMath's sandbox password.
pub const MEDIAMATH_PASSWORD: &str = "sandbox-mediamath-password";
/// The scope the sandbox asks MediaMath for: `offline_access`, so refresh tokens are issued.
pub const MEDIAMATH_SCOPE: &str = "offline_access";
/// Admitad's sandbox `client_id`.
pub const ADMITAD_CLIENT_ID: &str = "sandbox-admitad-client";
/// Admitad's sandbox `client_secret`.
pub const ADMITAD_CLIENT_SECRET: &str = "sandbox-admitad-secret";
/// The scopes the sandbox asks Admitad for.
pub const ADMITAD_SCOPE: &str = "advcampaigns banners websites";
/// Fyber's sandbox Reporting API ID.
pub const FYBER_CLIENT_ID: &str = "sandbox-fyber-client";
/// Fyber's sandbox Reporting API password.
pub const FYBER_CLIENT_SECRET: &str = "sandbox-fyber-secret";
/// AdGem's sandbox publisher id.
pub const ADGEM_PUB_ID: u64 = 1001;
/// AdGem's sandbox application id.
pub const ADGEM_APP_ID: u64 = 2002;
/// AdGem's sandbox application client id.
pub const ADGEM_CLIENT_ID: &str = "sandbox-adgem-client";
/// AdGem's sandbox application client secret.
pub const ADGEM_CLIENT_SECRET: &str = "sandbox-adgem-secret";
/// The long-lived refresh token AdGem's fake accepts at `POST /v1/users/token`. It is not
/// in [`Fake::env`]: set `ADAUTH_ADGEM_REFRESH_TOKEN` to it to use that exchange instead.
pub const ADGEM_REFRESH_TOKEN: &str = "sandbox-adgem-refresh-token";

/// Mediago's sandbox API token as the account manager hands it out: Base64 of
/// `id:secret`, sent as given in `Authorization: Basic`.
pub fn mediago_api_token() -> String {
    base64::engine::general_purpose::STANDARD
        .encode(format!("{MEDIAGO_API_ID}:{MEDIAGO_API_SECRET}"))
}

fn vars<const N: usize>(pairs: [(&str, &str); N]) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// All five fakes, each serving on its own `127.0.0.1` port until the sandbox is dropped.
pub struct Sandbox {
    fakes: Vec<Fake>,
}

/// Builds a [`Sandbox`] with settings other than the defaults.
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    token_lifetime: Duration,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
        }
    }
}

impl SandboxBuilder {
    /// How long every fake's tokens live (default [`DEFAULT_TOKEN_LIFETIME`]); `expires_in`
    /// is this in whole seconds.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Starts the fakes on the current tokio runtime.
    pub async fn build(self) -> std::io::Result<Sandbox> {
        let mut fakes = Vec::with_capacity(PROVIDERS.len());
        for provider in PROVIDERS {
            fakes.push(Fake::start(provider, self.token_lifetime).await?);
        }
        Ok(Sandbox { fakes })
    }
}

impl Sandbox {
    /// Starts all five fakes with the default settings.
    pub async fn start() -> std::io::Result<Sandbox> {
        Self::builder().build().await
    }

    /// A builder, to set the token lifetime.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The fake for `provider` (`mediago`, `mediamath`, `admitad`, `fyber` or `adgem`).
    pub fn fake(&self, provider: &str) -> Option<&Fake> {
        self.fakes.iter().find(|f| f.provider() == provider)
    }

    /// Every fake, in the order of [`PROVIDERS`].
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
    provider: &'static str,
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
    async fn start(provider: &'static str, lifetime: Duration) -> std::io::Result<Self> {
        let store = Arc::new(Store::new(provider, lifetime));
        let router = match provider {
            "mediago" => mediago::router(store.clone()),
            "mediamath" => mediamath::router(store.clone()),
            "admitad" => admitad::router(store.clone()),
            "fyber" => fyber::router(store.clone()),
            _ => adgem::router(store.clone()),
        };
        let router = router.layer(axum::middleware::map_response_with_state(
            store.clone(),
            store::adjust_response,
        ));
        let server = Server::start(router).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                provider,
                base_url: format!("http://{}", server.addr),
                store,
                server: std::sync::Mutex::new(Some(server)),
            }),
        })
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The provider name: `mediago`, `mediamath`, `admitad`, `fyber` or `adgem`.
    pub fn provider(&self) -> &'static str {
        self.inner.provider
    }

    /// The fake's base URL, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// This provider's `ADAUTH_*` variables: the sandbox credentials and the fake's URL.
    pub fn env(&self) -> Vec<(String, String)> {
        let base = self.base_url();
        match self.provider() {
            "mediago" => mediago::env(&base),
            "mediamath" => mediamath::env(&base),
            "admitad" => admitad::env(&base),
            "fyber" => fyber::env(&base),
            _ => adgem::env(&base),
        }
    }

    /// An API endpoint that answers 200 to a valid token and 401 otherwise.
    pub fn protected_url(&self) -> String {
        let path = match self.provider() {
            "mediago" => mediago::PROTECTED_PATH,
            "mediamath" => mediamath::PROTECTED_PATH,
            "admitad" => admitad::PROTECTED_PATH,
            "fyber" => fyber::PROTECTED_PATH,
            _ => adgem::PROTECTED_PATH,
        };
        format!("{}{path}", self.inner.base_url)
    }

    /// The method of [`protected_url`](Self::protected_url): `GET` or `POST`.
    pub fn protected_method(&self) -> &'static str {
        match self.provider() {
            "mediago" => mediago::PROTECTED_METHOD,
            "mediamath" => mediamath::PROTECTED_METHOD,
            "admitad" => admitad::PROTECTED_METHOD,
            "fyber" => fyber::PROTECTED_METHOD,
            _ => adgem::PROTECTED_METHOD,
        }
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
