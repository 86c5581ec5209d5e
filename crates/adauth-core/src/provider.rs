//! What a provider crate says about itself: one [`Provider`] value, which the umbrella crate
//! registers and from which tools (the `adauth` command, the sandbox, the README's tables)
//! learn the provider's name, its variables, its token lifetime and its fake.

use std::any::Any;
use std::fmt;
use std::time::Duration;

use crate::{Result, TokenSource};

/// Builds a provider's source from variables that a lookup function supplies.
pub type FromLookup = fn(&dyn Fn(&str) -> Option<String>) -> Result<Box<dyn TokenSource>>;

/// One environment variable a provider crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    name: &'static str,
    required: bool,
    secret: bool,
    description: &'static str,
}

impl EnvVar {
    /// A variable that must be set.
    pub const fn required(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            required: true,
            secret: false,
            description,
        }
    }

    /// A variable that may be left unset.
    pub const fn optional(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            required: false,
            secret: false,
            description,
        }
    }

    /// Marks the variable as holding a secret (a client secret, a password, an API or
    /// refresh token): tools never show its value, and tests check that nothing does.
    pub const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// Whether the variable holds a secret.
    pub const fn is_secret(&self) -> bool {
        self.secret
    }

    /// The variable's name: `ADAUTH_<PROVIDER>_<FIELD>`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Whether the provider cannot be used without it. A variable that is required only
    /// in some setups (one of two ways to authenticate) is optional here, and its
    /// description says when it is needed.
    pub const fn is_required(&self) -> bool {
        self.required
    }

    /// What the variable holds, in a few words.
    pub const fn description(&self) -> &'static str {
        self.description
    }
}

/// A provider, as its crate describes it: the one value the umbrella crate registers.
///
/// ```
/// use adauth_core::provider::{EnvVar, Provider};
/// # fn from_lookup(_: &dyn Fn(&str) -> Option<String>) -> adauth_core::Result<Box<dyn adauth_core::TokenSource>> { unimplemented!() }
/// pub const DESCRIPTOR: Provider = Provider::new("example", "Example Ads", from_lookup)
///     .with_env_vars(&[
///         EnvVar::required("ADAUTH_EXAMPLE_CLIENT_ID", "the client id"),
///         EnvVar::optional("ADAUTH_EXAMPLE_BASE_URL", "the API host"),
///     ])
///     .with_documented_lifetime(std::time::Duration::from_secs(3600));
/// assert_eq!(DESCRIPTOR.required_env_vars().count(), 1);
/// ```
#[derive(Clone, Copy)]
pub struct Provider {
    name: &'static str,
    display_name: &'static str,
    env_vars: &'static [EnvVar],
    from_lookup: FromLookup,
    documented_lifetime: Option<Duration>,
    fake: Option<&'static (dyn Any + Send + Sync)>,
    login: Option<&'static dyn crate::Login>,
}

impl Provider {
    /// A provider called `name` (short, lower case: `"fyber"`) and `display_name` (for
    /// people: `"Fyber (Digital Turbine Offer Wall Reporting API)"`), whose source
    /// `from_lookup` builds.
    pub const fn new(
        name: &'static str,
        display_name: &'static str,
        from_lookup: FromLookup,
    ) -> Self {
        Self {
            name,
            display_name,
            env_vars: &[],
            from_lookup,
            documented_lifetime: None,
            fake: None,
            login: None,
        }
    }

    /// Every environment variable the provider's crate reads.
    pub const fn with_env_vars(mut self, vars: &'static [EnvVar]) -> Self {
        self.env_vars = vars;
        self
    }

    /// How long the provider documents its tokens to live.
    pub const fn with_documented_lifetime(mut self, lifetime: Duration) -> Self {
        self.documented_lifetime = Some(lifetime);
        self
    }

    /// The provider's fake server, as the `adauth-testkit` crate defines one
    /// (`adauth_testkit::FakeProvider`); provider crates set it behind their `testkit`
    /// feature. It is held untyped here so that this crate does not depend on the testkit.
    pub const fn with_fake(mut self, fake: &'static (dyn Any + Send + Sync)) -> Self {
        self.fake = Some(fake);
        self
    }

    /// The provider's browser login (authorization-code grant), for `adauth login`.
    pub const fn with_login(mut self, login: &'static dyn crate::Login) -> Self {
        self.login = Some(login);
        self
    }

    /// The login set with [`with_login`](Self::with_login), if the provider has one.
    pub fn login(&self) -> Option<&'static dyn crate::Login> {
        self.login
    }

    /// The provider's name, as `adauth token <name>` takes it: `"fyber"`, `"adgem"`, ...
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The provider's name for people.
    pub const fn display_name(&self) -> &'static str {
        self.display_name
    }

    /// Every environment variable the provider's crate reads.
    pub const fn env_vars(&self) -> &'static [EnvVar] {
        self.env_vars
    }

    /// The names of all its variables, in the order [`env_vars`](Self::env_vars) lists them.
    pub fn env_var_names(&self) -> Vec<&'static str> {
        self.env_vars.iter().map(|v| v.name).collect()
    }

    /// The names of the variables that must be set.
    pub fn required_env_vars(&self) -> impl Iterator<Item = &'static str> + use<> {
        self.env_vars.iter().filter(|v| v.required).map(|v| v.name)
    }

    /// Checks that every [required](EnvVar::required) variable is set in `lookup`; the
    /// error names all that are missing at once.
    pub fn require_env(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<()> {
        let names: Vec<&str> = self.required_env_vars().collect();
        crate::provider_kit::env::require_all(self.name, lookup, &names)
    }

    /// How long the provider documents its tokens to live: what is assumed for an answer
    /// that gives no lifetime. `None` when it documents none (5 minutes are assumed).
    pub const fn documented_lifetime(&self) -> Option<Duration> {
        self.documented_lifetime
    }

    /// The fake set with [`with_fake`](Self::with_fake), for the testkit to read back.
    pub fn fake_any(&self) -> Option<&'static (dyn Any + Send + Sync)> {
        self.fake
    }

    /// The source the process environment describes.
    pub fn source_from_env(&self) -> Result<Box<dyn TokenSource>> {
        (self.from_lookup)(&crate::provider_kit::env::process)
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

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("display_name", &self.display_name)
            .field("env_vars", &self.env_vars)
            .field("documented_lifetime", &self.documented_lifetime)
            .field("fake", &self.fake.is_some())
            .field("login", &self.login.is_some())
            .finish_non_exhaustive()
    }
}
