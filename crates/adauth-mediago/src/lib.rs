#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod credentials;
mod source;
mod wire;

#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit;

use adauth_core::{Result, TokenSource};

pub use credentials::{ApiToken, Credentials, CredentialsBuilder, TokenLevel, credentials_builder};
pub use source::{Account, MediagoSource};

/// The provider name used in errors and logs.
pub const PROVIDER: &str = "mediago";

/// The lifetime of this provider's tokens as its documentation gives it, assumed for an
/// answer that gives none. Mediago's token answer documents `"expires_in": 3600`: an hour.
pub const DOCUMENTED_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

/// The API host from Mediago's documentation.
pub const DEFAULT_BASE_URL: &str = "https://api.mediago.io";

/// The client-level token endpoint, relative to the base URL.
pub const CLIENT_TOKEN_PATH: &str = "/data/v1/client/authentication";

/// The account-level token endpoint, relative to the base URL.
pub const ACCOUNT_TOKEN_PATH: &str = "/data/v1/authentication";

/// The list of accounts under the client, relative to the base URL.
pub const ACCOUNTS_PATH: &str = "/data/v1/client/accounts";

/// The content type of the (empty) token request, as Mediago's own clients send it.
pub const TOKEN_REQUEST_CONTENT_TYPE: &str = "application/x-www-form-urlencoded;charset=utf-8";

/// The header that names the account on calls made with a client-level token.
pub const DEFAULT_ACCOUNT_HEADER: &str = "Account-Id";

/// `ADAUTH_MEDIAGO_API_TOKEN`: the API token. A value containing `:` is a raw `id:secret`
/// pair and is Base64-encoded; anything else is sent as given (see [`ApiToken::parse`]).
pub const ENV_API_TOKEN: &str = "ADAUTH_MEDIAGO_API_TOKEN";
/// `ADAUTH_MEDIAGO_TOKEN_LEVEL`: optional, `client` (the default) or `account`.
pub const ENV_TOKEN_LEVEL: &str = "ADAUTH_MEDIAGO_TOKEN_LEVEL";
/// `ADAUTH_MEDIAGO_ACCOUNT_ID`: optional, the account API calls act on.
pub const ENV_ACCOUNT_ID: &str = "ADAUTH_MEDIAGO_ACCOUNT_ID";
/// `ADAUTH_MEDIAGO_ACCOUNT_HEADER`: optional, overrides [`DEFAULT_ACCOUNT_HEADER`].
pub const ENV_ACCOUNT_HEADER: &str = "ADAUTH_MEDIAGO_ACCOUNT_HEADER";
/// `ADAUTH_MEDIAGO_BASE_URL`: optional, overrides [`DEFAULT_BASE_URL`].
pub const ENV_BASE_URL: &str = "ADAUTH_MEDIAGO_BASE_URL";
/// This provider, as the umbrella crate registers it.
pub const DESCRIPTOR: adauth_core::Provider = {
    use adauth_core::EnvVar;
    let provider = adauth_core::Provider::new(PROVIDER, "Mediago", source_from_lookup)
        .with_env_vars(&[
            EnvVar::required(
                ENV_API_TOKEN,
                "the API token (Base64 of `id:secret`, or the raw pair)",
            )
            .secret(),
            EnvVar::optional(ENV_TOKEN_LEVEL, "`client` (the default) or `account`"),
            EnvVar::optional(ENV_ACCOUNT_ID, "the account API calls act on"),
            EnvVar::optional(
                ENV_ACCOUNT_HEADER,
                "the header that names the account; default `Account-Id`",
            ),
            EnvVar::optional(
                ENV_BASE_URL,
                "the API host; default `https://api.mediago.io`",
            ),
        ])
        .with_documented_lifetime(DOCUMENTED_LIFETIME);
    #[cfg(feature = "testkit")]
    let provider = provider.with_fake(&adauth_testkit::fake::Registration(&testkit::FAKE));
    provider
};

/// The source that variables from `lookup` describe; see [`Credentials::from_lookup`].
fn source_from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Box<dyn TokenSource>> {
    Ok(Box::new(MediagoSource::new(Credentials::from_lookup(
        lookup,
    )?)?))
}
