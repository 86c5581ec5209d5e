use std::fmt;

use adauth_core::endpoint::{ClientAuth, Encoding};

use adauth_core::http;
use adauth_core::secrecy::SecretString;
use adauth_core::{Error, Result, env};
use url::Url;

use crate::{
    DEFAULT_API_URL, DEFAULT_AUDIENCE, DEFAULT_AUTH_URL, ENV_API_URL, ENV_AUDIENCE, ENV_AUTH_URL,
    ENV_CLIENT_AUTH, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_ENCODING, ENV_PASSWORD, ENV_REALM,
    ENV_SCOPE, ENV_SESSION, ENV_USERNAME, PROVIDER,
};

/// How the password grant's body is encoded.
///
/// MediaMath's page sends JSON; Auth0 accepts a form as well, which is what MediaMath's Go
/// SDK sends. Refreshes and code exchanges are always forms, as Auth0 documents them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyEncoding {
    /// `Content-Type: application/json`, as on MediaMath's page (the default).
    #[default]
    Json,
    /// `Content-Type: application/x-www-form-urlencoded`.
    Form,
}

/// Password-grant credentials: the application's client ID and secret, a MediaMath Platform
/// user's name and password, and the request settings (audience, scope, realm, hosts, the
/// legacy session).
#[derive(Clone)]
pub struct Credentials {
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) username: String,
    pub(crate) password: SecretString,
    pub(crate) audience: String,
    pub(crate) scope: String,
    pub(crate) realm: Option<String>,
    pub(crate) auth_url: Url,
    pub(crate) api_url: Url,
    pub(crate) session: bool,
    pub(crate) encoding: BodyEncoding,
    pub(crate) client_auth: ClientAuth,
}

impl Credentials {
    /// Credentials with every setting at its default.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Result<Self> {
        Self::builder()
            .client_id(client_id)
            .client_secret(client_secret)
            .username(username)
            .password(password)
            .build()
    }

    /// A builder, to change the settings too.
    pub fn builder() -> CredentialsBuilder {
        CredentialsBuilder::default()
    }

    /// Reads [`ENV_CLIENT_ID`], [`ENV_CLIENT_SECRET`], [`ENV_USERNAME`], [`ENV_PASSWORD`] and,
    /// if set, [`ENV_AUDIENCE`], [`ENV_SCOPE`], [`ENV_REALM`], [`ENV_AUTH_URL`],
    /// [`ENV_API_URL`] and [`ENV_SESSION`].
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(&env::process)
    }

    /// As [`from_env`](Self::from_env), with variables from `lookup`.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        env::require_all(
            PROVIDER,
            lookup,
            &[ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_USERNAME, ENV_PASSWORD],
        )?;
        let mut builder = Self::builder()
            .client_id(env::required(PROVIDER, lookup, ENV_CLIENT_ID)?)
            .client_secret(env::required(PROVIDER, lookup, ENV_CLIENT_SECRET)?)
            .username(env::required(PROVIDER, lookup, ENV_USERNAME)?)
            .password(env::required(PROVIDER, lookup, ENV_PASSWORD)?);
        if let Some(audience) = env::optional(lookup, ENV_AUDIENCE) {
            builder = builder.audience(audience);
        }
        if let Some(scope) = env::optional(lookup, ENV_SCOPE) {
            builder = builder.scope(scope);
        }
        if let Some(realm) = env::optional(lookup, ENV_REALM) {
            builder = builder.realm(realm);
        }
        if let Some(url) = env::optional(lookup, ENV_AUTH_URL) {
            builder = builder.auth_url(url);
        }
        if let Some(url) = env::optional(lookup, ENV_API_URL) {
            builder = builder.api_url(url);
        }
        let session = match env::optional(lookup, ENV_SESSION).as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            // The value is not repeated: whatever was put there, it is not ours to print.
            Some(_) => {
                return Err(Error::configuration(
                    PROVIDER,
                    format!("environment variable {ENV_SESSION} must be 1 or 0"),
                ));
            }
        };
        if let Some(value) = env::optional(lookup, ENV_ENCODING) {
            builder = builder.encoding(match value.to_ascii_lowercase().as_str() {
                "json" => BodyEncoding::Json,
                "form" => BodyEncoding::Form,
                _ => {
                    return Err(Error::configuration(
                        PROVIDER,
                        format!("environment variable {ENV_ENCODING} must be `json` or `form`"),
                    ));
                }
            });
        }
        if let Some(value) = env::optional(lookup, ENV_CLIENT_AUTH) {
            builder = builder.client_auth(match value.to_ascii_lowercase().as_str() {
                "body" => ClientAuth::Body,
                "basic" => ClientAuth::Basic,
                _ => {
                    return Err(Error::configuration(
                        PROVIDER,
                        format!("environment variable {ENV_CLIENT_AUTH} must be `body` or `basic`"),
                    ));
                }
            });
        }
        builder.session(session).build()
    }

    /// The application's client ID.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The `audience` sent with the password grant.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The `scope` sent with the password grant (empty by default).
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The realm, when the password-realm grant is used.
    pub fn realm(&self) -> Option<&str> {
        self.realm.as_deref()
    }

    /// The Auth0 host.
    pub fn auth_url(&self) -> &Url {
        &self.auth_url
    }

    /// The API host.
    pub fn api_url(&self) -> &Url {
        &self.api_url
    }

    /// Whether an `adama_session` cookie is fetched with every token.
    pub fn session(&self) -> bool {
        self.session
    }

    /// How the password grant's body is encoded.
    pub fn encoding(&self) -> BodyEncoding {
        self.encoding
    }

    /// How the client authenticates on token requests.
    pub fn client_auth(&self) -> ClientAuth {
        self.client_auth
    }

    /// The encoding and client authentication, as the token endpoint takes them.
    pub(crate) fn wire(&self) -> (Encoding, ClientAuth) {
        let encoding = match self.encoding {
            BodyEncoding::Json => Encoding::Json,
            BodyEncoding::Form => Encoding::Form,
        };
        (encoding, self.client_auth)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("audience", &self.audience)
            .field("scope", &self.scope)
            .field("realm", &self.realm)
            .field("auth_url", &self.auth_url.as_str())
            .field("api_url", &self.api_url.as_str())
            .field("session", &self.session)
            .field("encoding", &self.encoding)
            .field("client_auth", &self.client_auth)
            .finish()
    }
}

/// Builds [`Credentials`].
#[derive(Default)]
pub struct CredentialsBuilder {
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    username: Option<String>,
    password: Option<SecretString>,
    audience: Option<String>,
    scope: Option<String>,
    realm: Option<String>,
    auth_url: Option<String>,
    api_url: Option<String>,
    session: bool,
    encoding: BodyEncoding,
    client_auth: Option<ClientAuth>,
}

impl CredentialsBuilder {
    /// The application's client ID (required).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The application's client secret (required).
    pub fn client_secret(mut self, client_secret: impl Into<SecretString>) -> Self {
        self.client_secret = Some(client_secret.into());
        self
    }

    /// The MediaMath Platform user name (required).
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// The user's password (required).
    pub fn password(mut self, password: impl Into<SecretString>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// The `audience` (default [`DEFAULT_AUDIENCE`]).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The space-separated scopes (default empty, as on MediaMath's page). Include
    /// `offline_access` to get a refresh token, which is then used for renewals.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Uses the Auth0 password-realm grant ([`PASSWORD_REALM_GRANT`](crate::PASSWORD_REALM_GRANT))
    /// with this realm, such as [`T1_PRODUCTION_REALM`](crate::T1_PRODUCTION_REALM), instead of
    /// the plain password grant.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// The Auth0 host (default [`DEFAULT_AUTH_URL`]; the one MediaMath's current
    /// documentation uses; the older page's is [`PAGE_AUTH_URL`](crate::PAGE_AUTH_URL)); `https`, or `http` for a loopback host.
    pub fn auth_url(mut self, auth_url: impl Into<String>) -> Self {
        self.auth_url = Some(auth_url.into());
        self
    }

    /// The API host, where the session is fetched (default [`DEFAULT_API_URL`]).
    pub fn api_url(mut self, api_url: impl Into<String>) -> Self {
        self.api_url = Some(api_url.into());
        self
    }

    /// Whether to fetch an `adama_session` cookie with every token (default `false`), for
    /// the APIs that are not migrated to OAuth2 yet.
    pub fn session(mut self, yes: bool) -> Self {
        self.session = yes;
        self
    }

    /// How the password grant's body is encoded (default [`BodyEncoding::Json`]).
    pub fn encoding(mut self, encoding: BodyEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// How the client authenticates on token requests: `client_id` and `client_secret` in
    /// the body (the default, as MediaMath's page shows), or HTTP Basic (RFC 6749, section
    /// 2.3.1), which Auth0 accepts too.
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = Some(auth);
        self
    }

    /// Checks and builds the credentials.
    pub fn build(self) -> Result<Credentials> {
        let client_id = required_text(self.client_id, "client_id")?;
        let client_secret = required_secret(self.client_secret, "client_secret")?;
        let username = required_text(self.username, "username")?;
        let password = required_secret(self.password, "password")?;
        let audience = self
            .audience
            .map(|a| a.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_AUDIENCE.to_owned());
        let scope = self.scope.map(|s| s.trim().to_owned()).unwrap_or_default();
        let realm = match self.realm {
            Some(realm) if realm.trim().is_empty() => return Err(missing("realm")),
            realm => realm.map(|r| r.trim().to_owned()),
        };
        let (auth_url, api_url) = hosts(self.auth_url, self.api_url)?;
        Ok(Credentials {
            client_id,
            client_secret,
            username,
            password,
            audience,
            scope,
            realm,
            auth_url,
            api_url,
            session: self.session,
            encoding: self.encoding,
            client_auth: self.client_auth.unwrap_or(ClientAuth::Body),
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
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("audience", &self.audience)
            .field("scope", &self.scope)
            .field("realm", &self.realm)
            .field("auth_url", &self.auth_url)
            .field("api_url", &self.api_url)
            .field("session", &self.session)
            .field("encoding", &self.encoding)
            .field("client_auth", &self.client_auth)
            .finish()
    }
}

pub(crate) fn missing(what: &str) -> Error {
    adauth_core::required::missing(PROVIDER, what)
}

pub(crate) fn required_text(value: Option<String>, what: &str) -> Result<String> {
    adauth_core::required::required_text(PROVIDER, value, what)
}

pub(crate) fn required_secret(value: Option<SecretString>, what: &str) -> Result<SecretString> {
    adauth_core::required::required_secret(PROVIDER, value, what)
}

/// The auth and API hosts, defaulted and checked.
pub(crate) fn hosts(auth_url: Option<String>, api_url: Option<String>) -> Result<(Url, Url)> {
    let auth_url = http::parse_endpoint(PROVIDER, auth_url.as_deref().unwrap_or(DEFAULT_AUTH_URL))?;
    let api_url = http::parse_endpoint(PROVIDER, api_url.as_deref().unwrap_or(DEFAULT_API_URL))?;
    Ok((auth_url, api_url))
}
