#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

pub use adauth_core::*;

pub mod config;
pub mod logins;

/// Registers provider crates: each line re-exports the crate as a module and adds its
/// descriptor to [`PROVIDERS`], both behind the crate's feature.
macro_rules! providers {
    ($($feature:literal => $module:ident = $krate:ident;)*) => {
        $(
            #[doc = concat!("The `", stringify!($krate), "` crate (feature `", $feature, "`).")]
            #[cfg(feature = $feature)]
            #[cfg_attr(docsrs, doc(cfg(feature = $feature)))]
            pub use $krate as $module;
        )*

        /// The providers compiled into this build (one per enabled feature), in the order
        /// they are registered: each one's [`Provider`] descriptor.
        pub const PROVIDERS: &[&Provider] = &[$(
            #[cfg(feature = $feature)]
            &$krate::DESCRIPTOR,
        )*];
    };
}

providers! {
    "mediago" => mediago = adauth_mediago;
    "mediamath" => mediamath = adauth_mediamath;
    "admitad" => admitad = adauth_admitad;
    "fyber" => fyber = adauth_fyber;
    "adgem" => adgem = adauth_adgem;
}

/// A Redis token store: the `adauth-redis` crate.
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use adauth_redis as redis;

/// Fakes of every provider compiled in: the `adauth-testkit` crate, and a
/// [`Sandbox`](testkit::Sandbox) of the registered providers.
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit {
    pub use adauth_testkit::*;

    use crate::{PROVIDERS, Provider};

    /// The fake of `provider`, if its crate has one.
    pub fn fake_of(provider: &Provider) -> Option<&'static dyn fake::FakeProvider> {
        let registration = fake::Registration::from_any(provider.fake_any()?)?;
        Some(registration.fake())
    }

    /// The fakes of every provider compiled in, in the order of [`PROVIDERS`].
    pub fn fakes() -> impl Iterator<Item = &'static dyn fake::FakeProvider> {
        PROVIDERS.iter().filter_map(|p| fake_of(p))
    }

    /// A builder of a sandbox with every provider's fake.
    pub fn sandbox() -> SandboxBuilder {
        Sandbox::builder().fakes(fakes())
    }

    /// Starts `provider`'s fake alone, with tokens that live
    /// [`DEFAULT_TOKEN_LIFETIME`]; an error if its crate has no fake.
    ///
    /// ```
    /// # #[cfg(feature = "fyber")]
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use adauth::fyber::{Credentials, DESCRIPTOR, FyberSource};
    ///
    /// let fake = adauth::testkit::start(&DESCRIPTOR).await?;
    /// let source = FyberSource::new(fake.credentials(Credentials::from_lookup)?)?;
    /// let cache = adauth::TokenCache::new(source);
    /// let api = adauth::AuthorizedClient::new(cache, adauth::reqwest::Client::new());
    /// let response = api.send(api.post(fake.protected_url())).await?;
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(fake.token_requests(), 1);
    /// # Ok(()) }
    /// # #[cfg(not(feature = "fyber"))] fn main() {}
    /// ```
    pub async fn start(provider: &Provider) -> std::io::Result<Fake> {
        let fake = fake_of(provider)
            .ok_or_else(|| std::io::Error::other(format!("{} has no fake", provider.name())))?;
        Fake::start(fake, DEFAULT_TOKEN_LIFETIME).await
    }

    /// `fake`'s provider's source, pointed at `fake`: for code that picks the provider at
    /// run time.
    pub fn source(fake: &Fake) -> crate::Result<Box<dyn crate::TokenSource>> {
        match crate::provider(fake.provider()) {
            Some(provider) => provider.source_from_lookup(&fake.lookup(&[])),
            None => Err(crate::Error::configuration(
                "adauth",
                format!("{} is not compiled in", fake.provider()),
            )),
        }
    }
}

/// The compiled-in provider called `name` (`"fyber"`, `"adgem"`, ...; any case).
pub fn provider(name: &str) -> Option<&'static Provider> {
    PROVIDERS
        .iter()
        .find(|p| p.name().eq_ignore_ascii_case(name.trim()))
        .copied()
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
            let known: Vec<&str> = PROVIDERS.iter().map(|p| p.name()).collect();
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
            assert!(p.env_vars().iter().all(|v| v.name().starts_with("ADAUTH_")));
        }
    }
}
