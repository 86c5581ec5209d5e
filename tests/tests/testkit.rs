//! The testkit as users' own tests use it: one provider's fake started alone, typed by its
//! descriptor, with a source pointing at it. Typed credentials (`fake.credentials(...)`)
//! are shown by `adauth::testkit::start`'s example, which runs as a doctest.

use adauth::testkit::{self, Fake};
use adauth::{AuthorizedClient, TokenCache};

async fn protected_status(fake: &Fake, source: Box<dyn adauth::TokenSource>) -> u16 {
    let api = AuthorizedClient::new(
        TokenCache::builder_arc(source.into()).build(),
        adauth::reqwest::Client::new(),
    );
    let method = adauth::reqwest::Method::from_bytes(fake.protected_method().as_bytes()).unwrap();
    let response = api
        .send(api.request(method, fake.protected_url()))
        .await
        .unwrap();
    response.status().as_u16()
}

#[tokio::test]
async fn each_fake_starts_alone_and_its_source_reaches_it() {
    for provider in adauth::PROVIDERS {
        let fake = testkit::start(provider).await.unwrap();
        assert_eq!(fake.provider(), provider.name());
        let source = testkit::source(&fake).unwrap();
        assert_eq!(
            protected_status(&fake, source).await,
            200,
            "{}",
            provider.name()
        );
        assert_eq!(fake.token_requests(), 1, "{}", provider.name());
    }
}

#[tokio::test]
async fn the_file_store_and_the_memory_store_keep_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let file = adauth::FileStore::new(dir.path()).unwrap();
    adauth::testkit::contract::compare_and_set(&file, "fyber-1").await;
    let memory = adauth::testkit::MemoryStore::new();
    adauth::testkit::contract::compare_and_set(&memory, "fyber-1").await;
}
