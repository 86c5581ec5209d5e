//! Account-scoped use: the accounts list under the client, read with a token the caller
//! already holds, and the headers `authorize` puts on API calls.

mod support;

use std::time::Duration;

use adauth_core::secrecy::SecretString;
use adauth_core::{ErrorKind, Token, TokenCache, TokenSource};
use adauth_mediago::{ACCOUNTS_PATH, CLIENT_TOKEN_PATH, Credentials, MediagoSource, TokenLevel};
use httpmock::prelude::*;
use reqwest::StatusCode;
use serde_json::json;
use support::*;

fn token(access_token: &str) -> Token {
    Token::new(
        SecretString::from(access_token.to_owned()),
        t0(),
        t0() + Duration::from_secs(3600),
    )
}

fn source_for_account(
    base_url: &str,
    account_id: Option<&str>,
    header: Option<&str>,
) -> MediagoSource {
    let credentials = Credentials::builder()
        .api_token(doc_token())
        .base_url(base_url)
        .maybe_account_id(account_id)
        .maybe_account_header(header)
        .build()
        .unwrap();
    MediagoSource::with_http(credentials, no_retries()).unwrap()
}

#[tokio::test]
async fn lists_the_accounts_with_the_bearer_token_only() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/data/v1/client/accounts")
                .header("authorization", format!("Bearer {DOC_ACCESS_TOKEN}"))
                .header_missing("account-id");
            then.status(200)
                .header("content-type", "application/json;charset=UTF-8")
                .body(
                    r#"{"data":{"accounts":[
                        {"account_id":1001,"account_name":"Brand A"},
                        {"account_id":"1002","account_name":"Brand B"}]}}"#,
                );
        })
        .await;
    // An account set on the credentials is for API calls, not for the list itself.
    let source = source_for_account(&server.base_url(), Some("1001"), None);
    let accounts = source.accounts(&token(DOC_ACCESS_TOKEN)).await.unwrap();
    mock.assert_async().await;
    let listed: Vec<(&str, &str)> = accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.account_name.as_str()))
        .collect();
    assert_eq!(listed, [("1001", "Brand A"), ("1002", "Brand B")]);
}

#[tokio::test]
async fn an_empty_list_is_empty_and_a_missing_one_is_an_error() {
    for body in [
        r#"{"data":{"accounts":[]}}"#,
        r#"{"data":{"accounts":null}}"#,
    ] {
        let server = MockServer::start_async().await;
        answer(&server, GET, ACCOUNTS_PATH, 200, "application/json", body).await;
        let accounts = source(&server).accounts(&token("access-1")).await.unwrap();
        assert!(accounts.is_empty(), "{body}");
    }
    for body in [
        r#"{"accounts":[]}"#,
        r#"{"data":{"accounts":[{"account_name":"x"}]}}"#,
    ] {
        let server = MockServer::start_async().await;
        answer(&server, GET, ACCOUNTS_PATH, 200, "application/json", body).await;
        let err = source(&server)
            .accounts(&token("access-1"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedResponse, "{body}: {err}");
    }
}

#[tokio::test]
async fn an_errno_in_a_200_answer_is_an_error() {
    let server = MockServer::start_async().await;
    answer(
        &server,
        GET,
        ACCOUNTS_PATH,
        200,
        "application/json",
        r#"{"errno": -1, "errmsg": "access token is invalid"}"#,
    )
    .await;
    let err = source(&server)
        .accounts(&token("access-1"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert_eq!(err.status(), Some(StatusCode::OK));
    assert_eq!(err.code(), Some("-1"));
    assert_eq!(err.description(), Some("access token is invalid"));
    assert_eq!(
        err.to_string(),
        "mediago: credentials rejected: the accounts request was refused \
         (HTTP 200, -1: access token is invalid)"
    );

    let server = MockServer::start_async().await;
    answer(
        &server,
        GET,
        ACCOUNTS_PATH,
        200,
        "application/json",
        r#"{"code": 429, "msg": "qps limit"}"#,
    )
    .await;
    let err = source(&server)
        .accounts(&token("access-1"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert_eq!(
        (err.code(), err.description()),
        (Some("429"), Some("qps limit"))
    );
}

#[tokio::test]
async fn with_a_cache_the_token_is_shared_and_a_refused_one_invalidated() {
    let server = MockServer::start_async().await;
    let token_endpoint = answer(
        &server,
        POST,
        CLIENT_TOKEN_PATH,
        200,
        "application/json",
        DOC_TOKEN_RESPONSE,
    )
    .await;
    let accounts = answer(
        &server,
        GET,
        ACCOUNTS_PATH,
        200,
        "application/json",
        r#"{"data":{"accounts":[{"account_id":7,"account_name":"A"}]}}"#,
    )
    .await;
    let source = source(&server);
    let cache = TokenCache::new(source.clone());
    cache.token().await.unwrap();
    let listed = source.accounts_with_cache(&cache).await.unwrap();
    assert_eq!(listed[0].account_id, "7");
    assert_eq!(token_endpoint.calls_async().await, 1);

    accounts.delete_async().await;
    answer(
        &server,
        GET,
        ACCOUNTS_PATH,
        401,
        "application/json",
        r#"{"errno": -1, "errmsg": "token expired"}"#,
    )
    .await;
    let err = source.accounts_with_cache(&cache).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(
        (err.code(), err.description()),
        (Some("-1"), Some("token expired"))
    );
    // Dropped from the cache, but no second token was fetched on the way.
    assert!(cache.cached().is_none());
    assert_eq!(token_endpoint.calls_async().await, 1);
}

fn header<'a>(request: &'a reqwest::Request, name: &str) -> Vec<&'a str> {
    request
        .headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect()
}

#[test]
fn authorize_adds_the_bearer_token_and_the_account_header() {
    let base = "https://api.mediago.io";
    let client = reqwest::Client::new();
    let url = "https://api.mediago.io/data/v1/report/day/list";
    let token = token("access-1");

    let source = source_for_account(base, Some("12345"), None);
    let request = source
        .authorize(client.get(url), &token)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(header(&request, "authorization"), ["Bearer access-1"]);
    assert!(request.headers()["authorization"].is_sensitive());
    assert_eq!(header(&request, "Account-Id"), ["12345"]);

    let without = source_for_account(base, None, None)
        .authorize(client.get(url), &token)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(header(&without, "authorization"), ["Bearer access-1"]);
    assert!(header(&without, "Account-Id").is_empty());

    let renamed = source_for_account(base, Some("12345"), Some("X-Account-Id"))
        .authorize(client.get(url), &token)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(header(&renamed, "X-Account-Id"), ["12345"]);
    assert!(header(&renamed, "Account-Id").is_empty());

    let other = source
        .authorize_account(client.get(url), &token, "67890")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(header(&other, "authorization"), ["Bearer access-1"]);
    assert_eq!(header(&other, "Account-Id"), ["67890"]);
    let err = source
        .authorize_account(client.get(url), &token, "bad\nid")
        .unwrap_err();
    assert!(err.is_configuration(), "{err}");
}

#[tokio::test]
async fn an_account_scoped_call_reaches_the_api_with_both_headers() {
    let server = MockServer::start_async().await;
    let token_endpoint = answer(
        &server,
        POST,
        CLIENT_TOKEN_PATH,
        200,
        "application/json",
        DOC_TOKEN_RESPONSE,
    )
    .await;
    let report = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/data/v1/report/day/list")
                .header("authorization", format!("Bearer {DOC_ACCESS_TOKEN}"))
                .header("account-id", "12345");
            then.status(200).body("{}");
        })
        .await;
    let cache = TokenCache::new(source_for_account(&server.base_url(), Some("12345"), None));
    let token = cache.token().await.unwrap();
    let request = reqwest::Client::new().get(server.url("/data/v1/report/day/list"));
    let response = cache
        .source()
        .authorize(request, &token)
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    report.assert_async().await;
    assert_eq!(token_endpoint.calls_async().await, 1);
}

const CANARY_ACCESS: &str = "CANARY-ACCESS-a41c";
const CANARY_API_TOKEN: &str = "CANARY-APITOKEN-0e9d";

#[tokio::test]
async fn accounts_errors_never_repeat_a_secret() {
    let echo = format!("token {CANARY_ACCESS} from {CANARY_API_TOKEN} refused");
    let cases: [(u16, &str, String); 5] = [
        (
            200,
            "application/json",
            json!({"errno": -1, "errmsg": echo}).to_string(),
        ),
        (
            200,
            "application/json",
            json!({"code": echo, "msg": echo}).to_string(),
        ),
        (
            401,
            "application/json",
            json!({"message": echo}).to_string(),
        ),
        (502, "text/html", format!("<html>{echo}</html>")),
        (200, "text/plain", echo.clone()),
    ];
    for (status, content_type, body) in cases {
        let server = MockServer::start_async().await;
        answer(&server, GET, ACCOUNTS_PATH, status, content_type, &body).await;
        let api_token = adauth_mediago::ApiToken::encoded(CANARY_API_TOKEN).unwrap();
        let source = source_with(&server, api_token, TokenLevel::Client);
        let err = source.accounts(&token(CANARY_ACCESS)).await.unwrap_err();
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(CANARY_ACCESS), "{text}");
            assert!(!text.contains(CANARY_API_TOKEN), "{text}");
        }
    }
}
