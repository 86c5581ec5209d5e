//! Authenticated requests against the provider fakes: a second 401 reaches the caller, and
//! Mediago's reissue revokes the previous token. (Recovery from one 401, for every
//! provider, is in `conformance.rs`.)

use adauth::secrecy::ExposeSecret;
use adauth::testkit::Fake;
use adauth::{AuthorizedClient, TokenCache};
use reqwest::Method;

fn lookup(fake: &Fake) -> impl Fn(&str) -> Option<String> {
    let env = fake.env();
    move |name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

fn client(fake: &Fake) -> AuthorizedClient {
    let provider = adauth::provider(fake.provider()).unwrap();
    let source = provider.source_from_lookup(&lookup(fake)).unwrap();
    let cache = TokenCache::builder_arc(source.into()).build();
    AuthorizedClient::new(cache, reqwest::Client::new())
}

async fn call(api: &AuthorizedClient, fake: &Fake) -> reqwest::StatusCode {
    let method = Method::from_bytes(fake.protected_method().as_bytes()).unwrap();
    let request = api.request(method, fake.protected_url());
    api.send(request).await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_401_reaches_the_caller() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    // Any provider: the first registered.
    let fake = &sandbox.fakes()[0];
    let api = client(fake);
    // Every token the fake issues is dead on arrival.
    fake.set_token_lifetime(std::time::Duration::ZERO);
    assert_eq!(call(&api, fake).await, 401);
    assert_eq!(fake.unauthorized(), 2, "tried once more, then gave up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mediago_reissue_logs_out_a_second_cache_but_not_a_shared_one() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediago").unwrap();
    let shared = client(fake);
    let clone = shared.clone();
    assert_eq!(call(&shared, fake).await, 200);
    assert_eq!(call(&clone, fake).await, 200);
    assert_eq!(fake.token_requests(), 1, "clones share one token");

    // A second, separate cache gets its own token, which revokes the first one: the
    // shared cache then recovers (and in turn logs the other out). This is why one cache
    // per API token must be shared.
    let other = client(fake);
    assert_eq!(call(&other, fake).await, 200);
    assert_eq!(call(&shared, fake).await, 200);
    assert_eq!(fake.unauthorized(), 1);
    assert_eq!(fake.token_requests(), 3);
    let token = shared.cache().token().await.unwrap();
    assert!(token.access_token().expose_secret().starts_with("fake-"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_refresh_tokens_revoked_too_the_credentials_are_used_again() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    for name in ["mediamath", "admitad"] {
        let fake = sandbox.fake(name).unwrap();
        let api = client(fake);
        assert_eq!(call(&api, fake).await, 200, "{name}");
        fake.revoke_all();
        fake.revoke_refresh_tokens();
        assert_eq!(call(&api, fake).await, 200, "{name}: recovered");
        // The refused refresh, then a fresh grant with the credentials.
        assert_eq!(fake.token_requests(), 3, "{name}");
        assert_eq!(fake.unauthorized(), 1, "{name}");
    }
}
