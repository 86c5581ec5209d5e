//! `AuthMiddleware` in a reqwest-middleware stack, beside reqwest-retry: a 503 is retried
//! by the retry middleware, a refused token recovered by the auth middleware, with one token
//! request for each token.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use adauth_core::async_trait;
use adauth_core::middleware::AuthMiddleware;
use adauth_core::secrecy::SecretString;
use adauth_core::{Error, ErrorKind, FetchContext, Result, Token, TokenCache, TokenSource};
use axum::http::{HeaderMap, StatusCode};
use reqwest_middleware::ClientBuilder;
use reqwest_retry::RetryTransientMiddleware;
use reqwest_retry::policies::ExponentialBackoff;

/// Issues `t1`, `t2`, ... and counts fetches; or fails every fetch, when `fails`.
#[derive(Debug, Default)]
struct Counter {
    fetches: AtomicUsize,
    fails: bool,
}

#[async_trait]
impl TokenSource for Counter {
    fn provider(&self) -> &str {
        "counter"
    }

    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fails {
            return Err(Error::configuration("counter", "no such client")
                .with_kind(ErrorKind::CredentialsRejected));
        }
        let now = cx.now();
        Ok(Token::new(
            SecretString::from(format!("t{n}")),
            now,
            now + Duration::from_secs(3600),
        ))
    }
}

/// What the API saw: each request's authorization and body, and the status it answered.
type Seen = Arc<Mutex<Vec<(String, String, u16)>>>;

/// An API that answers its first request 503, then 401 to `Bearer t1` and 200 to any other
/// token.
async fn api() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/api",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let log = Arc::clone(&log);
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let mut log = log.lock().unwrap();
                let status = match (log.len(), auth.as_str()) {
                    (0, _) => StatusCode::SERVICE_UNAVAILABLE,
                    (_, "Bearer t1") => StatusCode::UNAUTHORIZED,
                    _ => StatusCode::OK,
                };
                log.push((auth, body, status.as_u16()));
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

fn stack(source: Arc<Counter>) -> reqwest_middleware::ClientWithMiddleware {
    let retry = ExponentialBackoff::builder()
        .retry_bounds(Duration::from_millis(1), Duration::from_millis(1))
        .build_with_max_retries(3);
    ClientBuilder::new(reqwest::Client::new())
        .with(RetryTransientMiddleware::new_with_policy(retry))
        .with(AuthMiddleware::new(TokenCache::builder(source).build()))
        .build()
}

#[tokio::test]
async fn the_retry_middleware_retries_the_503_and_the_auth_middleware_recovers_the_401() {
    let (url, seen) = api().await;
    let source = Arc::new(Counter::default());
    let client = stack(Arc::clone(&source));

    let response = client.post(&url).body("payload").send().await.unwrap();

    assert_eq!(response.status(), 200);
    let seen = seen.lock().unwrap().clone();
    let expected = [("Bearer t1", 503), ("Bearer t1", 401), ("Bearer t2", 200)];
    assert_eq!(seen.len(), expected.len(), "{seen:?}");
    for ((auth, body, status), (want_auth, want_status)) in seen.iter().zip(expected) {
        assert_eq!(
            (auth.as_str(), *status),
            (want_auth, want_status),
            "{seen:?}"
        );
        assert_eq!(body, "payload", "the body is replayed whole");
    }
    // One token request for the first token (both first sends), one after the refusal.
    assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_token_that_cannot_be_had_is_the_adauth_error_inside_the_middleware_error() {
    let (url, seen) = api().await;
    let source = Arc::new(Counter {
        fails: true,
        ..Counter::default()
    });
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(AuthMiddleware::new(TokenCache::builder(source).build()))
        .build();

    let err = client.post(&url).body("payload").send().await.unwrap_err();

    let reqwest_middleware::Error::Middleware(inner) = &err else {
        panic!("not a middleware error: {err:?}");
    };
    let adauth = inner.downcast_ref::<Error>().expect("an adauth error");
    assert_eq!(adauth.kind(), ErrorKind::CredentialsRejected, "{adauth}");
    assert_eq!(adauth.provider(), "counter");
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing is sent without a token"
    );
}
