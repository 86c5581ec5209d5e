//! AdGem: an application token from the publisher and application ids (JSON integers), then
//! the offers, against the provider's fake.
//!
//! `cargo run -p adauth --example adgem --features adgem,testkit`

use adauth::adgem::{AdGemSource, Credentials, DESCRIPTOR};
use adauth::{AuthorizedClient, TokenCache};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fake = adauth::testkit::start(&DESCRIPTOR).await?;
    // Against AdGem: `Credentials::from_env()?` (ADAUTH_ADGEM_PUB_ID, ..._APP_ID, ...), or
    // the refresh-token exchange with `UserCredentials` and `UserTokenSource`.
    let credentials = fake.credentials(Credentials::from_lookup)?;
    println!(
        "publisher {}, app {}",
        credentials.pub_id(),
        credentials.app_id()
    );

    let cache = TokenCache::new(AdGemSource::new(credentials)?);
    let expires = cache.token().await?.expires_at();
    println!("token valid until {expires:?}");

    let api = AuthorizedClient::new(cache, adauth::reqwest::Client::new());
    let offers = api.send(api.post(fake.protected_url())).await?;
    println!("offers: HTTP {}", offers.status());
    Ok(())
}
