//! Canned answers for a provider crate's wire tests, on an `httpmock` server (the `httpmock`
//! feature): what every provider's tests otherwise write again.

use httpmock::{Method, Mock, MockServer};

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
