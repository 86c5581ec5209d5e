#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod cache;
mod client;
mod clock;
mod error;
pub mod events;
mod expiry;
mod fetcher;
mod file_store;
mod grant;
pub mod http;
pub mod login;
#[cfg(feature = "middleware")]
#[cfg_attr(docsrs, doc(cfg(feature = "middleware")))]
pub mod middleware;
pub mod provider;
pub mod provider_kit;
mod record;
mod redact;
mod registry;
mod scan;
#[cfg(feature = "encryption")]
mod sealed;
mod secret_buf;
mod source;
mod store;
mod token;

pub use cache::{
    DEFAULT_LEASE_TTL, DEFAULT_LOAD_TIMEOUT, DEFAULT_STORE_TIMEOUT, TokenCache, TokenCacheBuilder,
    TokenFuture, TokenGuard, WithToken,
};
pub use client::{AuthorizedClient, MAX_INSPECTED_BODY};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorKind, Result};
pub use events::CacheEvent;
pub use expiry::{ExpiresIn, ExpiryPolicy, FALLBACK_LIFETIME, RefreshPolicy, RefreshSchedule};
pub use file_store::FileStore;
pub use grant::{
    AUTHORIZATION_REQUIRED, UserGrant, authorization_required, is_authorization_required,
};
pub use login::{Login, PendingLogin};
pub use provider::{EnvVar, Provider};
pub use redact::redact_excerpt;
pub use registry::{Cached, DEFAULT_IDLE_TIMEOUT, TokenCaches, TokenCachesBuilder};
#[cfg(feature = "encryption")]
#[cfg_attr(docsrs, doc(cfg(feature = "encryption")))]
pub use sealed::{STORE_KEY_VAR, SealedStore, StoreKey};
pub use source::{AuthCheck, FetchContext, TokenSource, credential_identity};
pub use store::{Lease, StoredValue, TokenStore, new_revision};
pub use token::{Extras, Token};

/// Re-exported so token sources can be written without depending on `async-trait` directly.
pub use async_trait::async_trait;
/// Re-exported: the byte buffers of request and response bodies in [`http`].
pub use bytes;
/// Re-exported: the HTTP client crate whose types appear in [`http`].
pub use reqwest;
/// Re-exported: the secret types used for every credential and token.
pub use secrecy;
