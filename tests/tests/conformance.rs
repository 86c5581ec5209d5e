//! What every provider must do, run once over the registry (`adauth::PROVIDERS`) against
//! each provider's own fake (or a mock that stands where the fake's variables point): a
//! provider crate that registers itself is covered here without a line of its own.
//!
//! A provider's own tests keep only its wire format: exact requests, documented answers and
//! codes.

use std::sync::Arc;
use std::time::Duration;

use adauth::secrecy::ExposeSecret;
use adauth::testkit::{Fake, Sandbox};
use adauth::{AuthorizedClient, ErrorKind, FetchContext, Provider, TokenCache, TokenSource};
use httpmock::prelude::*;
use serde_json::json;

async fn sandbox() -> Sandbox {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    assert_eq!(sandbox.fakes().len(), adauth::PROVIDERS.len());
    assert!(!adauth::PROVIDERS.is_empty());
    sandbox
}

type Lookup = dyn Fn(&str) -> Option<String>;

fn descriptor(fake: &Fake) -> &'static Provider {
    adauth::provider(fake.provider()).unwrap()
}

/// The provider's source from its fake's variables, with `overrides`.
fn source(fake: &Fake, overrides: &[(&str, &str)]) -> Arc<dyn TokenSource> {
    descriptor(fake)
        .source_from_lookup(&fake.lookup(overrides))
        .unwrap()
        .into()
}

/// The provider's source from its fake's variables, pointed at `server` instead.
fn source_at(fake: &Fake, server: &MockServer) -> Arc<dyn TokenSource> {
    let env: Vec<(String, String)> = fake
        .env()
        .into_iter()
        .map(|(k, v)| (k, v.replace(&fake.base_url(), &server.base_url())))
        .collect();
    let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    descriptor(fake).source_from_lookup(&lookup).unwrap().into()
}

/// A mock that answers every request with `status`, `content_type` and `body`.
async fn answering(status: u16, content_type: &str, body: Vec<u8>) -> MockServer {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(status)
                .header("content-type", content_type)
                .body(body);
        })
        .await;
    server
}

fn no_retries(source: Arc<dyn TokenSource>) -> TokenCache {
    TokenCache::builder_arc(source)
        .backoff(Duration::from_millis(1), Duration::from_millis(1))
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_callers_share_one_fetch_and_an_invalidated_token_is_replaced_once() {
    let sandbox = sandbox().await;
    for fake in sandbox.fakes() {
        let name = fake.provider();
        let cache = TokenCache::builder_arc(source(fake, &[])).build();
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.token().await })
            })
            .collect();
        let mut tokens = Vec::new();
        for task in tasks {
            tokens.push(task.await.unwrap().unwrap());
        }
        assert_eq!(fake.token_requests(), 1, "{name}");
        assert!(
            tokens.iter().all(|t| t.same_access_token(&tokens[0])),
            "{name}"
        );
        assert!(cache.invalidate(&tokens[0]), "{name}");
        let again = cache.token().await.unwrap();
        assert!(!again.same_access_token(&tokens[0]), "{name}");
        assert!(
            !cache.invalidate(&tokens[0]),
            "{name}: a stale invalidation"
        );
        assert!(cache.token().await.unwrap().same_access_token(&again));
        assert_eq!(fake.token_requests(), 2, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_recovered_from_with_one_token_request() {
    let sandbox = sandbox().await;
    for fake in sandbox.fakes() {
        let name = fake.provider();
        let api = AuthorizedClient::new(
            TokenCache::builder_arc(source(fake, &[])).build(),
            reqwest::Client::new(),
        );
        let method = reqwest::Method::from_bytes(fake.protected_method().as_bytes()).unwrap();
        let call = || async {
            let request = api.request(method.clone(), fake.protected_url());
            api.send(request).await.unwrap().status().as_u16()
        };
        assert_eq!(call().await, 200, "{name}");
        assert_eq!(call().await, 200, "{name}");
        assert_eq!(fake.token_requests(), 1, "{name}: the token is cached");
        fake.revoke_all();
        assert_eq!(call().await, 200, "{name}: recovered");
        assert_eq!(fake.unauthorized(), 1, "{name}: one 401");
        assert_eq!(fake.token_requests(), 2, "{name}: one more token request");
    }
}

#[tokio::test]
async fn a_base_url_with_a_path_keeps_it_for_the_token_and_the_api() {
    let sandbox = adauth::testkit::sandbox()
        .path_prefix("/gateway/v2")
        .build()
        .await
        .unwrap();
    assert_eq!(sandbox.fakes().len(), adauth::PROVIDERS.len());
    for fake in sandbox.fakes() {
        let name = fake.provider();
        assert!(fake.base_url().ends_with("/gateway/v2"), "{name}");
        let api = AuthorizedClient::new(
            TokenCache::builder_arc(source(fake, &[])).build(),
            reqwest::Client::new(),
        );
        let method = reqwest::Method::from_bytes(fake.protected_method().as_bytes()).unwrap();
        let request = api.request(method, fake.protected_url());
        let status = api.send(request).await.unwrap().status().as_u16();
        assert_eq!(status, 200, "{name}: the fake is only under the prefix");
        assert_eq!(fake.token_requests(), 1, "{name}");
    }
}

#[tokio::test]
async fn canary_secrets_are_never_shown() {
    let sandbox = sandbox().await;
    for fake in sandbox.fakes() {
        let provider = descriptor(fake);
        let secrets: Vec<_> = provider
            .env_vars()
            .iter()
            .filter(|v| v.is_secret() && fake.env().iter().any(|(k, _)| k == v.name()))
            .map(|v| (v.name(), format!("CANARY-{}-7f3a9", v.name())))
            .collect();
        assert!(
            !secrets.is_empty(),
            "{} marks no secret variable",
            provider.name()
        );
        let overrides: Vec<(&str, &str)> = secrets.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let source = source(fake, &overrides);
        let cache = no_retries(Arc::clone(&source));
        let err = cache.token().await.unwrap_err();
        let shown = format!("{err} {err:?} {source:?} {cache:?}");
        for (_, canary) in &secrets {
            assert!(
                !shown.contains(canary.as_str()),
                "{}: {shown}",
                provider.name()
            );
        }
        assert_eq!(err.provider(), provider.name(), "{err}");
    }
}

#[tokio::test]
async fn a_missing_or_blank_required_variable_is_named_and_no_secret_is_quoted() {
    let sandbox = sandbox().await;
    for fake in sandbox.fakes() {
        let provider = descriptor(fake);
        let secrets: Vec<String> = fake
            .env()
            .into_iter()
            .filter(|(k, _)| {
                provider
                    .env_vars()
                    .iter()
                    .any(|v| v.name() == k && v.is_secret())
            })
            .map(|(_, v)| v)
            .collect();
        for name in provider.required_env_vars() {
            let full = fake.lookup(&[]);
            let missing = move |n: &str| if n == name { None } else { full(n) };
            let blank = fake.lookup(&[(name, "  ")]);
            for lookup in [&missing as &Lookup, &blank] {
                let err = provider.source_from_lookup(lookup).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Configuration, "{name}: {err}");
                assert_eq!(err.provider(), provider.name(), "{err}");
                let shown = format!("{err} {err:?}");
                assert!(shown.contains(name), "{name}: {shown}");
                for secret in &secrets {
                    assert!(!shown.contains(secret.as_str()), "{name}: {shown}");
                }
            }
        }
    }
}

#[tokio::test]
async fn each_failure_of_the_token_endpoint_is_its_kind() {
    let sandbox = sandbox().await;
    for fake in sandbox.fakes() {
        let name = fake.provider();
        let source = source(fake, &[]);
        let cx = FetchContext::default();
        for (status, kind) in [
            (500, ErrorKind::ProviderUnavailable),
            (429, ErrorKind::RateLimited),
            (401, ErrorKind::CredentialsRejected),
        ] {
            // Every attempt fails (5xx and 429 are retried), then the fake recovers.
            fake.fail_next(usize::MAX, status);
            let err = source.fetch(&cx).await.unwrap_err();
            fake.fail_next(0, 500);
            assert_eq!(err.kind(), kind, "{name} {status}: {err}");
            assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{name}");
            assert_eq!(err.provider(), name);
        }
        assert!(source.fetch(&cx).await.is_ok(), "{name}");
    }
}

#[tokio::test]
async fn html_truncated_and_oversized_answers_are_clear_errors() {
    let sandbox = sandbox().await;
    let cases: [(u16, &str, Vec<u8>, &str); 4] = [
        (
            200,
            "text/html",
            b"<html><body>Maintenance</body></html>".to_vec(),
            "expected a JSON body",
        ),
        (
            502,
            "text/html",
            b"<html><body>Bad gateway</body></html>".to_vec(),
            "HTTP 502",
        ),
        (
            200,
            "application/json",
            br#"{"access_token": "abc"#.to_vec(),
            "truncated",
        ),
        (
            200,
            "application/json",
            vec![b' '; 2 * 1024 * 1024],
            "exceeds the 1024 KiB limit",
        ),
    ];
    for (status, content_type, body, words) in cases {
        let server = answering(status, content_type, body).await;
        for fake in sandbox.fakes() {
            let name = fake.provider();
            let err = source_at(fake, &server)
                .fetch(&FetchContext::default())
                .await
                .unwrap_err();
            assert_eq!(err.provider(), name);
            assert!(err.to_string().contains(words), "{name}: {err}");
            let expected = if status >= 500 {
                ErrorKind::ProviderUnavailable
            } else {
                ErrorKind::UnexpectedResponse
            };
            assert_eq!(err.kind(), expected, "{name}: {err}");
        }
    }
}

#[tokio::test]
async fn an_oauth_error_in_a_200_answer_is_that_error() {
    let sandbox = sandbox().await;
    let body = json!({"error": "invalid_grant", "error_description": "Wrong email or password."});
    let server = answering(200, "application/json", body.to_string().into_bytes()).await;
    for fake in sandbox.fakes() {
        let name = fake.provider();
        let err = TokenCache::builder_arc(source_at(fake, &server))
            .build()
            .token()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{name}: {err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(200), "{name}");
        assert_eq!(err.code(), Some("invalid_grant"), "{name}: {err}");
        assert_eq!(
            err.description(),
            Some("Wrong email or password."),
            "{name}"
        );
    }
}

#[tokio::test]
async fn absurd_lifetimes_get_the_documented_one_a_cap_or_a_clear_error() {
    let sandbox = sandbox().await;
    for fake in sandbox.fakes() {
        let provider = descriptor(fake);
        let name = provider.name();
        let documented = provider
            .documented_lifetime()
            .unwrap_or(adauth::FALLBACK_LIFETIME);
        let lifetime = |token: &adauth::Token| {
            token
                .expires_at()
                .duration_since(token.issued_at())
                .unwrap()
        };
        for (value, expected) in [
            (json!(0), Some(documented)),
            (json!(-5), Some(documented)),
            (json!(null), Some(documented)),
            (
                json!(1_000_000_000_000_u64),
                Some(Duration::from_secs(30 * 24 * 3600)),
            ),
        ] {
            fake.answer_expires_in(Some(value.clone()));
            // Through a cache, which tells the fetch the provider's documented lifetime.
            let token = TokenCache::builder_arc(source(fake, &[]))
                .build()
                .token()
                .await;
            let token = token.unwrap_or_else(|e| panic!("{name} {value}: {e}"));
            // At most what is expected; a session fetched with the token (MediaMath) may
            // bound it by the fake's own lifetime, an hour.
            let expected = expected.unwrap();
            let got = lifetime(&token);
            assert!(got <= expected, "{name} {value}: {got:?}");
            assert!(
                got >= expected.min(Duration::from_secs(3599)),
                "{name} {value}: {got:?}"
            );
        }
        fake.answer_expires_in(Some(json!("soon")));
        let err = source(fake, &[])
            .fetch(&FetchContext::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedResponse, "{name}: {err}");
        assert!(
            err.to_string().contains("not a number of seconds"),
            "{name}: {err}"
        );
        assert!(!err.to_string().contains("soon"), "{name}: {err}");
        fake.answer_expires_in(None);
    }
}

#[tokio::test]
async fn an_answer_without_a_lifetime_gets_the_providers_documented_one() {
    let sandbox = sandbox().await;
    for fake in sandbox.fakes() {
        let provider = descriptor(fake);
        fake.withhold_lifetime(true);
        let token = TokenCache::builder_arc(source(fake, &[]))
            .build()
            .token()
            .await
            .unwrap();
        let lifetime = token
            .expires_at()
            .duration_since(token.issued_at())
            .unwrap();
        assert_eq!(
            Some(lifetime),
            provider.documented_lifetime(),
            "{}",
            provider.name()
        );
        assert_ne!(lifetime, adauth::FALLBACK_LIFETIME, "{}", provider.name());
        // A lifetime set by the user wins over the documented one.
        let cache = TokenCache::builder_arc(source(fake, &[]))
            .expiry_policy(
                adauth::ExpiryPolicy::default().default_lifetime(Duration::from_secs(90)),
            )
            .build();
        let token = cache.token().await.unwrap();
        let lifetime = token
            .expires_at()
            .duration_since(token.issued_at())
            .unwrap();
        assert_eq!(lifetime, Duration::from_secs(90), "{}", provider.name());
    }
}

#[tokio::test]
async fn a_json_answer_labelled_text_is_read() {
    let sandbox = sandbox().await;
    for fake in sandbox.fakes() {
        for label in ["text/plain; charset=utf-8", "text/html"] {
            fake.label_json_as(Some(label));
            let token = source(fake, &[]).fetch(&FetchContext::default()).await;
            assert!(
                token.is_ok(),
                "{} with {label}: {:?}",
                fake.provider(),
                token.err()
            );
        }
        fake.label_json_as(None);
    }
}

#[tokio::test]
async fn authorize_sets_its_headers_in_place_of_the_requests_own() {
    use adauth::reqwest::header::{AUTHORIZATION, COOKIE};
    let sandbox = sandbox().await;
    let client = adauth::reqwest::Client::new();
    for fake in sandbox.fakes() {
        let source = source(fake, &[]);
        let token = source.fetch(&FetchContext::default()).await.unwrap();
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

// Any HTTP stack on the `http` 1.x crate: the headers go into an `http::Request`, which
// reaches the protected endpoint with nothing of reqwest's but the transport.
#[tokio::test]
async fn the_headers_alone_open_the_protected_endpoint_and_match_authorize() {
    use adauth::reqwest::header::{AUTHORIZATION, COOKIE, HeaderMap, HeaderValue};
    let sandbox = sandbox().await;
    let client = adauth::reqwest::Client::new();
    for fake in sandbox.fakes() {
        let name = fake.provider();
        let source = source(fake, &[]);
        let token = source.fetch(&FetchContext::default()).await.unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer theirs"));
        headers.insert(COOKIE, HeaderValue::from_static("theirs=1"));
        source.authorize_headers(&mut headers, &token).unwrap();
        let ours = format!("Bearer {}", token.access_token().expose_secret());
        let auth: Vec<_> = headers.get_all(AUTHORIZATION).iter().collect();
        assert_eq!(auth, [ours.as_str()], "{name}: set, not appended");
        assert!(
            headers[AUTHORIZATION].is_sensitive(),
            "{name}: marked sensitive"
        );

        // The same headers as `authorize` sets on a reqwest request.
        let mut fresh = HeaderMap::new();
        source.authorize_headers(&mut fresh, &token).unwrap();
        let built = source
            .authorize(client.get(fake.protected_url()), &token)
            .unwrap()
            .build()
            .unwrap();
        for (header, value) in &fresh {
            assert_eq!(built.headers().get(header), Some(value), "{name}: {header}");
        }

        // An `http::Request` with them gets through.
        let mut request = adauth::reqwest::header::HeaderMap::new();
        source.authorize_headers(&mut request, &token).unwrap();
        let mut http_request = http::Request::builder()
            .method(fake.protected_method())
            .uri(fake.protected_url())
            .body(Vec::new())
            .unwrap();
        *http_request.headers_mut() = request;
        let request = adauth::reqwest::Request::try_from(http_request).unwrap();
        let status = client.execute(request).await.unwrap().status();
        assert!(status.is_success(), "{name}: {status}");
    }
}

#[tokio::test]
async fn caches_sharing_a_store_fetch_once() {
    let sandbox = sandbox().await;
    for fake in sandbox.fakes() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn adauth::TokenStore> =
            Arc::new(adauth::FileStore::new(dir.path()).unwrap());
        let cache = |store: &Arc<dyn adauth::TokenStore>| {
            TokenCache::builder_arc(source(fake, &[]))
                .store(Arc::clone(store))
                .build()
        };
        let (a, b) = (cache(&store), cache(&store));
        let first = a.token().await.unwrap();
        let second = b.token().await.unwrap();
        assert!(first.same_access_token(&second), "{}", fake.provider());
        assert_eq!(fake.token_requests(), 1, "{}", fake.provider());
        let on_disk: String = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
            .collect();
        assert!(!on_disk.is_empty(), "{}", fake.provider());
    }
}

#[tokio::test]
async fn a_provider_that_echoes_the_secrets_never_gets_them_shown() {
    let sandbox = sandbox().await;
    // Every provider's secret variables get canaries; the mock echoes all of them.
    let canaries: Vec<(&str, String)> = adauth::PROVIDERS
        .iter()
        .flat_map(|p| p.env_vars())
        .filter(|v| v.is_secret())
        .map(|v| (v.name(), format!("CANARY-{}-e1", v.name())))
        .collect();
    let echoed = canaries
        .iter()
        .map(|(_, c)| c.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let json_echo = json!({
        "error": "invalid_client",
        "error_description": format!("bad client_secret {echoed}"),
        "errno": -1,
        "errmsg": format!("bad token {echoed}"),
        "message": format!("refused {echoed}"),
    })
    .to_string();
    let html_echo = format!("<html><p>bad secret {echoed}</p></html>");
    for (status, content_type, body) in [
        (400, "application/json", json_echo.clone()),
        (200, "application/json", json_echo),
        (502, "text/html", html_echo),
    ] {
        let server = answering(status, content_type, body.into_bytes()).await;
        for fake in sandbox.fakes() {
            let name = fake.provider();
            let env: Vec<(String, String)> = fake
                .env()
                .into_iter()
                .map(|(k, v)| {
                    let v = canaries
                        .iter()
                        .find(|(var, _)| *var == k)
                        .map_or(v, |(_, canary)| canary.clone());
                    (k, v.replace(&fake.base_url(), &server.base_url()))
                })
                .collect();
            let lookup = move |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
            let source: Arc<dyn TokenSource> =
                descriptor(fake).source_from_lookup(&lookup).unwrap().into();
            let cache = no_retries(Arc::clone(&source));
            let err = match cache.token().await {
                Err(err) => err,
                Ok(token) => panic!("{name} {status}: a token from an error answer: {token:?}"),
            };
            let shown = format!("{err} {err:?} {source:?} {cache:?}");
            // The provider's own secrets (another provider's are not secrets to this one).
            let own = descriptor(fake).env_vars().iter().filter(|v| v.is_secret());
            for var in own.filter(|v| fake.env().iter().any(|(k, _)| k == v.name())) {
                let canary = format!("CANARY-{}-e1", var.name());
                assert!(
                    shown.contains("CANARY-"),
                    "{name}: the echo reached the error"
                );
                assert!(!shown.contains(&canary), "{name} {status}: {shown}");
            }
        }
    }
}
