//! The authorization-code flow: the authorization link, reading the redirect, and the code
//! exchange against a mock token endpoint.

mod common;

use adauth_admitad::{AdmitadErrorCode, AuthorizationRequest, Credentials, TOKEN_PATH};
use adauth_core::ErrorKind;
use adauth_core::secrecy::{ExposeSecret, SecretString};
use common::*;
use httpmock::prelude::*;
use serde_json::json;
use url::Url;

const REDIRECT_URI: &str = "https://example.com/admitad/callback";

#[test]
fn the_link_carries_the_documented_parameters() {
    let authorize = Url::parse("https://api.admitad.com/authorize/").unwrap();
    let request = AuthorizationRequest::with_state(
        &authorize,
        CLIENT_ID,
        REDIRECT_URI,
        &documented_scopes(),
        "0123abcd",
    )
    .unwrap();
    assert_eq!(
        request.url().as_str(),
        "https://api.admitad.com/authorize/?client_id=cb281d918a37e346b45e9aea1c6eb7\
         &redirect_uri=https%3A%2F%2Fexample.com%2Fadmitad%2Fcallback\
         &scope=advcampaigns+banners+websites&response_type=code&state=0123abcd"
    );
    assert_eq!(request.state(), "0123abcd");
    assert_eq!(request.redirect_uri(), REDIRECT_URI);
}

#[test]
fn each_link_gets_a_fresh_random_state_and_the_default_page() {
    let source = source_with("https://api.admitad.com/", CLIENT_SECRET);
    let first = source.authorization_request(REDIRECT_URI).unwrap();
    let second = source.authorization_request(REDIRECT_URI).unwrap();
    assert_eq!(first.url().path(), "/authorize/");
    assert_eq!(first.url().host_str(), Some("api.admitad.com"));
    assert_eq!(first.state().len(), 32);
    assert!(first.state().bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(first.state(), second.state());
    let state = first
        .url()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned());
    assert_eq!(state.as_deref(), Some(first.state()));
}

#[test]
fn the_authorization_page_is_configurable_and_must_be_https() {
    let credentials = Credentials::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .scopes(documented_scopes())
        .authorize_url("https://app.example.com/oauth/authorize/")
        .build()
        .unwrap();
    let source = adauth_admitad::AdmitadSource::new(credentials).unwrap();
    let request = source.authorization_request(REDIRECT_URI).unwrap();
    assert!(
        request
            .url()
            .as_str()
            .starts_with("https://app.example.com/oauth/authorize/?client_id="),
        "{}",
        request.url()
    );

    let err = Credentials::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .scopes(documented_scopes())
        .authorize_url("http://app.example.com/authorize/")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");

    let err = source.authorization_request("not a url").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
}

fn request() -> AuthorizationRequest {
    let authorize = Url::parse("https://api.admitad.com/authorize/").unwrap();
    AuthorizationRequest::with_state(
        &authorize,
        CLIENT_ID,
        REDIRECT_URI,
        &documented_scopes(),
        "s1",
    )
    .unwrap()
}

#[test]
fn the_redirect_gives_its_code_once_the_state_matches() {
    let request = request();
    let code = request
        .code_from_redirect("https://example.com/admitad/callback?code=c0de&state=s1")
        .unwrap();
    assert_eq!(code.expose_secret(), "c0de");
    // A path and query, as a web framework hands them over.
    let code = request
        .code_from_redirect("/admitad/callback?state=s1&code=other")
        .unwrap();
    assert_eq!(code.expose_secret(), "other");
}

#[test]
fn a_redirect_from_elsewhere_or_without_a_code_is_refused() {
    let request = request();
    for (redirect, kind, mentions) in [
        (
            "/cb?code=c0de&state=forged",
            ErrorKind::UnexpectedResponse,
            "state does not match",
        ),
        (
            "/cb?code=c0de",
            ErrorKind::UnexpectedResponse,
            "state does not match",
        ),
        ("/cb?state=s1", ErrorKind::UnexpectedResponse, "no code"),
        (
            "/cb?state=s1&code=",
            ErrorKind::UnexpectedResponse,
            "no code",
        ),
    ] {
        let err = request.code_from_redirect(redirect).unwrap_err();
        assert_eq!(err.kind(), kind, "{redirect}: {err}");
        assert!(err.to_string().contains(mentions), "{err}");
        assert!(!err.to_string().contains("c0de"), "{err}");
    }
}

#[test]
fn a_refused_authorization_carries_the_error() {
    let err = request()
        .code_from_redirect("/cb?error=access_denied&error_description=User+denied+access&state=s1")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected);
    assert_eq!(err.code(), Some("access_denied"));
    assert_eq!(err.description(), Some("User denied access"));
    assert!(
        err.to_string()
            .contains("access_denied: User denied access"),
        "{err}"
    );
}

#[tokio::test]
async fn the_code_exchange_sends_the_documented_request() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", DOCUMENTED_CONTENT_TYPE)
                .header_missing("authorization")
                .body(format!(
                    "grant_type=authorization_code&client_id={CLIENT_ID}\
                     &client_secret={CLIENT_SECRET}&code=c0de\
                     &redirect_uri=https%3A%2F%2Fexample.com%2Fadmitad%2Fcallback"
                ));
            then.status(200)
                .header("content-type", "application/json")
                .body(DOCUMENTED_RESPONSE);
        })
        .await;
    let token = source(&server)
        .complete_authorization(&cx(), &request(), "/admitad/callback?code=c0de&state=s1")
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(
        token.access_token().expose_secret(),
        DOCUMENTED_ACCESS_TOKEN
    );
    assert_eq!(
        token.refresh_token().map(|t| t.expose_secret()),
        Some(DOCUMENTED_REFRESH_TOKEN)
    );
    assert_eq!(token.extras().get("username"), Some("webmaster1"));
    assert_eq!(token.expires_at(), t0() + LIFETIME);
}

#[tokio::test]
async fn a_refused_code_is_rejected_credentials_without_the_code() {
    let server = MockServer::start_async().await;
    let body = json!({
        "error": "invalid_grant",
        "error_description": "Invalid code CANARY-CODE-41 for client_secret CANARY-SECRET-41",
        "error_code": 1,
    });
    answer(&server, 400, "application/json", &body.to_string()).await;
    let err = source_with(&server.base_url(), "CANARY-SECRET-41")
        .exchange_code(&cx(), &SecretString::from("CANARY-CODE-41"), REDIRECT_URI)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert_eq!(err.code(), Some("invalid_grant"));
    assert_eq!(AdmitadErrorCode::of(&err), Some(AdmitadErrorCode::Invalid));
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("CANARY"), "{text}");
    }
}
