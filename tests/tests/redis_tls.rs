//! The Redis store over TLS (`rediss://`) and encrypted at rest, against `redis-server`s
//! started with TLS on loopback, each with a CA made for it alone.

use std::sync::Arc;
use std::time::Duration;

use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{
    ErrorKind, FetchContext, Result, SealedStore, StoreKey, Token, TokenCache, TokenSource,
    TokenStore, async_trait, credential_identity,
};
use adauth_redis::RedisStore;
use adauth_testkit::RedisServer;
use redis::AsyncCommands as _;

const CANARY_SECRET: &str = "CANARY-client-secret";
const CANARY_TOKEN: &str = "CANARYaccesstoken";

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn key() -> StoreKey {
    StoreKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap()
}

/// A plain connection to the TLS server, to look at what it holds.
async fn raw(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::build_with_tls(
        server.url().as_str(),
        redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(server.ca_pem().unwrap().to_vec()),
        },
    )
    .unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

#[tokio::test]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn the_store_works_over_tls_with_the_servers_ca() {
    let server = RedisServer::start_tls();
    assert!(server.url().starts_with("rediss://127.0.0.1:"));
    let store = RedisStore::connect_tls(&server.url(), server.ca_pem().unwrap())
        .await
        .unwrap();
    let r1 = store
        .compare_and_set("k", None, &secret("a"))
        .await
        .unwrap()
        .unwrap();
    let loaded = store.load("k").await.unwrap().unwrap();
    assert_eq!(
        (loaded.revision.as_str(), loaded.value.expose_secret()),
        (r1.as_str(), "a")
    );
    let lease = store
        .try_lease("k", Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .renew("k", &lease, Duration::from_secs(5))
            .await
            .unwrap()
    );
    store.release("k", lease).await.unwrap();
    // The same through the environment, as the command connects.
    let ca_file = server.ca_file().unwrap().display().to_string();
    let url = server.url();
    let lookup = |name: &str| match name {
        "ADAUTH_REDIS_URL" => Some(url.clone()),
        "ADAUTH_REDIS_CA_FILE" => Some(ca_file.clone()),
        _ => None,
    };
    let from_env = RedisStore::from_lookup(&lookup).await.unwrap();
    assert_eq!(from_env.load("k").await.unwrap().unwrap().revision, r1);
}

#[tokio::test]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn a_tls_server_is_not_trusted_without_its_ca_nor_spoken_to_in_plain_text() {
    let server = RedisServer::start_tls();
    // The system's roots do not include this server's CA.
    let err = RedisStore::connect(&server.url()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    let text = err.to_string().to_lowercase();
    assert!(text.contains("could not connect"), "{text}");
    assert!(
        text.contains("certificate") || text.contains("issuer"),
        "{text}"
    );
    // Plain text to the TLS port gets no answer it can use.
    let plain = server.url().replacen("rediss://", "redis://", 1);
    let err = RedisStore::connect(&plain).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    // A CA for another scheme is a configuration mistake, said as such.
    let err = RedisStore::connect_tls(&plain, server.ca_pem().unwrap())
        .await
        .unwrap_err();
    assert!(err.is_configuration(), "{err}");
    assert!(err.to_string().contains("rediss://"), "{err}");
}

/// A source whose identity and token are canaries.
#[derive(Debug)]
struct Canary;

#[async_trait]
impl TokenSource for Canary {
    fn provider(&self) -> &str {
        "canary"
    }
    fn identity(&self) -> Option<String> {
        Some(credential_identity("canary", &["client-id", CANARY_SECRET]))
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let now = cx.now();
        Ok(
            Token::new(secret(CANARY_TOKEN), now, now + Duration::from_secs(3600))
                .with_refresh_token(Some(secret("CANARYrefresh"))),
        )
    }
}

#[tokio::test]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn a_reader_of_redis_learns_no_token_and_cannot_test_a_guessed_credential() {
    let server = RedisServer::start_tls();
    let redis = RedisStore::connect_tls(&server.url(), server.ca_pem().unwrap())
        .await
        .unwrap();
    let store: Arc<dyn TokenStore> = Arc::new(SealedStore::new(redis, key()));
    let first = TokenCache::builder(Canary)
        .store(Arc::clone(&store))
        .build();
    let token = first.token().await.unwrap();
    // A second process with the same key uses the stored token.
    let second = TokenCache::builder(Canary)
        .store(Arc::clone(&store))
        .build();
    assert!(second.token().await.unwrap().same_access_token(&token));

    // What a reader of the server sees: key names and values.
    let mut raw = raw(&server).await;
    let keys: Vec<String> = raw.keys("*").await.unwrap();
    assert!(!keys.is_empty());
    // The unkeyed identity a guesser would compute from a guessed secret is in no name.
    let guessed = Canary.identity().unwrap();
    let digest = guessed.trim_start_matches("canary-");
    for name in &keys {
        assert!(!name.contains(digest), "{name}");
        assert!(!name.contains("canary"), "{name}");
        if let Ok(Some(value)) = raw.get::<_, Option<String>>(name).await {
            assert!(!value.contains("CANARY"), "{name}: {value}");
            assert!(!value.contains("access_token"), "{name}: {value}");
        }
    }
}
