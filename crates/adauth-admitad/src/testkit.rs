//! Admitad: `POST /token/` (a form, exactly `application/x-www-form-urlencoded;charset=UTF-8`)
//! with the client-credentials grant (HTTP Basic, no secret in the body), and the refresh
//! and authorization-code grants (the secret in the form, no Basic); every refresh rotates
//! the refresh token, and a capped application gets `error_code` 6. `GET /authorize/`
//! grants at once and redirects with a code. `GET /me/` needs the bearer token.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use serde_json::json;

use adauth_testkit::fake::{
    GrantRefusals, Refusal, RoutedFake, Store, Var, basic, form, token_route,
};

/// The sandbox `client_id`.
pub const CLIENT_ID: &str = "sandbox-admitad-client";
/// The sandbox `client_secret`.
pub const CLIENT_SECRET: &str = "sandbox-admitad-secret";
/// The scopes the sandbox asks for.
pub const SCOPE: &str = "advcampaigns banners websites";

const TOKEN_PATH: &str = "/token/";
const AUTHORIZE_PATH: &str = "/authorize/";
/// The exact content type of token requests, as Admitad's example shows it.
const FORM_UTF8: &str = "application/x-www-form-urlencoded;charset=utf-8";

/// The scopes Admitad documents; others are refused with `invalid_scope`.
const SCOPES: &[&str] = &[
    "public_data",
    "private_data",
    "private_data_email",
    "private_data_phone",
    "private_data_balance",
    "websites",
    "manage_websites",
    "advcampaigns",
    "advcampaigns_for_website",
    "manage_advcampaigns",
    "banners",
    "banners_for_website",
    "landings",
    "coupons",
    "coupons_for_website",
    "statistics",
    "deeplink_generator",
    "validate_links",
    "payments",
    "manage_payments",
    "lost_orders",
    "manage_lost_orders",
    "broken_links",
    "manage_broken_links",
    "broker_application",
    "manage_broker_application",
    "announcements",
    "referrals",
    "arecords",
    "manage_arecords",
    "advertiser_statistics",
    "advertiser_websites",
    "advertiser_info",
    "opt_codes",
    "manage_opt_codes",
    "tickets",
    "manage_tickets",
    "webmaster_retag",
    "manage_webmaster_retag",
    "aliexpress_commission",
    "short_link",
    "validate_broker",
    "offline_code",
    "offline_receipts",
    "manage_offline_receipts",
];

fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route(
            AUTHORIZE_PATH,
            adauth_testkit::fake::authorize_route(CLIENT_ID),
        )
        .route(
            TOKEN_PATH,
            token_route(failure, || bad("the token endpoint takes POST"), token),
        )
        .route(
            "/me/",
            get(me).fallback(|| async {
                let status = StatusCode::METHOD_NOT_ALLOWED;
                error(status, "invalid_request", "method not allowed", 3)
            }),
        )
        .with_state(store)
}

/// Admitad's error body, `{"error", "error_description", "error_code"}`.
fn error(status: StatusCode, error: &str, description: &str, code: u8) -> Response {
    let body = json!({ "error": error, "error_description": description, "error_code": code });
    (status, axum::Json(body)).into_response()
}

fn failure(status: StatusCode) -> Response {
    match status.as_u16() {
        // Admitad's rate limit: more than 600 requests a minute per application.
        429 | 503 => error(status, "too_many_requests", "Request quota exceeded", 4),
        401 | 403 => error(status, "invalid_client", "Client authentication failed", 1),
        400..=499 => error(status, "invalid_request", "Bad request", 3),
        _ => error(status, "server_error", "Internal server error", 3),
    }
}

fn invalid_client() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client authentication failed",
        1,
    )
}

fn bad(why: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_request", why, 3)
}

fn token(store: &Store, headers: &HeaderMap, body: &[u8]) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.to_ascii_lowercase().replace(' ', ""));
    if content_type.as_deref() != Some(FORM_UTF8) {
        return bad("Content-Type must be application/x-www-form-urlencoded;charset=UTF-8");
    }
    let Some(fields) = form(body) else {
        return bad("the body is not a valid form");
    };
    let field = |name: &str| {
        fields
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    match field("grant_type") {
        Some("client_credentials") => {
            if fields.contains_key("client_secret") {
                return bad("client_secret must not be sent in the body; use HTTP Basic");
            }
            let expected = base64::engine::general_purpose::STANDARD
                .encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
            if basic(headers) != Some(expected.as_str()) || field("client_id") != Some(CLIENT_ID) {
                return invalid_client();
            }
            if store.at_token_cap(CLIENT_ID) {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Too many tokens for this application",
                    6,
                );
            }
            let Some(scope) = field("scope") else {
                return bad("scope is required");
            };
            if let Some(unknown) = scope.split(' ').find(|s| !SCOPES.contains(s)) {
                let why = format!("unknown scope: {unknown}");
                return error(StatusCode::BAD_REQUEST, "invalid_scope", &why, 2);
            }
            issue(store, scope)
        }
        Some(grant @ ("refresh_token" | "authorization_code"))
            if headers.contains_key(header::AUTHORIZATION) =>
        {
            let why = format!("the {grant} grant takes the client in the body, not HTTP Basic");
            bad(&why)
        }
        Some("authorization_code") => {
            if field("client_id") != Some(CLIENT_ID)
                || field("client_secret") != Some(CLIENT_SECRET)
            {
                return invalid_client();
            }
            let redeemed = adauth_testkit::fake::redeem_code(
                store,
                field("code"),
                field("redirect_uri"),
                None,
            );
            match redeemed {
                Ok(grant) => issue(store, &grant.scope),
                Err(why) => error(StatusCode::BAD_REQUEST, "invalid_grant", why, 1),
            }
        }
        Some("refresh_token") => {
            if field("client_id") != Some(CLIENT_ID)
                || field("client_secret") != Some(CLIENT_SECRET)
            {
                return invalid_client();
            }
            REFUSALS.refresh(store, field("refresh_token"), |scope| issue(store, scope))
        }
        grant_type => REFUSALS.other(grant_type),
    }
}

/// Admitad's wording and codes of the refusals every grant shares.
const REFUSALS: GrantRefusals = GrantRefusals {
    invalid_request: bad,
    spent_refresh: || {
        let why = "Refresh token is unavailable";
        error(StatusCode::BAD_REQUEST, "invalid_grant", why, 5)
    },
    unsupported_grant: || {
        let why = "grant_type is not supported";
        error(StatusCode::BAD_REQUEST, "unsupported_grant_type", why, 3)
    },
};

/// The documented success answer: the user's fields, the tokens and the scope.
fn issue(store: &Store, scope: &str) -> Response {
    let access_token = store.issue(CLIENT_ID);
    let refresh_token = store.issue_refresh(scope);
    axum::Json(json!({
        "username": "sandbox-webmaster",
        "first_name": "Sandbox",
        "last_name": "Webmaster",
        "language": "en",
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": store.expires_in(),
        "refresh_token": refresh_token,
        "scope": scope,
        "group": "webmaster",
    }))
    .into_response()
}

async fn me(State(store): State<Arc<Store>>, headers: HeaderMap) -> Response {
    if let Err(refusal) = store.protected(&headers) {
        let (error, code) = match refusal {
            Refusal::Expired => ("invalid_token", 0),
            _ => ("invalid_token", 1),
        };
        let description = refusal.describe();
        let challenge = format!(
            "Bearer realm=\"api.admitad.com\", error=\"{error}\", error_description=\"{description}\""
        );
        let body = json!({ "error": error, "error_description": description, "error_code": code });
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, challenge)],
            axum::Json(body),
        )
            .into_response();
    }
    axum::Json(json!({
        "id": 100001,
        "username": "sandbox-webmaster",
        "first_name": "Sandbox",
        "last_name": "Webmaster",
        "language": "en",
        "default_currency": "USD",
    }))
    .into_response()
}

/// The fake.
pub const FAKE: RoutedFake = RoutedFake::new(crate::PROVIDER, router)
    .vars(&[
        Var::text("ADAUTH_ADMITAD_CLIENT_ID", CLIENT_ID),
        Var::text("ADAUTH_ADMITAD_CLIENT_SECRET", CLIENT_SECRET),
        Var::text("ADAUTH_ADMITAD_SCOPE", SCOPE),
        Var::base_url("ADAUTH_ADMITAD_BASE_URL"),
    ])
    .protected("GET", "/me/");
