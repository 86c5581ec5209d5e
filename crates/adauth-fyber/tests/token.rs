//! The token request against a mock Reporting API: the documented request and answers, the
//! documented errors, unusable answers, the cache, and secret hygiene. Transport behaviour
//! (redirects, timeouts, size caps, retries) is adauth-core's and tested there.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adauth_core::http::{HttpClient, RetryPolicy};
use adauth_core::secrecy::ExposeSecret;
use adauth_core::{
    Error, ErrorKind, ExpiryPolicy, FetchContext, ManualClock, Token, TokenCache, TokenSource,
};
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

const CANARY_SECRET: &str = "CANARY-SECRET-123";
const CANARY_TOKEN: &str = "CANARY-TOKEN-456";

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A context whose clock stands still at `t0`, so `issued_at` is exactly `t0`.
fn cx() -> FetchContext {
    FetchContext::new(Arc::new(ManualClock::new(t0())), ExpiryPolicy::default())
}

/// Three attempts, with millisecond delays.
fn fast_retries() -> HttpClient {
    HttpClient::new().retry_policy(
        RetryPolicy::default()
            .max_attempts(3)
            .initial_delay(Duration::from_millis(1))
            .max_delay(Duration::from_millis(5)),
    )
}

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

/// Answers every token request with `status`, `content_type` and `body`.
async fn answer<'a>(
    server: &'a MockServer,
    status: u16,
    content_type: &str,
    body: impl AsRef<[u8]>,
) -> httpmock::Mock<'a> {
    let body = body.as_ref().to_vec();
    server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(status)
                .header("content-type", content_type)
                .body(body);
        })
        .await
}

async fn fetch_answer(
    status: u16,
    content_type: &str,
    body: impl AsRef<[u8]>,
) -> Result<Token, Error> {
    let server = MockServer::start_async().await;
    answer(&server, status, content_type, body).await;
    source(&server).fetch(&cx()).await
}

/// A success body with the sample token and `expiresIn` as given (raw JSON, or absent).
fn with_expires_in(expires_in: Option<&str>) -> String {
    match expires_in {
        Some(v) => {
            format!(r#"{{"accessToken":"{SAMPLE_TOKEN}","tokenType":"bearer","expiresIn":{v}}}"#)
        }
        None => format!(r#"{{"accessToken":"{SAMPLE_TOKEN}","tokenType":"bearer"}}"#),
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
                .path("/auth/v1/token")
                .header("content-type", "application/json")
                .json_body(json!({
                    "grant_type": "client_credentials",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                }));
            then.status(200)
                .header("Content-Type", "application/json")
                .body(SUCCESS_BODY);
        })
        .await;

    let token = source(&server).fetch(&cx()).await.unwrap();

    mock.assert_async().await;
    assert_eq!(token.access_token().expose_secret(), SAMPLE_TOKEN);
    assert_eq!(token.token_type(), "bearer");
    assert_eq!(token.issued_at(), t0());
    assert_eq!(token.expires_at(), t0() + secs(3600));
    assert!(token.refresh_token().is_none());
}

#[tokio::test]
async fn a_base_url_path_prefix_is_kept() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/fake/auth/v1/token");
            then.status(200)
                .header("content-type", "application/json")
                .body(SUCCESS_BODY);
        })
        .await;
    let source = source_at(&server.url("/fake"), CLIENT_SECRET, fast_retries());
    source.fetch(&cx()).await.unwrap();
    mock.assert_async().await;
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
    answer(&server, 500, "application/json", INTERNAL_ERROR_BODY).await;
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

#[tokio::test]
async fn an_html_error_page_is_reported_with_its_content_type_and_an_excerpt() {
    let server = MockServer::start_async().await;
    let mock = answer(
        &server,
        502,
        "text/html",
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
    )
    .await;
    let source = source_at(
        &server.base_url(),
        CLIENT_SECRET,
        HttpClient::new().retry_policy(RetryPolicy::none()),
    );
    let err = source.fetch(&cx()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
    assert_eq!(err.content_type(), Some("text/html"));
    assert_eq!(err.code(), None);
    let text = err.to_string();
    assert!(text.contains("content type text/html"), "{text}");
    assert!(text.contains("502 Bad Gateway"), "{text}");
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test]
async fn unusable_success_answers_are_unexpected_responses() {
    assert_unexpected(
        fetch_answer(200, "text/html", "<html>Welcome</html>").await,
        "expected a JSON body, got \"text/html\"",
    );
    assert_unexpected(
        fetch_answer(200, "application/json", r#"{"accessToken": "eyJhbGciOi"#).await,
        "truncated",
    );
    // JSON is read whatever its label (issue 11, item 6).
    assert!(fetch_answer(200, "text/plain", SUCCESS_BODY).await.is_ok());
    assert_unexpected(
        fetch_answer(
            200,
            "application/json",
            r#"{"tokenType":"bearer","expiresIn":3600}"#,
        )
        .await,
        "accessToken",
    );
    assert_unexpected(
        fetch_answer(
            200,
            "application/json",
            r#"{"accessToken":"","expiresIn":3600}"#,
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
        (Some("null"), default),
        (None, default),
        (Some(r#""3600""#), t0() + secs(3600)),
        (Some("18446744073709551615"), t0() + secs(30 * 24 * 3600)),
    ];
    for (expires_in, expected) in cases {
        let token = fetch_answer(200, "application/json", with_expires_in(expires_in))
            .await
            .unwrap_or_else(|e| panic!("expiresIn {expires_in:?}: {e}"));
        assert_eq!(token.expires_at(), expected, "expiresIn {expires_in:?}");
    }
}

#[tokio::test]
async fn a_jwt_exp_in_the_future_stands_in_for_a_missing_expires_in() {
    // `{"exp":1700000900}`: 15 minutes after t0.
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3MDAwMDA5MDB9.c2ln";
    let token = fetch_answer(
        200,
        "application/json",
        format!(r#"{{"accessToken":"{jwt}","tokenType":"bearer","expiresIn":0}}"#),
    )
    .await
    .unwrap();
    assert_eq!(token.expires_at(), t0() + secs(900));
}

#[tokio::test]
async fn the_cache_fetches_once_for_two_callers_in_turn() {
    let server = MockServer::start_async().await;
    let mock = answer(&server, 200, "application/json", SUCCESS_BODY).await;
    let cache = TokenCache::new(source(&server));
    let first = cache.token().await.unwrap();
    let second = cache.token().await.unwrap();
    assert_eq!(first.access_token().expose_secret(), SAMPLE_TOKEN);
    assert!(first.same_access_token(&second));
    assert_eq!(mock.calls_async().await, 1);
}

fn assert_no_canary(what: &str, text: &str) {
    for canary in [CANARY_SECRET, CANARY_TOKEN] {
        assert!(!text.contains(canary), "{what} shows {canary}: {text}");
    }
}

fn assert_error_has_no_canary(err: &Error) {
    assert_no_canary("error Display", &err.to_string());
    assert_no_canary("error Debug", &format!("{err:?}"));
}

#[tokio::test]
async fn secrets_and_tokens_never_show_in_debug_output() {
    let server = MockServer::start_async().await;
    answer(
        &server,
        200,
        "application/json",
        json!({"accessToken": CANARY_TOKEN, "tokenType": "bearer", "expiresIn": 3600}).to_string(),
    )
    .await;
    let builder = Credentials::builder()
        .client_id(CLIENT_ID)
        .client_secret(CANARY_SECRET)
        .base_url(server.base_url());
    assert_no_canary("builder", &format!("{builder:?}"));
    let credentials = builder.build().unwrap();
    assert_no_canary("credentials", &format!("{credentials:?}"));
    let source = FyberSource::with_http(credentials, fast_retries()).unwrap();
    assert_no_canary("source", &format!("{source:?}"));

    let token = source.fetch(&cx()).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), CANARY_TOKEN);
    assert_no_canary("token", &format!("{token:?}"));

    let cache = TokenCache::new(source);
    let cached = cache.token().await.unwrap();
    assert_eq!(cached.access_token().expose_secret(), CANARY_TOKEN);
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
    let bad_expiry = json!({ "accessToken": CANARY_TOKEN, "expiresIn": "soon" }).to_string();
    let bad_shape = json!({ "accessToken": CANARY_TOKEN, "tokenType": 7 }).to_string();
    let cases: [(u16, &str, &str); 6] = [
        (400, "application/json", &echo_description),
        (400, "application/json", &echo_code),
        (502, "text/html", &echo_html),
        (200, "text/html", &echo_html),
        (200, "application/json", &bad_expiry),
        (200, "application/json", &bad_shape),
    ];
    for (status, content_type, body) in cases {
        let server = MockServer::start_async().await;
        answer(&server, status, content_type, body).await;
        let source = source_at(
            &server.base_url(),
            CANARY_SECRET,
            HttpClient::new().retry_policy(RetryPolicy::none()),
        );
        let err = source.fetch(&cx()).await.unwrap_err();
        assert_error_has_no_canary(&err);
    }
}
