//! Writing a fake: what a provider crate implements (behind its `testkit` feature) so that
//! the [`Sandbox`](crate::Sandbox), the `adauth` command's sandbox and demo, and the tests
//! that cover every provider can start it.
//!
//! A provider crate implements [`FakeProvider`] for its fake (or, for a provider whose only
//! grant is client credentials, configures a [`ClientCredentialsFake`]) and hands a
//! [`Registration`] to its descriptor (`adauth_core::Provider::with_fake`).

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any};
use serde_json::json;

pub use crate::store::{
    CodeGrant, RefreshCheck, RefreshRefused, Refusal, Store, basic, bearer, content_type_is,
    cookie, form, json_object, json_str,
};

/// One provider's fake server.
pub trait FakeProvider: Send + Sync + 'static {
    /// The provider's name (`"fyber"`), as its descriptor gives it.
    fn name(&self) -> &'static str;

    /// The fake's routes, over `store` (which counts, issues, checks and injects faults).
    fn router(&'static self, store: Arc<Store>) -> Router;

    /// The provider's `ADAUTH_*` variables for the sandbox credentials, pointing at a fake
    /// served at `base_url`.
    fn env(&self, base_url: &str) -> Vec<(String, String)>;

    /// An API endpoint that answers 200 to a valid token and 401 otherwise: its method
    /// (`GET` or `POST`) and its path (with the query it requires).
    fn protected(&self) -> (&'static str, &'static str);
}

/// What a provider's descriptor carries as its fake (`Provider::with_fake`).
#[derive(Clone, Copy)]
pub struct Registration(pub &'static dyn FakeProvider);

impl Registration {
    /// The registration held untyped in a descriptor (`Provider::fake_any`).
    pub fn from_any(fake: &'static (dyn Any + Send + Sync)) -> Option<&'static Registration> {
        fake.downcast_ref()
    }

    /// The fake.
    pub fn fake(&self) -> &'static dyn FakeProvider {
        self.0
    }
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Registration").field(&self.0.name()).finish()
    }
}

/// An authorization page that grants at once: it checks `client_id` and
/// `response_type=code`, and redirects to `redirect_uri` with a one-time `code` and the
/// `state` it was given, as a provider does once the user agrees. `query` is the request's.
pub fn authorize(store: &Store, client_id: &str, query: &HashMap<String, String>) -> Response {
    let field = |name: &str| {
        query
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    if field("client_id") != Some(client_id) {
        return oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client");
    }
    if field("response_type") != Some("code") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_response_type");
    }
    let Some(redirect_uri) = field("redirect_uri") else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    let Ok(mut location) = url::Url::parse(redirect_uri) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    if field("code_challenge").is_some() && field("code_challenge_method") != Some("S256") {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let code = store.issue_code(CodeGrant {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope: field("scope").unwrap_or_default().to_owned(),
        code_challenge: field("code_challenge").map(str::to_owned),
    });
    {
        let mut pairs = location.query_pairs_mut();
        pairs.append_pair("code", &code);
        if let Some(state) = field("state") {
            pairs.append_pair("state", state);
        }
    }
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// A route for an authorization page that grants at once ([`authorize`]) to `client_id`.
pub fn authorize_route(client_id: &'static str) -> axum::routing::MethodRouter<Arc<Store>> {
    axum::routing::get(
        move |State(store): State<Arc<Store>>,
              axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>| async move {
            authorize(&store, client_id, &query)
        },
    )
}

/// A token endpoint's route. Each request is counted and held for the store's delay; it
/// gets `failure(status)` when the test injected a failure ([`Store::fail_next`]) and
/// `not_post()` when its method is not POST, and goes to `handle` with the store, the
/// headers and the body otherwise. Every fake's token endpoint is one, so injected faults
/// behave the same for every provider.
pub fn token_route<H>(
    failure: fn(StatusCode) -> Response,
    not_post: fn() -> Response,
    handle: H,
) -> MethodRouter<Arc<Store>>
where
    H: Fn(&Store, &HeaderMap, &[u8]) -> Response + Clone + Send + Sync + 'static,
{
    any(
        move |State(store): State<Arc<Store>>, method: Method, headers: HeaderMap, body: Bytes| async move {
            if let Some(status) = store.token_request().await {
                return failure(status);
            }
            if method != Method::POST {
                return not_post();
            }
            handle(&store, &headers, &body)
        },
    )
}

/// How a fake words the refusals that every OAuth token endpoint makes, in its provider's
/// error shape; with them, [`refresh`](Self::refresh) and [`other`](Self::other) answer the
/// refresh-token grant and the grants an endpoint does not take.
#[derive(Debug, Clone, Copy)]
pub struct GrantRefusals {
    /// A malformed request (`invalid_request`), with why.
    pub invalid_request: fn(&str) -> Response,
    /// A refresh token this fake never issued or has rotated away (`invalid_grant`).
    pub spent_refresh: fn() -> Response,
    /// A `grant_type` the endpoint does not take (`unsupported_grant_type`).
    pub unsupported_grant: fn() -> Response,
}

impl GrantRefusals {
    /// The refresh-token grant: rotates `refresh_token` ([`Store::rotate_refresh`]) and
    /// answers `issue(scope)` with the scope it was issued for; a missing one is an
    /// `invalid_request`, a spent or unknown one [`spent_refresh`](Self::spent_refresh).
    pub fn refresh(
        &self,
        store: &Store,
        refresh_token: Option<&str>,
        issue: impl FnOnce(&str) -> Response,
    ) -> Response {
        match store.rotate_refresh(refresh_token) {
            Ok(scope) => issue(&scope),
            Err(RefreshRefused::Missing) => (self.invalid_request)("refresh_token is required"),
            Err(RefreshRefused::Spent) => (self.spent_refresh)(),
        }
    }

    /// A `grant_type` the endpoint has no arm for: none (`invalid_request`) or another one
    /// ([`unsupported_grant`](Self::unsupported_grant)).
    pub fn other(&self, grant_type: Option<&str>) -> Response {
        match grant_type {
            Some(_) => (self.unsupported_grant)(),
            None => (self.invalid_request)("grant_type is required"),
        }
    }
}

/// Redeems an authorization code, as a token endpoint's `authorization_code` grant does:
/// the code must be one this fake issued and not yet spent, `redirect_uri` the one of the
/// authorization request, and `code_verifier` the PKCE verifier of its challenge when it had
/// one. The error says which check failed, for the provider's own error shape.
pub fn redeem_code(
    store: &Store,
    code: Option<&str>,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<CodeGrant, &'static str> {
    let grant = code
        .and_then(|code| store.use_code(code))
        .ok_or("the authorization code is invalid or spent")?;
    if redirect_uri != Some(grant.redirect_uri.as_str()) {
        return Err("redirect_uri does not match the authorization request");
    }
    if let Some(challenge) = &grant.code_challenge
        && !code_verifier.is_some_and(|v| pkce_matches(challenge, v))
    {
        return Err("failed to verify the code verifier");
    }
    Ok(grant)
}

/// Whether `verifier` is the PKCE verifier of `challenge` (S256: base64url of its SHA-256).
pub fn pkce_matches(challenge: &str, verifier: &str) -> bool {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(verifier.as_bytes());
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, digest) == challenge
}

/// A fake made of its routes and a description of the rest: its variables and its
/// protected endpoint. Most provider crates' fakes are one of these.
///
/// ```
/// use std::sync::Arc;
/// use adauth_testkit::fake::{RoutedFake, Store, Var};
///
/// fn router(store: Arc<Store>) -> axum::Router {
///     axum::Router::new().with_state(store)
/// }
///
/// const FAKE: RoutedFake = RoutedFake::new("example", router)
///     .vars(&[
///         Var::text("EXAMPLE_CLIENT_ID", "sandbox-client"),
///         Var::base_url("EXAMPLE_BASE_URL"),
///     ])
///     .protected("GET", "/v1/me");
/// ```
#[derive(Clone, Copy)]
pub struct RoutedFake {
    name: &'static str,
    router: fn(Arc<Store>) -> Router,
    vars: &'static [Var],
    protected: (&'static str, &'static str),
}

/// One variable of a [`RoutedFake`]'s environment.
#[derive(Debug, Clone, Copy)]
pub struct Var {
    name: &'static str,
    value: VarValue,
}

#[derive(Debug, Clone, Copy)]
enum VarValue {
    Text(&'static str),
    Computed(fn() -> String),
    BaseUrl,
}

impl Var {
    /// `name` set to `value`.
    pub const fn text(name: &'static str, value: &'static str) -> Self {
        Self {
            name,
            value: VarValue::Text(value),
        }
    }

    /// `name` set to what `value` returns, for a value built from other constants.
    pub const fn computed(name: &'static str, value: fn() -> String) -> Self {
        Self {
            name,
            value: VarValue::Computed(value),
        }
    }

    /// `name` set to the running fake's base URL.
    pub const fn base_url(name: &'static str) -> Self {
        Self {
            name,
            value: VarValue::BaseUrl,
        }
    }
}

impl RoutedFake {
    /// A fake of `name`'s provider with these routes, no variables yet and `GET /` as its
    /// protected endpoint.
    pub const fn new(name: &'static str, router: fn(Arc<Store>) -> Router) -> Self {
        Self {
            name,
            router,
            vars: &[],
            protected: ("GET", "/"),
        }
    }

    /// The variables that point the provider's source at the fake
    /// ([`FakeProvider::env`]).
    pub const fn vars(mut self, vars: &'static [Var]) -> Self {
        self.vars = vars;
        self
    }

    /// The protected endpoint's method and path ([`FakeProvider::protected`]).
    pub const fn protected(mut self, method: &'static str, path: &'static str) -> Self {
        self.protected = (method, path);
        self
    }
}

impl FakeProvider for RoutedFake {
    fn name(&self) -> &'static str {
        self.name
    }

    fn router(&'static self, store: Arc<Store>) -> Router {
        (self.router)(store)
    }

    fn env(&self, base_url: &str) -> Vec<(String, String)> {
        self.vars
            .iter()
            .map(|var| {
                let value = match var.value {
                    VarValue::Text(text) => text.to_owned(),
                    VarValue::Computed(value) => value(),
                    VarValue::BaseUrl => base_url.to_owned(),
                };
                (var.name.to_owned(), value)
            })
            .collect()
    }

    fn protected(&self) -> (&'static str, &'static str) {
        self.protected
    }
}

impl std::fmt::Debug for RoutedFake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoutedFake")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// `pairs` as owned variables, for [`FakeProvider::env`].
pub fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The error body of an OAuth-style error with a description:
/// `{"error": code, "error_description": description}`.
pub fn oauth_error_described(status: StatusCode, code: &str, description: &str) -> Response {
    let body = json!({ "error": code, "error_description": description });
    (status, axum::Json(body)).into_response()
}

/// The error body of an OAuth-style error: `{"error": code}`.
pub fn oauth_error(status: StatusCode, code: &str) -> Response {
    (status, axum::Json(json!({ "error": code }))).into_response()
}

/// A fake of a provider whose only grant is client credentials, as strict as its page:
/// the method, the content type, the grant and the client as the page documents them.
#[derive(Debug, Clone, Copy)]
pub struct ClientCredentialsFake {
    /// The provider's name.
    pub name: &'static str,
    /// The token endpoint's path.
    pub token_path: &'static str,
    /// Whether the body is JSON (`true`) or a form.
    pub json: bool,
    /// Whether the client authenticates with `Authorization: Basic` (`true`) or in the
    /// body.
    pub basic: bool,
    /// Whether the answer's fields are camel case (`accessToken`).
    pub camel_case: bool,
    /// The sandbox client id and secret.
    pub client: (&'static str, &'static str),
    /// The variables for the client id, the secret and the base URL.
    pub env: (&'static str, &'static str, &'static str),
    /// The status and code of the answer to a wrong client.
    pub refused: (u16, &'static str),
    /// The status and code of the answer to a malformed request.
    pub malformed: (u16, &'static str),
    /// The code of a 5xx answer.
    pub unavailable: &'static str,
    /// The protected endpoint: method, path (with the query it requires) and the answer's
    /// content type and body.
    pub protected: (&'static str, &'static str, &'static str, &'static str),
}

impl ClientCredentialsFake {
    fn error(&self, status: u16, code: &str) -> Response {
        oauth_error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code,
        )
    }

    /// The documented code for an injected failure's status.
    fn failure(&self, status: StatusCode) -> Response {
        match status.as_u16() {
            400 => self.error(400, self.malformed.1),
            401 | 403 => self.error(status.as_u16(), "invalid_client"),
            _ => oauth_error(status, self.unavailable),
        }
    }

    async fn token(
        &self,
        store: &Store,
        method: Method,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        if let Some(status) = store.token_request().await {
            return self.failure(status);
        }
        let bad = || self.error(self.malformed.0, self.malformed.1);
        let essence = if self.json {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        if method != Method::POST || !content_type_is(&headers, essence) {
            return bad();
        }
        let fields: HashMap<String, serde_json::Value> = if self.json {
            match json_object(&body) {
                Some(map) => map.into_iter().collect(),
                None => return bad(),
            }
        } else {
            match form(&body) {
                Some(map) => map.into_iter().map(|(k, v)| (k, v.into())).collect(),
                None => return bad(),
            }
        };
        let text = |name: &str| {
            fields
                .get(name)
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
        };
        match text("grant_type") {
            Some("client_credentials") => {}
            Some(_) => return self.error(400, "unsupported_grant_type"),
            None => return bad(),
        }
        let client = if self.basic {
            if fields.contains_key("client_secret") {
                return bad();
            }
            let expected = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{}:{}", self.client.0, self.client.1),
            );
            basic(&headers).map(|pair| pair == expected)
        } else {
            match (text("client_id"), text("client_secret")) {
                (Some(id), Some(secret)) => Some(id == self.client.0 && secret == self.client.1),
                _ => None,
            }
        };
        match client {
            None => return bad(),
            Some(false) => return self.error(self.refused.0, self.refused.1),
            Some(true) => {}
        }
        let access_token = store.issue(self.client.0);
        let (token, kind, expires) = if self.camel_case {
            ("accessToken", "tokenType", "expiresIn")
        } else {
            ("access_token", "token_type", "expires_in")
        };
        axum::Json(json!({ token: access_token, kind: "bearer", expires: store.expires_in() }))
            .into_response()
    }

    fn api(
        &self,
        store: &Store,
        method: Method,
        query: Option<String>,
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
        let (expected_method, path, content_type, body) = self.protected;
        let wanted = path.split_once('?').map(|(_, q)| q);
        let query_ok = wanted.is_none_or(|wanted| {
            let got = query.unwrap_or_default();
            wanted
                .split('&')
                .all(|pair| got.split('&').any(|p| p == pair))
        });
        if method.as_str() != expected_method || !query_ok {
            return self.error(self.malformed.0, self.malformed.1);
        }
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    }
}

impl FakeProvider for ClientCredentialsFake {
    fn name(&self) -> &'static str {
        self.name
    }

    fn router(&'static self, store: Arc<Store>) -> Router {
        let api_path = self
            .protected
            .1
            .split('?')
            .next()
            .unwrap_or(self.protected.1);
        Router::new()
            .route(
                self.token_path,
                any(move |State(store): State<Arc<Store>>, method, headers, body| async move {
                    self.token(&store, method, headers, body).await
                }),
            )
            .route(
                api_path,
                any(
                    move |State(store): State<Arc<Store>>, method, RawQuery(query), headers| async move {
                        self.api(&store, method, query, headers)
                    },
                ),
            )
            .with_state(store)
    }

    fn env(&self, base_url: &str) -> Vec<(String, String)> {
        vars(&[
            (self.env.0, self.client.0),
            (self.env.1, self.client.1),
            (self.env.2, base_url),
        ])
    }

    fn protected(&self) -> (&'static str, &'static str) {
        (self.protected.0, self.protected.1)
    }
}
