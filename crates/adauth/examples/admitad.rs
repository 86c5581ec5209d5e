//! Admitad: a client-credentials token for some scopes, the user fields that come with it,
//! and the refresh token to carry over to the next run, against the provider's fake.
//!
//! `cargo run -p adauth --example admitad --features admitad,testkit`

use adauth::admitad::{AdmitadSource, Credentials, DESCRIPTOR};
use adauth::secrecy::ExposeSecret as _;
use adauth::{AuthorizedClient, TokenCache};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fake = adauth::testkit::start(&DESCRIPTOR).await?;
    // Against Admitad: `Credentials::from_env()?` (ADAUTH_ADMITAD_CLIENT_ID, ..._SCOPE).
    let credentials = fake.credentials(Credentials::from_lookup)?;
    println!("scopes: {}", credentials.scopes());

    let cache = TokenCache::new(AdmitadSource::new(credentials)?);
    let token = cache.token().await?;
    println!("user: {:?}", token.extras().get("username"));
    println!("scope granted: {:?}", token.scope());
    // Tokens live 7 days and their number is capped: keep the refresh token for the next
    // run (`AdmitadSource::resume_from`), or share tokens through a store.
    let saved = token.refresh_token().map(|t| t.expose_secret().len());
    println!("refresh token to keep: {} characters", saved.unwrap_or(0));

    let api = AuthorizedClient::new(cache, adauth::reqwest::Client::new());
    println!(
        "/me/: HTTP {}",
        api.send(api.get(fake.protected_url())).await?.status()
    );
    Ok(())
}
