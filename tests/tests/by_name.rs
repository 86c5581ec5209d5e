//! The umbrella's by-name constructor, with each provider's credentials in the environment:
//! every registered provider, against its fake.
//!
//! The environment is set on a child process (this same test binary, running the ignored
//! test below), so no test changes its own process environment.

use std::process::Command;

const CHILD: &str = "child_fetches_a_token_from_every_provider_named_in_the_environment";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_can_be_built_by_name_from_its_environment_variables() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args([CHILD, "--exact", "--ignored", "--nocapture"]);
    for (name, _) in std::env::vars() {
        if name.starts_with("ADAUTH_") {
            child.env_remove(name);
        }
    }
    child.envs(sandbox.env());
    let output = tokio::task::spawn_blocking(move || child.output().unwrap())
        .await
        .unwrap();
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed:\n{shown}");
    assert!(
        shown.contains(&format!("{CHILD} ... ok")),
        "the child test did not run:\n{shown}"
    );
    for fake in sandbox.fakes() {
        assert_eq!(fake.token_requests(), 1, "{}", fake.provider());
    }
}

#[tokio::test]
#[ignore = "run by every_provider_can_be_built_by_name_from_its_environment_variables"]
async fn child_fetches_a_token_from_every_provider_named_in_the_environment() {
    use adauth::secrecy::ExposeSecret;

    assert!(!adauth::PROVIDERS.is_empty());
    for provider in adauth::PROVIDERS {
        let name = provider.name();
        let source = adauth::source_from_env(&name.to_uppercase()).unwrap();
        assert_eq!(source.provider(), name);
        let cache = adauth::TokenCache::builder_arc(source.into()).build();
        let token = cache.token().await.unwrap();
        let prefix = format!("fake-{name}-access-");
        assert!(
            token.access_token().expose_secret().starts_with(&prefix),
            "{name}"
        );
    }
    let err = adauth::source_from_env("doubleclick").err().unwrap();
    assert!(err.is_configuration());
    let names: Vec<&str> = adauth::PROVIDERS.iter().map(|p| p.name()).collect();
    let listed = format!("compiled in: {}", names.join(", "));
    assert!(err.to_string().contains(&listed), "{err}");
}
