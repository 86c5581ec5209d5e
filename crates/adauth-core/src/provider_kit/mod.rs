//! What provider crates are written with; an application using adauth does not need it.
//!
//! - [`endpoint`]: the declarative token endpoint, a flow described as data
//!   ([`EndpointSpec`](endpoint::EndpointSpec)) and run by one
//!   [`TokenEndpoint`](endpoint::TokenEndpoint);
//! - [`wire`]: endpoint URLs checked for safety, request bodies that wipe their memory,
//!   headers, the answer as read and its classification into an error kind;
//! - [`env`](mod@env): reading a provider's `ADAUTH_*` variables through a lookup, with errors that
//!   name a variable but never quote its value;
//! - [`required`]: the checks of required builder settings, so that every provider reports
//!   a missing one the same way;
//! - [`provider_facts!`](crate::provider_facts): a source's provider name and documented
//!   lifetime, taken from the provider's descriptor.
//!
//! A new provider is one crate built from these plus one registration line in the umbrella
//! crate; `cargo xtask tidy` lists whatever else it still needs.

pub mod endpoint;
pub mod env;
pub mod required;
pub mod wire;

/// Writes the [`TokenSource`](crate::TokenSource) methods that come from a provider's
/// [descriptor](crate::Provider): `provider` (its name) and `documented_lifetime`. Invoke it
/// inside the `impl TokenSource` block, so that every source of a provider says the same.
///
/// ```
/// use adauth_core::{FetchContext, Provider, Result, Token, TokenSource};
///
/// fn from_lookup(_: &dyn Fn(&str) -> Option<String>) -> Result<Box<dyn TokenSource>> {
///     Ok(Box::new(Example))
/// }
/// const DESCRIPTOR: Provider = Provider::new("example", "Example", from_lookup)
///     .with_documented_lifetime(std::time::Duration::from_secs(3600));
///
/// #[derive(Debug)]
/// struct Example;
///
/// #[async_trait::async_trait]
/// impl TokenSource for Example {
///     adauth_core::provider_facts!(DESCRIPTOR);
///
///     async fn fetch(&self, _cx: &FetchContext) -> Result<Token> {
///         unimplemented!()
///     }
/// }
///
/// assert_eq!(Example.provider(), "example");
/// assert_eq!(Example.documented_lifetime(), Some(std::time::Duration::from_secs(3600)));
/// ```
#[macro_export]
macro_rules! provider_facts {
    ($descriptor:expr) => {
        fn provider(&self) -> &str {
            $descriptor.name()
        }

        fn documented_lifetime(&self) -> ::core::option::Option<::core::time::Duration> {
            $descriptor.documented_lifetime()
        }
    };
}
