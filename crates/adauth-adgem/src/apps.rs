//! Application tokens: `POST /v1/apps/tokens` with the publisher and application
//! identifiers and the client credentials, as JSON.

use std::fmt;

use adauth_core::http::HttpClient;
use adauth_core::provider_kit::endpoint::{EndpointSpec, TokenEndpoint};
use adauth_core::provider_kit::env;
use adauth_core::provider_kit::required::{required_secret, required_text};
use adauth_core::provider_kit::wire;
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{FetchContext, Result, Token, TokenSource, async_trait};
use url::Url;

use crate::{
    AdGemApi, ENV_APP_ID, ENV_BASE_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_PUB_ID, PROVIDER,
    TOKEN_PATH,
};

/// Application credentials: the publisher and application identifiers (`adgem_pub_id`,
/// `adgem_app_id`), the application's client identifier and client secret, and the API
/// host.
#[derive(Clone)]
pub struct Credentials {
    pub_id: u64,
    app_id: u64,
    client_id: String,
    client_secret: SecretString,
    base_url: Url,
}

#[bon::bon]
impl Credentials {
    /// Credentials for the default host.
    pub fn new(
        pub_id: u64,
        app_id: u64,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> Result<Self> {
        Self::builder()
            .pub_id(pub_id)
            .app_id(app_id)
            .client_id(client_id)
            .client_secret(client_secret)
            .build()
    }

    /// A builder, to set the host too. Leaving out a required setting does not compile;
    /// [`build`](CredentialsBuilder::build) checks the values.
    ///
    /// ```
    /// let credentials = adauth_adgem::Credentials::builder()
    ///     .pub_id(1234)
    ///     .app_id(5678)
    ///     .client_id("client-id")
    ///     .client_secret("client-secret")
    ///     .api(adauth_adgem::AdGemApi::Offers)
    ///     .build()?;
    /// # Ok::<(), adauth_core::Error>(())
    /// ```
    ///
    /// Without the client secret, it does not compile:
    ///
    /// ```compile_fail
    /// let credentials = adauth_adgem::Credentials::builder()
    ///     .pub_id(1234)
    ///     .app_id(5678)
    ///     .client_id("client-id")
    ///     .build();
    /// ```
    #[builder(builder_type = CredentialsBuilder, finish_fn = build, state_mod(vis = "pub"), derive(Debug, Clone))]
    pub fn builder(
        /// The publisher identifier, `adgem_pub_id`.
        pub_id: u64,
        /// The application identifier, `adgem_app_id`.
        app_id: u64,
        /// The application's client identifier.
        #[builder(into)]
        client_id: String,
        /// The application's client secret.
        #[builder(into)]
        client_secret: SecretString,
        /// The API whose host to use (default [`AdGemApi::Targeted`], the host AdGem
        /// documents this endpoint on). A `base_url` takes precedence.
        api: Option<AdGemApi>,
        /// The API host (default [`DEFAULT_BASE_URL`](crate::DEFAULT_BASE_URL)), overriding
        /// `api`; `https`, or `http` for a loopback host.
        #[builder(into)]
        base_url: Option<wire::UrlSetting>,
    ) -> Result<Self> {
        Ok(Credentials {
            pub_id,
            app_id,
            client_id: required_text(PROVIDER, Some(client_id), "client_id")?,
            client_secret: required_secret(PROVIDER, Some(client_secret), "client_secret")?,
            base_url: crate::resolve_base_url(api, base_url)?,
        })
    }

    /// Reads [`ENV_PUB_ID`], [`ENV_APP_ID`], [`ENV_CLIENT_ID`], [`ENV_CLIENT_SECRET`] and, if
    /// set, [`ENV_API`](crate::ENV_API) and [`ENV_BASE_URL`].
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(&env::process)
    }

    /// As [`from_env`](Self::from_env), with variables from `lookup`.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        env::require_all(
            PROVIDER,
            lookup,
            &[ENV_PUB_ID, ENV_APP_ID, ENV_CLIENT_ID, ENV_CLIENT_SECRET],
        )?;
        const INTEGER: &str = "a non-negative integer";
        Self::builder()
            .pub_id(env::required_parsed(PROVIDER, lookup, ENV_PUB_ID, INTEGER)?)
            .app_id(env::required_parsed(PROVIDER, lookup, ENV_APP_ID, INTEGER)?)
            .client_id(env::required(PROVIDER, lookup, ENV_CLIENT_ID)?)
            .client_secret(env::required(PROVIDER, lookup, ENV_CLIENT_SECRET)?)
            .maybe_api(crate::api_from_lookup(lookup)?)
            .maybe_base_url(env::optional(lookup, ENV_BASE_URL))
            .build()
    }

    /// The publisher identifier.
    pub fn pub_id(&self) -> u64 {
        self.pub_id
    }

    /// The application identifier.
    pub fn app_id(&self) -> u64 {
        self.app_id
    }

    /// The application's client identifier.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The API host.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("pub_id", &self.pub_id)
            .field("app_id", &self.app_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("base_url", &self.base_url.as_str())
            .finish()
    }
}

/// The application token endpoint: JSON, the client in the body, a snake-case answer.
/// AdGem's documented errors, 401 `invalid_client` and 500 `server_error`, are what the core
/// classification already says (credentials rejected; provider unavailable, retried).
const ENDPOINT: EndpointSpec = EndpointSpec::json(PROVIDER, TOKEN_PATH);

/// Fetches JWT access tokens with the application credentials
/// (`POST /v1/apps/tokens`, JSON).
#[derive(Debug, Clone)]
pub struct AdGemSource {
    credentials: Credentials,
    endpoint: TokenEndpoint,
}

impl AdGemSource {
    /// A source using the default HTTP client.
    pub fn new(credentials: Credentials) -> Result<Self> {
        Self::with_http(credentials, HttpClient::new())
    }

    /// A source using `http`, for a custom reqwest client or retry policy.
    pub fn with_http(credentials: Credentials, http: HttpClient) -> Result<Self> {
        let endpoint = TokenEndpoint::new(ENDPOINT, &credentials.base_url, http)?;
        Ok(Self {
            credentials,
            endpoint,
        })
    }

    /// A source with credentials from the environment; see [`Credentials::from_env`].
    pub fn from_env() -> Result<Self> {
        Self::new(Credentials::from_env()?)
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The token endpoint: [`TOKEN_PATH`] on the credentials' host.
    pub fn token_url(&self) -> &Url {
        self.endpoint.url()
    }
}

#[async_trait]
impl TokenSource for AdGemSource {
    adauth_core::provider_facts!(crate::DESCRIPTOR);

    fn identity(&self) -> Option<String> {
        let c = &self.credentials;
        Some(self.endpoint.identity(&[
            &c.pub_id.to_string(),
            &c.app_id.to_string(),
            &c.client_id,
            c.client_secret.expose_secret(),
        ]))
    }

    /// The identifiers are integers on the wire, as the documentation types them.
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        self.endpoint
            .request()
            .int("adgem_pub_id", self.credentials.pub_id)
            .int("adgem_app_id", self.credentials.app_id)
            .client(&self.credentials.client_id, &self.credentials.client_secret)
            .send(cx)
            .await
    }
}
