use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use reqwest::{RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};

use crate::{Clock, ExpiresIn, ExpiryPolicy, Result, SystemClock, Token};

/// Why a token with characters outside RFC 6750's `b64token` is refused.
pub(crate) const INVALID_TOKEN_CHARACTERS: &str =
    "the access token has characters that a bearer token cannot have (RFC 6750 b64token)";

/// What a [`TokenSource`] is given for each fetch: the clock to stamp tokens with and the
/// policy that turns `expires_in` into an expiry.
///
/// [`TokenCache`](crate::TokenCache) passes its own, so a cache on a
/// [`ManualClock`](crate::ManualClock) stamps every token on that clock.
#[derive(Debug, Clone)]
pub struct FetchContext {
    /// `None` for the [`SystemClock`], read without a dynamic call on the cached path.
    clock: Option<Arc<dyn Clock>>,
    expiry: ExpiryPolicy,
}

impl Default for FetchContext {
    fn default() -> Self {
        Self::system(ExpiryPolicy::default())
    }
}

/// The system clock as a shared `dyn Clock`, for [`FetchContext::clock`].
static SYSTEM_CLOCK: std::sync::LazyLock<Arc<dyn Clock>> =
    std::sync::LazyLock::new(|| Arc::new(SystemClock));

impl FetchContext {
    /// A context reading `clock` and applying `expiry`.
    pub fn new(clock: Arc<dyn Clock>, expiry: ExpiryPolicy) -> Self {
        Self {
            clock: Some(clock),
            expiry,
        }
    }

    /// A context reading the [`SystemClock`] and applying `expiry`.
    pub fn system(expiry: ExpiryPolicy) -> Self {
        Self {
            clock: None,
            expiry,
        }
    }

    /// The current time on the context's clock.
    #[inline]
    pub fn now(&self) -> SystemTime {
        match &self.clock {
            None => SystemClock.now(),
            Some(clock) => clock.now(),
        }
    }

    /// The context's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        self.clock.as_ref().unwrap_or(&SYSTEM_CLOCK)
    }

    /// The expiry policy.
    pub fn expiry_policy(&self) -> &ExpiryPolicy {
        &self.expiry
    }

    /// A token issued at `issued_at` with the expiry that the policy derives from
    /// `expires_in`; see [`ExpiryPolicy::expires_at`]. An empty access token, or one with
    /// characters outside RFC 6750's `b64token` (a CR or LF, a space, a control character),
    /// is an [`UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse) error.
    pub fn token(
        &self,
        provider: &str,
        issued_at: SystemTime,
        access_token: SecretString,
        expires_in: Option<&ExpiresIn>,
    ) -> Result<Token> {
        if access_token.expose_secret().trim().is_empty() {
            return Err(crate::Error::unexpected(
                provider.to_owned(),
                "the access token is empty",
            ));
        }
        if !crate::token::is_b64token(access_token.expose_secret()) {
            return Err(crate::Error::unexpected(
                provider.to_owned(),
                INVALID_TOKEN_CHARACTERS,
            ));
        }
        let expires_at = self
            .expiry
            .expires_at(provider, issued_at, expires_in, &access_token)?;
        Ok(Token::new(access_token, issued_at, expires_at))
    }
}

/// Something that obtains access tokens from a provider.
///
/// Each provider crate implements it for its credentials. Wrap a source in a
/// [`TokenCache`](crate::TokenCache) to fetch once and share.
///
/// The trait is object safe: `Box<dyn TokenSource>` and `Arc<dyn TokenSource>` are sources
/// too.
///
/// ```
/// use std::time::Duration;
/// use adauth_core::{async_trait, FetchContext, Result, Token, TokenSource};
/// use secrecy::SecretString;
///
/// #[derive(Debug)]
/// struct Static;
///
/// #[async_trait]
/// impl TokenSource for Static {
///     fn provider(&self) -> &str {
///         "static"
///     }
///     async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
///         let now = cx.now();
///         Ok(Token::new(SecretString::from("t"), now, now + Duration::from_secs(60)))
///     }
/// }
/// ```
#[async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// The provider's short lower-case name (`"fyber"`), used in errors and logs.
    fn provider(&self) -> &str;

    /// A non-secret name for the credentials this source uses, unique to them: two sources
    /// with the same identity share tokens (in a token store or a cache file), two with
    /// different credentials never do. Build it with [`credential_identity`].
    ///
    /// The default is `None`: such a source cannot be used with a token store (a cache
    /// built with one answers every call with a
    /// [`Configuration`](crate::ErrorKind::Configuration) error), because nothing would
    /// keep two tenants' tokens apart in it.
    fn identity(&self) -> Option<String> {
        None
    }

    /// How long the provider documents its tokens to live, assumed for an answer that
    /// gives no lifetime (see [`ExpiryPolicy::documented_lifetime`]). The default is
    /// `None`: 5 minutes are assumed.
    fn documented_lifetime(&self) -> Option<Duration> {
        None
    }

    /// Fetches a new token with the source's credentials.
    async fn fetch(&self, cx: &FetchContext) -> Result<Token>;

    /// Renews a token with its refresh token.
    ///
    /// The default fetches anew; providers with refresh tokens override it. If the provider
    /// rejects the refresh token, the cache falls back to [`fetch`](Self::fetch); if it
    /// rejects the client ([`Error::is_client_rejected`](crate::Error::is_client_rejected)),
    /// that error is the cache's answer. A token
    /// returned without a refresh token keeps the previous one.
    async fn refresh(&self, cx: &FetchContext, refresh_token: &SecretString) -> Result<Token> {
        let _ = refresh_token;
        self.fetch(cx).await
    }

    /// Whether an API answer says the token it carried was refused (invalid, expired or
    /// revoked), from its status and headers: [`AuthorizedClient`](crate::AuthorizedClient)
    /// then invalidates that token and replays the request once. The default: a 401 is a
    /// refusal. A provider that reports refusals in the body of other answers (Mediago's
    /// `errno` in a 200) answers [`AuthCheck::ReadBody`] for those, and reads the body in
    /// [`refuses_token`](Self::refuses_token).
    fn check_answer(&self, status: StatusCode, headers: &HeaderMap) -> AuthCheck {
        let _ = headers;
        if status == StatusCode::UNAUTHORIZED {
            AuthCheck::Rejected
        } else {
            AuthCheck::Accepted
        }
    }

    /// For an answer that [`check_answer`](Self::check_answer) sent to
    /// [`AuthCheck::ReadBody`]: whether `body` says the token was refused. The default: no.
    fn refuses_token(&self, status: StatusCode, body: &[u8]) -> bool {
        let _ = (status, body);
        false
    }

    /// Applies `token` to the headers of an API request, in any HTTP stack that uses the
    /// `http` 1.x crate's [`HeaderMap`] (reqwest of any 0.12+ version, hyper, axum's
    /// clients, ...): `Authorization: Bearer <token>` by default (marked sensitive), plus
    /// whatever else the provider requires, such as an account header or a session cookie.
    /// Each header is set, replacing any value of that name the map already had.
    ///
    /// This is the method a source implements; [`authorize`](Self::authorize) is built on
    /// it.
    ///
    /// ```no_run
    /// # async fn run(cache: adauth_core::TokenCache) -> adauth_core::Result<()> {
    /// let token = cache.token().await?;
    /// let mut request = http::Request::get("https://api.example.com/report")
    ///     .body(())
    ///     .expect("a request");
    /// cache.source().authorize_headers(request.headers_mut(), &token)?;
    /// # Ok(()) }
    /// ```
    fn authorize_headers(&self, headers: &mut HeaderMap, token: &Token) -> Result<()> {
        headers.insert(AUTHORIZATION, token.authorization_header(self.provider())?);
        Ok(())
    }

    /// Applies `token` to a reqwest request: the headers of
    /// [`authorize_headers`](Self::authorize_headers), each set, replacing any value the
    /// request already had ([`wire::set_header`](crate::provider_kit::wire::set_header)).
    fn authorize(&self, request: RequestBuilder, token: &Token) -> Result<RequestBuilder> {
        let mut headers = HeaderMap::new();
        self.authorize_headers(&mut headers, token)?;
        // `headers` replaces the values of the names it is given.
        Ok(request.headers(headers))
    }
}

/// A credential identity for [`TokenSource::identity`]: the provider name and a digest of
/// `parts` (endpoint, client id, secret, ...), so it names the credentials without revealing
/// them. The digest is SHA-256, cut to 128 bits and written in hex.
///
/// ```
/// let a = adauth_core::credential_identity("fyber", &["https://reporting.fyber.com/", "id", "secret"]);
/// let b = adauth_core::credential_identity("fyber", &["https://reporting.fyber.com/", "id", "other"]);
/// assert!(a.starts_with("fyber-") && a.len() == "fyber-".len() + 32);
/// assert_ne!(a, b);
/// assert!(!a.contains("secret"));
/// ```
pub fn credential_identity(provider: &str, parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(provider.as_bytes());
    for part in parts {
        // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{provider}-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_token_must_be_a_b64token() {
        let cx = FetchContext::default();
        let now = cx.now();
        let token = |t: &str| cx.token("p", now, SecretString::from(t.to_owned()), None);
        for good in ["abc", "eyJhbGciOi.J9-_~+/x", "dG9rZW4=", "a=="] {
            assert!(token(good).is_ok(), "{good}");
        }
        for bad in [
            "tok\r\nen",
            "tok en",
            "tok\u{1b}[0m",
            "t\u{e9}",
            "=",
            "a=b",
            "\"t\"",
        ] {
            let err = token(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::UnexpectedResponse, "{bad:?}");
            assert!(err.to_string().contains("b64token"), "{err}");
        }
    }
}

/// What an API answer says about the token it was sent with; see
/// [`TokenSource::check_answer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthCheck {
    /// The token was accepted (whatever else the answer says).
    Accepted,
    /// The token was refused: invalidate it and try once more with a fresh one.
    Rejected,
    /// The body decides: [`TokenSource::refuses_token`] reads it (a small body only; see
    /// [`AuthorizedClient`](crate::AuthorizedClient)).
    ReadBody,
}

macro_rules! forward_source {
    ($ty:ty) => {
        #[async_trait]
        impl<T: TokenSource + ?Sized> TokenSource for $ty {
            fn provider(&self) -> &str {
                (**self).provider()
            }
            async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
                (**self).fetch(cx).await
            }
            async fn refresh(
                &self,
                cx: &FetchContext,
                refresh_token: &SecretString,
            ) -> Result<Token> {
                (**self).refresh(cx, refresh_token).await
            }
            fn authorize_headers(&self, headers: &mut HeaderMap, token: &Token) -> Result<()> {
                (**self).authorize_headers(headers, token)
            }
            fn authorize(&self, request: RequestBuilder, token: &Token) -> Result<RequestBuilder> {
                (**self).authorize(request, token)
            }
            fn identity(&self) -> Option<String> {
                (**self).identity()
            }
            fn documented_lifetime(&self) -> Option<Duration> {
                (**self).documented_lifetime()
            }
            fn check_answer(&self, status: StatusCode, headers: &HeaderMap) -> AuthCheck {
                (**self).check_answer(status, headers)
            }
            fn refuses_token(&self, status: StatusCode, body: &[u8]) -> bool {
                (**self).refuses_token(status, body)
            }
        }
    };
}

forward_source!(Box<T>);
forward_source!(Arc<T>);
