//! The refresh-token exchange: `POST /v1/users/token` with
//! `grant_type=refresh_token&refresh_token=...`, form-encoded.

use adauth_core::provider_kit::wire;
use adauth_core::provider_kit::wire::HttpResponse;
use std::fmt;

use adauth_core::http::HttpClient;
use adauth_core::provider_kit::endpoint::{EndpointSpec, TokenEndpoint};
use adauth_core::provider_kit::env;
use adauth_core::reqwest::StatusCode;
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{Error, ErrorKind, FetchContext, Result, Token, TokenSource, async_trait};
use serde_json::Value;
use url::Url;

use crate::{AdGemApi, ENV_BASE_URL, ENV_REFRESH_TOKEN, PROVIDER, USER_TOKEN_PATH};

/// The long-lived refresh token AdGem issues for an app, and the API host to exchange it
/// at.
///
/// Despite its name the refresh token is a credential, not an OAuth refresh token: every
/// fetch exchanges it for a new access token, and it does not change.
#[derive(Clone)]
pub struct UserCredentials {
    refresh_token: SecretString,
    base_url: Url,
}

#[bon::bon]
impl UserCredentials {
    /// Credentials for the default host, the Targeted API.
    pub fn new(refresh_token: impl Into<SecretString>) -> Result<Self> {
        Self::builder().refresh_token(refresh_token).build()
    }

    /// A builder, to choose the API or set the host too.
    #[builder(builder_type = UserCredentialsBuilder, finish_fn = build, state_mod(vis = "pub"), derive(Debug, Clone))]
    pub fn builder(
        /// The long-lived refresh token AdGem issued for the app.
        #[builder(into)]
        refresh_token: SecretString,
        /// The API to get tokens for (default [`AdGemApi::Targeted`]). A `base_url` takes
        /// precedence.
        api: Option<AdGemApi>,
        /// The API host, overriding `api`; `https`, or `http` for a loopback host.
        #[builder(into)]
        base_url: Option<wire::UrlSetting>,
    ) -> Result<Self> {
        if refresh_token.expose_secret().trim().is_empty() {
            return Err(Error::configuration(PROVIDER, "refresh_token is required"));
        }
        Ok(UserCredentials {
            refresh_token,
            base_url: crate::resolve_base_url(api, base_url)?,
        })
    }

    /// Reads [`ENV_REFRESH_TOKEN`] and, if set, [`ENV_API`](crate::ENV_API) and
    /// [`ENV_BASE_URL`].
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(&env::process)
    }

    /// As [`from_env`](Self::from_env), with variables from `lookup`.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        Self::builder()
            .refresh_token(env::required(PROVIDER, lookup, ENV_REFRESH_TOKEN)?)
            .maybe_api(crate::api_from_lookup(lookup)?)
            .maybe_base_url(env::optional(lookup, ENV_BASE_URL))
            .build()
    }

    /// The API host.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }
}

impl fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCredentials")
            .field("refresh_token", &"[redacted]")
            .field("base_url", &self.base_url.as_str())
            .finish()
    }
}

/// The refresh-token exchange: a form, no client, a snake-case answer (201). The documented
/// failures: 401 and 403 `{"message"}` refuse the refresh token; 415 `{"error"}` refuses the
/// content type; 422 `{"message", "errors": {field: [...]}}` is a validation failure, see
/// [`validation_error`].
const ENDPOINT: EndpointSpec = EndpointSpec::form(PROVIDER, USER_TOKEN_PATH)
    .statuses(&[
        (401, ErrorKind::CredentialsRejected),
        (403, ErrorKind::CredentialsRejected),
        (415, ErrorKind::RequestRejected),
        (422, ErrorKind::RequestRejected),
    ])
    .refine_error(refine);

/// Fetches access tokens by exchanging the long-lived refresh token
/// (`POST /v1/users/token`, form-encoded).
///
/// The tokens it returns carry no refresh token, so a
/// [`TokenCache`](adauth_core::TokenCache) renews them with a plain fetch.
#[derive(Debug, Clone)]
pub struct UserTokenSource {
    credentials: UserCredentials,
    endpoint: TokenEndpoint,
}

impl UserTokenSource {
    /// A source using the default HTTP client.
    pub fn new(credentials: UserCredentials) -> Result<Self> {
        Self::with_http(credentials, HttpClient::new())
    }

    /// A source using `http`, for a custom reqwest client or retry policy.
    pub fn with_http(credentials: UserCredentials, http: HttpClient) -> Result<Self> {
        let endpoint = TokenEndpoint::new(ENDPOINT, &credentials.base_url, http)?;
        Ok(Self {
            credentials,
            endpoint,
        })
    }

    /// A source with credentials from the environment; see [`UserCredentials::from_env`].
    pub fn from_env() -> Result<Self> {
        Self::new(UserCredentials::from_env()?)
    }

    /// The credentials.
    pub fn credentials(&self) -> &UserCredentials {
        &self.credentials
    }

    /// The token endpoint: [`USER_TOKEN_PATH`] on the credentials' host.
    pub fn token_url(&self) -> &Url {
        self.endpoint.url()
    }
}

#[async_trait]
impl TokenSource for UserTokenSource {
    adauth_core::provider_facts!(crate::DESCRIPTOR);

    fn identity(&self) -> Option<String> {
        Some(
            self.endpoint
                .identity(&[self.credentials.refresh_token.expose_secret()]),
        )
    }

    /// The documented answer is 201 with `{"message": "Authorized", "access_token",
    /// "expires_in"}`; `message` says nothing a caller needs.
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        self.endpoint
            .request()
            .field("grant_type", "refresh_token")
            .secret("refresh_token", &self.credentials.refresh_token)
            .send(cx)
            .await
    }
}

/// A 422's field errors, see [`validation_error`].
fn refine(response: &HttpResponse, err: Error) -> Error {
    if response.status() == StatusCode::UNPROCESSABLE_ENTITY {
        validation_error(err, response)
    } else {
        err
    }
}

/// Adds the field errors of a 422 to the description, and decides its kind.
///
/// A 422 whose field errors are all about `refresh_token` means AdGem read the request and
/// refused the token itself (unknown, malformed or revoked): the credential has to be
/// replaced, so it is [`CredentialsRejected`](ErrorKind::CredentialsRejected). Errors on any
/// other field (`grant_type`, say), or none at all, mean the request was malformed, which no
/// credential fixes: [`RequestRejected`](ErrorKind::RequestRejected).
fn validation_error(err: Error, response: &HttpResponse) -> Error {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(response.body()) else {
        return err;
    };
    let Some(Value::Object(fields)) = body.get("errors") else {
        return err;
    };
    let listed: Vec<String> = fields
        .iter()
        .map(|(field, messages)| {
            let messages = match messages {
                Value::Array(items) => items.iter().filter_map(text).collect::<Vec<_>>(),
                other => text(other).into_iter().collect(),
            };
            if messages.is_empty() {
                field.clone()
            } else {
                format!("{field}: {}", messages.join(" "))
            }
        })
        .collect();
    if listed.is_empty() {
        return err;
    }
    let listed = listed.join("; ");
    let description = match err.description() {
        Some(message) => format!("{message} ({listed})"),
        None => listed,
    };
    let kind = if fields.keys().all(|field| field == "refresh_token") {
        ErrorKind::CredentialsRejected
    } else {
        ErrorKind::RequestRejected
    };
    err.with_description(description).with_kind(kind)
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
