//! Helpers and the documented fixtures shared by the test files.
#![allow(dead_code, unreachable_pub)]

pub use adauth_testkit::mock::answer;
use std::sync::Arc;

use adauth_core::{Error, ManualClock, TokenCache, TokenSource};
use adauth_mediamath::credentials_builder::{
    IsComplete, SetApiUrl, SetAuthUrl, SetClientId, SetClientSecret, SetPassword, SetUsername,
};
use adauth_mediamath::{CredentialsBuilder, MediaMathSource};
use httpmock::prelude::*;

/// The sample request from MediaMath's page (Step 2), byte for byte: a JSON object whose
/// `body` is itself the JSON body, as a string.
pub const DOCS_PASSWORD_REQUEST: &str = r#"{
"url": "https://mediamath.auth0.com/oauth/token",
"method": "post",
"body": "{\n \"grant_type\": \"password\",\n \"username\": \"USERNAME\",\n \"password\": \"PASSWORD\",\n \"audience\": \"https://api.mediamath.com/\",\n \"scope\": \"\",\n \"client_id\": \"YOUR_CLIENT_ID\",\n \"client_secret\": \"YOUR_CLIENT_SECRET\"\n}",
"headers": {
"Content-Type": "application/json"
}
}"#;

/// The sample request's values.
pub const USERNAME: &str = "USERNAME";
pub const PASSWORD: &str = "PASSWORD";
pub const CLIENT_ID: &str = "YOUR_CLIENT_ID";
pub const CLIENT_SECRET: &str = "YOUR_CLIENT_SECRET";

/// The password grant's answer on MediaMath's page, byte for byte.
pub const PASSWORD_RESPONSE: &str = "{
\"access_token\": \"eyJ0eX...KACzrBhNEg\",
\"expires_in\": 86400,
\"token_type\": \"Bearer\"
}";
pub const PASSWORD_ACCESS_TOKEN: &str = "eyJ0eX...KACzrBhNEg";

/// The answer with `offline_access` ("Getting a Refresh Token"), byte for byte. It has no
/// `expires_in`.
pub const OFFLINE_RESPONSE: &str = "{
\"access_token\": \"eyJz93a...k4laUWw\",
\"refresh_token\": \"GEbRxBN...edjnXbL\",
\"token_type\": \"Bearer\"
}";
pub const OFFLINE_ACCESS_TOKEN: &str = "eyJz93a...k4laUWw";
pub const REFRESH_TOKEN: &str = "GEbRxBN...edjnXbL";

/// The refresh answer ("Using a Refresh Token"), byte for byte.
pub const REFRESH_RESPONSE: &str = "{
\"access_token\": \"eyJ...MoQ\",
\"expires_in\": 86400,
\"scope\": \"openid offline_access\",
\"id_token\": \"eyJ...0NE\",
\"token_type\": \"Bearer\"
}";
pub const REFRESHED_ACCESS_TOKEN: &str = "eyJ...MoQ";

/// The refresh request's form body, as the documented curl command sends it (with the
/// refresh token from the offline_access answer).
pub const REFRESH_FORM: &str = "grant_type=refresh_token&client_id=YOUR_CLIENT_ID\
&client_secret=YOUR_CLIENT_SECRET&refresh_token=GEbRxBN...edjnXbL";

pub const FORM: &str = "application/x-www-form-urlencoded";
pub const JSON: &str = "application/json";

#[allow(unused_imports)] // each test file uses a different subset
pub use adauth_testkit::wire::{cx, no_retries, secs, t0};

/// The builder that [`credentials`] returns.
pub type Sample = CredentialsBuilder<
    SetApiUrl<SetAuthUrl<SetPassword<SetUsername<SetClientSecret<SetClientId>>>>>,
>;

/// Sample credentials against the mock server, for the caller to adjust.
pub fn credentials(server: &MockServer) -> Sample {
    adauth_mediamath::Credentials::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .username(USERNAME)
        .password(PASSWORD)
        .auth_url(server.base_url())
        .api_url(server.base_url())
}

pub fn source<S: IsComplete>(builder: CredentialsBuilder<S>) -> MediaMathSource {
    MediaMathSource::with_http(builder.build().unwrap(), no_retries()).unwrap()
}

/// A cache on a manual clock set to `t0`.
pub fn cache_on(source: impl TokenSource + 'static) -> (TokenCache, ManualClock) {
    let clock = ManualClock::new(t0());
    let cache = TokenCache::builder(source)
        .clock(Arc::new(clock.clone()))
        .build();
    (cache, clock)
}

/// Asserts the error's kind, code and description, and that its text names them.
pub fn assert_provider_error(
    err: &Error,
    kind: adauth_core::ErrorKind,
    status: u16,
    code: &str,
    description: Option<&str>,
) {
    assert_eq!(err.kind(), kind, "{err}");
    assert_eq!(err.provider(), "mediamath");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{err}");
    assert_eq!(err.code(), Some(code), "{err}");
    assert_eq!(err.description(), description, "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("HTTP {status}")), "{text}");
    assert!(text.contains(code), "{text}");
    if let Some(description) = description {
        assert!(text.contains(description), "{text}");
    }
}
