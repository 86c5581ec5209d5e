#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

use std::fmt;

use adauth_core::http::{self, HttpClient};
use adauth_core::required::{required_secret, required_text};
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{
    ErrorKind, ExpiresIn, FetchContext, Result, Token, TokenSource, async_trait, env,
};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use url::Url;

/// The provider name used in errors and logs.
pub const PROVIDER: &str = "fyber";

/// The lifetime of this provider's tokens as its documentation gives it, assumed for an
/// answer that gives none. Fyber: "All tokens expire one hour after a successful token request."
pub const DOCUMENTED_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

/// The Reporting API host from Digital Turbine's documentation.
pub const DEFAULT_BASE_URL: &str = "https://reporting.fyber.com/";

/// The token endpoint, relative to the base URL.
pub const TOKEN_PATH: &str = "/auth/v1/token";

/// `ADAUTH_FYBER_CLIENT_ID`: the Reporting API ID.
pub const ENV_CLIENT_ID: &str = "ADAUTH_FYBER_CLIENT_ID";
/// `ADAUTH_FYBER_CLIENT_SECRET`: the Reporting API password.
pub const ENV_CLIENT_SECRET: &str = "ADAUTH_FYBER_CLIENT_SECRET";
/// `ADAUTH_FYBER_BASE_URL`: optional, overrides [`DEFAULT_BASE_URL`].
pub const ENV_BASE_URL: &str = "ADAUTH_FYBER_BASE_URL";
/// Every environment variable this crate reads.
pub const ENV_VARS: &[&str] = &[ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_BASE_URL];

/// The source the environment describes, boxed: see [`Credentials::from_env`].
pub fn source_from_env() -> Result<Box<dyn TokenSource>> {
    source_from_lookup(&adauth_core::env::process)
}

/// As [`source_from_env`], with variables from `lookup`.
pub fn source_from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Box<dyn TokenSource>> {
    Ok(Box::new(FyberSource::new(Credentials::from_lookup(
        lookup,
    )?)?))
}

/// Reporting API credentials: the API ID (`client_id`) and password (`client_secret`) that
/// Digital Turbine sends by encrypted email, and the API host.
#[derive(Clone)]
pub struct Credentials {
    client_id: String,
    client_secret: SecretString,
    base_url: Url,
}

impl Credentials {
    /// Credentials for the default host.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> Result<Self> {
        Self::builder()
            .client_id(client_id)
            .client_secret(client_secret)
            .build()
    }

    /// A builder, to set the host too.
    pub fn builder() -> CredentialsBuilder {
        CredentialsBuilder::default()
    }

    /// Reads [`ENV_CLIENT_ID`], [`ENV_CLIENT_SECRET`] and, if set, [`ENV_BASE_URL`].
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(&env::process)
    }

    /// As [`from_env`](Self::from_env), with variables from `lookup`.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        env::require_all(PROVIDER, lookup, &[ENV_CLIENT_ID, ENV_CLIENT_SECRET])?;
        let mut builder = Self::builder()
            .client_id(env::required(PROVIDER, lookup, ENV_CLIENT_ID)?)
            .client_secret(env::required(PROVIDER, lookup, ENV_CLIENT_SECRET)?);
        if let Some(url) = env::optional(lookup, ENV_BASE_URL) {
            builder = builder.base_url(url);
        }
        builder.build()
    }

    /// The Reporting API ID.
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
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("base_url", &self.base_url.as_str())
            .finish()
    }
}

/// Builds [`Credentials`].
#[derive(Default)]
pub struct CredentialsBuilder {
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    base_url: Option<String>,
}

impl CredentialsBuilder {
    /// The Reporting API ID (required).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The Reporting API password (required).
    pub fn client_secret(mut self, client_secret: impl Into<SecretString>) -> Self {
        self.client_secret = Some(client_secret.into());
        self
    }

    /// The API host (default [`DEFAULT_BASE_URL`]); `https`, or `http` for a loopback host.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Checks and builds the credentials.
    pub fn build(self) -> Result<Credentials> {
        let client_id = required_text(PROVIDER, self.client_id, "client_id")?;
        let client_secret = required_secret(PROVIDER, self.client_secret, "client_secret")?;
        let base_url = http::parse_endpoint(
            PROVIDER,
            self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
        )?;
        Ok(Credentials {
            client_id,
            client_secret,
            base_url,
        })
    }
}

impl fmt::Debug for CredentialsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsBuilder")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// Fetches Reporting API tokens with the client-credentials grant
/// (`POST /auth/v1/token`, JSON).
#[derive(Debug, Clone)]
pub struct FyberSource {
    credentials: Credentials,
    token_url: Url,
    http: HttpClient,
}

impl FyberSource {
    /// A source using the default HTTP client.
    pub fn new(credentials: Credentials) -> Result<Self> {
        Self::with_http(credentials, HttpClient::new())
    }

    /// A source using `http`, for a custom reqwest client or retry policy.
    pub fn with_http(credentials: Credentials, http: HttpClient) -> Result<Self> {
        let token_url = http::join_path(PROVIDER, &credentials.base_url, TOKEN_PATH)?;
        Ok(Self {
            credentials,
            token_url,
            http,
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
}

#[derive(Serialize)]
struct TokenRequest<'a> {
    grant_type: &'static str,
    client_id: &'a str,
    client_secret: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenResponse {
    access_token: String,
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<ExpiresIn>,
}

/// Fyber's codes on top of the OAuth defaults: its `invalid_request` covers a missing or
/// invalid `client_id`/`client_secret`, and this source always sends a well-formed body, so
/// the code means the credentials were refused.
fn classify(status: StatusCode, code: Option<&str>) -> ErrorKind {
    match code {
        Some("invalid_request") => ErrorKind::CredentialsRejected,
        _ => http::classify(status, code),
    }
}

#[async_trait]
impl TokenSource for FyberSource {
    fn provider(&self) -> &str {
        PROVIDER
    }

    fn documented_lifetime(&self) -> Option<std::time::Duration> {
        Some(DOCUMENTED_LIFETIME)
    }

    fn identity(&self) -> Option<String> {
        Some(adauth_core::credential_identity(
            PROVIDER,
            &[
                self.token_url.as_str(),
                &self.credentials.client_id,
                self.credentials.client_secret.expose_secret(),
            ],
        ))
    }

    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let secret = self.credentials.client_secret.expose_secret();
        let request = TokenRequest {
            grant_type: "client_credentials",
            client_id: &self.credentials.client_id,
            client_secret: secret,
        };
        let scrub = |e: adauth_core::Error| e.scrub(&[secret]);
        let response = self
            .http
            .post_json(PROVIDER, cx, &self.token_url, &request)
            .await
            .map_err(scrub)?;
        if response.reports_error() {
            return Err(scrub(response.error_with(PROVIDER, classify)));
        }
        let wire: TokenResponse = response.json(PROVIDER).map_err(scrub)?;
        let token = cx.token(
            PROVIDER,
            response.sent_at(),
            SecretString::from(wire.access_token),
            wire.expires_in.as_ref(),
        )?;
        Ok(match wire.token_type {
            Some(token_type) => token.with_token_type(token_type),
            None => token,
        })
    }
}
