//! The authorization-code flow: the link that sends a user to Admitad, and reading the
//! redirect that comes back.

use adauth_core::provider_kit::wire;
use std::fmt::Write as _;

use adauth_core::secrecy::SecretString;
use adauth_core::{Error, ErrorKind, Result};
use reqwest::StatusCode;
use url::Url;

use crate::{PROVIDER, Scopes};

/// A link that sends a user to Admitad to authorize the application, with the random
/// `state` that the redirect back must carry.
///
/// Made by [`AdmitadSource::authorization_request`](crate::AdmitadSource::authorization_request):
/// `{authorize URL}?client_id=...&redirect_uri=...&scope=...&response_type=code&state=...`.
/// Keep it (or its [`state`](Self::state) and [`redirect_uri`](Self::redirect_uri)) until
/// the user comes back, then pass the URL they came back to to
/// [`code_from_redirect`](Self::code_from_redirect) or
/// [`AdmitadSource::complete_authorization`](crate::AdmitadSource::complete_authorization).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    url: Url,
    state: String,
    redirect_uri: String,
}

impl AuthorizationRequest {
    pub(crate) fn new(
        authorize_url: &Url,
        client_id: &str,
        redirect_uri: &str,
        scopes: &Scopes,
    ) -> Result<Self> {
        Self::with_state(
            authorize_url,
            client_id,
            redirect_uri,
            scopes,
            random_state()?,
        )
    }

    /// A request with a given `state`, for tests and for callers that make their own.
    pub fn with_state(
        authorize_url: &Url,
        client_id: &str,
        redirect_uri: &str,
        scopes: &Scopes,
        state: impl Into<String>,
    ) -> Result<Self> {
        wire::check_endpoint(PROVIDER, authorize_url)?;
        Url::parse(redirect_uri).map_err(|e| {
            Error::configuration(PROVIDER, format!("the redirect URI is not a URL: {e}"))
        })?;
        let state = state.into();
        if state.is_empty() {
            return Err(Error::configuration(PROVIDER, "the state is empty"));
        }
        let mut url = authorize_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &scopes.to_string())
            .append_pair("response_type", "code")
            .append_pair("state", &state);
        Ok(Self {
            url,
            state,
            redirect_uri: redirect_uri.to_owned(),
        })
    }

    /// The link to send the user to.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The `state` the redirect back must carry.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The `redirect_uri`; the code exchange must send the same one.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The authorization `code` from the URL the user was redirected to (absolute, or a
    /// path and query relative to the redirect URI).
    ///
    /// Fails if the `state` is missing or not this request's (the redirect did not come
    /// from this request: [`UnexpectedResponse`](ErrorKind::UnexpectedResponse)), if
    /// Admitad sent an `error` instead (with its code and description; `access_denied` is
    /// [`CredentialsRejected`](ErrorKind::CredentialsRejected)), or if there is no `code`.
    pub fn code_from_redirect(&self, redirected_to: &str) -> Result<SecretString> {
        let base = Url::parse(&self.redirect_uri).ok();
        let url = Url::options()
            .base_url(base.as_ref())
            .parse(redirected_to.trim())
            .map_err(|e| {
                Error::configuration(PROVIDER, format!("the redirect is not a URL: {e}"))
            })?;
        let (mut state, mut code, mut error, mut description) = (None, None, None, None);
        for (name, value) in url.query_pairs() {
            let slot = match name.as_ref() {
                "state" => &mut state,
                "code" => &mut code,
                "error" => &mut error,
                "error_description" => &mut description,
                _ => continue,
            };
            slot.get_or_insert(value.into_owned());
        }
        if state.as_deref() != Some(self.state.as_str()) {
            return Err(Error::unexpected(
                PROVIDER,
                "the redirect's state does not match the authorization request",
            ));
        }
        if let Some(error) = error {
            let kind = wire::classify(StatusCode::BAD_REQUEST, Some(&error));
            let mut err = Error::new(PROVIDER, kind)
                .with_message("the authorization was refused")
                .with_code(error);
            if let Some(description) = description {
                err = err.with_description(description);
            }
            return Err(err);
        }
        code.filter(|c| !c.is_empty())
            .map(SecretString::from)
            .ok_or_else(|| Error::unexpected(PROVIDER, "the redirect carries no code"))
    }
}

/// 128 random bits from the operating system, in hex.
fn random_state() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| {
        Error::new(PROVIDER, ErrorKind::Configuration)
            .with_message("the system's random number generator failed")
    })?;
    let mut state = String::with_capacity(32);
    for b in bytes {
        let _ = write!(state, "{b:02x}");
    }
    Ok(state)
}
