//! The refresh-token exchange (`POST /v1/users/token`) against a mock AdGem host: the
//! documented request and answer, the documented errors, unusable answers, both hosts, the
//! cache, and secret hygiene.

mod common;

use adauth_adgem::{
    AdGemApi, AdGemSource, Credentials, USER_TOKEN_PATH, UserCredentials, UserTokenSource,
};
use adauth_core::secrecy::ExposeSecret;
use adauth_core::{Error, ErrorKind, Token, TokenCache, TokenSource};
use adauth_testkit::mock::expect;
use common::{answer, assert_error, assert_hidden, cx, no_retries, secs, t0};
use httpmock::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

/// The request body of AdGem's example, `-d "grant_type=refresh_token&refresh_token=<your_refresh_token>"`,
/// with a plain token in place of the placeholder.
const REFRESH_TOKEN: &str = "rt-0123456789abcdef";
const FORM_BODY: &str = "grant_type=refresh_token&refresh_token=rt-0123456789abcdef";

/// The JWT in [`SUCCESS_BODY`].
const SAMPLE_JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl";

/// The documented `201 Created` response (AdGem's Offer API authentication page), byte for
/// byte but for the placeholder `<access_token>`, written here as the JWT it stands for (`<`
/// and `>` are outside RFC 6750's `b64token`).
const SUCCESS_BODY: &str = r#"{
  "message": "Authorized",
  "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl",
  "expires_in": 3600
}"#;

// The documentation gives the error shapes but no example bodies; these follow the shapes
// (401/403 `{"message"}`, 415 `{"error"}`, 422 `{"message","errors":{"refresh_token":[...]}}`)
// with the wording of the framework AdGem's API answers in.
const UNAUTHORIZED_BODY: &str = r#"{"message":"Unauthenticated."}"#;
const FORBIDDEN_BODY: &str = r#"{"message":"This refresh token has been revoked."}"#;
const UNSUPPORTED_MEDIA_TYPE_BODY: &str = r#"{"error":"Unsupported Media Type"}"#;
const INVALID_TOKEN_BODY: &str = r#"{"message":"The selected refresh token is invalid.","errors":{"refresh_token":["The selected refresh token is invalid."]}}"#;
const INVALID_REQUEST_BODY: &str = r#"{"message":"The grant type field is required. (and 1 more error)","errors":{"grant_type":["The grant type field is required."],"refresh_token":["The refresh token field is required.","The refresh token must be a string."]}}"#;

const CANARY_REFRESH: &str = "CANARY-REFRESH|123/456+789=";
const CANARY_ACCESS: &str = "CANARY-ACCESS-456";

fn source_at(base_url: &str, refresh_token: &str) -> UserTokenSource {
    let credentials = UserCredentials::builder()
        .refresh_token(refresh_token.to_owned())
        .base_url(base_url)
        .build()
        .unwrap();
    UserTokenSource::with_http(credentials, no_retries()).unwrap()
}

fn source(server: &MockServer) -> UserTokenSource {
    source_at(&server.base_url(), REFRESH_TOKEN)
}

async fn fetch_answer(status: u16, content_type: &str, body: &str) -> Result<Token, Error> {
    let server = MockServer::start_async().await;
    answer(&server, USER_TOKEN_PATH, status, content_type, body).await;
    source(&server).fetch(&cx()).await
}

#[tokio::test]
async fn sends_the_documented_request_and_reads_the_documented_answer() {
    let server = MockServer::start_async().await;
    let mock = expect(&server, 201, SUCCESS_BODY, |when| {
        when.method(POST)
            .path("/v1/users/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .header_missing("authorization")
            .body(FORM_BODY)
    })
    .await;

    let token = source(&server).fetch(&cx()).await.unwrap();

    mock.assert_async().await;
    adauth_testkit::assert_token(&token, SAMPLE_JWT, "Bearer", t0(), secs(3600));
    assert!(token.refresh_token().is_none());
}

#[tokio::test]
async fn the_refresh_token_is_form_encoded() {
    // Tokens of the `id|secret` kind and base64 characters must reach AdGem intact.
    let server = MockServer::start_async().await;
    let raw = "42|Ab+c/d=e f";
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(USER_TOKEN_PATH)
                .body("grant_type=refresh_token&refresh_token=42%7CAb%2Bc%2Fd%3De+f")
                .form_urlencoded_tuple("refresh_token", raw);
            then.status(201)
                .header("content-type", "application/json")
                .body(SUCCESS_BODY);
        })
        .await;
    source_at(&server.base_url(), raw)
        .fetch(&cx())
        .await
        .unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn any_2xx_answer_is_accepted() {
    let token = fetch_answer(200, "application/json", SUCCESS_BODY)
        .await
        .unwrap();
    assert_eq!(token.access_token().expose_secret(), SAMPLE_JWT);
    assert_eq!(token.expires_at(), t0() + secs(3600));

    let token = fetch_answer(
        200,
        "application/json; charset=utf-8",
        r#"{"access_token":"a1","token_type":"bearer","expires_in":"1800"}"#,
    )
    .await
    .unwrap();
    assert_eq!(token.token_type(), "bearer");
    assert_eq!(token.expires_at(), t0() + secs(1800));
}

#[tokio::test]
async fn documented_errors_become_the_right_kind_with_the_providers_words() {
    let cases: [(u16, &str, ErrorKind, Option<&str>, &str); 5] = [
        (
            401,
            UNAUTHORIZED_BODY,
            ErrorKind::CredentialsRejected,
            None,
            "Unauthenticated.",
        ),
        (
            403,
            FORBIDDEN_BODY,
            ErrorKind::CredentialsRejected,
            None,
            "This refresh token has been revoked.",
        ),
        (
            415,
            UNSUPPORTED_MEDIA_TYPE_BODY,
            ErrorKind::RequestRejected,
            Some("Unsupported Media Type"),
            "",
        ),
        (
            422,
            INVALID_TOKEN_BODY,
            ErrorKind::CredentialsRejected,
            None,
            "The selected refresh token is invalid. \
             (refresh_token: The selected refresh token is invalid.)",
        ),
        (
            422,
            INVALID_REQUEST_BODY,
            ErrorKind::RequestRejected,
            None,
            "The grant type field is required. (and 1 more error) \
             (grant_type: The grant type field is required.; \
             refresh_token: The refresh token field is required. The refresh token must be a string.)",
        ),
    ];
    for (status, body, kind, code, description) in cases {
        let err = fetch_answer(status, "application/json", body)
            .await
            .unwrap_err();
        assert_eq!(err.provider(), "adgem");
        assert_eq!(err.status(), StatusCode::from_u16(status).ok(), "{err}");
        assert_eq!(err.code(), code, "{err}");
        let description = (!description.is_empty()).then_some(description);
        assert_eq!(err.description(), description, "{err}");
        let http = format!("HTTP {status}");
        let mut parts = vec![http.as_str()];
        parts.extend(code);
        parts.extend(description);
        assert_error(&err, kind, &parts);
        assert!(!err.is_retryable(), "{err}");
    }
}

#[tokio::test]
async fn a_422_without_field_errors_keeps_its_message() {
    let err = fetch_answer(
        422,
        "application/json",
        r#"{"message":"The given data was invalid.","errors":{}}"#,
    )
    .await
    .unwrap_err();
    assert_eq!(err.description(), Some("The given data was invalid."));
    assert_error(
        &err,
        ErrorKind::RequestRejected,
        &["HTTP 422", "The given data was invalid."],
    );

    // A single message instead of a list is still shown.
    let err = fetch_answer(
        422,
        "application/json",
        r#"{"message":"Invalid.","errors":{"refresh_token":"The refresh token is malformed."}}"#,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.description(),
        Some("Invalid. (refresh_token: The refresh token is malformed.)")
    );
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected);
}

#[tokio::test]
async fn unusable_answers_are_clear_errors() {
    let cases = [
        (
            502,
            "text/html",
            "<html><h1>502 Bad Gateway</h1></html>",
            ErrorKind::ProviderUnavailable,
            "502 Bad Gateway",
        ),
        (
            201,
            "text/html",
            "<html>Welcome</html>",
            ErrorKind::UnexpectedResponse,
            "expected a JSON body, got \"text/html\"",
        ),
        (
            201,
            "application/json",
            r#"{"message":"Authorized","access_token":"eyJhbGciOi"#,
            ErrorKind::UnexpectedResponse,
            "truncated",
        ),
        (
            201,
            "application/json",
            r#"{"message":"Authorized","expires_in":3600}"#,
            ErrorKind::UnexpectedResponse,
            "missing field `access_token`",
        ),
    ];
    for (status, content_type, body, kind, mentions) in cases {
        let err = fetch_answer(status, content_type, body).await.unwrap_err();
        assert_error(&err, kind, &[mentions]);
    }
    // JSON is read whatever its label (issue 11, item 6).
    assert!(fetch_answer(201, "text/plain", SUCCESS_BODY).await.is_ok());
}

#[tokio::test]
async fn both_hosts_and_an_override() {
    let token_url = |credentials: UserCredentials| {
        UserTokenSource::new(credentials)
            .unwrap()
            .token_url()
            .to_string()
    };
    let builder = || UserCredentials::builder().refresh_token("t");
    assert_eq!(
        token_url(UserCredentials::new("t").unwrap()),
        "https://targeted-api.adgem.com/v1/users/token"
    );
    assert_eq!(
        token_url(builder().api(AdGemApi::Targeted).build().unwrap()),
        "https://targeted-api.adgem.com/v1/users/token"
    );
    assert_eq!(
        token_url(builder().api(AdGemApi::Offers).build().unwrap()),
        "https://offer-api.adgem.com/v1/users/token"
    );
    assert_eq!(
        token_url(
            builder()
                .api(AdGemApi::Offers)
                .base_url("https://proxy.example/adgem")
                .build()
                .unwrap()
        ),
        "https://proxy.example/adgem/v1/users/token"
    );

    // The application flow takes the same choice.
    let apps = |api| {
        let credentials = Credentials::builder()
            .pub_id(1)
            .app_id(2)
            .client_id("id")
            .client_secret("s")
            .api(api)
            .build()
            .unwrap();
        AdGemSource::new(credentials)
            .unwrap()
            .token_url()
            .to_string()
    };
    assert_eq!(
        apps(AdGemApi::Targeted),
        "https://targeted-api.adgem.com/v1/apps/tokens"
    );
    assert_eq!(
        apps(AdGemApi::Offers),
        "https://offer-api.adgem.com/v1/apps/tokens"
    );
}

#[test]
fn the_builder_requires_a_refresh_token_and_a_safe_host() {
    // Without a refresh token at all, the builder does not compile.
    for blank in ["", "  "] {
        let err = UserCredentials::new(blank).unwrap_err();
        assert_error(&err, ErrorKind::Configuration, &["refresh_token"]);
    }
    let err = UserCredentials::builder()
        .refresh_token("t")
        .base_url("http://offer-api.adgem.com")
        .build()
        .unwrap_err();
    assert_error(&err, ErrorKind::Configuration, &["https"]);
}

#[tokio::test]
async fn the_cache_exchanges_the_credential_again_after_an_invalidation() {
    let server = MockServer::start_async().await;
    let mock = expect(&server, 201, SUCCESS_BODY, |when| {
        when.method(POST).path(USER_TOKEN_PATH).body(FORM_BODY)
    })
    .await;
    let cache = TokenCache::new(source(&server));
    let first = cache.token().await.unwrap();
    assert!(first.refresh_token().is_none());
    assert!(first.same_access_token(&cache.token().await.unwrap()));
    assert_eq!(mock.calls_async().await, 1);

    assert!(cache.invalidate(&first));
    cache.token().await.unwrap();
    assert_eq!(mock.calls_async().await, 2);
}

fn assert_no_canary(what: &str, text: &str) {
    // Neither canary, nor any piece of one (such as the percent-encoded refresh token).
    assert_hidden(what, text, &["CANARY"]);
}

#[tokio::test]
async fn the_refresh_token_and_access_tokens_never_show() {
    let server = MockServer::start_async().await;
    answer(
        &server,
        USER_TOKEN_PATH,
        201,
        "application/json",
        json!({"message": "Authorized", "access_token": CANARY_ACCESS, "expires_in": 3600})
            .to_string(),
    )
    .await;
    let builder = UserCredentials::builder()
        .refresh_token(CANARY_REFRESH)
        .base_url(server.base_url());
    assert_no_canary("builder", &format!("{builder:?}"));
    let credentials = builder.build().unwrap();
    assert_no_canary("credentials", &format!("{credentials:?}"));
    let source = UserTokenSource::with_http(credentials, no_retries()).unwrap();
    adauth_testkit::wire::assert_source_hides(source, CANARY_ACCESS, &["CANARY"]).await;
}

#[tokio::test]
async fn errors_never_repeat_the_refresh_token_or_an_access_token() {
    let encoded: String = url_encode(CANARY_REFRESH);
    let message = json!({ "message": format!("refresh token {CANARY_REFRESH} is revoked") });
    let field = json!({
        "message": "Invalid.",
        "errors": { "refresh_token": [format!("{CANARY_REFRESH} is invalid")] },
    });
    let code = json!({ "error": CANARY_REFRESH });
    let echo_form = format!("bad request: grant_type=refresh_token&refresh_token={encoded}");
    let echo_encoded = json!({ "message": format!("no such token {encoded}") });
    let echo_html = format!("<html><p>bad token {CANARY_REFRESH}</p></html>");
    let bad_expiry = json!({ "access_token": CANARY_ACCESS, "expires_in": "soon" });
    let bad_shape = json!({ "access_token": CANARY_ACCESS, "token_type": 7 });
    let cases: [(u16, &str, String); 9] = [
        (401, "application/json", message.to_string()),
        (403, "application/json", message.to_string()),
        (422, "application/json", field.to_string()),
        (415, "application/json", code.to_string()),
        (400, "text/plain", echo_form),
        (401, "application/json", echo_encoded.to_string()),
        (502, "text/html", echo_html),
        (201, "application/json", bad_expiry.to_string()),
        (201, "application/json", bad_shape.to_string()),
    ];
    for (status, content_type, body) in cases {
        let server = MockServer::start_async().await;
        answer(&server, USER_TOKEN_PATH, status, content_type, &body).await;
        let err = source_at(&server.base_url(), CANARY_REFRESH)
            .fetch(&cx())
            .await
            .unwrap_err();
        assert_no_canary("error Display", &err.to_string());
        assert_no_canary("error Debug", &format!("{err:?}"));
    }
}

/// Form encoding, written out here so the test does not trust the code under test.
fn url_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
