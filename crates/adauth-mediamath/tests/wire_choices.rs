//! The password grant's wire choices (JSON as MediaMath's page shows it, or a form as
//! RFC 6749 and form-only servers want; the client in the body or in HTTP Basic), and a
//! session failure that keeps the access token it was opened for.

mod common;

use adauth_core::TokenSource;
use adauth_core::secrecy::ExposeSecret;
use adauth_mediamath::{
    BodyEncoding, ClientAuth, Credentials, DESCRIPTOR, MediaMathSource, SESSION_COOKIE,
    SESSION_PATH, TOKEN_PATH,
};
use common::*;
use httpmock::prelude::*;

/// `YOUR_CLIENT_ID:YOUR_CLIENT_SECRET`, Base64.
const BASIC: &str = "Basic WU9VUl9DTElFTlRfSUQ6WU9VUl9DTElFTlRfU0VDUkVU";

#[tokio::test]
async fn the_password_grant_can_be_a_form_with_the_client_in_basic() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", FORM)
                .header("authorization", BASIC)
                .body(
                    "grant_type=password&username=USERNAME&password=PASSWORD\
                     &audience=https%3A%2F%2Fapi.mediamath.com%2F&scope=",
                );
            then.status(200)
                .header("content-type", JSON)
                .body(PASSWORD_RESPONSE);
        })
        .await;
    let source = source(
        credentials(&server)
            .encoding(BodyEncoding::Form)
            .client_auth(ClientAuth::Basic),
    );
    let fetched = source.fetch(&cx()).await.unwrap();
    token.assert_async().await;
    assert_eq!(
        fetched.access_token().expose_secret(),
        PASSWORD_ACCESS_TOKEN
    );
}

#[tokio::test]
async fn the_wire_choices_come_from_the_environment_too() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", FORM)
                .header("authorization", BASIC);
            then.status(200)
                .header("content-type", JSON)
                .body(PASSWORD_RESPONSE);
        })
        .await;
    let base = server.base_url();
    let vars = [
        ("ADAUTH_MEDIAMATH_CLIENT_ID", CLIENT_ID),
        ("ADAUTH_MEDIAMATH_CLIENT_SECRET", CLIENT_SECRET),
        ("ADAUTH_MEDIAMATH_USERNAME", USERNAME),
        ("ADAUTH_MEDIAMATH_PASSWORD", PASSWORD),
        ("ADAUTH_MEDIAMATH_AUTH_URL", base.as_str()),
        ("ADAUTH_MEDIAMATH_ENCODING", "form"),
        ("ADAUTH_MEDIAMATH_CLIENT_AUTH", "Basic"),
    ];
    let lookup = |name: &str| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    };
    let credentials = Credentials::from_lookup(&lookup).unwrap();
    assert_eq!(credentials.encoding(), BodyEncoding::Form);
    assert_eq!(credentials.client_auth(), ClientAuth::Basic);
    DESCRIPTOR
        .source_from_lookup(&lookup)
        .unwrap()
        .fetch(&cx())
        .await
        .unwrap();
    token.assert_async().await;
    for (var, bad) in [
        ("ADAUTH_MEDIAMATH_ENCODING", "xml"),
        ("ADAUTH_MEDIAMATH_CLIENT_AUTH", "jwt"),
    ] {
        let lookup = |name: &str| {
            if name == var {
                Some(bad.to_owned())
            } else {
                lookup(name)
            }
        };
        let err = Credentials::from_lookup(&lookup).unwrap_err();
        assert!(
            err.is_configuration() && err.to_string().contains(var),
            "{err}"
        );
        assert!(!err.to_string().contains(bad), "{err}");
    }
}

#[tokio::test]
async fn a_failed_session_keeps_the_access_token_for_the_next_fetch() {
    let server = MockServer::start_async().await;
    let token = answer(&server, POST, TOKEN_PATH, 200, JSON, PASSWORD_RESPONSE).await;
    let down = answer(
        &server,
        GET,
        SESSION_PATH,
        503,
        "text/html",
        "<html>down</html>",
    )
    .await;
    let source: MediaMathSource = source(credentials(&server).session(true));
    let err = source.fetch(&cx()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(token.calls_async().await, 1);
    down.delete_async().await;
    let session = answer(
        &server,
        GET,
        SESSION_PATH,
        200,
        JSON,
        r#"{"data":{"session":{"sessionid":"s-1"}},"meta":{"status":"ok"}}"#,
    )
    .await;
    // The next fetch opens a session for the same access token: no new token is minted.
    let fetched = source.fetch(&cx()).await.unwrap();
    assert_eq!(token.calls_async().await, 1, "no second token request");
    assert_eq!(session.calls_async().await, 1);
    assert_eq!(
        fetched.access_token().expose_secret(),
        PASSWORD_ACCESS_TOKEN
    );
    assert_eq!(
        fetched
            .secret_extra(SESSION_COOKIE)
            .map(|s| s.expose_secret()),
        Some("s-1")
    );
    // Once used, the kept token is gone: the fetch after asks for a token again.
    source.fetch(&cx()).await.unwrap();
    assert_eq!(token.calls_async().await, 2);
}
