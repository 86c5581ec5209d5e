//! Short, secret-free excerpts of response bodies for error messages.

/// What stands in place of a removed secret.
pub(crate) const REDACTED: &str = "[redacted]";

/// The longest excerpt kept, in characters.
const EXCERPT_CHARS: usize = 200;

/// Key fragments whose values are treated as secrets in a JSON-like body.
const SECRET_KEYS: &[&str] = &[
    "token",
    "secret",
    "pass",
    "pwd",
    "session",
    "code",
    "cookie",
    "key",
    "jwt",
    "auth",
    "credential",
];

/// Authorization schemes: after `Authorization: Bearer`, the secret is the next word.
const SCHEMES: &[&str] = &["bearer", "basic", "token", "digest", "negotiate"];

/// Makes a short excerpt of a response body that is safe to show in an error.
///
/// The whole body is redacted first and only then cut, so a cut can never leave half a secret
/// behind:
/// - the value after any key containing `token`, `secret`, `pass`, `pwd`, `session`, `code`,
///   `cookie`, `key`, `jwt`, `auth` or `credential` is replaced by `[redacted]`, whether the
///   body is JSON (`"access_token": "..."`, also HTML-escaped), form-encoded
///   (`access_token=...`), text or a header (`token: ...`, `Authorization: Bearer ...`),
///   single-quoted (`'password': '...'`) or XML (`<password>...</password>`), and even when
///   the body is truncated mid-value;
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
    // HTML-escaped JSON is JSON to the redactor.
    let text = text
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#x22;", "\"")
        .replace("&#39;", "'");
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

/// Replaces the value that follows a secret-looking key, in any of the forms error bodies
/// take: JSON (`"access_token": "..."`), form encoding (`access_token=...&`) and plain text
/// or headers (`token: ...`).
fn redact_keyed_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let is_key_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !is_key_byte(bytes[i]) || (i > 0 && is_key_byte(bytes[i - 1])) {
            i += 1;
            continue;
        }
        // A word: is it a secret-looking key followed by `:` or `=`?
        let key_start = i;
        while i < bytes.len() && is_key_byte(bytes[i]) {
            i += 1;
        }
        let key = &text[key_start..i];
        let mut k = i;
        // `<password>...</password>`: the element's text is the value.
        let element = key_start > 0 && bytes[key_start - 1] == b'<';
        if k < bytes.len() && matches!(bytes[k], b'"' | b'\'') {
            k += 1;
        }
        while k < bytes.len() && bytes[k] == b' ' {
            k += 1;
        }
        let separator = |b: u8| matches!(b, b':' | b'=') || (element && b == b'>');
        if k >= bytes.len() || !separator(bytes[k]) || !is_secret_key(key) {
            continue;
        }
        k += 1;
        while k < bytes.len() && bytes[k].is_ascii_whitespace() {
            k += 1;
        }
        let quote = (k < bytes.len() && matches!(bytes[k], b'"' | b'\''))
            .then(|| bytes[k])
            .filter(|_| !element);
        let quoted = quote.is_some();
        let value_start = k + usize::from(quoted);
        let mut m = value_start;
        if let Some(quote) = quote {
            while m < bytes.len() && bytes[m] != quote {
                m += if bytes[m] == b'\\' { 2 } else { 1 };
            }
        } else if element {
            while m < bytes.len() && bytes[m] != b'<' {
                m += 1;
            }
        } else {
            let word_end = |mut m: usize| {
                while m < bytes.len()
                    && !bytes[m].is_ascii_whitespace()
                    && !matches!(
                        bytes[m],
                        b'&' | b',' | b';' | b'}' | b']' | b'<' | b'"' | b'\''
                    )
                {
                    m += 1;
                }
                m
            };
            m = word_end(m);
            // `Authorization: Bearer <secret>`: the scheme and the word after it.
            let word = &text[value_start..m.min(bytes.len())];
            if SCHEMES.iter().any(|s| word.eq_ignore_ascii_case(s)) {
                let mut n = m;
                while n < bytes.len() && bytes[n] == b' ' {
                    n += 1;
                }
                m = word_end(n);
            }
        }
        let value_end = m.min(bytes.len());
        let value = &text[value_start..value_end];
        // Numbers, booleans and null are never secrets here and keep the excerpt useful
        // (`"expires_in": 0` stays readable).
        let harmless = value.is_empty()
            || (!quoted
                && (matches!(value, "true" | "false" | "null") || value.parse::<f64>().is_ok()));
        if !harmless {
            out.push_str(&text[copied..value_start]);
            out.push_str(REDACTED);
            copied = value_end;
        }
        i = value_end.max(i);
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
    fn redacts_form_encoded_and_plain_text_values() {
        assert_eq!(
            redact_excerpt(b"access_token=CANARY-1&expires_in=3600&token_type=bearer"),
            "access_token=[redacted]&expires_in=3600&token_type=bearer"
        );
        assert_eq!(
            redact_excerpt(b"invalid token: CANARY-2, try again"),
            "invalid token: [redacted], try again"
        );
        assert_eq!(
            redact_excerpt(b"<p>session=CANARY-3</p>"),
            "<p>session=[redacted]</p>"
        );
        assert_eq!(
            redact_excerpt(br#"{access_token: "CANARY-4"}"#),
            r#"{access_token: "[redacted]"}"#
        );
        // A URL is not a key-value pair.
        assert_eq!(
            redact_excerpt(b"see https://x.example/"),
            "see https://x.example/"
        );
    }

    #[test]
    fn every_prefix_of_tricky_bodies_is_handled() {
        let samples: [&[u8]; 3] = [
            b"{\"access_token\":\"a\\\"b\\\\\",\"refresh_token\": x, \"k\xc3\xa9y\": \"\xc3\xa9\\\xc3\xa9\"}",
            b"token=\xe2\x82\xac&code=\\\xe2\x82\xac; session: \"",
            b"eyJ\xf0\x9f\x98\x80.eyJ",
        ];
        for sample in samples {
            for end in 0..=sample.len() {
                let excerpt = redact_excerpt(&sample[..end]);
                assert!(excerpt.chars().count() <= 203);
            }
        }
    }

    #[test]
    fn redacts_headers_xml_single_quotes_and_escaped_json() {
        for (body, secret) in [
            ("Authorization: Bearer CANARY-1\nHost: x", "CANARY-1"),
            ("authorization: basic Q0FOQVJZLTI=", "Q0FOQVJZLTI="),
            ("<creds><password>CANARY-3</password></creds>", "CANARY-3"),
            ("{'password': 'CANARY 4'}", "CANARY 4"),
            ("&quot;client_secret&quot;:&quot;CANARY-5&quot;", "CANARY-5"),
            ("pwd=CANARY-6", "CANARY-6"),
            ("{\"credentials\": \"CANARY-7\"}", "CANARY-7"),
        ] {
            let excerpt = redact_excerpt(body.as_bytes());
            assert!(!excerpt.contains(secret), "{body} -> {excerpt}");
            assert!(excerpt.contains(REDACTED), "{body} -> {excerpt}");
        }
        assert_eq!(
            redact_excerpt(b"Authorization: Bearer CANARY-1\nHost: x"),
            "Authorization: [redacted] Host: x"
        );
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
