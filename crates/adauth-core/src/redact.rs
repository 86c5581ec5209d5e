//! Short, secret-free excerpts of response bodies for error messages.

/// What stands in place of a removed secret.
pub(crate) const REDACTED: &str = "[redacted]";

/// The longest excerpt kept, in characters.
const EXCERPT_CHARS: usize = 200;

/// Key fragments whose values are treated as secrets in a JSON-like body.
const SECRET_KEYS: &[&str] = &[
    "token", "secret", "password", "passwd", "session", "code", "cookie", "key", "jwt",
];

/// Makes a short excerpt of a response body that is safe to show in an error.
///
/// The whole body is redacted first and only then cut, so a cut can never leave half a secret
/// behind:
/// - the value after any quoted key containing `token`, `secret`, `password`, `session`,
///   `code`, `cookie`, `key` or `jwt` is replaced by `[redacted]`, even when the body is
///   truncated mid-value;
/// - anything shaped like a JWT (`eyJ...`) is replaced by `[redacted]`;
/// - control characters and runs of white space become single spaces.
///
/// The result has at most 200 characters, followed by `...` when cut.
///
/// ```
/// let body = br#"{"access_token":"eyJhbGciOiJIUzI1NiJ9.e30.sig","expires_in":"soon"}"#;
/// assert_eq!(
///     adauth_core::redact_excerpt(body),
///     r#"{"access_token":"[redacted]","expires_in":"soon"}"#
/// );
/// ```
pub fn redact_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let redacted = redact_jwts(&redact_keyed_values(&text));
    let mut out = String::with_capacity(EXCERPT_CHARS.min(redacted.len()) + 3);
    let mut last_space = true;
    let mut count = 0;
    for c in redacted.chars() {
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        if count == EXCERPT_CHARS {
            out.push_str("...");
            return out;
        }
        out.push(c);
        count += 1;
    }
    out.truncate(out.trim_end().len());
    out
}

/// Replaces the string (or bare) value that follows a secret-looking quoted key.
fn redact_keyed_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        // A quoted string: find its end.
        let start = i + 1;
        let mut j = start;
        while j < bytes.len() && bytes[j] != b'"' {
            j += if bytes[j] == b'\\' { 2 } else { 1 };
        }
        let end = j.min(bytes.len());
        let key = &text[start..end];
        i = end + 1;
        // Is it a key (followed by a colon) with a secret-looking name?
        let mut k = i;
        while k < bytes.len() && bytes[k].is_ascii_whitespace() {
            k += 1;
        }
        if k >= bytes.len() || bytes[k] != b':' || !is_secret_key(key) {
            continue;
        }
        k += 1;
        while k < bytes.len() && bytes[k].is_ascii_whitespace() {
            k += 1;
        }
        let (value_start, value_end, quoted) = if k < bytes.len() && bytes[k] == b'"' {
            let mut m = k + 1;
            while m < bytes.len() && bytes[m] != b'"' {
                m += if bytes[m] == b'\\' { 2 } else { 1 };
            }
            (k + 1, m.min(bytes.len()), true)
        } else {
            let mut m = k;
            while m < bytes.len() && !matches!(bytes[m], b',' | b'}' | b']') {
                m += 1;
            }
            (k, m, false)
        };
        // Leave numbers, booleans and null alone: they are never secrets here and they keep
        // the excerpt useful (`"expires_in": 0` stays readable).
        let value = text[value_start..value_end].trim();
        let harmless = !quoted
            && (value.is_empty()
                || matches!(value, "true" | "false" | "null")
                || value.parse::<f64>().is_ok());
        if harmless || (quoted && value.is_empty()) {
            i = value_end;
            continue;
        }
        out.push_str(&text[copied..value_start]);
        out.push_str(REDACTED);
        copied = value_end;
        i = value_end + usize::from(quoted);
    }
    out.push_str(&text[copied.min(text.len())..]);
    out
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    // `expires_in`, `token_type` and `error_code` name no secret.
    if matches!(
        key.as_str(),
        "token_type" | "tokentype" | "error_code" | "errorcode" | "code_challenge_method"
    ) {
        return false;
    }
    SECRET_KEYS.iter().any(|fragment| key.contains(fragment))
}

/// Replaces anything shaped like a JWT: `eyJ` followed by base64url characters and dots.
fn redact_jwts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("eyJ") {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        let len = tail
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            .count();
        out.push_str(REDACTED);
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secret_values_and_keeps_the_rest() {
        let body = br#"{"accessToken":"abc.def","tokenType":"bearer","expiresIn":"soon","client_secret":"s","error":"x"}"#;
        assert_eq!(
            redact_excerpt(body),
            r#"{"accessToken":"[redacted]","tokenType":"bearer","expiresIn":"soon","client_secret":"[redacted]","error":"x"}"#
        );
    }

    #[test]
    fn redacts_values_cut_off_by_truncation() {
        let body = br#"{"access_token":"AAAA-secret-BBBB"#;
        assert_eq!(redact_excerpt(body), r#"{"access_token":"[redacted]"#);
    }

    #[test]
    fn redacts_bare_jwts_in_html() {
        let body = b"<p>token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln was bad</p>";
        assert_eq!(redact_excerpt(body), "<p>token [redacted] was bad</p>");
    }

    #[test]
    fn keeps_numbers_and_escaped_quotes() {
        let body = br#"{"expires_in": 0, "refresh_token": "a\"b", "n": 1}"#;
        assert_eq!(
            redact_excerpt(body),
            r#"{"expires_in": 0, "refresh_token": "[redacted]", "n": 1}"#
        );
    }

    #[test]
    fn cuts_long_bodies_and_folds_white_space() {
        let body = format!("<html>\n\n  {}</html>", "x".repeat(1000));
        let excerpt = redact_excerpt(body.as_bytes());
        assert!(excerpt.starts_with("<html> xxx"));
        assert!(excerpt.ends_with("..."));
        assert_eq!(excerpt.chars().count(), 203);
    }

    #[test]
    fn survives_garbage() {
        for body in [
            &b"\""[..],
            b"\"\\",
            b"\"a\":",
            b"\"token\":",
            b"\xff\xfe\"key\": \"",
            b"",
        ] {
            let _ = redact_excerpt(body);
        }
        assert_eq!(redact_excerpt(br#""token": "#), r#""token":"#);
    }
}
