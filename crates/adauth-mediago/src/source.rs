use adauth_core::http::HttpClient;
use adauth_core::reqwest::StatusCode;
use adauth_core::reqwest::header::HeaderMap;
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{
    AuthCheck, Error, FetchContext, Result, Token, TokenCache, TokenSource, async_trait,
};
use reqwest::RequestBuilder;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use url::Url;

use crate::wire::{AccountsResponse, TokenResponse, answer_error};
use crate::{ACCOUNTS_PATH, Credentials, PROVIDER, TOKEN_REQUEST_CONTENT_TYPE, TokenLevel};

/// An account under a Mediago client, from [`MediagoSource::accounts`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Account {
    /// The account id, as text whether Mediago sent a number or a string: the value for
    /// the account header.
    pub account_id: String,
    /// The account name (empty if Mediago sent none).
    pub account_name: String,
}

/// Fetches Mediago access tokens with an API token (`POST /data/v1/client/authentication`
/// or `POST /data/v1/authentication`, `Authorization: Basic <API token>`), and applies them
/// to API calls with the account header.
///
/// **Every fetch invalidates the access token fetched before it.** Use one
/// [`TokenCache`] per API token in a process and share it (clone it) across tasks; never
/// call [`fetch`](TokenSource::fetch) in parallel or from several caches, or the callers
/// log each other out.
#[derive(Debug, Clone)]
pub struct MediagoSource {
    credentials: Credentials,
    token_url: Url,
    accounts_url: Url,
    http: HttpClient,
}

impl MediagoSource {
    /// A source using the default HTTP client.
    pub fn new(credentials: Credentials) -> Result<Self> {
        Self::with_http(credentials, HttpClient::new())
    }

    /// A source using `http`, for a custom reqwest client or retry policy.
    pub fn with_http(credentials: Credentials, http: HttpClient) -> Result<Self> {
        let base = &credentials.base_url;
        let token_url = adauth_core::provider_kit::wire::join_path(
            PROVIDER,
            base,
            credentials.level.token_path(),
        )?;
        let accounts_url =
            adauth_core::provider_kit::wire::join_path(PROVIDER, base, ACCOUNTS_PATH)?;
        Ok(Self {
            credentials,
            token_url,
            accounts_url,
            http,
        })
    }

    /// A source with credentials from the environment; see [`Credentials::from_env`].
    pub fn from_env() -> Result<Self> {
        Self::new(Credentials::from_env()?)
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// As [`authorize`](TokenSource::authorize), for another account than the configured
    /// one: `Authorization: Bearer <token>` and `<account header>: <account_id>`. One
    /// client-level token serves every account under the client.
    pub fn authorize_account(
        &self,
        request: RequestBuilder,
        token: &Token,
        account_id: &str,
    ) -> Result<RequestBuilder> {
        let value = HeaderValue::from_str(account_id.trim()).map_err(|_| {
            Error::configuration(PROVIDER, "the account id is not a valid header value")
        })?;
        let request = adauth_core::provider_kit::wire::set_header(
            request,
            AUTHORIZATION,
            token.authorization_header(PROVIDER)?,
        );
        Ok(adauth_core::provider_kit::wire::set_header(
            request,
            self.credentials.account_header.clone(),
            value,
        ))
    }

    /// The accounts under the client (`GET /data/v1/client/accounts`), read with `token`, a
    /// client-level access token. It never fetches a token of its own.
    ///
    /// A 401, or an error code in a 200 answer, is a
    /// [`CredentialsRejected`](adauth_core::ErrorKind::CredentialsRejected) error: the token
    /// has expired or a newer one has replaced it.
    pub async fn accounts(&self, token: &Token) -> Result<Vec<Account>> {
        let [api_token, pair_secret] = self.credentials.api_token.secrets();
        let access_token = token.access_token().expose_secret();
        let scrub = |e: Error| e.scrub(&[access_token, api_token, pair_secret]);
        let authorization = token.authorization_header(PROVIDER).map_err(scrub)?;
        let response = self
            .http
            .send(PROVIDER, &FetchContext::default(), |client| {
                client
                    .get(self.accounts_url.clone())
                    .header(AUTHORIZATION, authorization.clone())
            })
            .await
            .map_err(scrub)?;
        if let Some(err) = answer_error(&response, "the accounts request") {
            return Err(scrub(err));
        }
        let wire: AccountsResponse = response.json(PROVIDER).map_err(scrub)?;
        Ok(wire.into_accounts())
    }

    /// [`accounts`](Self::accounts) with the token `cache` holds (fetching one only if the
    /// cache has none). If Mediago refuses the token, it is
    /// [invalidated](TokenCache::invalidate) in the cache, so the next call gets a new one;
    /// the error is returned either way.
    pub async fn accounts_with_cache(&self, cache: &TokenCache) -> Result<Vec<Account>> {
        let token = cache.token().await?;
        let result = self.accounts(&token).await;
        if result.as_ref().is_err_and(|e| e.is_credentials_rejected()) {
            cache.invalidate(&token);
        }
        result
    }
}

#[async_trait]
impl TokenSource for MediagoSource {
    adauth_core::provider_facts!(crate::DESCRIPTOR);

    /// The account is not part of the identity: Mediago issues one token per API token,
    /// whichever account it is used for.
    fn identity(&self) -> Option<String> {
        Some(adauth_core::credential_identity(
            PROVIDER,
            &[
                self.token_url.as_str(),
                self.credentials.api_token.as_sent(),
            ],
        ))
    }

    /// Requests a new access token. **This invalidates the previous access token**, in this
    /// process and every other one using the same API token: call it through a shared
    /// [`TokenCache`], never directly in parallel.
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let api_token = &self.credentials.api_token;
        let secrets = api_token.secrets();
        let scrub = |e: Error| e.scrub(&secrets);
        let authorization = api_token.basic_header();
        let content_type = HeaderValue::from_static(TOKEN_REQUEST_CONTENT_TYPE);
        let response = self
            .http
            .send(PROVIDER, cx, |client| {
                client
                    .post(self.token_url.clone())
                    .header(AUTHORIZATION, authorization.clone())
                    .header(CONTENT_TYPE, content_type.clone())
                    .body("")
            })
            .await
            .map_err(scrub)?;
        let request = match self.credentials.level {
            TokenLevel::Client => "the client-level token request",
            TokenLevel::Account => "the account-level token request",
        };
        // One read of the answer in the usual case: a token with no error code in it. Any
        // other answer is read again as an error would be.
        let wire = response.json::<TokenResponse>(PROVIDER);
        let plain = wire.as_ref().is_ok_and(|w| !w.reports_error()) && !response.reports_error();
        if !plain && let Some(err) = answer_error(&response, request) {
            return Err(scrub(err));
        }
        let wire = wire.map_err(scrub)?;
        let client_id = wire.client_id();
        let token = cx.token(
            PROVIDER,
            response.sent_at(),
            SecretString::from(wire.access_token),
            wire.expires_in.as_ref(),
        )?;
        Ok(match client_id {
            Some(id) => token.with_extra("client_id", id),
            None => token,
        })
    }

    /// A 401 refuses the token; so does a 200 or a 403 whose `errno` (or `code`) says the
    /// token is invalid or expired, as Mediago reports refusals in the body.
    fn check_answer(&self, status: StatusCode, headers: &HeaderMap) -> AuthCheck {
        let _ = headers;
        match status.as_u16() {
            401 => AuthCheck::Rejected,
            200 | 403 => AuthCheck::ReadBody,
            _ => AuthCheck::Accepted,
        }
    }

    fn refuses_token(&self, status: StatusCode, body: &[u8]) -> bool {
        let _ = status;
        crate::wire::BodyError::read(body).is_some_and(|e| e.refuses_token())
    }

    /// `Authorization: Bearer <token>` (marked sensitive) and, when the credentials name an
    /// account, `<account header>: <account id>` (`Account-Id` by default).
    fn authorize_headers(&self, headers: &mut HeaderMap, token: &Token) -> Result<()> {
        headers.insert(AUTHORIZATION, token.authorization_header(PROVIDER)?);
        if let Some(id) = &self.credentials.account_id {
            headers.insert(self.credentials.account_header.clone(), id.clone());
        }
        Ok(())
    }
}
