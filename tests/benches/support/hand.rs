//! Each provider's token request as a hand-written reqwest client sends it, beside the
//! variables that build the same request through the provider's descriptor
//! (`adauth::PROVIDERS`, `source_from_lookup`), and the documented answer a test server
//! sends back.
//!
//! The credentials are the documented example values that each crate's own tests use, so
//! every request here is one those tests check byte for byte. The answers are the
//! documented success answers from the same tests.
//!
//! Requests per fetch of the descriptor's source, with the variables below:
//!
//! - mediago: one, `POST /data/v1/client/authentication`. The crate reads the answer once,
//!   `errno` and `code` with the token (and again, as an error, only when one of them
//!   reports an error).
//! - mediamath: one, `POST /oauth/token`. With `ADAUTH_MEDIAMATH_SESSION=1` (not set here;
//!   the testkit sandbox sets it) every fetch also sends `GET {api}/api/v2.0/session`.
//! - admitad: one, `POST /token/` (client credentials). A refresh grant comes first only
//!   after `AdmitadSource::resume_from`, which the descriptor never calls.
//! - fyber: one, `POST /auth/v1/token`.
//! - adgem: one, `POST /v1/apps/tokens`. With `ADAUTH_ADGEM_REFRESH_TOKEN` set (not set
//!   here) the descriptor builds another source, a form `POST /v1/users/token`.
//!
//! Headers the client adds on its own (the user agent, `accept`, `content-length`) depend
//! on the `reqwest::Client` passed in: give `send` the same kind of client the sources use
//! (`adauth::http::default_client()`) for a like-for-like comparison.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::pin::Pin;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

/// Sends one provider's token request by hand to a base URL and returns the access
/// token's length.
pub type SendFn =
    for<'a> fn(&'a reqwest::Client, &'a str) -> Pin<Box<dyn Future<Output = usize> + Send + 'a>>;

/// One provider's token request, as a hand-written client sends it.
pub struct Hand {
    /// Provider name as in the descriptor ("fyber", "admitad", ...).
    pub name: &'static str,
    /// Variables for `adauth::PROVIDERS` entry's `source_from_lookup`, except the base-URL
    /// variable.
    pub vars: &'static [(&'static str, &'static str)],
    /// The base-URL variable name (e.g. "ADAUTH_FYBER_BASE_URL").
    pub base_url_var: &'static str,
    /// Path of the token request (what the server must answer).
    pub path: &'static str,
    /// The documented success answer the server sends back (JSON).
    pub answer: &'static str,
    /// Sends the same request by hand with `client` to `base` (e.g.
    /// "http://127.0.0.1:1234") and reads the access token and expires_in from the answer,
    /// as a hand-written client would. Returns the access token length.
    pub send: SendFn,
}

/// Every provider, in the order `adauth::PROVIDERS` registers them.
pub const ALL: &[Hand] = &[MEDIAGO, MEDIAMATH, ADMITAD, FYBER, ADGEM];

/// The token URL: `path` on `base`, with one `/` between them.
/// POSTs `body` to `path` on `base` with `content_type` and, if given, `authorization`,
/// and reads the answer as `A`.
async fn post<A: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    base: &str,
    name: &str,
    path: &str,
    content_type: &'static str,
    authorization: Option<&'static str>,
    body: &'static str,
) -> A {
    let mut request = client.post(url(base, path));
    if let Some(authorization) = authorization {
        request = request.header(AUTHORIZATION, authorization);
    }
    let bytes = request
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: answer: {e}"))
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("{name}: body: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: json: {e}"))
}

fn url(base: &str, path: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), path)
}

// ---------------------------------------------------------------------------------------
// Mediago
// ---------------------------------------------------------------------------------------

/// Mediago: the client-level token request.
///
/// `POST /data/v1/client/authentication`,
/// `Authorization: Basic <API token, sent as issued>`,
/// `Content-Type: application/x-www-form-urlencoded;charset=utf-8`, empty body.
pub const MEDIAGO: Hand = Hand {
    name: "mediago",
    vars: &[("ADAUTH_MEDIAGO_API_TOKEN", MEDIAGO_API_TOKEN)],
    base_url_var: "ADAUTH_MEDIAGO_BASE_URL",
    path: MEDIAGO_PATH,
    answer: MEDIAGO_ANSWER,
    send: mediago_send,
};

/// The API token of Mediago's documented request example, already Base64 as the account
/// manager issues it: no `:` in it, so the crate sends it as given.
const MEDIAGO_API_TOKEN: &str = "Y2xpZW50XzE0Nl_lup_lvIPl...";

/// The client-level token path.
const MEDIAGO_PATH: &str = "/data/v1/client/authentication";

/// The content type Mediago's own clients send (lower-case `utf-8`).
const MEDIAGO_CONTENT_TYPE: &str = "application/x-www-form-urlencoded;charset=utf-8";

/// `Basic ` and [`MEDIAGO_API_TOKEN`].
const MEDIAGO_AUTHORIZATION: &str = "Basic Y2xpZW50XzE0Nl_lup_lvIPl...";

/// Mediago's documented success answer, byte for byte.
const MEDIAGO_ANSWER: &str = r#"{
  "access_token": "MTQ2OmNsaWVudF8xNDZf5bqf5byD5rqQ6LiG...",
  "expires_in": 3600,
  "client_id": "146"
}"#;

/// What a hand-written client reads from Mediago's answer.
#[derive(serde::Deserialize)]
struct MediagoAnswer {
    /// The access token.
    access_token: String,
    /// Its lifetime in seconds.
    expires_in: u64,
}

/// Mediago's token request, by hand.
fn mediago_send<'a>(
    client: &'a reqwest::Client,
    base: &'a str,
) -> Pin<Box<dyn Future<Output = usize> + Send + 'a>> {
    Box::pin(async move {
        let answer: MediagoAnswer = post(
            client,
            base,
            "mediago",
            MEDIAGO_PATH,
            MEDIAGO_CONTENT_TYPE,
            Some(MEDIAGO_AUTHORIZATION),
            "",
        )
        .await;
        std::hint::black_box(answer.expires_in);
        answer.access_token.len()
    })
}

// ---------------------------------------------------------------------------------------
// MediaMath
// ---------------------------------------------------------------------------------------

/// MediaMath: the password grant at Auth0, as JSON (the default encoding), the client in
/// the body (the default client authentication), the default audience and an empty scope.
///
/// `POST /oauth/token`, `Content-Type: application/json`, no `Authorization`, body
/// `{"grant_type":"password","username":…,"password":…,`
/// `"audience":"https://api.mediamath.com/","scope":"","client_id":…,"client_secret":…}`.
///
/// The token host is `ADAUTH_MEDIAMATH_AUTH_URL`, not a `…_BASE_URL`. The session is off
/// (no `ADAUTH_MEDIAMATH_SESSION`), so a fetch is this one request.
pub const MEDIAMATH: Hand = Hand {
    name: "mediamath",
    vars: &[
        ("ADAUTH_MEDIAMATH_CLIENT_ID", "YOUR_CLIENT_ID"),
        ("ADAUTH_MEDIAMATH_CLIENT_SECRET", "YOUR_CLIENT_SECRET"),
        ("ADAUTH_MEDIAMATH_USERNAME", "USERNAME"),
        ("ADAUTH_MEDIAMATH_PASSWORD", "PASSWORD"),
    ],
    base_url_var: "ADAUTH_MEDIAMATH_AUTH_URL",
    path: MEDIAMATH_PATH,
    answer: MEDIAMATH_ANSWER,
    send: mediamath_send,
};

/// The Auth0 token path.
const MEDIAMATH_PATH: &str = "/oauth/token";

/// The JSON content type.
const MEDIAMATH_CONTENT_TYPE: &str = "application/json";

/// The password grant's body, compact JSON in the crate's field order (that of MediaMath's
/// sample body).
const MEDIAMATH_BODY: &str = r#"{"grant_type":"password","username":"USERNAME","password":"PASSWORD","audience":"https://api.mediamath.com/","scope":"","client_id":"YOUR_CLIENT_ID","client_secret":"YOUR_CLIENT_SECRET"}"#;

/// MediaMath's documented password-grant answer, byte for byte.
const MEDIAMATH_ANSWER: &str = r#"{
"access_token": "eyJ0eX...KACzrBhNEg",
"expires_in": 86400,
"token_type": "Bearer"
}"#;

/// What a hand-written client reads from MediaMath's answer.
#[derive(serde::Deserialize)]
struct MediaMathAnswer {
    /// The access token.
    access_token: String,
    /// Its lifetime in seconds.
    expires_in: u64,
}

/// MediaMath's token request, by hand.
fn mediamath_send<'a>(
    client: &'a reqwest::Client,
    base: &'a str,
) -> Pin<Box<dyn Future<Output = usize> + Send + 'a>> {
    Box::pin(async move {
        let answer: MediaMathAnswer = post(
            client,
            base,
            "mediamath",
            MEDIAMATH_PATH,
            MEDIAMATH_CONTENT_TYPE,
            None,
            MEDIAMATH_BODY,
        )
        .await;
        std::hint::black_box(answer.expires_in);
        answer.access_token.len()
    })
}

// ---------------------------------------------------------------------------------------
// Admitad
// ---------------------------------------------------------------------------------------

/// Admitad: the client-credentials grant.
///
/// `POST /token/`, `Content-Type: application/x-www-form-urlencoded;charset=UTF-8`,
/// `Authorization: Basic base64(client_id:client_secret)`, form body
/// `grant_type=client_credentials&client_id=…&scope=advcampaigns+banners+websites`
/// (no secret in the body; the scopes in alphabetical order, spaces as `+`).
pub const ADMITAD: Hand = Hand {
    name: "admitad",
    vars: &[
        ("ADAUTH_ADMITAD_CLIENT_ID", "cb281d918a37e346b45e9aea1c6eb7"),
        (
            "ADAUTH_ADMITAD_CLIENT_SECRET",
            "a0f8a8b24de8b8182a0ddd2e89f5b1",
        ),
        ("ADAUTH_ADMITAD_SCOPE", "advcampaigns banners websites"),
    ],
    base_url_var: "ADAUTH_ADMITAD_BASE_URL",
    path: ADMITAD_PATH,
    answer: ADMITAD_ANSWER,
    send: admitad_send,
};

/// The token path (with its trailing slash).
const ADMITAD_PATH: &str = "/token/";

/// The content type exactly as Admitad's example shows it (upper-case `UTF-8`).
const ADMITAD_CONTENT_TYPE: &str = "application/x-www-form-urlencoded;charset=UTF-8";

/// `Basic ` and the standard, padded Base64 of
/// `cb281d918a37e346b45e9aea1c6eb7:a0f8a8b24de8b8182a0ddd2e89f5b1` (Admitad's
/// documented `data_b64_encoded`).
const ADMITAD_AUTHORIZATION: &str =
    "Basic Y2IyODFkOTE4YTM3ZTM0NmI0NWU5YWVhMWM2ZWI3OmEwZjhhOGIyNGRlOGI4MTgyYTBkZGQyZTg5ZjViMQ==";

/// The client-credentials form body.
const ADMITAD_BODY: &str = "grant_type=client_credentials&client_id=cb281d918a37e346b45e9aea1c6eb7&scope=advcampaigns+banners+websites";

/// Admitad's documented answer, byte for byte but for the page's stray `'` after
/// `"last_name"` (the verbatim page answer is not JSON).
const ADMITAD_ANSWER: &str = r#"{
"username": "webmaster1",
"first_name": "name",
"last_name": "surname",
"language": "ru",
"access_token": "4b8b33955a",
"token_type": "bearer",
"expires_in": 604800,
"refresh_token": "ea957cce42",
"scope": "advcampaigns banners websites",
"group": "webmaster"
}"#;

/// What a hand-written client reads from Admitad's answer.
#[derive(serde::Deserialize)]
struct AdmitadAnswer {
    /// The access token.
    access_token: String,
    /// Its lifetime in seconds.
    expires_in: u64,
}

/// Admitad's token request, by hand.
fn admitad_send<'a>(
    client: &'a reqwest::Client,
    base: &'a str,
) -> Pin<Box<dyn Future<Output = usize> + Send + 'a>> {
    Box::pin(async move {
        let answer: AdmitadAnswer = post(
            client,
            base,
            "admitad",
            ADMITAD_PATH,
            ADMITAD_CONTENT_TYPE,
            Some(ADMITAD_AUTHORIZATION),
            ADMITAD_BODY,
        )
        .await;
        std::hint::black_box(answer.expires_in);
        answer.access_token.len()
    })
}

// ---------------------------------------------------------------------------------------
// Fyber
// ---------------------------------------------------------------------------------------

/// Fyber (Digital Turbine Offer Wall Reporting API): the client-credentials grant as JSON.
///
/// `POST /auth/v1/token`, `Content-Type: application/json`, no `Authorization`, body
/// `{"grant_type":"client_credentials","client_id":…,"client_secret":…}`; the answer is in
/// camel case.
pub const FYBER: Hand = Hand {
    name: "fyber",
    vars: &[
        ("ADAUTH_FYBER_CLIENT_ID", FYBER_CLIENT_ID),
        ("ADAUTH_FYBER_CLIENT_SECRET", FYBER_CLIENT_SECRET),
    ],
    base_url_var: "ADAUTH_FYBER_BASE_URL",
    path: FYBER_PATH,
    answer: FYBER_ANSWER,
    send: fyber_send,
};

/// The Reporting API ID of Digital Turbine's sample request.
const FYBER_CLIENT_ID: &str = "3ce66d885XXXXXXXXXXa3b752bb9058";

/// The Reporting API password of Digital Turbine's sample request.
const FYBER_CLIENT_SECRET: &str = "YtMvC7VYTQMQ7w9UCUaFXXXJnwVZnQqqN02XNyt8IIh2h8XFDuXXXXXXXXSS6XTrFWW4TkebCcMLJkrXSw5IurkearTJIDzUxsbiMXv8hb4T23MwN6eE7DDIthRFqDnhnuhiDlY2oPeaOjsMbzE8joZ5cs6tsySJz6uZXwJ-x3lcYaYbgXXXXXXXX3_hFeuXm-C7-me2V1MMs-ftJxTd5QbHoUhG3Q5anCWCW_pg8x3CL4yPGCbpWUDZfpdNPyyCT4rxCEb-VC0Bdqwe8N2GGn_VSFOwQYxa-yap2JuNSGJfl_ZURXXXXXXXXFe1GpHDn8pk7yYwQYIGAg";

/// The token path.
const FYBER_PATH: &str = "/auth/v1/token";

/// The JSON content type.
const FYBER_CONTENT_TYPE: &str = "application/json";

/// The client-credentials body, compact JSON in the crate's field order, with
/// [`FYBER_CLIENT_ID`] and [`FYBER_CLIENT_SECRET`].
const FYBER_BODY: &str = r#"{"grant_type":"client_credentials","client_id":"3ce66d885XXXXXXXXXXa3b752bb9058","client_secret":"YtMvC7VYTQMQ7w9UCUaFXXXJnwVZnQqqN02XNyt8IIh2h8XFDuXXXXXXXXSS6XTrFWW4TkebCcMLJkrXSw5IurkearTJIDzUxsbiMXv8hb4T23MwN6eE7DDIthRFqDnhnuhiDlY2oPeaOjsMbzE8joZ5cs6tsySJz6uZXwJ-x3lcYaYbgXXXXXXXX3_hFeuXm-C7-me2V1MMs-ftJxTd5QbHoUhG3Q5anCWCW_pg8x3CL4yPGCbpWUDZfpdNPyyCT4rxCEb-VC0Bdqwe8N2GGn_VSFOwQYxa-yap2JuNSGJfl_ZURXXXXXXXXFe1GpHDn8pk7yYwQYIGAg"}"#;

/// Fyber's documented success answer, byte for byte.
const FYBER_ANSWER: &str = r#"{
"accessToken": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXXXJ9.eyJpYXQiOjE1NzAwMTY5MDAsImV4cCI6MTU3MDAyMDUwMCwiYXVkIjoic3BlZWRiYWxsIiwic3ViIjoiMjEwMjYzIn0.hDo1waTytSys_oRhFNUPqZPom26bL05rxgtSt3XYHqI",
"tokenType": "bearer",
"expiresIn": 3600
}"#;

/// What a hand-written client reads from Fyber's answer (camel case).
#[derive(serde::Deserialize)]
struct FyberAnswer {
    /// The access token.
    #[serde(rename = "accessToken")]
    access_token: String,
    /// Its lifetime in seconds.
    #[serde(rename = "expiresIn")]
    expires_in: u64,
}

/// Fyber's token request, by hand.
fn fyber_send<'a>(
    client: &'a reqwest::Client,
    base: &'a str,
) -> Pin<Box<dyn Future<Output = usize> + Send + 'a>> {
    Box::pin(async move {
        let answer: FyberAnswer = post(
            client,
            base,
            "fyber",
            FYBER_PATH,
            FYBER_CONTENT_TYPE,
            None,
            FYBER_BODY,
        )
        .await;
        std::hint::black_box(answer.expires_in);
        answer.access_token.len()
    })
}

// ---------------------------------------------------------------------------------------
// AdGem
// ---------------------------------------------------------------------------------------

/// AdGem: the application token request (the descriptor's source when
/// `ADAUTH_ADGEM_REFRESH_TOKEN` is not set).
///
/// `POST /v1/apps/tokens`, `Content-Type: application/json`, no `Authorization`, body
/// `{"adgem_pub_id":0,"adgem_app_id":0,"client_id":…,"client_secret":…}` (the ids as
/// JSON integers).
pub const ADGEM: Hand = Hand {
    name: "adgem",
    vars: &[
        ("ADAUTH_ADGEM_PUB_ID", "0"),
        ("ADAUTH_ADGEM_APP_ID", "0"),
        ("ADAUTH_ADGEM_CLIENT_ID", "your-client-id"),
        ("ADAUTH_ADGEM_CLIENT_SECRET", "your-client-secret"),
    ],
    base_url_var: "ADAUTH_ADGEM_BASE_URL",
    path: ADGEM_PATH,
    answer: ADGEM_ANSWER,
    send: adgem_send,
};

/// The application token path.
const ADGEM_PATH: &str = "/v1/apps/tokens";

/// The JSON content type.
const ADGEM_CONTENT_TYPE: &str = "application/json";

/// The application token body, compact JSON in the crate's field order.
const ADGEM_BODY: &str = r#"{"adgem_pub_id":0,"adgem_app_id":0,"client_id":"your-client-id","client_secret":"your-client-secret"}"#;

/// AdGem's documented success answer, byte for byte but for the page's placeholder
/// `<your-jwt-token>`, written as a JWT (as the crate's tests write it).
const ADGEM_ANSWER: &str = r#"{
"access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJl",
"token_type": "Bearer",
"expires_in": 3600
}"#;

/// What a hand-written client reads from AdGem's answer.
#[derive(serde::Deserialize)]
struct AdGemAnswer {
    /// The access token.
    access_token: String,
    /// Its lifetime in seconds.
    expires_in: u64,
}

/// AdGem's token request, by hand.
fn adgem_send<'a>(
    client: &'a reqwest::Client,
    base: &'a str,
) -> Pin<Box<dyn Future<Output = usize> + Send + 'a>> {
    Box::pin(async move {
        let answer: AdGemAnswer = post(
            client,
            base,
            "adgem",
            ADGEM_PATH,
            ADGEM_CONTENT_TYPE,
            None,
            ADGEM_BODY,
        )
        .await;
        std::hint::black_box(answer.expires_in);
        answer.access_token.len()
    })
}
