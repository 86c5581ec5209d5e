#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

pub use adauth_core::*;

/// AdGem: the `adauth-adgem` crate.
#[cfg(feature = "adgem")]
#[cfg_attr(docsrs, doc(cfg(feature = "adgem")))]
pub use adauth_adgem as adgem;

/// Admitad: the `adauth-admitad` crate.
#[cfg(feature = "admitad")]
#[cfg_attr(docsrs, doc(cfg(feature = "admitad")))]
pub use adauth_admitad as admitad;

/// Fyber (Digital Turbine Offer Wall Reporting API): the `adauth-fyber` crate.
#[cfg(feature = "fyber")]
#[cfg_attr(docsrs, doc(cfg(feature = "fyber")))]
pub use adauth_fyber as fyber;

/// Mediago: the `adauth-mediago` crate.
#[cfg(feature = "mediago")]
#[cfg_attr(docsrs, doc(cfg(feature = "mediago")))]
pub use adauth_mediago as mediago;

/// MediaMath: the `adauth-mediamath` crate.
#[cfg(feature = "mediamath")]
#[cfg_attr(docsrs, doc(cfg(feature = "mediamath")))]
pub use adauth_mediamath as mediamath;

/// A Redis token store: the `adauth-redis` crate.
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use adauth_redis as redis;

/// Builds a provider's source from variables that a lookup function supplies.
type FromLookup = fn(&dyn Fn(&str) -> Option<String>) -> Result<Box<dyn TokenSource>>;

/// A provider compiled into this build, for tools that choose one at run time.
#[derive(Debug, Clone, Copy)]
pub struct Provider {
    name: &'static str,
    env_vars: &'static [&'static str],
    from_lookup: FromLookup,
    documented_lifetime: std::time::Duration,
}

impl Provider {
    /// The provider's name, as accepted by [`source_from_env`]: `"fyber"`, `"adgem"`, ...
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Every environment variable the provider's crate reads.
    pub fn env_vars(&self) -> &'static [&'static str] {
        self.env_vars
    }

    /// How long the provider documents its tokens to live: what is assumed for an answer
    /// that gives no lifetime.
    pub fn documented_lifetime(&self) -> std::time::Duration {
        self.documented_lifetime
    }

    /// The source the environment describes.
    pub fn source_from_env(&self) -> Result<Box<dyn TokenSource>> {
        (self.from_lookup)(&env::process)
    }

    /// The source that variables from `lookup` describe, for tools that keep their
    /// settings somewhere other than the process environment.
    pub fn source_from_lookup(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Box<dyn TokenSource>> {
        (self.from_lookup)(lookup)
    }
}

/// The providers compiled into this build (one per enabled feature), by name.
pub const PROVIDERS: &[Provider] = &[
    #[cfg(feature = "mediago")]
    Provider {
        name: "mediago",
        env_vars: adauth_mediago::ENV_VARS,
        from_lookup: adauth_mediago::source_from_lookup,
        documented_lifetime: adauth_mediago::DOCUMENTED_LIFETIME,
    },
    #[cfg(feature = "mediamath")]
    Provider {
        name: "mediamath",
        env_vars: adauth_mediamath::ENV_VARS,
        from_lookup: adauth_mediamath::source_from_lookup,
        documented_lifetime: adauth_mediamath::DOCUMENTED_LIFETIME,
    },
    #[cfg(feature = "admitad")]
    Provider {
        name: "admitad",
        env_vars: adauth_admitad::ENV_VARS,
        from_lookup: adauth_admitad::source_from_lookup,
        documented_lifetime: adauth_admitad::DOCUMENTED_LIFETIME,
    },
    #[cfg(feature = "fyber")]
    Provider {
        name: "fyber",
        env_vars: adauth_fyber::ENV_VARS,
        from_lookup: adauth_fyber::source_from_lookup,
        documented_lifetime: adauth_fyber::DOCUMENTED_LIFETIME,
    },
    #[cfg(feature = "adgem")]
    Provider {
        name: "adgem",
        env_vars: adauth_adgem::ENV_VARS,
        from_lookup: adauth_adgem::source_from_lookup,
        documented_lifetime: adauth_adgem::DOCUMENTED_LIFETIME,
    },
];

/// The compiled-in provider called `name` (`"fyber"`, `"adgem"`, ...; any case).
pub fn provider(name: &str) -> Option<&'static Provider> {
    PROVIDERS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name.trim()))
}

/// A boxed source for the provider called `name`, built from its `ADAUTH_<PROVIDER>_*`
/// environment variables: for tools that pick the provider at run time.
///
/// An unknown name, or one whose feature is not enabled, is a
/// [`Configuration`](ErrorKind::Configuration) error listing the providers compiled in.
///
/// ```no_run
/// # async fn run() -> adauth::Result<()> {
/// let name = std::env::args().nth(1).unwrap_or_default();
/// let cache = adauth::TokenCache::builder_arc(adauth::source_from_env(&name)?.into()).build();
/// let token = cache.token().await?;
/// # let _ = token; Ok(()) }
/// ```
pub fn source_from_env(name: &str) -> Result<Box<dyn TokenSource>> {
    match provider(name) {
        Some(provider) => provider.source_from_env(),
        None => {
            let known: Vec<&str> = PROVIDERS.iter().map(|p| p.name).collect();
            Err(Error::configuration(
                "adauth",
                format!(
                    "unknown provider {:?}; compiled in: {}",
                    name.trim(),
                    if known.is_empty() {
                        "none (enable a provider feature)".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_list_what_is_compiled_in() {
        let err = match source_from_env("nope") {
            Err(err) => err,
            Ok(_) => panic!("an unknown provider must be an error"),
        };
        assert!(err.is_configuration());
        assert!(
            err.to_string().contains("unknown provider \"nope\""),
            "{err}"
        );
        for p in PROVIDERS {
            assert!(err.to_string().contains(p.name()), "{err}");
            assert!(provider(&p.name().to_uppercase()).is_some());
            assert!(!p.env_vars().is_empty());
            assert!(p.env_vars().iter().all(|v| v.starts_with("ADAUTH_")));
        }
    }
}
