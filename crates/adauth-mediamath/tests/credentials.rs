//! Credentials from the builders and from environment variables (through a lookup function,
//! so the process environment is never touched).

use adauth_testkit::Vars;
use std::cell::RefCell;
use std::collections::BTreeSet;

use adauth_core::ErrorKind;
use adauth_mediamath::{
    AppCredentials, BodyEncoding, Credentials, DEFAULT_API_URL, DEFAULT_AUDIENCE, DEFAULT_AUTH_URL,
    ENV_API_URL, ENV_AUDIENCE, ENV_AUTH_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_PASSWORD,
    ENV_REALM, ENV_SCOPE, ENV_SESSION, ENV_USERNAME,
};

fn required() -> Vars {
    Vars::new(&[
        (ENV_CLIENT_ID, "client-1"),
        (ENV_CLIENT_SECRET, "s3cr3t"),
        (ENV_USERNAME, " user@example.com "),
        (ENV_PASSWORD, "pa55"),
    ])
}

#[test]
fn the_required_variables_alone_give_the_documented_defaults() {
    let c = Credentials::from_lookup(&required().lookup()).unwrap();
    assert_eq!(c.client_id(), "client-1");
    assert_eq!(c.username(), "user@example.com");
    assert_eq!(c.audience(), DEFAULT_AUDIENCE);
    assert_eq!(c.audience(), "https://api.mediamath.com/");
    assert_eq!(c.scope(), "");
    assert_eq!(c.realm(), None);
    assert_eq!(c.auth_url().as_str(), DEFAULT_AUTH_URL);
    // The host of the current docs (issue 11, item 9); the page's is a named constant.
    assert_eq!(c.auth_url().as_str(), "https://auth.mediamath.com/");
    assert_eq!(
        adauth_mediamath::PAGE_AUTH_URL,
        "https://mediamath.auth0.com/"
    );
    assert_eq!(c.api_url().as_str(), DEFAULT_API_URL);
    assert_eq!(c.api_url().as_str(), "https://api.mediamath.com/");
    assert!(!c.session());
    assert_eq!(c.encoding(), BodyEncoding::Json);
}

#[test]
fn every_optional_variable_is_read() {
    let vars = required()
        .with(ENV_AUDIENCE, "https://api.example/")
        .with(ENV_SCOPE, "manage:services offline_access")
        .with(ENV_REALM, "T1DB-Production")
        .with(ENV_AUTH_URL, adauth_mediamath::PAGE_AUTH_URL)
        .with(ENV_API_URL, "https://t1sandbox.mediamath.com")
        .with(ENV_SESSION, "1");
    let c = Credentials::from_lookup(&vars.lookup()).unwrap();
    assert_eq!(c.audience(), "https://api.example/");
    assert_eq!(c.scope(), "manage:services offline_access");
    assert_eq!(c.realm(), Some("T1DB-Production"));
    assert_eq!(c.auth_url().as_str(), "https://mediamath.auth0.com/");
    assert_eq!(c.api_url().as_str(), "https://t1sandbox.mediamath.com/");
    assert!(c.session());
}

#[test]
fn env_vars_lists_exactly_the_variables_read() {
    let asked = RefCell::new(BTreeSet::new());
    let vars = required().lookup();
    let recording = |name: &str| {
        asked.borrow_mut().insert(name.to_owned());
        vars(name)
    };
    Credentials::from_lookup(&recording).unwrap();
    let listed: BTreeSet<String> = adauth_mediamath::DESCRIPTOR
        .env_var_names()
        .iter()
        .map(|v| (*v).to_owned())
        .collect();
    assert_eq!(
        adauth_mediamath::DESCRIPTOR.env_var_names().len(),
        listed.len(),
        "duplicates in the descriptor"
    );
    assert_eq!(asked.into_inner(), listed);
}

#[test]
fn the_session_switch_takes_only_1_or_0() {
    for (value, expected) in [("1", true), ("0", false), (" 1 ", true), ("", false)] {
        let c = Credentials::from_lookup(&required().with(ENV_SESSION, value).lookup()).unwrap();
        assert_eq!(c.session(), expected, "{value:?}");
    }
    for value in ["yes", "true", "2", "on-please"] {
        let err =
            Credentials::from_lookup(&required().with(ENV_SESSION, value).lookup()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
        assert!(err.to_string().contains(ENV_SESSION), "{err}");
        assert!(err.to_string().contains("must be `1` or `0`"), "{err}");
        assert!(!err.to_string().contains(value), "{err} quotes {value:?}");
    }
}

#[test]
fn plain_http_hosts_are_refused_except_for_loopback() {
    for name in [ENV_AUTH_URL, ENV_API_URL] {
        let err =
            Credentials::from_lookup(&required().with(name, "http://auth.mediamath.com").lookup())
                .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
        assert!(
            Credentials::from_lookup(&required().with(name, "http://127.0.0.1:9").lookup()).is_ok()
        );
    }
}

#[test]
fn the_builder_refuses_blank_credentials() {
    // A credential left out does not compile; a blank one is refused.
    let cases = [
        ("client_id", Credentials::new(" ", "s", "u", "p")),
        ("client_secret", Credentials::new("id", "", "u", "p")),
        ("username", Credentials::new("id", "s", "", "p")),
        ("password", Credentials::new("id", "s", "u", "")),
        (
            "realm",
            Credentials::builder()
                .client_id("id")
                .client_secret("s")
                .username("u")
                .password("p")
                .realm(" ")
                .build(),
        ),
    ];
    for (field, built) in cases {
        let err = built.unwrap_err();
        assert!(err.is_configuration(), "{err}");
        assert!(err.to_string().contains(field), "{err}");
    }
    let c = Credentials::new("id", "s", "u", "p").unwrap();
    assert_eq!(c.auth_url().as_str(), DEFAULT_AUTH_URL);
}

#[test]
fn app_credentials_default_to_a_refresh_token_and_pkce() {
    let app = AppCredentials::new("id", "s", "http://localhost:8765/callback").unwrap();
    assert_eq!(app.scope(), "offline_access");
    assert_eq!(app.audience(), DEFAULT_AUDIENCE);
    assert!(app.pkce());
    assert!(!app.session());
    // Sent exactly as registered: no normalisation.
    let app = AppCredentials::new("id", "s", "https://app.example").unwrap();
    assert_eq!(app.redirect_uri(), "https://app.example");

    for (field, result) in [
        (
            "client_id",
            AppCredentials::new("", "s", "https://app.example/cb"),
        ),
        (
            "client_secret",
            AppCredentials::new("id", "", "https://app.example/cb"),
        ),
        ("redirect_uri", AppCredentials::new("id", "s", "")),
        ("redirect_uri", AppCredentials::new("id", "s", "/callback")),
    ] {
        let err = result.unwrap_err();
        assert!(err.is_configuration(), "{err}");
        assert!(err.to_string().contains(field), "{err}");
    }
}
