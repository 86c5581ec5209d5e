//! Credentials from the builder and from environment variables (through a lookup function,
//! so the process environment is never touched).

use adauth_testkit::lookup;

use adauth_core::ErrorKind;
use adauth_fyber::{
    Credentials, DEFAULT_BASE_URL, ENV_BASE_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET, FyberSource,
};

fn complete(base_url: Option<&str>) -> Vec<(&str, &str)> {
    let mut vars = vec![(ENV_CLIENT_ID, "client-1"), (ENV_CLIENT_SECRET, "s3cr3t")];
    if let Some(url) = base_url {
        vars.push((ENV_BASE_URL, url));
    }
    vars
}

#[test]
fn reads_every_variable_and_defaults_the_host() {
    let credentials = Credentials::from_lookup(&lookup(&complete(None))).unwrap();
    assert_eq!(credentials.client_id(), "client-1");
    assert_eq!(credentials.base_url().as_str(), DEFAULT_BASE_URL);
}

#[test]
fn plain_http_is_refused_except_for_loopback() {
    let err = Credentials::from_lookup(&lookup(&complete(Some("http://example.com")))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
    assert!(err.to_string().contains("https"), "{err}");

    let ok = Credentials::from_lookup(&lookup(&complete(Some("http://127.0.0.1:8080")))).unwrap();
    assert_eq!(ok.base_url().as_str(), "http://127.0.0.1:8080/");
}

#[test]
fn a_base_url_path_prefix_is_kept() {
    let credentials =
        Credentials::from_lookup(&lookup(&complete(Some("https://proxy.example/fyber")))).unwrap();
    assert_eq!(credentials.base_url().path(), "/fyber");
    // The source builds on it: see `a_base_url_path_prefix_is_kept` in tests/token.rs for
    // the request actually going there.
    let source = FyberSource::new(credentials).unwrap();
    assert_eq!(source.credentials().base_url().path(), "/fyber");
}

#[test]
fn the_builder_requires_both_halves_of_the_credentials() {
    let err = Credentials::builder()
        .client_secret("s")
        .build()
        .unwrap_err();
    assert!(err.is_configuration());
    assert!(err.to_string().contains("client_id"), "{err}");
    let err = Credentials::new("id", "").unwrap_err();
    assert!(err.is_configuration());
    assert!(err.to_string().contains("client_secret"), "{err}");
    let err = Credentials::new("  ", "s").unwrap_err();
    assert!(err.to_string().contains("client_id"), "{err}");
}

#[test]
fn credentials_in_the_url_are_refused_without_being_repeated() {
    let err = Credentials::builder()
        .client_id("id")
        .client_secret("s")
        .base_url("https://user:hunter2@reporting.fyber.com/")
        .build()
        .unwrap_err();
    assert!(err.is_configuration());
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn a_host_parsed_once_serves_many_credentials_and_is_still_checked() {
    let host = adauth_core::reqwest::Url::parse("https://proxy.example/fyber").unwrap();
    for i in 0..3 {
        let credentials = Credentials::builder()
            .client_id(format!("client-{i}"))
            .client_secret("s3cr3t")
            .base_url(&host)
            .build()
            .unwrap();
        assert_eq!(credentials.base_url(), &host);
        let source = FyberSource::new(credentials).unwrap();
        assert_eq!(
            source.token_url().as_str(),
            "https://proxy.example/fyber/auth/v1/token"
        );
    }
    let plain = adauth_core::reqwest::Url::parse("http://example.com").unwrap();
    let err = Credentials::builder()
        .client_id("c")
        .client_secret("s")
        .base_url(plain)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
}
