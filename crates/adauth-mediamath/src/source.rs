use adauth_core::http::{self, HttpClient};
use adauth_core::reqwest::RequestBuilder;
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{FetchContext, Result, Token, TokenSource, async_trait};
use serde::Serialize;

use crate::auth0::Auth0;
use crate::credentials::{BodyEncoding, Credentials};
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
            credentials.client_id.clone(),
            credentials.client_secret.clone(),
            &credentials.auth_url,
            &credentials.api_url,
            credentials.session,
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

/// The password grant, in the field order of MediaMath's sample body.
#[derive(Serialize)]
struct PasswordRequest<'a> {
    grant_type: &'a str,
    username: &'a str,
    password: &'a str,
    audience: &'a str,
    scope: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    realm: Option<&'a str>,
}

impl PasswordRequest<'_> {
    /// The same fields, in the same order, for a form body.
    fn fields(&self) -> Vec<(&str, &str)> {
        let mut fields = vec![
            ("grant_type", self.grant_type),
            ("username", self.username),
            ("password", self.password),
            ("audience", self.audience),
            ("scope", self.scope),
            ("client_id", self.client_id),
            ("client_secret", self.client_secret),
        ];
        if let Some(realm) = self.realm {
            fields.push(("realm", realm));
        }
        fields
    }
}

#[async_trait]
impl TokenSource for MediaMathSource {
    fn provider(&self) -> &str {
        PROVIDER
    }

    fn documented_lifetime(&self) -> Option<std::time::Duration> {
        Some(crate::DOCUMENTED_LIFETIME)
    }

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

    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let c = &self.credentials;
        let password = c.password.expose_secret();
        let body = PasswordRequest {
            grant_type: match c.realm {
                Some(_) => PASSWORD_REALM_GRANT,
                None => "password",
            },
            username: &c.username,
            password,
            audience: &c.audience,
            scope: &c.scope,
            client_id: &c.client_id,
            client_secret: c.client_secret.expose_secret(),
            realm: c.realm.as_deref(),
        };
        let encoded = match c.encoding {
            BodyEncoding::Json => (http::JSON, http::json_body(&body)),
            BodyEncoding::Form => (http::FORM, http::form_body(&body.fields())),
        };
        self.auth0
            .token(cx, encoded.0, encoded.1, &[password])
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

    fn authorize(&self, request: RequestBuilder, token: &Token) -> Result<RequestBuilder> {
        self.auth0.authorize(request, token)
    }
}
