//! Secret hygiene: no password, client secret, refresh token, session id, access token,
//! authorization code or PKCE verifier in any `Debug` output or error text, even when the
//! server echoes them back.

mod common;

use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{Error, TokenSource};
use adauth_mediamath::{
    AppCredentials, AuthorizationCodeFlow, Credentials, MediaMathSource, SESSION_PATH, TOKEN_PATH,
};
use common::*;
use httpmock::prelude::*;
use serde_json::json;

const PASSWORD: &str = "CANARY-PASSWORD-1";
const CLIENT_SECRET: &str = "CANARY-CLIENT-SECRET-2";
const ACCESS_TOKEN: &str = "CANARY-ACCESS-3";
const REFRESH_TOKEN: &str = "CANARY-REFRESH-4";
const SESSION_ID: &str = "CANARY-SESSION-5";
const CODE: &str = "CANARY-CODE-6";
const ALL: [&str; 6] = [
    PASSWORD,
    CLIENT_SECRET,
    ACCESS_TOKEN,
    REFRESH_TOKEN,
    SESSION_ID,
    CODE,
];

fn assert_clean(what: &str, text: &str) {
    for canary in ALL {
        assert!(!text.contains(canary), "{what} shows {canary}: {text}");
    }
    assert!(!text.contains("CANARY"), "{what} shows a canary: {text}");
}

fn assert_clean_error(what: &str, err: &Error) {
    assert_clean(&format!("{what} (Display)"), &err.to_string());
    assert_clean(&format!("{what} (Debug)"), &format!("{err:?}"));
}

fn builder(
    server: &MockServer,
) -> adauth_mediamath::CredentialsBuilder<impl adauth_mediamath::credentials_builder::IsComplete> {
    Credentials::builder()
        .client_id("client-id")
        .client_secret(CLIENT_SECRET)
        .username("user@example.com")
        .password(PASSWORD)
        .scope("offline_access")
        .session(true)
        .auth_url(server.base_url())
        .api_url(server.base_url())
}

fn issued() -> String {
    json!({
        "access_token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "expires_in": 86400,
        "token_type": "Bearer",
    })
    .to_string()
}

#[tokio::test]
async fn nothing_secret_shows_in_debug_output() {
    let server = MockServer::start_async().await;
    answer(&server, POST, TOKEN_PATH, 200, JSON, issued()).await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(SESSION_PATH);
            then.status(200)
                .header("content-type", JSON)
                .header("set-cookie", format!("adama_session={SESSION_ID}; Path=/"))
                .body("{}");
        })
        .await;

    let b = builder(&server);
    assert_clean("builder", &format!("{b:?}"));
    let credentials = b.build().unwrap();
    assert_clean("credentials", &format!("{credentials:?}"));
    let source = MediaMathSource::with_http(credentials, no_retries()).unwrap();
    assert_clean("source", &format!("{source:?}"));

    let token = source.fetch(&cx()).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), ACCESS_TOKEN);
    assert_eq!(
        token
            .secret_extra("adama_session")
            .map(|s| s.expose_secret()),
        Some(SESSION_ID)
    );
    assert_clean("token", &format!("{token:?}"));

    let (cache, _clock) = cache_on(source);
    let cached = cache.token().await.unwrap();
    assert_clean("cache", &format!("{cache:?}"));
    assert_clean("cached token", &format!("{cached:?}"));

    let request = adauth_core::reqwest::Client::new().get(server.url("/x"));
    let request = cache.source().authorize(request, &cached).unwrap();
    assert_clean("authorized request", &format!("{request:?}"));

    let app = AppCredentials::builder()
        .client_id("client-id")
        .client_secret(CLIENT_SECRET)
        .redirect_uri("https://app.example/cb")
        .auth_url(server.base_url());
    assert_clean("app builder", &format!("{app:?}"));
    let flow = AuthorizationCodeFlow::with_http(app.build().unwrap(), no_retries()).unwrap();
    assert_clean("flow", &format!("{flow:?}"));
    let pending = flow.start().unwrap();
    let debug = format!("{pending:?}");
    assert!(!debug.contains(pending.state().expose_secret()), "{debug}");
    assert!(
        !debug.contains(pending.code_verifier().unwrap().expose_secret()),
        "{debug}"
    );
    let authorized = flow.source(token);
    assert_clean("authorized source", &format!("{authorized:?}"));
}

/// Every token-endpoint failure, with bodies that echo what was sent.
#[tokio::test]
async fn token_endpoint_errors_never_repeat_a_secret() {
    let password_echo = format!("password {PASSWORD} secret {CLIENT_SECRET}");
    let refresh_echo = format!("refresh token {REFRESH_TOKEN} secret {CLIENT_SECRET}");
    for echo in [password_echo, refresh_echo] {
        let echo_description =
            json!({"error": "invalid_grant", "error_description": echo}).to_string();
        let echo_code = json!({ "error": echo }).to_string();
        let echo_html = format!("<html><p>{echo}</p></html>");
        let bad_expiry = json!({"access_token": ACCESS_TOKEN, "expires_in": "soon"}).to_string();
        let bad_shape = json!({"access_token": ACCESS_TOKEN, "token_type": 7}).to_string();
        let cases: [(u16, &str, &str); 6] = [
            (403, JSON, &echo_description),
            (403, JSON, &echo_code),
            (502, "text/html", &echo_html),
            (200, "text/html", &echo_html),
            (200, JSON, &bad_expiry),
            (200, JSON, &bad_shape),
        ];
        for (status, content_type, body) in cases {
            let server = MockServer::start_async().await;
            answer(&server, POST, TOKEN_PATH, status, content_type, body).await;
            let source =
                MediaMathSource::with_http(builder(&server).build().unwrap(), no_retries())
                    .unwrap();
            // The password grant cannot know a refresh token; a refresh scrubs the password
            // as well as what it sent.
            if echo.contains(PASSWORD) {
                let err = source.fetch(&cx()).await.unwrap_err();
                assert_clean_error("password grant error", &err);
            }
            let err = source
                .refresh(&cx(), &SecretString::from(REFRESH_TOKEN))
                .await
                .unwrap_err();
            assert_clean_error("refresh error", &err);
        }
    }
}

#[tokio::test]
async fn session_errors_never_repeat_the_token_or_the_session_id() {
    let echo = format!("token {ACCESS_TOKEN} session {SESSION_ID}");
    let cookie = Some(format!("adama_session={SESSION_ID}; Path=/"));
    let cases: [(u16, Option<String>, String); 3] = [
        (
            401,
            cookie.clone(),
            json!({"errors": [{"message": echo}], "meta": {"status": "auth_required"}}).to_string(),
        ),
        (
            500,
            cookie,
            json!({"error": ACCESS_TOKEN, "message": echo}).to_string(),
        ),
        (
            200,
            None,
            json!({"data": {"session": {"sessionid": format!("{SESSION_ID};bad")}}, "meta": {"status": "ok"}})
                .to_string(),
        ),
    ];
    for (status, set_cookie, body) in cases {
        let server = MockServer::start_async().await;
        answer(&server, POST, TOKEN_PATH, 200, JSON, issued()).await;
        server
            .mock_async(|when, then| {
                when.method(GET).path(SESSION_PATH);
                let then = then.status(status).header("content-type", JSON);
                let then = match set_cookie {
                    Some(cookie) => then.header("set-cookie", cookie),
                    None => then,
                };
                then.body(body);
            })
            .await;
        let source =
            MediaMathSource::with_http(builder(&server).build().unwrap(), no_retries()).unwrap();
        let err = source.fetch(&cx()).await.unwrap_err();
        assert_clean_error("session error", &err);
    }
}

#[tokio::test]
async fn code_exchange_errors_never_repeat_the_code_or_the_verifier() {
    let server = MockServer::start_async().await;
    let app = AppCredentials::builder()
        .client_id("client-id")
        .client_secret(CLIENT_SECRET)
        .redirect_uri("https://app.example/cb")
        .auth_url(server.base_url())
        .build()
        .unwrap();
    let flow = AuthorizationCodeFlow::with_http(app, no_retries()).unwrap();
    let pending = flow.start().unwrap();
    let verifier = pending.code_verifier().unwrap().expose_secret().to_owned();
    let body = json!({
        "error": "invalid_grant",
        "error_description": format!("code {CODE} verifier {verifier} secret {CLIENT_SECRET}"),
    })
    .to_string();
    answer(&server, POST, TOKEN_PATH, 403, JSON, body).await;
    let url = format!(
        "https://app.example/cb?code={CODE}&state={}",
        pending.state().expose_secret()
    );
    let err = flow
        .exchange_redirect(&cx(), &pending, &url)
        .await
        .unwrap_err();
    assert_clean_error("exchange error", &err);
    assert!(!err.to_string().contains(&verifier), "{err}");
    assert!(!format!("{err:?}").contains(&verifier), "{err:?}");

    // A malformed redirect URL is not quoted either.
    let err = flow
        .exchange_redirect(&cx(), &pending, &format!("not a url {CODE}"))
        .await
        .unwrap_err();
    assert_clean_error("bad redirect error", &err);
}
