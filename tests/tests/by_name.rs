//! The umbrella's by-name constructor, with each provider's credentials in the environment.
//!
//! The environment is set on a child process (this same test binary, running the ignored
//! test below), so no test changes its own process environment.

use std::process::Command;

use httpmock::prelude::*;
use serde_json::json;

const CHILD: &str = "child_fetches_a_token_from_every_provider_named_in_the_environment";

#[tokio::test]
async fn every_provider_can_be_built_by_name_from_its_environment_variables() {
    let server = MockServer::start_async().await;
    let answers = [
        (
            "/data/v1/client/authentication",
            json!({"access_token": "mediago-t", "expires_in": 3600, "client_id": "146"}),
        ),
        (
            "/oauth/token",
            json!({"access_token": "mediamath-t", "expires_in": 86400, "token_type": "Bearer"}),
        ),
        (
            "/token/",
            json!({"access_token": "admitad-t", "token_type": "bearer", "expires_in": 604800,
                   "refresh_token": "r", "scope": "public_data", "username": "u"}),
        ),
        (
            "/auth/v1/token",
            json!({"accessToken": "fyber-t", "tokenType": "bearer", "expiresIn": 3600}),
        ),
        (
            "/v1/apps/tokens",
            json!({"access_token": "adgem-t", "token_type": "Bearer", "expires_in": 3600}),
        ),
    ];
    let mut mocks = Vec::new();
    for (path, body) in answers {
        mocks.push(
            server
                .mock_async(|when, then| {
                    when.method(POST).path(path);
                    then.status(200)
                        .header("content-type", "application/json")
                        .json_body(body);
                })
                .await,
        );
    }

    let base = server.base_url();
    let vars = [
        ("ADAUTH_MEDIAGO_API_TOKEN", "bWVkaWFnbw=="),
        ("ADAUTH_MEDIAGO_BASE_URL", base.as_str()),
        ("ADAUTH_MEDIAMATH_CLIENT_ID", "mm-client"),
        ("ADAUTH_MEDIAMATH_CLIENT_SECRET", "mm-secret"),
        ("ADAUTH_MEDIAMATH_USERNAME", "user@example.com"),
        ("ADAUTH_MEDIAMATH_PASSWORD", "mm-password"),
        ("ADAUTH_MEDIAMATH_AUTH_URL", base.as_str()),
        ("ADAUTH_ADMITAD_CLIENT_ID", "ad-client"),
        ("ADAUTH_ADMITAD_CLIENT_SECRET", "ad-secret"),
        ("ADAUTH_ADMITAD_SCOPE", "public_data"),
        ("ADAUTH_ADMITAD_BASE_URL", base.as_str()),
        ("ADAUTH_FYBER_CLIENT_ID", "fy-client"),
        ("ADAUTH_FYBER_CLIENT_SECRET", "fy-secret"),
        ("ADAUTH_FYBER_BASE_URL", base.as_str()),
        ("ADAUTH_ADGEM_PUB_ID", "1"),
        ("ADAUTH_ADGEM_APP_ID", "2"),
        ("ADAUTH_ADGEM_CLIENT_ID", "ag-client"),
        ("ADAUTH_ADGEM_CLIENT_SECRET", "ag-secret"),
        ("ADAUTH_ADGEM_BASE_URL", base.as_str()),
    ];
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args([CHILD, "--exact", "--ignored", "--nocapture"]);
    for (name, _) in std::env::vars() {
        if name.starts_with("ADAUTH_") {
            child.env_remove(name);
        }
    }
    child.envs(vars);
    let output = tokio::task::spawn_blocking(move || child.output().unwrap())
        .await
        .unwrap();
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed:\n{shown}");
    assert!(
        shown.contains("1 passed"),
        "the child test did not run:\n{shown}"
    );
    for mock in mocks {
        assert_eq!(mock.calls_async().await, 1);
    }
}

#[tokio::test]
#[ignore = "run by every_provider_can_be_built_by_name_from_its_environment_variables"]
async fn child_fetches_a_token_from_every_provider_named_in_the_environment() {
    use adauth::secrecy::ExposeSecret;

    let names: Vec<&str> = adauth::PROVIDERS.iter().map(|p| p.name()).collect();
    assert_eq!(names, ["mediago", "mediamath", "admitad", "fyber", "adgem"]);
    for name in names {
        let source = adauth::source_from_env(name).unwrap();
        assert_eq!(source.provider(), name);
        let cache = adauth::TokenCache::builder_arc(source.into()).build();
        let token = cache.token().await.unwrap();
        assert_eq!(
            token.access_token().expose_secret(),
            format!("{name}-t"),
            "{name}"
        );
    }
    let err = adauth::source_from_env("doubleclick").err().unwrap();
    assert!(err.is_configuration());
    assert!(
        err.to_string()
            .contains("compiled in: mediago, mediamath, admitad, fyber, adgem"),
        "{err}"
    );
}
