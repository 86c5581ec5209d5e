//! The legacy `adama_session`: `GET /api/v2.0/session` with the bearer token.

use adauth_core::provider_kit::wire::HttpResponse;
use std::time::{Duration, SystemTime};

use adauth_core::http::HttpClient;
use adauth_core::reqwest::header::{ACCEPT, AUTHORIZATION, SET_COOKIE};
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{Error, ErrorKind, FetchContext, Result, Token};
use serde_json::Value;
use url::Url;

use crate::{PROVIDER, SESSION_COOKIE, SESSION_LIFETIME, auth0, time};

/// The media type MediaMath's SDKs ask for to get JSON rather than XML from the v2.0 API.
const ACCEPT_JSON: &str = "application/vnd.mediamath.v1+json";

/// A session, as read from the answer.
pub(crate) struct Session {
    pub(crate) id: SecretString,
    pub(crate) expires_at: SystemTime,
}

/// Fetches the session that goes with `token`.
pub(crate) async fn fetch(
    http: &HttpClient,
    cx: &FetchContext,
    url: &Url,
    token: &Token,
) -> Result<Session> {
    let authorization = token.authorization_header(PROVIDER)?;
    let access_token = token.access_token().expose_secret();
    let scrub = |e: Error| e.scrub(&[access_token]);
    let response = http
        .send(PROVIDER, cx, |client| {
            client
                .get(url.clone())
                .header(AUTHORIZATION, authorization.clone())
                .header(ACCEPT, ACCEPT_JSON)
        })
        .await
        .map_err(scrub)?;
    read(&response).map_err(|e| {
        let e = scrub(e);
        // Each id the answer offered, so that a rejected one cannot leak through the excerpt.
        let ids = offered_ids(&response);
        e.scrub(&ids.iter().map(String::as_str).collect::<Vec<_>>())
    })
}

fn read(response: &HttpResponse) -> Result<Session> {
    let body: Option<Value> = response
        .is_json()
        .then(|| serde_json::from_slice(response.body()).ok())
        .flatten();
    let status = body
        .as_ref()
        .and_then(|b| b.pointer("/meta/status"))
        .and_then(Value::as_str);
    match status {
        Some("ok") | None => {}
        // Not signed in: the token was not accepted for a session.
        Some(code @ ("auth_required" | "auth_error")) => {
            return Err(refusal(
                response,
                body.as_ref(),
                code,
                ErrorKind::CredentialsRejected,
            ));
        }
        Some(code) if response.status().is_success() => {
            return Err(refusal(
                response,
                body.as_ref(),
                code,
                ErrorKind::UnexpectedResponse,
            ));
        }
        Some(_) => {}
    }
    if !response.status().is_success() {
        let err = response.error_with(PROVIDER, auth0::classify);
        return Err(if response.status().is_redirection() {
            err
        } else {
            err.with_message("the adama_session request failed")
        });
    }
    let session = body.as_ref().and_then(|b| b.pointer("/data/session"));
    let from_body = session
        .and_then(|s| s.get("sessionid"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    // The cookie is what MediaMath's page says to copy; the body's copy is the fallback.
    let id = cookie(response)
        .or(from_body)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            Error::unexpected(
                PROVIDER,
                "the session answer carries no adama_session cookie and no session id",
            )
            .with_status(response.status())
            .with_body(response.content_type(), response.body())
        })?;
    if !id.bytes().all(is_cookie_octet) {
        return Err(Error::unexpected(
            PROVIDER,
            "the session id contains characters not allowed in a cookie",
        ));
    }
    Ok(Session {
        id: SecretString::from(id),
        expires_at: expiry(response.sent_at(), session),
    })
}

fn refusal(response: &HttpResponse, body: Option<&Value>, code: &str, kind: ErrorKind) -> Error {
    let mut err = Error::new(PROVIDER, kind)
        .with_message("the adama_session request was refused")
        .with_status(response.status())
        .with_code(code)
        .with_body(response.content_type(), response.body());
    // `{"errors":[{"message":"Authentication error"}],"meta":{"status":"auth_error"}}`
    let message = body
        .and_then(|b| b.pointer("/errors/0/message"))
        .and_then(Value::as_str);
    if let Some(message) = message {
        err = err.with_description(message);
    }
    err
}

/// The value of the `adama_session` cookie among the `Set-Cookie` headers.
fn cookie(response: &HttpResponse) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let pair = v.split(';').next()?;
            let (name, value) = pair.split_once('=')?;
            (name.trim() == SESSION_COOKIE).then(|| value.trim().trim_matches('"').to_owned())
        })
}

fn offered_ids(response: &HttpResponse) -> Vec<String> {
    let mut ids: Vec<String> = cookie(response).into_iter().collect();
    if let Some(id) = serde_json::from_slice::<Value>(response.body())
        .ok()
        .as_ref()
        .and_then(|b| b.pointer("/data/session/sessionid"))
        .and_then(Value::as_str)
    {
        ids.push(id.to_owned());
    }
    ids
}

/// RFC 6265 `cookie-octet`.
fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// When the session ends: `expires` counted on the server's own clock when the answer also
/// has `current_time` (so neither the server's time zone nor clock skew matters), `expires`
/// read as UTC otherwise, and [`SESSION_LIFETIME`] when it says nothing usable.
fn expiry(sent_at: SystemTime, session: Option<&Value>) -> SystemTime {
    let default = sent_at + SESSION_LIFETIME;
    let field = |name: &str| session.and_then(|s| s.get(name)).and_then(time::timestamp);
    let lifetime = match (field("expires"), field("current_time")) {
        (Some(expires), Some(now)) => expires - now,
        (Some(expires), None) => expires - time::unix_seconds(sent_at),
        _ => return default,
    };
    match u64::try_from(lifetime) {
        Ok(secs) if secs > 0 => sent_at
            .checked_add(Duration::from_secs(secs))
            .unwrap_or(default),
        // A session that ended before it began is misread, not over: assume the usual day.
        _ => default,
    }
}
