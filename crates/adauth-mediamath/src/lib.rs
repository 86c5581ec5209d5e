#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod auth0;
mod code;
mod credentials;
mod session;
mod source;
mod time;

#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit;

use std::time::Duration;

use adauth_core::{Error, TokenSource};

pub use adauth_core::provider_kit::endpoint::ClientAuth;
pub use code::{
    AppCredentials, AppCredentialsBuilder, AuthorizationCodeFlow, AuthorizedSource,
    PendingAuthorization, app_credentials_builder,
};
pub use credentials::{BodyEncoding, Credentials, CredentialsBuilder, credentials_builder};
pub use source::MediaMathSource;

/// The provider name used in errors and logs.
pub const PROVIDER: &str = "mediamath";

/// The lifetime of this provider's tokens as its documentation gives it, assumed for an
/// answer that gives none. MediaMath's token answers document `"expires_in": 86400`: a day.
pub const DOCUMENTED_LIFETIME: std::time::Duration = std::time::Duration::from_secs(86400);

/// The Auth0 host, the default: the one MediaMath's current documentation and SDKs use.
pub const DEFAULT_AUTH_URL: &str = "https://auth.mediamath.com/";

/// The Auth0 host named on MediaMath's older authentication page; set it with
/// [`CredentialsBuilder::auth_url`] or [`ENV_AUTH_URL`] where a tenant still needs it.
pub const PAGE_AUTH_URL: &str = "https://mediamath.auth0.com/";

/// The API host, where the legacy session lives.
pub const DEFAULT_API_URL: &str = "https://api.mediamath.com/";

/// The default `audience` of token requests.
pub const DEFAULT_AUDIENCE: &str = "https://api.mediamath.com/";

/// The token endpoint, relative to the auth host.
pub const TOKEN_PATH: &str = "/oauth/token";

/// The authorization endpoint users are sent to, relative to the auth host.
pub const AUTHORIZE_PATH: &str = "/authorize";

/// The legacy session endpoint, relative to the API host.
pub const SESSION_PATH: &str = "/api/v2.0/session";

/// The `grant_type` of the Auth0 password-realm variant of the password grant.
pub const PASSWORD_REALM_GRANT: &str = "http://auth0.com/oauth/grant-type/password-realm";

/// The realm MediaMath's Python SDK uses with the password-realm grant.
pub const T1_PRODUCTION_REALM: &str = "T1DB-Production";

/// The legacy session cookie, and the name of the [secret
/// extra](adauth_core::Token::secret_extra) that holds it on a token.
pub const SESSION_COOKIE: &str = "adama_session";

/// How long a session is assumed to last when the session response does not say: about a day.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// The error code of a redirect whose `state` is not the one this client sent; see
/// [`is_state_mismatch`].
pub const STATE_MISMATCH: &str = "state_mismatch";

/// The error code given when a token can only be renewed by a new user authorization; see
/// [`is_authorization_required`].
pub const AUTHORIZATION_REQUIRED: &str = adauth_core::AUTHORIZATION_REQUIRED;

/// `ADAUTH_MEDIAMATH_CLIENT_ID`: the application's client ID.
pub const ENV_CLIENT_ID: &str = "ADAUTH_MEDIAMATH_CLIENT_ID";
/// `ADAUTH_MEDIAMATH_CLIENT_SECRET`: the application's client secret.
pub const ENV_CLIENT_SECRET: &str = "ADAUTH_MEDIAMATH_CLIENT_SECRET";
/// `ADAUTH_MEDIAMATH_USERNAME`: the MediaMath Platform user name (an email address).
pub const ENV_USERNAME: &str = "ADAUTH_MEDIAMATH_USERNAME";
/// `ADAUTH_MEDIAMATH_PASSWORD`: the user's password.
pub const ENV_PASSWORD: &str = "ADAUTH_MEDIAMATH_PASSWORD";
/// `ADAUTH_MEDIAMATH_AUDIENCE`: optional, overrides [`DEFAULT_AUDIENCE`].
pub const ENV_AUDIENCE: &str = "ADAUTH_MEDIAMATH_AUDIENCE";
/// `ADAUTH_MEDIAMATH_SCOPE`: optional, the space-separated scopes (`offline_access` for a
/// refresh token); empty by default.
pub const ENV_SCOPE: &str = "ADAUTH_MEDIAMATH_SCOPE";
/// `ADAUTH_MEDIAMATH_REALM`: optional; when set, the password-realm grant is used with this
/// realm (such as [`T1_PRODUCTION_REALM`]).
pub const ENV_REALM: &str = "ADAUTH_MEDIAMATH_REALM";
/// `ADAUTH_MEDIAMATH_AUTH_URL`: optional, overrides [`DEFAULT_AUTH_URL`].
pub const ENV_AUTH_URL: &str = "ADAUTH_MEDIAMATH_AUTH_URL";
/// `ADAUTH_MEDIAMATH_API_URL`: optional, overrides [`DEFAULT_API_URL`].
pub const ENV_API_URL: &str = "ADAUTH_MEDIAMATH_API_URL";
/// `ADAUTH_MEDIAMATH_ENCODING`: optional, `json` (the default, as MediaMath's page sends
/// the password grant) or `form` (as RFC 6749 and form-only servers want it).
pub const ENV_ENCODING: &str = "ADAUTH_MEDIAMATH_ENCODING";
/// `ADAUTH_MEDIAMATH_CLIENT_AUTH`: optional, `body` (the default) or `basic`: how the client
/// authenticates on token requests.
pub const ENV_CLIENT_AUTH: &str = "ADAUTH_MEDIAMATH_CLIENT_AUTH";
/// `ADAUTH_MEDIAMATH_SESSION`: optional; `1` fetches an `adama_session` cookie with every
/// token, `0` (or unset) does not.
pub const ENV_SESSION: &str = "ADAUTH_MEDIAMATH_SESSION";

/// This provider, as the umbrella crate registers it.
pub const DESCRIPTOR: adauth_core::Provider = {
    use adauth_core::EnvVar;
    let provider = adauth_core::Provider::new(PROVIDER, "MediaMath", source_from_lookup)
        .with_env_vars(&[
            EnvVar::required(ENV_CLIENT_ID, "the application's client ID"),
            EnvVar::required(ENV_CLIENT_SECRET, "the application's client secret").secret(),
            EnvVar::required(
                ENV_USERNAME,
                "the MediaMath Platform user name (an email address)",
            ),
            EnvVar::required(ENV_PASSWORD, "the user's password").secret(),
            EnvVar::optional(
                ENV_AUDIENCE,
                "the API audience; default `https://api.mediamath.com/`",
            ),
            EnvVar::optional(
                ENV_SCOPE,
                "the space-separated scopes (`offline_access` for a refresh token)",
            ),
            EnvVar::optional(
                ENV_REALM,
                "the realm of the password-realm grant, when that grant is wanted",
            ),
            EnvVar::optional(
                ENV_AUTH_URL,
                "the token host; default `https://auth.mediamath.com/`",
            ),
            EnvVar::optional(
                ENV_API_URL,
                "the API host; default `https://api.mediamath.com/`",
            ),
            EnvVar::optional(
                ENV_SESSION,
                "`1` fetches an `adama_session` cookie with every token",
            ),
            EnvVar::optional(
                ENV_ENCODING,
                "the password grant's body: `json` (the default) or `form`",
            ),
            EnvVar::optional(
                ENV_CLIENT_AUTH,
                "the client's authentication: `body` (the default) or `basic`",
            ),
        ])
        .with_documented_lifetime(DOCUMENTED_LIFETIME)
        .with_login(&code::Login);
    #[cfg(feature = "testkit")]
    let provider = provider.with_fake(&adauth_testkit::fake::Registration(&testkit::FAKE));
    provider
};

/// The source that variables from `lookup` describe; see [`Credentials::from_lookup`].
fn source_from_lookup(
    lookup: &dyn Fn(&str) -> Option<String>,
) -> adauth_core::Result<Box<dyn TokenSource>> {
    Ok(Box::new(MediaMathSource::new(Credentials::from_lookup(
        lookup,
    )?)?))
}

/// Whether `err` says that an authorization redirect did not carry the `state` this client
/// sent (a forged or stale redirect): start a new authorization.
pub fn is_state_mismatch(err: &Error) -> bool {
    err.provider() == PROVIDER && err.code() == Some(STATE_MISMATCH)
}

/// Whether `err` says that the user must authorize the application again: there is no
/// refresh token to renew the token with, or MediaMath refused it.
pub fn is_authorization_required(err: &Error) -> bool {
    err.provider() == PROVIDER && err.code() == Some(AUTHORIZATION_REQUIRED)
}
