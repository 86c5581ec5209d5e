use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// An access token with everything needed to use and renew it.
///
/// The access token and the refresh token are [`SecretString`]s: `Debug` prints
/// `[redacted]` in their place, and reading them takes an explicit
/// [`expose_secret`](ExposeSecret::expose_secret).
///
/// `expires_at` is an absolute wall-clock instant, so a token can be stored and compared
/// across processes; `issued_at` is the moment just before the token request was sent.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use adauth_core::Token;
/// use secrecy::{ExposeSecret, SecretString};
///
/// let now = SystemTime::now();
/// let token = Token::new(SecretString::from("t0ken"), now, now + Duration::from_secs(3600))
///     .with_scope("reports")
///     .with_extra("username", "jane");
/// assert_eq!(token.access_token().expose_secret(), "t0ken");
/// assert_eq!(token.extras().get("username"), Some("jane"));
/// assert!(!format!("{token:?}").contains("t0ken"));
/// ```
#[derive(Clone)]
pub struct Token {
    access_token: SecretString,
    token_type: String,
    issued_at: SystemTime,
    expires_at: SystemTime,
    refresh_token: Option<SecretString>,
    scope: Option<String>,
    extras: Extras,
    secret_extras: BTreeMap<String, SecretString>,
}

impl Token {
    /// A bearer token issued at `issued_at` that expires at `expires_at`.
    pub fn new(access_token: SecretString, issued_at: SystemTime, expires_at: SystemTime) -> Self {
        Self {
            access_token,
            token_type: "Bearer".to_owned(),
            issued_at,
            expires_at,
            refresh_token: None,
            scope: None,
            extras: Extras::default(),
            secret_extras: BTreeMap::new(),
        }
    }

    /// Sets the token type as the provider named it (default `Bearer`).
    pub fn with_token_type(mut self, token_type: impl Into<String>) -> Self {
        self.token_type = token_type.into();
        self
    }

    /// Sets the refresh token.
    pub fn with_refresh_token(mut self, refresh_token: Option<SecretString>) -> Self {
        self.refresh_token = refresh_token;
        self
    }

    /// Sets the granted scope.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Adds a provider extra. Extras are shown by `Debug`: never put a secret here.
    pub fn with_extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extras.0.insert(key.into(), value.into());
        self
    }

    /// Adds a secret that belongs with the token, such as a session cookie issued for it.
    /// `Debug` shows only its name.
    pub fn with_secret_extra(mut self, key: impl Into<String>, value: SecretString) -> Self {
        self.secret_extras.insert(key.into(), value);
        self
    }

    /// A secret added with [`with_secret_extra`](Self::with_secret_extra).
    pub fn secret_extra(&self, key: &str) -> Option<&SecretString> {
        self.secret_extras.get(key)
    }

    /// The access token.
    pub fn access_token(&self) -> &SecretString {
        &self.access_token
    }

    /// The token type as the provider named it (`Bearer`, `bearer`, ...).
    pub fn token_type(&self) -> &str {
        &self.token_type
    }

    /// When the token was requested: the moment just before the request was sent.
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// When the token expires.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// The refresh token, for providers that issue one.
    pub fn refresh_token(&self) -> Option<&SecretString> {
        self.refresh_token.as_ref()
    }

    /// The granted scope, when the provider says.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// Non-secret details the provider sent with the token (a user name, a group, ...).
    pub fn extras(&self) -> &Extras {
        &self.extras
    }

    /// Whether the token has not yet expired at `now`.
    pub fn is_valid_at(&self, now: SystemTime) -> bool {
        now < self.expires_at
    }

    /// The time left at `now`, zero once expired.
    pub fn expires_in(&self, now: SystemTime) -> Duration {
        self.expires_at
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
    }

    /// The `Authorization` header value, `Bearer <access token>`, marked sensitive so that
    /// reqwest and `http` never print it.
    ///
    /// Always `Bearer`, whatever case the provider used in its `token_type`. Fails with an
    /// [`UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse) error only if the provider
    /// issued a token with characters that cannot appear in a header.
    pub fn authorization_header(&self, provider: &str) -> crate::Result<HeaderValue> {
        let mut value =
            HeaderValue::from_str(&format!("Bearer {}", self.access_token.expose_secret()))
                .map_err(|_| {
                    crate::Error::unexpected(
                        provider.to_owned(),
                        "the access token contains characters not allowed in an HTTP header",
                    )
                })?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// Whether `other` carries the same access token.
    pub fn same_access_token(&self, other: &Token) -> bool {
        self.access_token.expose_secret() == other.access_token.expose_secret()
    }

    pub(crate) fn inherit_refresh_token(&mut self, previous: &Token) {
        if self.refresh_token.is_none() {
            self.refresh_token.clone_from(&previous.refresh_token);
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("scope", &self.scope)
            .field("extras", &self.extras)
            .field(
                "secret_extras",
                &self.secret_extras.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Non-secret details a provider sends with a token, by name.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Extras(BTreeMap<String, String>);

impl Extras {
    /// The value of `key`, if the provider sent it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Every extra, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Extras {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}
