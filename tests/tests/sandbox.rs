//! The sandbox itself: variables, injected failures, expiry, strict request checks,
//! shutdown.

mod common;

use std::time::Duration;

use adauth::{ErrorKind, FetchContext, TokenSource};
use common::{call_bearer, http, lookup};
use serde_json::{Value, json};

/// A raw POST to `fake` at `path`; the status and the JSON body.
async fn post(url: String, content_type: &str, body: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_registered_provider_has_a_fake_whose_env_covers_its_required_variables() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let names: Vec<_> = sandbox.fakes().iter().map(|f| f.provider()).collect();
    let registered: Vec<_> = adauth::PROVIDERS.iter().map(|p| p.name()).collect();
    assert_eq!(names, registered, "every provider brings its fake");
    assert!(sandbox.fake("nope").is_none());
    for provider in adauth::PROVIDERS {
        let fake = sandbox.fake(provider.name()).unwrap();
        let env = fake.env();
        let read: Vec<&str> = provider.env_vars().iter().map(|v| v.name()).collect();
        for var in provider.required_env_vars() {
            assert!(
                env.iter().any(|(k, v)| k == var && !v.is_empty()),
                "{var} missing from {}'s fake",
                provider.name()
            );
        }
        for (name, _) in &env {
            assert!(
                read.contains(&name.as_str()),
                "{name} is not read by {}",
                provider.name()
            );
        }
        // The fake's variables alone make a working source.
        assert!(
            provider.source_from_lookup(&fake.lookup(&[])).is_ok(),
            "{}",
            provider.name()
        );
        assert!(fake.base_url().starts_with("http://127.0.0.1:"));
        assert!(fake.protected_url().starts_with(&fake.base_url()));
    }
    let env = sandbox.env();
    assert_eq!(
        env.iter()
            .filter(|(k, _)| k == "ADAUTH_MEDIAMATH_SESSION")
            .count(),
        1
    );
    assert!(env.contains(&("ADAUTH_MEDIAMATH_SCOPE".into(), "offline_access".into())));
}

#[tokio::test]
async fn fail_next_fails_that_many_token_requests_with_the_provider_shape() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("fyber").unwrap();
    let credentials = adauth::fyber::Credentials::from_lookup(&lookup(fake, &[])).unwrap();
    let source = adauth::fyber::FyberSource::with_http(credentials, http()).unwrap();
    let cx = FetchContext::default();
    fake.fail_next(2, 500);
    for _ in 0..2 {
        let err = source.fetch(&cx).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable, "{err}");
        assert_eq!(err.code(), Some("internal_server_error"));
    }
    assert_eq!(fake.issued(), 0);
    assert!(source.fetch(&cx).await.is_ok());
    assert_eq!((fake.token_requests(), fake.issued()), (3, 1));

    let admitad = sandbox.fake("admitad").unwrap();
    admitad.fail_next(1, 503);
    let credentials = adauth::admitad::Credentials::from_lookup(&lookup(admitad, &[])).unwrap();
    let source = adauth::admitad::AdmitadSource::with_http(credentials, http()).unwrap();
    let err = source.fetch(&cx).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert!(source.fetch(&cx).await.is_ok());
}

#[tokio::test]
async fn a_zero_lifetime_token_is_expired_at_once() {
    let sandbox = adauth::testkit::sandbox()
        .token_lifetime(Duration::from_secs(120))
        .build()
        .await
        .unwrap();
    let fake = sandbox.fake("fyber").unwrap();
    let url = format!("{}/auth/v1/token", fake.base_url());
    let body = json!({
        "grant_type": "client_credentials",
        "client_id": adauth::fyber::testkit::CLIENT_ID,
        "client_secret": adauth::fyber::testkit::CLIENT_SECRET,
    })
    .to_string();
    let (status, live) = post(url.clone(), "application/json", &body).await;
    assert_eq!((status, &live["expiresIn"]), (200, &json!(120)));
    fake.set_token_lifetime(Duration::ZERO);
    let (_, dead) = post(url, "application/json", &body).await;
    assert_eq!(dead["expiresIn"], json!(0));
    assert_eq!(
        call_bearer(fake, dead["accessToken"].as_str().unwrap()).await,
        401
    );
    assert_eq!(
        call_bearer(fake, live["accessToken"].as_str().unwrap()).await,
        200
    );
    assert_ne!(live["accessToken"], dead["accessToken"]);
}

#[tokio::test]
async fn token_requests_are_checked_strictly() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let base = |p: &str| sandbox.fake(p).unwrap().base_url();
    let fyber = format!("{}/auth/v1/token", base("fyber"));
    let good = r#"{"grant_type":"client_credentials","client_id":"sandbox-fyber-client","client_secret":"sandbox-fyber-secret"}"#;
    assert_eq!(
        post(fyber.clone(), "text/plain", good).await.1,
        json!({"error":"invalid_request"})
    );
    assert_eq!(
        post(fyber.clone(), "application/json", "{").await.1,
        json!({"error":"invalid_request"})
    );
    let grant = good.replace("client_credentials", "password");
    let (status, body) = post(fyber, "application/json", &grant).await;
    assert_eq!(
        (status, body),
        (400, json!({"error":"unsupported_grant_type"}))
    );

    // AdGem's ids must be JSON integers.
    let adgem = format!("{}/v1/apps/tokens", base("adgem"));
    let ids_as_text = r#"{"adgem_pub_id":"1001","adgem_app_id":2002,"client_id":"sandbox-adgem-client","client_secret":"sandbox-adgem-secret"}"#;
    let (status, body) = post(adgem.clone(), "application/json", ids_as_text).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_request")));
    let ok = ids_as_text.replace("\"1001\"", "1001");
    assert_eq!(post(adgem, "application/json", &ok).await.0, 200);

    // AdGem's exchange: 415 on JSON, 422 without the refresh token.
    let users = format!("{}/v1/users/token", base("adgem"));
    let (status, body) = post(users.clone(), "application/json", "{}").await;
    assert!(
        status == 415 && body["error"].is_string(),
        "{status} {body}"
    );
    let (status, body) = post(
        users,
        "application/x-www-form-urlencoded",
        "grant_type=refresh_token",
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["errors"]["refresh_token"].is_array(), "{body}");

    // Mediago: the API token in Basic, the form content type, an empty body.
    let mediago = format!("{}/data/v1/client/authentication", base("mediago"));
    let basic = format!("Basic {}", adauth::mediago::testkit::api_token());
    let send = |ct: &'static str, body: &'static str| {
        reqwest::Client::new()
            .post(mediago.clone())
            .header("authorization", basic.clone())
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let form = "application/x-www-form-urlencoded;charset=utf-8";
    assert_eq!(send(form, "").await.unwrap().status().as_u16(), 200);
    let json: Value = send("application/json", "")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["errno"], -1);
    let json: Value = send(form, "a=b").await.unwrap().json().await.unwrap();
    assert_eq!(json["errno"], -1);

    // Admitad's client credentials need HTTP Basic.
    let admitad = format!("{}/token/", base("admitad"));
    let body = "grant_type=client_credentials&client_id=sandbox-admitad-client&scope=advcampaigns";
    let (status, body) = post(
        admitad,
        "application/x-www-form-urlencoded;charset=UTF-8",
        body,
    )
    .await;
    assert_eq!(
        (status, &body["error"], &body["error_code"]),
        (401, &json!("invalid_client"), &json!(1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_on_a_multi_thread_runtime_and_stops_when_dropped() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("adgem").unwrap().clone();
    let credentials = adauth::adgem::Credentials::from_lookup(&lookup(&fake, &[])).unwrap();
    let source = adauth::adgem::AdGemSource::with_http(credentials, http()).unwrap();
    assert!(source.fetch(&FetchContext::default()).await.is_ok());
    drop(sandbox);
    // Fresh connections are refused once the servers have stopped.
    let mut refused = false;
    for _ in 0..200 {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        if client.post(fake.protected_url()).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(
        refused,
        "the fake still answers after the sandbox was dropped"
    );
}

#[tokio::test]
async fn tokens_are_unique_and_debug_shows_no_credentials() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("adgem").unwrap();
    let credentials = adauth::adgem::Credentials::from_lookup(&lookup(fake, &[])).unwrap();
    let source = adauth::adgem::AdGemSource::with_http(credentials, http()).unwrap();
    let cx = FetchContext::default();
    use adauth::secrecy::ExposeSecret;
    let a = source.fetch(&cx).await.unwrap();
    let b = source.fetch(&cx).await.unwrap();
    let (a, b) = (
        a.access_token().expose_secret(),
        b.access_token().expose_secret(),
    );
    assert!(a.starts_with("fake-adgem-access-1-"), "{a}");
    assert!(b.starts_with("fake-adgem-access-2-"), "{b}");
    assert_ne!(a[20..], b[20..]);
    let debug = format!("{sandbox:?}");
    for secret in ["sandbox-adgem-secret", "sandbox-fyber-secret", a] {
        assert!(!debug.contains(secret), "{debug}");
    }
    assert!(debug.contains("adgem"));
}
