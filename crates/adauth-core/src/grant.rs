//! A user's grant (from an authorization-code flow): what a source for it keeps, and how it
//! renews. Shared by the providers whose users authorize an application (MediaMath,
//! Admitad), so that each says only how a refresh token is sent.

use std::fmt;
use std::future::Future;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};

use crate::{Error, ErrorKind, FetchContext, Result, Token};

/// The error code of an error that only a new authorization by the user resolves; see
/// [`is_authorization_required`].
pub const AUTHORIZATION_REQUIRED: &str = "authorization_required";

/// Whether `err` says that the user must authorize the application again: there is no
/// refresh token to renew the token with, or the provider refused it.
pub fn is_authorization_required(err: &Error) -> bool {
    err.code() == Some(AUTHORIZATION_REQUIRED)
}

/// A [`CredentialsRejected`](ErrorKind::CredentialsRejected) error with the
/// [`AUTHORIZATION_REQUIRED`] code, saying `why`.
pub fn authorization_required(provider: &'static str, why: &'static str) -> Error {
    Error::new(provider, ErrorKind::CredentialsRejected)
        .with_message(why)
        .with_code(AUTHORIZATION_REQUIRED)
}

struct State {
    /// The token from the exchange, handed out by the first fetch.
    initial: Option<Token>,
    /// The newest refresh token seen.
    refresh_token: Option<SecretString>,
    /// Whether the provider refused the last refresh token.
    refused: bool,
}

/// What a source for a user's grant keeps: the exchanged token until it is handed out, and
/// the newest refresh token (providers rotate them).
///
/// A fetch hands out the exchanged token while it is valid, then renews with the refresh
/// token. Without one, or once the provider refuses it, the fetch fails with an
/// [`authorization_required`] error: it never falls back to another grant, which would
/// switch the identity the tokens act for. A refusal of the client itself
/// (`invalid_client`, [`Error::is_client_rejected`]) is passed on as it is: no new
/// authorization by the user fixes it.
pub struct UserGrant {
    provider: &'static str,
    state: Mutex<State>,
}

impl UserGrant {
    /// A grant of `provider`'s, from the exchanged token (which carries the refresh token),
    /// or from a refresh token kept from an earlier run.
    pub fn new(
        provider: &'static str,
        initial: Option<Token>,
        refresh_token: Option<SecretString>,
    ) -> Self {
        let refresh_token = refresh_token
            .or_else(|| initial.as_ref().and_then(|t| t.refresh_token().cloned()))
            .filter(|t| !t.expose_secret().is_empty());
        Self {
            provider,
            state: Mutex::new(State {
                initial,
                refresh_token,
                refused: false,
            }),
        }
    }

    /// The newest refresh token, to keep for the next run.
    pub fn refresh_token(&self) -> Option<SecretString> {
        self.lock().refresh_token.clone()
    }

    /// Whether the exchanged token is still waiting to be handed out.
    pub fn has_initial_token(&self) -> bool {
        self.lock().initial.is_some()
    }

    /// A fetch: the exchanged token while it is valid, else a renewal with `renew`.
    pub async fn fetch<F, Fut>(&self, cx: &FetchContext, renew: F) -> Result<Token>
    where
        F: FnOnce(SecretString) -> Fut,
        Fut: Future<Output = Result<Token>>,
    {
        let (initial, refresh_token, refused) = {
            let mut state = self.lock();
            (
                state.initial.take(),
                state.refresh_token.clone(),
                state.refused,
            )
        };
        if let Some(token) = initial.filter(|t| t.is_valid_at(cx.now())) {
            return Ok(token);
        }
        match refresh_token {
            Some(refresh_token) => match self.refresh(&refresh_token, renew).await {
                Err(e) if e.is_credentials_rejected() && !e.is_client_rejected() => {
                    let mut err = self.refused_error();
                    if let Some(status) = e.status() {
                        err = err.with_status(status);
                    }
                    if let Some(description) = e.description() {
                        err = err.with_description(description);
                    }
                    Err(err)
                }
                result => result,
            },
            None if refused => Err(self.refused_error()),
            None => Err(authorization_required(
                self.provider,
                "no refresh token to renew the token with; the user must authorize the \
                 application again",
            )),
        }
    }

    /// A renewal of `refresh_token` with `renew`, keeping the newer refresh token the answer
    /// brings, or forgetting a refused one so that the next fetch says what to do instead
    /// of sending it again.
    pub async fn refresh<F, Fut>(&self, refresh_token: &SecretString, renew: F) -> Result<Token>
    where
        F: FnOnce(SecretString) -> Fut,
        Fut: Future<Output = Result<Token>>,
    {
        match renew(refresh_token.clone()).await {
            Ok(token) => {
                let mut state = self.lock();
                if let Some(newer) = token.refresh_token() {
                    state.refresh_token = Some(newer.clone());
                }
                state.refused = false;
                drop(state);
                // A provider that does not rotate keeps the one it was given.
                Ok(match token.refresh_token() {
                    Some(_) => token,
                    None => token.with_refresh_token(Some(refresh_token.clone())),
                })
            }
            Err(e) => {
                if e.is_credentials_rejected() && !e.is_client_rejected() {
                    let mut state = self.lock();
                    if state
                        .refresh_token
                        .as_ref()
                        .is_some_and(|t| t.expose_secret() == refresh_token.expose_secret())
                    {
                        state.refresh_token = None;
                        state.refused = true;
                    }
                }
                Err(e)
            }
        }
    }

    fn refused_error(&self) -> Error {
        authorization_required(
            self.provider,
            "the provider refused the refresh token; the user must authorize the \
             application again",
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every critical section assigns whole fields, so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for UserGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("UserGrant")
            .field("provider", &self.provider)
            .field("initial_token", &state.initial.is_some())
            .field(
                "refresh_token",
                &state.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("refused", &state.refused)
            .finish()
    }
}
