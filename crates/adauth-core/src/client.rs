use reqwest::{IntoUrl, Method, RequestBuilder, Response, StatusCode};

use crate::{Result, TokenCache};

/// Sends API requests with a provider's auth applied, and recovers by itself from a 401.
///
/// Each request gets the cache's current token through the source's
/// [`authorize`](crate::TokenSource::authorize): `Authorization: Bearer`, plus the provider's
/// extras (Mediago's account header, MediaMath's session cookie). If the API answers 401,
/// the client invalidates exactly the token it used, gets a fresh one and sends the request
/// once more, when its body can be replayed. A second 401 is returned to the caller, as is
/// any other answer: the client never turns an HTTP status into an error.
///
/// ```no_run
/// # async fn run(cache: adauth_core::TokenCache) -> adauth_core::Result<()> {
/// use adauth_core::AuthorizedClient;
///
/// let api = AuthorizedClient::new(cache, reqwest::Client::new());
/// let response = api
///     .send(api.post("https://reporting.fyber.com/api/v1/report?format=csv").body("{}"))
///     .await?;
/// println!("{}", response.status());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AuthorizedClient {
    cache: TokenCache,
    client: reqwest::Client,
}

impl AuthorizedClient {
    /// A client sending with `client` and authorizing with `cache`.
    ///
    /// reqwest drops `Authorization` and `Cookie` headers when it follows a redirect to
    /// another host, so the token does not travel with a redirect.
    pub fn new(cache: TokenCache, client: reqwest::Client) -> Self {
        Self { cache, client }
    }

    /// The token cache.
    pub fn cache(&self) -> &TokenCache {
        &self.cache
    }

    /// The reqwest client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Starts a request, to be sent with [`send`](Self::send).
    pub fn request(&self, method: Method, url: impl IntoUrl) -> RequestBuilder {
        self.client.request(method, url)
    }

    /// Starts a GET request.
    pub fn get(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// Starts a POST request.
    pub fn post(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// Sends `request` with the provider's auth applied; on a 401, once more with a fresh
    /// token.
    ///
    /// Errors: a token could not be had, or the request could not be sent (a
    /// [`Transport`](crate::ErrorKind::Transport) or [`Timeout`](crate::ErrorKind::Timeout)
    /// error naming the provider).
    pub async fn send(&self, request: RequestBuilder) -> Result<Response> {
        let source = self.cache.source();
        let provider = source.provider();
        let replay = request.try_clone();
        let token = self.cache.token().await?;
        let response = source
            .authorize(request, &token)?
            .send()
            .await
            .map_err(|e| crate::http::transport_error(provider, e))?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let Some(replay) = replay else {
            tracing::debug!(
                provider,
                "401 with a body that cannot be replayed; not retrying"
            );
            return Ok(response);
        };
        self.cache.invalidate(&token);
        tracing::debug!(provider, "401: retrying once with a fresh token");
        let fresh = self.cache.token().await?;
        source
            .authorize(replay, &fresh)?
            .send()
            .await
            .map_err(|e| crate::http::transport_error(provider, e))
    }
}
