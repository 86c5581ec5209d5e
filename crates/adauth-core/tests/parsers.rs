//! Every parser that sees provider or store bytes, under arbitrary input: no panic, and the
//! properties that make the output safe to show.
//!
//! `PROPTEST_CASES` sets the number of cases per parser (10,000 in this workspace, from
//! `.cargo/config.toml`; `cargo xtask fuzz` runs a long session).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adauth_core::provider_kit::wire::HttpResponse;
use adauth_core::reqwest::StatusCode;
use adauth_core::reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use adauth_core::secrecy::SecretString;
use adauth_core::{Error, ErrorKind, ExpiresIn, ExpiryPolicy, Token, redact_excerpt};
use proptest::prelude::*;

/// Cases come from `PROPTEST_CASES`, as proptest reads it.
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Arbitrary JSON values, nested a few levels.
fn json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
        prop_oneof![
            Just("3600"),
            Just("-1"),
            Just("1e300"),
            Just("eyJhbGciOiJIUzI1NiJ9.e30.c2ln"),
            Just("invalid_grant"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        let keys = prop_oneof![
            Just("access_token".to_owned()),
            Just("accessToken".to_owned()),
            Just("expires_in".to_owned()),
            Just("error".to_owned()),
            Just("error_description".to_owned()),
            Just("errno".to_owned()),
            Just("revision".to_owned()),
            Just("value".to_owned()),
            "[a-z_]{1,10}".prop_map(|s| s),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(keys, inner, 0..5)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bytes that are often JSON, sometimes a broken or truncated version of it, sometimes noise.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json().prop_map(|v| v.to_string().into_bytes()),
        (json(), any::<prop::sample::Index>()).prop_map(|(v, cut)| {
            let text = v.to_string().into_bytes();
            let at = cut.index(text.len() + 1);
            text[..at].to_vec()
        }),
        prop::collection::vec(any::<u8>(), 0..300),
        "(<html>|\\{|\"|access_token=|token: |&quot;|<password>|\\\\|\\x1b\\[|\r\n| |[a-zA-Z0-9])*"
            .prop_map(String::into_bytes),
    ]
}

fn response(status: u16, content_type: &str, retry_after: &str, body: Vec<u8>) -> HttpResponse {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(retry_after) {
        headers.insert(RETRY_AFTER, v);
    }
    HttpResponse::new(
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        headers,
        body.into(),
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    )
}

fn safe_to_print(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn expires_in_reads_any_json_value(value in json(), token in ".{0,40}") {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Wire {
            #[serde(default)]
            expires_in: Option<ExpiresIn>,
        }
        let text = serde_json::json!({ "expires_in": value }).to_string();
        if let Ok(wire) = serde_json::from_str::<Wire>(&text) {
            let issued = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
            let _ = ExpiryPolicy::default().expires_at(
                "p",
                issued,
                wire.expires_in.as_ref(),
                &SecretString::from(token),
            );
        }
    }

    #[test]
    fn expires_in_reads_any_bytes(bytes in body()) {
        let _ = serde_json::from_slice::<ExpiresIn>(&bytes);
    }

    #[test]
    fn token_answers_and_error_bodies_never_panic(
        status in 100u16..600,
        content_type in prop_oneof![
            Just("application/json".to_owned()),
            Just("text/html".to_owned()),
            Just("text/plain".to_owned()),
            ".{0,30}",
        ],
        retry_after in prop_oneof![
            Just("60".to_owned()),
            Just("Thu, 01 Jan 1970 00:01:00 GMT".to_owned()),
            ".{0,30}",
        ],
        bytes in body(),
    ) {
        let r = response(status, &content_type, &retry_after, bytes);
        let _ = r.provider_error();
        let _ = r.reports_error();
        let _ = r.retry_after(SystemTime::UNIX_EPOCH);
        let _ = r.json::<serde_json::Value>("p");
        let _ = r.success_json::<serde_json::Value>("p");
        let err = r.into_error("p");
        prop_assert!(safe_to_print(&err.to_string()));
    }

    #[test]
    fn the_stored_token_format_reads_any_input(value in json(), bytes in body()) {
        let _ = Token::from_stored("p", &value.to_string());
        let _ = Token::from_stored("p", &String::from_utf8_lossy(&bytes));
        // A valid stored token with one field replaced by anything.
        let now = SystemTime::now();
        let valid = Token::new(SecretString::from("t"), now, now + Duration::from_secs(60));
        let mut stored: serde_json::Value = serde_json::from_str(
            adauth_core::secrecy::ExposeSecret::expose_secret(&valid.to_stored("p")),
        ).unwrap();
        for field in ["access_token", "issued_at", "expires_at", "refresh_token", "extras", "v"] {
            stored[field] = value.clone();
            let _ = Token::from_stored("p", &stored.to_string());
        }
    }

    #[test]
    fn the_redactor_takes_any_bytes(bytes in body()) {
        let excerpt = redact_excerpt(&bytes);
        prop_assert!(excerpt.chars().count() <= 203);
        prop_assert!(!excerpt.chars().any(char::is_control));
    }

    #[test]
    fn errors_show_any_provider_text_safely(code in ".{0,400}", description in ".{0,400}", message in ".{0,50}") {
        let err = Error::new("p", ErrorKind::CredentialsRejected)
            .with_code(code)
            .with_description(description)
            .with_message(message);
        let text = err.to_string();
        prop_assert!(safe_to_print(&text));
        prop_assert!(text.chars().count() < 1200);
    }
}

#[test]
fn answer_field_names_are_read_with_or_without_escapes() {
    use adauth_core::FetchContext;
    use adauth_core::provider_kit::endpoint::{EndpointSpec, FieldCase};
    use secrecy::ExposeSecret;

    let snake = EndpointSpec::json("p", "/token");
    let camel = EndpointSpec::json("p", "/token").answer_case(FieldCase::Camel);
    for (spec, body) in [
        (
            &snake,
            r#"{"access_token":"abc","expires_in":60,"scope":"read"}"#,
        ),
        // The same names, escaped: the parser must not rely on borrowing them.
        (
            &snake,
            r#"{"access\u005ftoken":"abc","expires\u005fin":60,"\u0073cope":"read"}"#,
        ),
        (
            &camel,
            r#"{"accessToken":"abc","expiresIn":60,"scope":"read"}"#,
        ),
        (
            &camel,
            r#"{"access\u0054oken":"abc","expires\u0049n":60,"scope":"read"}"#,
        ),
    ] {
        let answer = response(200, "application/json", "", body.as_bytes().to_vec());
        let token = spec
            .read_token(&FetchContext::default(), &answer)
            .unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_eq!(token.access_token().expose_secret(), "abc", "{body}");
        assert_eq!(token.scope(), Some("read"), "{body}");
        assert_eq!(
            token.expires_at(),
            answer.sent_at() + Duration::from_secs(60),
            "{body}"
        );
    }
}

#[test]
fn a_token_type_that_is_not_text_is_an_unexpected_answer() {
    use adauth_core::FetchContext;
    use adauth_core::provider_kit::endpoint::EndpointSpec;

    let body = br#"{"access_token":"abc","token_type":5,"expires_in":60}"#;
    let answer = response(200, "application/json", "", body.to_vec());
    let err = EndpointSpec::json("p", "/token")
        .read_token(&FetchContext::default(), &answer)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedResponse, "{err}");
    assert!(err.to_string().contains("expected shape"), "{err}");
}

/// The old reading of an extra, through a `serde_json::Value`: text as sent (unless empty),
/// a number as its digits, anything else dropped.
fn extra_as_value_reads_it(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

proptest! {
    #![proptest_config(config())]

    /// Extras are read straight from the answer, as a `serde_json::Value` would give them:
    /// any JSON value, nested ones included, in any field.
    #[test]
    fn extras_read_any_json_value_as_a_value_would(value in json(), other in json()) {
        use adauth_core::FetchContext;
        use adauth_core::provider_kit::endpoint::EndpointSpec;

        const SPEC: EndpointSpec = EndpointSpec::json("p", "/token").extras(&["user", "group"]);
        let body = serde_json::json!({
            "group": other,
            "access_token": "abc",
            "user": value,
            "expires_in": 60,
        });
        let text = body.to_string();
        // What a value read from the same text holds (a float's last digit may differ
        // from the generated one's once printed and read back).
        let read: serde_json::Value = serde_json::from_str(&text).unwrap();
        let (value, other) = (&read["user"], &read["group"]);
        let answer = response(200, "application/json", "", text.into_bytes());
        let token = SPEC.read_token(&FetchContext::default(), &answer).unwrap();
        prop_assert_eq!(token.extras().get("user").map(str::to_owned), extra_as_value_reads_it(value));
        prop_assert_eq!(token.extras().get("group").map(str::to_owned), extra_as_value_reads_it(other));
        let names: Vec<&str> = token.extras().iter().map(|(name, _)| name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        prop_assert_eq!(names, sorted, "extras are listed in name order");
    }
}

#[test]
fn extras_keep_the_last_value_of_a_name_and_survive_the_stored_form() {
    let now = SystemTime::now();
    let token = Token::new(
        SecretString::from("abc"),
        now,
        now + Duration::from_secs(60),
    )
    .with_extra("username", "jane")
    .with_extra("group", "webmaster")
    .with_extra("username", "joan");
    let extras: Vec<(&str, &str)> = token.extras().iter().collect();
    assert_eq!(extras, [("group", "webmaster"), ("username", "joan")]);
    assert_eq!(token.extras().get("language"), None);
    let stored = token.to_stored("p");
    let back = Token::from_stored(
        "p",
        adauth_core::secrecy::ExposeSecret::expose_secret(&stored),
    )
    .unwrap();
    assert_eq!(back.extras(), token.extras());
}
