use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use crate::secret_buf::{SecretBuf, secret_json};

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
    /// Borrowed for the usual spellings of `Bearer`, so that most tokens hold no copy.
    token_type: Cow<'static, str>,
    issued_at: SystemTime,
    expires_at: SystemTime,
    refresh_token: Option<SecretString>,
    scope: Option<String>,
    extras: Extras,
    secret_extras: BTreeMap<String, SecretString>,
    /// When a [`TokenCache`](crate::TokenCache) holding this token renews it and stops
    /// serving it: set by the cache as it installs the token, so that its cached path reads
    /// one pointer. Not part of the token's value.
    pub(crate) schedule: CacheSchedule,
}

/// A cache's schedule for its token; see [`Token::schedule`].
#[derive(Clone, Copy)]
pub(crate) struct CacheSchedule {
    pub(crate) refresh_at: SystemTime,
    pub(crate) usable_until: SystemTime,
}

impl CacheSchedule {
    /// Never fresh: for tokens no cache has installed.
    pub(crate) const NONE: Self = Self {
        refresh_at: SystemTime::UNIX_EPOCH,
        usable_until: SystemTime::UNIX_EPOCH,
    };
}

impl Token {
    /// A bearer token issued at `issued_at` that expires at `expires_at`.
    pub fn new(access_token: SecretString, issued_at: SystemTime, expires_at: SystemTime) -> Self {
        Self {
            access_token,
            token_type: Cow::Borrowed("Bearer"),
            issued_at,
            expires_at,
            refresh_token: None,
            scope: None,
            extras: Extras::default(),
            secret_extras: BTreeMap::new(),
            schedule: CacheSchedule::NONE,
        }
    }

    /// Sets the token type as the provider named it (default `Bearer`).
    pub fn with_token_type(mut self, token_type: impl Into<String>) -> Self {
        let token_type = token_type.into();
        self.token_type = usual_token_type(&token_type).unwrap_or(Cow::Owned(token_type));
        self
    }

    /// Sets the token type from text read in place: the usual spellings are not copied.
    pub(crate) fn set_token_type_str(&mut self, token_type: &str) {
        self.token_type =
            usual_token_type(token_type).unwrap_or_else(|| Cow::Owned(token_type.to_owned()));
    }

    /// Sets the refresh token, in place.
    pub(crate) fn set_refresh_token(&mut self, refresh_token: Option<SecretString>) {
        self.refresh_token = refresh_token;
    }

    /// Sets the scope, in place.
    pub(crate) fn set_scope(&mut self, scope: String) {
        self.scope = Some(scope);
    }

    /// Replaces the extras, in place.
    pub(crate) fn set_extras(&mut self, extras: Extras) {
        self.extras = extras;
    }

    /// Adds a secret extra, in place.
    pub(crate) fn insert_secret_extra(&mut self, key: &str, value: SecretString) {
        self.secret_extras.insert(key.to_owned(), value);
    }

    /// Sets the refresh token.
    pub fn with_refresh_token(mut self, refresh_token: Option<SecretString>) -> Self {
        self.set_refresh_token(refresh_token);
        self
    }

    /// Moves the expiry to `expires_at`: for a source whose token is bound by something
    /// else that expires (a session fetched with it).
    pub fn with_expires_at(mut self, expires_at: SystemTime) -> Self {
        self.expires_at = expires_at;
        self
    }

    /// Sets the granted scope.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.set_scope(scope.into());
        self
    }

    /// Adds a provider extra. Extras are shown by `Debug`: never put a secret here.
    pub fn with_extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extras.insert(Cow::Owned(key.into()), value.into());
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
        let token = self.access_token.expose_secret();
        let mut value = SecretBuf::with_capacity("Bearer ".len() + token.len());
        value.extend(b"Bearer ");
        value.extend(token.as_bytes());
        crate::provider_kit::wire::sensitive_header(value).ok_or_else(|| {
            crate::Error::unexpected(
                provider.to_owned(),
                "the access token contains characters not allowed in an HTTP header",
            )
        })
    }

    /// Whether the access token is an RFC 6750 `b64token` (letters, digits and
    /// `-._~+/`, then `=` padding): anything else (a CR or LF, a space, a control
    /// character) cannot be sent in an `Authorization` header or printed safely.
    pub fn has_valid_access_token(&self) -> bool {
        is_b64token(self.access_token.expose_secret())
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

/// `token_type` as a static string when it is a usual spelling of `Bearer`.
fn usual_token_type(token_type: &str) -> Option<Cow<'static, str>> {
    match token_type {
        "Bearer" => Some(Cow::Borrowed("Bearer")),
        "bearer" => Some(Cow::Borrowed("bearer")),
        _ => None,
    }
}

/// RFC 6750, section 2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
/// "/" ) *"="`.
pub(crate) fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty() && crate::scan::every_byte(body.as_bytes(), crate::scan::b64token)
}

/// The stored form of a token as written: every field, secrets included, borrowed from the
/// token (no copy of a secret is made), with instants as Unix seconds and nanoseconds.
/// Versioned so that a later format can tell an old file apart.
#[derive(serde::Serialize)]
pub(crate) struct StoredRef<'a> {
    v: u32,
    provider: &'a str,
    access_token: &'a str,
    token_type: &'a str,
    issued_at: (u64, u32),
    expires_at: (u64, u32),
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "no_extras")]
    extras: &'a Extras,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    secret_extras: BTreeMap<&'a str, &'a str>,
}

/// The stored form as read: each secret goes straight into a [`SecretString`].
#[derive(serde::Deserialize)]
pub(crate) struct Stored {
    v: u32,
    provider: String,
    access_token: SecretString,
    token_type: String,
    issued_at: (u64, u32),
    expires_at: (u64, u32),
    #[serde(default)]
    refresh_token: Option<SecretString>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    extras: Extras,
    #[serde(default)]
    secret_extras: BTreeMap<String, SecretString>,
}

const STORED_VERSION: u32 = 1;

fn unix(t: SystemTime) -> (u64, u32) {
    let d = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    (d.as_secs(), d.subsec_nanos())
}

fn from_unix((secs, nanos): (u64, u32)) -> Option<SystemTime> {
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos.min(999_999_999)))
}

impl Token {
    /// The whole token, secrets included, as JSON for a token store or a cache file.
    ///
    /// The result is a secret: whoever reads it can use the token. Store it where only its
    /// owner can read it. [`Token::from_stored`] reads it back.
    pub fn to_stored(&self, provider: &str) -> SecretString {
        // Built in a buffer that is wiped as it grows; plain strings and numbers always
        // serialize.
        secret_json(&self.stored_form(provider))
            .into_secret_string()
            .unwrap_or_else(|| SecretString::from(String::new()))
    }

    /// The stored form, borrowing the token's secrets, to nest in a token store's record.
    pub(crate) fn stored_form<'a>(&'a self, provider: &'a str) -> StoredRef<'a> {
        StoredRef {
            v: STORED_VERSION,
            provider,
            access_token: self.access_token.expose_secret(),
            token_type: &self.token_type,
            issued_at: unix(self.issued_at),
            expires_at: unix(self.expires_at),
            refresh_token: self.refresh_token.as_ref().map(|t| t.expose_secret()),
            scope: self.scope.as_deref(),
            extras: &self.extras,
            secret_extras: self
                .secret_extras
                .iter()
                .map(|(k, v)| (k.as_str(), v.expose_secret()))
                .collect(),
        }
    }

    /// Reads a token written by [`Token::to_stored`] for `provider`.
    ///
    /// Anything else (another provider's token, another format version, malformed JSON) is
    /// an [`UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse) error that never
    /// quotes the input.
    pub fn from_stored(provider: &str, stored: &str) -> crate::Result<Token> {
        let s: Stored = serde_json::from_str(stored).map_err(|_| {
            crate::Error::unexpected(provider.to_owned(), "the stored token is not readable")
        })?;
        Self::from_stored_form(provider, s)
    }

    pub(crate) fn from_stored_form(provider: &str, s: Stored) -> crate::Result<Token> {
        let bad = |why: &'static str| crate::Error::unexpected(provider.to_owned(), why);
        if s.v != STORED_VERSION {
            return Err(bad("the stored token has an unknown format version"));
        }
        if s.provider != provider {
            return Err(bad("the stored token belongs to another provider"));
        }
        if s.access_token.expose_secret().is_empty() {
            return Err(bad("the stored token is empty"));
        }
        if !is_b64token(s.access_token.expose_secret()) {
            return Err(bad(
                "the stored access token has characters a bearer token cannot have",
            ));
        }
        let (Some(issued_at), Some(expires_at)) = (from_unix(s.issued_at), from_unix(s.expires_at))
        else {
            return Err(bad("the stored token has an impossible time"));
        };
        let mut token = Token::new(s.access_token, issued_at, expires_at)
            .with_token_type(s.token_type)
            .with_refresh_token(s.refresh_token);
        token.scope = s.scope;
        token.extras = s.extras;
        token.secret_extras = s.secret_extras;
        Ok(token)
    }
}

fn no_extras(extras: &&Extras) -> bool {
    extras.is_empty()
}

/// Non-secret details a provider sends with a token, by name.
///
/// Held as a list sorted by name: a token has a handful of extras, and a list of them
/// costs one allocation where a map costs a node per few and a slower drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Extras(Vec<(Cow<'static, str>, String)>);

impl Extras {
    /// Room for `n` extras.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    /// Sets `key` to `value`, replacing an earlier value.
    pub(crate) fn insert(&mut self, key: Cow<'static, str>, value: String) {
        match self.position(&key) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_ref().cmp(key))
    }

    /// The value of `key`, if the provider sent it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key).ok().map(|i| self.0[i].1.as_str())
    }

    /// Every extra, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v.as_str()))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Extras {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl serde::Serialize for Extras {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> serde::Deserialize<'de> for Extras {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ExtrasVisitor;
        impl<'de> serde::de::Visitor<'de> for ExtrasVisitor {
            type Value = Extras;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of text")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Extras, A::Error> {
                let mut extras = Extras::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some((key, value)) = map.next_entry::<String, String>()? {
                    extras.insert(Cow::Owned(key), value);
                }
                Ok(extras)
            }
        }
        d.deserialize_map(ExtrasVisitor)
    }
}
