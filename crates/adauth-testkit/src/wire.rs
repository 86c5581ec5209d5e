//! What a provider crate's wire tests share: a fixed clock, quick HTTP clients, and
//! assertions on errors and on secrets that must stay hidden.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adauth_core::TokenSource;
use adauth_core::http::{HttpClient, RetryPolicy};
use adauth_core::secrecy::ExposeSecret as _;
use adauth_core::{Error, ErrorKind, ExpiryPolicy, FetchContext, ManualClock, Token, TokenCache};

/// The instant the wire tests' clock stands still at: 2023-11-14T22:13:20Z.
pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// `n` seconds.
pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A context whose clock stands still at [`t0`], so a token's `issued_at` is exactly `t0`.
pub fn cx() -> FetchContext {
    FetchContext::new(Arc::new(ManualClock::new(t0())), ExpiryPolicy::default())
}

/// One attempt: retries are adauth-core's business and tested there.
pub fn no_retries() -> HttpClient {
    HttpClient::new().retry_policy(RetryPolicy::none())
}

/// Three attempts with millisecond delays, for tests of what a provider's answer retries.
pub fn fast_retries() -> HttpClient {
    HttpClient::new().retry_policy(
        RetryPolicy::default()
            .max_attempts(3)
            .initial_delay(Duration::from_millis(1))
            .max_delay(Duration::from_millis(5)),
    )
}

/// Asserts the error's kind and that its `Display` text has every one of `parts`.
#[track_caller]
pub fn assert_error(err: &Error, kind: ErrorKind, parts: &[&str]) {
    assert_eq!(err.kind(), kind, "{err}");
    assert_contains(&err.to_string(), parts);
}

/// Asserts that `text` has every one of `parts`.
#[track_caller]
pub fn assert_contains(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }
}

/// Asserts that none of `canaries` shows in `text`, which is what `what` printed.
#[track_caller]
pub fn assert_hidden(what: &str, text: &str, canaries: &[&str]) {
    for canary in canaries {
        assert!(!text.contains(canary), "{what} shows {canary}: {text}");
    }
}

/// Fetches a token from `source` (whose settings hold `canaries`) and asserts that the
/// source, the token, a cache over the source and the cached token never show a canary in
/// `Debug`, while the token itself is `access_token`. Returns the fetched token, for the
/// provider's own further checks.
pub async fn assert_source_hides<S: TokenSource + 'static>(
    source: S,
    access_token: &str,
    canaries: &[&str],
) -> Token {
    assert_hidden("source", &format!("{source:?}"), canaries);
    let token = source.fetch(&cx()).await.expect("the fetch succeeds");
    assert_eq!(token.access_token().expose_secret(), access_token);
    assert_hidden("token", &format!("{token:?}"), canaries);
    let cache = TokenCache::new(source);
    let cached = cache.token().await.expect("the cache gets a token");
    assert_eq!(cached.access_token().expose_secret(), access_token);
    assert_hidden("cache", &format!("{cache:?}"), canaries);
    assert_hidden("cached token", &format!("{cached:?}"), canaries);
    token
}
