//! The application token request against a mock Targeted API: the documented request and
//! answers, the documented errors, unusable answers, the cache, and secret hygiene.

mod common;

use adauth_adgem::{AdGemSource, Credentials, TOKEN_PATH};
use adauth_core::http::HttpClient;
use adauth_core::secrecy::ExposeSecret;
use adauth_core::{Error, ErrorKind, Token, TokenCache, TokenSource};
use common::{answer, assert_error, assert_hidden, cx, no_retries, secs, t0};
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

const CANARY_SECRET: &str = "CANARY-SECRET-123";
const CANARY_TOKEN: &str = "CANARY-TOKEN-456";

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

async fn fetch_answer(
    status: u16,
    content_type: &str,
    body: impl AsRef<[u8]>,
) -> Result<Token, Error> {
    let server = MockServer::start_async().await;
    answer(&server, TOKEN_PATH, status, content_type, body).await;
    source(&server).fetch(&cx()).await
}

/// A success body with an opaque token and `expires_in` as given (raw JSON, or absent).
fn with_expires_in(expires_in: Option<&str>) -> String {
    match expires_in {
        Some(v) => format!(r#"{{"access_token":"opaque","token_type":"Bearer","expires_in":{v}}}"#),
        None => r#"{"access_token":"opaque","token_type":"Bearer"}"#.to_owned(),
    }
}

fn assert_unexpected(result: Result<Token, Error>, mentions: &str) -> Error {
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedResponse, "{err}");
    assert!(
        err.to_string().contains(mentions),
        "{err:?} lacks {mentions:?}"
    );
    assert!(!err.is_retryable());
    err
}

#[tokio::test]
async fn sends_the_documented_request_and_reads_the_documented_answer() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v1/apps/tokens")
                .header("content-type", "application/json")
                .json_body(json!({
                    "adgem_pub_id": 0,
                    "adgem_app_id": 0,
                    "client_id": "your-client-id",
                    "client_secret": "your-client-secret",
                }));
            then.status(200)
                .header("Content-Type", "application/json")
                .body(SUCCESS_BODY);
        })
        .await;

    let token = source(&server).fetch(&cx()).await.unwrap();

    mock.assert_async().await;
    assert_eq!(token.access_token().expose_secret(), SAMPLE_JWT);
    assert_eq!(token.token_type(), "Bearer");
    assert_eq!(token.issued_at(), t0());
    assert_eq!(token.expires_at(), t0() + secs(3600));
}

#[tokio::test]
async fn the_ids_are_sent_as_json_integers_in_their_own_fields() {
    let server = MockServer::start_async().await;
    let pub_id = 4_294_967_296; // past u32, to catch a narrowing
    let app_id = 5678;
    let as_numbers = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH).json_body(json!({
                "adgem_pub_id": pub_id,
                "adgem_app_id": app_id,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }));
            then.status(200)
                .header("content-type", "application/json")
                .body(SUCCESS_BODY);
        })
        .await;
    let as_strings = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH).json_body(json!({
                "adgem_pub_id": pub_id.to_string(),
                "adgem_app_id": app_id.to_string(),
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }));
            then.status(200)
                .header("content-type", "application/json")
                .body(SUCCESS_BODY);
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
async fn a_base_url_path_prefix_is_kept() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/fake/v1/apps/tokens");
            then.status(200)
                .header("content-type", "application/json")
                .body(SUCCESS_BODY);
        })
        .await;
    let source = source_with(&server.url("/fake"), (1, 2), CLIENT_SECRET, no_retries());
    source.fetch(&cx()).await.unwrap();
    mock.assert_async().await;
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

#[tokio::test]
async fn an_html_error_page_is_reported_with_its_content_type_and_an_excerpt() {
    let server = MockServer::start_async().await;
    answer(
        &server,
        TOKEN_PATH,
        502,
        "text/html",
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
    )
    .await;
    let err = source(&server).fetch(&cx()).await.unwrap_err();
    assert_eq!(err.content_type(), Some("text/html"));
    assert_error(
        &err,
        ErrorKind::ProviderUnavailable,
        &["HTTP 502", "content type text/html", "502 Bad Gateway"],
    );
}

#[tokio::test]
async fn unusable_success_answers_are_unexpected_responses() {
    assert_unexpected(
        fetch_answer(200, "text/html", "<html>Welcome</html>").await,
        "expected a JSON body, got \"text/html\"",
    );
    assert_unexpected(
        fetch_answer(200, "application/json", r#"{"access_token": "eyJhbGciOi"#).await,
        "truncated",
    );
    // JSON is read whatever its label (issue 11, item 6).
    assert!(fetch_answer(200, "text/plain", SUCCESS_BODY).await.is_ok());
    assert_unexpected(
        fetch_answer(
            200,
            "application/json",
            r#"{"token_type":"Bearer","expires_in":3600}"#,
        )
        .await,
        "access_token",
    );
    assert_unexpected(
        fetch_answer(
            200,
            "application/json",
            r#"{"access_token":"","expires_in":3600}"#,
        )
        .await,
        "empty",
    );
    assert_unexpected(
        fetch_answer(200, "application/json", with_expires_in(Some(r#""soon""#))).await,
        "not a number",
    );
}

#[tokio::test]
async fn expires_in_follows_the_core_expiry_policy() {
    let default = t0() + secs(300);
    let cases = [
        (Some("0"), default),
        (Some("-1"), default),
        (None, default),
        (Some(r#""3600""#), t0() + secs(3600)),
        (Some("18446744073709551615"), t0() + secs(30 * 24 * 3600)),
    ];
    for (expires_in, expected) in cases {
        let token = fetch_answer(200, "application/json", with_expires_in(expires_in))
            .await
            .unwrap_or_else(|e| panic!("expires_in {expires_in:?}: {e}"));
        assert_eq!(token.expires_at(), expected, "expires_in {expires_in:?}");
    }
}

#[tokio::test]
async fn the_jwt_exp_stands_in_for_a_missing_expires_in() {
    // AdGem's tokens are JWTs; this one's payload is `{"exp":1700000900}`, t0 + 15 minutes.
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3MDAwMDA5MDB9.c2ln";
    let token = fetch_answer(
        200,
        "application/json",
        format!(r#"{{"access_token":"{jwt}","token_type":"Bearer"}}"#),
    )
    .await
    .unwrap();
    assert_eq!(token.expires_at(), t0() + secs(900));
}

#[tokio::test]
async fn the_cache_fetches_once_for_two_callers_in_turn() {
    let server = MockServer::start_async().await;
    let mock = answer(&server, TOKEN_PATH, 200, "application/json", SUCCESS_BODY).await;
    let cache = TokenCache::new(source(&server));
    let first = cache.token().await.unwrap();
    let second = cache.token().await.unwrap();
    assert_eq!(first.access_token().expose_secret(), SAMPLE_JWT);
    assert!(first.same_access_token(&second));
    assert_eq!(mock.calls_async().await, 1);
}

fn assert_no_canary(what: &str, text: &str) {
    assert_hidden(what, text, &[CANARY_SECRET, CANARY_TOKEN]);
}

#[tokio::test]
async fn secrets_and_tokens_never_show_in_debug_output() {
    let server = MockServer::start_async().await;
    answer(
        &server,
        TOKEN_PATH,
        200,
        "application/json",
        json!({"access_token": CANARY_TOKEN, "token_type": "Bearer", "expires_in": 3600})
            .to_string(),
    )
    .await;
    let builder = Credentials::builder()
        .pub_id(1)
        .app_id(2)
        .client_id(CLIENT_ID)
        .client_secret(CANARY_SECRET)
        .base_url(server.base_url());
    assert_no_canary("builder", &format!("{builder:?}"));
    let credentials = builder.build().unwrap();
    assert_no_canary("credentials", &format!("{credentials:?}"));
    let source = AdGemSource::with_http(credentials, no_retries()).unwrap();
    assert_no_canary("source", &format!("{source:?}"));

    let token = source.fetch(&cx()).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), CANARY_TOKEN);
    assert_no_canary("token", &format!("{token:?}"));

    let cache = TokenCache::new(source);
    let cached = cache.token().await.unwrap();
    assert_no_canary("cache", &format!("{cache:?}"));
    assert_no_canary("cached token", &format!("{cached:?}"));
}

#[tokio::test]
async fn errors_never_repeat_the_secret_or_a_token() {
    let echo_description = json!({
        "error": "invalid_client",
        "error_description": format!("client_secret {CANARY_SECRET} is not valid"),
    })
    .to_string();
    let echo_code = json!({ "error": CANARY_SECRET }).to_string();
    let echo_html = format!("<html><p>bad secret {CANARY_SECRET}</p></html>");
    let bad_expiry = json!({ "access_token": CANARY_TOKEN, "expires_in": "soon" }).to_string();
    let bad_shape = json!({ "access_token": CANARY_TOKEN, "token_type": 7 }).to_string();
    let cases: [(u16, &str, &str); 6] = [
        (401, "application/json", &echo_description),
        (401, "application/json", &echo_code),
        (502, "text/html", &echo_html),
        (200, "text/html", &echo_html),
        (200, "application/json", &bad_expiry),
        (200, "application/json", &bad_shape),
    ];
    for (status, content_type, body) in cases {
        let server = MockServer::start_async().await;
        answer(&server, TOKEN_PATH, status, content_type, body).await;
        let source = source_with(&server.base_url(), (1, 2), CANARY_SECRET, no_retries());
        let err = source.fetch(&cx()).await.unwrap_err();
        assert_no_canary("error Display", &err.to_string());
        assert_no_canary("error Debug", &format!("{err:?}"));
    }
}
