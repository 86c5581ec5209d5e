//! A user's grant from the authorization-code flow: renewed with its (rotating) refresh
//! token, and never switched to the application's own account when Admitad refuses it.

mod common;

use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{ErrorKind, Token, TokenSource, is_authorization_required};
use common::*;
use httpmock::prelude::*;

/// The token a code exchange handed out, expired: the next fetch renews it.
fn exchanged(refresh_token: &str) -> Token {
    Token::new(SecretString::from("user-access-0"), t0() - LIFETIME, t0())
        .with_refresh_token(Some(SecretString::from(refresh_token.to_owned())))
}

#[tokio::test]
async fn renewals_use_the_newest_refresh_token() {
    let server = MockServer::start_async().await;
    let minted = client_credentials_mock(&server, &token_body("app-access", "app-refresh")).await;
    let first = refresh_mock(
        &server,
        "user-r1",
        200,
        &token_body("user-access-1", "user-r2"),
    )
    .await;
    let second = refresh_mock(
        &server,
        "user-r2",
        200,
        &token_body("user-access-2", "user-r3"),
    )
    .await;
    let source = source(&server).authorized(exchanged("user-r1"));
    let token = source.fetch(&cx()).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "user-access-1");
    assert_eq!(token.extras().get("username"), Some("webmaster1"));
    assert_eq!(source.refresh_token().unwrap().expose_secret(), "user-r2");
    let token = source.fetch(&cx()).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "user-access-2");
    assert_eq!(
        (first.calls_async().await, second.calls_async().await),
        (1, 1)
    );
    assert_eq!(
        minted.calls_async().await,
        0,
        "never the application's own token"
    );
}

#[tokio::test]
async fn the_exchanged_token_is_handed_out_first() {
    let server = MockServer::start_async().await;
    let any = answer(&server, 200, "application/json", &token_body("x", "y")).await;
    let now = t0();
    let live = Token::new(SecretString::from("user-access-0"), now, now + LIFETIME)
        .with_refresh_token(Some(SecretString::from("user-r1")));
    let source = source(&server).authorized(live);
    let token = source.fetch(&cx()).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "user-access-0");
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn a_refused_refresh_token_means_authorize_again_never_client_credentials() {
    let server = MockServer::start_async().await;
    let minted = client_credentials_mock(&server, &token_body("app-access", "app-refresh")).await;
    let refused = refresh_mock(
        &server,
        "user-r1",
        400,
        r#"{"error":"invalid_grant","error_description":"Invalid refresh token"}"#,
    )
    .await;
    let source = source(&server).authorized_from_refresh_token("user-r1");
    for _ in 0..2 {
        let err = source.fetch(&cx()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
        assert!(is_authorization_required(&err), "{err}");
        assert!(!err.to_string().contains("user-r1"), "{err}");
    }
    assert_eq!(
        refused.calls_async().await,
        1,
        "a refused token is not sent again"
    );
    assert_eq!(
        minted.calls_async().await,
        0,
        "no switch to the application's account"
    );
}

#[tokio::test]
async fn a_refused_client_is_that_error_not_authorize_again() {
    let server = MockServer::start_async().await;
    refresh_mock(
        &server,
        "user-r1",
        401,
        r#"{"error":"invalid_client","error_description":"Client authentication failed","error_code":1}"#,
    )
    .await;
    let source = source(&server).authorized_from_refresh_token("user-r1");
    let err = source.fetch(&cx()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert_eq!(err.code(), Some("invalid_client"), "{err}");
    assert!(!is_authorization_required(&err), "{err}");
    assert_eq!(source.refresh_token().unwrap().expose_secret(), "user-r1");
}
