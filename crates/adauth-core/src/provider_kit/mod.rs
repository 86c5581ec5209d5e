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
//!   a missing one the same way.
//!
//! A new provider is one crate built from these plus one registration line in the umbrella
//! crate; `cargo xtask tidy` lists whatever else it still needs.

pub mod endpoint;
pub mod env;
pub mod required;
pub mod wire;
