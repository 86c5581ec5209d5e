//! Mediago: one client-level token for every account under the client. Lists the accounts,
//! then asks for a report in each with its `Account-Id`, against the provider's fake.
//!
//! `cargo run -p adauth --example mediago --features mediago,testkit`

use adauth::TokenCache;
use adauth::mediago::{Credentials, DESCRIPTOR, MediagoSource};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fake = adauth::testkit::start(&DESCRIPTOR).await?;
    // Against Mediago: `Credentials::from_env()?` (ADAUTH_MEDIAGO_API_TOKEN, ...).
    let source = MediagoSource::new(fake.credentials(Credentials::from_lookup)?)?;
    let cache = TokenCache::new(source.clone());

    let http = adauth::reqwest::Client::new();
    for account in source.accounts_with_cache(&cache).await? {
        let token = cache.token().await?;
        let request = http.get(fake.protected_url());
        let request = source.authorize_account(request, &token, &account.account_id)?;
        let status = request.send().await?.status();
        println!(
            "{} ({}): HTTP {status}",
            account.account_name, account.account_id
        );
    }
    // Each new token revokes the one before: one cache (or one store) per API token.
    println!("token requests: {}", fake.token_requests());
    Ok(())
}
