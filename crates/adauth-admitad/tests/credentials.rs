//! Credentials from the builder and from environment variables (through a lookup function,
//! so the process environment is never touched), and the scope types.

use adauth_testkit::Vars;

use adauth_admitad::{
    AdmitadSource, Credentials, DEFAULT_BASE_URL, ENV_BASE_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET,
    ENV_SCOPE, Scope, Scopes,
};
use adauth_core::ErrorKind;

fn complete() -> Vars {
    Vars::new(&[
        (ENV_CLIENT_ID, "client-1"),
        (ENV_CLIENT_SECRET, "s3cr3t"),
        (ENV_SCOPE, " websites  advcampaigns banners "),
    ])
}

#[test]
fn env_vars_lists_every_variable_read() {
    assert_eq!(
        adauth_admitad::DESCRIPTOR.env_var_names(),
        [
            "ADAUTH_ADMITAD_CLIENT_ID",
            "ADAUTH_ADMITAD_CLIENT_SECRET",
            "ADAUTH_ADMITAD_SCOPE",
            "ADAUTH_ADMITAD_BASE_URL",
        ]
    );
}

#[test]
fn reads_every_variable_and_defaults_the_hosts() {
    let credentials = Credentials::from_lookup(&complete().lookup()).unwrap();
    assert_eq!(credentials.client_id(), "client-1");
    assert_eq!(
        credentials.scopes().to_string(),
        "advcampaigns banners websites"
    );
    assert_eq!(credentials.base_url().as_str(), DEFAULT_BASE_URL);
    assert_eq!(
        credentials.authorize_url().as_str(),
        "https://api.admitad.com/authorize/"
    );

    let credentials = Credentials::from_lookup(
        &complete()
            .with(ENV_BASE_URL, "http://127.0.0.1:9/x")
            .lookup(),
    )
    .unwrap();
    assert_eq!(credentials.base_url().as_str(), "http://127.0.0.1:9/x");
    assert_eq!(
        credentials.authorize_url().as_str(),
        "http://127.0.0.1:9/x/authorize/"
    );
}

#[test]
fn a_bad_scope_or_host_is_a_configuration_error() {
    let err = Credentials::from_lookup(&complete().with(ENV_SCOPE, "banners \"quoted\"").lookup())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.to_string().contains(ENV_SCOPE), "{err}");

    let err = Credentials::from_lookup(
        &complete()
            .with(ENV_BASE_URL, "http://api.admitad.com/")
            .lookup(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.to_string().contains("https"), "{err}");
}

#[test]
fn the_builder_requires_a_scope_and_valid_names() {
    let builder = || {
        Credentials::builder()
            .client_id("client-1")
            .client_secret("s3cr3t")
    };
    let err = builder().build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.to_string().contains("scope"), "{err}");

    let err = builder()
        .scope(Scope::Other("two words".into()))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);

    let credentials = builder()
        .scope(Scope::Statistics)
        .scopes([Scope::Banners, Scope::Statistics])
        .build()
        .unwrap();
    assert_eq!(credentials.scopes().to_string(), "banners statistics");
    let source = AdmitadSource::new(credentials).unwrap();
    assert!(!format!("{source:?}").contains("s3cr3t"));
}

#[test]
fn scopes_render_in_a_stable_order_and_parse_back() {
    let scopes: Scopes = "websites banners advcampaigns".parse().unwrap();
    assert_eq!(scopes.to_string(), "advcampaigns banners websites");
    assert_eq!(scopes.len(), 3);
    assert_eq!(scopes.to_string().parse::<Scopes>().unwrap(), scopes);
    assert_eq!(
        scopes.iter().collect::<Vec<_>>(),
        [&Scope::Advcampaigns, &Scope::Banners, &Scope::Websites]
    );
    assert!("".parse::<Scopes>().unwrap().is_empty());
}

#[test]
fn every_known_scope_round_trips_and_others_are_kept() {
    let names = "public_data private_data websites manage_websites advcampaigns \
                 advcampaigns_for_website banners coupons statistics deeplink_generator \
                 validate_links payments lost_orders advertiser_statistics \
                 advertiser_websites advertiser_info";
    let scopes: Scopes = names.parse().unwrap();
    assert_eq!(scopes.len(), Scope::KNOWN.len());
    for scope in Scope::KNOWN {
        assert!(!matches!(scope, Scope::Other(_)));
        assert_eq!(&scope.as_str().parse::<Scope>().unwrap(), scope);
        assert!(scopes.contains(scope));
    }

    let other: Scope = "broker_application".parse().unwrap();
    assert_eq!(other, Scope::Other("broker_application".into()));
    assert_eq!(Scope::Other("banners".into()), Scope::Banners);
    for bad in ["", "a b", "quo\"te", "back\\slash", "юникод"] {
        assert!(bad.parse::<Scope>().is_err(), "{bad:?}");
    }
}
