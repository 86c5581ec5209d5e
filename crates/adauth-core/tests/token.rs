//! The token type and the default way a source applies it to a request.

use std::time::{Duration, UNIX_EPOCH};

use adauth_core::secrecy::SecretString;
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
