//! The password grant against a mock Auth0: the documented request and answers, the form and
//! password-realm variants, renewal with the refresh token, the documented errors and
//! unusable answers.

mod common;

use adauth_core::secrecy::ExposeSecret;
use adauth_core::{ErrorKind, TokenSource};
use adauth_mediamath::{BodyEncoding, PASSWORD_REALM_GRANT, TOKEN_PATH};
use common::*;
use httpmock::prelude::*;
use serde_json::{Value, json};

#[tokio::test]
async fn sends_the_documented_request_and_reads_the_documented_answer() {
    // Everything the mock expects comes from the sample on MediaMath's page.
    let sample: Value = serde_json::from_str(DOCS_PASSWORD_REQUEST).unwrap();
    let documented_url = url::Url::parse(sample["url"].as_str().unwrap()).unwrap();
    assert_eq!(
        documented_url.as_str(),
        format!("{}oauth/token", adauth_mediamath::PAGE_AUTH_URL)
    );
    assert_eq!(sample["method"], "post");
    let body: Value = serde_json::from_str(sample["body"].as_str().unwrap()).unwrap();
    let content_type = sample["headers"]["Content-Type"].as_str().unwrap();

    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(documented_url.path())
                .header("content-type", content_type)
                .json_body(body);
            then.status(200)
                .header("content-type", JSON)
                .body(PASSWORD_RESPONSE);
        })
        .await;

    let token = source(credentials(&server)).fetch(&cx()).await.unwrap();

    mock.assert_async().await;
    adauth_testkit::assert_token(&token, PASSWORD_ACCESS_TOKEN, "Bearer", t0(), secs(86400));
    assert!(token.refresh_token().is_none());
    assert!(token.secret_extra("adama_session").is_none());
}

#[tokio::test]
async fn the_scope_and_audience_are_sent_as_configured() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH).json_body(json!({
                "grant_type": "password",
                "username": USERNAME,
                "password": PASSWORD,
                "audience": "https://api.example/",
                "scope": "manage:services offline_access",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }));
            then.status(200)
                .header("content-type", JSON)
                .body(PASSWORD_RESPONSE);
        })
        .await;
    let builder = credentials(&server)
        .audience("https://api.example/")
        .scope("manage:services offline_access");
    source(builder).fetch(&cx()).await.unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn the_form_option_sends_the_same_fields_form_encoded() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", FORM)
                .body(
                    "grant_type=password&username=USERNAME&password=PASSWORD\
                     &audience=https%3A%2F%2Fapi.mediamath.com%2F&scope=\
                     &client_id=YOUR_CLIENT_ID&client_secret=YOUR_CLIENT_SECRET",
                );
            then.status(200)
                .header("content-type", JSON)
                .body(PASSWORD_RESPONSE);
        })
        .await;
    let builder = credentials(&server).encoding(BodyEncoding::Form);
    let token = source(builder).fetch(&cx()).await.unwrap();
    mock.assert_async().await;
    assert_eq!(token.access_token().expose_secret(), PASSWORD_ACCESS_TOKEN);
}

#[tokio::test]
async fn the_realm_option_sends_the_password_realm_grant() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", JSON)
                .json_body(json!({
                    "grant_type": "http://auth0.com/oauth/grant-type/password-realm",
                    "username": USERNAME,
                    "password": PASSWORD,
                    "audience": "https://api.mediamath.com/",
                    "scope": "",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "realm": "T1DB-Production",
                }));
            then.status(200)
                .header("content-type", JSON)
                .body(PASSWORD_RESPONSE);
        })
        .await;
    assert_eq!(
        PASSWORD_REALM_GRANT,
        "http://auth0.com/oauth/grant-type/password-realm"
    );
    let builder = credentials(&server).realm(adauth_mediamath::T1_PRODUCTION_REALM);
    source(builder).fetch(&cx()).await.unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn the_offline_access_answer_keeps_its_refresh_token() {
    let server = MockServer::start_async().await;
    answer(&server, POST, TOKEN_PATH, 200, JSON, OFFLINE_RESPONSE).await;
    let token = source(credentials(&server).scope("offline_access"))
        .fetch(&cx())
        .await
        .unwrap();
    assert_eq!(token.access_token().expose_secret(), OFFLINE_ACCESS_TOKEN);
    assert_eq!(
        token.refresh_token().map(|t| t.expose_secret()),
        Some(REFRESH_TOKEN)
    );
    // No `expires_in` and not a JWT, fetched with a bare context: the core fallback. A cache
    // assumes MediaMath's documented day instead.
    assert_eq!(token.expires_at(), t0() + secs(300));
}

#[tokio::test]
async fn a_refresh_sends_the_documented_form_and_reads_the_documented_answer() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", FORM)
                .body(REFRESH_FORM);
            then.status(200)
                .header("content-type", JSON)
                .body(REFRESH_RESPONSE);
        })
        .await;
    let token = source(credentials(&server))
        .refresh(&cx(), &REFRESH_TOKEN.into())
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(token.access_token().expose_secret(), REFRESHED_ACCESS_TOKEN);
    assert_eq!(token.expires_at(), t0() + secs(86400));
    assert_eq!(token.scope(), Some("openid offline_access"));
    assert_eq!(token.token_type(), "Bearer");
    assert_eq!(
        token.secret_extra("id_token").map(|t| t.expose_secret()),
        Some("eyJ...0NE")
    );
    // No new refresh token in the answer: the cache keeps the previous one (next test).
    assert!(token.refresh_token().is_none());
}

#[tokio::test]
async fn the_cache_renews_with_the_refresh_token_not_the_password() {
    let server = MockServer::start_async().await;
    let password = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", JSON)
                .json_body_includes(r#"{"grant_type":"password","scope":"offline_access"}"#);
            then.status(200)
                .header("content-type", JSON)
                .body(OFFLINE_RESPONSE);
        })
        .await;
    let refresh = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", FORM)
                .body(REFRESH_FORM);
            then.status(200)
                .header("content-type", JSON)
                .body(REFRESH_RESPONSE);
        })
        .await;
    let (cache, clock) = cache_on(source(credentials(&server).scope("offline_access")));

    let first = cache.token().await.unwrap();
    assert_eq!(first.access_token().expose_secret(), OFFLINE_ACCESS_TOKEN);

    // No `expires_in`: the documented day is assumed (issue 11, item 7).
    clock.advance(secs(86_401));
    let second = cache.token().await.unwrap();
    assert_eq!(
        second.access_token().expose_secret(),
        REFRESHED_ACCESS_TOKEN
    );
    assert_eq!(second.issued_at(), t0() + secs(86_401));
    // The answer had no refresh token: the previous one is kept...
    assert_eq!(
        second.refresh_token().map(|t| t.expose_secret()),
        Some(REFRESH_TOKEN)
    );
    assert_eq!(password.calls_async().await, 1);
    assert_eq!(refresh.calls_async().await, 1);

    // ... and used again for the next renewal.
    clock.advance(secs(86400));
    cache.token().await.unwrap();
    assert_eq!(password.calls_async().await, 1);
    assert_eq!(refresh.calls_async().await, 2);
}

#[tokio::test]
async fn a_refused_refresh_token_falls_back_to_the_password() {
    let server = MockServer::start_async().await;
    let password = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", JSON);
            then.status(200)
                .header("content-type", JSON)
                .body(OFFLINE_RESPONSE);
        })
        .await;
    let refresh = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH).header("content-type", FORM);
            then.status(403).header("content-type", JSON).body(
                r#"{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}"#,
            );
        })
        .await;
    let (cache, clock) = cache_on(source(credentials(&server).scope("offline_access")));
    cache.token().await.unwrap();
    clock.advance(secs(86_401));
    let token = cache.token().await.unwrap();
    assert_eq!(token.issued_at(), t0() + secs(86_401));
    assert_eq!(refresh.calls_async().await, 1);
    assert_eq!(password.calls_async().await, 2);
}

#[tokio::test]
async fn the_documented_errors_keep_auth0s_code_and_description() {
    let cases = [
        (
            403,
            r#"{"error":"invalid_grant","error_description":"Wrong email or password."}"#,
            ErrorKind::CredentialsRejected,
            "invalid_grant",
            Some("Wrong email or password."),
        ),
        (
            401,
            r#"{"error":"access_denied","error_description":"Unauthorized"}"#,
            ErrorKind::CredentialsRejected,
            "access_denied",
            Some("Unauthorized"),
        ),
        (
            403,
            r#"{"error":"unauthorized_client","error_description":"Grant type 'password' not allowed for the client."}"#,
            ErrorKind::CredentialsRejected,
            "unauthorized_client",
            Some("Grant type 'password' not allowed for the client."),
        ),
        (
            429,
            r#"{"error":"too_many_requests","error_description":"Global limit has been reached"}"#,
            ErrorKind::RateLimited,
            "too_many_requests",
            Some("Global limit has been reached"),
        ),
        // Auth0's code decides, whatever the status.
        (
            400,
            r#"{"error":"too_many_requests","error_description":"Too many logins"}"#,
            ErrorKind::RateLimited,
            "too_many_requests",
            Some("Too many logins"),
        ),
        // Other codes are kept verbatim, with the core classification.
        (
            400,
            r#"{"error":"invalid_request","error_description":"Missing required parameter: username"}"#,
            ErrorKind::RequestRejected,
            "invalid_request",
            Some("Missing required parameter: username"),
        ),
        (
            403,
            r#"{"error":"mfa_required","error_description":"Multifactor authentication required"}"#,
            ErrorKind::CredentialsRejected,
            "mfa_required",
            Some("Multifactor authentication required"),
        ),
        (
            500,
            r#"{"error":"server_error"}"#,
            ErrorKind::ProviderUnavailable,
            "server_error",
            None,
        ),
    ];
    for (status, body, kind, code, description) in cases {
        let server = MockServer::start_async().await;
        let mock = answer(&server, POST, TOKEN_PATH, status, JSON, body).await;
        let err = source(credentials(&server)).fetch(&cx()).await.unwrap_err();
        assert_provider_error(&err, kind, status, code, description);
        assert_eq!(mock.calls_async().await, 1);
    }
}

#[tokio::test]
async fn unusable_answers_are_clear_errors() {
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let server = MockServer::start_async().await;
    answer(&server, POST, TOKEN_PATH, 502, "text/html", html).await;
    let err = source(credentials(&server)).fetch(&cx()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable, "{err}");
    assert!(err.to_string().contains("502 Bad Gateway"), "{err}");

    let cases: [(&str, &str, &str); 3] = [
        (
            "text/html",
            "<html>Welcome</html>",
            "expected a JSON body, got \"text/html\"",
        ),
        (JSON, r#"{"access_token": "eyJ0eX"#, "truncated"),
        (
            JSON,
            r#"{"expires_in":86400,"token_type":"Bearer"}"#,
            "access_token",
        ),
    ];
    for (content_type, body, mentions) in cases {
        let server = MockServer::start_async().await;
        answer(&server, POST, TOKEN_PATH, 200, content_type, body).await;
        let err = source(credentials(&server)).fetch(&cx()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedResponse, "{err}");
        assert!(
            err.to_string().contains(mentions),
            "{err} lacks {mentions:?}"
        );
    }
}
