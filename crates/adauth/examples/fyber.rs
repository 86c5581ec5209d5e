//! Fyber (Digital Turbine Offer Wall Reporting API): a client-credentials token, then a CSV
//! report through `AuthorizedClient`, against the provider's fake.
//!
//! `cargo run -p adauth --example fyber --features fyber,testkit`

use adauth::fyber::{Credentials, DESCRIPTOR, FyberSource};
use adauth::{AuthorizedClient, TokenCache};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fake = adauth::testkit::start(&DESCRIPTOR).await?;
    // Against Fyber: `Credentials::from_env()?` (ADAUTH_FYBER_CLIENT_ID, ..._CLIENT_SECRET).
    let credentials = fake.credentials(Credentials::from_lookup)?;

    let api = AuthorizedClient::new(
        TokenCache::new(FyberSource::new(credentials)?),
        adauth::reqwest::Client::new(),
    );
    let report = api
        .send(
            api.post(fake.protected_url())
                .body(r#"{"dimensions":["date"]}"#),
        )
        .await?;
    println!("report: HTTP {}", report.status());
    println!("{}", report.text().await?.trim());
    Ok(())
}
