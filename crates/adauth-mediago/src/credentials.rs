use std::fmt;
use std::str::FromStr;

use adauth_core::provider_kit::env;
use adauth_core::provider_kit::wire::{self, UrlSetting};
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{Error, Result};
use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use crate::{
    ACCOUNT_TOKEN_PATH, CLIENT_TOKEN_PATH, DEFAULT_ACCOUNT_HEADER, DEFAULT_BASE_URL,
    ENV_ACCOUNT_HEADER, ENV_ACCOUNT_ID, ENV_API_TOKEN, ENV_BASE_URL, ENV_TOKEN_LEVEL, PROVIDER,
};

/// The API token that Mediago's account manager issues, in the form it is sent:
/// `Authorization: Basic <encoded token>`.
///
/// Account managers hand the token out **already Base64-encoded**; send it as given with
/// [`ApiToken::encoded`]. If yours gave you the raw `id:secret` pair instead, use
/// [`ApiToken::from_pair`] and it is encoded for you. [`ApiToken::parse`] applies the rule
/// the environment variable follows: a value containing `:` is a raw pair, anything else is
/// sent as given.
///
/// ```
/// use adauth_mediago::ApiToken;
///
/// let as_issued = ApiToken::encoded("Y2xpZW50XzE0Nl9zM2NyM3Q=")?;
/// let from_pair = ApiToken::from_pair("146", "s3cr3t")?; // sent as Basic MTQ2OnMzY3IzdA==
/// assert!(!format!("{as_issued:?} {from_pair:?}").contains("s3cr3t"));
/// # Ok::<(), adauth_core::Error>(())
/// ```
#[derive(Clone)]
pub struct ApiToken {
    /// `Basic <encoded token>`, built once in a buffer wiped when the last clone goes, and
    /// marked sensitive.
    header: HeaderValue,
    /// The secret half of a raw pair, kept so that errors echoing it can be scrubbed.
    pair_secret: Option<SecretString>,
}

impl ApiToken {
    /// A token exactly as the account manager issued it (already Base64-encoded); it is
    /// sent verbatim. Surrounding white space and a leading `Basic ` are dropped.
    ///
    /// The value is not decoded or checked as Base64 (the documented example uses the
    /// URL-safe alphabet); it must only be one word of printable ASCII.
    pub fn encoded(token: impl Into<SecretString>) -> Result<Self> {
        Self::try_encoded(token.into().expose_secret()).map_err(config)
    }

    /// A raw `id:secret` pair, sent as `Basic base64(id:secret)` (standard alphabet, padded,
    /// as HTTP Basic authentication does).
    pub fn from_pair(id: &str, secret: impl Into<SecretString>) -> Result<Self> {
        Self::try_pair(id, secret.into()).map_err(config)
    }

    /// A token as written in [`ENV_API_TOKEN`]: a value containing `:` is a raw `id:secret`
    /// pair ([`from_pair`](Self::from_pair), split at the first `:`); anything else is sent as
    /// given ([`encoded`](Self::encoded)). Base64 never contains `:`, so the two cannot be
    /// confused.
    pub fn parse(value: impl Into<SecretString>) -> Result<Self> {
        Self::try_parse(value.into().expose_secret()).map_err(config)
    }

    fn try_parse(value: &str) -> Result<Self, &'static str> {
        let text = value.trim();
        match text.split_once(':') {
            Some((id, secret)) => Self::try_pair(id, SecretString::from(secret.to_owned())),
            None => Self::try_encoded(text),
        }
    }

    fn try_encoded(token: &str) -> Result<Self, &'static str> {
        let text = token.trim_start();
        let text = match text.get(..6) {
            Some(prefix) if prefix.eq_ignore_ascii_case("basic ") => &text[6..],
            _ => text,
        }
        .trim();
        if text.is_empty() {
            return Err("the API token is empty");
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "the API token must be one word of printable ASCII, as issued \
                 (for a raw id:secret pair use ApiToken::from_pair)",
            );
        }
        let header = wire::sensitive_header_of(&["Basic ", text])
            .ok_or("the API token is not header-safe")?;
        Ok(Self {
            header,
            pair_secret: None,
        })
    }

    fn try_pair(id: &str, secret: SecretString) -> Result<Self, &'static str> {
        if id.is_empty() || secret.expose_secret().is_empty() {
            return Err("both halves of the id:secret API token pair are required");
        }
        if id.contains(':') {
            return Err("the id of an id:secret API token pair cannot contain ':'");
        }
        Ok(Self {
            header: wire::basic_authorization(id, secret.expose_secret()),
            pair_secret: Some(secret),
        })
    }

    /// Whether the token was given as a raw pair and encoded here.
    pub fn is_from_pair(&self) -> bool {
        self.pair_secret.is_some()
    }

    /// The `Authorization` header value, `Basic <encoded token>`, marked sensitive.
    pub(crate) fn basic_header(&self) -> &HeaderValue {
        &self.header
    }

    /// What follows `Basic ` in the header: the token as sent.
    pub(crate) fn as_sent(&self) -> &str {
        // Built from text (`sensitive_header_of`, `basic_authorization`): never fails.
        std::str::from_utf8(self.header.as_bytes())
            .map_or("", |header| header.get("Basic ".len()..).unwrap_or(""))
    }

    /// Every form of the secret that a server could echo back in an error.
    pub(crate) fn secrets(&self) -> [&str; 2] {
        [
            self.as_sent(),
            self.pair_secret.as_ref().map_or("", |s| s.expose_secret()),
        ]
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let form = if self.is_from_pair() {
            "id:secret pair"
        } else {
            "encoded"
        };
        f.debug_struct("ApiToken")
            .field("form", &form)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// Which of Mediago's two token requests the API token is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenLevel {
    /// A client-level API token: `POST /data/v1/client/authentication`. One token serves
    /// every account under the client; calls name the account in a header.
    #[default]
    Client,
    /// An account-level API token: `POST /data/v1/authentication`. The token belongs to one
    /// account.
    Account,
}

impl TokenLevel {
    /// The token endpoint, relative to the base URL.
    pub fn token_path(self) -> &'static str {
        match self {
            Self::Client => CLIENT_TOKEN_PATH,
            Self::Account => ACCOUNT_TOKEN_PATH,
        }
    }

    /// `client` or `account`, as [`ENV_TOKEN_LEVEL`] spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Account => "account",
        }
    }
}

impl fmt::Display for TokenLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenLevel {
    type Err = Error;

    /// `client` or `account`, in any case.
    fn from_str(s: &str) -> Result<Self> {
        Self::try_parse(s).map_err(config)
    }
}

impl TokenLevel {
    fn try_parse(s: &str) -> Result<Self, &'static str> {
        match s.trim().to_ascii_lowercase().as_str() {
            "client" => Ok(Self::Client),
            "account" => Ok(Self::Account),
            _ => Err("the token level must be \"client\" or \"account\""),
        }
    }
}

/// What a Mediago source needs: the API token, which level it is for, the account that API
/// calls act on (optional), the header that names it, and the API host.
#[derive(Clone)]
pub struct Credentials {
    pub(crate) api_token: ApiToken,
    pub(crate) level: TokenLevel,
    pub(crate) account_id: Option<HeaderValue>,
    pub(crate) account_header: HeaderName,
    pub(crate) base_url: Url,
}

#[bon::bon]
impl Credentials {
    /// Client-level credentials for the default host, with no account set.
    pub fn new(api_token: ApiToken) -> Result<Self> {
        Self::builder().api_token(api_token).build()
    }

    /// A builder, to set the level, the account, the account header or the host too.
    /// Leaving out the API token does not compile.
    #[builder(builder_type = CredentialsBuilder, finish_fn = build, state_mod(vis = "pub"), derive(Debug, Clone))]
    pub fn builder(
        /// The API token.
        api_token: ApiToken,
        /// Which token request the API token is for (default [`TokenLevel::Client`]).
        #[builder(default)]
        level: TokenLevel,
        /// The account that API calls act on, sent in the account header by
        /// [`authorize`](adauth_core::TokenSource::authorize). Needed for management and
        /// report calls with a client-level token; an account-level token already names its
        /// account.
        #[builder(into)]
        account_id: Option<String>,
        /// The header that names the account (default [`DEFAULT_ACCOUNT_HEADER`],
        /// `Account-Id`). Mediago's documentation says only "in the request header".
        #[builder(into)]
        account_header: Option<String>,
        /// The API host (default [`DEFAULT_BASE_URL`]); `https`, or `http` for a loopback
        /// host. Text or a parsed `Url`: for many accounts on one host, parse it once.
        #[builder(into)]
        base_url: Option<UrlSetting>,
    ) -> Result<Self> {
        Ok(Credentials {
            api_token,
            level,
            account_id: account_id
                .as_deref()
                .map(account_id_value)
                .transpose()
                .map_err(config)?,
            account_header: account_header_name(
                account_header.as_deref().unwrap_or(DEFAULT_ACCOUNT_HEADER),
            )
            .map_err(config)?,
            base_url: UrlSetting::resolve_or(base_url, PROVIDER, DEFAULT_BASE_URL)?,
        })
    }

    /// Reads [`ENV_API_TOKEN`] (see [`ApiToken::parse`]) and, if set, [`ENV_TOKEN_LEVEL`],
    /// [`ENV_ACCOUNT_ID`], [`ENV_ACCOUNT_HEADER`] and [`ENV_BASE_URL`].
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(&env::process)
    }

    /// As [`from_env`](Self::from_env), with variables from `lookup`.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let token = env::required(PROVIDER, lookup, ENV_API_TOKEN)?;
        let api_token = ApiToken::try_parse(&token).map_err(|e| named(ENV_API_TOKEN, e))?;
        let level = env::optional(lookup, ENV_TOKEN_LEVEL)
            .map(|level| TokenLevel::try_parse(&level).map_err(|e| named(ENV_TOKEN_LEVEL, e)))
            .transpose()?;
        let account_id = env::optional(lookup, ENV_ACCOUNT_ID);
        if let Some(account_id) = &account_id {
            account_id_value(account_id).map_err(|e| named(ENV_ACCOUNT_ID, e))?;
        }
        let account_header = env::optional(lookup, ENV_ACCOUNT_HEADER);
        if let Some(header) = &account_header {
            account_header_name(header).map_err(|e| named(ENV_ACCOUNT_HEADER, e))?;
        }
        Self::builder()
            .api_token(api_token)
            .maybe_level(level)
            .maybe_account_id(account_id)
            .maybe_account_header(account_header)
            .maybe_base_url(env::optional(lookup, ENV_BASE_URL))
            .build()
    }

    /// The API token.
    pub fn api_token(&self) -> &ApiToken {
        &self.api_token
    }

    /// Which token request the API token is for.
    pub fn level(&self) -> TokenLevel {
        self.level
    }

    /// The account API calls act on, if one is set.
    pub fn account_id(&self) -> Option<&str> {
        self.account_id.as_ref().and_then(|v| v.to_str().ok())
    }

    /// The header that names the account (default [`DEFAULT_ACCOUNT_HEADER`]).
    pub fn account_header(&self) -> &HeaderName {
        &self.account_header
    }

    /// The API host.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }
}

fn account_id_value(id: &str) -> Result<HeaderValue, &'static str> {
    match id.trim() {
        "" => Err("the account id is empty"),
        id => HeaderValue::from_str(id).map_err(|_| "the account id is not a valid header value"),
    }
}

fn account_header_name(name: &str) -> Result<HeaderName, &'static str> {
    HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| "the account header is not a valid header name")
}

fn config(message: &'static str) -> Error {
    Error::configuration(PROVIDER, message)
}

/// A configuration error about a value read from the environment: names the variable, never
/// quotes the value.
fn named(variable: &str, message: &str) -> Error {
    Error::configuration(
        PROVIDER,
        format!("environment variable {variable}: {message}"),
    )
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_token", &self.api_token)
            .field("level", &self.level)
            .field("account_id", &self.account_id())
            .field("account_header", &self.account_header.as_str())
            .field("base_url", &self.base_url.as_str())
            .finish()
    }
}
