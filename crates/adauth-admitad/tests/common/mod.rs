//! Fixtures from Admitad's documentation and helpers shared by the test files.
#![allow(dead_code)]

use std::time::Duration;

use adauth_admitad::{AdmitadSource, Credentials, Scope, Scopes, TOKEN_PATH};
use httpmock::prelude::*;

/// The example credentials from the documentation.
pub(crate) const CLIENT_ID: &str = "cb281d918a37e346b45e9aea1c6eb7";
pub(crate) const CLIENT_SECRET: &str = "a0f8a8b24de8b8182a0ddd2e89f5b1";

/// The documented Basic value for the example credentials (`data_b64_encoded`), copied
/// from the page rather than computed.
pub(crate) const DOCUMENTED_BASIC: &str =
    "Y2IyODFkOTE4YTM3ZTM0NmI0NWU5YWVhMWM2ZWI3OmEwZjhhOGIyNGRlOGI4MTgyYTBkZGQyZTg5ZjViMQ==";

/// The documented content type, with its `;charset=UTF-8`.
pub(crate) const DOCUMENTED_CONTENT_TYPE: &str = "application/x-www-form-urlencoded;charset=UTF-8";

/// The documented request body. The page breaks the line before `&scope` for layout and
/// writes the scope's spaces literally; form encoding sends them as `+`.
pub(crate) const DOCUMENTED_REQUEST_BODY: &str = "grant_type=client_credentials&client_id=cb281d918a37e346b45e9aea1c6eb7&scope=advcampaigns+banners+websites";

/// The documented response, byte for byte. It is not JSON: `"last_name"': "surname"` has a
/// stray `'`.
pub(crate) const DOCUMENTED_RESPONSE_VERBATIM: &str = "{
\"username\": \"webmaster1\",
\"first_name\": \"name\",
\"last_name\"': \"surname\",
\"language\": \"ru\",
\"access_token\": \"4b8b33955a\",
\"token_type\": \"bearer\",
\"expires_in\": 604800,
\"refresh_token\": \"ea957cce42\",
\"scope\": \"advcampaigns banners websites\",
\"group\": \"webmaster\"
}";

/// The documented response with the stray `'` removed, otherwise byte for byte.
pub(crate) const DOCUMENTED_RESPONSE: &str = "{
\"username\": \"webmaster1\",
\"first_name\": \"name\",
\"last_name\": \"surname\",
\"language\": \"ru\",
\"access_token\": \"4b8b33955a\",
\"token_type\": \"bearer\",
\"expires_in\": 604800,
\"refresh_token\": \"ea957cce42\",
\"scope\": \"advcampaigns banners websites\",
\"group\": \"webmaster\"
}";

pub(crate) const DOCUMENTED_ACCESS_TOKEN: &str = "4b8b33955a";
pub(crate) const DOCUMENTED_REFRESH_TOKEN: &str = "ea957cce42";

/// Seven days, the documented `expires_in`.
pub(crate) const LIFETIME: Duration = Duration::from_secs(604_800);

#[allow(unused_imports)] // each test file uses a different subset
pub(crate) use adauth_testkit::wire::{assert_contains, cx, no_retries, t0};

pub(crate) fn documented_scopes() -> Scopes {
    Scopes::from([Scope::Advcampaigns, Scope::Banners, Scope::Websites])
}

pub(crate) fn source_with(base_url: &str, secret: &str) -> AdmitadSource {
    let credentials = Credentials::builder()
        .client_id(CLIENT_ID)
        .client_secret(secret.to_owned())
        .scopes(documented_scopes())
        .base_url(base_url)
        .build()
        .unwrap();
    AdmitadSource::with_http(credentials, no_retries()).unwrap()
}

/// A source with the documented example credentials, against `server`.
pub(crate) fn source(server: &MockServer) -> AdmitadSource {
    source_with(&server.base_url(), CLIENT_SECRET)
}

/// A token response like the documented one, with the given tokens.
pub(crate) fn token_body(access_token: &str, refresh_token: &str) -> String {
    serde_json::json!({
        "username": "webmaster1",
        "first_name": "name",
        "last_name": "surname",
        "language": "ru",
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": 604800,
        "refresh_token": refresh_token,
        "scope": "advcampaigns banners websites",
        "group": "webmaster",
    })
    .to_string()
}

/// The exact refresh request body for `refresh_token` with the example credentials.
pub(crate) fn refresh_body(refresh_token: &str) -> String {
    format!(
        "grant_type=refresh_token&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}&refresh_token={refresh_token}"
    )
}

/// Answers the documented client-credentials request (and only it) with `body`.
pub(crate) async fn client_credentials_mock<'a>(
    server: &'a MockServer,
    body: &str,
) -> httpmock::Mock<'a> {
    adauth_testkit::mock::expect(server, 200, body, |when| {
        when.method(POST)
            .path(TOKEN_PATH)
            .header("content-type", DOCUMENTED_CONTENT_TYPE)
            .header("authorization", format!("Basic {DOCUMENTED_BASIC}"))
            .body(DOCUMENTED_REQUEST_BODY)
    })
    .await
}

/// Answers the refresh request for `refresh_token` (and only it) with `status` and `body`.
pub(crate) async fn refresh_mock<'a>(
    server: &'a MockServer,
    refresh_token: &str,
    status: u16,
    body: &str,
) -> httpmock::Mock<'a> {
    let expected = refresh_body(refresh_token);
    let body = body.to_owned();
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", DOCUMENTED_CONTENT_TYPE)
                .header_missing("authorization")
                .body(expected);
            then.status(status)
                .header("content-type", "application/json")
                .body(body);
        })
        .await
}

/// Answers every token request with `status`, `content_type` and `body`.
pub(crate) async fn answer<'a>(
    server: &'a MockServer,
    status: u16,
    content_type: &str,
    body: &str,
) -> httpmock::Mock<'a> {
    adauth_testkit::mock::answer(server, POST, TOKEN_PATH, status, content_type, body).await
}
