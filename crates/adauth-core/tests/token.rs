//! The token type and the default way a source applies it to a request.

use std::time::{Duration, UNIX_EPOCH};

use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{FetchContext, Result, Token, TokenSource, async_trait};

#[derive(Debug)]
struct Plain;

#[async_trait]
impl TokenSource for Plain {
    fn provider(&self) -> &str {
        "plain"
    }
    async fn fetch(&self, _cx: &FetchContext) -> Result<Token> {
        unreachable!("not fetched in these tests")
    }
}

fn token() -> Token {
    let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    Token::new(
        SecretString::from("CANARY-ACCESS"),
        t0,
        t0 + Duration::from_secs(3600),
    )
    .with_token_type("bearer")
    .with_refresh_token(Some(SecretString::from("CANARY-REFRESH")))
    .with_secret_extra("session", SecretString::from("CANARY-SESSION"))
    .with_extra("username", "jane")
}

#[test]
fn debug_shows_no_secret_but_names_and_extras() {
    let shown = format!("{:?}", token());
    for canary in ["CANARY-ACCESS", "CANARY-REFRESH", "CANARY-SESSION"] {
        assert!(!shown.contains(canary), "{shown}");
    }
    assert!(shown.contains("\"session\""), "{shown}");
    assert!(shown.contains("jane"), "{shown}");
}

#[test]
fn default_authorize_adds_a_sensitive_bearer_header() {
    let request = reqwest::Client::new().get("http://127.0.0.1:1/report");
    let request = Plain.authorize(request, &token()).unwrap().build().unwrap();
    let value = &request.headers()["authorization"];
    assert_eq!(value.to_str().unwrap(), "Bearer CANARY-ACCESS");
    assert!(value.is_sensitive());
    assert!(!format!("{request:?}").contains("CANARY-ACCESS"));
}

#[test]
fn a_token_that_cannot_be_a_header_is_an_error_not_a_panic() {
    let t0 = UNIX_EPOCH;
    let bad = Token::new(SecretString::from("line\nbreak"), t0, t0);
    let err = Plain
        .authorize(reqwest::Client::new().get("http://127.0.0.1:1/"), &bad)
        .unwrap_err();
    assert_eq!(err.provider(), "plain");
    assert!(!err.to_string().contains("line"), "{err}");
}

#[test]
fn validity_and_time_left() {
    let t = token();
    let t0 = t.issued_at();
    assert!(t.is_valid_at(t0));
    assert!(!t.is_valid_at(t0 + Duration::from_secs(3600)));
    assert_eq!(
        t.expires_in(t0 + Duration::from_secs(600)),
        Duration::from_secs(3000)
    );
    assert_eq!(t.expires_in(t0 + Duration::from_secs(9999)), Duration::ZERO);
}

#[test]
fn a_stored_token_reads_back_whole() {
    let original = token();
    let stored = original.to_stored("plain");
    let back = Token::from_stored("plain", stored.expose_secret()).unwrap();
    assert!(back.same_access_token(&original));
    assert_eq!(back.token_type(), "bearer");
    assert_eq!(back.issued_at(), original.issued_at());
    assert_eq!(back.expires_at(), original.expires_at());
    assert_eq!(
        back.refresh_token().map(|t| t.expose_secret().to_owned()),
        Some("CANARY-REFRESH".to_owned())
    );
    assert_eq!(
        back.secret_extra("session")
            .map(|t| t.expose_secret().to_owned()),
        Some("CANARY-SESSION".to_owned())
    );
    assert_eq!(back.extras().get("username"), Some("jane"));
    assert!(!format!("{stored:?}").contains("CANARY"));
}

#[test]
fn foreign_or_corrupt_stored_tokens_are_clear_errors_that_quote_nothing() {
    let stored = token().to_stored("plain");
    let err = Token::from_stored("other", stored.expose_secret()).unwrap_err();
    assert!(err.to_string().contains("another provider"), "{err}");
    for garbage in [
        "",
        "{",
        "[1,2]",
        r#"{"v":2,"provider":"plain","access_token":"CANARY-X"}"#,
        r#"{"v":1,"provider":"plain","access_token":"CANARY-X","token_type":"b","issued_at":[1,0],"expires_at":"soon"}"#,
    ] {
        let err = Token::from_stored("plain", garbage).unwrap_err();
        assert_eq!(err.kind(), adauth_core::ErrorKind::UnexpectedResponse);
        assert!(!format!("{err} {err:?}").contains("CANARY"), "{err}");
    }
}

#[test]
fn the_token_type_is_kept_as_the_provider_spelled_it() {
    let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let plain = Token::new(SecretString::from("t"), at, at + Duration::from_secs(60));
    assert_eq!(plain.token_type(), "Bearer");
    for spelled in ["Bearer", "bearer", "BEARER", "MAC", ""] {
        let token = plain.clone().with_token_type(spelled);
        assert_eq!(token.token_type(), spelled);
        assert_eq!(token.clone().token_type(), spelled);
    }
}
