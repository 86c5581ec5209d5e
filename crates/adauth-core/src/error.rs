use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use zeroize::Zeroizing;

/// The result type used throughout adauth.
pub type Result<T, E = Error> = std::result::Result<T, E>;

type BoxError = Arc<dyn StdError + Send + Sync + 'static>;

/// What went wrong, in terms a caller can act on.
///
/// Returned by [`Error::kind`]. The set may grow, so match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The provider refused the credentials (wrong secret, revoked client, rejected refresh
    /// token). Retrying with the same credentials will not help.
    CredentialsRejected,
    /// The provider refused the request itself as malformed or unsupported (for example
    /// `invalid_request` or `unsupported_grant_type`).
    RequestRejected,
    /// The provider answered with a server error (5xx).
    ProviderUnavailable,
    /// The provider asked the caller to slow down (429, or a provider-specific equivalent).
    RateLimited,
    /// The request or the connection timed out.
    Timeout,
    /// The request could not be sent or its answer not read (DNS, connect, TLS, reset).
    Transport,
    /// The provider answered with something this library cannot use: an unexpected status,
    /// content type or body.
    UnexpectedResponse,
    /// The credentials or settings given to adauth are missing or invalid.
    Configuration,
    /// A token source broke its contract: it panicked, or its fetch was abandoned. A bug
    /// to report, not a provider's answer.
    Internal,
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            Self::CredentialsRejected => "credentials rejected",
            Self::RequestRejected => "request rejected",
            Self::ProviderUnavailable => "provider unavailable",
            Self::RateLimited => "rate limited",
            Self::Timeout => "timed out",
            Self::Transport => "transport error",
            Self::UnexpectedResponse => "unexpected response",
            Self::Configuration => "configuration error",
            Self::Internal => "internal error",
        }
    }

    /// A stable machine name for the kind (`"rate_limited"`), as token stores record it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::CredentialsRejected => "credentials_rejected",
            Self::RequestRejected => "request_rejected",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::RateLimited => "rate_limited",
            Self::Timeout => "timeout",
            Self::Transport => "transport",
            Self::UnexpectedResponse => "unexpected_response",
            Self::Configuration => "configuration",
            Self::Internal => "internal",
        }
    }

    /// The kind named by [`name`](Self::name); unknown names read as `UnexpectedResponse`.
    pub(crate) fn from_name(name: &str) -> Self {
        [
            Self::CredentialsRejected,
            Self::RequestRejected,
            Self::ProviderUnavailable,
            Self::RateLimited,
            Self::Timeout,
            Self::Transport,
            Self::Configuration,
            Self::Internal,
        ]
        .into_iter()
        .find(|k| k.name() == name)
        .unwrap_or(Self::UnexpectedResponse)
    }

    /// Whether an error of this kind may go away if the same request is tried again later.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::ProviderUnavailable | Self::RateLimited | Self::Timeout | Self::Transport
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The error type of every adauth crate.
///
/// It always names the provider, and carries what the provider said when it said anything:
/// the HTTP status, the provider's own error code and description, a `Retry-After` delay, and
/// for unusable answers the content type and a short excerpt of the body with anything that
/// looks like a secret removed. It never contains a secret the library was given.
///
/// `Error` is cheap to clone, so one failed fetch can be handed to every caller that waited
/// for it.
///
/// ```
/// use adauth_core::{Error, ErrorKind};
///
/// let err = Error::new("fyber", ErrorKind::CredentialsRejected)
///     .with_status(400)
///     .with_code("invalid_client");
/// assert_eq!(err.to_string(), "fyber: credentials rejected (HTTP 400, invalid_client)");
/// assert!(!err.is_retryable());
/// ```
#[derive(Clone)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Clone)]
struct Inner {
    provider: Cow<'static, str>,
    kind: ErrorKind,
    message: Option<Cow<'static, str>>,
    status: Option<StatusCode>,
    code: Option<String>,
    description: Option<String>,
    retry_after: Option<Duration>,
    content_type: Option<String>,
    excerpt: Option<String>,
    source: Option<BoxError>,
}

impl Error {
    /// A new error of `kind` for `provider` (a short lower-case name such as `"fyber"`).
    pub fn new(provider: impl Into<Cow<'static, str>>, kind: ErrorKind) -> Self {
        Self {
            inner: Box::new(Inner {
                provider: provider.into(),
                kind,
                message: None,
                status: None,
                code: None,
                description: None,
                retry_after: None,
                content_type: None,
                excerpt: None,
                source: None,
            }),
        }
    }

    /// A [`ErrorKind::Configuration`] error with a message that says what to fix.
    pub fn configuration(
        provider: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(provider, ErrorKind::Configuration).with_message(message)
    }

    /// An [`ErrorKind::UnexpectedResponse`] error with a message that says what was wrong.
    pub fn unexpected(
        provider: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(provider, ErrorKind::UnexpectedResponse).with_message(message)
    }

    /// Adds a short explanation written by adauth (never the provider's words: see
    /// [`Error::with_description`]). It must not contain secrets.
    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.inner.message = Some(message.into());
        self
    }

    /// Adds the HTTP status the provider answered with.
    ///
    /// Values that are not valid HTTP status codes are ignored.
    pub fn with_status(mut self, status: impl TryInto<StatusCode>) -> Self {
        self.inner.status = status.try_into().ok();
        self
    }

    /// Adds the provider's own error code (such as `invalid_client`, or `6` for a numeric one).
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.inner.code = Some(code.into());
        self
    }

    /// Adds the provider's own description of the error.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.inner.description = Some(description.into());
        self
    }

    /// Adds the delay the provider asked for before the next attempt.
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.inner.retry_after = Some(delay);
        self
    }

    /// Adds the response's content type and a short excerpt of its body.
    ///
    /// The excerpt is redacted with [`redact_excerpt`](crate::redact_excerpt) here, so raw
    /// bodies may be passed.
    pub fn with_body(mut self, content_type: Option<&str>, body: &[u8]) -> Self {
        self.inner.content_type = content_type.map(str::to_owned);
        let excerpt = crate::redact::redact_excerpt(body);
        self.inner.excerpt = (!excerpt.is_empty()).then_some(excerpt);
        self
    }

    /// Adds the underlying cause.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Arc::new(source));
        self
    }

    /// Changes the kind, keeping everything else.
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.inner.kind = kind;
        self
    }

    /// Removes every occurrence of the given secret values from the provider's code,
    /// description and body excerpt, as sent and form-encoded, including a secret cut off at
    /// the end of the excerpt.
    ///
    /// Providers call this with the credentials they sent, so a server that echoes a secret
    /// back in an error cannot leak it through adauth. Empty values are skipped.
    pub fn scrub(mut self, secrets: &[&str]) -> Self {
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        // Every form of a secret is built at its final size and wiped when dropped.
        let mut forms: Vec<Zeroizing<String>> = Vec::new();
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            let sized = || Zeroizing::new(String::with_capacity(secret.len() * 6 + 2));
            let mut raw = Zeroizing::new(String::with_capacity(secret.len()));
            raw.push_str(secret);
            forms.push(raw);
            let mut form = sized();
            for part in url::form_urlencoded::byte_serialize(secret.as_bytes()) {
                form.push_str(part);
            }
            forms.push(form);
            // Percent-encoded as in a URL: every byte but the unreserved ones.
            let mut percent = sized();
            for b in secret.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    percent.push(char::from(b));
                } else {
                    const HEX: &[u8; 16] = b"0123456789ABCDEF";
                    percent.push('%');
                    percent.push(char::from(HEX[usize::from(b >> 4)]));
                    percent.push(char::from(HEX[usize::from(b & 0xf)]));
                }
            }
            forms.push(percent);
            // JSON-escaped, as a server that echoes a JSON body sends it back.
            let json = crate::secret_buf::secret_json(*secret);
            if let Some(json) = json.as_slice().get(1..json.len().saturating_sub(1)) {
                let mut escaped = sized();
                escaped.push_str(std::str::from_utf8(json).unwrap_or_default());
                forms.push(escaped);
            }
            // Base64, as in a Basic header (scrub the `id:secret` pair to catch that one).
            if secret.len() >= 4 {
                for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                    // `encode` allocates the exact size.
                    forms.push(Zeroizing::new(engine.encode(secret.as_bytes())));
                }
            }
        }
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        let scrub = |text: &mut String| {
            for form in &forms {
                if text.contains(form.as_str()) {
                    let scrubbed = text.replace(form.as_str(), crate::redact::REDACTED);
                    // The text held the secret: wipe it.
                    drop(Zeroizing::new(std::mem::replace(text, scrubbed)));
                }
            }
        };
        let inner = &mut *self.inner;
        for field in [&mut inner.code, &mut inner.description, &mut inner.excerpt]
            .into_iter()
            .flatten()
        {
            scrub(field);
        }
        if let Some(excerpt) = &mut inner.excerpt {
            cut_secret_prefix(excerpt, &forms);
        }
        self
    }

    /// The provider this error comes from (`"fyber"`, `"adgem"`, ...).
    pub fn provider(&self) -> &str {
        &self.inner.provider
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// adauth's own explanation, if it added one.
    pub fn message(&self) -> Option<&str> {
        self.inner.message.as_deref()
    }

    /// The HTTP status the provider answered with, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// The provider's own error code, if it gave one.
    pub fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }

    /// The provider's own description of the error, if it gave one.
    pub fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }

    /// How long the provider asked callers to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// The content type of an unusable response.
    pub fn content_type(&self) -> Option<&str> {
        self.inner.content_type.as_deref()
    }

    /// A short excerpt of the response body, with secrets removed.
    pub fn body_excerpt(&self) -> Option<&str> {
        self.inner.excerpt.as_deref()
    }

    /// Whether the same request may succeed if tried again later: timeouts, transport
    /// failures, 5xx answers and rate limiting are; rejected credentials and unusable
    /// answers are not.
    pub fn is_retryable(&self) -> bool {
        self.inner.kind.is_retryable()
    }

    /// Whether the provider refused the credentials.
    pub fn is_credentials_rejected(&self) -> bool {
        self.inner.kind == ErrorKind::CredentialsRejected
    }

    /// Whether the provider refused the client itself (OAuth `invalid_client`, RFC 6749
    /// section 5.2: the client id or secret is wrong), rather than a grant such as a
    /// refresh token. A refresh refused this way is not a reason to fetch anew: the fetch
    /// would present the same client (or, where the fetch authenticates differently, mint
    /// a token on every renewal).
    ///
    /// ```
    /// use adauth_core::{Error, ErrorKind};
    /// let client = Error::new("p", ErrorKind::CredentialsRejected).with_code("invalid_client");
    /// let grant = Error::new("p", ErrorKind::CredentialsRejected).with_code("invalid_grant");
    /// assert!(client.is_client_rejected() && !grant.is_client_rejected());
    /// ```
    pub fn is_client_rejected(&self) -> bool {
        self.is_credentials_rejected() && self.code() == Some("invalid_client")
    }

    /// Whether the request or connection timed out.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// Whether the provider asked callers to slow down.
    pub fn is_rate_limited(&self) -> bool {
        self.inner.kind == ErrorKind::RateLimited
    }

    /// Whether the library was given missing or invalid settings.
    pub fn is_configuration(&self) -> bool {
        self.inner.kind == ErrorKind::Configuration
    }
}

/// An excerpt cut at its length limit may end with the start of a secret: remove it.
fn cut_secret_prefix(excerpt: &mut String, secrets: &[Zeroizing<String>]) {
    const MIN: usize = 4;
    let Some(body) = excerpt.strip_suffix("...") else {
        return;
    };
    let longest = secrets
        .iter()
        .filter_map(|secret| {
            (MIN..secret.len())
                .rev()
                .filter(|n| secret.is_char_boundary(*n))
                .find(|n| body.ends_with(&secret[..*n]))
        })
        .max();
    if let Some(n) = longest {
        let keep = body.len() - n;
        let cut = format!("{}{}...", &body[..keep], crate::redact::REDACTED);
        drop(Zeroizing::new(std::mem::replace(excerpt, cut)));
    }
}

/// The most characters of one piece of text (a message, a provider's code, description or
/// body excerpt, a cause) that `Display` shows.
const MAX_SHOWN: usize = 300;

/// `text` made safe to print on a terminal or in a log line: control characters (CR, LF,
/// ESC, ...) and bidirectional overrides become `\u{..}` escapes, so a provider cannot
/// forge lines or colours, and it is cut to [`MAX_SHOWN`] characters.
pub(crate) fn shown(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if text.chars().count() <= MAX_SHOWN && !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    // Counted as shown, escapes included.
    let mut out = String::with_capacity(text.len().min(MAX_SHOWN * 2));
    let mut shown_chars = 0;
    for c in text.chars() {
        let piece = if unsafe_char(c) {
            format!("\\u{{{:x}}}", u32::from(c))
        } else {
            c.to_string()
        };
        shown_chars += piece.chars().count();
        if shown_chars > MAX_SHOWN {
            out.push_str("...");
            break;
        }
        out.push_str(&piece);
    }
    Cow::Owned(out)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        write!(f, "{}: {}", shown(&i.provider), i.kind)?;
        if let Some(message) = &i.message {
            write!(f, ": {}", shown(message))?;
        }
        let mut parts = Vec::new();
        if let Some(status) = i.status {
            parts.push(format!("HTTP {}", status.as_u16()));
        }
        match (&i.code, &i.description) {
            (Some(code), Some(desc)) => parts.push(format!("{}: {}", shown(code), shown(desc))),
            (Some(code), None) => parts.push(shown(code).into_owned()),
            (None, Some(desc)) => parts.push(shown(desc).into_owned()),
            (None, None) => {}
        }
        if let Some(delay) = i.retry_after {
            parts.push(format!("retry after {}s", delay.as_secs()));
        }
        if i.code.is_none() && i.description.is_none() {
            if let Some(ct) = &i.content_type {
                parts.push(format!("content type {}", shown(ct)));
            }
            if let Some(excerpt) = &i.excerpt {
                parts.push(format!("body \"{}\"", shown(excerpt)));
            }
        }
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        // The whole chain of causes, so that "could not connect" says why (refused, DNS,
        // TLS); a cause that only repeats the one before it is left out.
        let mut cause: Option<&(dyn StdError + 'static)> = i.source.as_deref().map(|e| e as _);
        let mut last = String::new();
        while let Some(error) = cause {
            let text = error.to_string();
            if !text.is_empty() && !last.contains(&text) {
                write!(f, ": {}", shown(&text))?;
            }
            last = text;
            cause = error.source();
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        let mut d = f.debug_struct("Error");
        d.field("provider", &i.provider).field("kind", &i.kind);
        if let Some(v) = &i.message {
            d.field("message", v);
        }
        if let Some(v) = &i.status {
            d.field("status", v);
        }
        if let Some(v) = &i.code {
            d.field("code", v);
        }
        if let Some(v) = &i.description {
            d.field("description", v);
        }
        if let Some(v) = &i.retry_after {
            d.field("retry_after", v);
        }
        if let Some(v) = &i.content_type {
            d.field("content_type", v);
        }
        if let Some(v) = &i.excerpt {
            d.field("excerpt", v);
        }
        if let Some(v) = &i.source {
            d.field("source", v);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_and_small() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn display_names_provider_status_code_and_description() {
        let err = Error::new("adgem", ErrorKind::CredentialsRejected)
            .with_status(401)
            .with_code("invalid_client")
            .with_description("Invalid client credentials");
        assert_eq!(
            err.to_string(),
            "adgem: credentials rejected (HTTP 401, invalid_client: Invalid client credentials)"
        );
    }

    #[test]
    fn display_shows_excerpt_only_without_provider_words() {
        let err = Error::new("fyber", ErrorKind::UnexpectedResponse)
            .with_status(502)
            .with_body(Some("text/html"), b"<html>Bad gateway</html>");
        assert_eq!(
            err.to_string(),
            "fyber: unexpected response (HTTP 502, content type text/html, body \"<html>Bad gateway</html>\")"
        );
    }

    #[test]
    fn scrub_removes_echoed_secrets() {
        let err = Error::new("fyber", ErrorKind::CredentialsRejected)
            .with_description("client_secret s3cr3t-canary is wrong")
            .scrub(&["s3cr3t-canary", ""]);
        assert!(!err.to_string().contains("s3cr3t-canary"));
        assert!(!format!("{err:?}").contains("s3cr3t-canary"));
    }

    #[test]
    fn scrub_removes_every_encoding_a_secret_is_sent_in() {
        use base64::Engine as _;
        let secret = "pa\"ss/w\u{f6}rd+CANARY";
        let pair = "client:pa\"ss/w\u{f6}rd+CANARY";
        let basic = base64::engine::general_purpose::STANDARD.encode(pair);
        for echoed in [
            format!("Authorization: Basic {basic}"),
            "{\"password\":\"pa\\\"ss/w\u{f6}rd+CANARY\"}".to_owned(),
            "p=pa%22ss%2Fw%C3%B6rd%2BCANARY".to_owned(),
        ] {
            let err = Error::new("p", ErrorKind::CredentialsRejected)
                .with_description(echoed.clone())
                .scrub(&[secret, pair]);
            let text = format!("{err} {err:?}");
            assert!(!text.contains("CANARY"), "{echoed}: {text}");
            assert!(!text.contains(&basic), "{echoed}: {text}");
        }
    }

    #[test]
    fn scrub_removes_form_encoded_and_cut_off_secrets() {
        let secret = "pa ss/wörd-CANARY";
        let err = Error::new("p", ErrorKind::CredentialsRejected)
            .with_description("got pa+ss%2Fw%C3%B6rd-CANARY back")
            .scrub(&[secret]);
        assert_eq!(err.description(), Some("got [redacted] back"));

        let body = format!("{}{}", "x".repeat(190), secret);
        let err = Error::new("p", ErrorKind::UnexpectedResponse)
            .with_body(Some("text/plain"), body.as_bytes())
            .scrub(&[secret]);
        let excerpt = err.body_excerpt().unwrap();
        assert!(excerpt.ends_with("[redacted]..."), "{excerpt}");
        assert!(!excerpt.contains("pa ss"), "{excerpt}");
    }

    #[test]
    fn display_is_safe_for_a_terminal() {
        let hostile = "bad\r\nadauth: all good\x1b[32m ok\x1b[0m \u{202e}txet";
        let err = Error::new("fake", ErrorKind::CredentialsRejected)
            .with_code(hostile)
            .with_description("x".repeat(120 * 1024))
            .with_message(hostile);
        let text = err.to_string();
        assert!(!text.chars().any(|c| c.is_control()), "{text:?}");
        assert!(!text.contains('\u{202e}'), "{text:?}");
        assert!(
            text.contains("bad\\u{d}\\u{a}adauth: all good\\u{1b}[32m"),
            "{text}"
        );
        assert!(text.len() < 2000, "{} bytes", text.len());
        // The accessors keep the provider's words as they were.
        assert_eq!(err.code(), Some(hostile));
        let err = Error::new("fake", ErrorKind::UnexpectedResponse)
            .with_body(Some("text/plain\r\nX: y"), b"line one\nline two");
        let text = err.to_string();
        assert!(!text.chars().any(|c| c.is_control()), "{text:?}");
    }

    #[test]
    fn display_shows_the_whole_cause_chain() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("error sending request")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let err = Error::new("fake", ErrorKind::Transport)
            .with_message("could not connect")
            .with_source(Outer(refused));
        assert_eq!(
            err.to_string(),
            "fake: transport error: could not connect: error sending request: connection refused"
        );
    }

    #[test]
    fn retryable_kinds() {
        assert!(Error::new("x", ErrorKind::Timeout).is_retryable());
        assert!(Error::new("x", ErrorKind::ProviderUnavailable).is_retryable());
        assert!(Error::new("x", ErrorKind::RateLimited).is_retryable());
        assert!(Error::new("x", ErrorKind::Transport).is_retryable());
        assert!(!Error::new("x", ErrorKind::CredentialsRejected).is_retryable());
        assert!(!Error::new("x", ErrorKind::UnexpectedResponse).is_retryable());
        assert!(!Error::new("x", ErrorKind::Configuration).is_retryable());
        assert!(!Error::new("x", ErrorKind::RequestRejected).is_retryable());
        assert!(!Error::new("x", ErrorKind::Internal).is_retryable());
    }

    #[test]
    fn kind_names_round_trip() {
        for kind in [
            ErrorKind::CredentialsRejected,
            ErrorKind::RequestRejected,
            ErrorKind::ProviderUnavailable,
            ErrorKind::RateLimited,
            ErrorKind::Timeout,
            ErrorKind::Transport,
            ErrorKind::UnexpectedResponse,
            ErrorKind::Configuration,
            ErrorKind::Internal,
        ] {
            assert_eq!(ErrorKind::from_name(kind.name()), kind);
        }
        assert_eq!(ErrorKind::from_name("??"), ErrorKind::UnexpectedResponse);
    }
}
