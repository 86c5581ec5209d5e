//! Helpers shared by this crate's tests.
// Each test file uses its own subset.
#![allow(dead_code)]

#[allow(unused_imports)] // each test file uses a different subset
pub(crate) use adauth_testkit::lookup;
use httpmock::prelude::*;

#[allow(unused_imports)] // each test file uses a different subset
pub(crate) use adauth_testkit::wire::{assert_error, assert_hidden, cx, no_retries, secs, t0};

/// Answers every POST to `path` with `status`, `content_type` and `body`.
pub(crate) async fn answer<'a>(
    server: &'a MockServer,
    path: &str,
    status: u16,
    content_type: &str,
    body: impl AsRef<[u8]>,
) -> httpmock::Mock<'a> {
    adauth_testkit::mock::answer(server, POST, path, status, content_type, body).await
}
