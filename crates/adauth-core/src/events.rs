//! What a token cache reports as it works: [`CacheEvent`]s for a hook of the user's
//! ([`TokenCacheBuilder::on_event`](crate::TokenCacheBuilder::on_event)), to feed metrics,
//! beside the `tracing` spans it opens.
//!
//! # Spans
//!
//! Each at the `DEBUG` level, none with a secret in it:
//!
//! | span | fields |
//! |---|---|
//! | `adauth.fetch` | `provider`, `identity` (the credential's hash, [`TokenSource::identity`](crate::TokenSource::identity)), `attempt` (1, then one more per failure in a row), `grant` (`fetch`, `refresh_token` or `store`), `outcome` (`fetched`, `refreshed`, `from_store`, `failed`), `error_kind`, `duration_ms` |
//! | `adauth.refresh` | `provider`, `outcome` (`refreshed`, `refused`, `failed`) |
//! | `adauth.store` | `provider`, `operation` (`read`, `lease`, `wait`, `write`, `renew its lease`, `release its lease`), `outcome` (`ok`, `failed`, `timeout`), `duration_ms` |

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use crate::ErrorKind;

/// One thing a [`TokenCache`](crate::TokenCache) did, as its event hook sees it.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use adauth_core::{CacheEvent, TokenCache};
///
/// # fn build(source: impl adauth_core::TokenSource + 'static) -> TokenCache {
/// let failures = Arc::new(AtomicU64::new(0));
/// let counted = Arc::clone(&failures);
/// let cache = TokenCache::builder(source)
///     .on_event(move |event| {
///         if let CacheEvent::Failed { provider, kind, .. } = event {
///             counted.fetch_add(1, Ordering::Relaxed);
///             eprintln!("{provider}: token fetch failed ({kind:?})");
///         }
///     })
///     .build();
/// # cache }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheEvent<'a> {
    /// A new token from the provider.
    Fetched {
        /// The provider's name.
        provider: &'a str,
        /// 1, or one more per failed fetch before it.
        attempt: u32,
        /// How long the fetch took.
        took: Duration,
    },
    /// A token renewed with the refresh token of the one before.
    Refreshed {
        /// The provider's name.
        provider: &'a str,
        /// 1, or one more per failed fetch before it.
        attempt: u32,
        /// How long the renewal took.
        took: Duration,
    },
    /// A token that another process wrote to the shared token store.
    FromStore {
        /// The provider's name.
        provider: &'a str,
        /// How long reading (or waiting for) it took.
        took: Duration,
    },
    /// A fetch failed; the cache backs off before the next.
    Failed {
        /// The provider's name.
        provider: &'a str,
        /// What failed.
        kind: ErrorKind,
        /// 1, or one more per failed fetch before it.
        attempt: u32,
        /// How long the fetch took.
        took: Duration,
    },
    /// The cached token was invalidated ([`TokenCache::invalidate`](crate::TokenCache::invalidate)).
    Invalidated {
        /// The provider's name.
        provider: &'a str,
    },
    /// A token-store call failed or did not answer in time; the cache goes on with a token
    /// of this process's own.
    StoreFallback {
        /// The provider's name.
        provider: &'a str,
        /// The call: `read`, `lease`, `wait`, `write`, ...
        operation: &'a str,
    },
}

/// A user's event hook, shared by a cache and its fetches.
#[derive(Clone)]
pub(crate) struct Hook(pub(crate) Arc<dyn Fn(&CacheEvent<'_>) + Send + Sync>);

impl Hook {
    /// Gives `event` to the hook. A hook that panics does not take the cache with it.
    pub(crate) fn emit(hook: Option<&Hook>, event: CacheEvent<'_>) {
        if let Some(Hook(hook)) = hook
            && std::panic::catch_unwind(AssertUnwindSafe(|| hook(&event))).is_err()
        {
            tracing::error!("the token cache's event hook panicked");
        }
    }
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hook")
    }
}
