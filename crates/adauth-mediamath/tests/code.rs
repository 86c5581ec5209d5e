//! The authorization-code flow: the authorize URL with state and PKCE, the state check, the
//! code exchange, and renewal of the exchanged token through a cache.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{ErrorKind, TokenSource};
use adauth_mediamath::app_credentials_builder::{
    IsComplete, SetApiUrl, SetAuthUrl, SetClientId, SetClientSecret, SetRedirectUri,
};
use adauth_mediamath::{
    AppCredentials, AppCredentialsBuilder, AuthorizationCodeFlow, PendingAuthorization, TOKEN_PATH,
    is_authorization_required, is_state_mismatch,
};
use base64::Engine as _;
use common::*;
use httpmock::prelude::*;
use sha2::{Digest, Sha256};

const REDIRECT_URI: &str = "https://app.example/callback";
const CODE: &str = "AUTH_CODE_123";

type App =
    AppCredentialsBuilder<SetApiUrl<SetAuthUrl<SetRedirectUri<SetClientSecret<SetClientId>>>>>;

fn app(server: &MockServer) -> App {
    AppCredentials::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .redirect_uri(REDIRECT_URI)
        .auth_url(server.base_url())
        .api_url(server.base_url())
}

fn flow<S: IsComplete>(builder: AppCredentialsBuilder<S>) -> AuthorizationCodeFlow {
    AuthorizationCodeFlow::with_http(builder.build().unwrap(), no_retries()).unwrap()
}

fn query(pending: &PendingAuthorization) -> Vec<(String, String)> {
    pending.url().query_pairs().into_owned().collect()
}

fn param(pending: &PendingAuthorization, name: &str) -> String {
    query(pending)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} in {}", pending.url()))
}

fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn redirect(state: &str) -> String {
    format!("{REDIRECT_URI}?code={CODE}&state={state}")
}

#[tokio::test]
async fn the_authorize_url_carries_every_documented_parameter_and_pkce() {
    let server = MockServer::start_async().await;
    let pending = flow(app(&server)).start().unwrap();
    let url = pending.url();
    assert_eq!(url.path(), "/authorize");
    assert_eq!(url.host_str(), Some("127.0.0.1"));
    let names: Vec<String> = query(&pending).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "audience",
            "state",
            "code_challenge",
            "code_challenge_method"
        ]
    );
    assert_eq!(param(&pending, "response_type"), "code");
    assert_eq!(param(&pending, "client_id"), CLIENT_ID);
    assert_eq!(param(&pending, "redirect_uri"), REDIRECT_URI);
    assert_eq!(param(&pending, "scope"), "offline_access");
    assert_eq!(param(&pending, "audience"), "https://api.mediamath.com/");
    assert_eq!(param(&pending, "state"), pending.state().expose_secret());
    assert_eq!(param(&pending, "code_challenge_method"), "S256");
    let verifier = pending.code_verifier().unwrap().expose_secret();
    // 32 random bytes in base64url: 43 characters, within RFC 7636's 43..=128.
    assert_eq!(verifier.len(), 43);
    assert_eq!(param(&pending, "code_challenge"), s256(verifier));
    assert_eq!(pending.state().expose_secret().len(), 22);
}

#[tokio::test]
async fn every_authorization_gets_a_fresh_state_and_verifier() {
    let server = MockServer::start_async().await;
    let flow = flow(app(&server));
    let a = flow.start().unwrap();
    let b = flow.start().unwrap();
    assert_ne!(a.state().expose_secret(), b.state().expose_secret());
    assert_ne!(
        a.code_verifier().unwrap().expose_secret(),
        b.code_verifier().unwrap().expose_secret()
    );
}

#[tokio::test]
async fn the_exchange_sends_the_code_and_the_verifier_the_challenge_was_made_from() {
    let server = MockServer::start_async().await;
    let flow = flow(app(&server));
    let pending = flow.start().unwrap();
    let challenge = param(&pending, "code_challenge");
    // What the mock saw, to check independently of the flow's own bookkeeping.
    let seen: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let seen_by_mock = Arc::clone(&seen);
    let mock = server
        .mock_async(move |when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", FORM)
                .is_true(move |request| {
                    let fields: HashMap<String, String> =
                        url::form_urlencoded::parse(request.body().as_ref())
                            .into_owned()
                            .collect();
                    *seen_by_mock.lock().unwrap() = fields.clone();
                    fields
                        .get("code_verifier")
                        .is_some_and(|v| s256(v) == challenge)
                });
            then.status(200)
                .header("content-type", JSON)
                .body(OFFLINE_RESPONSE);
        })
        .await;

    let token = flow
        .exchange_redirect(&cx(), &pending, &redirect(pending.state().expose_secret()))
        .await
        .unwrap();

    mock.assert_async().await;
    let fields = seen.lock().unwrap().clone();
    let verifier = fields["code_verifier"].clone();
    let expected: HashMap<String, String> = [
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("code", CODE),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", &verifier),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(fields, expected);
    assert_eq!(token.access_token().expose_secret(), OFFLINE_ACCESS_TOKEN);
    assert_eq!(
        token.refresh_token().map(|t| t.expose_secret()),
        Some(REFRESH_TOKEN)
    );
}

#[tokio::test]
async fn the_exchange_form_is_exact_without_pkce() {
    let server = MockServer::start_async().await;
    let flow = flow(app(&server).pkce(false).scope("openid offline_access"));
    let pending = flow.start().unwrap();
    assert!(pending.code_verifier().is_none());
    assert_eq!(param(&pending, "scope"), "openid offline_access");
    assert!(
        !query(&pending)
            .iter()
            .any(|(k, _)| k.starts_with("code_challenge"))
    );
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", FORM)
                .body(
                    "grant_type=authorization_code&client_id=YOUR_CLIENT_ID\
                     &client_secret=YOUR_CLIENT_SECRET&code=AUTH_CODE_123\
                     &redirect_uri=https%3A%2F%2Fapp.example%2Fcallback",
                );
            then.status(200)
                .header("content-type", JSON)
                .body(PASSWORD_RESPONSE);
        })
        .await;
    let state = pending.state().expose_secret().to_owned();
    flow.exchange(&cx(), &pending, &state, CODE).await.unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn a_wrong_or_missing_state_is_refused_before_anything_is_sent() {
    let server = MockServer::start_async().await;
    let mock = answer(&server, POST, TOKEN_PATH, 200, JSON, OFFLINE_RESPONSE).await;
    let flow = flow(app(&server));
    let pending = flow.start().unwrap();
    let other = flow.start().unwrap();

    let right = pending.state().expose_secret();
    // The same length, one character off.
    let last = if right.ends_with('x') { "y" } else { "x" };
    let almost = format!("{}{last}", &right[..right.len() - 1]);
    for state in [other.state().expose_secret(), almost.as_str(), ""] {
        let err = flow
            .exchange(&cx(), &pending, state, CODE)
            .await
            .unwrap_err();
        assert!(is_state_mismatch(&err), "{err}");
        assert_eq!(err.kind(), ErrorKind::UnexpectedResponse);
        assert!(
            err.to_string().contains("start a new authorization"),
            "{err}"
        );
    }
    let without_state = format!("{REDIRECT_URI}?code={CODE}");
    let err = flow
        .exchange_redirect(&cx(), &pending, &without_state)
        .await
        .unwrap_err();
    assert!(is_state_mismatch(&err), "{err}");
    assert_eq!(mock.calls_async().await, 0);
}

#[tokio::test]
async fn an_error_redirect_keeps_auth0s_code_and_description() {
    let server = MockServer::start_async().await;
    let mock = answer(&server, POST, TOKEN_PATH, 200, JSON, OFFLINE_RESPONSE).await;
    let flow = flow(app(&server));
    let pending = flow.start().unwrap();
    let url = format!(
        "{REDIRECT_URI}?error=access_denied&error_description=User%20did%20not%20authorize%20the%20request&state={}",
        pending.state().expose_secret()
    );
    let err = flow
        .exchange_redirect(&cx(), &pending, &url)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert_eq!(err.code(), Some("access_denied"));
    assert_eq!(
        err.description(),
        Some("User did not authorize the request")
    );
    assert!(
        err.to_string()
            .contains("access_denied: User did not authorize"),
        "{err}"
    );
    assert_eq!(mock.calls_async().await, 0);
}

#[tokio::test]
async fn a_refused_code_is_a_credentials_rejection() {
    let server = MockServer::start_async().await;
    answer(
        &server,
        POST,
        TOKEN_PATH,
        403,
        JSON,
        r#"{"error":"invalid_grant","error_description":"Invalid authorization code"}"#,
    )
    .await;
    let flow = flow(app(&server));
    let pending = flow.start().unwrap();
    let err = flow
        .exchange_redirect(&cx(), &pending, &redirect(pending.state().expose_secret()))
        .await
        .unwrap_err();
    assert_provider_error(
        &err,
        ErrorKind::CredentialsRejected,
        403,
        "invalid_grant",
        Some("Invalid authorization code"),
    );
}

async fn exchanged(
    flow: &AuthorizationCodeFlow,
    answer_body: &str,
    server: &MockServer,
) -> adauth_core::Token {
    let mock = answer(server, POST, TOKEN_PATH, 200, JSON, answer_body).await;
    let pending = flow.start().unwrap();
    let token = flow
        .exchange_redirect(&cx(), &pending, &redirect(pending.state().expose_secret()))
        .await
        .unwrap();
    mock.delete_async().await;
    token
}

#[tokio::test]
async fn the_cache_serves_the_exchanged_token_then_renews_it_with_the_refresh_token() {
    let server = MockServer::start_async().await;
    let flow = flow(app(&server));
    let token = exchanged(&flow, OFFLINE_RESPONSE, &server).await;
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
    let (cache, clock) = cache_on(flow.source(token));

    let first = cache.token().await.unwrap();
    assert_eq!(first.access_token().expose_secret(), OFFLINE_ACCESS_TOKEN);
    assert_eq!(refresh.calls_async().await, 0);

    clock.advance(secs(301));
    let second = cache.token().await.unwrap();
    assert_eq!(
        second.access_token().expose_secret(),
        REFRESHED_ACCESS_TOKEN
    );
    assert_eq!(
        second.refresh_token().map(|t| t.expose_secret()),
        Some(REFRESH_TOKEN)
    );
    assert_eq!(refresh.calls_async().await, 1);
}

#[tokio::test]
async fn without_a_refresh_token_a_new_authorization_is_required() {
    let server = MockServer::start_async().await;
    let flow = flow(app(&server).scope(""));
    let token = exchanged(&flow, PASSWORD_RESPONSE, &server).await;
    let any = answer(&server, POST, TOKEN_PATH, 200, JSON, PASSWORD_RESPONSE).await;
    let (cache, clock) = cache_on(flow.source(token));
    cache.token().await.unwrap();
    clock.advance(secs(86400));
    let err = cache.token().await.unwrap_err();
    assert!(is_authorization_required(&err), "{err}");
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected);
    assert!(
        err.to_string().contains("authorize the application again"),
        "{err}"
    );
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn a_refused_refresh_token_requires_a_new_authorization_without_a_second_try() {
    let server = MockServer::start_async().await;
    let flow = flow(app(&server));
    let token = exchanged(&flow, OFFLINE_RESPONSE, &server).await;
    let refresh = answer(
        &server,
        POST,
        TOKEN_PATH,
        403,
        JSON,
        r#"{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}"#,
    )
    .await;
    let (cache, clock) = cache_on(flow.source(token));
    cache.token().await.unwrap();
    clock.advance(secs(301));
    let err = cache.token().await.unwrap_err();
    assert!(is_authorization_required(&err), "{err}");
    assert!(
        err.to_string().contains("refused the refresh token"),
        "{err}"
    );
    assert_eq!(refresh.calls_async().await, 1);

    // Starting from a kept refresh token that has been revoked says the same, with Auth0's words.
    let source = flow.source_from_refresh_token(SecretString::from(REFRESH_TOKEN));
    let err = source.fetch(&cx()).await.unwrap_err();
    assert!(is_authorization_required(&err), "{err}");
    assert_eq!(err.description(), Some("Unknown or invalid refresh token."));
    assert!(source.refresh_token().is_none());
}

// Issue 11, item 11: a refresh refused because the client failed to authenticate is the
// application's credentials being wrong, with Auth0's code: no new authorization by the user
// would help, and the refresh token is kept.
#[tokio::test]
async fn a_refresh_refused_with_invalid_client_is_the_clients_error_not_authorize_again() {
    let server = MockServer::start_async().await;
    let flow = flow(app(&server));
    let token = exchanged(&flow, OFFLINE_RESPONSE, &server).await;
    let refresh = answer(
        &server,
        POST,
        TOKEN_PATH,
        401,
        JSON,
        r#"{"error":"invalid_client","error_description":"Client authentication failed."}"#,
    )
    .await;
    let source = std::sync::Arc::new(flow.source(token));
    let kept = source.refresh_token().map(|t| t.expose_secret().to_owned());
    assert!(kept.is_some());
    let (cache, clock) = cache_on(std::sync::Arc::clone(&source));
    cache.token().await.unwrap();
    clock.advance(secs(301));
    let err = cache.token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert!(!is_authorization_required(&err), "{err}");
    assert_eq!(err.code(), Some("invalid_client"), "{err}");
    assert_eq!(err.description(), Some("Client authentication failed."));
    assert_eq!(refresh.calls_async().await, 1);
    assert_eq!(
        source.refresh_token().map(|t| t.expose_secret().to_owned()),
        kept,
        "the refresh token is kept for when the client is fixed"
    );
}

#[tokio::test]
async fn a_rotated_refresh_token_is_kept_for_the_next_run() {
    let server = MockServer::start_async().await;
    let flow = flow(app(&server));
    let refresh = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", FORM)
                .form_urlencoded_tuple("refresh_token", "kept-from-last-run");
            then.status(200).header("content-type", JSON).body(
                r#"{"access_token":"a","expires_in":86400,"refresh_token":"rotated","token_type":"Bearer"}"#,
            );
        })
        .await;
    let source = flow.source_from_refresh_token(SecretString::from("kept-from-last-run"));
    let token = source.fetch(&cx()).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "a");
    assert_eq!(
        source.refresh_token().as_ref().map(|t| t.expose_secret()),
        Some("rotated")
    );
    refresh.assert_async().await;
}
