//! MediaMath's Auth0 token endpoint: the request every grant shares, the answer, the errors,
//! and the session that follows each new token.

use adauth_core::bytes::Bytes;
use adauth_core::http::{self, HttpClient};
use adauth_core::reqwest::header::{COOKIE, HeaderValue};
use adauth_core::reqwest::{RequestBuilder, StatusCode};
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{Error, ErrorKind, ExpiresIn, FetchContext, Result, Token};
use serde::Deserialize;
use url::Url;

use crate::{PROVIDER, SESSION_COOKIE, SESSION_PATH, TOKEN_PATH, session};

/// The name of the secret extra that holds an OpenID Connect `id_token`, when Auth0 sends
/// one (scope `openid`).
pub(crate) const ID_TOKEN: &str = "id_token";

/// What every MediaMath grant needs: the client, the token endpoint, the session endpoint
/// when the session is wanted, and the HTTP client.
#[derive(Debug, Clone)]
pub(crate) struct Auth0 {
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) token_url: Url,
    pub(crate) session_url: Option<Url>,
    pub(crate) http: HttpClient,
}

/// Every field Auth0 documents for `/oauth/token` answers; unknown ones are ignored.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<ExpiresIn>,
    token_type: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    id_token: Option<String>,
}

/// Auth0's codes on top of the OAuth defaults: `too_many_requests` is rate limiting whatever
/// the status. `invalid_grant`, `access_denied` and `unauthorized_client` are refused
/// credentials, as the core classification already says; other codes keep its verdict.
pub(crate) fn classify(status: StatusCode, code: Option<&str>) -> ErrorKind {
    match code {
        Some(code) if code.eq_ignore_ascii_case("too_many_requests") => ErrorKind::RateLimited,
        _ => http::classify(status, code),
    }
}

impl Auth0 {
    pub(crate) fn new(
        client_id: String,
        client_secret: SecretString,
        auth_url: &Url,
        api_url: &Url,
        session: bool,
        http: HttpClient,
    ) -> Result<Self> {
        let token_url = http::join_path(PROVIDER, auth_url, TOKEN_PATH)?;
        let session_url = if session {
            Some(http::join_path(PROVIDER, api_url, SESSION_PATH)?)
        } else {
            None
        };
        Ok(Self {
            client_id,
            client_secret,
            token_url,
            session_url,
            http,
        })
    }

    /// POSTs `body` to the token endpoint and makes a token of the answer, with its session
    /// when the session is wanted. `secrets` are the values in `body` besides the client
    /// secret: they are removed from any error.
    pub(crate) async fn token(
        &self,
        cx: &FetchContext,
        content_type: &'static str,
        body: Bytes,
        secrets: &[&str],
    ) -> Result<Token> {
        let client_secret = self.client_secret.expose_secret();
        let scrub = |e: Error| e.scrub(secrets).scrub(&[client_secret]);
        let response = self
            .http
            .post(PROVIDER, cx, &self.token_url, content_type, body)
            .await
            .map_err(scrub)?;
        let wire: TokenResponse = response
            .success_json_with(PROVIDER, classify)
            .map_err(scrub)?;
        let issued_at = response.sent_at();
        let access_token = SecretString::from(wire.access_token);
        let base = cx.token(
            PROVIDER,
            issued_at,
            access_token.clone(),
            wire.expires_in.as_ref(),
        )?;
        // The session is fetched before the token is assembled: its expiry bounds the
        // token's, so that the cache renews both together.
        let mut expires_at = base.expires_at();
        let session = match &self.session_url {
            Some(url) => {
                let session = session::fetch(&self.http, cx, url, &base).await?;
                expires_at = expires_at.min(session.expires_at);
                Some(session)
            }
            None => None,
        };
        let mut token = Token::new(access_token, issued_at, expires_at).with_refresh_token(
            wire.refresh_token
                .filter(|t| !t.is_empty())
                .map(SecretString::from),
        );
        if let Some(token_type) = wire.token_type {
            token = token.with_token_type(token_type);
        }
        if let Some(scope) = wire.scope.filter(|s| !s.is_empty()) {
            token = token.with_scope(scope);
        }
        if let Some(id_token) = wire.id_token.filter(|t| !t.is_empty()) {
            token = token.with_secret_extra(ID_TOKEN, SecretString::from(id_token));
        }
        if let Some(session) = session {
            token = token.with_secret_extra(SESSION_COOKIE, session.id);
        }
        Ok(token)
    }

    /// Renews a token with a refresh token: the form POST Auth0 documents.
    pub(crate) async fn refresh(
        &self,
        cx: &FetchContext,
        refresh_token: &SecretString,
    ) -> Result<Token> {
        let refresh_token = refresh_token.expose_secret();
        let body = http::form_body(&[
            ("grant_type", "refresh_token"),
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose_secret()),
            ("refresh_token", refresh_token),
        ]);
        self.token(cx, http::FORM, body, &[refresh_token]).await
    }

    /// `Authorization: Bearer`, plus `Cookie: adama_session=<id>` when the token carries a
    /// session (both marked sensitive). A source that wants the session refuses a token
    /// without one, rather than sending a request the legacy APIs would reject.
    pub(crate) fn authorize(
        &self,
        request: RequestBuilder,
        token: &Token,
    ) -> Result<RequestBuilder> {
        let request = http::set_header(
            request,
            adauth_core::reqwest::header::AUTHORIZATION,
            token.authorization_header(PROVIDER)?,
        );
        match token.secret_extra(SESSION_COOKIE) {
            Some(id) => {
                let mut cookie =
                    HeaderValue::from_str(&format!("{SESSION_COOKIE}={}", id.expose_secret()))
                        .map_err(|_| {
                            Error::unexpected(
                                PROVIDER,
                                "the session id contains characters not allowed in a cookie",
                            )
                        })?;
                cookie.set_sensitive(true);
                Ok(http::set_header(request, COOKIE, cookie))
            }
            None if self.session_url.is_some() => Err(Error::configuration(
                PROVIDER,
                "the token carries no adama_session; use a token this source fetched",
            )),
            None => Ok(request),
        }
    }
}
