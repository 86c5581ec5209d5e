//! The subcommands other than `demo`, and what they share: finding the provider and
//! building its token cache.

pub(crate) mod login;
pub(crate) mod profiles;
pub(crate) mod providers;
pub(crate) mod request;
pub(crate) mod sandbox;
pub(crate) mod token;

use std::sync::Arc;

use adauth::{Provider, TokenCache, TokenSource};

use crate::Failure;
use crate::cache::{self, Activity, Noting, Shared};

/// The names of the providers compiled in, as the provider argument's value list.
pub(crate) fn provider_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(adauth::PROVIDERS.iter().map(|p| p.name()))
}

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

/// A provider's settings: the environment, over `profile`'s settings when one is named.
pub(crate) type Settings = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The settings for `provider`: the process environment, over `profile`'s settings when one
/// is named (the profile must be `provider`'s).
pub(crate) fn settings(
    provider: &Provider,
    profile: Option<&str>,
    verbose: bool,
) -> Result<Settings, Failure> {
    let Some(name) = profile else {
        return Ok(Box::new(adauth::provider_kit::env::process));
    };
    let config = adauth::config::Config::load()?;
    let profile = config.profile(name)?;
    if profile.provider().name() != provider.name() {
        return Err(Failure::usage(format!(
            "profile `{}` is for {}, not {}",
            profile.name(),
            profile.provider().name(),
            provider.name()
        )));
    }
    crate::note!(
        verbose,
        "settings from profile `{}` of {}",
        profile.name(),
        config.path().display()
    );
    Ok(Box::new(profile.lookup()?))
}

/// A provider's token cache, the store it shares tokens through and what it did.
pub(crate) struct Opened {
    /// The cache, its source wrapped in [`Noting`].
    pub(crate) cache: TokenCache,
    /// The store, unless `--no-cache` or there is none.
    pub(crate) shared: Option<Shared>,
    /// Whether the source went to the provider.
    pub(crate) activity: Arc<Activity>,
}

/// A token cache for `provider`'s source as the environment (over `profile`'s settings,
/// when one is named) describes it, or for the user's grant of `adauth login` when there is
/// one, sharing tokens through a store when `use_store` (Redis
/// if `ADAUTH_REDIS_URL` is set and reachable, else the disk cache in the cache directory).
pub(crate) async fn open(
    provider: &Provider,
    profile: Option<&str>,
    use_store: bool,
    verbose: bool,
) -> Result<Opened, Failure> {
    let lookup = settings(provider, profile, verbose)?;
    let source: Arc<dyn TokenSource> = match login::marker(provider, profile)? {
        Some((login, redirect_uri)) => {
            crate::note!(
                verbose,
                "the user's grant from `adauth login {}`",
                provider.name()
            );
            login.source(&*lookup, &redirect_uri)?.into()
        }
        None => provider.source_from_lookup(&*lookup)?.into(),
    };
    let activity = Arc::new(Activity::default());
    let source: Arc<dyn TokenSource> =
        Arc::new(Noting::new(source, Arc::clone(&activity), verbose));
    let shared = if use_store {
        // A malformed key fails the command: falling back to plain values would surprise.
        let key = adauth::StoreKey::from_env()?;
        cache::store(verbose).await.map(|shared| shared.sealed(key))
    } else {
        None
    };
    let mut builder = TokenCache::builder_arc(source);
    if let Some(shared) = &shared {
        builder = builder.store(Arc::clone(&shared.store));
    }
    Ok(Opened {
        cache: builder.build(),
        shared,
        activity,
    })
}
