//! Helpers shared by the tests: the fakes' variables as a lookup, a client without
//! retries, and calls to a fake's protected endpoint.

#![allow(dead_code)]

use std::sync::Arc;

use adauth::http::{HttpClient, RetryPolicy};
use adauth::secrecy::ExposeSecret;
use adauth::testkit::Fake;
use adauth::{Token, TokenCache, TokenSource};

/// A lookup over `fake.env()`, with `overrides` taking precedence.
pub(crate) fn lookup(
    fake: &Fake,
    overrides: &[(&str, &str)],
) -> impl Fn(&str) -> Option<String> + use<> {
    let mut vars = fake.env();
    for (name, value) in overrides {
        vars.retain(|(k, _)| k != name);
        vars.push(((*name).to_owned(), (*value).to_owned()));
    }
    move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// A client that does not retry, so one failure is one request.
pub(crate) fn http() -> HttpClient {
    HttpClient::new().retry_policy(RetryPolicy::none())
}

/// The status of the fake's protected endpoint called with `token`, as `source` applies it.
pub(crate) async fn call(fake: &Fake, source: &dyn TokenSource, token: &Token) -> u16 {
    let client = reqwest::Client::new();
    let request = match fake.protected_method() {
        "GET" => client.get(fake.protected_url()),
        _ => client
            .post(fake.protected_url())
            .header("content-type", "application/json")
            .body(r#"{"query":"{ offers(player_id: \"user123\") { id name } }"}"#),
    };
    let request = source.authorize(request, token).expect("authorize");
    request.send().await.expect("send").status().as_u16()
}

/// The status of the protected endpoint with a bare bearer token.
pub(crate) async fn call_bearer(fake: &Fake, token: &str) -> u16 {
    let client = reqwest::Client::new();
    let request = match fake.protected_method() {
        "GET" => client.get(fake.protected_url()),
        _ => client.post(fake.protected_url()),
    };
    request
        .bearer_auth(token)
        .send()
        .await
        .expect("send")
        .status()
        .as_u16()
}

/// The common story: a cache gets a token, the token opens the protected endpoint, a
/// second `token()` is served from the cache, and after `revoke_all` the endpoint says 401.
pub(crate) async fn token_opens_then_revoked(fake: &Fake, source: Arc<dyn TokenSource>) {
    let cache = TokenCache::builder_arc(source.clone()).build();
    let token = cache.token().await.expect("token from the fake");
    assert_eq!(call(fake, &*source, &token).await, 200);
    let again = cache.token().await.expect("cached token");
    assert_eq!(
        token.access_token().expose_secret(),
        again.access_token().expose_secret(),
        "the second token comes from the cache"
    );
    assert_eq!(fake.token_requests(), 1);
    assert_eq!(fake.issued(), 1);
    fake.revoke_all();
    assert_eq!(call(fake, &*source, &token).await, 401);
    assert_eq!(fake.protected_requests(), 2);
    assert_eq!(fake.unauthorized(), 1);
}
