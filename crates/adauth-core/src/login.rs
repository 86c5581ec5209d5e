//! A provider's browser login (the authorization-code grant), as `adauth login` runs it: a
//! user authorizes the application, the provider redirects to a loopback listener with a
//! code, and the code becomes a token whose refresh token keeps renewing it.

use async_trait::async_trait;
use url::Url;

use crate::{Result, TokenSource};

/// The variables lookup a login reads the application's client from (the provider's
/// `ADAUTH_<PROVIDER>_*` variables, or a profile's settings).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A provider's authorization-code login, registered on its
/// [`Provider`](crate::Provider) descriptor with
/// [`with_login`](crate::Provider::with_login).
///
/// A login's tokens are a user's, not the application's: the source of
/// [`source`](Self::source) has an identity of its own (the application and the redirect
/// URI), so a token store keeps the user's token, refresh token included, apart from the
/// application's, and renews it.
#[async_trait]
pub trait Login: Send + Sync + 'static {
    /// Starts an authorization for the application in `lookup`, redirecting to
    /// `redirect_uri`: a fresh `state` (and PKCE verifier where the provider supports it)
    /// and the URL to open in a browser.
    fn start(&self, lookup: Lookup<'_>, redirect_uri: &str) -> Result<Box<dyn PendingLogin>>;

    /// The source of a grant made earlier through `redirect_uri`, whose token a store
    /// holds: it renews the stored token with its refresh token, and fails with an
    /// [`authorization_required`](crate::authorization_required) error once there is none.
    fn source(&self, lookup: Lookup<'_>, redirect_uri: &str) -> Result<Box<dyn TokenSource>>;
}

/// An authorization in progress ([`Login::start`]). `Debug` shows no secret.
#[async_trait]
pub trait PendingLogin: Send + Sync + std::fmt::Debug {
    /// The URL to send the user's browser to.
    fn url(&self) -> &Url;

    /// Checks the `state` of the URL the provider redirected to and exchanges its code: a
    /// source that hands out the exchanged token first, then renews it (the same identity
    /// as [`Login::source`]'s, so a store written through it is read back there). An error
    /// redirect (`?error=access_denied`) is an error with the provider's code.
    async fn finish(&self, redirected_to: &str) -> Result<Box<dyn TokenSource>>;
}
