//! Choosing the flow and the host from environment variables (through a lookup function, so
//! the process environment is never touched).

mod common;

use adauth_adgem::{
    Credentials, DESCRIPTOR, ENV_API, ENV_APP_ID, ENV_BASE_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET,
    ENV_PUB_ID, ENV_REFRESH_TOKEN, OFFER_API_BASE_URL, TARGETED_API_BASE_URL, TOKEN_PATH,
    USER_TOKEN_PATH, UserCredentials,
};
use adauth_core::ErrorKind;
use adauth_core::secrecy::ExposeSecret;
use common::{answer, assert_error, assert_hidden, cx, lookup};
use httpmock::prelude::*;
use serde_json::json;

const APP_VARS: [(&str, &str); 4] = [
    (ENV_PUB_ID, "1"),
    (ENV_APP_ID, "2"),
    (ENV_CLIENT_ID, "client-1"),
    (ENV_CLIENT_SECRET, "CANARY-SECRET"),
];

#[test]
fn env_vars_lists_every_variable_once() {
    assert_eq!(
        adauth_adgem::DESCRIPTOR.env_var_names(),
        [
            "ADAUTH_ADGEM_REFRESH_TOKEN",
            "ADAUTH_ADGEM_PUB_ID",
            "ADAUTH_ADGEM_APP_ID",
            "ADAUTH_ADGEM_CLIENT_ID",
            "ADAUTH_ADGEM_CLIENT_SECRET",
            "ADAUTH_ADGEM_API",
            "ADAUTH_ADGEM_BASE_URL",
        ]
    );
}

/// A mock answering both token endpoints; returns the hits on (users, apps).
async fn fetch_with(vars: &[(&str, &str)]) -> (usize, usize) {
    let server = MockServer::start_async().await;
    let body = json!({"access_token": "a", "expires_in": 3600}).to_string();
    let users = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(USER_TOKEN_PATH)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=refresh_token&refresh_token=CANARY-REFRESH");
            then.status(201)
                .header("content-type", "application/json")
                .body(&body);
        })
        .await;
    let apps = answer(&server, TOKEN_PATH, 200, "application/json", &body).await;
    let base_url = server.base_url();
    let mut vars = vars.to_vec();
    vars.push((ENV_BASE_URL, &base_url));
    let source = DESCRIPTOR.source_from_lookup(&lookup(&vars)).unwrap();
    assert_eq!(source.provider(), "adgem");
    assert_hidden("source", &format!("{source:?}"), &["CANARY"]);
    let token = source.fetch(&cx()).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "a");
    (users.calls_async().await, apps.calls_async().await)
}

#[tokio::test]
async fn a_refresh_token_selects_the_newer_exchange() {
    let only = [(ENV_REFRESH_TOKEN, "CANARY-REFRESH")];
    assert_eq!(fetch_with(&only).await, (1, 0));
    // It wins even when application credentials are set too.
    let mut both = APP_VARS.to_vec();
    both.push((ENV_REFRESH_TOKEN, " CANARY-REFRESH "));
    assert_eq!(fetch_with(&both).await, (1, 0));
}

#[tokio::test]
async fn without_a_refresh_token_the_application_flow_is_used() {
    assert_eq!(fetch_with(&APP_VARS).await, (0, 1));
    let mut blank = APP_VARS.to_vec();
    blank.push((ENV_REFRESH_TOKEN, "  "));
    assert_eq!(fetch_with(&blank).await, (0, 1));
}

#[test]
fn no_credentials_at_all_is_a_configuration_error_naming_the_variables() {
    for vars in [
        vec![],
        vec![(ENV_REFRESH_TOKEN, " ")],
        vec![(ENV_API, "offers"), (ENV_BASE_URL, "https://proxy.example")],
    ] {
        let err = DESCRIPTOR.source_from_lookup(&lookup(&vars)).unwrap_err();
        assert_error(
            &err,
            ErrorKind::Configuration,
            &[
                ENV_REFRESH_TOKEN,
                ENV_PUB_ID,
                ENV_APP_ID,
                ENV_CLIENT_ID,
                ENV_CLIENT_SECRET,
            ],
        );
    }
}

#[test]
fn partial_application_credentials_name_what_is_missing() {
    let err = DESCRIPTOR
        .source_from_lookup(&lookup(&APP_VARS[..3]))
        .unwrap_err();
    assert_error(&err, ErrorKind::Configuration, &[ENV_CLIENT_SECRET]);
    assert!(!err.to_string().contains(ENV_REFRESH_TOKEN), "{err}");
}

#[test]
fn the_api_variable_chooses_the_host_and_the_base_url_overrides_it() {
    let users = |vars: &[(&str, &str)]| {
        let mut vars = vars.to_vec();
        vars.push((ENV_REFRESH_TOKEN, "CANARY-REFRESH"));
        UserCredentials::from_lookup(&lookup(&vars)).map(|c| c.base_url().to_string())
    };
    let apps = |vars: &[(&str, &str)]| {
        let mut vars = vars.to_vec();
        vars.extend(APP_VARS);
        Credentials::from_lookup(&lookup(&vars)).map(|c| c.base_url().to_string())
    };
    for read in [&users as &dyn Fn(&[(&str, &str)]) -> _, &apps] {
        assert_eq!(read(&[]).unwrap(), TARGETED_API_BASE_URL);
        assert_eq!(
            read(&[(ENV_API, "targeted")]).unwrap(),
            TARGETED_API_BASE_URL
        );
        assert_eq!(read(&[(ENV_API, " Offers ")]).unwrap(), OFFER_API_BASE_URL);
        assert_eq!(
            read(&[(ENV_API, "offers"), (ENV_BASE_URL, "http://127.0.0.1:9/x")]).unwrap(),
            "http://127.0.0.1:9/x"
        );
        let err = read(&[(ENV_API, "prism-xyz")]).unwrap_err();
        assert_error(&err, ErrorKind::Configuration, &[ENV_API, "`offers`"]);
        assert_hidden("error", &format!("{err} {err:?}"), &["prism-xyz", "CANARY"]);
    }
}

#[test]
fn a_missing_refresh_token_is_named() {
    let err = UserCredentials::from_lookup(&lookup(&[])).unwrap_err();
    assert_error(&err, ErrorKind::Configuration, &[ENV_REFRESH_TOKEN]);
}
