//! Mediago's refusals other than a 401: an `errno` in a 200 or a 403 that says the token is
//! invalid or expired is recovered from like a 401, and an `errno` body on the token request
//! is read whatever the HTTP status.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use adauth_core::secrecy::SecretString;
use adauth_core::{
    AuthorizedClient, ErrorKind, FetchContext, Result, Token, TokenCache, TokenSource, async_trait,
};
use adauth_mediago::{CLIENT_TOKEN_PATH, MediagoSource};
use httpmock::prelude::*;
use support::*;

/// Mediago's source as is, but for tokens: `t1`, then `t2`, ... so that a test sees which
/// token each API call carried.
#[derive(Debug)]
struct Numbered {
    inner: MediagoSource,
    issued: AtomicUsize,
}

#[async_trait]
impl TokenSource for Numbered {
    fn provider(&self) -> &str {
        self.inner.provider()
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let now = cx.now();
        Ok(Token::new(
            SecretString::from(format!("t{n}")),
            now,
            now + std::time::Duration::from_secs(3600),
        ))
    }
    fn check_answer(
        &self,
        status: adauth_core::reqwest::StatusCode,
        headers: &adauth_core::reqwest::header::HeaderMap,
    ) -> adauth_core::AuthCheck {
        self.inner.check_answer(status, headers)
    }
    fn refuses_token(&self, status: adauth_core::reqwest::StatusCode, body: &[u8]) -> bool {
        self.inner.refuses_token(status, body)
    }
}

/// An API endpoint that answers `status` and `body` to token `t1` and a report to `t2`.
async fn api<'a>(
    server: &'a MockServer,
    status: u16,
    body: &str,
) -> (httpmock::Mock<'a>, httpmock::Mock<'a>) {
    let refused = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/data/v1/report/day/list")
                .header("authorization", "Bearer t1");
            then.status(status)
                .header("content-type", "application/json")
                .body(body);
        })
        .await;
    let served = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/data/v1/report/day/list")
                .header("authorization", "Bearer t2");
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"errno":0,"data":{"rows":[]}}"#);
        })
        .await;
    (refused, served)
}

fn client(server: &MockServer) -> AuthorizedClient {
    let source = Numbered {
        inner: source(server),
        issued: AtomicUsize::new(0),
    };
    AuthorizedClient::new(TokenCache::new(source), reqwest::Client::new())
}

#[tokio::test]
async fn an_errno_that_refuses_the_token_is_recovered_from_like_a_401() {
    for (status, body) in [
        (200, r#"{"errno":401,"errmsg":"token expired"}"#),
        (200, r#"{"errno":-1,"errmsg":"Access token is invalid"}"#),
        (403, r#"{"code":403,"msg":"forbidden"}"#),
        (200, r#"{"code":40001,"msg":"the token has expired"}"#),
    ] {
        let server = MockServer::start_async().await;
        let (refused, served) = api(&server, status, body).await;
        let api = client(&server);
        let response = api
            .send(api.get(server.url("/data/v1/report/day/list")))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{body}");
        assert_eq!(
            response.text().await.unwrap(),
            r#"{"errno":0,"data":{"rows":[]}}"#
        );
        assert_eq!(
            (refused.calls_async().await, served.calls_async().await),
            (1, 1),
            "{body}"
        );
    }
}

#[tokio::test]
async fn other_errnos_and_statuses_reach_the_caller_untouched() {
    for (status, body) in [
        (200, r#"{"errno":-1,"errmsg":"date range too long"}"#),
        (
            403,
            r#"{"errno":1003,"errmsg":"no permission for this account"}"#,
        ),
        (
            429,
            r#"{"errno":429,"errmsg":"token bucket empty, slow down"}"#,
        ),
    ] {
        let server = MockServer::start_async().await;
        let (refused, served) = api(&server, status, body).await;
        let api = client(&server);
        let response = api
            .send(api.get(server.url("/data/v1/report/day/list")))
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(response.url().path(), "/data/v1/report/day/list");
        assert_eq!(
            response.text().await.unwrap(),
            body,
            "the body is passed on whole"
        );
        assert_eq!(
            (refused.calls_async().await, served.calls_async().await),
            (1, 0),
            "{body}"
        );
    }
}

#[tokio::test]
async fn an_errno_on_the_token_request_is_read_whatever_the_status() {
    for (status, kind) in [
        (200, ErrorKind::CredentialsRejected),
        (400, ErrorKind::CredentialsRejected),
        (403, ErrorKind::CredentialsRejected),
        (429, ErrorKind::RateLimited),
        (503, ErrorKind::ProviderUnavailable),
    ] {
        let server = MockServer::start_async().await;
        answer(
            &server,
            POST,
            CLIENT_TOKEN_PATH,
            status,
            "application/json",
            r#"{"errno":-1,"errmsg":"invalid API token"}"#,
        )
        .await;
        let err = source(&server).fetch(&cx()).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{status}: {err}");
        assert_eq!(err.code(), Some("-1"), "{status}: {err}");
        assert_eq!(
            err.description(),
            Some("invalid API token"),
            "{status}: {err}"
        );
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
    }
}
