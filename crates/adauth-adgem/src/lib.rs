#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod apps;
mod users;

#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit;

use adauth_core::provider_kit::wire;
use std::fmt;
use std::str::FromStr;

use adauth_core::provider_kit::env;
use adauth_core::{Error, Result, TokenSource};
use url::Url;

pub use apps::{AdGemSource, Credentials, CredentialsBuilder, credentials_builder};
pub use users::{
    UserCredentials, UserCredentialsBuilder, UserTokenSource, user_credentials_builder,
};

/// The provider name used in errors and logs.
pub const PROVIDER: &str = "adgem";

/// The lifetime of this provider's tokens as its documentation gives it, assumed for an
/// answer that gives none. AdGem's token answers document `"expires_in": 3600`: an hour.
pub const DOCUMENTED_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

/// The Targeted API host, where AdGem documents both token endpoints.
pub const TARGETED_API_BASE_URL: &str = "https://targeted-api.adgem.com/";

/// The Offer API host, which serves the refresh-token exchange ([`USER_TOKEN_PATH`]).
pub const OFFER_API_BASE_URL: &str = "https://offer-api.adgem.com/";

/// The default host: the Targeted API, as AdGem's documentation gives it.
pub const DEFAULT_BASE_URL: &str = TARGETED_API_BASE_URL;

/// The application token endpoint (`adgem_pub_id`, `adgem_app_id`, client id and secret, as
/// JSON), relative to the base URL.
pub const TOKEN_PATH: &str = "/v1/apps/tokens";

/// The refresh-token exchange (`grant_type=refresh_token`, form-encoded), relative to the
/// base URL.
pub const USER_TOKEN_PATH: &str = "/v1/users/token";

/// `ADAUTH_ADGEM_REFRESH_TOKEN`: the long-lived refresh token AdGem issues for an app. When
/// set, [`DESCRIPTOR`]'s source uses the refresh-token exchange and no other credential variable
/// is needed.
pub const ENV_REFRESH_TOKEN: &str = "ADAUTH_ADGEM_REFRESH_TOKEN";
/// `ADAUTH_ADGEM_PUB_ID`: the AdGem publisher identifier (an integer).
pub const ENV_PUB_ID: &str = "ADAUTH_ADGEM_PUB_ID";
/// `ADAUTH_ADGEM_APP_ID`: the AdGem application identifier (an integer).
pub const ENV_APP_ID: &str = "ADAUTH_ADGEM_APP_ID";
/// `ADAUTH_ADGEM_CLIENT_ID`: the application's client identifier.
pub const ENV_CLIENT_ID: &str = "ADAUTH_ADGEM_CLIENT_ID";
/// `ADAUTH_ADGEM_CLIENT_SECRET`: the application's client secret.
pub const ENV_CLIENT_SECRET: &str = "ADAUTH_ADGEM_CLIENT_SECRET";
/// `ADAUTH_ADGEM_API`: optional, `targeted` (the default) or `offers`; see [`AdGemApi`].
pub const ENV_API: &str = "ADAUTH_ADGEM_API";
/// `ADAUTH_ADGEM_BASE_URL`: optional, overrides the host that [`ENV_API`] chooses.
pub const ENV_BASE_URL: &str = "ADAUTH_ADGEM_BASE_URL";

/// This provider, as the umbrella crate registers it. Either the refresh token or the four
/// application variables are needed, so none is required on its own.
pub const DESCRIPTOR: adauth_core::Provider = {
    use adauth_core::EnvVar;
    let provider = adauth_core::Provider::new(PROVIDER, "AdGem", source_from_lookup)
        .with_env_vars(&[
            EnvVar::optional(
                ENV_REFRESH_TOKEN,
                "the app's long-lived refresh token; or the four below",
            )
            .secret(),
            EnvVar::optional(
                ENV_PUB_ID,
                "the publisher id (an integer), with the three below",
            ),
            EnvVar::optional(ENV_APP_ID, "the application id (an integer)"),
            EnvVar::optional(ENV_CLIENT_ID, "the application's client id"),
            EnvVar::optional(ENV_CLIENT_SECRET, "the application's client secret").secret(),
            EnvVar::optional(ENV_API, "`targeted` (the default) or `offers`"),
            EnvVar::optional(
                ENV_BASE_URL,
                "the API host; overrides the one the API chooses",
            ),
        ])
        .with_documented_lifetime(DOCUMENTED_LIFETIME);
    #[cfg(feature = "testkit")]
    let provider = provider.with_fake(&adauth_testkit::fake::Registration(&testkit::FAKE));
    provider
};

/// The variables of the application token flow.
const APP_VARS: [&str; 4] = [ENV_PUB_ID, ENV_APP_ID, ENV_CLIENT_ID, ENV_CLIENT_SECRET];

/// Which AdGem API a token is for, and so which host issues it.
///
/// ```
/// use adauth_adgem::AdGemApi;
///
/// assert_eq!(AdGemApi::default(), AdGemApi::Targeted);
/// assert_eq!("offers".parse::<AdGemApi>().unwrap().base_url(), "https://offer-api.adgem.com/");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AdGemApi {
    /// The Targeted API, `https://targeted-api.adgem.com` (`targeted`).
    #[default]
    Targeted,
    /// The Offer API, `https://offer-api.adgem.com` (`offers`).
    Offers,
}

impl AdGemApi {
    /// The host's base URL.
    pub const fn base_url(self) -> &'static str {
        match self {
            Self::Targeted => TARGETED_API_BASE_URL,
            Self::Offers => OFFER_API_BASE_URL,
        }
    }

    /// The name used in [`ENV_API`]: `targeted` or `offers`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Targeted => "targeted",
            Self::Offers => "offers",
        }
    }
}

impl fmt::Display for AdGemApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AdGemApi {
    type Err = Error;

    /// `targeted` or `offers`, in any case.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "targeted" => Ok(Self::Targeted),
            "offers" => Ok(Self::Offers),
            _ => Err(Error::configuration(
                PROVIDER,
                "the AdGem API must be `targeted` or `offers`",
            )),
        }
    }
}

/// The source that variables from `lookup` describe: the refresh-token exchange
/// ([`UserTokenSource`]) when [`ENV_REFRESH_TOKEN`] is set, otherwise application tokens
/// ([`AdGemSource`]).
fn source_from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Box<dyn TokenSource>> {
    if env::optional(lookup, ENV_REFRESH_TOKEN).is_some() {
        return Ok(Box::new(UserTokenSource::new(
            UserCredentials::from_lookup(lookup)?,
        )?));
    }
    if APP_VARS
        .iter()
        .all(|name| env::optional(lookup, name).is_none())
    {
        return Err(Error::configuration(
            PROVIDER,
            format!(
                "no AdGem credentials in the environment: set {ENV_REFRESH_TOKEN}, or \
                 {ENV_PUB_ID}, {ENV_APP_ID}, {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}"
            ),
        ));
    }
    Ok(Box::new(AdGemSource::new(Credentials::from_lookup(
        lookup,
    )?)?))
}

/// [`ENV_API`], if set.
fn api_from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<AdGemApi>> {
    env::optional(lookup, ENV_API)
        .map(|value| {
            value.parse().map_err(|_| {
                Error::configuration(
                    PROVIDER,
                    format!("environment variable {ENV_API} must be `targeted` or `offers`"),
                )
            })
        })
        .transpose()
}

/// The host both credential types go to: an explicit base URL wins over the API choice.
fn resolve_base_url(api: Option<AdGemApi>, base_url: Option<wire::UrlSetting>) -> Result<Url> {
    wire::UrlSetting::resolve_or(base_url, PROVIDER, api.unwrap_or_default().base_url())
}
