use adauth_core::provider_kit::wire::UrlSetting;
use std::fmt;

use adauth_core::provider_kit::endpoint::{ClientAuth, Encoding};

use adauth_core::provider_kit::env;
use adauth_core::secrecy::SecretString;
use adauth_core::{Error, Result};
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

#[bon::bon]
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

    /// A builder, to change the settings too. Leaving out the client, the user name or the
    /// password does not compile.
    #[builder(builder_type = CredentialsBuilder, finish_fn = build, state_mod(vis = "pub"), derive(Debug, Clone))]
    pub fn builder(
        /// The application's client ID.
        #[builder(into)]
        client_id: String,
        /// The application's client secret.
        #[builder(into)]
        client_secret: SecretString,
        /// The MediaMath Platform user name.
        #[builder(into)]
        username: String,
        /// The user's password.
        #[builder(into)]
        password: SecretString,
        /// The `audience` (default [`DEFAULT_AUDIENCE`]).
        #[builder(into)]
        audience: Option<String>,
        /// The space-separated scopes (default empty, as on MediaMath's page). Include
        /// `offline_access` to get a refresh token, which is then used for renewals.
        #[builder(into)]
        scope: Option<String>,
        /// Uses the Auth0 password-realm grant
        /// ([`PASSWORD_REALM_GRANT`](crate::PASSWORD_REALM_GRANT)) with this realm, such as
        /// [`T1_PRODUCTION_REALM`](crate::T1_PRODUCTION_REALM), instead of the plain
        /// password grant.
        #[builder(into)]
        realm: Option<String>,
        /// The Auth0 host (default [`DEFAULT_AUTH_URL`], the one MediaMath's current
        /// documentation uses; the older page's is [`PAGE_AUTH_URL`](crate::PAGE_AUTH_URL));
        /// `https`, or `http` for a loopback host.
        #[builder(into)]
        auth_url: Option<UrlSetting>,
        /// The API host, where the session is fetched (default [`DEFAULT_API_URL`]).
        #[builder(into)]
        api_url: Option<UrlSetting>,
        /// Whether to fetch an `adama_session` cookie with every token (default `false`),
        /// for the APIs that are not migrated to OAuth2 yet.
        #[builder(default)]
        session: bool,
        /// How the password grant's body is encoded (default [`BodyEncoding::Json`]).
        #[builder(default)]
        encoding: BodyEncoding,
        /// How the client authenticates on token requests: `client_id` and `client_secret`
        /// in the body (the default, as MediaMath's page shows), or HTTP Basic (RFC 6749,
        /// section 2.3.1), which Auth0 accepts too.
        #[builder(default = ClientAuth::Body)]
        client_auth: ClientAuth,
    ) -> Result<Self> {
        let realm = match realm {
            Some(realm) if realm.trim().is_empty() => return Err(missing("realm")),
            realm => realm.map(|r| r.trim().to_owned()),
        };
        let (auth_url, api_url) = hosts(auth_url, api_url)?;
        Ok(Credentials {
            client_id: required_text(client_id, "client_id")?,
            client_secret: required_secret(client_secret, "client_secret")?,
            username: required_text(username, "username")?,
            password: required_secret(password, "password")?,
            audience: audience.map_or_else(|| DEFAULT_AUDIENCE.to_owned(), |a| a.trim().to_owned()),
            scope: scope.map(|s| s.trim().to_owned()).unwrap_or_default(),
            realm,
            auth_url,
            api_url,
            session,
            encoding,
            client_auth,
        })
    }

    /// Reads [`ENV_CLIENT_ID`], [`ENV_CLIENT_SECRET`], [`ENV_USERNAME`], [`ENV_PASSWORD`] and,
    /// if set, [`ENV_AUDIENCE`], [`ENV_SCOPE`], [`ENV_REALM`], [`ENV_AUTH_URL`],
    /// [`ENV_API_URL`] and [`ENV_SESSION`].
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(&env::process)
    }

    /// As [`from_env`](Self::from_env), with variables from `lookup`.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        crate::DESCRIPTOR.require_env(lookup)?;
        Self::builder()
            .client_id(env::required(PROVIDER, lookup, ENV_CLIENT_ID)?)
            .client_secret(env::required(PROVIDER, lookup, ENV_CLIENT_SECRET)?)
            .username(env::required(PROVIDER, lookup, ENV_USERNAME)?)
            .password(env::required(PROVIDER, lookup, ENV_PASSWORD)?)
            .maybe_audience(env::optional(lookup, ENV_AUDIENCE))
            .maybe_scope(env::optional(lookup, ENV_SCOPE))
            .maybe_realm(env::optional(lookup, ENV_REALM))
            .maybe_auth_url(env::optional(lookup, ENV_AUTH_URL))
            .maybe_api_url(env::optional(lookup, ENV_API_URL))
            .maybe_session(session_from_lookup(lookup)?)
            .maybe_encoding(env::optional_choice(
                PROVIDER,
                lookup,
                ENV_ENCODING,
                &[("json", BodyEncoding::Json), ("form", BodyEncoding::Form)],
            )?)
            .maybe_client_auth(env::optional_choice(
                PROVIDER,
                lookup,
                ENV_CLIENT_AUTH,
                &[("body", ClientAuth::Body), ("basic", ClientAuth::Basic)],
            )?)
            .build()
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

/// [`ENV_SESSION`]: `1` or `0`, if set.
pub(crate) fn session_from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<bool>> {
    env::optional_choice(PROVIDER, lookup, ENV_SESSION, &[("1", true), ("0", false)])
}

pub(crate) fn missing(what: &str) -> Error {
    adauth_core::provider_kit::required::missing(PROVIDER, what)
}

pub(crate) fn required_text(value: String, what: &str) -> Result<String> {
    adauth_core::provider_kit::required::required_text(PROVIDER, Some(value), what)
}

pub(crate) fn required_secret(value: SecretString, what: &str) -> Result<SecretString> {
    adauth_core::provider_kit::required::required_secret(PROVIDER, Some(value), what)
}

/// The auth and API hosts, defaulted and checked.
pub(crate) fn hosts(
    auth_url: Option<UrlSetting>,
    api_url: Option<UrlSetting>,
) -> Result<(Url, Url)> {
    let auth_url = UrlSetting::resolve_or(auth_url, PROVIDER, DEFAULT_AUTH_URL)?;
    let api_url = UrlSetting::resolve_or(api_url, PROVIDER, DEFAULT_API_URL)?;
    Ok((auth_url, api_url))
}
