//! The token endpoint against a mock server: the documented client-credentials and refresh
//! requests and answer, every documented error shape and `error_code`, unusable answers,
//! refresh-token rotation and fallback through the cache, resuming, and secret hygiene.

mod common;

use std::sync::Arc;
use std::time::Duration;

use adauth_admitad::{AdmitadErrorCode, AdmitadSource, Credentials, TOKEN_PATH};
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{Error, ErrorKind, ManualClock, Token, TokenCache, TokenSource};
use adauth_testkit::wire::{assert_hidden, assert_source_hides};
use common::*;
use httpmock::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

fn assert_documented_token(token: &Token) {
    assert_eq!(
        token.access_token().expose_secret(),
        DOCUMENTED_ACCESS_TOKEN
    );
    assert_eq!(token.token_type(), "bearer");
    assert_eq!(token.issued_at(), t0());
    assert_eq!(token.expires_at(), t0() + LIFETIME);
    assert_eq!(
        token.refresh_token().map(|t| t.expose_secret()),
        Some(DOCUMENTED_REFRESH_TOKEN)
    );
    assert_eq!(token.scope(), Some("advcampaigns banners websites"));
    let extras: Vec<_> = token.extras().iter().collect();
    assert_eq!(
        extras,
        [
            ("first_name", "name"),
            ("group", "webmaster"),
            ("language", "ru"),
            ("last_name", "surname"),
            ("username", "webmaster1"),
        ]
    );
}

#[tokio::test]
async fn client_credentials_send_the_documented_request_and_read_the_documented_answer() {
    let server = MockServer::start_async().await;
    let mock = client_credentials_mock(&server, DOCUMENTED_RESPONSE).await;

    let token = source(&server).fetch(&cx()).await.unwrap();

    mock.assert_async().await;
    assert_documented_token(&token);
    assert!(token.secret_extra("refresh_token").is_none());
}

/// The documented curl sends the scope with literal spaces; the form encoding sends `+`,
/// which a form decoder (here httpmock's, as a server's would) reads back as those spaces.
#[tokio::test]
async fn the_form_decoder_reads_the_scope_with_spaces() {
    let server = MockServer::start_async().await;
    let decoded = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .form_urlencoded_tuple("grant_type", "client_credentials")
                .form_urlencoded_tuple("client_id", CLIENT_ID)
                .form_urlencoded_tuple("scope", "advcampaigns banners websites");
            then.status(200)
                .header("content-type", "application/json")
                .body(DOCUMENTED_RESPONSE);
        })
        .await;
    source(&server).fetch(&cx()).await.unwrap();
    decoded.assert_async().await;
}

#[tokio::test]
async fn the_documented_example_with_its_typo_is_a_clear_unexpected_response() {
    let server = MockServer::start_async().await;
    answer(
        &server,
        200,
        "application/json",
        DOCUMENTED_RESPONSE_VERBATIM,
    )
    .await;
    let err = source(&server).fetch(&cx()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedResponse, "{err}");
    assert_eq!(err.status(), Some(StatusCode::OK));
    let text = err.to_string();
    assert_contains(&text, &["admitad", "not valid JSON", "webmaster1"]);
    for token in [DOCUMENTED_ACCESS_TOKEN, DOCUMENTED_REFRESH_TOKEN] {
        assert!(!text.contains(token), "{text}");
        assert!(!format!("{err:?}").contains(token), "{err:?}");
    }
}

#[tokio::test]
async fn refresh_sends_the_documented_request_and_takes_the_new_refresh_token() {
    let server = MockServer::start_async().await;
    let mock = refresh_mock(
        &server,
        "ea957cce42",
        200,
        &token_body("new-access", "new-refresh"),
    )
    .await;
    let token = source(&server)
        .refresh(&cx(), &SecretString::from("ea957cce42"))
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(token.access_token().expose_secret(), "new-access");
    assert_eq!(
        token.refresh_token().map(|t| t.expose_secret()),
        Some("new-refresh")
    );
    assert_eq!(token.expires_at(), t0() + LIFETIME);
    assert_eq!(token.extras().get("username"), Some("webmaster1"));
}

/// A cache on a manual clock, with the clock to move it.
fn cache_on_clock(source: AdmitadSource) -> (TokenCache, ManualClock) {
    let clock = ManualClock::new(t0());
    let cache = TokenCache::builder(source)
        .clock(Arc::new(clock.clone()))
        .build();
    (cache, clock)
}

#[tokio::test]
async fn two_successive_refreshes_through_the_cache_use_the_rotated_refresh_token() {
    let server = MockServer::start_async().await;
    let minted = client_credentials_mock(&server, &token_body("access-1", "refresh-1")).await;
    let first = refresh_mock(
        &server,
        "refresh-1",
        200,
        &token_body("access-2", "refresh-2"),
    )
    .await;
    let second = refresh_mock(
        &server,
        "refresh-2",
        200,
        &token_body("access-3", "refresh-3"),
    )
    .await;
    let (cache, clock) = cache_on_clock(source(&server));

    let token = cache.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "access-1");

    clock.advance(LIFETIME);
    let token = cache.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "access-2");
    assert_eq!(token.issued_at(), t0() + LIFETIME);

    clock.advance(LIFETIME);
    let token = cache.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "access-3");
    assert_eq!(
        token.refresh_token().map(|t| t.expose_secret()),
        Some("refresh-3")
    );

    assert_eq!(minted.calls_async().await, 1);
    assert_eq!(first.calls_async().await, 1);
    assert_eq!(second.calls_async().await, 1);
}

#[tokio::test]
async fn a_rejected_refresh_token_falls_back_to_client_credentials() {
    let cases = [
        (
            400,
            json!({"error": "invalid_grant", "error_description": "Refresh token is not available", "error_code": 5}),
        ),
        (
            401,
            json!({"error": "invalid_token", "error_description": "Refresh token is not available", "error_code": 5}),
        ),
        (
            400,
            json!({"error": "invalid_grant", "error_description": "Invalid refresh token"}),
        ),
        (
            401,
            json!({"error": "invalid_token", "error_description": "Token expired", "error_code": 0}),
        ),
        (
            401,
            json!({"error": "invalid_token", "error_description": "Invalid token", "error_code": 1}),
        ),
        (
            400,
            json!({"error": "invalid_request", "error_description": "Bad request", "error_code": 3}),
        ),
    ];
    for (status, body) in cases {
        let server = MockServer::start_async().await;
        let minted =
            client_credentials_mock(&server, &token_body("minted", "minted-refresh")).await;
        let refused = refresh_mock(&server, "minted-refresh", status, &body.to_string()).await;
        let (cache, clock) = cache_on_clock(source(&server));

        cache.token().await.unwrap();
        assert_eq!(minted.calls_async().await, 1);
        clock.advance(LIFETIME);
        let token = cache
            .token()
            .await
            .unwrap_or_else(|e| panic!("{body}: {e}"));

        assert_eq!(refused.calls_async().await, 1, "{body}");
        assert_eq!(minted.calls_async().await, 2, "{body}");
        assert_eq!(token.access_token().expose_secret(), "minted");
        assert_eq!(token.issued_at(), t0() + LIFETIME);
    }
}

#[tokio::test]
async fn quota_answers_to_a_refresh_do_not_mint_a_new_token() {
    for code in [4, 6] {
        let server = MockServer::start_async().await;
        let minted =
            client_credentials_mock(&server, &token_body("minted", "minted-refresh")).await;
        let body =
            json!({"error": "invalid_request", "error_description": "Limit", "error_code": code});
        let refused = refresh_mock(&server, "minted-refresh", 400, &body.to_string()).await;
        let (cache, clock) = cache_on_clock(source(&server));

        cache.token().await.unwrap();
        clock.advance(LIFETIME);
        let err = cache.token().await.unwrap_err();

        assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
        assert_eq!(
            AdmitadErrorCode::of(&err),
            Some(AdmitadErrorCode::from_code(code))
        );
        assert_eq!(refused.calls_async().await, 1);
        assert_eq!(minted.calls_async().await, 1);
    }
}

/// Answers every token request with the documented error shape: a JSON body and a
/// `WWW-Authenticate` challenge.
async fn error_answer<'a>(server: &'a MockServer, status: u16, body: &str) -> httpmock::Mock<'a> {
    let body = body.to_owned();
    server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(status)
                .header("content-type", "application/json")
                .header(
                    "www-authenticate",
                    r#"Bearer realm="api", error="invalid_token""#,
                )
                .body(body);
        })
        .await
}

fn assert_provider_error(err: &Error, status: u16, code: &str, description: &str) {
    assert_eq!(err.provider(), "admitad");
    assert_eq!(err.status(), StatusCode::from_u16(status).ok());
    assert_eq!(err.code(), Some(code), "{err}");
    assert_eq!(err.description(), Some(description), "{err}");
    let text = err.to_string();
    assert_contains(
        &text,
        &["admitad", &format!("HTTP {status}"), code, description],
    );
    assert!(!text.contains(CLIENT_SECRET), "{text}");
    assert!(!format!("{err:?}").contains(CLIENT_SECRET), "{err:?}");
}

/// `error_code` 0 to 6, each with an OAuth `error` as Admitad might pair it; where that
/// string alone would say otherwise, the `error_code` decides.
const ERROR_CODES: [(i64, u16, &str, &str); 7] = [
    (0, 401, "invalid_token", "Token expired"),
    (1, 401, "invalid_token", "Invalid token"),
    (2, 403, "invalid_token", "Insufficient rights"),
    (3, 400, "invalid_request", "Bad request"),
    (4, 400, "invalid_request", "Quota exceeded"),
    (5, 400, "invalid_grant", "Refresh token is not available"),
    (6, 400, "invalid_request", "Too many tokens"),
];

#[tokio::test]
async fn every_error_code_becomes_its_kind_with_code_and_description() {
    use AdmitadErrorCode::*;
    use ErrorKind::*;
    let expected = [
        (Expired, CredentialsRejected),
        (Invalid, CredentialsRejected),
        (InsufficientRights, RequestRejected),
        (BadRequest, RequestRejected),
        (QuotaExceeded, RateLimited),
        (RefreshTokenUnavailable, CredentialsRejected),
        (TooManyTokens, RateLimited),
    ];
    for ((n, status, error, description), (code, kind)) in ERROR_CODES.into_iter().zip(expected) {
        let server = MockServer::start_async().await;
        let body = json!({"error": error, "error_description": description, "error_code": n});
        let mock = error_answer(&server, status, &body.to_string()).await;
        let err = source(&server).fetch(&cx()).await.unwrap_err();

        assert_eq!(err.kind(), kind, "error_code {n}: {err}");
        assert_eq!(code.kind(), Some(kind));
        assert_eq!(AdmitadErrorCode::of(&err), Some(code), "{err:?}");
        assert_eq!(code.code(), n);
        assert_provider_error(&err, status, error, description);
        assert!(
            err.to_string().contains(&format!("error_code {n}")),
            "{err}"
        );
        assert_eq!(mock.calls_async().await, 1);
    }
}

#[tokio::test]
async fn on_the_refresh_grant_every_refusal_is_a_rejected_refresh_token() {
    for (n, status, error, description) in ERROR_CODES {
        let server = MockServer::start_async().await;
        let body = json!({"error": error, "error_description": description, "error_code": n});
        error_answer(&server, status, &body.to_string()).await;
        let err = source(&server)
            .refresh(&cx(), &SecretString::from(DOCUMENTED_REFRESH_TOKEN))
            .await
            .unwrap_err();
        let kind = if matches!(n, 4 | 6) {
            ErrorKind::RateLimited
        } else {
            ErrorKind::CredentialsRejected
        };
        assert_eq!(err.kind(), kind, "error_code {n}: {err}");
        assert_eq!(
            AdmitadErrorCode::of(&err),
            Some(AdmitadErrorCode::from_code(n))
        );
        assert_provider_error(&err, status, error, description);
    }
}

#[tokio::test]
async fn the_documented_error_shape_and_other_forms_of_it() {
    // The documented shape, `error_code` as a number.
    let server = MockServer::start_async().await;
    error_answer(
        &server,
        401,
        r#"{"error":"invalid_token","error_description":"Invalid token","error_code":1}"#,
    )
    .await;
    let err = source(&server).fetch(&cx()).await.unwrap_err();
    assert!(err.is_credentials_rejected());
    assert_eq!(
        err.to_string(),
        "admitad: credentials rejected (HTTP 401, invalid_token: Invalid token): admitad error_code 1 (token invalid)"
    );

    // `error_code` as a string; an unknown one is kept and the status decides.
    let server = MockServer::start_async().await;
    error_answer(
        &server,
        400,
        r#"{"error":"x","error_description":"y","error_code":"42"}"#,
    )
    .await;
    let err = source(&server).fetch(&cx()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RequestRejected);
    assert_eq!(
        AdmitadErrorCode::of(&err),
        Some(AdmitadErrorCode::Unknown(42))
    );
    assert_provider_error(&err, 400, "x", "y");

    // Only `error_code`: the challenge names the OAuth error.
    let server = MockServer::start_async().await;
    error_answer(&server, 401, r#"{"error_code":0}"#).await;
    let err = source(&server).fetch(&cx()).await.unwrap_err();
    assert!(err.is_credentials_rejected());
    assert_eq!(err.code(), Some("invalid_token"));
    assert_eq!(AdmitadErrorCode::of(&err), Some(AdmitadErrorCode::Expired));
}

#[tokio::test]
async fn the_challenge_header_stands_in_for_an_empty_body() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(401).header(
                "www-authenticate",
                r#"Bearer realm="api", error="invalid_token", error_description="Token expired""#,
            );
        })
        .await;
    let err = source(&server).fetch(&cx()).await.unwrap_err();
    assert!(err.is_credentials_rejected(), "{err}");
    assert_provider_error(&err, 401, "invalid_token", "Token expired");
    assert_eq!(AdmitadErrorCode::of(&err), None);
}

#[tokio::test]
async fn over_600_requests_a_minute_is_rate_limited() {
    let server = MockServer::start_async().await;
    let mock = answer(
        &server,
        503,
        "text/html",
        "<html><h1>503 Service Unavailable</h1></html>",
    )
    .await;
    let err = source(&server).fetch(&cx()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert!(err.is_retryable());
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_contains(&err.to_string(), &["HTTP 503", "text/html"]);
    assert_eq!(mock.calls_async().await, 1);

    // A 503 is the rate limit even on the refresh grant: no fallback to minting.
    let err = source(&server)
        .refresh(&cx(), &SecretString::from("r"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
}

#[tokio::test]
async fn unusable_answers_are_unexpected_responses() {
    let cases: [(u16, &str, &str, &str); 4] = [
        (
            200,
            "text/html",
            "<html>Welcome</html>",
            "expected a JSON body, got \"text/html\"",
        ),
        (
            200,
            "application/json",
            r#"{"access_token": "4b8b3"#,
            "truncated",
        ),
        (
            200,
            "application/json",
            r#"{"token_type":"bearer","expires_in":604800}"#,
            "access_token",
        ),
        (404, "text/html", "<html>Not Found</html>", "Not Found"),
    ];
    for (status, content_type, body, mentions) in cases {
        let server = MockServer::start_async().await;
        answer(&server, status, content_type, body).await;
        let err = source(&server).fetch(&cx()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedResponse, "{body}: {err}");
        assert_contains(&err.to_string(), &[mentions]);
        assert!(!err.is_retryable());
    }
    // JSON is read whatever its label (issue 11, item 6).
    let server = MockServer::start_async().await;
    answer(&server, 200, "text/plain", DOCUMENTED_RESPONSE).await;
    assert!(source(&server).fetch(&cx()).await.is_ok());
}

#[tokio::test]
async fn an_html_error_page_is_reported_with_its_content_type() {
    let server = MockServer::start_async().await;
    answer(
        &server,
        502,
        "text/html",
        "<html><body>502 Bad Gateway</body></html>",
    )
    .await;
    let err = source(&server).fetch(&cx()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert_eq!(err.content_type(), Some("text/html"));
    assert_eq!(err.code(), None);
    assert_contains(
        &err.to_string(),
        &["HTTP 502", "content type text/html", "502 Bad Gateway"],
    );
}

#[tokio::test]
async fn resuming_renews_the_saved_refresh_token_once() {
    let server = MockServer::start_async().await;
    let minted = client_credentials_mock(&server, &token_body("minted", "minted-refresh")).await;
    let resumed = refresh_mock(
        &server,
        "saved",
        200,
        &token_body("renewed", "renewed-refresh"),
    )
    .await;
    let source = source(&server).resume_from("saved");

    let token = source.fetch(&cx()).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "renewed");
    assert_eq!(resumed.calls_async().await, 1);
    assert_eq!(minted.calls_async().await, 0);

    // Spent: the next fetch mints.
    let token = source.fetch(&cx()).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "minted");
    assert_eq!(resumed.calls_async().await, 1);
    assert_eq!(minted.calls_async().await, 1);
}

#[tokio::test]
async fn a_rejected_saved_refresh_token_falls_back_to_client_credentials() {
    let server = MockServer::start_async().await;
    let minted = client_credentials_mock(&server, &token_body("minted", "minted-refresh")).await;
    let body = json!({"error": "invalid_grant", "error_description": "Refresh token is not available", "error_code": 5});
    let refused = refresh_mock(&server, "saved", 400, &body.to_string()).await;

    let cache = TokenCache::new(source(&server).resume_from("saved"));
    let token = cache.token().await.unwrap();

    assert_eq!(token.access_token().expose_secret(), "minted");
    assert_eq!(refused.calls_async().await, 1);
    assert_eq!(minted.calls_async().await, 1);
}

// Issue 11, item 11: a refresh that Admitad refuses because the client failed to
// authenticate is the client's error, with Admitad's code; it never mints a token instead
// (Admitad caps tokens per application), neither on resuming nor on the cache's renewals.
#[tokio::test]
async fn a_refresh_refused_with_invalid_client_is_that_error_and_mints_nothing() {
    let server = MockServer::start_async().await;
    let minted = client_credentials_mock(&server, &token_body("minted", "minted-refresh")).await;
    let body = json!({"error": "invalid_client", "error_description": "Client authentication failed", "error_code": 1});
    let refused = refresh_mock(&server, "saved", 401, &body.to_string()).await;

    let cache = TokenCache::new(source(&server).resume_from("saved"));
    let err = cache.token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert_eq!(err.code(), Some("invalid_client"), "{err}");
    assert_eq!(err.description(), Some("Client authentication failed"));
    assert_eq!(refused.calls_async().await, 1);
    assert_eq!(minted.calls_async().await, 0, "no token was minted");

    // The same on a renewal of a token that carries a refresh token.
    let server = MockServer::start_async().await;
    let minted = client_credentials_mock(&server, &token_body("minted", "saved")).await;
    let refused = refresh_mock(&server, "saved", 401, &body.to_string()).await;
    let (cache, clock) = cache_on_clock(source(&server));
    cache.token().await.unwrap();
    clock.advance(std::time::Duration::from_secs(604_800));
    let err = cache.token().await.unwrap_err();
    assert_eq!(err.code(), Some("invalid_client"), "{err}");
    assert_eq!(refused.calls_async().await, 1);
    assert_eq!(
        minted.calls_async().await,
        1,
        "only the first token was minted"
    );
}

#[tokio::test]
async fn a_transient_failure_keeps_the_saved_refresh_token() {
    let server = MockServer::start_async().await;
    let minted = client_credentials_mock(&server, &token_body("minted", "minted-refresh")).await;
    let down = refresh_mock(&server, "saved", 500, r#"{"error":"server_error"}"#).await;
    let source = source(&server).resume_from("saved");

    let err = source.fetch(&cx()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    down.delete_async().await;
    let resumed = refresh_mock(&server, "saved", 200, &token_body("renewed", "r2")).await;

    let token = source.fetch(&cx()).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "renewed");
    assert_eq!(resumed.calls_async().await, 1);
    assert_eq!(minted.calls_async().await, 0);
}

const CANARY_SECRET: &str = "CANARY-SECRET-7f3a";
const CANARY_ACCESS: &str = "CANARY-ACCESS-19c2";
const CANARY_REFRESH: &str = "CANARY-REFRESH-55d0";
const CANARY_SAVED: &str = "CANARY-SAVED-a8e1";
const CANARIES: [&str; 4] = [CANARY_SECRET, CANARY_ACCESS, CANARY_REFRESH, CANARY_SAVED];

fn assert_none_of(canaries: &[&str], what: &str, text: &str) {
    assert_hidden(what, text, canaries);
}

fn assert_no_canary(what: &str, text: &str) {
    assert_none_of(&CANARIES, what, text);
}

/// No canary the request sent or the mock issued shows in the error.
fn assert_error_has_none_of(canaries: &[&str], err: &Error) {
    assert_none_of(canaries, "error Display", &err.to_string());
    assert_none_of(canaries, "error Debug", &format!("{err:?}"));
}

#[tokio::test]
async fn secrets_and_tokens_never_show_in_debug_output() {
    let server = MockServer::start_async().await;
    answer(
        &server,
        200,
        "application/json",
        &token_body(CANARY_ACCESS, CANARY_REFRESH),
    )
    .await;
    let builder = Credentials::builder()
        .client_id(CLIENT_ID)
        .client_secret(CANARY_SECRET)
        .scopes(documented_scopes())
        .base_url(server.base_url());
    assert_no_canary("builder", &format!("{builder:?}"));
    let credentials = builder.build().unwrap();
    assert_no_canary("credentials", &format!("{credentials:?}"));
    let source = AdmitadSource::with_http(credentials, no_retries())
        .unwrap()
        .resume_from(CANARY_SAVED);
    let token = assert_source_hides(source, CANARY_ACCESS, &CANARIES).await;
    assert_eq!(
        token.refresh_token().unwrap().expose_secret(),
        CANARY_REFRESH
    );
}

#[tokio::test]
async fn errors_never_repeat_a_secret_or_a_token() {
    let echo = json!({
        "error": CANARY_SECRET,
        "error_description": format!("client_secret {CANARY_SECRET} or refresh_token {CANARY_SAVED} refused"),
        "error_code": 5,
    })
    .to_string();
    let echo_html = format!("<html>bad secret {CANARY_SECRET} for {CANARY_SAVED}</html>");
    let bad_expiry = json!({"access_token": CANARY_ACCESS, "refresh_token": CANARY_REFRESH, "expires_in": "soon"}).to_string();
    let bad_shape =
        json!({"access_token": CANARY_ACCESS, "refresh_token": CANARY_REFRESH, "scope": 7})
            .to_string();
    let cases: [(u16, &str, &str); 6] = [
        (400, "application/json", &echo),
        (401, "application/json", &echo),
        (502, "text/html", &echo_html),
        (200, "text/html", &echo_html),
        (200, "application/json", &bad_expiry),
        (200, "application/json", &bad_shape),
    ];
    for (status, content_type, body) in cases {
        let server = MockServer::start_async().await;
        answer(&server, status, content_type, body).await;
        let source = source_with(&server.base_url(), CANARY_SECRET);
        // A plain fetch never sent the saved refresh token, so cannot know to remove it.
        let err = source.fetch(&cx()).await.unwrap_err();
        assert_error_has_none_of(&[CANARY_SECRET, CANARY_ACCESS, CANARY_REFRESH], &err);
        let err = source
            .refresh(&cx(), &SecretString::from(CANARY_SAVED))
            .await
            .unwrap_err();
        assert_error_has_none_of(&CANARIES, &err);
        // The saved refresh token is scrubbed from the resumed fetch's errors too.
        let err = source_with(&server.base_url(), CANARY_SECRET)
            .resume_from(CANARY_SAVED)
            .fetch(&cx())
            .await
            .unwrap_err();
        assert_error_has_none_of(&CANARIES, &err);
    }
}

#[tokio::test]
async fn a_cached_token_waits_a_week_before_renewal() {
    let server = MockServer::start_async().await;
    let minted = client_credentials_mock(&server, DOCUMENTED_RESPONSE).await;
    let (cache, clock) = cache_on_clock(source(&server));
    cache.token().await.unwrap();
    clock.advance(LIFETIME - Duration::from_secs(3600));
    let token = cache.token().await.unwrap();
    assert_eq!(
        token.access_token().expose_secret(),
        DOCUMENTED_ACCESS_TOKEN
    );
    assert_eq!(minted.calls_async().await, 1);
}
