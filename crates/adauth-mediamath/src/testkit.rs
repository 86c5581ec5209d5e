//! MediaMath: Auth0's `POST /oauth/token` (password grant as JSON or form, refresh grant,
//! authorization-code grant with PKCE), `GET /authorize` (grants at once and redirects with
//! a code), the legacy `GET /api/v2.0/session` that sets `adama_session`,
//! `GET /api/v3.0/organizations`, which takes the bearer token alone, and the legacy
//! `GET /api/v2.0/campaigns`, which needs the bearer token **and** its session cookie.
//!
//! Refresh tokens rotate, as Auth0 does with rotation switched on: each refresh answers a
//! new refresh token and the one presented stops working.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};

use adauth_testkit::fake::{
    GrantRefusals, RoutedFake, Store, Var, bearer, content_type_is, cookie, form, json_object,
    token_route,
};

/// The sandbox client ID.
pub const CLIENT_ID: &str = "sandbox-mediamath-client";
/// The sandbox client secret.
pub const CLIENT_SECRET: &str = "sandbox-mediamath-secret";
/// The sandbox user name.
pub const USERNAME: &str = "sandbox-user@example.com";
/// The sandbox password.
pub const PASSWORD: &str = "sandbox-mediamath-password";
/// The scope the sandbox asks for: `offline_access`, so refresh tokens are issued.
pub const SCOPE: &str = "offline_access";

const TOKEN_PATH: &str = "/oauth/token";
const SESSION_PATH: &str = "/api/v2.0/session";
/// A legacy (v2.0) endpoint, not migrated to OAuth2: it needs the `adama_session` cookie of
/// the same token beside the bearer token.
pub const LEGACY_PATH: &str = "/api/v2.0/campaigns";

const AUDIENCE: &str = "https://api.mediamath.com/";
const PASSWORD_REALM_GRANT: &str = "http://auth0.com/oauth/grant-type/password-realm";
const SESSION_COOKIE: &str = "adama_session";

fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route(
            TOKEN_PATH,
            token_route(failure, || bad("the token endpoint takes POST"), token),
        )
        .route(SESSION_PATH, any(session))
        .route(
            "/api/v3.0/organizations",
            get(organizations).fallback(|| async {
                let status = StatusCode::METHOD_NOT_ALLOWED;
                error(status, "invalid_request", "method not allowed")
            }),
        )
        .route(LEGACY_PATH, any(campaigns))
        .route(
            crate::AUTHORIZE_PATH,
            adauth_testkit::fake::authorize_route(CLIENT_ID),
        )
        .with_state(store)
}

/// Auth0's error body, `{"error", "error_description"}`.
use adauth_testkit::fake::oauth_error_described as error;

fn failure(status: StatusCode) -> Response {
    match status.as_u16() {
        429 => error(status, "too_many_requests", "Too many requests"),
        401 => error(status, "access_denied", "Unauthorized"),
        403 => error(status, "invalid_grant", "Wrong email or password."),
        400..=499 => error(status, "invalid_request", "Bad request"),
        503 => error(status, "temporarily_unavailable", "Service unavailable"),
        _ => error(status, "server_error", "Internal server error"),
    }
}

/// The request's fields: Auth0 takes JSON (every value a string) or a form.
fn fields(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, &'static str> {
    if content_type_is(headers, "application/json") {
        let object = json_object(body).ok_or("the body must be a JSON object")?;
        object
            .into_iter()
            .map(|(name, value)| match value {
                Value::String(s) => Ok((name, s)),
                _ => Err("every parameter must be a string"),
            })
            .collect()
    } else if content_type_is(headers, "application/x-www-form-urlencoded") {
        form(body).ok_or("the body is not a valid form")
    } else {
        Err("Content-Type must be application/json or application/x-www-form-urlencoded")
    }
}

fn bad(why: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_request", why)
}

fn token(store: &Store, headers: &HeaderMap, body: &[u8]) -> Response {
    let fields = match fields(headers, body) {
        Ok(fields) => fields,
        Err(why) => return bad(why),
    };
    let field = |name: &str| fields.get(name).map(String::as_str);
    let required = |name: &str| field(name).filter(|v| !v.is_empty());
    let (Some(client_id), Some(client_secret)) = (required("client_id"), required("client_secret"))
    else {
        return bad("client_id and client_secret are required");
    };
    if (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET) {
        return error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized");
    }
    match required("grant_type") {
        Some(grant @ ("password" | PASSWORD_REALM_GRANT)) => {
            let (Some(username), Some(password)) = (required("username"), required("password"))
            else {
                return bad("username and password are required");
            };
            if grant == PASSWORD_REALM_GRANT && required("realm").is_none() {
                return bad("realm is required");
            }
            if field("audience") != Some(AUDIENCE) {
                let why = format!("Service not found: {}", field("audience").unwrap_or(""));
                return error(StatusCode::FORBIDDEN, "access_denied", &why);
            }
            if (username, password) != (USERNAME, PASSWORD) {
                return error(
                    StatusCode::FORBIDDEN,
                    "invalid_grant",
                    "Wrong email or password.",
                );
            }
            issue(store, field("scope").unwrap_or(""))
        }
        Some("authorization_code") => {
            let redeemed = adauth_testkit::fake::redeem_code(
                store,
                required("code"),
                field("redirect_uri"),
                required("code_verifier"),
            );
            match redeemed {
                Ok(grant) => issue(store, &grant.scope),
                Err(why) => error(StatusCode::FORBIDDEN, "invalid_grant", why),
            }
        }
        Some("refresh_token") => REFUSALS.refresh(store, required("refresh_token"), |scope| {
            issue(store, scope)
        }),
        grant_type => REFUSALS.other(grant_type),
    }
}

/// Auth0's wording of the refusals every grant shares.
const REFUSALS: GrantRefusals = GrantRefusals {
    invalid_request: bad,
    spent_refresh: || {
        let why = "Unknown or invalid refresh token.";
        error(StatusCode::FORBIDDEN, "invalid_grant", why)
    },
    unsupported_grant: || {
        let why = "Unsupported grant type";
        error(StatusCode::BAD_REQUEST, "unsupported_grant_type", why)
    },
};

/// Auth0's answer; with `offline_access` in the scope, a refresh token too.
fn issue(store: &Store, scope: &str) -> Response {
    let mut body = json!({
        "access_token": store.issue(USERNAME),
        "expires_in": store.expires_in(),
        "token_type": "Bearer",
    });
    if !scope.is_empty() {
        body["scope"] = json!(scope);
    }
    if scope.split(' ').any(|s| s == "offline_access") {
        body["refresh_token"] = json!(store.issue_refresh(scope));
    }
    axum::Json(body).into_response()
}

fn auth_required() -> Response {
    let body = json!({ "meta": { "status": "auth_required" } });
    (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
}

async fn session(State(store): State<Arc<Store>>, method: Method, headers: HeaderMap) -> Response {
    let token = bearer(&headers);
    if method != Method::GET || store.check(token).is_err() {
        return auth_required();
    }
    let token = token.unwrap_or_default();
    let id = store.open_session(token);
    let now = SystemTime::now();
    let expires = store.expires_at(token).unwrap_or(now);
    let mut body = json!({
        "data": {
            "session": {
                "sessionid": id,
                "expires": timestamp(expires),
                "current_time": timestamp(now),
            }
        },
        "meta": { "status": "ok" }
    });
    if store.withholds_lifetime()
        && let Some(session) = body
            .pointer_mut("/data/session")
            .and_then(|s| s.as_object_mut())
    {
        session.remove("expires");
    }
    let cookie = format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly");
    ([(header::SET_COOKIE, cookie)], axum::Json(body)).into_response()
}

fn auth_error() -> Response {
    let body = json!({
        "errors": [{ "message": "Authentication error" }],
        "meta": { "status": "auth_error" }
    });
    (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
}

/// A v3.0 endpoint: the bearer token alone, no session cookie.
async fn organizations(State(store): State<Arc<Store>>, headers: HeaderMap) -> Response {
    if store.protected(&headers).is_err() {
        return auth_error();
    }
    axum::Json(json!({
        "data": [
            { "id": 100000, "name": "Organization One", "entity_type": "organization" },
            { "id": 100001, "name": "Organization Two", "entity_type": "organization" },
            { "id": 100002, "name": "Organization Three", "entity_type": "organization" }
        ],
        "meta": { "count": 3, "total_count": 3, "offset": 0, "status": "success" }
    }))
    .into_response()
}

/// A legacy v2.0 endpoint: the bearer token and the session opened with that very token.
async fn campaigns(State(store): State<Arc<Store>>, headers: HeaderMap) -> Response {
    let Ok(token) = store.protected(&headers) else {
        return auth_error();
    };
    if !cookie(&headers, SESSION_COOKIE).is_some_and(|id| store.session_of(id, &token)) {
        store.count_unauthorized();
        return auth_error();
    }
    axum::Json(json!({
        "data": [{ "id": 200000, "name": "Campaign One", "entity_type": "campaign" }],
        "meta": { "count": 1, "status": "ok" }
    }))
    .into_response()
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC, as MediaMath's session answer writes times.
fn timestamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil-from-days, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

/// The fake.
pub const FAKE: RoutedFake = RoutedFake::new(crate::PROVIDER, router)
    .vars(&[
        Var::text("ADAUTH_MEDIAMATH_CLIENT_ID", CLIENT_ID),
        Var::text("ADAUTH_MEDIAMATH_CLIENT_SECRET", CLIENT_SECRET),
        Var::text("ADAUTH_MEDIAMATH_USERNAME", USERNAME),
        Var::text("ADAUTH_MEDIAMATH_PASSWORD", PASSWORD),
        Var::text("ADAUTH_MEDIAMATH_SCOPE", SCOPE),
        Var::base_url("ADAUTH_MEDIAMATH_AUTH_URL"),
        Var::base_url("ADAUTH_MEDIAMATH_API_URL"),
        Var::text("ADAUTH_MEDIAMATH_SESSION", "1"),
    ])
    .protected("GET", "/api/v3.0/organizations");

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_times() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00");
        let t = UNIX_EPOCH + Duration::from_secs(1_440_083_110);
        assert_eq!(timestamp(t), "2015-08-20T15:05:10");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(timestamp(leap), "2000-02-29T00:00:00");
    }
}
