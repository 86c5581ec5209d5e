//! Canned answers for a provider crate's wire tests, on an `httpmock` server (the `httpmock`
//! feature): what every provider's tests otherwise write again.

use httpmock::{Method, Mock, MockServer, When};

/// Answers every `method` request to `path` with `status`, `content_type` and `body`.
pub async fn answer<'a>(
    server: &'a MockServer,
    method: Method,
    path: &str,
    status: u16,
    content_type: &str,
    body: impl AsRef<[u8]>,
) -> Mock<'a> {
    let body = body.as_ref().to_vec();
    server
        .mock_async(|when, then| {
            when.method(method).path(path);
            then.status(status)
                .header("content-type", content_type)
                .body(body);
        })
        .await
}

/// Mocks one exact request and answers it with `status` and the JSON `body`: `when`
/// describes the request as the provider's page documents it (method, path, headers, body).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use httpmock::prelude::*;
///
/// let server = MockServer::start_async().await;
/// let mock = adauth_testkit::mock::expect(&server, 200, r#"{"access_token":"t"}"#, |when| {
///     when.method(POST).path("/token").header("content-type", "application/json")
/// })
/// .await;
/// assert_eq!(mock.calls_async().await, 0);
/// # }
/// ```
pub async fn expect<'a>(
    server: &'a MockServer,
    status: u16,
    body: impl AsRef<[u8]>,
    when: impl FnOnce(When) -> When,
) -> Mock<'a> {
    let body = body.as_ref().to_vec();
    server
        .mock_async(|w, then| {
            when(w);
            then.status(status)
                .header("content-type", "application/json")
                .body(body);
        })
        .await
}
