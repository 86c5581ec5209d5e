//! Many accounts through `TokenCaches`, against the sandbox's fakes: Mediago's
//! account-level tokens (a cache per account) and its client-level token (one cache per
//! client, the account named on each request).

use std::sync::Arc;

use adauth::TokenCaches;
use adauth::http::HttpClient;
use adauth::mediago::{Credentials, MediagoSource};
use adauth::secrecy::ExposeSecret;

async fn report(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn one_client_level_mediago_token_serves_every_account_of_the_client() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediago").unwrap();
    let lookup = Arc::new(fake.lookup(&[("ADAUTH_MEDIAGO_ACCOUNT_ID", "")]));
    // Keyed by client: each client's API token makes one cache.
    let clients = TokenCaches::builder(move |_client: &String, http: &HttpClient| {
        MediagoSource::with_http(Credentials::from_lookup(&*lookup)?, http.clone())
    })
    .build();
    let client = "146".to_owned();
    let api = reqwest::Client::new();
    for account in [adauth::mediago::testkit::ACCOUNT_ID, "100147", "100148"] {
        let entry = clients.get(&client).unwrap();
        let token = entry.token().await.unwrap();
        let request = entry
            .source()
            .authorize_account(api.get(fake.protected_url()), &token, account)
            .unwrap();
        let body = report(request).await;
        if account == adauth::mediago::testkit::ACCOUNT_ID {
            assert_eq!(body["code"], 0, "{body}");
        } else {
            // The fake's client owns one account: the others are refused by the API, which
            // shows that each request named its own.
            assert_eq!(body["errno"], -1, "{body}");
        }
    }
    assert_eq!(fake.token_requests(), 1, "one client, one token");
    assert_eq!(clients.len(), 1);
}

#[tokio::test]
async fn account_level_mediago_tokens_get_a_cache_per_account() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediago").unwrap();
    let env = fake.env();
    // Each account has its own account-level API token (the fake knows one; a pipeline
    // would read each from its secret store).
    let accounts = TokenCaches::builder(move |_account: &String, http: &HttpClient| {
        let mut vars: Vec<(&str, String)> =
            env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        vars.retain(|(k, _)| !k.starts_with("ADAUTH_MEDIAGO_API_TOKEN"));
        vars.push((
            "ADAUTH_MEDIAGO_API_TOKEN",
            adauth::mediago::testkit::account_api_token(),
        ));
        vars.push(("ADAUTH_MEDIAGO_TOKEN_LEVEL", "account".to_owned()));
        vars.push(("ADAUTH_MEDIAGO_ACCOUNT_ID", String::new()));
        let lookup = move |name: &str| {
            vars.iter()
                .rev()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        };
        MediagoSource::with_http(Credentials::from_lookup(&lookup)?, http.clone())
    })
    .build();
    let account = adauth::mediago::testkit::ACCOUNT_ID.to_owned();
    let token = accounts.token(&account).await.unwrap();
    let body = report(
        reqwest::Client::new()
            .get(fake.protected_url())
            .bearer_auth(token.access_token().expose_secret()),
    )
    .await;
    assert_eq!(
        body["code"], 0,
        "an account-level token acts on its account: {body}"
    );
    // Asked again, the same cache answers.
    let again = accounts.token(&account).await.unwrap();
    assert!(again.same_access_token(&token));
    assert_eq!(fake.token_requests(), 1);
}
