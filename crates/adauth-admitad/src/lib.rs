#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod authorize;
mod error;
mod scope;

#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit;

use adauth_core::provider_kit::wire;
use adauth_core::provider_kit::wire::HttpResponse;
use std::fmt;
use std::sync::{Arc, Mutex};

use adauth_core::http::HttpClient;
use adauth_core::provider_kit::endpoint::{
    ClientAuth, EndpointSpec, PreparedRequest, TokenEndpoint,
};
use adauth_core::provider_kit::env;
use adauth_core::provider_kit::required::{missing, required_secret, required_text};
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{FetchContext, Result, Token, TokenSource, async_trait};
use url::Url;

pub use authorize::AuthorizationRequest;
pub use error::AdmitadErrorCode;
pub use scope::{Scope, Scopes};

use error::{Grant, token_error};

/// The provider name used in errors and logs.
pub const PROVIDER: &str = "admitad";

/// The lifetime of this provider's tokens as its documentation gives it, assumed for an
/// answer that gives none. Admitad's token answers document `"expires_in": 604800`: a week.
pub const DOCUMENTED_LIFETIME: std::time::Duration = std::time::Duration::from_secs(604800);

/// The API host from Admitad's documentation.
pub const DEFAULT_BASE_URL: &str = "https://api.admitad.com/";

/// The token endpoint, relative to the base URL.
pub const TOKEN_PATH: &str = "/token/";

/// The authorization page of the authorization-code flow, relative to the base URL.
pub const AUTHORIZE_PATH: &str = "/authorize/";

/// The content type of token requests, exactly as Admitad's example request shows it.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded;charset=UTF-8";

/// `ADAUTH_ADMITAD_CLIENT_ID`: the application's `client_id`.
pub const ENV_CLIENT_ID: &str = "ADAUTH_ADMITAD_CLIENT_ID";
/// `ADAUTH_ADMITAD_CLIENT_SECRET`: the application's `client_secret`.
pub const ENV_CLIENT_SECRET: &str = "ADAUTH_ADMITAD_CLIENT_SECRET";
/// `ADAUTH_ADMITAD_SCOPE`: the scopes to ask for, separated by spaces.
pub const ENV_SCOPE: &str = "ADAUTH_ADMITAD_SCOPE";
/// `ADAUTH_ADMITAD_BASE_URL`: optional, overrides [`DEFAULT_BASE_URL`].
pub const ENV_BASE_URL: &str = "ADAUTH_ADMITAD_BASE_URL";

/// This provider, as the umbrella crate registers it.
pub const DESCRIPTOR: adauth_core::Provider = {
    use adauth_core::EnvVar;
    let provider = adauth_core::Provider::new(PROVIDER, "Admitad", source_from_lookup)
        .with_env_vars(&[
            EnvVar::required(ENV_CLIENT_ID, "the application's `client_id`"),
            EnvVar::required(ENV_CLIENT_SECRET, "the application's `client_secret`").secret(),
            EnvVar::required(ENV_SCOPE, "the scopes to ask for, separated by spaces"),
            EnvVar::optional(
                ENV_BASE_URL,
                "the API host; default `https://api.admitad.com/`",
            ),
        ])
        .with_documented_lifetime(DOCUMENTED_LIFETIME)
        .with_login(&Login);
    #[cfg(feature = "testkit")]
    let provider = provider.with_fake(&adauth_testkit::fake::Registration(&testkit::FAKE));
    provider
};

/// The source that variables from `lookup` describe; see [`Credentials::from_lookup`].
fn source_from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Box<dyn TokenSource>> {
    Ok(Box::new(AdmitadSource::new(Credentials::from_lookup(
        lookup,
    )?)?))
}

/// An application's credentials: the `client_id` and `client_secret` shown in the account
/// ("Показать учетные данные"), the scopes to ask for, the API host and the authorization
/// page.
#[derive(Clone)]
pub struct Credentials {
    client_id: String,
    client_secret: SecretString,
    scopes: Scopes,
    base_url: Url,
    authorize_url: Url,
}

#[bon::bon]
impl Credentials {
    /// Credentials for the default host.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
        scopes: impl Into<Scopes>,
    ) -> Result<Self> {
        Self::builder()
            .client_id(client_id)
            .client_secret(client_secret)
            .scopes(scopes)
            .build()
    }

    /// A builder, to set the hosts too. Leaving out the client does not compile; at least
    /// one scope is required, added with [`scopes`](CredentialsBuilder::scopes) or
    /// [`scope`](CredentialsBuilder::scope).
    #[builder(builder_type = CredentialsBuilder, finish_fn = build, state_mod(vis = "pub"), derive(Debug, Clone))]
    pub fn builder(
        #[builder(field)] scopes: Scopes,
        /// The application's `client_id`.
        #[builder(into)]
        client_id: String,
        /// The application's `client_secret`.
        #[builder(into)]
        client_secret: SecretString,
        /// The API host (default [`DEFAULT_BASE_URL`]); `https`, or `http` for a loopback
        /// host. Text or a parsed `Url`: for many websites on one host, parse it once.
        #[builder(into)]
        base_url: Option<wire::UrlSetting>,
        /// The full URL of the authorization page (default `{base URL}/authorize/`). Newer
        /// pages of Admitad's documentation send users to other hosts; set it to match the
        /// page your application was registered with.
        #[builder(into)]
        authorize_url: Option<wire::UrlSetting>,
    ) -> Result<Self> {
        let client_id = required_text(PROVIDER, Some(client_id), "client_id")?;
        let client_secret = required_secret(PROVIDER, Some(client_secret), "client_secret")?;
        if scopes.is_empty() {
            return Err(missing(PROVIDER, "at least one scope"));
        }
        // `Scope::Other` can be built by hand: check that every name survives the trip
        // through a space-separated list.
        for scope in &scopes {
            scope.as_str().parse::<Scope>()?;
        }
        let base_url = wire::UrlSetting::resolve_or(base_url, PROVIDER, DEFAULT_BASE_URL)?;
        let authorize_url = match authorize_url {
            Some(url) => url.resolve(PROVIDER)?,
            None => wire::join_path(PROVIDER, &base_url, AUTHORIZE_PATH)?,
        };
        Ok(Credentials {
            client_id,
            client_secret,
            scopes,
            base_url,
            authorize_url,
        })
    }

    /// Reads [`ENV_CLIENT_ID`], [`ENV_CLIENT_SECRET`], [`ENV_SCOPE`] and, if set,
    /// [`ENV_BASE_URL`].
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(&env::process)
    }

    /// As [`from_env`](Self::from_env), with variables from `lookup`.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        crate::DESCRIPTOR.require_env(lookup)?;
        let scopes: Scopes = env::required(PROVIDER, lookup, ENV_SCOPE)?
            .parse()
            .map_err(|_| {
                adauth_core::Error::configuration(
                    PROVIDER,
                    format!(
                        "environment variable {ENV_SCOPE} must be scope names separated by spaces"
                    ),
                )
            })?;
        Self::builder()
            .client_id(env::required(PROVIDER, lookup, ENV_CLIENT_ID)?)
            .client_secret(env::required(PROVIDER, lookup, ENV_CLIENT_SECRET)?)
            .scopes(scopes)
            .maybe_base_url(env::optional(lookup, ENV_BASE_URL))
            .build()
    }

    /// The application's `client_id`.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The scopes asked for.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    /// The API host.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The authorization page of the authorization-code flow.
    pub fn authorize_url(&self) -> &Url {
        &self.authorize_url
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("scopes", &self.scopes.to_string())
            .field("base_url", &self.base_url.as_str())
            .field("authorize_url", &self.authorize_url.as_str())
            .finish()
    }
}

impl<S: credentials_builder::State> CredentialsBuilder<S> {
    /// Adds scopes to ask for.
    pub fn scopes(mut self, scopes: impl Into<Scopes>) -> Self {
        self.scopes.extend(scopes.into().iter().cloned());
        self
    }

    /// Adds one scope to ask for.
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scopes.insert(scope);
        self
    }
}

/// Fetches Admitad access tokens: client credentials (`grant_type=client_credentials`,
/// HTTP Basic) for new tokens, the refresh grant for renewals, and the authorization-code
/// exchange for tokens a user grants.
///
/// Tokens live 7 days and Admitad caps how many an application may hold
/// ([`AdmitadErrorCode::TooManyTokens`]): wrap the source in a
/// [`TokenCache`](adauth_core::TokenCache), which renews with the refresh token instead of
/// minting, and carry the refresh token over between runs with
/// [`resume_from`](Self::resume_from).
#[derive(Clone)]
pub struct AdmitadSource {
    credentials: Credentials,
    /// The client-credentials request, encoded once: it never changes.
    client_grant: PreparedRequest,
    refresh_grant: TokenEndpoint,
    code_grant: TokenEndpoint,
    /// The scopes as the `scope` field sends them, written once.
    scope: String,
    /// A refresh token from an earlier run, tried once by the next `fetch`. Shared by
    /// clones, so it is spent once.
    resume: Arc<Mutex<Option<SecretString>>>,
}

impl AdmitadSource {
    /// A source using the default HTTP client.
    pub fn new(credentials: Credentials) -> Result<Self> {
        Self::with_http(credentials, HttpClient::new())
    }

    /// A source using `http`, for a custom reqwest client or retry policy.
    pub fn with_http(credentials: Credentials, http: HttpClient) -> Result<Self> {
        let endpoint = |spec| TokenEndpoint::new(spec, &credentials.base_url, http.clone());
        let scope = credentials.scopes.to_string();
        // `grant_type`, `client_id` and `scope` in the body, and the client in HTTP Basic,
        // as Admitad documents it.
        let client_grant = endpoint(CLIENT_GRANT)?
            .request()
            .field("grant_type", "client_credentials")
            .field("client_id", &credentials.client_id)
            .field("scope", &scope)
            .client(&credentials.client_id, &credentials.client_secret)
            .prepare();
        Ok(Self {
            client_grant,
            refresh_grant: endpoint(REFRESH_GRANT)?,
            code_grant: endpoint(CODE_GRANT)?,
            scope,
            credentials,
            resume: Arc::new(Mutex::new(None)),
        })
    }

    /// A source with credentials from the environment; see [`Credentials::from_env`].
    pub fn from_env() -> Result<Self> {
        Self::new(Credentials::from_env()?)
    }

    /// Starts from a refresh token saved by an earlier run
    /// ([`Token::refresh_token`] of its last token): the next [`fetch`](TokenSource::fetch)
    /// renews it with the refresh grant instead of minting a new token, and falls back to
    /// client credentials if Admitad no longer takes it.
    ///
    /// The fallback gets a token for the application's own account: for a token that a
    /// user granted through the authorization-code flow, use
    /// [`authorized_from_refresh_token`](Self::authorized_from_refresh_token), which never
    /// falls back.
    pub fn resume_from(self, refresh_token: impl Into<SecretString>) -> Self {
        let refresh_token = refresh_token.into();
        if !refresh_token.expose_secret().is_empty() {
            *self.lock_resume() = Some(refresh_token);
        }
        self
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// A link that sends a user to authorize the application for the credentials' scopes,
    /// with a fresh random `state`; Admitad redirects the user to `redirect_uri` with a
    /// `code` to pass to [`complete_authorization`](Self::complete_authorization).
    pub fn authorization_request(&self, redirect_uri: &str) -> Result<AuthorizationRequest> {
        AuthorizationRequest::new(
            &self.credentials.authorize_url,
            &self.credentials.client_id,
            redirect_uri,
            &self.credentials.scopes,
        )
    }

    /// Checks the redirect the user came back with against `request` and exchanges its
    /// code for a token; see [`AuthorizationRequest::code_from_redirect`] and
    /// [`exchange_code`](Self::exchange_code).
    pub async fn complete_authorization(
        &self,
        cx: &FetchContext,
        request: &AuthorizationRequest,
        redirected_to: &str,
    ) -> Result<Token> {
        let code = request.code_from_redirect(redirected_to)?;
        self.exchange_code(cx, &code, request.redirect_uri()).await
    }

    /// Exchanges an authorization code for a token (`grant_type=authorization_code`, with
    /// `client_id`, `client_secret`, `code` and the `redirect_uri` of the authorization
    /// request). The token carries a refresh token, to renew with
    /// [`refresh`](TokenSource::refresh).
    pub async fn exchange_code(
        &self,
        cx: &FetchContext,
        code: &SecretString,
        redirect_uri: &str,
    ) -> Result<Token> {
        self.code_grant
            .request()
            .field("grant_type", "authorization_code")
            .client(&self.credentials.client_id, &self.credentials.client_secret)
            .secret("code", code)
            .field("redirect_uri", redirect_uri)
            .send(cx)
            .await
    }

    /// Client credentials: the request prepared in [`with_http`](Self::with_http).
    async fn client_credentials(&self, cx: &FetchContext) -> Result<Token> {
        self.client_grant.send(cx).await
    }

    async fn refresh_grant(
        &self,
        cx: &FetchContext,
        refresh_token: &SecretString,
    ) -> Result<Token> {
        self.refresh_grant
            .request()
            .field("grant_type", "refresh_token")
            .client(&self.credentials.client_id, &self.credentials.client_secret)
            .secret("refresh_token", refresh_token)
            .send(cx)
            .await
    }

    /// A source for the user's grant that `token` starts: a token from
    /// [`exchange_code`](Self::exchange_code) or
    /// [`complete_authorization`](Self::complete_authorization), with its refresh token.
    pub fn authorized(&self, token: Token) -> AuthorizedSource {
        AuthorizedSource {
            source: self.clone(),
            grant: adauth_core::UserGrant::new(PROVIDER, Some(token), None),
        }
    }

    /// A source for a user's grant, from a refresh token kept from an earlier run
    /// ([`AuthorizedSource::refresh_token`]).
    pub fn authorized_from_refresh_token(
        &self,
        refresh_token: impl Into<SecretString>,
    ) -> AuthorizedSource {
        AuthorizedSource {
            source: self.clone(),
            grant: adauth_core::UserGrant::new(PROVIDER, None, Some(refresh_token.into())),
        }
    }

    fn lock_resume(&self) -> std::sync::MutexGuard<'_, Option<SecretString>> {
        self.resume.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for AdmitadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdmitadSource")
            .field("credentials", &self.credentials)
            .field("token_url", &self.client_grant.endpoint().url().as_str())
            .field("http", self.client_grant.endpoint().http())
            .field(
                "resume_from",
                &self.lock_resume().as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// Encodes `fields` as `application/x-www-form-urlencoded`.
///
/// Spaces become `+`, as the form encoding (and Admitad's Python SDK, through `requests`)
/// writes them; every form decoder reads `+` back as a space, so the server sees
/// `advcampaigns banners websites` exactly as in the documented request, whose literal
/// spaces are not valid form encoding.
/// A source for a user's grant from the authorization-code flow: from
/// [`AdmitadSource::authorized`] or [`AdmitadSource::authorized_from_refresh_token`].
///
/// Its first fetch hands out the exchanged token; renewals use the refresh grant with the
/// newest refresh token (Admitad rotates them). Once Admitad refuses the refresh token, or
/// without one, fetching fails with a
/// [`CredentialsRejected`](adauth_core::ErrorKind::CredentialsRejected) error for which
/// [`adauth_core::is_authorization_required`] holds: the user must authorize the
/// application again. It never falls back to client credentials, which would act for the
/// application's owner instead of the user. A refused client (`invalid_client`) is that
/// error, with Admitad's code.
///
/// The identity is the application's: tokens of different users authorized through the
/// same application are not told apart, so do not share a token store between them.
#[derive(Debug)]
pub struct AuthorizedSource {
    source: AdmitadSource,
    grant: adauth_core::UserGrant,
}

impl AuthorizedSource {
    /// The newest refresh token, to keep for the next run.
    pub fn refresh_token(&self) -> Option<SecretString> {
        self.grant.refresh_token()
    }
}

#[async_trait]
impl TokenSource for AuthorizedSource {
    adauth_core::provider_facts!(crate::DESCRIPTOR);

    fn identity(&self) -> Option<String> {
        let c = &self.source.credentials;
        Some(self.source.client_grant.endpoint().identity(&[
            &c.client_id,
            c.client_secret.expose_secret(),
            "authorization_code",
        ]))
    }

    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        self.grant
            .fetch(
                cx,
                |rt| async move { self.source.refresh_grant(cx, &rt).await },
            )
            .await
    }

    async fn refresh(&self, cx: &FetchContext, refresh_token: &SecretString) -> Result<Token> {
        self.grant
            .refresh(refresh_token, |rt| async move {
                self.source.refresh_grant(cx, &rt).await
            })
            .await
    }
}

/// The user details that become token extras, under their wire names: text as sent, a
/// number as its digits.
const USER_FIELDS: &[&str] = &["username", "first_name", "last_name", "language", "group"];

/// The token endpoint, one spec per grant: a form with the exact content type Admitad's
/// example shows, the user details kept, and Admitad's own error reading
/// ([`token_error`]), which depends on the grant. Only client credentials authenticate with
/// HTTP Basic; the other grants carry the secret in the body, as Admitad documents them.
const TOKEN_ENDPOINT: EndpointSpec = EndpointSpec::form(PROVIDER, TOKEN_PATH)
    .content_type(FORM_CONTENT_TYPE)
    .extras(USER_FIELDS);
const CLIENT_GRANT: EndpointSpec = TOKEN_ENDPOINT
    .client_auth(ClientAuth::Basic)
    .refine_error(client_grant_error);
const REFRESH_GRANT: EndpointSpec = TOKEN_ENDPOINT.refine_error(refresh_grant_error);
const CODE_GRANT: EndpointSpec = TOKEN_ENDPOINT.refine_error(code_grant_error);

fn client_grant_error(response: &HttpResponse, _: adauth_core::Error) -> adauth_core::Error {
    token_error(response, Grant::ClientCredentials, &[])
}

fn refresh_grant_error(response: &HttpResponse, _: adauth_core::Error) -> adauth_core::Error {
    token_error(response, Grant::RefreshToken, &[])
}

fn code_grant_error(response: &HttpResponse, _: adauth_core::Error) -> adauth_core::Error {
    token_error(response, Grant::AuthorizationCode, &[])
}

/// Reads a token answer as every grant does, for tests of the parser.
#[cfg(test)]
pub(crate) fn read_token(cx: &FetchContext, response: &HttpResponse) -> Result<Token> {
    CLIENT_GRANT.read_token(cx, response)
}

#[async_trait]
impl TokenSource for AdmitadSource {
    adauth_core::provider_facts!(crate::DESCRIPTOR);

    fn identity(&self) -> Option<String> {
        Some(self.client_grant.endpoint().identity(&[
            &self.credentials.client_id,
            self.credentials.client_secret.expose_secret(),
            &self.scope,
        ]))
    }

    /// Client credentials; or, once after [`resume_from`](AdmitadSource::resume_from), the
    /// refresh grant with the saved refresh token.
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let pending = self.lock_resume().clone();
        if let Some(refresh_token) = pending {
            let outcome = self.refresh_grant(cx, &refresh_token).await;
            let spent = match &outcome {
                Ok(_) => true,
                Err(e) => e.is_credentials_rejected() && !e.is_client_rejected(),
            };
            if spent {
                let mut resume = self.lock_resume();
                if resume
                    .as_ref()
                    .is_some_and(|r| r.expose_secret() == refresh_token.expose_secret())
                {
                    *resume = None;
                }
            }
            match outcome {
                Ok(token) if token.refresh_token().is_none() => {
                    return Ok(token.with_refresh_token(Some(refresh_token)));
                }
                Ok(token) => return Ok(token),
                // A provider that echoes the dead refresh token in its answer to the
                // fallback must not leak it either.
                // The refresh token was refused: client credentials. A refused client
                // (`invalid_client`) is the error: minting instead would repeat on every
                // renewal, against Admitad's cap on tokens per application.
                Err(e) if e.is_credentials_rejected() && !e.is_client_rejected() => {
                    return self
                        .client_credentials(cx)
                        .await
                        .map_err(|e| e.scrub(&[refresh_token.expose_secret()]));
                }
                Err(e) => return Err(e),
            }
        }
        self.client_credentials(cx).await
    }

    /// The refresh grant: `grant_type=refresh_token` with `client_id`, `client_secret` and
    /// `refresh_token`. The answer carries a new refresh token, which replaces this one.
    async fn refresh(&self, cx: &FetchContext, refresh_token: &SecretString) -> Result<Token> {
        self.refresh_grant(cx, refresh_token).await
    }
}

/// Admitad's browser login, registered on [`DESCRIPTOR`] for `adauth login admitad`: the
/// authorization-code flow for the application and scopes of [`Credentials::from_lookup`].
pub(crate) struct Login;

/// An Admitad login in progress. `Debug` shows neither the URL nor the `state` it carries.
struct PendingLogin {
    source: AdmitadSource,
    request: AuthorizationRequest,
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl adauth_core::Login for Login {
    fn start(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
        redirect_uri: &str,
    ) -> Result<Box<dyn adauth_core::PendingLogin>> {
        let source = AdmitadSource::new(Credentials::from_lookup(lookup)?)?;
        let request = source.authorization_request(redirect_uri)?;
        Ok(Box::new(PendingLogin { source, request }))
    }

    fn source(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
        _redirect_uri: &str,
    ) -> Result<Box<dyn TokenSource>> {
        Ok(Box::new(AuthorizedSource {
            source: AdmitadSource::new(Credentials::from_lookup(lookup)?)?,
            grant: adauth_core::UserGrant::new(PROVIDER, None, None),
        }))
    }
}

#[async_trait]
impl adauth_core::PendingLogin for PendingLogin {
    fn url(&self) -> &Url {
        self.request.url()
    }

    async fn finish(&self, redirected_to: &str) -> Result<Box<dyn TokenSource>> {
        let cx = FetchContext::default();
        let token = self
            .source
            .complete_authorization(&cx, &self.request, redirected_to)
            .await?;
        Ok(Box::new(self.source.authorized(token)))
    }
}
