//! MediaMath's Auth0 token endpoint: the request every grant shares, the answer, the errors,
//! and the session that follows each new token.

use adauth_core::provider_kit::wire;
use std::future::Future;
use std::sync::{Arc, Mutex};

use adauth_core::http::HttpClient;
use adauth_core::provider_kit::endpoint::{
    ClientAuth, Encoding, EndpointSpec, TokenEndpoint, TokenRequest,
};
use adauth_core::reqwest::StatusCode;
use adauth_core::reqwest::header::{COOKIE, HeaderMap, HeaderValue};
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{Error, ErrorKind, FetchContext, Result, Token};
use url::Url;

use crate::{PROVIDER, SESSION_COOKIE, SESSION_PATH, TOKEN_PATH, session};

/// The name of the secret extra that holds an OpenID Connect `id_token`, when Auth0 sends
/// one (scope `openid`).
pub(crate) const ID_TOKEN: &str = "id_token";

/// Auth0's `/oauth/token`, as every grant sends it: Auth0's codes on top of the OAuth
/// defaults (`too_many_requests` is rate limiting whatever the status; `invalid_grant`,
/// `access_denied` and `unauthorized_client` are refused credentials, as the core
/// classification already says), and the `id_token` kept as a secret extra.
const TOKEN_ENDPOINT: EndpointSpec = EndpointSpec::json(PROVIDER, TOKEN_PATH)
    .codes(&[("too_many_requests", ErrorKind::RateLimited)])
    .secret_extras(&[ID_TOKEN]);

/// The kind of an Auth0 error answer, for other Auth0 answers (the session's).
pub(crate) fn classify(status: StatusCode, code: Option<&str>) -> ErrorKind {
    TOKEN_ENDPOINT.classify(status, code)
}

/// What every MediaMath grant needs: the client, the token endpoint (in the chosen
/// encoding, and as a form for the refresh and code grants), the session endpoint when the
/// session is wanted, and the HTTP client.
#[derive(Debug, Clone)]
pub(crate) struct Auth0 {
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) endpoint: TokenEndpoint,
    pub(crate) form: TokenEndpoint,
    pub(crate) session_url: Option<Url>,
    pub(crate) http: HttpClient,
    /// A token whose session could not be fetched: the next fetch opens a session for it
    /// instead of asking for another token, while it is valid. Shared by clones.
    unsessioned: Arc<Mutex<Option<Token>>>,
}

impl Auth0 {
    pub(crate) fn new(
        client: (String, SecretString),
        auth_url: &Url,
        api_url: &Url,
        session: bool,
        (encoding, client_auth): (Encoding, ClientAuth),
        http: HttpClient,
    ) -> Result<Self> {
        let spec = TOKEN_ENDPOINT.client_auth(client_auth);
        let endpoint = TokenEndpoint::new(spec.encoding(encoding), auth_url, http.clone())?;
        let form = TokenEndpoint::new(spec.encoding(Encoding::Form), auth_url, http.clone())?;
        let session_url = if session {
            Some(wire::join_path(PROVIDER, api_url, SESSION_PATH)?)
        } else {
            None
        };
        Ok(Self {
            client_id: client.0,
            client_secret: client.1,
            endpoint,
            form,
            session_url,
            http,
            unsessioned: Arc::default(),
        })
    }

    /// Sends a token request (from [`endpoint`](Self::endpoint) or [`form`](Self::form))
    /// and opens its session when the session is wanted.
    pub(crate) async fn token(
        &self,
        cx: &FetchContext,
        request: TokenRequest<'_>,
    ) -> Result<Token> {
        let token = request.send(cx).await?;
        self.with_session(cx, token).await
    }

    /// A fetch for a source that keeps no other state: a token whose session failed last
    /// time gets its session now, without a new token request; otherwise `fetch` runs.
    pub(crate) async fn fetch_with<F: Future<Output = Result<Token>>>(
        &self,
        cx: &FetchContext,
        fetch: impl FnOnce() -> F,
    ) -> Result<Token> {
        let pending = self
            .unsessioned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        match pending {
            Some(token) if token.is_valid_at(cx.now()) => self.with_session(cx, token).await,
            _ => fetch().await,
        }
    }

    /// Bounds the token by its session and carries the session's id, when the session is
    /// wanted. The session is fetched before the token is handed out: its expiry bounds the
    /// token's, so that the cache renews both together. A failed session keeps the token
    /// for the next fetch ([`fetch_with`](Self::fetch_with)), so that a good access token is
    /// not thrown away with it.
    async fn with_session(&self, cx: &FetchContext, token: Token) -> Result<Token> {
        let Some(url) = &self.session_url else {
            return Ok(token);
        };
        match session::fetch(&self.http, cx, url, &token).await {
            Ok(session) => {
                let expires_at = token.expires_at().min(session.expires_at);
                Ok(token
                    .with_expires_at(expires_at)
                    .with_secret_extra(SESSION_COOKIE, session.id))
            }
            Err(err) => {
                if !err.is_credentials_rejected() {
                    *self.unsessioned.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
                }
                Err(err)
            }
        }
    }

    /// Renews a token with a refresh token: the form POST Auth0 documents.
    pub(crate) async fn refresh(
        &self,
        cx: &FetchContext,
        refresh_token: &SecretString,
    ) -> Result<Token> {
        let request = self
            .form
            .request()
            .field("grant_type", "refresh_token")
            .client(&self.client_id, &self.client_secret)
            .secret("refresh_token", refresh_token);
        self.token(cx, request).await
    }

    /// `Authorization: Bearer`, plus `Cookie: adama_session=<id>` when the token carries a
    /// session (both marked sensitive). A source that wants the session refuses a token
    /// without one, rather than sending a request the legacy APIs would reject.
    pub(crate) fn authorize_headers(&self, headers: &mut HeaderMap, token: &Token) -> Result<()> {
        headers.insert(
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
                headers.insert(COOKIE, cookie);
                Ok(())
            }
            None if self.session_url.is_some() => Err(Error::configuration(
                PROVIDER,
                "the token carries no adama_session; use a token this source fetched",
            )),
            None => Ok(()),
        }
    }
}
