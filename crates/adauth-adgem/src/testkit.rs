//! AdGem: application tokens at `POST /v1/apps/tokens` (JSON, integer ids), the
//! refresh-token exchange at `POST /v1/users/token` (form, 201), offers at `POST /v1/offers`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};

use adauth_testkit::fake::{
    RoutedFake, Store, Var, content_type_is, form, json_object, json_str, token_route,
};

/// The sandbox publisher id.
pub const PUB_ID: u64 = 1001;
/// The sandbox application id.
pub const APP_ID: u64 = 2002;
/// The sandbox application client id.
pub const CLIENT_ID: &str = "sandbox-adgem-client";
/// The sandbox application client secret.
pub const CLIENT_SECRET: &str = "sandbox-adgem-secret";
/// The long-lived refresh token the fake accepts at `POST /v1/users/token`. It is not in
/// the fake's variables: set `ADAUTH_ADGEM_REFRESH_TOKEN` to it to use that exchange.
pub const REFRESH_TOKEN: &str = "sandbox-adgem-refresh-token";

const TOKEN_PATH: &str = "/v1/apps/tokens";
const USER_TOKEN_PATH: &str = "/v1/users/token";

fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route(
            TOKEN_PATH,
            token_route(
                app_failure,
                || app_bad("the token endpoint takes POST"),
                app_token,
            ),
        )
        .route(
            USER_TOKEN_PATH,
            token_route(
                |status| message(status, "Server Error"),
                || {
                    message(
                        StatusCode::METHOD_NOT_ALLOWED,
                        "The method is not supported.",
                    )
                },
                user_token,
            ),
        )
        .route("/v1/offers", any(offers))
        .with_state(store)
}

/// The application endpoint's error body, `{"error", "error_description"}`.
use adauth_testkit::fake::oauth_error_described as error;

fn app_failure(status: StatusCode) -> Response {
    match status.as_u16() {
        401 | 403 => error(status, "invalid_client", "Invalid client credentials"),
        400..=499 => error(status, "invalid_request", "The request is invalid"),
        _ => error(status, "server_error", "An unexpected error occurred"),
    }
}

/// An integer field: AdGem types the ids as JSON integers, so `"1"` or `1.0` is refused.
fn integer(body: &serde_json::Map<String, Value>, field: &str) -> Result<u64, String> {
    match body.get(field) {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| format!("{field} must be an integer")),
        Some(_) => Err(format!("{field} must be an integer")),
        None => Err(format!("{field} is required")),
    }
}

fn app_bad(why: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_request", why)
}

fn app_token(store: &Store, headers: &HeaderMap, body: &[u8]) -> Response {
    let bad = app_bad;
    if !content_type_is(headers, "application/json") {
        return bad("Content-Type must be application/json");
    }
    let Some(body) = json_object(body) else {
        return bad("the body must be a JSON object");
    };
    let checked = (|| {
        Ok::<_, String>((
            integer(&body, "adgem_pub_id")?,
            integer(&body, "adgem_app_id")?,
            json_str(&body, "client_id")?,
            json_str(&body, "client_secret")?,
        ))
    })();
    let (pub_id, app_id, client_id, client_secret) = match checked {
        Ok(fields) => fields,
        Err(why) => return bad(&why),
    };
    if (pub_id, app_id, client_id, client_secret) != (PUB_ID, APP_ID, CLIENT_ID, CLIENT_SECRET) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client credentials",
        );
    }
    let access_token = store.issue(client_id);
    axum::Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": store.expires_in(),
    }))
    .into_response()
}

/// The exchange's error body, `{"message"}`.
fn message(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "message": message }))).into_response()
}

/// A 422 validation failure naming the field.
fn invalid(field: &str, why: &str) -> Response {
    let body = json!({ "message": why, "errors": { field: [why] } });
    (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
}

fn user_token(store: &Store, headers: &HeaderMap, body: &[u8]) -> Response {
    if !content_type_is(headers, "application/x-www-form-urlencoded") {
        let body = json!({ "error": "Content-Type must be application/x-www-form-urlencoded" });
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, axum::Json(body)).into_response();
    }
    let Some(fields) = form(body) else {
        return invalid("grant_type", "The request body is not a valid form.");
    };
    match fields.get("grant_type").map(String::as_str) {
        Some("refresh_token") => {}
        Some(_) => return invalid("grant_type", "The selected grant type is invalid."),
        None => return invalid("grant_type", "The grant type field is required."),
    }
    let refresh_token = match fields.get("refresh_token") {
        Some(token) if !token.is_empty() => token,
        _ => return invalid("refresh_token", "The refresh token field is required."),
    };
    if refresh_token != REFRESH_TOKEN {
        return message(StatusCode::UNAUTHORIZED, "Unauthenticated.");
    }
    let access_token = store.issue(refresh_token);
    let body = json!({
        "message": "Authorized",
        "access_token": access_token,
        "expires_in": store.expires_in(),
    });
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

/// GraphQL's error answer: HTTP 200 with `{"errors": [{"message"}]}` and no data.
fn graphql_error(message: &str) -> Response {
    axum::Json(json!({ "errors": [{ "message": message }], "data": null })).into_response()
}

async fn offers(
    State(store): State<Arc<Store>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if store.protected(&headers).is_err() {
        return message(StatusCode::UNAUTHORIZED, "Unauthenticated.");
    }
    if method != Method::POST {
        return message(
            StatusCode::METHOD_NOT_ALLOWED,
            "The method is not supported.",
        );
    }
    // A GraphQL server reports a bad query in a 200.
    let query =
        json_object(&body).and_then(|b| b.get("query").and_then(Value::as_str).map(str::to_owned));
    let Some(query) = query else {
        return graphql_error("Syntax Error: the request has no query");
    };
    if !query.trim_start().starts_with('{') || !query.contains("offers") {
        return graphql_error("Cannot query field on type \"Query\"");
    }
    axum::Json(json!({
        "data": {
            "offers": [
                { "id": 1001, "name": "Sandbox Offer One", "total_payout_usd": 1.25 },
                { "id": 1002, "name": "Sandbox Offer Two", "total_payout_usd": 0.75 }
            ]
        }
    }))
    .into_response()
}

/// The fake.
pub const FAKE: RoutedFake = RoutedFake::new(crate::PROVIDER, router)
    .vars(&[
        Var::computed("ADAUTH_ADGEM_PUB_ID", || PUB_ID.to_string()),
        Var::computed("ADAUTH_ADGEM_APP_ID", || APP_ID.to_string()),
        Var::text("ADAUTH_ADGEM_CLIENT_ID", CLIENT_ID),
        Var::text("ADAUTH_ADGEM_CLIENT_SECRET", CLIENT_SECRET),
        Var::base_url("ADAUTH_ADGEM_BASE_URL"),
    ])
    .protected("POST", "/v1/offers");
