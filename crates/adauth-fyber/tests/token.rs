//! Fyber's wire format against a mock Reporting API: the documented request and answer, and
//! the documented errors with their codes. What every provider must do (unusable answers,
//! absurd lifetimes, the cache, secret hygiene) is in the workspace's conformance suite;
//! transport behaviour (redirects, timeouts, size caps, retries) is adauth-core's.

use adauth_testkit::mock::{answer, expect};
use adauth_testkit::wire::{cx, fast_retries, secs, t0};

use adauth_core::http::{HttpClient, RetryPolicy};
use adauth_core::{ErrorKind, TokenSource};
use adauth_fyber::{Credentials, FyberSource, TOKEN_PATH};
use httpmock::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

/// The sample credentials from Digital Turbine's documentation.
const CLIENT_ID: &str = "3ce66d885XXXXXXXXXXa3b752bb9058";
const CLIENT_SECRET: &str = "YtMvC7VYTQMQ7w9UCUaFXXXJnwVZnQqqN02XNyt8IIh2h8XFDuXXXXXXXXSS6XTrFWW4TkebCcMLJkrXSw5IurkearTJIDzUxsbiMXv8hb4T23MwN6eE7DDIthRFqDnhnuhiDlY2oPeaOjsMbzE8joZ5cs6tsySJz6uZXwJ-x3lcYaYbgXXXXXXXX3_hFeuXm-C7-me2V1MMs-ftJxTd5QbHoUhG3Q5anCWCW_pg8x3CL4yPGCbpWUDZfpdNPyyCT4rxCEb-VC0Bdqwe8N2GGn_VSFOwQYxa-yap2JuNSGJfl_ZURXXXXXXXXFe1GpHDn8pk7yYwQYIGAg";

/// The sample access token: an HS256 JWT whose `exp` (1570020500) is long past.
const SAMPLE_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXXXJ9.eyJpYXQiOjE1NzAwMTY5MDAsImV4cCI6MTU3MDAyMDUwMCwiYXVkIjoic3BlZWRiYWxsIiwic3ViIjoiMjEwMjYzIn0.hDo1waTytSys_oRhFNUPqZPom26bL05rxgtSt3XYHqI";

/// The documented successful response, byte for byte.
const SUCCESS_BODY: &str = "{
\"accessToken\": \"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXXXJ9.eyJpYXQiOjE1NzAwMTY5MDAsImV4cCI6MTU3MDAyMDUwMCwiYXVkIjoic3BlZWRiYWxsIiwic3ViIjoiMjEwMjYzIn0.hDo1waTytSys_oRhFNUPqZPom26bL05rxgtSt3XYHqI\",
\"tokenType\": \"bearer\",
\"expiresIn\": 3600
}";

/// The documented unsuccessful response, byte for byte.
const INTERNAL_ERROR_BODY: &str = "{
    \"error\": \"internal_server_error\"
}";

fn source_at(base_url: &str, secret: &str, http: HttpClient) -> FyberSource {
    let credentials = Credentials::builder()
        .client_id(CLIENT_ID)
        .client_secret(secret.to_owned())
        .base_url(base_url)
        .build()
        .unwrap();
    FyberSource::with_http(credentials, http).unwrap()
}

fn source(server: &MockServer) -> FyberSource {
    source_at(&server.base_url(), CLIENT_SECRET, fast_retries())
}

#[tokio::test]
async fn sends_the_documented_request_and_reads_the_documented_answer() {
    let server = MockServer::start_async().await;
    let mock = expect(&server, 200, SUCCESS_BODY, |when| {
        when.method(POST)
            .path("/auth/v1/token")
            .header("content-type", "application/json")
            .json_body(json!({
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }))
    })
    .await;

    let token = source(&server).fetch(&cx()).await.unwrap();

    mock.assert_async().await;
    adauth_testkit::assert_token(&token, SAMPLE_TOKEN, "bearer", t0(), secs(3600));
    assert!(token.refresh_token().is_none());
}

#[tokio::test]
async fn documented_errors_are_classified_with_their_code() {
    let cases = [
        ("unsupported_grant_type", ErrorKind::RequestRejected),
        ("invalid_request", ErrorKind::CredentialsRejected),
        ("invalid_client", ErrorKind::CredentialsRejected),
    ];
    for (code, kind) in cases {
        let server = MockServer::start_async().await;
        let mock = answer(
            &server,
            POST,
            TOKEN_PATH,
            400,
            "application/json",
            format!("{{\n    \"error\": \"{code}\"\n}}"),
        )
        .await;
        let err = source(&server).fetch(&cx()).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{code}: {err}");
        assert_eq!(err.provider(), "fyber");
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(err.code(), Some(code));
        let text = err.to_string();
        for part in ["fyber", "HTTP 400", code] {
            assert!(text.contains(part), "{text:?} lacks {part:?}");
        }
        assert!(!err.is_retryable(), "{code}");
        // A rejection is final: no retry.
        assert_eq!(mock.calls_async().await, 1, "{code}");
    }
}

#[tokio::test]
async fn internal_server_error_is_provider_unavailable() {
    let server = MockServer::start_async().await;
    answer(
        &server,
        POST,
        TOKEN_PATH,
        500,
        "application/json",
        INTERNAL_ERROR_BODY,
    )
    .await;
    let source = source_at(
        &server.base_url(),
        CLIENT_SECRET,
        HttpClient::new().retry_policy(RetryPolicy::none()),
    );
    let err = source.fetch(&cx()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(err.code(), Some("internal_server_error"));
    let text = err.to_string();
    for part in ["fyber", "HTTP 500", "internal_server_error"] {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }
    assert!(err.is_retryable());
}
