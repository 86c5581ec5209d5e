//! `AuthorizedClient`: auth applied to API requests, one recovery from a 401.

use std::sync::atomic::{AtomicUsize, Ordering};

use adauth_core::secrecy::SecretString;
use adauth_core::{
    AuthorizedClient, FetchContext, Result, Token, TokenCache, TokenSource, async_trait,
};
use httpmock::prelude::*;

/// Issues `t1`, `t2`, ... and counts fetches.
#[derive(Debug, Default)]
struct Counter(AtomicUsize);

#[async_trait]
impl TokenSource for Counter {
    fn provider(&self) -> &str {
        "counter"
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        let now = cx.now();
        Ok(Token::new(
            SecretString::from(format!("t{n}")),
            now,
            now + std::time::Duration::from_secs(3600),
        ))
    }
}

fn client() -> (AuthorizedClient, std::sync::Arc<Counter>) {
    let source = std::sync::Arc::new(Counter::default());
    let cache = TokenCache::builder(std::sync::Arc::clone(&source)).build();
    (AuthorizedClient::new(cache, reqwest::Client::new()), source)
}

#[tokio::test]
async fn a_revoked_token_is_replaced_and_the_request_succeeds() {
    let server = MockServer::start_async().await;
    let revoked = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api")
                .header("authorization", "Bearer t1");
            then.status(401);
        })
        .await;
    let accepted = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api")
                .header("authorization", "Bearer t2")
                .body("payload");
            then.status(200).body("ok");
        })
        .await;
    let (api, source) = client();
    let response = api
        .send(api.post(server.url("/api")).body("payload"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
    assert_eq!(revoked.calls_async().await, 1);
    assert_eq!(accepted.calls_async().await, 1);
    assert_eq!(
        source.0.load(Ordering::SeqCst),
        2,
        "exactly one extra token request"
    );

    // The fresh token is now cached: no further fetch.
    api.send(api.post(server.url("/api")).body("payload"))
        .await
        .unwrap();
    assert_eq!(source.0.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_second_401_is_returned_to_the_caller() {
    let server = MockServer::start_async().await;
    let api_mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/api");
            then.status(401).body("no");
        })
        .await;
    let (api, source) = client();
    let response = api.send(api.get(server.url("/api"))).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(api_mock.calls_async().await, 2, "one retry, no more");
    assert_eq!(source.0.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn other_statuses_pass_through_untouched() {
    let server = MockServer::start_async().await;
    let api_mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api")
                .header("authorization", "Bearer t1");
            then.status(403);
        })
        .await;
    let (api, source) = client();
    let response = api.send(api.get(server.url("/api"))).await.unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(api_mock.calls_async().await, 1);
    assert_eq!(source.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_request_that_cannot_be_sent_is_a_transport_error_naming_the_provider() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let (api, _) = client();
    let err = api
        .send(api.get(format!("http://127.0.0.1:{port}/api")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), adauth_core::ErrorKind::Transport);
    assert_eq!(err.provider(), "counter");
}
