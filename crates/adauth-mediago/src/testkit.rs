//! Mediago: client- and account-level tokens from the API token
//! (`Authorization: Basic <API token>`, empty form body); **each new access token revokes
//! the previous one** of the same API token. Reports need the `Account-Id` header.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::json;

use adauth_testkit::fake::{RoutedFake, Store, Var, basic, content_type_is, token_route};

/// The id half of the sandbox API token.
pub const API_ID: &str = "sandbox-mediago-client";
/// The secret half of the sandbox API token.
pub const API_SECRET: &str = "sandbox-mediago-secret";
/// The `client_id` the fake answers with its tokens.
pub const CLIENT_ID: &str = "146";
/// The account the sandbox names in `ADAUTH_MEDIAGO_ACCOUNT_ID`; reports require it.
pub const ACCOUNT_ID: &str = "100146";

/// The sandbox API token as the account manager hands it out: Base64 of `id:secret`, sent
/// as given in `Authorization: Basic`. It is a client-level API token: it gets client-level
/// access tokens, which name the account in `Account-Id` on each call.
pub fn api_token() -> String {
    encode(API_ID, API_SECRET)
}

/// The id half of the sandbox's account-level API token.
pub const ACCOUNT_API_ID: &str = "sandbox-mediago-account";
/// The secret half of the sandbox's account-level API token.
pub const ACCOUNT_API_SECRET: &str = "sandbox-mediago-account-secret";

/// The sandbox's account-level API token: it gets account-level access tokens
/// (`POST /data/v1/authentication`), which act on [`ACCOUNT_ID`] without a header. Set
/// `ADAUTH_MEDIAGO_API_TOKEN` to it and `ADAUTH_MEDIAGO_TOKEN_LEVEL=account` to use it.
pub fn account_api_token() -> String {
    encode(ACCOUNT_API_ID, ACCOUNT_API_SECRET)
}

fn encode(id: &str, secret: &str) -> String {
    base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{id}:{secret}"),
    )
}

/// Whose tokens the fake issued: a client's or an account's.
const CLIENT_OWNER: &str = "client";
const ACCOUNT_OWNER: &str = "account";

const CLIENT_TOKEN_PATH: &str = "/data/v1/client/authentication";
const ACCOUNT_TOKEN_PATH: &str = "/data/v1/authentication";
const ACCOUNTS_PATH: &str = "/data/v1/client/accounts";

fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route(
            CLIENT_TOKEN_PATH,
            token_route(unavailable, not_post, |store, headers, body| {
                token(store, headers, body, CLIENT_OWNER, api_token())
            }),
        )
        .route(
            ACCOUNT_TOKEN_PATH,
            token_route(unavailable, not_post, |store, headers, body| {
                token(store, headers, body, ACCOUNT_OWNER, account_api_token())
            }),
        )
        .route(ACCOUNTS_PATH, any(accounts))
        .route("/data/v1/report/day/list", any(report))
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

fn unavailable(status: StatusCode) -> Response {
    error(status, "service unavailable, please retry later")
}

fn not_post() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "request method not supported",
    )
}

/// A token request at the client- or the account-level endpoint, each taking only its own
/// level's API token.
fn token(
    store: &Store,
    headers: &HeaderMap,
    body: &[u8],
    level: &str,
    expected: String,
) -> Response {
    let Some(api_token) = basic(headers) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "missing Authorization: Basic <API token>",
        );
    };
    if !content_type_is(headers, "application/x-www-form-urlencoded") {
        return error(
            StatusCode::BAD_REQUEST,
            "Content-Type must be application/x-www-form-urlencoded;charset=utf-8",
        );
    }
    if !body.is_empty() {
        return error(StatusCode::BAD_REQUEST, "the request body must be empty");
    }
    // Mediago answers a refused API token with HTTP 200 and an error code in the body.
    if api_token != expected {
        return error(StatusCode::OK, "invalid API token");
    }
    // One live token per API token: a new one revokes the previous one.
    store.revoke_owner(level);
    let access_token = store.issue(level);
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
    let token = match store.protected(&headers) {
        Ok(token) => token,
        Err(refusal) => return unauthorized(refusal.describe()),
    };
    if store.owner_of(&token).as_deref() != Some(CLIENT_OWNER) {
        return error(StatusCode::OK, "a client-level token is required");
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
    let token = match store.protected(&headers) {
        Ok(token) => token,
        Err(refusal) => return unauthorized(refusal.describe()),
    };
    let account_level = store.owner_of(&token).as_deref() == Some(ACCOUNT_OWNER);
    if method != Method::GET {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "request method not supported",
        );
    }
    let account = headers.get("account-id").and_then(|v| v.to_str().ok());
    // A client-level token names the account; an account-level one acts on its own.
    match account {
        Some(id) if id == ACCOUNT_ID => {}
        Some(_) => return error(StatusCode::OK, "no permission for this account"),
        None if account_level => {}
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
pub const FAKE: RoutedFake = RoutedFake::new(crate::PROVIDER, router)
    .vars(&[
        Var::computed("ADAUTH_MEDIAGO_API_TOKEN", api_token),
        Var::text("ADAUTH_MEDIAGO_ACCOUNT_ID", ACCOUNT_ID),
        Var::base_url("ADAUTH_MEDIAGO_BASE_URL"),
    ])
    .protected("GET", "/data/v1/report/day/list");
