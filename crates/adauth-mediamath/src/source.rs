use adauth_core::http::HttpClient;
use adauth_core::reqwest::header::HeaderMap;
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{FetchContext, Result, Token, TokenSource, async_trait};

use crate::auth0::Auth0;
use crate::credentials::Credentials;
use crate::{PASSWORD_REALM_GRANT, PROVIDER};

/// Fetches tokens with the password grant (`POST /oauth/token`), renews them with the refresh
/// token when the scope includes `offline_access`, and, when the session is enabled, fetches
/// an `adama_session` cookie with every new token.
#[derive(Debug, Clone)]
pub struct MediaMathSource {
    credentials: Credentials,
    auth0: Auth0,
}

impl MediaMathSource {
    /// A source using the default HTTP client.
    pub fn new(credentials: Credentials) -> Result<Self> {
        Self::with_http(credentials, HttpClient::new())
    }

    /// A source using `http`, for a custom reqwest client or retry policy.
    pub fn with_http(credentials: Credentials, http: HttpClient) -> Result<Self> {
        let auth0 = Auth0::new(
            (
                credentials.client_id.clone(),
                credentials.client_secret.clone(),
            ),
            &credentials.auth_url,
            &credentials.api_url,
            credentials.session,
            credentials.wire(),
            http,
        )?;
        Ok(Self { credentials, auth0 })
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

#[async_trait]
impl TokenSource for MediaMathSource {
    adauth_core::provider_facts!(crate::DESCRIPTOR);

    fn identity(&self) -> Option<String> {
        let c = &self.credentials;
        Some(adauth_core::credential_identity(
            PROVIDER,
            &[
                c.auth_url.as_str(),
                c.api_url.as_str(),
                &c.client_id,
                c.client_secret.expose_secret(),
                &c.username,
                c.password.expose_secret(),
                &c.audience,
                &c.scope,
                c.realm.as_deref().unwrap_or(""),
                if c.session { "session" } else { "" },
            ],
        ))
    }

    /// The password grant, in the field order of MediaMath's sample body; the client in
    /// the body or in HTTP Basic, as the credentials say.
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let c = &self.credentials;
        let grant_type = match c.realm {
            Some(_) => PASSWORD_REALM_GRANT,
            None => "password",
        };
        self.auth0
            .fetch_with(cx, || {
                let mut request = self
                    .auth0
                    .endpoint
                    .request()
                    .field("grant_type", grant_type)
                    .field("username", &c.username)
                    .secret("password", &c.password)
                    .field("audience", &c.audience)
                    .field("scope", &c.scope)
                    .client(&c.client_id, &c.client_secret);
                if let Some(realm) = &c.realm {
                    request = request.field("realm", realm);
                }
                self.auth0.token(cx, request)
            })
            .await
    }

    async fn refresh(&self, cx: &FetchContext, refresh_token: &SecretString) -> Result<Token> {
        // The password is not sent here, but a server that echoes what it knows could still
        // name it.
        let password = self.credentials.password.expose_secret();
        self.auth0
            .refresh(cx, refresh_token)
            .await
            .map_err(|e| e.scrub(&[password]))
    }

    fn authorize_headers(&self, headers: &mut HeaderMap, token: &Token) -> Result<()> {
        self.auth0.authorize_headers(headers, token)
    }
}
