//! Helpers shared by this crate's tests.
// Each test file uses its own subset.
#![allow(dead_code)]

#[allow(unused_imports)] // each test file uses a different subset
pub(crate) use adauth_testkit::lookup;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adauth_core::http::{HttpClient, RetryPolicy};
use adauth_core::{Error, ErrorKind, ExpiryPolicy, FetchContext, ManualClock};
use httpmock::prelude::*;

pub(crate) fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

pub(crate) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A context whose clock stands still at `t0`, so `issued_at` is exactly `t0`.
pub(crate) fn cx() -> FetchContext {
    FetchContext::new(Arc::new(ManualClock::new(t0())), ExpiryPolicy::default())
}

/// One attempt: retries are adauth-core's business and tested there.
pub(crate) fn no_retries() -> HttpClient {
    HttpClient::new().retry_policy(RetryPolicy::none())
}

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

/// Asserts the kind and that the Display text has every one of `parts`.
pub(crate) fn assert_error(err: &Error, kind: ErrorKind, parts: &[&str]) {
    assert_eq!(err.kind(), kind, "{err}");
    let text = err.to_string();
    for part in parts {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }
}

/// Asserts that none of `canaries` shows in `text`.
pub(crate) fn assert_hidden(what: &str, text: &str, canaries: &[&str]) {
    for canary in canaries {
        assert!(!text.contains(canary), "{what} shows {canary}: {text}");
    }
}
