//! Credentials from the builder and from environment variables (through a lookup function,
//! so the process environment is never touched).

mod common;

use adauth_adgem::{
    AdGemSource, Credentials, DEFAULT_BASE_URL, ENV_APP_ID, ENV_BASE_URL, ENV_CLIENT_ID,
    ENV_CLIENT_SECRET, ENV_PUB_ID,
};
use adauth_core::ErrorKind;
use adauth_testkit::Vars;

fn complete() -> Vars {
    Vars::new(&[
        (ENV_PUB_ID, "1234"),
        (ENV_APP_ID, " 5678 "),
        (ENV_CLIENT_ID, "client-1"),
        (ENV_CLIENT_SECRET, "s3cr3t"),
    ])
}

#[test]
fn reads_every_variable_and_defaults_the_host() {
    let credentials = Credentials::from_lookup(&complete().lookup()).unwrap();
    assert_eq!(credentials.pub_id(), 1234);
    assert_eq!(credentials.app_id(), 5678);
    assert_eq!(credentials.client_id(), "client-1");
    assert_eq!(credentials.base_url().as_str(), DEFAULT_BASE_URL);
}

#[test]
fn a_missing_or_blank_variable_is_named() {
    for name in [ENV_PUB_ID, ENV_APP_ID, ENV_CLIENT_ID, ENV_CLIENT_SECRET] {
        for vars in [complete().without(name), complete().with(name, "  ")] {
            let err = Credentials::from_lookup(&vars.lookup()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
            assert!(err.to_string().contains(name), "{err}");
            assert!(!err.to_string().contains("s3cr3t"), "{err}");
        }
    }
}

#[test]
fn a_non_integer_id_is_named_but_not_quoted() {
    for (name, value) in [
        (ENV_PUB_ID, "pub-42x"),
        (ENV_PUB_ID, "-7"),
        (ENV_PUB_ID, "1.5"),
        (ENV_PUB_ID, "18446744073709551616"),
        (ENV_APP_ID, "app-99y"),
    ] {
        let err = Credentials::from_lookup(&complete().with(name, value).lookup()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
        let text = err.to_string();
        assert!(text.contains(name), "{text}");
        assert!(text.contains("integer"), "{text}");
        assert!(!text.contains(value), "{text} quotes {value:?}");
        assert!(!format!("{err:?}").contains(value), "{err:?}");
    }
}

#[test]
fn plain_http_is_refused_except_for_loopback() {
    let err =
        Credentials::from_lookup(&complete().with(ENV_BASE_URL, "http://example.com").lookup())
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");

    let ok = Credentials::from_lookup(
        &complete()
            .with(ENV_BASE_URL, "http://127.0.0.1:8080")
            .lookup(),
    )
    .unwrap();
    assert_eq!(ok.base_url().as_str(), "http://127.0.0.1:8080/");
}

#[test]
fn a_base_url_path_prefix_is_kept() {
    let credentials = Credentials::from_lookup(
        &complete()
            .with(ENV_BASE_URL, "https://proxy.example/adgem")
            .lookup(),
    )
    .unwrap();
    assert_eq!(credentials.base_url().path(), "/adgem");
    // The request going there is checked in tests/token.rs.
    let source = AdGemSource::new(credentials).unwrap();
    assert_eq!(source.credentials().base_url().path(), "/adgem");
}

/// A missing setting does not compile (see the builder's docs); a blank one is refused.
#[test]
fn the_builder_refuses_blank_values() {
    for (field, built) in [
        ("client_id", Credentials::new(1, 2, " ", "s")),
        ("client_secret", Credentials::new(1, 2, "id", "")),
    ] {
        let err = built.unwrap_err();
        assert!(err.is_configuration(), "{err}");
        assert!(err.to_string().contains(field), "{err}");
    }
    let credentials = Credentials::new(7, 8, "id", "s").unwrap();
    assert_eq!((credentials.pub_id(), credentials.app_id()), (7, 8));
}
