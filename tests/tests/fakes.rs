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
async fn mediamath_needs_the_session_of_the_same_token() {
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
    // The bearer token alone is not enough.
    use adauth::secrecy::ExposeSecret;
    let bare = common::call_bearer(fake, token.access_token().expose_secret()).await;
    assert_eq!(bare, 401);
    // Another token's session does not open it either.
    let other = source.fetch(&cx).await.unwrap();
    let session = other.secret_extra("adama_session").unwrap().expose_secret();
    let status = reqwest::Client::new()
        .get(fake.protected_url())
        .bearer_auth(token.access_token().expose_secret())
        .header("cookie", format!("adama_session={session}"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 401);
    assert_eq!(call(fake, &*source, &token).await, 200);
    assert_eq!(fake.unauthorized(), 2);
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
