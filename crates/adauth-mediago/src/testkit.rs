//! Mediago: client- and account-level tokens from the API token
//! (`Authorization: Basic <API token>`, empty form body); **each new access token revokes
//! the previous one** of the same API token. Reports need the `Account-Id` header.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::json;

use adauth_testkit::fake::{Store, basic, content_type_is};

/// The id half of the sandbox API token.
pub const API_ID: &str = "sandbox-mediago-client";
/// The secret half of the sandbox API token.
pub const API_SECRET: &str = "sandbox-mediago-secret";
/// The `client_id` the fake answers with its tokens.
pub const CLIENT_ID: &str = "146";
/// The account the sandbox names in `ADAUTH_MEDIAGO_ACCOUNT_ID`; reports require it.
pub const ACCOUNT_ID: &str = "100146";

/// The sandbox API token as the account manager hands it out: Base64 of `id:secret`, sent
/// as given in `Authorization: Basic`.
pub fn api_token() -> String {
    base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{API_ID}:{API_SECRET}"),
    )
}

const CLIENT_TOKEN_PATH: &str = "/data/v1/client/authentication";
const ACCOUNT_TOKEN_PATH: &str = "/data/v1/authentication";
const ACCOUNTS_PATH: &str = "/data/v1/client/accounts";
const PROTECTED_PATH: &str = "/data/v1/report/day/list";
const PROTECTED_METHOD: &str = "GET";

fn env(base_url: &str) -> Vec<(String, String)> {
    adauth_testkit::fake::vars(&[
        ("ADAUTH_MEDIAGO_API_TOKEN", &api_token()),
        ("ADAUTH_MEDIAGO_ACCOUNT_ID", ACCOUNT_ID),
        ("ADAUTH_MEDIAGO_BASE_URL", base_url),
    ])
}

fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route(CLIENT_TOKEN_PATH, any(token))
        .route(ACCOUNT_TOKEN_PATH, any(token))
        .route(ACCOUNTS_PATH, any(accounts))
        .route(PROTECTED_PATH, any(report))
        .with_state(store)
}

/// Mediago's error body, `{"errno": -1, "errmsg": ...}`, with `status` (often 200).
fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "errno": -1, "errmsg": message })),
    )
        .into_response()
}

async fn token(
    State(store): State<Arc<Store>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(status) = store.token_request().await {
        return error(status, "service unavailable, please retry later");
    }
    if method != Method::POST {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "request method not supported",
        );
    }
    let Some(api_token) = basic(&headers) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "missing Authorization: Basic <API token>",
        );
    };
    if !content_type_is(&headers, "application/x-www-form-urlencoded") {
        return error(
            StatusCode::BAD_REQUEST,
            "Content-Type must be application/x-www-form-urlencoded;charset=utf-8",
        );
    }
    if !body.is_empty() {
        return error(StatusCode::BAD_REQUEST, "the request body must be empty");
    }
    // Mediago answers a refused API token with HTTP 200 and an error code in the body.
    if api_token != self::api_token() {
        return error(StatusCode::OK, "invalid API token");
    }
    store.revoke_owner(api_token);
    let access_token = store.issue(api_token);
    axum::Json(json!({
        "access_token": access_token,
        "expires_in": store.expires_in(),
        "client_id": CLIENT_ID,
    }))
    .into_response()
}

fn unauthorized(why: &str) -> Response {
    error(StatusCode::UNAUTHORIZED, why)
}

async fn accounts(State(store): State<Arc<Store>>, method: Method, headers: HeaderMap) -> Response {
    if let Err(refusal) = store.protected(&headers) {
        return unauthorized(refusal.describe());
    }
    if method != Method::GET {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "request method not supported",
        );
    }
    axum::Json(json!({
        "data": {
            "accounts": [
                { "account_id": ACCOUNT_ID, "account_name": "Sandbox Account" }
            ]
        }
    }))
    .into_response()
}

async fn report(State(store): State<Arc<Store>>, method: Method, headers: HeaderMap) -> Response {
    if let Err(refusal) = store.protected(&headers) {
        return unauthorized(refusal.describe());
    }
    if method != Method::GET {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "request method not supported",
        );
    }
    let account = headers.get("account-id").and_then(|v| v.to_str().ok());
    match account {
        Some(id) if id == ACCOUNT_ID => {}
        Some(_) => return error(StatusCode::OK, "no permission for this account"),
        None => return error(StatusCode::OK, "the Account-Id header is required"),
    }
    axum::Json(json!({
        "code": 0,
        "msg": "success",
        "data": {
            "total": 1,
            "list": [{
                "date": "2026-01-01",
                "campaign_id": 300001,
                "campaign_name": "Sandbox Campaign",
                "impressions": 12000,
                "clicks": 240,
                "spend": 36.5
            }]
        }
    }))
    .into_response()
}

/// The fake.
#[derive(Debug, Clone, Copy)]
pub struct Fake;

impl adauth_testkit::fake::FakeProvider for Fake {
    fn name(&self) -> &'static str {
        crate::PROVIDER
    }

    fn router(&'static self, store: Arc<Store>) -> Router {
        router(store)
    }

    fn env(&self, base_url: &str) -> Vec<(String, String)> {
        env(base_url)
    }

    fn protected(&self) -> (&'static str, &'static str) {
        (PROTECTED_METHOD, PROTECTED_PATH)
    }
}

/// The fake, as the provider's descriptor carries it.
pub const FAKE: Fake = Fake;

/// What the descriptor carries.
pub const REGISTRATION: adauth_testkit::fake::Registration =
    adauth_testkit::fake::Registration(&FAKE);
