//! The shared HTTP helpers against loopback servers: retries, caps, redirects, timeouts and
//! connection failures. Provider crates rely on these and do not test them again.

use adauth_core::provider_kit::wire::HttpResponse;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use adauth_core::http::{HttpClient, MAX_RESPONSE_BYTES, RetryPolicy};
use adauth_core::{ErrorKind, ExpiryPolicy, FetchContext, ManualClock};
use httpmock::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

const P: &str = "test";

fn cx() -> FetchContext {
    let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    FetchContext::new(Arc::new(ManualClock::new(t0)), ExpiryPolicy::default())
}

fn fast(attempts: u32) -> HttpClient {
    HttpClient::new().retry_policy(
        RetryPolicy::default()
            .max_attempts(attempts)
            .initial_delay(Duration::from_millis(1))
            .max_delay(Duration::from_millis(5)),
    )
}

async fn post(http: &HttpClient, url: &str) -> adauth_core::Result<HttpResponse> {
    let url = Url::parse(url).unwrap();
    http.post_json(P, &cx(), &url, &serde_json::json!({"a": 1}))
        .await
}

#[tokio::test]
async fn server_errors_and_429_are_retried_up_to_the_limit() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/5xx");
            then.status(503).body("busy");
        })
        .await;
    let r = post(&fast(3), &server.url("/5xx")).await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(m.calls_async().await, 3);
    let err = r.into_error(P);
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert!(err.is_retryable());

    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/429");
            then.status(429).header("retry-after", "0");
        })
        .await;
    let r = post(&fast(2), &server.url("/429")).await.unwrap();
    assert_eq!(m.calls_async().await, 2);
    assert!(r.into_error(P).is_rate_limited());
}

#[tokio::test]
async fn rejections_are_never_retried() {
    let server = MockServer::start_async().await;
    for status in [400, 401, 403, 404] {
        let path = format!("/{status}");
        let m = server
            .mock_async(|when, then| {
                when.method(POST).path(path.as_str());
                then.status(status)
                    .header("content-type", "application/json")
                    .body(r#"{"error":"invalid_client"}"#);
            })
            .await;
        let r = post(&fast(3), &server.url(&path)).await.unwrap();
        assert_eq!(r.status(), status);
        assert_eq!(m.calls_async().await, 1, "{status}");
    }
}

#[tokio::test]
async fn a_long_retry_after_stops_the_retries_and_is_reported() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/slow-down");
            then.status(429).header("retry-after", "120");
        })
        .await;
    let r = post(&fast(3), &server.url("/slow-down")).await.unwrap();
    assert_eq!(m.calls_async().await, 1);
    let err = r.into_error(P);
    assert!(err.is_rate_limited());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert!(err.to_string().contains("retry after 120s"), "{err}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start_async().await;
    let target = server
        .mock_async(|when, then| {
            when.path("/elsewhere");
            then.status(200).body("{}");
        })
        .await;
    let location = server.url("/elsewhere");
    server
        .mock_async(|when, then| {
            when.method(POST).path("/token");
            then.status(307).header("location", location.as_str());
        })
        .await;
    let r = post(&fast(3), &server.url("/token")).await.unwrap();
    assert_eq!(r.status(), 307);
    let err = r.into_error(P);
    assert_eq!(err.kind(), ErrorKind::UnexpectedResponse);
    assert!(
        err.to_string()
            .contains(&format!("redirect to {location} not followed")),
        "{err}"
    );
    assert_eq!(target.calls_async().await, 0);
}

#[tokio::test]
async fn a_declared_oversized_body_is_refused() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/big");
            then.status(200)
                .header("content-type", "application/json")
                .body(vec![b' '; 2 * 1024 * 1024]);
        })
        .await;
    let err = post(&fast(1), &server.url("/big")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedResponse);
    assert!(
        err.to_string().contains("exceeds the 1024 KiB limit"),
        "{err}"
    );
}

#[tokio::test]
async fn an_undeclared_oversized_body_is_cut_off_while_reading() {
    // Chunked, so no Content-Length announces the size.
    let mut response =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..(MAX_RESPONSE_BYTES / chunk.len() + 2) {
        response.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        response.extend_from_slice(&chunk);
        response.extend_from_slice(b"\r\n");
    }
    response.extend_from_slice(b"0\r\n\r\n");
    let (url, _) = raw_server(Some(response)).await;
    let err = post(&fast(1), &url).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedResponse);
    assert!(
        err.to_string().contains("exceeds the 1024 KiB limit"),
        "{err}"
    );
}

#[tokio::test]
async fn the_cap_is_configurable() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/small");
            then.status(200).body("0123456789");
        })
        .await;
    let http = fast(1).max_response_bytes(4);
    assert!(post(&http, &server.url("/small")).await.is_err());
    let http = fast(1).max_response_bytes(10);
    assert_eq!(
        &post(&http, &server.url("/small")).await.unwrap().body()[..],
        b"0123456789"
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_retryable_transport_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = post(&fast(2), &format!("http://127.0.0.1:{port}/token"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(err.is_retryable());
    assert_eq!(err.provider(), P);
    assert!(err.to_string().contains("could not connect"), "{err}");
}

#[tokio::test]
async fn a_silent_server_times_out_and_is_retried() {
    let (url, accepted) = raw_server(None).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let http = HttpClient::with_client(client).retry_policy(
        RetryPolicy::default()
            .max_attempts(2)
            .initial_delay(Duration::from_millis(1)),
    );
    let err = post(&http, &url).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.is_timeout() && err.is_retryable());
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn each_attempt_is_stamped_before_it_is_sent() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/ok");
            then.status(200).body("{}");
        })
        .await;
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(100));
    let cx = FetchContext::new(Arc::new(clock.clone()), ExpiryPolicy::default());
    let url = Url::parse(&server.url("/ok")).unwrap();
    let r = fast(1)
        .send(P, &cx, |c| {
            // Time passes while the request is built and sent.
            clock.advance(Duration::from_secs(5));
            c.post(url.clone())
        })
        .await
        .unwrap();
    assert_eq!(r.sent_at(), UNIX_EPOCH + Duration::from_secs(100));
}

/// Reads one request (head and `Content-Length` body), so an answer comes after it.
async fn read_request(socket: &mut tokio::net::TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if seen.len() >= end + 4 + length {
                return;
            }
        }
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// A bare loopback server that counts connections and answers each request with `response`,
/// or stays silent; it never closes a connection itself.
async fn raw_server(response: Option<Vec<u8>>) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                read_request(&mut socket).await;
                if let Some(response) = response {
                    let _ = socket.write_all(&response).await;
                }
                std::future::pending::<()>().await;
                drop(socket);
            });
        }
    });
    (url, accepted)
}

/// A proxy on loopback that records what it is sent and answers 502 to everything.
async fn recording_proxy() -> (String, Arc<std::sync::Mutex<Vec<u8>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let record = Arc::clone(&record);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                if let Ok(n) = socket.read(&mut buf).await {
                    record.lock().unwrap().extend_from_slice(&buf[..n]);
                }
                let _ = socket
                    .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    (url, seen)
}

// Issue 10, item 1: proxies never see a credential sent to a loopback endpoint.
#[tokio::test]
async fn loopback_endpoints_bypass_every_proxy() {
    let (proxy, seen) = recording_proxy().await;
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST).path("/token");
            then.status(200).body("ok");
        })
        .await;
    let env = [
        ("HTTP_PROXY", proxy.clone()),
        ("https_proxy", proxy.clone()),
        ("ALL_PROXY", proxy.clone()),
        ("NO_PROXY", "example.org".to_owned()),
    ];
    let lookup = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
    assert_eq!(adauth_core::http::proxies_from(&lookup).len(), 3);
    let client = adauth_core::http::client_builder(&lookup).build().unwrap();
    let http = HttpClient::with_client(client.clone());
    for host in ["127.0.0.1", "localhost"] {
        let url = Url::parse(&format!("http://{host}:{}/token", server.port())).unwrap();
        let answer = http
            .post_form(P, &cx(), &url, &[("client_secret", "CANARY-secret")])
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{host}");
    }
    token.assert_calls_async(2).await;
    assert!(
        seen.lock().unwrap().is_empty(),
        "the proxy saw a loopback request"
    );

    // Other hosts still go through the proxy (here: plain http, to see it arrive).
    let answer = client
        .get("http://adauth-proxy-test.invalid/")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 502);
    let seen = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    assert!(seen.contains("adauth-proxy-test.invalid"), "{seen}");
}

// Issue 10, item 11: the client's own timeouts can be set, on a client of its own (another
// connect timeout) or through the process's shared client (the request timeout alone).
#[tokio::test]
async fn the_request_timeout_of_the_built_client_can_be_set() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/token", listener.local_addr().unwrap())).unwrap();
    // Accepts, reads, never answers.
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    for http in [
        HttpClient::new().connect_timeout(Duration::from_millis(200)),
        HttpClient::new(),
    ] {
        let http = http
            .request_timeout(Duration::from_millis(300))
            .retry_policy(RetryPolicy::none());
        let started = std::time::Instant::now();
        let err = http
            .post_form(P, &cx(), &url, &[("a", "b")])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}
