//! The real provider clients against the fakes: a cached token opens the protected
//! endpoint, revocation closes it, wrong credentials get the documented rejection.

mod common;

use std::sync::Arc;

use adauth::{ErrorKind, FetchContext, TokenSource};
use common::{call, http, lookup, token_opens_then_revoked};

fn fyber(fake: &adauth::testkit::Fake, overrides: &[(&str, &str)]) -> Arc<dyn TokenSource> {
    let credentials = adauth::fyber::Credentials::from_lookup(&lookup(fake, overrides)).unwrap();
    Arc::new(adauth::fyber::FyberSource::with_http(credentials, http()).unwrap())
}

fn adgem(fake: &adauth::testkit::Fake, overrides: &[(&str, &str)]) -> Arc<dyn TokenSource> {
    let credentials = adauth::adgem::Credentials::from_lookup(&lookup(fake, overrides)).unwrap();
    Arc::new(adauth::adgem::AdGemSource::with_http(credentials, http()).unwrap())
}

fn adgem_users(fake: &adauth::testkit::Fake, refresh_token: &str) -> Arc<dyn TokenSource> {
    let lookup = lookup(fake, &[("ADAUTH_ADGEM_REFRESH_TOKEN", refresh_token)]);
    let credentials = adauth::adgem::UserCredentials::from_lookup(&lookup).unwrap();
    Arc::new(adauth::adgem::UserTokenSource::with_http(credentials, http()).unwrap())
}

fn mediago(fake: &adauth::testkit::Fake, overrides: &[(&str, &str)]) -> Arc<dyn TokenSource> {
    let credentials = adauth::mediago::Credentials::from_lookup(&lookup(fake, overrides)).unwrap();
    Arc::new(adauth::mediago::MediagoSource::with_http(credentials, http()).unwrap())
}

fn admitad(fake: &adauth::testkit::Fake, overrides: &[(&str, &str)]) -> Arc<dyn TokenSource> {
    let credentials = adauth::admitad::Credentials::from_lookup(&lookup(fake, overrides)).unwrap();
    Arc::new(adauth::admitad::AdmitadSource::with_http(credentials, http()).unwrap())
}

fn mediamath(fake: &adauth::testkit::Fake, overrides: &[(&str, &str)]) -> Arc<dyn TokenSource> {
    let credentials =
        adauth::mediamath::Credentials::from_lookup(&lookup(fake, overrides)).unwrap();
    Arc::new(adauth::mediamath::MediaMathSource::with_http(credentials, http()).unwrap())
}

/// A fetch with `source` is refused as the provider documents: `CredentialsRejected`, with
/// the provider's `code`.
async fn rejected(source: Arc<dyn TokenSource>, code: &str) {
    let err = source.fetch(&FetchContext::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert_eq!(err.code(), Some(code), "{err}");
    assert!(!err.to_string().contains("wrong-secret"), "{err}");
}

#[tokio::test]
async fn fyber_token_opens_the_report_until_revoked() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("fyber").unwrap();
    token_opens_then_revoked(fake, fyber(fake, &[])).await;
}

#[tokio::test]
async fn fyber_wrong_secret_is_invalid_client() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("fyber").unwrap();
    let source = fyber(fake, &[("ADAUTH_FYBER_CLIENT_SECRET", "wrong-secret")]);
    rejected(source, "invalid_client").await;
    assert_eq!((fake.token_requests(), fake.issued()), (1, 0));
}

#[tokio::test]
async fn adgem_app_token_opens_offers_until_revoked() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("adgem").unwrap();
    token_opens_then_revoked(fake, adgem(fake, &[])).await;
}

#[tokio::test]
async fn adgem_wrong_secret_is_invalid_client() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("adgem").unwrap();
    let source = adgem(fake, &[("ADAUTH_ADGEM_CLIENT_SECRET", "wrong-secret")]);
    rejected(source, "invalid_client").await;
    let source = adgem(fake, &[("ADAUTH_ADGEM_APP_ID", "9")]);
    rejected(source, "invalid_client").await;
}

#[tokio::test]
async fn adgem_refresh_token_exchange_answers_201_and_refuses_unknown_tokens() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("adgem").unwrap();
    token_opens_then_revoked(
        fake,
        adgem_users(fake, adauth::adgem::testkit::REFRESH_TOKEN),
    )
    .await;
    let err = adgem_users(fake, "wrong-secret")
        .fetch(&FetchContext::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert_eq!(err.description(), Some("Unauthenticated."));
}

#[tokio::test]
async fn mediago_token_opens_the_report_until_revoked() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediago").unwrap();
    token_opens_then_revoked(fake, mediago(fake, &[])).await;
}

#[tokio::test]
async fn mediago_a_new_token_revokes_the_previous_one() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediago").unwrap();
    let source = mediago(fake, &[]);
    let cx = FetchContext::default();
    let first = source.fetch(&cx).await.unwrap();
    assert_eq!(call(fake, &*source, &first).await, 200);
    let second = source.fetch(&cx).await.unwrap();
    assert_eq!(call(fake, &*source, &first).await, 401);
    assert_eq!(call(fake, &*source, &second).await, 200);
    assert_eq!((fake.token_requests(), fake.issued()), (2, 2));
}

#[tokio::test]
async fn mediago_report_needs_the_account_header() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediago").unwrap();
    let token = mediago(fake, &[])
        .fetch(&FetchContext::default())
        .await
        .unwrap();
    // Without the account id the report answers Mediago's body error, not data.
    let without = mediago(fake, &[("ADAUTH_MEDIAGO_ACCOUNT_ID", "")]);
    let request = without
        .authorize(reqwest::Client::new().get(fake.protected_url()), &token)
        .unwrap();
    let body: serde_json::Value = request.send().await.unwrap().json().await.unwrap();
    assert_eq!(body["errno"], -1, "{body}");
}

#[tokio::test]
async fn mediago_wrong_api_token_is_refused_in_a_200_body() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediago").unwrap();
    let source = mediago(fake, &[("ADAUTH_MEDIAGO_API_TOKEN", "wrong-secret")]);
    let err = source.fetch(&FetchContext::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert_eq!(err.code(), Some("-1"));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(err.description(), Some("invalid API token"));
}

#[tokio::test]
async fn admitad_token_opens_me_until_revoked() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("admitad").unwrap();
    token_opens_then_revoked(fake, admitad(fake, &[])).await;
}

#[tokio::test]
async fn admitad_wrong_secret_is_invalid_client() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("admitad").unwrap();
    let source = admitad(fake, &[("ADAUTH_ADMITAD_CLIENT_SECRET", "wrong-secret")]);
    rejected(source, "invalid_client").await;
}

#[tokio::test]
async fn admitad_refresh_rotates_and_a_reused_refresh_token_is_refused() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("admitad").unwrap();
    let source = admitad(fake, &[]);
    let cx = FetchContext::default();
    let first = source.fetch(&cx).await.unwrap();
    let old = first.refresh_token().expect("a refresh token").clone();
    let second = source.refresh(&cx, &old).await.unwrap();
    let new = second.refresh_token().expect("a new refresh token");
    use adauth::secrecy::ExposeSecret;
    assert_ne!(old.expose_secret(), new.expose_secret());
    assert_eq!(call(fake, &*source, &second).await, 200);
    let err = source.refresh(&cx, &old).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert_eq!(err.code(), Some("invalid_grant"));
    assert_eq!(fake.refresh_token_reuses(), 1);
    // The rotated one still works once.
    assert!(source.refresh(&cx, new).await.is_ok());
    assert_eq!((fake.token_requests(), fake.issued()), (4, 3));
}

#[tokio::test]
async fn mediamath_token_and_session_open_organizations_until_revoked() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediamath").unwrap();
    token_opens_then_revoked(fake, mediamath(fake, &[])).await;
}

#[tokio::test]
async fn mediamath_v3_takes_the_bearer_token_and_v2_needs_the_session_of_the_same_token() {
    use adauth::secrecy::ExposeSecret;
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediamath").unwrap();
    let source = mediamath(fake, &[]);
    let cx = FetchContext::default();
    let token = source.fetch(&cx).await.unwrap();
    assert!(token.secret_extra("adama_session").is_some());
    assert!(
        token.refresh_token().is_some(),
        "offline_access gives a refresh token"
    );
    let access = token.access_token().expose_secret();
    // v3.0: the bearer token alone.
    assert_eq!(common::call_bearer(fake, access).await, 200);
    // v2.0: not without the session, nor with another token's session.
    let legacy = format!(
        "{}{}",
        fake.base_url(),
        adauth::mediamath::testkit::LEGACY_PATH
    );
    let get = |cookie: Option<String>| {
        let request = reqwest::Client::new().get(&legacy).bearer_auth(access);
        let request = match cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get(None).await, 401);
    let other = source.fetch(&cx).await.unwrap();
    let session = other.secret_extra("adama_session").unwrap().expose_secret();
    assert_eq!(get(Some(format!("adama_session={session}"))).await, 401);
    let own = token.secret_extra("adama_session").unwrap().expose_secret();
    assert_eq!(get(Some(format!("adama_session={own}"))).await, 200);
    assert_eq!(fake.unauthorized(), 2);
}

#[tokio::test]
async fn mediamath_code_flow_runs_against_the_fake_with_pkce() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediamath").unwrap();
    let app = adauth::mediamath::AppCredentials::builder()
        .client_id(adauth::mediamath::testkit::CLIENT_ID)
        .client_secret(adauth::mediamath::testkit::CLIENT_SECRET)
        .redirect_uri("http://127.0.0.1:9/callback")
        .scope("offline_access")
        .auth_url(fake.base_url())
        .api_url(fake.base_url())
        .build()
        .unwrap();
    let flow = adauth::mediamath::AuthorizationCodeFlow::with_http(app, http()).unwrap();
    let pending = flow.start().unwrap();
    let redirect = follow(pending.url().as_str()).await;
    let cx = FetchContext::default();
    let token = flow
        .exchange_redirect(&cx, &pending, &redirect)
        .await
        .unwrap();
    assert!(token.refresh_token().is_some());
    let source = flow.source(token);
    let token = source.fetch(&cx).await.unwrap();
    assert_eq!(call(fake, &source, &token).await, 200);
    // A code is spent once, and a wrong verifier is refused.
    let err = flow
        .exchange_redirect(&cx, &pending, &redirect)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("invalid_grant"), "{err}");
}

/// The `Location` the fake's authorization page redirects to.
async fn follow(url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302, "{url}");
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn admitad_code_flow_runs_against_the_fake() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("admitad").unwrap();
    let lookup = lookup(fake, &[]);
    let credentials = adauth::admitad::Credentials::from_lookup(&lookup).unwrap();
    let admitad = adauth::admitad::AdmitadSource::with_http(credentials, http()).unwrap();
    let request = admitad
        .authorization_request("http://127.0.0.1:9/callback")
        .unwrap();
    let redirect = follow(request.url().as_str()).await;
    let cx = FetchContext::default();
    let token = admitad
        .complete_authorization(&cx, &request, &redirect)
        .await
        .unwrap();
    let source = admitad.authorized(token);
    let token = source.fetch(&cx).await.unwrap();
    assert_eq!(call(fake, &source, &token).await, 200);
    // Renewed with the user's refresh token, never client credentials.
    let renewed = source
        .refresh(&cx, token.refresh_token().unwrap())
        .await
        .unwrap();
    assert_eq!(call(fake, &source, &renewed).await, 200);
    assert_eq!(fake.token_requests(), 2, "the exchange and one refresh");
}

#[tokio::test]
async fn admitad_fake_is_as_strict_as_the_page() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("admitad").unwrap();
    let url = format!("{}/token/", fake.base_url());
    let basic = format!(
        "Basic {}",
        base64_pair(
            adauth::admitad::testkit::CLIENT_ID,
            adauth::admitad::testkit::CLIENT_SECRET
        )
    );
    let cc = format!(
        "grant_type=client_credentials&client_id={}&scope=advcampaigns",
        adauth::admitad::testkit::CLIENT_ID
    );
    let post = |content_type: &'static str, auth: Option<String>, body: String| {
        let request = reqwest::Client::new()
            .post(&url)
            .header("content-type", content_type)
            .body(body);
        let request = match auth {
            Some(auth) => request.header("authorization", auth),
            None => request,
        };
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let exact = "application/x-www-form-urlencoded;charset=UTF-8";
    assert_eq!(post(exact, Some(basic.clone()), cc.clone()).await.0, 200);
    // Without the charset the page's example carries.
    let (status, body) = post(
        "application/x-www-form-urlencoded",
        Some(basic.clone()),
        cc.clone(),
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (400, &serde_json::json!("invalid_request"))
    );
    // The client secret in the body of the client-credentials grant.
    let with_secret = format!(
        "{cc}&client_secret={}",
        adauth::admitad::testkit::CLIENT_SECRET
    );
    assert_eq!(post(exact, Some(basic.clone()), with_secret).await.0, 400);
    // Basic on the refresh grant.
    let refresh = format!(
        "grant_type=refresh_token&client_id={}&client_secret={}&refresh_token=x",
        adauth::admitad::testkit::CLIENT_ID,
        adauth::admitad::testkit::CLIENT_SECRET
    );
    assert_eq!(post(exact, Some(basic.clone()), refresh).await.0, 400);
    // Error code 6 once the application holds too many tokens; the crate reads it as a
    // quota, not as refused credentials.
    fake.cap_tokens(Some(1));
    let (status, body) = post(exact, Some(basic), cc).await;
    assert_eq!((status, &body["error_code"]), (400, &serde_json::json!(6)));
    let err = admitad(fake, &[])
        .fetch(&FetchContext::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert_eq!(
        adauth::admitad::AdmitadErrorCode::of(&err),
        Some(adauth::admitad::AdmitadErrorCode::TooManyTokens)
    );
}

fn base64_pair(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
}

#[tokio::test]
async fn mediamath_refresh_rotates_and_a_reused_refresh_token_is_refused() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediamath").unwrap();
    let source = mediamath(fake, &[]);
    let cx = FetchContext::default();
    let first = source.fetch(&cx).await.unwrap();
    let old = first.refresh_token().unwrap().clone();
    let second = source.refresh(&cx, &old).await.unwrap();
    assert_eq!(call(fake, &*source, &second).await, 200);
    let err = source.refresh(&cx, &old).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert_eq!(err.code(), Some("invalid_grant"));
    assert_eq!(fake.refresh_token_reuses(), 1);
}

#[tokio::test]
async fn mediamath_wrong_password_is_invalid_grant() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediamath").unwrap();
    let source = mediamath(fake, &[("ADAUTH_MEDIAMATH_PASSWORD", "wrong-secret")]);
    rejected(source, "invalid_grant").await;
    let source = mediamath(fake, &[("ADAUTH_MEDIAMATH_CLIENT_SECRET", "wrong-secret")]);
    rejected(source, "access_denied").await;
}

#[tokio::test]
async fn mediago_client_and_account_level_tokens_are_told_apart() {
    use adauth::secrecy::ExposeSecret;
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediago").unwrap();
    let account_token = adauth::mediago::testkit::account_api_token();
    let account = mediago(
        fake,
        &[
            ("ADAUTH_MEDIAGO_API_TOKEN", &account_token),
            ("ADAUTH_MEDIAGO_TOKEN_LEVEL", "account"),
            ("ADAUTH_MEDIAGO_ACCOUNT_ID", ""),
        ],
    );
    let cx = FetchContext::default();
    let token = account.fetch(&cx).await.unwrap();
    // An account-level token acts on its account without a header.
    let report = |token: String, account: Option<&'static str>| {
        let request = reqwest::Client::new()
            .get(fake.protected_url())
            .bearer_auth(token);
        let request = match account {
            Some(id) => request.header("account-id", id),
            None => request,
        };
        async move {
            let body: serde_json::Value = request.send().await.unwrap().json().await.unwrap();
            body
        }
    };
    let body = report(token.access_token().expose_secret().to_owned(), None).await;
    assert_eq!(body["code"], 0, "{body}");
    // The accounts list takes a client-level token only.
    let accounts = format!("{}/data/v1/client/accounts", fake.base_url());
    let body: serde_json::Value = reqwest::Client::new()
        .get(&accounts)
        .bearer_auth(token.access_token().expose_secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["errno"], -1, "{body}");
    // A client-level token must name the account.
    let client = mediago(fake, &[]);
    let token = client.fetch(&cx).await.unwrap();
    let access = token.access_token().expose_secret().to_owned();
    assert_eq!(report(access.clone(), None).await["errno"], -1);
    assert_eq!(report(access, Some("100146")).await["code"], 0);
    // Each endpoint takes only its own level's API token.
    let crossed = mediago(fake, &[("ADAUTH_MEDIAGO_TOKEN_LEVEL", "account")]);
    let err = crossed.fetch(&cx).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
}

#[tokio::test]
async fn adgem_graphql_errors_come_in_a_200() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("adgem").unwrap();
    let token = adgem(fake, &[])
        .fetch(&FetchContext::default())
        .await
        .unwrap();
    use adauth::secrecy::ExposeSecret;
    let post = |body: &'static str| {
        reqwest::Client::new()
            .post(fake.protected_url())
            .bearer_auth(token.access_token().expose_secret())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for bad in ["{}", r#"{"query":"{ nothing }"}"#] {
        let response = post(bad).await.unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["errors"][0]["message"].is_string(), "{body}");
        assert!(body["data"].is_null(), "{body}");
    }
    let response = post(r#"{"query":"{ offers(player_id: \"user123\") { id name } }"}"#)
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["data"]["offers"].is_array(), "{body}");
}
