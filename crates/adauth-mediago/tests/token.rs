//! The client- and account-level token requests against a mock Mediago API: the documented
//! request and answer, errors in 200 answers, HTTP errors, unusable answers, the shared cache
//! and secret hygiene.

mod support;

use std::time::Duration;

use adauth_core::secrecy::ExposeSecret;
use adauth_core::{Error, ErrorKind, Token, TokenCache, TokenSource};
use adauth_mediago::{ACCOUNT_TOKEN_PATH, ApiToken, CLIENT_TOKEN_PATH, TokenLevel};
use httpmock::prelude::*;
use reqwest::StatusCode;
use serde_json::json;
use support::*;

/// Mocks the token endpoint at `path`, matching only the exact documented request with
/// `authorization` as the whole `Authorization` value.
async fn documented_request<'a>(
    server: &'a MockServer,
    path: &str,
    authorization: &str,
    body: &str,
) -> httpmock::Mock<'a> {
    adauth_testkit::mock::expect(server, 200, body, |when| {
        when.method(POST)
            .path(path)
            .header("authorization", authorization)
            .header("content-type", FORM_UTF8)
            .body("")
            .is_true(|req| {
                let count = |name: &str| {
                    req.headers_vec()
                        .iter()
                        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                        .count()
                };
                count("authorization") == 1 && count("content-type") == 1
            })
    })
    .await
}

async fn fetch_answer(
    status: u16,
    content_type: &str,
    body: impl AsRef<[u8]>,
) -> Result<Token, Error> {
    let server = MockServer::start_async().await;
    answer(&server, POST, CLIENT_TOKEN_PATH, status, content_type, body).await;
    source(&server).fetch(&cx()).await
}

#[tokio::test]
async fn the_issued_token_is_sent_verbatim_and_the_documented_answer_is_read() {
    let server = MockServer::start_async().await;
    let mock = documented_request(
        &server,
        "/data/v1/client/authentication",
        "Basic Y2xpZW50XzE0Nl_lup_lvIPl...",
        DOC_TOKEN_RESPONSE,
    )
    .await;

    let token = source(&server).fetch(&cx()).await.unwrap();

    mock.assert_async().await;
    adauth_testkit::assert_token(
        &token,
        DOC_ACCESS_TOKEN,
        "Bearer",
        t0(),
        Duration::from_secs(3600),
    );
    assert_eq!(token.extras().get("client_id"), Some("146"));
    assert!(token.refresh_token().is_none());
}

#[tokio::test]
async fn a_raw_pair_is_base64_encoded() {
    // base64("146:s3cr3t"), computed outside this crate.
    let expected = "Basic MTQ2OnMzY3IzdA==";
    for api_token in [
        ApiToken::from_pair("146", "s3cr3t").unwrap(),
        ApiToken::parse(" 146:s3cr3t ").unwrap(),
    ] {
        let server = MockServer::start_async().await;
        let mock =
            documented_request(&server, CLIENT_TOKEN_PATH, expected, DOC_TOKEN_RESPONSE).await;
        let source = source_with(&server, api_token, TokenLevel::Client);
        source.fetch(&cx()).await.unwrap();
        mock.assert_async().await;
    }
}

#[tokio::test]
async fn the_account_level_request_goes_to_its_own_endpoint() {
    let server = MockServer::start_async().await;
    let client_level = answer(
        &server,
        POST,
        CLIENT_TOKEN_PATH,
        200,
        "application/json",
        DOC_TOKEN_RESPONSE,
    )
    .await;
    let account_level = documented_request(
        &server,
        "/data/v1/authentication",
        "Basic Y2xpZW50XzE0Nl_lup_lvIPl...",
        r#"{"access_token":"account-token","expires_in":3600}"#,
    )
    .await;

    let source = source_with(&server, doc_token(), TokenLevel::Account);
    let token = source.fetch(&cx()).await.unwrap();

    account_level.assert_async().await;
    assert_eq!(client_level.calls_async().await, 0);
    assert_eq!(ACCOUNT_TOKEN_PATH, "/data/v1/authentication");
    assert_eq!(token.access_token().expose_secret(), "account-token");
    assert_eq!(token.expires_at(), t0() + Duration::from_secs(3600));
    assert_eq!(token.extras().get("client_id"), None);
}

#[tokio::test]
async fn zero_codes_and_a_numeric_client_id_are_success() {
    for body in [
        json!({"errno": 0, "errmsg": "ok", "access_token": "t", "expires_in": 3600, "client_id": 146}),
        json!({"code": 0, "msg": "success", "access_token": "t", "expires_in": 3600, "client_id": 146}),
        json!({"code": 200, "msg": "success", "access_token": "t", "expires_in": 3600, "client_id": 146}),
    ] {
        let token = fetch_answer(200, "application/json", body.to_string())
            .await
            .unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_eq!(token.access_token().expose_secret(), "t");
        assert_eq!(token.extras().get("client_id"), Some("146"));
    }
}

#[tokio::test]
async fn an_errno_in_a_200_answer_is_an_error() {
    let server = MockServer::start_async().await;
    let mock = answer(
        &server,
        POST,
        CLIENT_TOKEN_PATH,
        200,
        "application/json",
        r#"{"errno": -1, "errmsg": "invalid api token"}"#,
    )
    .await;
    let err = source(&server).fetch(&cx()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert_eq!(err.provider(), "mediago");
    assert_eq!(err.status(), Some(StatusCode::OK));
    assert_eq!(err.code(), Some("-1"));
    assert_eq!(err.description(), Some("invalid api token"));
    assert_eq!(
        err.to_string(),
        "mediago: credentials rejected: the client-level token request was refused \
         (HTTP 200, -1: invalid api token)"
    );
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test]
async fn body_codes_in_200_answers_become_kinds() {
    let cases = [
        (
            r#"{"code": 401, "msg": "token invalid"}"#,
            ErrorKind::CredentialsRejected,
            "401",
            "token invalid",
        ),
        (
            r#"{"code": 429, "msg": "qps limit exceeded"}"#,
            ErrorKind::RateLimited,
            "429",
            "qps limit exceeded",
        ),
        (
            r#"{"code": 500, "msg": "internal error"}"#,
            ErrorKind::ProviderUnavailable,
            "500",
            "internal error",
        ),
        (
            r#"{"code": 400, "msg": "bad request"}"#,
            ErrorKind::RequestRejected,
            "400",
            "bad request",
        ),
        (
            r#"{"code": 10001, "msg": "api token expired"}"#,
            ErrorKind::CredentialsRejected,
            "10001",
            "api token expired",
        ),
        (
            r#"{"errno": "1002", "errmsg": "no such client"}"#,
            ErrorKind::CredentialsRejected,
            "1002",
            "no such client",
        ),
    ];
    for (body, kind, code, description) in cases {
        // Some servers label such answers text/html; the code still counts.
        for content_type in ["application/json;charset=UTF-8", "text/html"] {
            let err = fetch_answer(200, content_type, body).await.unwrap_err();
            assert_eq!(err.kind(), kind, "{body}: {err}");
            assert_eq!(err.code(), Some(code), "{body}");
            assert_eq!(err.description(), Some(description), "{body}");
            assert_mentions(&err, &["mediago", "HTTP 200", code, description]);
        }
    }
}

#[tokio::test]
async fn http_errors_carry_the_body_code_and_message() {
    let err = fetch_answer(
        401,
        "application/json",
        r#"{"errno":-1,"errmsg":"Unauthorized"}"#,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(err.code(), Some("-1"));
    assert_eq!(err.description(), Some("Unauthorized"));
    assert_mentions(&err, &["HTTP 401", "-1: Unauthorized"]);

    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path(CLIENT_TOKEN_PATH);
            then.status(429)
                .header("content-type", "application/json")
                .header("retry-after", "2")
                .body(r#"{"code":429,"msg":"QPS limit exceeded"}"#);
        })
        .await;
    let err = source(&server).fetch(&cx()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert_eq!(err.code(), Some("429"));
    assert_eq!(err.description(), Some("QPS limit exceeded"));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn unusable_answers_are_clear_errors() {
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let err = fetch_answer(502, "text/html", html).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable, "{err}");
    assert_mentions(
        &err,
        &["HTTP 502", "content type text/html", "502 Bad Gateway"],
    );

    let unexpected = |result: Result<Token, Error>, mentions: &str| {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedResponse, "{err}");
        assert_mentions(&err, &[mentions]);
    };
    unexpected(
        fetch_answer(200, "text/html", html).await,
        "expected a JSON body",
    );
    unexpected(
        fetch_answer(200, "application/json", r#"{"access_token": "MTQ2Om"#).await,
        "truncated",
    );
    // JSON is read whatever its label (issue 11, item 6).
    assert!(
        fetch_answer(200, "text/plain", DOC_TOKEN_RESPONSE)
            .await
            .is_ok()
    );
    unexpected(
        fetch_answer(
            200,
            "application/json",
            r#"{"expires_in":3600,"client_id":"146"}"#,
        )
        .await,
        "missing field `access_token`",
    );
}

#[tokio::test]
async fn two_concurrent_callers_share_one_token_request() {
    let server = MockServer::start_async().await;
    let mock = answer(
        &server,
        POST,
        CLIENT_TOKEN_PATH,
        200,
        "application/json",
        DOC_TOKEN_RESPONSE,
    )
    .await;
    let cache = TokenCache::new(source(&server));
    let other = cache.clone();
    let (first, second) = tokio::join!(cache.token(), async move { other.token().await });
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.access_token().expose_secret(), DOC_ACCESS_TOKEN);
    assert!(first.same_access_token(&second));
    assert_eq!(mock.calls_async().await, 1);
}

const CANARY_SECRET: &str = "CANARY-SECRET-7f3a";
const CANARY_API_TOKEN: &str = "CANARY-APITOKEN-91bd";
const CANARY_ACCESS: &str = "CANARY-ACCESS-5c2e";
/// base64("146:CANARY-SECRET-7f3a"): the pair as sent, computed outside this crate.
const CANARY_PAIR_ENCODED: &str = "MTQ2OkNBTkFSWS1TRUNSRVQtN2YzYQ==";

const CANARIES: [&str; 4] = [
    CANARY_SECRET,
    CANARY_API_TOKEN,
    CANARY_ACCESS,
    CANARY_PAIR_ENCODED,
];

fn assert_no_canary(what: &str, text: &str) {
    adauth_testkit::wire::assert_hidden(what, text, &CANARIES);
}

#[tokio::test]
async fn secrets_and_tokens_never_show_in_debug_output() {
    let server = MockServer::start_async().await;
    let body = json!({"access_token": CANARY_ACCESS, "expires_in": 3600, "client_id": "146"});
    answer(
        &server,
        POST,
        CLIENT_TOKEN_PATH,
        200,
        "application/json",
        body.to_string(),
    )
    .await;
    for api_token in [
        ApiToken::encoded(CANARY_API_TOKEN).unwrap(),
        ApiToken::from_pair("146", CANARY_SECRET).unwrap(),
        ApiToken::parse(format!("146:{CANARY_SECRET}")).unwrap(),
    ] {
        assert_no_canary("api token", &format!("{api_token:?}"));
        let builder = adauth_mediago::Credentials::builder()
            .api_token(api_token)
            .account_id("12345")
            .base_url(server.base_url());
        assert_no_canary("builder", &format!("{builder:?}"));
        let credentials = builder.build().unwrap();
        assert_no_canary("credentials", &format!("{credentials:?}"));
        let source = adauth_mediago::MediagoSource::with_http(credentials, no_retries()).unwrap();
        adauth_testkit::wire::assert_source_hides(source, CANARY_ACCESS, &CANARIES).await;
    }
}

#[tokio::test]
async fn token_errors_never_repeat_a_secret() {
    // Each API token form, with a server that echoes what it was sent.
    let forms = [
        (
            ApiToken::encoded(CANARY_API_TOKEN).unwrap(),
            format!("bad token {CANARY_API_TOKEN}"),
        ),
        (
            ApiToken::from_pair("146", CANARY_SECRET).unwrap(),
            format!("bad token 146:{CANARY_SECRET} (Basic {CANARY_PAIR_ENCODED})"),
        ),
    ];
    for (api_token, echo) in forms {
        let cases: [(u16, &str, String); 9] = [
            (
                200,
                "application/json",
                json!({"errno": -1, "errmsg": echo}).to_string(),
            ),
            (200, "application/json", json!({"errno": echo}).to_string()),
            (
                200,
                "application/json",
                json!({"code": 1, "msg": echo}).to_string(),
            ),
            (
                401,
                "application/json",
                json!({"errno": -1, "errmsg": echo}).to_string(),
            ),
            (401, "application/json", json!({"error": echo}).to_string()),
            (502, "text/html", format!("<html>{echo}</html>")),
            (200, "text/html", format!("<html>{echo}</html>")),
            (
                200,
                "application/json",
                json!({"access_token": CANARY_ACCESS, "expires_in": "soon"}).to_string(),
            ),
            (
                200,
                "application/json",
                json!({"access_token": 7, "note": echo}).to_string(),
            ),
        ];
        for (status, content_type, body) in cases {
            let server = MockServer::start_async().await;
            answer(
                &server,
                POST,
                CLIENT_TOKEN_PATH,
                status,
                content_type,
                &body,
            )
            .await;
            let source = source_with(&server, api_token.clone(), TokenLevel::Client);
            let err = source.fetch(&cx()).await.unwrap_err();
            assert_no_canary("error Display", &err.to_string());
            assert_no_canary("error Debug", &format!("{err:?}"));
        }
    }
}
