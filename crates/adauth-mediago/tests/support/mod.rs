//! Helpers shared by this crate's tests.
#![allow(dead_code)] // each test file uses a different subset

pub(crate) use adauth_testkit::mock::answer;

use adauth_mediago::{ApiToken, Credentials, MediagoSource, TokenLevel};
use httpmock::prelude::*;

/// The API token in the documented request example, sent exactly as given.
pub(crate) const DOC_API_TOKEN: &str = "Y2xpZW50XzE0Nl_lup_lvIPl...";

/// The documented successful response of the client-level token request, byte for byte.
pub(crate) const DOC_TOKEN_RESPONSE: &str = r#"{
  "access_token": "MTQ2OmNsaWVudF8xNDZf5bqf5byD5rqQ6LiG...",
  "expires_in": 3600,
  "client_id": "146"
}"#;

/// The access token in [`DOC_TOKEN_RESPONSE`].
pub(crate) const DOC_ACCESS_TOKEN: &str = "MTQ2OmNsaWVudF8xNDZf5bqf5byD5rqQ6LiG...";

/// The exact token request content type.
pub(crate) const FORM_UTF8: &str = "application/x-www-form-urlencoded;charset=utf-8";

#[allow(unused_imports)] // each test file uses a different subset
pub(crate) use adauth_testkit::wire::{cx, no_retries, t0};

pub(crate) fn doc_token() -> ApiToken {
    ApiToken::encoded(DOC_API_TOKEN).unwrap()
}

pub(crate) fn credentials(
    server: &MockServer,
    api_token: ApiToken,
    level: TokenLevel,
) -> Credentials {
    Credentials::builder()
        .api_token(api_token)
        .level(level)
        .base_url(server.base_url())
        .build()
        .unwrap()
}

pub(crate) fn source_with(
    server: &MockServer,
    api_token: ApiToken,
    level: TokenLevel,
) -> MediagoSource {
    MediagoSource::with_http(credentials(server, api_token, level), no_retries()).unwrap()
}

/// A client-level source with the documented API token.
pub(crate) fn source(server: &MockServer) -> MediagoSource {
    source_with(server, doc_token(), TokenLevel::Client)
}

/// Asserts that the error's `Display` names every part.
pub(crate) fn assert_mentions(err: &adauth_core::Error, parts: &[&str]) {
    let text = err.to_string();
    for part in parts {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }
}
