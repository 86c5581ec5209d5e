//! The provider's auth as a [`reqwest-middleware`](reqwest_middleware) middleware (the
//! `middleware` feature), to stack with retry, tracing or caching middlewares.
//!
//! [`AuthMiddleware`] does what [`AuthorizedClient`](crate::AuthorizedClient) does, inside a
//! [`ClientWithMiddleware`](reqwest_middleware::ClientWithMiddleware): each request gets the
//! cache's current token through the source's
//! [`authorize_headers`](crate::TokenSource::authorize_headers) (the bearer token and the
//! provider's extras), and an answer that the source reads as a refusal of the token
//! ([`check_answer`](crate::TokenSource::check_answer): a 401 by default, Mediago's `errno`
//! too) makes it invalidate exactly that token and send the request once more with a fresh
//! one, when the request can be cloned. Any other answer is passed on as it is.
//!
//! ```no_run
//! # async fn run(cache: adauth_core::TokenCache) -> reqwest_middleware::Result<()> {
//! use adauth_core::middleware::AuthMiddleware;
//!
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     // A retry middleware goes first, so that it retries what the auth sends.
//!     .with(AuthMiddleware::new(cache))
//!     .build();
//! let response = client
//!     .get("https://api.admitad.com/me/")
//!     .send()
//!     .await?;
//! println!("{}", response.status());
//! # Ok(()) }
//! ```
//!
//! A failure to get a token is a [`reqwest_middleware::Error::Middleware`] that holds the
//! [`Error`](crate::Error): `err.downcast_ref::<adauth_core::Error>()` reads its kind,
//! provider and the provider's own code.

use http::Extensions;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};

use crate::TokenCache;

/// Applies a [`TokenCache`]'s tokens to requests and recovers once from a refused token; see
/// the [module docs](self).
#[derive(Debug, Clone)]
pub struct AuthMiddleware {
    cache: TokenCache,
}

impl AuthMiddleware {
    /// A middleware authorizing with `cache`'s tokens.
    pub fn new(cache: TokenCache) -> Self {
        Self { cache }
    }

    /// The token cache.
    pub fn cache(&self) -> &TokenCache {
        &self.cache
    }

    async fn authorized(
        &self,
        mut request: Request,
    ) -> reqwest_middleware::Result<(Request, std::sync::Arc<crate::Token>)> {
        let token = self
            .cache
            .token()
            .await
            .map_err(reqwest_middleware::Error::middleware)?;
        self.cache
            .source()
            .authorize_headers(request.headers_mut(), &token)
            .map_err(reqwest_middleware::Error::middleware)?;
        // Kept as an `Arc` across the request rather than as a guard: a guard held that
        // long would take one of the thread's few guard slots from the cached path.
        Ok((request, token.into_arc()))
    }
}

#[async_trait::async_trait]
impl Middleware for AuthMiddleware {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let source = self.cache.source();
        let provider = source.provider();
        let replay = request.try_clone();
        let (request, token) = self.authorized(request).await?;
        let response = next.clone().run(request, extensions).await?;
        let (refused, response) = crate::client::refused(source.as_ref(), response)
            .await
            .map_err(reqwest_middleware::Error::middleware)?;
        if !refused {
            return Ok(response);
        }
        let Some(replay) = replay else {
            tracing::debug!(
                provider,
                "the token was refused, and the request cannot be cloned; not retrying"
            );
            return Ok(response);
        };
        self.cache.invalidate(&token);
        tracing::debug!(
            provider,
            status = response.status().as_u16(),
            "the token was refused: sending once more with a fresh one"
        );
        let (replay, _) = self.authorized(replay).await?;
        next.run(replay, extensions).await
    }
}
