use reqwest::{IntoUrl, Method, RequestBuilder, Response, ResponseBuilderExt as _};

use crate::{AuthCheck, Result, TokenCache};

/// The largest body [`AuthorizedClient`] reads to let a source look for a refusal in it
/// ([`AuthCheck::ReadBody`]): 64 KiB. A larger answer, or one of unknown length, is
/// taken as accepted and passed on unread.
pub const MAX_INSPECTED_BODY: u64 = 64 * 1024;

/// Sends API requests with a provider's auth applied, and recovers by itself when the API
/// refuses the token.
///
/// Each request gets the cache's current token through the source's
/// [`authorize`](crate::TokenSource::authorize): `Authorization: Bearer`, plus the provider's
/// extras (Mediago's account header, MediaMath's session cookie). If the answer refuses the
/// token (a 401, or what the source's
/// [`check_answer`](crate::TokenSource::check_answer) says: Mediago's `errno` in a 200), the
/// client invalidates exactly the token it used, gets a fresh one and sends the request
/// once more, when its body can be replayed. A second refusal is returned to the caller, as
/// is any other answer: the client never turns an HTTP status into an error.
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
            .map_err(|e| crate::provider_kit::wire::transport_error(provider, e))?;
        let (refused, response) = refused(source.as_ref(), response).await?;
        if !refused {
            return Ok(response);
        }
        let Some(replay) = replay else {
            tracing::debug!(
                provider,
                "the token was refused, and the request cannot be replayed; not retrying"
            );
            return Ok(response);
        };
        self.cache.invalidate(&token);
        tracing::debug!(
            provider,
            status = response.status().as_u16(),
            "the token was refused: retrying once with a fresh one"
        );
        let fresh = self.cache.token().await?;
        source
            .authorize(replay, &fresh)?
            .send()
            .await
            .map_err(|e| crate::provider_kit::wire::transport_error(provider, e))
    }
}

/// Whether `response` refuses the token, as `source` reads it
/// ([`TokenSource::check_answer`](crate::TokenSource::check_answer)); the response itself,
/// rebuilt from its bytes when its body had to be read. Shared by [`AuthorizedClient`] and
/// the middleware.
pub(crate) async fn refused(
    source: &dyn crate::TokenSource,
    response: Response,
) -> Result<(bool, Response)> {
    match source.check_answer(response.status(), response.headers()) {
        AuthCheck::Accepted => Ok((false, response)),
        AuthCheck::Rejected => Ok((true, response)),
        AuthCheck::ReadBody => {
            if response
                .content_length()
                .is_none_or(|len| len > MAX_INSPECTED_BODY)
            {
                return Ok((false, response));
            }
            let (status, version, url) = (
                response.status(),
                response.version(),
                response.url().clone(),
            );
            let headers = response.headers().clone();
            let body = response
                .bytes()
                .await
                .map_err(|e| crate::provider_kit::wire::transport_error(source.provider(), e))?;
            let refused = source.refuses_token(status, &body);
            let mut rebuilt = ::http::Response::builder()
                .status(status)
                .version(version)
                .url(url);
            if let Some(map) = rebuilt.headers_mut() {
                *map = headers;
            }
            let rebuilt = rebuilt.body(body).map_err(|_| {
                crate::Error::unexpected(source.provider().to_owned(), "an unreadable answer")
            })?;
            Ok((refused, Response::from(rebuilt)))
        }
    }
}
