//! MediaMath: the Auth0 password grant with a refresh token (`offline_access`), and the
//! legacy `adama_session` cookie beside the bearer token, against the provider's fake.
//!
//! `cargo run -p adauth --example mediamath --features mediamath,testkit`

use adauth::mediamath::{Credentials, DESCRIPTOR, MediaMathSource};
use adauth::{AuthorizedClient, TokenCache};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fake = adauth::testkit::start(&DESCRIPTOR).await?;
    // Against MediaMath: `Credentials::from_env()?` (ADAUTH_MEDIAMATH_CLIENT_ID, ...); the
    // fake's variables ask for `offline_access` and the session.
    let credentials = fake.credentials(Credentials::from_lookup)?;
    println!("session cookie: {}", credentials.session());

    let cache = TokenCache::new(MediaMathSource::new(credentials)?);
    let token = cache.token().await?;
    println!("refresh token: {}", token.refresh_token().is_some());
    println!("session: {}", token.secret_extra("adama_session").is_some());

    // The bearer token and the cookie go on every request.
    let api = AuthorizedClient::new(cache, adauth::reqwest::Client::new());
    let organizations = api.send(api.get(fake.protected_url())).await?;
    println!("organizations: HTTP {}", organizations.status());
    Ok(())
}
