#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

use std::time::Duration;

use adauth_core::provider_kit::endpoint::{
    ClientCredentials, ClientCredentialsProvider, ClientCredentialsSource, EndpointSpec, FieldCase,
};
use adauth_core::{EnvVar, ErrorKind, Provider};

#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit;

/// The provider name used in errors and logs.
pub const PROVIDER: &str = "fyber";

/// The lifetime of this provider's tokens as its documentation gives it, assumed for an
/// answer that gives none. Fyber: "All tokens expire one hour after a successful token request."
pub const DOCUMENTED_LIFETIME: Duration = Duration::from_secs(3600);

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

/// This provider, as the umbrella crate registers it.
pub const DESCRIPTOR: Provider = {
    let provider = Provider::new(
        PROVIDER,
        "Fyber (Digital Turbine Offer Wall Reporting API)",
        FyberSource::boxed_from_lookup,
    )
    .with_env_vars(&[
        EnvVar::required(ENV_CLIENT_ID, "the Reporting API ID"),
        EnvVar::required(ENV_CLIENT_SECRET, "the Reporting API password").secret(),
        EnvVar::optional(
            ENV_BASE_URL,
            "the API host; default `https://reporting.fyber.com/`",
        ),
    ])
    .with_documented_lifetime(DOCUMENTED_LIFETIME);
    #[cfg(feature = "testkit")]
    let provider = provider.with_fake(&adauth_testkit::fake::Registration(&testkit::FAKE));
    provider
};

/// Fyber's Reporting API, as [`ClientCredentialsProvider`] constants.
#[derive(Debug, Clone, Copy)]
pub enum Fyber {}

impl ClientCredentialsProvider for Fyber {
    /// `POST /auth/v1/token` with a JSON body, the client in it, a camel-case answer. Fyber's
    /// `invalid_request` covers a missing or invalid `client_id`/`client_secret`, and this
    /// source always sends a well-formed body, so the code means the credentials were
    /// refused.
    const ENDPOINT: EndpointSpec = EndpointSpec::json(PROVIDER, TOKEN_PATH)
        .answer_case(FieldCase::Camel)
        .codes(&[("invalid_request", ErrorKind::CredentialsRejected)]);
    const DEFAULT_BASE_URL: &'static str = DEFAULT_BASE_URL;
    const ENV_CLIENT_ID: &'static str = ENV_CLIENT_ID;
    const ENV_CLIENT_SECRET: &'static str = ENV_CLIENT_SECRET;
    const ENV_BASE_URL: &'static str = ENV_BASE_URL;
    const DOCUMENTED_LIFETIME: Option<Duration> = Some(DOCUMENTED_LIFETIME);
}

/// Reporting API credentials: the API ID (`client_id`) and password (`client_secret`) that
/// Digital Turbine sends by encrypted email, and the API host.
pub type Credentials = ClientCredentials<Fyber>;

/// Fetches Reporting API tokens with the client-credentials grant
/// (`POST /auth/v1/token`, JSON).
pub type FyberSource = ClientCredentialsSource<Fyber>;
