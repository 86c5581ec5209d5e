//! The authorization-code flow for third-party applications: the authorize URL with `state`
//! and PKCE, the state check, the code exchange, and a source that renews the resulting token
//! with its refresh token.

use adauth_core::provider_kit::wire;
use std::fmt;
use std::sync::Arc;

use adauth_core::UserGrant;
use adauth_core::http::HttpClient;
use adauth_core::provider_kit::endpoint::{ClientAuth, Encoding};
use adauth_core::reqwest::StatusCode;
use adauth_core::reqwest::header::HeaderMap;
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{Error, ErrorKind, FetchContext, Result, Token, TokenSource, async_trait};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use url::Url;

use crate::auth0::{self, Auth0};
use crate::credentials::{hosts, required_secret, required_text};
use crate::{AUTHORIZE_PATH, DEFAULT_AUDIENCE, PROVIDER, STATE_MISMATCH};

/// The default scope of the authorization-code flow: a refresh token, so that the token can
/// be renewed without sending the user through the browser again.
const DEFAULT_APP_SCOPE: &str = "offline_access";

/// A third-party application's registration: its client ID and secret, its redirect URI, and
/// the request settings (scope, audience, hosts, PKCE, the legacy session).
#[derive(Clone)]
pub struct AppCredentials {
    client_id: String,
    client_secret: SecretString,
    redirect_uri: String,
    scope: String,
    audience: String,
    auth_url: Url,
    api_url: Url,
    pkce: bool,
    session: bool,
}

#[bon::bon]
impl AppCredentials {
    /// Credentials with every setting at its default.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
        redirect_uri: impl Into<String>,
    ) -> Result<Self> {
        Self::builder()
            .client_id(client_id)
            .client_secret(client_secret)
            .redirect_uri(redirect_uri)
            .build()
    }

    /// A builder, to change the settings too. Leaving out the client or the redirect URI
    /// does not compile.
    #[builder(builder_type = AppCredentialsBuilder, finish_fn = build, state_mod(vis = "pub"), derive(Debug, Clone))]
    pub fn builder(
        /// The application's client ID.
        #[builder(into)]
        client_id: String,
        /// The application's client secret.
        #[builder(into)]
        client_secret: SecretString,
        /// The redirect URI registered with MediaMath; sent exactly as given.
        #[builder(into)]
        redirect_uri: String,
        /// The space-separated scopes (default `offline_access`, for a refresh token).
        #[builder(into)]
        scope: Option<String>,
        /// The `audience` (default [`DEFAULT_AUDIENCE`]).
        #[builder(into)]
        audience: Option<String>,
        /// The Auth0 host (default [`DEFAULT_AUTH_URL`](crate::DEFAULT_AUTH_URL), the one
        /// MediaMath's current documentation uses; the older page's is
        /// [`PAGE_AUTH_URL`](crate::PAGE_AUTH_URL)).
        #[builder(into)]
        auth_url: Option<wire::UrlSetting>,
        /// The API host, where the session is fetched (default
        /// [`DEFAULT_API_URL`](crate::DEFAULT_API_URL)).
        #[builder(into)]
        api_url: Option<wire::UrlSetting>,
        /// Whether to use PKCE with S256 (default `true`). Auth0 supports it; turn it off
        /// only for a tenant that refuses it.
        #[builder(default = true)]
        pkce: bool,
        /// Whether to fetch an `adama_session` cookie with every token (default `false`).
        #[builder(default)]
        session: bool,
    ) -> Result<Self> {
        let redirect_uri = required_text(redirect_uri, "redirect_uri")?;
        if Url::parse(&redirect_uri).is_err() {
            return Err(Error::configuration(
                PROVIDER,
                format!("redirect_uri {redirect_uri:?} is not an absolute URL"),
            ));
        }
        let (auth_url, api_url) = hosts(auth_url, api_url)?;
        Ok(AppCredentials {
            client_id: required_text(client_id, "client_id")?,
            client_secret: required_secret(client_secret, "client_secret")?,
            redirect_uri,
            scope: scope.map_or_else(|| DEFAULT_APP_SCOPE.to_owned(), |s| s.trim().to_owned()),
            audience: audience.map_or_else(|| DEFAULT_AUDIENCE.to_owned(), |a| a.trim().to_owned()),
            auth_url,
            api_url,
            pkce,
            session,
        })
    }

    /// The application's client ID.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The redirect URI, exactly as registered with MediaMath.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The scopes asked for.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The `audience` asked for.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The Auth0 host.
    pub fn auth_url(&self) -> &Url {
        &self.auth_url
    }

    /// The API host.
    pub fn api_url(&self) -> &Url {
        &self.api_url
    }

    /// Whether PKCE (S256) is used.
    pub fn pkce(&self) -> bool {
        self.pkce
    }

    /// Whether an `adama_session` cookie is fetched with every token.
    pub fn session(&self) -> bool {
        self.session
    }
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri)
            .field("scope", &self.scope)
            .field("audience", &self.audience)
            .field("auth_url", &self.auth_url.as_str())
            .field("api_url", &self.api_url.as_str())
            .field("pkce", &self.pkce)
            .field("session", &self.session)
            .finish()
    }
}

/// The authorization-code flow: send the user to [`start`](Self::start)'s URL, take the
/// redirect back to [`exchange_redirect`](Self::exchange_redirect) (or its `state` and `code`
/// to [`exchange`](Self::exchange)), and renew the token with [`source`](Self::source).
///
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuthorizationCodeFlow {
    app: Arc<AppCredentials>,
    authorize_url: Url,
    auth0: Arc<Auth0>,
}

impl AuthorizationCodeFlow {
    /// A flow using the default HTTP client.
    pub fn new(app: AppCredentials) -> Result<Self> {
        Self::with_http(app, HttpClient::new())
    }

    /// A flow using `http`, for a custom reqwest client or retry policy.
    pub fn with_http(app: AppCredentials, http: HttpClient) -> Result<Self> {
        let authorize_url = wire::join_path(PROVIDER, &app.auth_url, AUTHORIZE_PATH)?;
        let auth0 = Auth0::new(
            (app.client_id.clone(), app.client_secret.clone()),
            &app.auth_url,
            &app.api_url,
            app.session,
            (Encoding::Form, ClientAuth::Body),
            http,
        )?;
        Ok(Self {
            app: Arc::new(app),
            authorize_url,
            auth0: Arc::new(auth0),
        })
    }

    /// The application's credentials.
    pub fn app(&self) -> &AppCredentials {
        &self.app
    }

    /// Starts an authorization: a fresh random `state` and PKCE verifier, and the URL to send
    /// the user's browser to,
    /// `{auth}/authorize?response_type=code&client_id&redirect_uri&scope&audience&state`
    /// `&code_challenge&code_challenge_method=S256`.
    ///
    /// Keep the returned value until the user comes back: the exchange needs it.
    pub fn start(&self) -> Result<PendingAuthorization> {
        let state = random_token(16)?;
        let verifier = if self.app.pkce {
            Some(random_token(32)?)
        } else {
            None
        };
        let mut url = self.authorize_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.app.client_id)
                .append_pair("redirect_uri", &self.app.redirect_uri);
            if !self.app.scope.is_empty() {
                query.append_pair("scope", &self.app.scope);
            }
            query
                .append_pair("audience", &self.app.audience)
                .append_pair("state", &state);
            if let Some(verifier) = &verifier {
                query
                    .append_pair("code_challenge", &code_challenge(verifier))
                    .append_pair("code_challenge_method", "S256");
            }
        }
        Ok(PendingAuthorization {
            url,
            state: SecretString::from(state),
            code_verifier: verifier.map(SecretString::from),
        })
    }

    /// Exchanges the `code` the redirect carried, after checking that its `state` is the one
    /// `pending` sent. A mismatch is an error for which [`is_state_mismatch`](crate::is_state_mismatch)
    /// holds, and nothing is sent.
    pub async fn exchange(
        &self,
        cx: &FetchContext,
        pending: &PendingAuthorization,
        state: &str,
        code: &str,
    ) -> Result<Token> {
        pending.check_state(Some(state))?;
        if code.is_empty() {
            return Err(Error::configuration(
                PROVIDER,
                "the authorization code is empty",
            ));
        }
        let mut request = self
            .auth0
            .form
            .request()
            .field("grant_type", "authorization_code")
            .client(&self.app.client_id, &self.app.client_secret)
            .secret_text("code", code)
            .field("redirect_uri", self.app.redirect_uri.as_str());
        if let Some(verifier) = &pending.code_verifier {
            request = request.secret("code_verifier", verifier);
        }
        self.auth0.token(cx, request).await
    }

    /// As [`exchange`](Self::exchange), with the whole URL the user was redirected to
    /// (`{redirect_uri}?code=...&state=...`). An error redirect
    /// (`?error=access_denied&error_description=...`) becomes an error with Auth0's code and
    /// description.
    pub async fn exchange_redirect(
        &self,
        cx: &FetchContext,
        pending: &PendingAuthorization,
        redirect_url: &str,
    ) -> Result<Token> {
        // The URL is not quoted in errors: it carries the code.
        let url = Url::parse(redirect_url.trim()).map_err(|_| {
            Error::configuration(PROVIDER, "the redirect URL is not an absolute URL")
        })?;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        pending.check_state(param("state").as_deref())?;
        if let Some(code) = param("error") {
            // An error redirect comes with a 302: only the code decides the kind.
            let mut err = Error::new(PROVIDER, auth0::classify(StatusCode::FOUND, Some(&code)))
                .with_message("the authorization was refused")
                .with_code(code);
            if let Some(description) = param("error_description") {
                err = err.with_description(description);
            }
            return Err(err);
        }
        let code = param("code").filter(|c| !c.is_empty()).ok_or_else(|| {
            Error::unexpected(PROVIDER, "the redirect carries neither a code nor an error")
        })?;
        let state = pending.state.expose_secret();
        self.exchange(cx, pending, state, &code).await
    }

    /// A source that hands out `token` (from [`exchange`](Self::exchange)) first, then renews
    /// it with its refresh token. Wrap it in a [`TokenCache`](adauth_core::TokenCache).
    pub fn source(&self, token: Token) -> AuthorizedSource {
        AuthorizedSource {
            flow: self.clone(),
            grant: UserGrant::new(PROVIDER, Some(token), None),
        }
    }

    /// A source that starts from a refresh token kept from an earlier authorization (see
    /// [`AuthorizedSource::refresh_token`]).
    pub fn source_from_refresh_token(&self, refresh_token: SecretString) -> AuthorizedSource {
        AuthorizedSource {
            flow: self.clone(),
            grant: UserGrant::new(PROVIDER, None, Some(refresh_token)),
        }
    }
}

/// An authorization in progress: the URL to send the user to, and the `state` and PKCE
/// verifier the exchange will need. `Debug` shows neither.
pub struct PendingAuthorization {
    url: Url,
    state: SecretString,
    code_verifier: Option<SecretString>,
}

impl PendingAuthorization {
    /// The URL to send the user's browser to.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The random `state` sent in the URL, which the redirect must carry back.
    pub fn state(&self) -> &SecretString {
        &self.state
    }

    /// The PKCE verifier, sent with the exchange (`None` when PKCE is off).
    pub fn code_verifier(&self) -> Option<&SecretString> {
        self.code_verifier.as_ref()
    }

    fn check_state(&self, returned: Option<&str>) -> Result<()> {
        let expected = self.state.expose_secret().as_bytes();
        match returned {
            Some(returned) if same(expected, returned.as_bytes()) => Ok(()),
            _ => Err(Error::new(PROVIDER, ErrorKind::UnexpectedResponse)
                .with_message(
                    "the redirect's state is not the one sent with this authorization \
                     (a forged or stale redirect); start a new authorization",
                )
                .with_code(STATE_MISMATCH)),
        }
    }
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut endpoint = self.url.clone();
        endpoint.set_query(None);
        f.debug_struct("PendingAuthorization")
            .field("endpoint", &endpoint.as_str())
            .field("state", &"[redacted]")
            .field(
                "code_verifier",
                &self.code_verifier.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// Compares without stopping at the first difference, so that timing does not tell how much
/// of a guessed state was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `bytes` bytes from the operating system's CSPRNG, base64url without padding.
fn random_token(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| {
        Error::configuration(PROVIDER, "the system random number generator failed").with_source(e)
    })?;
    Ok(URL_SAFE_NO_PAD.encode(&buf))
}

/// The S256 challenge: base64url (no padding) of the verifier's SHA-256.
fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A source for a token obtained with the authorization-code flow; from
/// [`AuthorizationCodeFlow::source`].
///
/// Its first fetch hands out the exchanged token; later ones renew with the refresh token
/// (scope `offline_access`). Without one, or once MediaMath refuses it, fetching fails with a
/// [`CredentialsRejected`](ErrorKind::CredentialsRejected) error for which
/// [`is_authorization_required`](crate::is_authorization_required) holds: the user must go
/// through the browser again.
pub struct AuthorizedSource {
    flow: AuthorizationCodeFlow,
    grant: UserGrant,
}

impl AuthorizedSource {
    /// The newest refresh token, to keep for the next run
    /// ([`AuthorizationCodeFlow::source_from_refresh_token`]).
    pub fn refresh_token(&self) -> Option<SecretString> {
        self.grant.refresh_token()
    }

    /// The flow this source came from.
    pub fn flow(&self) -> &AuthorizationCodeFlow {
        &self.flow
    }
}

impl fmt::Debug for AuthorizedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizedSource")
            .field("flow", &self.flow)
            .field("initial_token", &self.grant.has_initial_token())
            .field("grant", &self.grant)
            .finish()
    }
}

#[async_trait]
impl TokenSource for AuthorizedSource {
    adauth_core::provider_facts!(crate::DESCRIPTOR);

    /// The application and its redirect URI: tokens of different users authorized through
    /// the same application are not told apart, so do not share a token store between them.
    fn identity(&self) -> Option<String> {
        let app = self.flow.app();
        Some(adauth_core::credential_identity(
            PROVIDER,
            &[
                app.auth_url().as_str(),
                app.client_id(),
                app.redirect_uri(),
                "authorization_code",
            ],
        ))
    }

    /// The exchanged token first; then renewals with the refresh token (scope
    /// `offline_access`). Without one, or once MediaMath refuses it, an
    /// [`authorization_required`](adauth_core::authorization_required) error.
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        self.grant
            .fetch(
                cx,
                |rt| async move { self.flow.auth0.refresh(cx, &rt).await },
            )
            .await
    }

    async fn refresh(&self, cx: &FetchContext, refresh_token: &SecretString) -> Result<Token> {
        self.grant
            .refresh(refresh_token, |rt| async move {
                self.flow.auth0.refresh(cx, &rt).await
            })
            .await
    }

    fn authorize_headers(&self, headers: &mut HeaderMap, token: &Token) -> Result<()> {
        self.flow.auth0.authorize_headers(headers, token)
    }
}

/// MediaMath's browser login, registered on [`DESCRIPTOR`](crate::DESCRIPTOR) for
/// `adauth login mediamath`: the authorization-code flow with PKCE and `offline_access`, for
/// the application in [`ENV_CLIENT_ID`](crate::ENV_CLIENT_ID) and
/// [`ENV_CLIENT_SECRET`](crate::ENV_CLIENT_SECRET) (and, if set, the hosts and the session).
pub(crate) struct Login;

fn flow_from_lookup(
    lookup: adauth_core::login::Lookup<'_>,
    redirect_uri: &str,
) -> Result<AuthorizationCodeFlow> {
    use crate::{ENV_API_URL, ENV_AUTH_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET};
    use adauth_core::provider_kit::env;
    env::require_all(PROVIDER, lookup, &[ENV_CLIENT_ID, ENV_CLIENT_SECRET])?;
    let app = AppCredentials::builder()
        .client_id(env::required(PROVIDER, lookup, ENV_CLIENT_ID)?)
        .client_secret(env::required(PROVIDER, lookup, ENV_CLIENT_SECRET)?)
        .redirect_uri(redirect_uri)
        .maybe_auth_url(env::optional(lookup, ENV_AUTH_URL))
        .maybe_api_url(env::optional(lookup, ENV_API_URL))
        .maybe_session(crate::credentials::session_from_lookup(lookup)?)
        .build()?;
    AuthorizationCodeFlow::new(app)
}

/// A MediaMath login in progress.
#[derive(Debug)]
struct Pending {
    flow: AuthorizationCodeFlow,
    pending: PendingAuthorization,
}

#[async_trait]
impl adauth_core::Login for Login {
    fn start(
        &self,
        lookup: adauth_core::login::Lookup<'_>,
        redirect_uri: &str,
    ) -> Result<Box<dyn adauth_core::PendingLogin>> {
        let flow = flow_from_lookup(lookup, redirect_uri)?;
        let pending = flow.start()?;
        Ok(Box::new(Pending { flow, pending }))
    }

    fn source(
        &self,
        lookup: adauth_core::login::Lookup<'_>,
        redirect_uri: &str,
    ) -> Result<Box<dyn TokenSource>> {
        Ok(Box::new(AuthorizedSource {
            flow: flow_from_lookup(lookup, redirect_uri)?,
            grant: UserGrant::new(PROVIDER, None, None),
        }))
    }
}

#[async_trait]
impl adauth_core::PendingLogin for Pending {
    fn url(&self) -> &Url {
        self.pending.url()
    }

    async fn finish(&self, redirected_to: &str) -> Result<Box<dyn TokenSource>> {
        let cx = FetchContext::default();
        let token = self
            .flow
            .exchange_redirect(&cx, &self.pending, redirected_to)
            .await?;
        Ok(Box::new(self.flow.source(token)))
    }
}
