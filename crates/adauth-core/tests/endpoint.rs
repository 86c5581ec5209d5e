//! A prepared token request (`TokenRequest::prepare`) against loopback servers: it sends
//! exactly what the request it was made of sends, on every fetch, and keeps its secrets out
//! of errors and `Debug` output.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use adauth_core::http::HttpClient;
use adauth_core::provider_kit::endpoint::{ClientAuth, EndpointSpec, FieldCase, TokenEndpoint};
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{ExpiryPolicy, FetchContext, ManualClock};
use base64::Engine as _;
use httpmock::prelude::*;
use url::Url;

const FORM_BASIC: EndpointSpec =
    EndpointSpec::form("test", "/token/").client_auth(ClientAuth::Basic);
const JSON_BODY: EndpointSpec =
    EndpointSpec::json("test", "/auth/v1/token").answer_case(FieldCase::Camel);

const SECRET: &str = "CANARY-s3cr/t+41";
const ANSWER: &str =
    r#"{"access_token":"tok-1","accessToken":"tok-1","expires_in":3600,"expiresIn":3600}"#;

fn cx() -> FetchContext {
    let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    FetchContext::new(Arc::new(ManualClock::new(t0)), ExpiryPolicy::default())
}

fn endpoint(spec: EndpointSpec, server: &MockServer) -> TokenEndpoint {
    TokenEndpoint::new(
        spec,
        &Url::parse(&server.base_url()).unwrap(),
        HttpClient::new(),
    )
    .unwrap()
}

/// Every form in which a server could echo the secret back.
fn secret_forms() -> Vec<String> {
    let pair = format!("client-1:{SECRET}");
    vec![
        SECRET.to_owned(),
        url::form_urlencoded::byte_serialize(SECRET.as_bytes()).collect(),
        base64::engine::general_purpose::STANDARD.encode(&pair),
        pair,
    ]
}

#[tokio::test]
async fn a_prepared_form_request_sends_the_same_request_on_every_fetch() {
    let server = MockServer::start_async().await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("client-1:{SECRET}"));
    let token = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/token/")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("authorization", format!("Basic {basic}"))
                .body("grant_type=client_credentials&client_id=client-1&scope=a+b");
            then.status(200)
                .header("content-type", "application/json")
                .body(ANSWER);
        })
        .await;
    let endpoint = endpoint(FORM_BASIC, &server);
    let secret = SecretString::from(SECRET);
    let request = || {
        endpoint
            .request()
            .field("grant_type", "client_credentials")
            .field("client_id", "client-1")
            .field("scope", "a b")
            .client("client-1", &secret)
    };
    let prepared = request().prepare();
    for _ in 0..2 {
        let token = prepared.send(&cx()).await.unwrap();
        assert_eq!(token.access_token().expose_secret(), "tok-1");
    }
    // The request it was made of sends the very same bytes.
    request().send(&cx()).await.unwrap();
    token.assert_calls_async(3).await;
}

#[tokio::test]
async fn a_prepared_json_request_sends_the_client_in_the_body() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/auth/v1/token")
                .header("content-type", "application/json")
                .header_missing("authorization")
                .body(format!(
                    r#"{{"grant_type":"client_credentials","client_id":"client-1","client_secret":"{SECRET}"}}"#
                ));
            then.status(200)
                .header("content-type", "application/json")
                .body(ANSWER);
        })
        .await;
    let secret = SecretString::from(SECRET);
    let prepared = endpoint(JSON_BODY, &server)
        .request()
        .field("grant_type", "client_credentials")
        .client("client-1", &secret)
        .prepare();
    prepared.send(&cx()).await.unwrap();
    prepared.clone().send(&cx()).await.unwrap();
    token.assert_calls_async(2).await;
}

#[tokio::test]
async fn a_prepared_request_keeps_its_secrets_out_of_errors_and_debug_output() {
    let echoed = secret_forms().join(" ");
    for spec in [FORM_BASIC, JSON_BODY] {
        for (status, content_type) in [(401, "application/json"), (200, "text/html")] {
            let server = MockServer::start_async().await;
            let body = match content_type {
                "application/json" => serde_json::json!({
                    "error": "invalid_client",
                    "error_description": format!("client rejected: {echoed}"),
                })
                .to_string(),
                _ => format!("<html>{echoed}</html>"),
            };
            server
                .mock_async(|when, then| {
                    when.method(POST);
                    then.status(status)
                        .header("content-type", content_type)
                        .body(body);
                })
                .await;
            let secret = SecretString::from(SECRET);
            let prepared = endpoint(spec, &server)
                .request()
                .field("grant_type", "client_credentials")
                .client("client-1", &secret)
                .prepare();
            let err = prepared.send(&cx()).await.unwrap_err();
            let shown = format!("{err} {err:?} {prepared:?}");
            for form in secret_forms() {
                assert!(
                    !shown.contains(&form),
                    "{form:?} shown for {spec:?} {status}: {shown}"
                );
            }
        }
    }
}
