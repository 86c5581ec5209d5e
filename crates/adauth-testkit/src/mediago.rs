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

use crate::store::{Store, basic, content_type_is};
use crate::{MEDIAGO_ACCOUNT_ID, MEDIAGO_CLIENT_ID, mediago_api_token};

pub(crate) const CLIENT_TOKEN_PATH: &str = "/data/v1/client/authentication";
pub(crate) const ACCOUNT_TOKEN_PATH: &str = "/data/v1/authentication";
pub(crate) const ACCOUNTS_PATH: &str = "/data/v1/client/accounts";
pub(crate) const PROTECTED_PATH: &str = "/data/v1/report/day/list";
pub(crate) const PROTECTED_METHOD: &str = "GET";

pub(crate) fn env(base_url: &str) -> Vec<(String, String)> {
    crate::vars([
        ("ADAUTH_MEDIAGO_API_TOKEN", &mediago_api_token()),
        ("ADAUTH_MEDIAGO_ACCOUNT_ID", MEDIAGO_ACCOUNT_ID),
        ("ADAUTH_MEDIAGO_BASE_URL", base_url),
    ])
}

pub(crate) fn router(store: Arc<Store>) -> Router {
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
    if api_token != mediago_api_token() {
        return error(StatusCode::OK, "invalid API token");
    }
    store.revoke_owner(api_token);
    let access_token = store.issue(api_token);
    axum::Json(json!({
        "access_token": access_token,
        "expires_in": store.expires_in(),
        "client_id": MEDIAGO_CLIENT_ID,
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
                { "account_id": MEDIAGO_ACCOUNT_ID, "account_name": "Sandbox Account" }
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
        Some(id) if id == MEDIAGO_ACCOUNT_ID => {}
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
