//! The subcommands other than `demo`, and what they share: finding the provider and
//! building its token cache.

pub(crate) mod providers;
pub(crate) mod request;
pub(crate) mod sandbox;
pub(crate) mod token;

use std::sync::Arc;

use adauth::{Provider, TokenCache, TokenSource};

use crate::cache::{self, DiskCached, Mode};
use crate::{Failure, note};

/// The compiled-in provider called `name`, or the umbrella's error listing them (exit 2).
pub(crate) fn provider(name: &str) -> Result<&'static Provider, Failure> {
    match adauth::provider(name) {
        Some(provider) => Ok(provider),
        None => Err(match adauth::source_from_env(name) {
            Err(err) => err.into(),
            Ok(_) => Failure::usage(format!("unknown provider {name:?}")),
        }),
    }
}

/// A token cache for `provider`'s source as the environment describes it, behind the disk
/// cache in `mode`, or with no disk cache at all for `None`.
pub(crate) fn open(
    provider: &Provider,
    mode: Option<Mode>,
    verbose: bool,
) -> Result<TokenCache, Failure> {
    let source: Arc<dyn TokenSource> = provider.source_from_env()?.into();
    let source: Arc<dyn TokenSource> = match (mode, cache::default_dir()) {
        (None, _) => source,
        (Some(_), None) => {
            note!(
                verbose,
                "no disk cache: none of ADAUTH_CACHE_DIR, XDG_CACHE_HOME, HOME is set"
            );
            source
        }
        (Some(mode), Some(dir)) => Arc::new(DiskCached::new(source, dir, mode, verbose)),
    };
    Ok(TokenCache::builder_arc(source).build())
}
