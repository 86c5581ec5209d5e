//! The API token forms, the builder, and credentials from environment variables (through a
//! lookup function, so the process environment is never touched).

use adauth_testkit::lookup;

use adauth_core::ErrorKind;
use adauth_mediago::{
    ACCOUNT_TOKEN_PATH, ApiToken, CLIENT_TOKEN_PATH, Credentials, DEFAULT_ACCOUNT_HEADER,
    ENV_ACCOUNT_HEADER, ENV_ACCOUNT_ID, ENV_API_TOKEN, ENV_BASE_URL, ENV_TOKEN_LEVEL,
    MediagoSource, TokenLevel,
};

const TOKEN: &str = "Y2xpZW50XzE0Nl_lup_lvIPl...";

fn from_vars(vars: &[(&str, &str)]) -> adauth_core::Result<Credentials> {
    Credentials::from_lookup(&lookup(vars))
}

#[test]
fn only_the_api_token_is_required() {
    let credentials = from_vars(&[(ENV_API_TOKEN, TOKEN)]).unwrap();
    assert!(!credentials.api_token().is_from_pair());
    assert_eq!(credentials.level(), TokenLevel::Client);
    assert_eq!(credentials.account_id(), None);
    assert_eq!(credentials.account_header().as_str(), "account-id");
    assert_eq!(DEFAULT_ACCOUNT_HEADER, "Account-Id");
    assert_eq!(credentials.base_url().as_str(), "https://api.mediago.io/");
}

#[test]
fn reads_every_optional_variable() {
    let credentials = from_vars(&[
        (ENV_API_TOKEN, " 146:s3cr3t "),
        (ENV_TOKEN_LEVEL, "Account"),
        (ENV_ACCOUNT_ID, " 12345 "),
        (ENV_ACCOUNT_HEADER, "X-Account-Id"),
        (ENV_BASE_URL, "http://127.0.0.1:8080/mediago"),
    ])
    .unwrap();
    assert!(credentials.api_token().is_from_pair());
    assert_eq!(credentials.level(), TokenLevel::Account);
    assert_eq!(credentials.account_id(), Some("12345"));
    assert_eq!(credentials.account_header().as_str(), "x-account-id");
    assert_eq!(
        credentials.base_url().as_str(),
        "http://127.0.0.1:8080/mediago"
    );
    assert!(MediagoSource::new(credentials).is_ok());
}

#[test]
fn env_vars_lists_every_variable_once() {
    assert_eq!(
        adauth_mediago::DESCRIPTOR.env_var_names(),
        [
            "ADAUTH_MEDIAGO_API_TOKEN",
            "ADAUTH_MEDIAGO_TOKEN_LEVEL",
            "ADAUTH_MEDIAGO_ACCOUNT_ID",
            "ADAUTH_MEDIAGO_ACCOUNT_HEADER",
            "ADAUTH_MEDIAGO_BASE_URL",
        ]
    );
}

#[test]
fn bad_variables_are_named_but_never_quoted() {
    type Vars<'a> = &'a [(&'a str, &'a str)];
    // (variables, the variable the error must name, a value it must not quote)
    let cases: [(Vars<'_>, &str, &str); 8] = [
        (&[], ENV_API_TOKEN, ""),
        (&[(ENV_API_TOKEN, "   ")], ENV_API_TOKEN, ""),
        (&[(ENV_API_TOKEN, "abc s3cr3t")], ENV_API_TOKEN, "s3cr3t"),
        (&[(ENV_API_TOKEN, ":s3cr3t")], ENV_API_TOKEN, "s3cr3t"),
        (&[(ENV_API_TOKEN, "146:")], ENV_API_TOKEN, "146"),
        (
            &[(ENV_API_TOKEN, TOKEN), (ENV_TOKEN_LEVEL, "tenant")],
            ENV_TOKEN_LEVEL,
            "tenant",
        ),
        (
            &[(ENV_API_TOKEN, TOKEN), (ENV_ACCOUNT_ID, "12\u{1}34")],
            ENV_ACCOUNT_ID,
            "12",
        ),
        (
            &[(ENV_API_TOKEN, TOKEN), (ENV_ACCOUNT_HEADER, "Account Id")],
            ENV_ACCOUNT_HEADER,
            "Account Id",
        ),
    ];
    for (vars, named, value) in cases {
        let err = from_vars(vars).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
        let text = err.to_string();
        assert!(text.contains(named), "{text} does not name {named}");
        if !value.is_empty() {
            assert!(!text.contains(value), "{text} quotes {value:?}");
            assert!(!format!("{err:?}").contains(value), "{err:?}");
        }
    }
}

#[test]
fn api_token_forms() {
    // Surrounding space and a pasted `Basic ` prefix are dropped; nothing else changes.
    for given in [
        TOKEN,
        "  Basic Y2xpZW50XzE0Nl_lup_lvIPl...\n",
        "basic  Y2xpZW50XzE0Nl_lup_lvIPl...",
    ] {
        let api_token = ApiToken::encoded(given).unwrap();
        assert!(!api_token.is_from_pair());
        assert!(!format!("{api_token:?}").contains("Y2xp"), "{api_token:?}");
    }
    assert!(ApiToken::parse(TOKEN).is_ok_and(|t| !t.is_from_pair()));
    assert!(ApiToken::parse("146:a:b").is_ok_and(|t| t.is_from_pair()));
    for bad in ["", "Basic ", "two words", "t\u{f6}ken"] {
        let err = ApiToken::encoded(bad).unwrap_err();
        assert!(err.is_configuration(), "{bad:?}: {err}");
    }
    for (id, secret) in [("", "s"), ("146", ""), ("1:46", "s")] {
        let err = ApiToken::from_pair(id, secret).unwrap_err();
        assert!(err.is_configuration(), "{id:?}: {err}");
    }
}

#[test]
fn the_builder_checks_what_it_is_given() {
    // Without an API token, the builder does not compile.
    let with_token = || Credentials::builder().api_token(ApiToken::encoded(TOKEN).unwrap());
    for built in [
        with_token().account_id(" ").build(),
        with_token().account_header("Bad:Header").build(),
        with_token().base_url("http://api.mediago.io").build(),
    ] {
        let err = built.unwrap_err();
        assert!(err.is_configuration(), "{err}");
    }
    let credentials = Credentials::new(ApiToken::encoded(TOKEN).unwrap()).unwrap();
    assert_eq!(credentials.level(), TokenLevel::Client);
}

#[test]
fn token_levels() {
    assert_eq!(TokenLevel::Client.token_path(), CLIENT_TOKEN_PATH);
    assert_eq!(TokenLevel::Account.token_path(), ACCOUNT_TOKEN_PATH);
    assert_eq!("CLIENT".parse::<TokenLevel>().unwrap(), TokenLevel::Client);
    assert_eq!(TokenLevel::Account.to_string(), "account");
    assert!("both".parse::<TokenLevel>().unwrap_err().is_configuration());
}
