//! The legacy `adama_session`: fetched with every new token, bounding its life, and sent as a
//! cookie beside the bearer token.

mod common;

use adauth_core::reqwest::header::{AUTHORIZATION, COOKIE};
use adauth_core::secrecy::ExposeSecret;
use adauth_core::{ErrorKind, TokenSource};
use adauth_mediamath::{SESSION_COOKIE, SESSION_PATH, TOKEN_PATH};
use common::*;
use httpmock::prelude::*;

/// The session answer of MediaMath's Python SDK fixtures, byte for byte.
const SESSION_BODY: &str = "{
  \"data\": {
    \"session\": {
      \"current_time\": \"2015-08-19T15:05:10\",
      \"sessionid\": \"d24f41277ae4c202dda876676b0006585b20f64f\",
      \"expires\": \"2015-08-20T15:05:10\"
    },
    \"entity_type\": \"user\",
    \"name\": \"user\",
    \"id\": 1
  },
  \"meta\": {
    \"status\": \"ok\"
  }
}";
const SESSION_ID: &str = "d24f41277ae4c202dda876676b0006585b20f64f";

/// Not signed in (SDK fixtures).
const AUTH_REQUIRED: &str = r#"{"meta":{"status":"auth_required"}}"#;
/// The SDK fixture of an authentication error, byte for byte.
const AUTH_ERROR: &str = "{
  \"errors\": [
    {
      \"message\": \"Authentication error\"
    }
  ],
  \"meta\": {
    \"called_on\": \"2016-11-07T13:13:44+0000\",
    \"status\": \"auth_error\"
  }
}";

const BEARER: &str = "Bearer eyJ0eX...KACzrBhNEg";

async fn token_endpoint<'a>(server: &'a MockServer, body: &str) -> httpmock::Mock<'a> {
    answer(server, POST, TOKEN_PATH, 200, JSON, body).await
}

/// The session endpoint as MediaMath serves it: the bearer token in, the cookie out.
async fn session_endpoint<'a>(
    server: &'a MockServer,
    status: u16,
    set_cookie: Option<&str>,
    body: &str,
) -> httpmock::Mock<'a> {
    let set_cookie = set_cookie.map(str::to_owned);
    let body = body.to_owned();
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(SESSION_PATH)
                .header("authorization", BEARER)
                .header("accept", "application/vnd.mediamath.v1+json");
            let then = then.status(status).header("content-type", JSON);
            let then = match set_cookie {
                Some(cookie) => then.header("set-cookie", cookie),
                None => then,
            };
            then.body(body);
        })
        .await
}

fn session_source(server: &MockServer) -> adauth_mediamath::MediaMathSource {
    source(credentials(server).session(true))
}

fn session_of(token: &adauth_core::Token) -> Option<&str> {
    token
        .secret_extra(SESSION_COOKIE)
        .map(|s| s.expose_secret())
}

#[tokio::test]
async fn the_session_is_fetched_with_the_token() {
    let server = MockServer::start_async().await;
    token_endpoint(&server, PASSWORD_RESPONSE).await;
    let session = session_endpoint(
        &server,
        200,
        Some(&format!(
            "adama_session={SESSION_ID}; Path=/; Secure; HttpOnly"
        )),
        SESSION_BODY,
    )
    .await;
    let token = session_source(&server).fetch(&cx()).await.unwrap();
    session.assert_async().await;
    assert_eq!(session_of(&token), Some(SESSION_ID));
    assert_eq!(token.access_token().expose_secret(), PASSWORD_ACCESS_TOKEN);
    // The fixture's session ends a day after the server's `current_time`, with the token.
    assert_eq!(token.expires_at(), t0() + secs(86400));
}

#[tokio::test]
async fn a_shorter_session_ends_the_token_early() {
    let server = MockServer::start_async().await;
    token_endpoint(&server, PASSWORD_RESPONSE).await;
    // An hour left on the server's clock, whatever its time zone.
    let body = SESSION_BODY.replace("2015-08-19T15:05:10", "2015-08-20T14:05:10");
    session_endpoint(&server, 200, None, &body).await;
    let token = session_source(&server).fetch(&cx()).await.unwrap();
    assert_eq!(token.expires_at(), t0() + secs(3600));
}

#[tokio::test]
async fn without_an_expiry_the_session_is_taken_to_last_a_day() {
    let server = MockServer::start_async().await;
    token_endpoint(
        &server,
        r#"{"access_token":"eyJ0eX...KACzrBhNEg","expires_in":172800,"token_type":"Bearer"}"#,
    )
    .await;
    session_endpoint(
        &server,
        200,
        Some("adama_session=abc123"),
        r#"{"data":{"session":{"sessionid":"abc123"}},"meta":{"status":"ok"}}"#,
    )
    .await;
    let token = session_source(&server).fetch(&cx()).await.unwrap();
    assert_eq!(token.expires_at(), t0() + secs(86400));
}

#[tokio::test]
async fn the_body_supplies_the_session_when_no_cookie_is_set() {
    let server = MockServer::start_async().await;
    token_endpoint(&server, PASSWORD_RESPONSE).await;
    session_endpoint(&server, 200, None, SESSION_BODY).await;
    let token = session_source(&server).fetch(&cx()).await.unwrap();
    assert_eq!(session_of(&token), Some(SESSION_ID));
}

#[tokio::test]
async fn the_cookie_wins_over_the_body() {
    let server = MockServer::start_async().await;
    token_endpoint(&server, PASSWORD_RESPONSE).await;
    session_endpoint(
        &server,
        200,
        Some("adama_session=from-cookie; Path=/"),
        SESSION_BODY,
    )
    .await;
    let token = session_source(&server).fetch(&cx()).await.unwrap();
    assert_eq!(session_of(&token), Some("from-cookie"));
}

#[tokio::test]
async fn the_api_gets_both_the_bearer_token_and_the_cookie() {
    let server = MockServer::start_async().await;
    token_endpoint(&server, PASSWORD_RESPONSE).await;
    session_endpoint(
        &server,
        200,
        Some(&format!("adama_session={SESSION_ID}; Path=/")),
        SESSION_BODY,
    )
    .await;
    let api = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2.0/advertisers/1")
                .header("authorization", BEARER)
                .cookie("adama_session", SESSION_ID);
            then.status(200).header("content-type", JSON).body("{}");
        })
        .await;
    let source = session_source(&server);
    let (cache, _clock) = cache_on(source);
    let token = cache.token().await.unwrap();

    let client = adauth_core::reqwest::Client::new();
    let request = client.get(server.url("/api/v2.0/advertisers/1"));
    let request = cache.source().authorize(request, &token).unwrap();
    let built = request.try_clone().unwrap().build().unwrap();
    let cookie = built.headers().get(COOKIE).unwrap();
    assert_eq!(
        cookie.to_str().unwrap(),
        format!("adama_session={SESSION_ID}")
    );
    assert!(cookie.is_sensitive());
    assert!(built.headers().get(AUTHORIZATION).unwrap().is_sensitive());
    // A request with a cookie and an authorization of its own leaves with one of each,
    // adauth's (issue 11, item 12).
    let theirs = client
        .get(server.url("/api/v2.0/advertisers/1"))
        .header(COOKIE, "theirs=1")
        .header(AUTHORIZATION, "Bearer theirs");
    let replaced = cache
        .source()
        .authorize(theirs, &token)
        .unwrap()
        .build()
        .unwrap();
    let cookies: Vec<_> = replaced.headers().get_all(COOKIE).iter().collect();
    assert_eq!(cookies, [format!("adama_session={SESSION_ID}").as_str()]);
    let auth: Vec<_> = replaced.headers().get_all(AUTHORIZATION).iter().collect();
    assert_eq!(auth, [BEARER]);

    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    api.assert_async().await;
}

#[tokio::test]
async fn the_session_is_renewed_with_every_token() {
    let server = MockServer::start_async().await;
    let password = token_endpoint(&server, PASSWORD_RESPONSE).await;
    let session = session_endpoint(&server, 200, Some("adama_session=abc123"), "{}").await;
    let (cache, clock) = cache_on(session_source(&server));
    let first = cache.token().await.unwrap();
    assert_eq!(first.expires_at(), t0() + secs(86400));
    clock.advance(secs(86400));
    let second = cache.token().await.unwrap();
    assert_eq!(second.issued_at(), t0() + secs(86400));
    assert_eq!(session_of(&second), Some("abc123"));
    assert_eq!(password.calls_async().await, 2);
    assert_eq!(session.calls_async().await, 2);
}

#[tokio::test]
async fn without_the_session_option_no_session_is_fetched_or_sent() {
    let server = MockServer::start_async().await;
    token_endpoint(&server, PASSWORD_RESPONSE).await;
    let session = session_endpoint(&server, 200, Some("adama_session=abc123"), "{}").await;
    let source = source(credentials(&server));
    let token = source.fetch(&cx()).await.unwrap();
    assert_eq!(session_of(&token), None);
    let request = adauth_core::reqwest::Client::new().get(server.url("/x"));
    let built = source.authorize(request, &token).unwrap().build().unwrap();
    assert!(built.headers().get(COOKIE).is_none());
    assert_eq!(
        built
            .headers()
            .get(AUTHORIZATION)
            .unwrap()
            .to_str()
            .unwrap(),
        BEARER
    );
    assert_eq!(session.calls_async().await, 0);
}

#[tokio::test]
async fn a_session_source_refuses_a_token_without_a_session() {
    let server = MockServer::start_async().await;
    token_endpoint(&server, PASSWORD_RESPONSE).await;
    let plain = source(credentials(&server)).fetch(&cx()).await.unwrap();
    let request = adauth_core::reqwest::Client::new().get(server.url("/x"));
    let err = session_source(&server)
        .authorize(request, &plain)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
    assert!(err.to_string().contains("adama_session"), "{err}");
}

#[tokio::test]
async fn not_signed_in_is_a_credentials_rejection() {
    for status in [200, 401] {
        let server = MockServer::start_async().await;
        token_endpoint(&server, PASSWORD_RESPONSE).await;
        session_endpoint(&server, status, None, AUTH_REQUIRED).await;
        let err = session_source(&server).fetch(&cx()).await.unwrap_err();
        assert_provider_error(
            &err,
            ErrorKind::CredentialsRejected,
            status,
            "auth_required",
            None,
        );
        assert!(err.to_string().contains("adama_session"), "{err}");
    }
    let server = MockServer::start_async().await;
    token_endpoint(&server, PASSWORD_RESPONSE).await;
    session_endpoint(&server, 401, None, AUTH_ERROR).await;
    let err = session_source(&server).fetch(&cx()).await.unwrap_err();
    assert_provider_error(
        &err,
        ErrorKind::CredentialsRejected,
        401,
        "auth_error",
        Some("Authentication error"),
    );
}

#[tokio::test]
async fn a_session_answer_without_a_session_is_unexpected() {
    let server = MockServer::start_async().await;
    token_endpoint(&server, PASSWORD_RESPONSE).await;
    adauth_testkit::mock::answer(
        &server,
        GET,
        SESSION_PATH,
        200,
        "text/xml",
        "<result><status code=\"ok\"/></result>",
    )
    .await;
    let err = session_source(&server).fetch(&cx()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedResponse, "{err}");
    assert!(err.to_string().contains("no adama_session cookie"), "{err}");
    assert_eq!(err.content_type(), Some("text/xml"));
}

#[tokio::test]
async fn a_session_id_unfit_for_a_cookie_is_refused() {
    let server = MockServer::start_async().await;
    token_endpoint(&server, PASSWORD_RESPONSE).await;
    session_endpoint(
        &server,
        200,
        None,
        r#"{"data":{"session":{"sessionid":"a b;c"}},"meta":{"status":"ok"}}"#,
    )
    .await;
    let err = session_source(&server).fetch(&cx()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedResponse, "{err}");
    assert!(err.to_string().contains("not allowed in a cookie"), "{err}");
}
