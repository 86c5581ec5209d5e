//! Admitad's numeric `error_code`, and how token endpoint answers become errors.

use adauth_core::provider_kit::wire;
use adauth_core::provider_kit::wire::HttpResponse;
use std::fmt;

use adauth_core::{Error, ErrorKind};
use reqwest::StatusCode;
use reqwest::header::WWW_AUTHENTICATE;
use serde::Deserialize;

use crate::PROVIDER;

/// Admitad's numeric `error_code`, sent next to the OAuth `error` string:
/// `{"error": "invalid_token", "error_description": "...", "error_code": 1}`.
///
/// Read it from an error with [`AdmitadErrorCode::of`]. Each known code is mapped to the
/// [`ErrorKind`] a caller acts on ([`kind`](Self::kind)):
///
/// | `error_code` | meaning | kind | why |
/// |---|---|---|---|
/// | 0 [`Expired`](Self::Expired) | the token has expired | [`CredentialsRejected`](ErrorKind::CredentialsRejected) | the same token will never work again; a new one is needed |
/// | 1 [`Invalid`](Self::Invalid) | the token is invalid | [`CredentialsRejected`](ErrorKind::CredentialsRejected) | as above |
/// | 2 [`InsufficientRights`](Self::InsufficientRights) | not enough rights | [`RequestRejected`](ErrorKind::RequestRejected) | the credentials are good but what they ask for is not allowed, like OAuth's `invalid_scope`: change the scopes or the account's rights |
/// | 3 [`BadRequest`](Self::BadRequest) | malformed request | [`RequestRejected`](ErrorKind::RequestRejected) | the request itself is wrong |
/// | 4 [`QuotaExceeded`](Self::QuotaExceeded) | request quota exceeded | [`RateLimited`](ErrorKind::RateLimited) | it clears with time; make fewer requests |
/// | 5 [`RefreshTokenUnavailable`](Self::RefreshTokenUnavailable) | the refresh token is unavailable | [`CredentialsRejected`](ErrorKind::CredentialsRejected) | the refresh token is dead: [`TokenCache`](adauth_core::TokenCache) falls back to client credentials |
/// | 6 [`TooManyTokens`](Self::TooManyTokens) | the application holds too many tokens | [`RateLimited`](ErrorKind::RateLimited) | a quota on live tokens: it clears as old tokens expire, and minting more makes it worse, so it must not count as a rejected refresh token (which would make the cache mint one) |
///
/// On the refresh grant, any refusal of the request ([`RequestRejected`](ErrorKind::RequestRejected)
/// by the table above or by its OAuth `error`) is reported as
/// [`CredentialsRejected`](ErrorKind::CredentialsRejected) too: a refresh token the provider
/// will not take is a dead refresh token, and the cache should mint a new token rather than
/// retry it forever.
///
/// Independently of the body, HTTP 503 (more than 600 requests a minute per application) and
/// 429 are [`RateLimited`](ErrorKind::RateLimited), and other 5xx answers
/// [`ProviderUnavailable`](ErrorKind::ProviderUnavailable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdmitadErrorCode {
    /// 0: the token has expired.
    Expired,
    /// 1: the token is invalid.
    Invalid,
    /// 2: not enough rights for the request.
    InsufficientRights,
    /// 3: the request is malformed.
    BadRequest,
    /// 4: the request quota is exceeded.
    QuotaExceeded,
    /// 5: the refresh token is unavailable.
    RefreshTokenUnavailable,
    /// 6: the application has too many tokens.
    TooManyTokens,
    /// A code this crate does not know.
    Unknown(i64),
}

impl AdmitadErrorCode {
    /// The code for `code`.
    pub fn from_code(code: i64) -> Self {
        match code {
            0 => Self::Expired,
            1 => Self::Invalid,
            2 => Self::InsufficientRights,
            3 => Self::BadRequest,
            4 => Self::QuotaExceeded,
            5 => Self::RefreshTokenUnavailable,
            6 => Self::TooManyTokens,
            other => Self::Unknown(other),
        }
    }

    /// The number Admitad sends.
    pub fn code(self) -> i64 {
        match self {
            Self::Expired => 0,
            Self::Invalid => 1,
            Self::InsufficientRights => 2,
            Self::BadRequest => 3,
            Self::QuotaExceeded => 4,
            Self::RefreshTokenUnavailable => 5,
            Self::TooManyTokens => 6,
            Self::Unknown(code) => code,
        }
    }

    /// The kind of error this code stands for (see the table above); `None` for an
    /// unknown code, which is classified by its HTTP status and OAuth `error` instead.
    pub fn kind(self) -> Option<ErrorKind> {
        Some(match self {
            Self::Expired | Self::Invalid | Self::RefreshTokenUnavailable => {
                ErrorKind::CredentialsRejected
            }
            Self::InsufficientRights | Self::BadRequest => ErrorKind::RequestRejected,
            Self::QuotaExceeded | Self::TooManyTokens => ErrorKind::RateLimited,
            Self::Unknown(_) => return None,
        })
    }

    /// The `error_code` Admitad sent with the answer `err` was made from, if it sent one.
    ///
    /// ```
    /// use adauth_admitad::AdmitadErrorCode;
    /// # fn check(err: &adauth_core::Error) {
    /// if AdmitadErrorCode::of(err) == Some(AdmitadErrorCode::TooManyTokens) {
    ///     // Reuse the tokens you have: Admitad caps them per application.
    /// }
    /// # }
    /// ```
    pub fn of(err: &Error) -> Option<Self> {
        let mut cause = std::error::Error::source(err);
        while let Some(e) = cause {
            if let Some(Cause(code)) = e.downcast_ref::<Cause>() {
                return Some(*code);
            }
            cause = e.source();
        }
        None
    }

    fn meaning(self) -> &'static str {
        match self {
            Self::Expired => "token expired",
            Self::Invalid => "token invalid",
            Self::InsufficientRights => "insufficient rights",
            Self::BadRequest => "bad request",
            Self::QuotaExceeded => "quota exceeded",
            Self::RefreshTokenUnavailable => "refresh token unavailable",
            Self::TooManyTokens => "too many tokens",
            Self::Unknown(_) => "unknown code",
        }
    }
}

impl From<i64> for AdmitadErrorCode {
    fn from(code: i64) -> Self {
        Self::from_code(code)
    }
}

impl fmt::Display for AdmitadErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error_code {} ({})", self.code(), self.meaning())
    }
}

/// Carries the `error_code` inside an [`Error`], as its source: typed for
/// [`AdmitadErrorCode::of`], and shown at the end of the error's `Display`.
#[derive(Debug)]
struct Cause(AdmitadErrorCode);

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "admitad {}", self.0)
    }
}

impl std::error::Error for Cause {}

/// Which request an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    ClientCredentials,
    RefreshToken,
    AuthorizationCode,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: Option<serde_json::Value>,
    #[serde(default)]
    error_code: Option<serde_json::Value>,
}

impl ErrorBody {
    fn read(response: &HttpResponse) -> Self {
        serde_json::from_slice(response.body()).unwrap_or_default()
    }

    fn has_oauth_error(&self) -> bool {
        matches!(&self.error, Some(serde_json::Value::String(s)) if !s.is_empty())
    }

    fn code(&self) -> Option<AdmitadErrorCode> {
        match self.error_code.as_ref()? {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .map(AdmitadErrorCode::from_code)
    }
}

/// The kind of a failed token request: the status first (503 is Admitad's rate limit),
/// then the `error_code`, then the OAuth `error` and status as the core reads them.
pub(crate) fn classify(
    status: StatusCode,
    oauth_error: Option<&str>,
    code: Option<AdmitadErrorCode>,
    grant: Grant,
) -> ErrorKind {
    let kind =
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
            ErrorKind::RateLimited
        } else if status.is_server_error() {
            ErrorKind::ProviderUnavailable
        } else if let Some(kind) = code.and_then(AdmitadErrorCode::kind) {
            kind
        } else {
            wire::classify(status, oauth_error)
        };
    match (grant, kind) {
        (Grant::RefreshToken, ErrorKind::RequestRejected) => ErrorKind::CredentialsRejected,
        _ => kind,
    }
}

/// The error a non-2xx token endpoint answer stands for, with every value in `secrets`
/// removed from what the provider said.
pub(crate) fn token_error(response: &HttpResponse, grant: Grant, secrets: &[&str]) -> Error {
    let body = ErrorBody::read(response);
    let code = body.code();
    let challenge = response
        .headers()
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(Challenge::parse)
        .unwrap_or_default();
    let mut err = response.error_with(PROVIDER, |status, oauth_error| {
        // The body is what the provider documents; the challenge header stands in for the
        // OAuth `error` when the body has none (an empty or non-JSON 401).
        let oauth_error = match (body.has_oauth_error(), &challenge.error) {
            (false, Some(error)) => Some(error.as_str()),
            _ => oauth_error,
        };
        classify(status, oauth_error, code, grant)
    });
    if !body.has_oauth_error()
        && let Some(error) = challenge.error
    {
        err = err.with_code(error);
    }
    if err.description().is_none()
        && let Some(description) = challenge.description
    {
        err = err.with_description(description);
    }
    if let Some(code) = code {
        err = err.with_source(Cause(code));
    }
    err.scrub(secrets)
}

/// The `error` and `error_description` parameters of a `WWW-Authenticate: Bearer ...`
/// challenge (RFC 6750, section 3).
#[derive(Debug, Default, PartialEq, Eq)]
struct Challenge {
    error: Option<String>,
    description: Option<String>,
}

impl Challenge {
    fn parse(header: &str) -> Self {
        let mut out = Self::default();
        let mut rest = header.trim();
        // The scheme comes first, unless the header starts with a parameter.
        if let Some((scheme, after)) = rest.split_once(char::is_whitespace)
            && !scheme.contains('=')
        {
            rest = after;
        }
        while !rest.is_empty() {
            rest = rest.trim_start_matches([' ', '\t', ',']);
            let Some((name, after)) = rest.split_once('=') else {
                break;
            };
            let name = name.trim().to_ascii_lowercase();
            let after = after.trim_start();
            let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let mut end = quoted.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                value.push(escaped);
                            }
                        }
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                (value, &quoted[end.min(quoted.len())..])
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim().to_owned(), &after[end..])
            };
            match name.as_str() {
                "error" if !value.is_empty() => out.error = Some(value),
                "error_description" if !value.is_empty() => out.description = Some(value),
                _ => {}
            }
            rest = next;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Cases: `PROPTEST_CASES` (10,000 in this workspace; `cargo xtask fuzz` runs more).
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        // Token and error answers of any shape: a token or a clear error, never a panic.
        #[test]
        fn token_and_error_answers_never_panic(
            status in 100u16..600,
            code in prop_oneof![any::<i64>().prop_map(|n| n.to_string()), ".{0,12}".prop_map(|s| format!("{s:?}"))],
            text in ".{0,60}",
            challenge in ".{0,60}",
            noise in prop::collection::vec(any::<u8>(), 0..200),
        ) {
            let mut headers = adauth_core::reqwest::header::HeaderMap::new();
            if let Ok(v) = adauth_core::reqwest::header::HeaderValue::from_str(&challenge) {
                headers.insert(adauth_core::reqwest::header::WWW_AUTHENTICATE, v);
            }
            for body in [
                format!(r#"{{"error":{text:?},"error_description":{text:?},"error_code":{code}}}"#).into_bytes(),
                format!(r#"{{"access_token":{text:?},"expires_in":{code},"refresh_token":{text:?},"username":1}}"#).into_bytes(),
                noise.clone(),
            ] {
                let response = HttpResponse::new(
                    adauth_core::reqwest::StatusCode::from_u16(status).unwrap(),
                    headers.clone(),
                    body.into(),
                    std::time::SystemTime::UNIX_EPOCH,
                );
                for grant in [Grant::ClientCredentials, Grant::RefreshToken, Grant::AuthorizationCode] {
                    let _ = token_error(&response, grant, &["s"]);
                }
                let _ = crate::read_token(&adauth_core::FetchContext::default(), &response);
            }
        }
    }

    #[test]
    fn challenge_parameters() {
        let c = Challenge::parse(
            r#"Bearer realm="api", error="invalid_token", error_description="The access token expired""#,
        );
        assert_eq!(c.error.as_deref(), Some("invalid_token"));
        assert_eq!(c.description.as_deref(), Some("The access token expired"));
        let c =
            Challenge::parse(r#"Bearer error=invalid_token,error_description="a \"quoted\", b""#);
        assert_eq!(c.error.as_deref(), Some("invalid_token"));
        assert_eq!(c.description.as_deref(), Some(r#"a "quoted", b"#));
        assert_eq!(Challenge::parse("Bearer"), Challenge::default());
        assert_eq!(Challenge::parse(r#"Bearer error=""#), Challenge::default());
    }

    #[test]
    fn codes_round_trip() {
        for n in -1..=7 {
            assert_eq!(AdmitadErrorCode::from_code(n).code(), n);
        }
        assert_eq!(AdmitadErrorCode::from(7), AdmitadErrorCode::Unknown(7));
        assert_eq!(AdmitadErrorCode::Unknown(7).kind(), None);
    }
}
