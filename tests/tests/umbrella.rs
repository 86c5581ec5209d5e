//! End to end through the `adauth` umbrella: a provider source behind a `TokenCache`, against
//! a mock of the provider's token endpoint and a protected API endpoint on loopback.

use std::sync::Arc;
use std::time::Duration;

use adauth::secrecy::ExposeSecret;
use adauth::{ErrorKind, TokenCache, TokenSource};
use httpmock::prelude::*;
use serde_json::json;

const CANARY_SECRET: &str = "CANARY-SECRET-e2e";

fn fyber(server: &MockServer) -> adauth::fyber::FyberSource {
    let credentials = adauth::fyber::Credentials::builder()
        .client_id("reporting-id")
        .client_secret(CANARY_SECRET)
        .base_url(server.base_url())
        .build()
        .unwrap();
    adauth::fyber::FyberSource::new(credentials).unwrap()
}

fn adgem(server: &MockServer) -> adauth::adgem::AdGemSource {
    let credentials = adauth::adgem::Credentials::builder()
        .pub_id(12)
        .app_id(34)
        .client_id("app-client")
        .client_secret(CANARY_SECRET)
        .base_url(server.base_url())
        .build()
        .unwrap();
    adauth::adgem::AdGemSource::new(credentials).unwrap()
}

/// A token endpoint that issues `token` under the provider's field names.
async fn token_endpoint<'a>(
    server: &'a MockServer,
    path: &str,
    body: serde_json::Value,
) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path(path)
                .header("content-type", "application/json");
            then.status(200)
                .header("content-type", "application/json")
                .json_body(body);
        })
        .await
}

/// An API endpoint that accepts only `Bearer <token>`.
async fn protected<'a>(server: &'a MockServer, token: &str) -> httpmock::Mock<'a> {
    let header = format!("Bearer {token}");
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/report")
                .header("authorization", header.as_str());
            then.status(200).body("ok");
        })
        .await
}

/// Many concurrent callers, one token request; the token opens the protected endpoint;
/// invalidating it fetches exactly one more, and a stale invalidation keeps the new one.
/// `body` gives the provider's token answer for an access token.
async fn exercise(
    cache: TokenCache,
    server: &MockServer,
    path: &str,
    body: fn(&str) -> serde_json::Value,
) {
    let first = token_endpoint(server, path, body("token-1")).await;
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.token().await })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap().unwrap());
    }
    assert_eq!(first.calls_async().await, 1, "{}", cache.provider());
    let token = Arc::clone(&tokens[0]);
    assert_eq!(token.access_token().expose_secret(), "token-1");
    assert!(tokens.iter().all(|t| t.same_access_token(&token)));

    let api = protected(server, "token-1").await;
    let request = reqwest::Client::new().get(server.url("/api/report"));
    let response = cache
        .source()
        .authorize(request, &token)
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(api.calls_async().await, 1);

    // The API said 401: drop that token; the provider now issues another.
    first.delete_async().await;
    let second = token_endpoint(server, path, body("token-2")).await;
    assert!(cache.invalidate(&token));
    let again = cache.token().await.unwrap();
    assert_eq!(again.access_token().expose_secret(), "token-2");
    assert_eq!(second.calls_async().await, 1);
    // A late 401 for the first token must not evict the second.
    assert!(!cache.invalidate(&token));
    assert!(cache.token().await.unwrap().same_access_token(&again));
    assert_eq!(second.calls_async().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fyber_through_the_umbrella() {
    let server = MockServer::start_async().await;
    let cache = TokenCache::new(fyber(&server));
    exercise(
        cache,
        &server,
        "/auth/v1/token",
        |token| json!({"accessToken": token, "tokenType": "bearer", "expiresIn": 3600}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adgem_through_the_umbrella() {
    let server = MockServer::start_async().await;
    let cache = TokenCache::new(adgem(&server));
    exercise(
        cache,
        &server,
        "/v1/apps/tokens",
        |token| json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}),
    )
    .await;
}

#[tokio::test]
async fn rejected_credentials_reach_every_caller_with_the_provider_words_and_no_secret() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1/apps/tokens");
            then.status(401)
                .header("content-type", "application/json")
                .body(format!(
                    r#"{{"error":"invalid_client","error_description":"Invalid client credentials {CANARY_SECRET}"}}"#
                ));
        })
        .await;
    let cache = TokenCache::new(adgem(&server));
    let (a, b) = tokio::join!(cache.token(), cache.token());
    assert_eq!(mock.calls_async().await, 1);
    for err in [a.unwrap_err(), b.unwrap_err()] {
        assert_eq!(err.kind(), ErrorKind::CredentialsRejected);
        assert_eq!(err.provider(), "adgem");
        assert_eq!(err.code(), Some("invalid_client"));
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("HTTP 401"), "{shown}");
        assert!(shown.contains("Invalid client credentials"), "{shown}");
        assert!(!shown.contains(CANARY_SECRET), "{shown}");
    }
    assert!(!format!("{cache:?}").contains(CANARY_SECRET));
}

#[test]
fn the_umbrella_reexports_the_core_and_every_provider() {
    fn is_source<T: TokenSource>() {}
    is_source::<adauth::fyber::FyberSource>();
    is_source::<adauth::adgem::AdGemSource>();
    assert_eq!(adauth::fyber::PROVIDER, "fyber");
    assert_eq!(adauth::adgem::PROVIDER, "adgem");
}

#[tokio::test]
async fn a_2_mib_token_answer_is_a_clear_error_for_every_provider() {
    let server = MockServer::start_async().await;
    for path in ["/auth/v1/token", "/v1/apps/tokens"] {
        server
            .mock_async(|when, then| {
                when.method(POST).path(path);
                then.status(200)
                    .header("content-type", "application/json")
                    .body(vec![b' '; 2 * 1024 * 1024]);
            })
            .await;
    }
    let sources: [Box<dyn TokenSource>; 2] = [Box::new(fyber(&server)), Box::new(adgem(&server))];
    for source in sources {
        let err = source
            .fetch(&adauth::FetchContext::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedResponse, "{err}");
        assert_eq!(err.provider(), source.provider());
        assert!(
            err.to_string().contains("exceeds the 1024 KiB limit"),
            "{err}"
        );
    }
}

// Issue 9, item 6: an OAuth error inside a 2xx answer is that error, typed by its code, for
// every provider.
#[tokio::test]
async fn an_oauth_error_in_a_200_answer_is_that_error_for_every_provider() {
    let sandbox = adauth_testkit::Sandbox::start().await.unwrap();
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .header("content-type", "application/json")
                .json_body(json!({
                    "error": "invalid_grant",
                    "error_description": "Wrong email or password."
                }));
        })
        .await;
    for fake in sandbox.fakes() {
        let provider = fake.provider();
        // The fake's variables, pointed at the mock.
        let env: Vec<(String, String)> = fake
            .env()
            .into_iter()
            .map(|(k, v)| (k, v.replace(&fake.base_url(), &server.base_url())))
            .collect();
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let source = adauth::provider(provider)
            .unwrap()
            .source_from_lookup(&lookup)
            .unwrap();
        let err = TokenCache::new(source).token().await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::CredentialsRejected,
            "{provider}: {err}"
        );
        assert_eq!(err.status().map(|s| s.as_u16()), Some(200), "{provider}");
        assert_eq!(err.code(), Some("invalid_grant"), "{provider}: {err}");
        assert_eq!(
            err.description(),
            Some("Wrong email or password."),
            "{provider}"
        );
        assert!(
            !err.to_string().contains("lacks a field"),
            "{provider}: {err}"
        );
    }
}

// Issue 11, item 7: a token answer without a lifetime gets the provider's documented one,
// for every provider.
#[tokio::test]
async fn an_answer_without_a_lifetime_gets_the_providers_documented_one() {
    let sandbox = adauth_testkit::Sandbox::start().await.unwrap();
    for fake in sandbox.fakes() {
        let provider = adauth::provider(fake.provider()).unwrap();
        fake.withhold_lifetime(true);
        let env = fake.env();
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let source = provider.source_from_lookup(&lookup).unwrap();
        let token = TokenCache::new(source).token().await.unwrap();
        let lifetime = token
            .expires_at()
            .duration_since(token.issued_at())
            .unwrap();
        assert_eq!(
            lifetime,
            provider.documented_lifetime(),
            "{}",
            fake.provider()
        );
        assert_ne!(lifetime, adauth::FALLBACK_LIFETIME, "{}", fake.provider());
        // A lifetime set by the user wins over the documented one.
        let source = provider.source_from_lookup(&lookup).unwrap();
        let cache = TokenCache::builder_arc(source.into())
            .expiry_policy(
                adauth::ExpiryPolicy::default().default_lifetime(Duration::from_secs(90)),
            )
            .build();
        let token = cache.token().await.unwrap();
        let lifetime = token
            .expires_at()
            .duration_since(token.issued_at())
            .unwrap();
        assert_eq!(lifetime, Duration::from_secs(90), "{}", fake.provider());
    }
}

// Issue 11, item 6: a token answer that is JSON is read whatever its content type says.
#[tokio::test]
async fn a_json_answer_labelled_text_is_read_for_every_provider() {
    let sandbox = adauth_testkit::Sandbox::start().await.unwrap();
    for fake in sandbox.fakes() {
        let provider = adauth::provider(fake.provider()).unwrap();
        let env = fake.env();
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        for label in ["text/plain; charset=utf-8", "text/html"] {
            fake.label_json_as(Some(label));
            let source = provider.source_from_lookup(&lookup).unwrap();
            let token = TokenCache::new(source).token().await;
            assert!(
                token.is_ok(),
                "{} with {label}: {:?}",
                fake.provider(),
                token.err()
            );
        }
    }
}

// Issue 11, item 12: adauth's headers are set, not appended: a request that already has an
// `Authorization` (or, for MediaMath's session, a `Cookie`) leaves with one, adauth's.
#[tokio::test]
async fn authorize_sets_its_headers_in_place_of_the_requests_own() {
    use adauth::reqwest::header::{AUTHORIZATION, COOKIE};
    let sandbox = adauth_testkit::Sandbox::start().await.unwrap();
    let client = adauth::reqwest::Client::new();
    for fake in sandbox.fakes() {
        let provider = adauth::provider(fake.provider()).unwrap();
        let env = fake.env();
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let source: Arc<dyn TokenSource> = provider.source_from_lookup(&lookup).unwrap().into();
        let token = TokenCache::builder_arc(Arc::clone(&source))
            .build()
            .token()
            .await
            .unwrap();
        let theirs = client
            .get(fake.protected_url())
            .header(AUTHORIZATION, "Bearer theirs")
            .header(COOKIE, "theirs=1");
        let request = source.authorize(theirs, &token).unwrap().build().unwrap();
        let auth: Vec<_> = request.headers().get_all(AUTHORIZATION).iter().collect();
        let ours = format!("Bearer {}", token.access_token().expose_secret());
        assert_eq!(auth, [ours.as_str()], "{}", fake.provider());
        let cookies: Vec<_> = request.headers().get_all(COOKIE).iter().collect();
        assert_eq!(cookies.len(), 1, "{}: {cookies:?}", fake.provider());
    }
}
