//! Fyber (Digital Turbine Offer Wall Reporting API): `POST /auth/v1/token` with a JSON
//! client-credentials body; reports at `POST /api/v1/report?format=csv`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::json;

use crate::store::{Store, content_type_is, json_object, json_str};
use crate::{FYBER_CLIENT_ID, FYBER_CLIENT_SECRET};

pub(crate) const TOKEN_PATH: &str = "/auth/v1/token";
pub(crate) const PROTECTED_PATH: &str = "/api/v1/report?format=csv";
pub(crate) const PROTECTED_METHOD: &str = "POST";

pub(crate) fn env(base_url: &str) -> Vec<(String, String)> {
    crate::vars([
        ("ADAUTH_FYBER_CLIENT_ID", FYBER_CLIENT_ID),
        ("ADAUTH_FYBER_CLIENT_SECRET", FYBER_CLIENT_SECRET),
        ("ADAUTH_FYBER_BASE_URL", base_url),
    ])
}

pub(crate) fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route(TOKEN_PATH, any(token))
        .route("/api/v1/report", any(report))
        .with_state(store)
}

/// The documented error body, `{"error": ...}`.
fn error(status: StatusCode, code: &str) -> Response {
    (status, axum::Json(json!({ "error": code }))).into_response()
}

/// The code Fyber documents for an injected failure's status.
fn failure(status: StatusCode) -> Response {
    let code = match status.as_u16() {
        400 => "invalid_request",
        401 | 403 => "invalid_client",
        _ => "internal_server_error",
    };
    error(status, code)
}

async fn token(
    State(store): State<Arc<Store>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(status) = store.token_request().await {
        return failure(status);
    }
    let bad = || error(StatusCode::BAD_REQUEST, "invalid_request");
    if method != Method::POST || !content_type_is(&headers, "application/json") {
        return bad();
    }
    let Some(body) = json_object(&body) else {
        return bad();
    };
    let Ok(grant_type) = json_str(&body, "grant_type") else {
        return bad();
    };
    if grant_type != "client_credentials" {
        return error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let (Ok(client_id), Ok(client_secret)) = (
        json_str(&body, "client_id"),
        json_str(&body, "client_secret"),
    ) else {
        return bad();
    };
    if client_id.is_empty() || client_secret.is_empty() {
        return bad();
    }
    if client_id != FYBER_CLIENT_ID || client_secret != FYBER_CLIENT_SECRET {
        return error(StatusCode::BAD_REQUEST, "invalid_client");
    }
    let access_token = store.issue(client_id);
    axum::Json(json!({
        "accessToken": access_token,
        "tokenType": "bearer",
        "expiresIn": store.expires_in(),
    }))
    .into_response()
}

async fn report(
    State(store): State<Arc<Store>>,
    method: Method,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = store.protected(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(
                json!({ "error": "invalid_token", "error_description": refusal.describe() }),
            ),
        )
            .into_response();
    }
    if method != Method::POST || query.get("format").map(String::as_str) != Some("csv") {
        return error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    (
        [(header::CONTENT_TYPE, "text/csv")],
        "date,application_id,application_name,impressions,completions,revenue_usd\n\
         2026-01-01,100001,Sandbox App,1200,34,12.50\n",
    )
        .into_response()
}
