//! AdGem's application token request against a mock Targeted API: the documented request
//! and answers and the documented errors. What every provider must do (unusable answers,
//! absurd lifetimes, the cache, secret hygiene) is in the workspace's conformance suite.

mod common;

use adauth_adgem::{AdGemSource, Credentials, TOKEN_PATH};
use adauth_core::http::HttpClient;
use adauth_core::{ErrorKind, TokenSource};
use adauth_testkit::mock::expect;
use common::{answer, assert_error, cx, no_retries, secs, t0};
use httpmock::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

/// The sample request values from AdGem's documentation.
const CLIENT_ID: &str = "your-client-id";
const CLIENT_SECRET: &str = "your-client-secret";

/// The documented successful response, byte for byte but for the page's placeholder
/// `<your-jwt-token>`, which stands for a JWT and is written here as one (a placeholder is no
/// bearer token: `<` and `>` are outside RFC 6750's `b64token`).
const SUCCESS_BODY: &str = "{
\"access_token\": \"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJl\",
\"token_type\": \"Bearer\",
\"expires_in\": 3600
}";

/// The JWT in [`SUCCESS_BODY`].
const SAMPLE_JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJl";

/// The documented 401 response, byte for byte.
const UNAUTHORIZED_BODY: &str = "{
\"error\": \"invalid_client\",
\"error_description\": \"Invalid client credentials\"
}";

/// The documented 500 response, byte for byte.
const SERVER_ERROR_BODY: &str = "{
\"error\": \"server_error\",
\"error_description\": \"An unexpected error occurred\"
}";

fn source_with(base_url: &str, ids: (u64, u64), secret: &str, http: HttpClient) -> AdGemSource {
    let credentials = Credentials::builder()
        .pub_id(ids.0)
        .app_id(ids.1)
        .client_id(CLIENT_ID)
        .client_secret(secret.to_owned())
        .base_url(base_url)
        .build()
        .unwrap();
    AdGemSource::with_http(credentials, http).unwrap()
}

fn source(server: &MockServer) -> AdGemSource {
    source_with(&server.base_url(), (0, 0), CLIENT_SECRET, no_retries())
}

#[tokio::test]
async fn sends_the_documented_request_and_reads_the_documented_answer() {
    let server = MockServer::start_async().await;
    let mock = expect(&server, 200, SUCCESS_BODY, |when| {
        when.method(POST)
            .path("/v1/apps/tokens")
            .header("content-type", "application/json")
            .json_body(json!({
                "adgem_pub_id": 0,
                "adgem_app_id": 0,
                "client_id": "your-client-id",
                "client_secret": "your-client-secret",
            }))
    })
    .await;

    let token = source(&server).fetch(&cx()).await.unwrap();

    mock.assert_async().await;
    adauth_testkit::assert_token(&token, SAMPLE_JWT, "Bearer", t0(), secs(3600));
}

#[tokio::test]
async fn the_ids_are_sent_as_json_integers_in_their_own_fields() {
    let server = MockServer::start_async().await;
    let pub_id = 4_294_967_296; // past u32, to catch a narrowing
    let app_id = 5678;
    let as_numbers = expect(&server, 200, SUCCESS_BODY, |when| {
        when.method(POST).path(TOKEN_PATH).json_body(json!({
            "adgem_pub_id": pub_id,
            "adgem_app_id": app_id,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }))
    })
    .await;
    let as_strings = expect(&server, 200, SUCCESS_BODY, |when| {
        when.method(POST).path(TOKEN_PATH).json_body(json!({
            "adgem_pub_id": pub_id.to_string(),
            "adgem_app_id": app_id.to_string(),
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }))
    })
    .await;
    let source = source_with(
        &server.base_url(),
        (pub_id, app_id),
        CLIENT_SECRET,
        no_retries(),
    );
    source.fetch(&cx()).await.unwrap();
    assert_eq!(as_numbers.calls_async().await, 1);
    assert_eq!(as_strings.calls_async().await, 0);
}

#[tokio::test]
async fn invalid_client_is_a_final_credentials_rejection() {
    let server = MockServer::start_async().await;
    let mock = answer(
        &server,
        TOKEN_PATH,
        401,
        "application/json",
        UNAUTHORIZED_BODY,
    )
    .await;
    let err = source(&server).fetch(&cx()).await.unwrap_err();
    assert!(err.is_credentials_rejected());
    assert_eq!(err.provider(), "adgem");
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(err.code(), Some("invalid_client"));
    assert_eq!(err.description(), Some("Invalid client credentials"));
    assert_error(
        &err,
        ErrorKind::CredentialsRejected,
        &[
            "adgem",
            "HTTP 401",
            "invalid_client",
            "Invalid client credentials",
        ],
    );
    assert!(!err.is_retryable());
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test]
async fn server_error_is_provider_unavailable() {
    let server = MockServer::start_async().await;
    answer(
        &server,
        TOKEN_PATH,
        500,
        "application/json",
        SERVER_ERROR_BODY,
    )
    .await;
    let err = source(&server).fetch(&cx()).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(err.code(), Some("server_error"));
    assert_eq!(err.description(), Some("An unexpected error occurred"));
    assert_error(
        &err,
        ErrorKind::ProviderUnavailable,
        &["adgem", "HTTP 500", "server_error"],
    );
    assert!(err.is_retryable());
}
