//! A token endpoint as configuration: most providers' token requests are one JSON or form
//! POST, and an [`EndpointSpec`] says which, with everything else that varies between them
//! (client authentication, the answer's field names, the provider's error codes, extra
//! answer fields to keep). [`TokenEndpoint`] sends such a request and reads the answer into
//! a [`Token`]; [`ClientCredentialsSource`] is a whole source for a provider whose only grant
//! is `client_credentials`.
//!
//! ```
//! use adauth_core::ErrorKind;
//! use adauth_core::provider_kit::endpoint::{EndpointSpec, FieldCase};
//!
//! // Fyber: a JSON body, the secret in the body, a camel-case answer, and one code of its own.
//! const FYBER: EndpointSpec = EndpointSpec::json("fyber", "/auth/v1/token")
//!     .answer_case(FieldCase::Camel)
//!     .codes(&[("invalid_request", ErrorKind::CredentialsRejected)]);
//! assert_eq!(FYBER.provider(), "fyber");
//! ```

use crate::provider_kit::wire;
use crate::provider_kit::wire::HttpResponse;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use url::Url;

use crate::http::HttpClient;
use crate::provider_kit::env;
use crate::provider_kit::required::{required_secret, required_text};
use crate::secret_buf::SecretBuf;
use crate::{Error, ErrorKind, ExpiresIn, Extras, FetchContext, Result, Token, TokenSource};

/// How a token request's body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/json`: text fields as strings, [`TokenRequest::int`] fields as numbers.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
}

/// How the client authenticates on the token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the body.
    Body,
    /// `Authorization: Basic base64(client_id:client_secret)` (RFC 6749, section 2.3.1).
    Basic,
}

/// How the answer spells its field names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldCase {
    /// `access_token`, `expires_in`, ... as RFC 6749 writes them.
    Snake,
    /// `accessToken`, `expiresIn`, ...
    Camel,
}

/// Refines the error that an error answer was read as (a provider's own error shape).
pub type RefineError = fn(&HttpResponse, Error) -> Error;

/// A token endpoint, as configuration: a `const` in the provider's crate.
#[derive(Debug, Clone, Copy)]
pub struct EndpointSpec {
    provider: &'static str,
    path: &'static str,
    encoding: Encoding,
    content_type: Option<&'static str>,
    client_auth: ClientAuth,
    case: FieldCase,
    codes: &'static [(&'static str, ErrorKind)],
    statuses: &'static [(u16, ErrorKind)],
    refine_error: Option<RefineError>,
    extras: &'static [&'static str],
    secret_extras: &'static [&'static str],
}

impl EndpointSpec {
    /// A JSON POST to `path` (relative to the provider's base URL), with the client in the
    /// body and a snake-case answer.
    pub const fn json(provider: &'static str, path: &'static str) -> Self {
        Self {
            provider,
            path,
            encoding: Encoding::Json,
            content_type: None,
            client_auth: ClientAuth::Body,
            case: FieldCase::Snake,
            codes: &[],
            statuses: &[],
            refine_error: None,
            extras: &[],
            secret_extras: &[],
        }
    }

    /// A form POST to `path`, with the client in the body and a snake-case answer.
    pub const fn form(provider: &'static str, path: &'static str) -> Self {
        Self::json(provider, path).encoding(Encoding::Form)
    }

    /// The body encoding.
    pub const fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// The `Content-Type` sent, when the provider documents it with parameters
    /// (`application/x-www-form-urlencoded;charset=UTF-8`); by default the encoding's.
    pub const fn content_type(mut self, content_type: &'static str) -> Self {
        self.content_type = Some(content_type);
        self
    }

    /// How the client authenticates (default: in the body).
    pub const fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = auth;
        self
    }

    /// How the answer spells its fields (default: snake case).
    pub const fn answer_case(mut self, case: FieldCase) -> Self {
        self.case = case;
        self
    }

    /// The provider's error codes and what each means, checked (ignoring case) before the
    /// status-based table and [`wire::classify`].
    pub const fn codes(mut self, codes: &'static [(&'static str, ErrorKind)]) -> Self {
        self.codes = codes;
        self
    }

    /// HTTP statuses and what each means, checked after [`codes`](Self::codes) and before
    /// [`wire::classify`].
    pub const fn statuses(mut self, statuses: &'static [(u16, ErrorKind)]) -> Self {
        self.statuses = statuses;
        self
    }

    /// A function that refines the error an error answer was read as.
    pub const fn refine_error(mut self, refine: RefineError) -> Self {
        self.refine_error = Some(refine);
        self
    }

    /// Answer fields kept as token [extras](Token::extras): text as sent, a number as its
    /// digits, anything else dropped.
    pub const fn extras(mut self, fields: &'static [&'static str]) -> Self {
        self.extras = fields;
        self
    }

    /// Answer fields kept as [secret extras](Token::secret_extra) (an `id_token`, say).
    pub const fn secret_extras(mut self, fields: &'static [&'static str]) -> Self {
        self.secret_extras = fields;
        self
    }

    /// The provider's name.
    pub const fn provider(&self) -> &'static str {
        self.provider
    }

    /// The path of the endpoint, relative to the base URL.
    pub const fn path(&self) -> &'static str {
        self.path
    }

    /// The kind of an error answer with `status` and the provider's `code`.
    pub fn classify(&self, status: StatusCode, code: Option<&str>) -> ErrorKind {
        if let Some(code) = code
            && let Some((_, kind)) = self
                .codes
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(code.trim()))
        {
            return *kind;
        }
        if let Some((_, kind)) = self.statuses.iter().find(|(s, _)| *s == status.as_u16()) {
            return *kind;
        }
        wire::classify(status, code)
    }

    /// The error an error answer stands for: read as [`HttpResponse::error_with`] reads it,
    /// classified by [`classify`](Self::classify), then refined.
    pub fn error(&self, response: &HttpResponse) -> Error {
        let err = response.error_with(self.provider, |s, c| self.classify(s, c));
        match self.refine_error {
            Some(refine) => refine(response, err),
            None => err,
        }
    }

    /// Reads a token answer: the access token, `token_type`, `expires_in`,
    /// `refresh_token`, `scope` and the extras, in the spec's field case. Unknown fields are
    /// ignored; empty optional fields count as absent.
    pub fn read_token(&self, cx: &FetchContext, response: &HttpResponse) -> Result<Token> {
        let answer = response.json_seed(self.provider, AnswerSeed(self))?;
        let mut token = cx.token(
            self.provider,
            response.sent_at(),
            answer.access_token,
            answer.expires_in.as_ref(),
        )?;
        // Set in place: `Token` is large, and each `with_*` would move it.
        if let Some(token_type) = answer.token_type {
            token.set_token_type_str(&token_type);
        }
        token.set_refresh_token(answer.refresh_token);
        if let Some(scope) = answer.scope {
            token.set_scope(scope);
        }
        if !answer.extras.is_empty() {
            token.set_extras(answer.extras);
        }
        for (name, value) in answer.secret_extras {
            token.insert_secret_extra(name, value);
        }
        Ok(token)
    }
}

/// A field value of a token request.
#[derive(Clone, Copy)]
enum Value<'a> {
    Text(&'a str),
    Int(u64),
}

impl Value<'_> {
    /// The length as sent, without escapes (at most, for a number).
    fn len(&self) -> usize {
        match self {
            Value::Text(text) => text.len(),
            Value::Int(_) => 20,
        }
    }
}

/// A configured token endpoint: an [`EndpointSpec`] at a URL, with an HTTP client.
#[derive(Debug, Clone)]
pub struct TokenEndpoint {
    spec: EndpointSpec,
    url: Url,
    http: HttpClient,
}

impl TokenEndpoint {
    /// The endpoint `spec` describes on `base_url`'s host.
    pub fn new(spec: EndpointSpec, base_url: &Url, http: HttpClient) -> Result<Self> {
        let url = wire::join_path(spec.provider, base_url, spec.path)?;
        Ok(Self { spec, url, http })
    }

    /// The endpoint `spec` describes at exactly `url`.
    pub fn at(spec: EndpointSpec, url: Url, http: HttpClient) -> Self {
        Self { spec, url, http }
    }

    /// The spec.
    pub fn spec(&self) -> &EndpointSpec {
        &self.spec
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// A [`TokenSource::identity`] for tokens from this endpoint: the provider, this URL and
    /// `parts` (the settings that decide whose token it is), through
    /// [`credential_identity`](crate::credential_identity).
    pub fn identity(&self, parts: &[&str]) -> String {
        let mut all = Vec::with_capacity(parts.len() + 1);
        all.push(self.url.as_str());
        all.extend_from_slice(parts);
        crate::credential_identity(self.spec.provider, &all)
    }

    /// A request to this endpoint, to fill in and [send](TokenRequest::send).
    pub fn request(&self) -> TokenRequest<'_> {
        TokenRequest {
            endpoint: self,
            basic: None,
            // Room for the fields and secrets of every documented request, so that
            // building one never reallocates.
            fields: Vec::with_capacity(8),
            secrets: Vec::with_capacity(4),
        }
    }
}

/// One token request: the client, the fields, the secrets to keep out of errors.
pub struct TokenRequest<'a> {
    endpoint: &'a TokenEndpoint,
    basic: Option<(&'a str, &'a str)>,
    fields: Vec<(&'a str, Value<'a>)>,
    secrets: Vec<&'a str>,
}

impl<'a> TokenRequest<'a> {
    /// The client, sent as the spec's [`ClientAuth`] says: `client_id` and `client_secret`
    /// fields here, or an `Authorization: Basic` header.
    pub fn client(mut self, id: &'a str, secret: &'a SecretString) -> Self {
        let secret = secret.expose_secret();
        match self.endpoint.spec.client_auth {
            ClientAuth::Body => {
                self.fields.push(("client_id", Value::Text(id)));
                self.fields.push(("client_secret", Value::Text(secret)));
            }
            ClientAuth::Basic => self.basic = Some((id, secret)),
        }
        self.secrets.push(secret);
        self
    }

    /// A text field.
    pub fn field(mut self, name: &'a str, value: &'a str) -> Self {
        self.fields.push((name, Value::Text(value)));
        self
    }

    /// A text field that is a secret (a refresh token, a password, a code): it is removed
    /// from any error, in every encoding it may be echoed in.
    pub fn secret(mut self, name: &'a str, value: &'a SecretString) -> Self {
        let value = value.expose_secret();
        self.fields.push((name, Value::Text(value)));
        self.secrets.push(value);
        self
    }

    /// As [`secret`](Self::secret), for a secret held as text (an authorization code
    /// read from a redirect).
    pub fn secret_text(mut self, name: &'a str, value: &'a str) -> Self {
        self.fields.push((name, Value::Text(value)));
        self.secrets.push(value);
        self
    }

    /// An integer field: a JSON number, or its digits in a form.
    pub fn int(mut self, name: &'a str, value: u64) -> Self {
        self.fields.push((name, Value::Int(value)));
        self
    }

    /// Sends the request and returns the provider's answer, or the error it stands for.
    pub async fn send_raw(self, cx: &FetchContext) -> Result<HttpResponse> {
        self.exchange(cx, Ok).await
    }

    /// Sends the request and reads the answer's token ([`EndpointSpec::read_token`]).
    pub async fn send(self, cx: &FetchContext) -> Result<Token> {
        let spec = &self.endpoint.spec;
        self.exchange(cx, |response| spec.read_token(cx, &response))
            .await
    }

    /// Encodes the request once, to send it as often as needed: see [`PreparedRequest`].
    pub fn prepare(self) -> PreparedRequest {
        let (content_type, body) = self.encode();
        let mut secrets: Vec<SecretString> = self
            .secrets
            .iter()
            .map(|s| SecretString::from(*s))
            .collect();
        if let Some((id, secret)) = self.basic {
            secrets.push(SecretString::from(basic_pair(id, secret).as_str()));
        }
        PreparedRequest {
            endpoint: self.endpoint.clone(),
            content_type,
            body,
            basic: self
                .basic
                .map(|(id, secret)| wire::basic_authorization(id, secret)),
            secrets: secrets.into_boxed_slice(),
        }
    }

    /// The content type and the body, in a buffer wiped when its last clone is dropped.
    fn encode(&self) -> (&'static str, bytes::Bytes) {
        let spec = &self.endpoint.spec;
        // The body's length without escapes: each field, its separators and quotes.
        let size = 2 + self
            .fields
            .iter()
            .map(|(name, value)| name.len() + value.len() + 6)
            .sum::<usize>();
        let (content_type, body) = match spec.encoding {
            Encoding::Json => (wire::JSON, json_body(&self.fields, size)),
            Encoding::Form => (wire::FORM, form_body(&self.fields, size)),
        };
        (spec.content_type.unwrap_or(content_type), body)
    }

    /// Sends the request, hands a successful answer to `read`, and removes the request's
    /// secrets from any error on the way, `read`'s included.
    async fn exchange<T>(
        self,
        cx: &FetchContext,
        read: impl FnOnce(HttpResponse) -> Result<T>,
    ) -> Result<T> {
        let (content_type, body) = self.encode();
        let basic = self
            .basic
            .map(|(id, secret)| wire::basic_authorization(id, secret));
        // The Basic pair, as a server that echoes the request may send it back, is written
        // out only for an error.
        let scrub = |e: Error| match self.basic {
            None => e.scrub(&self.secrets),
            Some((id, secret)) => {
                let pair = basic_pair(id, secret);
                let mut all = self.secrets.clone();
                all.push(pair.as_str());
                e.scrub(&all)
            }
        };
        exchange(
            self.endpoint,
            cx,
            (content_type, &body, basic.as_ref()),
            scrub,
            read,
        )
        .await
    }
}

/// `id:secret`, in a buffer wiped when dropped.
fn basic_pair(id: &str, secret: &str) -> zeroize::Zeroizing<String> {
    let mut pair = zeroize::Zeroizing::new(String::new());
    pair.reserve_exact(id.len() + 1 + secret.len());
    pair.push_str(id);
    pair.push(':');
    pair.push_str(secret);
    pair
}

/// Sends a request (its content type, body and Basic value) to `endpoint`, hands a
/// successful answer to `read`, and passes any error, `read`'s included, through `scrub`.
async fn exchange<T>(
    endpoint: &TokenEndpoint,
    cx: &FetchContext,
    (content_type, body, basic): (&'static str, &bytes::Bytes, Option<&HeaderValue>),
    scrub: impl Fn(Error) -> Error,
    read: impl FnOnce(HttpResponse) -> Result<T>,
) -> Result<T> {
    let spec = &endpoint.spec;
    let response = endpoint
        .http
        .send(spec.provider, cx, |client| {
            let request = client
                .post(endpoint.url.clone())
                .header(CONTENT_TYPE, content_type)
                .body(body.clone());
            match basic {
                Some(basic) => request.header(AUTHORIZATION, basic.clone()),
                None => request,
            }
        })
        .await
        .map_err(&scrub)?;
    if response.reports_error() {
        return Err(scrub(spec.error(&response)));
    }
    read(response).map_err(scrub)
}

/// A token request encoded once, with its endpoint: the body, the `Authorization: Basic`
/// value and the secrets to keep out of errors, to [send](Self::send) as often as needed.
/// For a source whose request never changes (a client-credentials grant), so that no fetch
/// encodes it again.
///
/// The body and the header are held in buffers wiped when the last clone is dropped, the
/// secrets as [`SecretString`]s; `Debug` shows neither.
///
/// ```
/// use adauth_core::http::HttpClient;
/// use adauth_core::provider_kit::endpoint::{EndpointSpec, TokenEndpoint};
/// use adauth_core::secrecy::SecretString;
///
/// const SPEC: EndpointSpec = EndpointSpec::form("example", "/token");
/// let url = url::Url::parse("https://auth.example.com")?;
/// let endpoint = TokenEndpoint::new(SPEC, &url, HttpClient::new())?;
/// let secret = SecretString::from("s3cr3t");
/// let request = endpoint
///     .request()
///     .field("grant_type", "client_credentials")
///     .client("client-1", &secret)
///     .prepare();
/// assert!(!format!("{request:?}").contains("s3cr3t"));
/// // Each fetch: `request.send(&cx).await`.
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct PreparedRequest {
    endpoint: TokenEndpoint,
    content_type: &'static str,
    body: bytes::Bytes,
    basic: Option<HeaderValue>,
    secrets: Box<[SecretString]>,
}

impl PreparedRequest {
    /// Sends the request and reads the answer's token ([`EndpointSpec::read_token`]).
    pub async fn send(&self, cx: &FetchContext) -> Result<Token> {
        let spec = &self.endpoint.spec;
        let scrub = |e: Error| {
            let secrets: Vec<&str> = self.secrets.iter().map(|s| s.expose_secret()).collect();
            e.scrub(&secrets)
        };
        exchange(
            &self.endpoint,
            cx,
            (self.content_type, &self.body, self.basic.as_ref()),
            scrub,
            |response| spec.read_token(cx, &response),
        )
        .await
    }

    /// The endpoint the request goes to.
    pub fn endpoint(&self) -> &TokenEndpoint {
        &self.endpoint
    }
}

impl fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedRequest")
            .field("url", &self.endpoint.url.as_str())
            .field("content_type", &self.content_type)
            .field("body_len", &self.body.len())
            .field("basic", &self.basic.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// The fields as a JSON object (text as strings, integers as numbers), written as
/// `serde_json` writes a map, in a buffer wiped when dropped.
fn json_body(fields: &[(&str, Value<'_>)], capacity: usize) -> bytes::Bytes {
    let mut body = SecretBuf::with_capacity(capacity);
    body.push(b'{');
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        wire::json_str(&mut body, name);
        body.push(b':');
        match value {
            Value::Text(text) => wire::json_str(&mut body, text),
            Value::Int(n) => body.extend(itoa::Buffer::new().format(*n).as_bytes()),
        }
    }
    body.push(b'}');
    body.into_bytes()
}

/// The fields form-encoded, integers as their digits, in a buffer wiped when dropped.
fn form_body(fields: &[(&str, Value<'_>)], capacity: usize) -> bytes::Bytes {
    wire::form_body_from(
        fields.iter().map(|(name, value)| match value {
            Value::Text(text) => (*name, Cow::Borrowed(*text)),
            Value::Int(n) => (*name, Cow::Owned(n.to_string())),
        }),
        capacity,
    )
}

impl fmt::Debug for TokenRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("url", &self.endpoint.url.as_str())
            .field("basic", &self.basic.map(|(id, _)| id))
            .field(
                "fields",
                &self
                    .fields
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// A token answer, as [`AnswerSeed`] reads it.
struct Answer<'de> {
    access_token: SecretString,
    token_type: Option<Cow<'de, str>>,
    expires_in: Option<ExpiresIn>,
    refresh_token: Option<SecretString>,
    scope: Option<String>,
    extras: Extras,
    secret_extras: Vec<(&'static str, SecretString)>,
}

/// Reads an answer in one pass, straight into secret types: no copy of the token is left
/// in a map of untyped values.
struct AnswerSeed<'s>(&'s EndpointSpec);

impl<'de> DeserializeSeed<'de> for AnswerSeed<'_> {
    type Value = Answer<'de>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<Answer<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

/// Text as sent, a number as its digits (as `serde_json` prints it); anything else (or an
/// empty text) is `None`. Read straight from the deserializer, without building a value.
struct Loose(Option<String>);

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct LooseVisitor;
        impl<'de> Visitor<'de> for LooseVisitor {
            type Value = Loose;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Loose, E> {
                Ok(Loose((!v.is_empty()).then(|| v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Loose, E> {
                Ok(Loose((!v.is_empty()).then_some(v)))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Loose, E> {
                Ok(Loose(Some(v.to_string())))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Loose, E> {
                Ok(Loose(Some(v.to_string())))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Loose, E> {
                Ok(Loose(
                    serde_json::Number::from_f64(v).map(|n| n.to_string()),
                ))
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<Loose, E> {
                Ok(Loose(None))
            }

            fn visit_unit<E: de::Error>(self) -> std::result::Result<Loose, E> {
                Ok(Loose(None))
            }

            fn visit_none<E: de::Error>(self) -> std::result::Result<Loose, E> {
                Ok(Loose(None))
            }

            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> std::result::Result<Loose, D::Error> {
                Loose::deserialize(d)
            }

            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Loose, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Loose(None))
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Loose, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Loose(None))
            }
        }
        d.deserialize_any(LooseVisitor)
    }
}

impl<'de> Visitor<'de> for AnswerSeed<'_> {
    type Value = Answer<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a token answer (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Answer<'de>, A::Error> {
        let spec = self.0;
        let camel = spec.case == FieldCase::Camel;
        let name = |snake: &'static str, camel_name: &'static str| {
            if camel { camel_name } else { snake }
        };
        let (access_name, type_name, expires_name, refresh_name) = (
            name("access_token", "accessToken"),
            name("token_type", "tokenType"),
            name("expires_in", "expiresIn"),
            name("refresh_token", "refreshToken"),
        );
        let mut access_token: Option<SecretString> = None;
        let mut answer = Answer {
            access_token: SecretString::default(),
            token_type: None,
            expires_in: None,
            refresh_token: None,
            scope: None,
            extras: Extras::with_capacity(spec.extras.len()),
            secret_extras: Vec::new(),
        };
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            let key = key.as_ref();
            if key == access_name {
                access_token = Some(map.next_value::<SecretString>()?);
            } else if key == type_name {
                answer.token_type = map
                    .next_value::<Option<Text<'de>>>()?
                    .map(|t| t.0)
                    .filter(|t| !t.is_empty());
            } else if key == expires_name {
                answer.expires_in = map.next_value::<Option<ExpiresIn>>()?;
            } else if key == refresh_name {
                answer.refresh_token = map
                    .next_value::<Option<SecretString>>()?
                    .filter(|t| !t.expose_secret().is_empty());
            } else if key == "scope" {
                answer.scope = map
                    .next_value::<Option<String>>()?
                    .filter(|s| !s.is_empty());
            } else if let Some(extra) = spec.extras.iter().find(|e| **e == key) {
                if let Some(value) = map.next_value::<Loose>()?.0 {
                    answer.extras.insert(Cow::Borrowed(extra), value);
                }
            } else if let Some(extra) = spec.secret_extras.iter().find(|e| **e == key) {
                if let Some(value) = map
                    .next_value::<Option<SecretString>>()?
                    .filter(|t| !t.expose_secret().is_empty())
                {
                    answer.secret_extras.push((extra, value));
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        answer.access_token = access_token.ok_or_else(|| de::Error::missing_field(access_name))?;
        Ok(answer)
    }
}

/// Text of an answer (a field name, the token type), borrowed from the body when it has no
/// escapes: serde's own `Cow<str>` always copies.
struct Text<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(
                self,
                v: &'de str,
            ) -> std::result::Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(NameVisitor)
    }
}

/// A provider whose only grant is client credentials, described by constants: give it to
/// [`ClientCredentials`] and [`ClientCredentialsSource`] and the provider's crate is done.
pub trait ClientCredentialsProvider: Send + Sync + 'static {
    /// The token endpoint.
    const ENDPOINT: EndpointSpec;
    /// The API host used when none is given.
    const DEFAULT_BASE_URL: &'static str;
    /// The variable that holds the client id.
    const ENV_CLIENT_ID: &'static str;
    /// The variable that holds the client secret.
    const ENV_CLIENT_SECRET: &'static str;
    /// The variable that overrides [`DEFAULT_BASE_URL`](Self::DEFAULT_BASE_URL).
    const ENV_BASE_URL: &'static str;
    /// How long the provider documents its tokens to live.
    const DOCUMENTED_LIFETIME: Option<Duration>;
}

/// A client id, its secret and the API host, for a [`ClientCredentialsProvider`].
pub struct ClientCredentials<P> {
    client_id: String,
    client_secret: SecretString,
    base_url: Url,
    provider: PhantomData<fn() -> P>,
}

impl<P: ClientCredentialsProvider> ClientCredentials<P> {
    /// Credentials for the default host.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> Result<Self> {
        Self::builder()
            .client_id(client_id)
            .client_secret(client_secret)
            .build()
    }

    /// A builder, to set the host too.
    pub fn builder() -> ClientCredentialsBuilder<P> {
        ClientCredentialsBuilder {
            client_id: None,
            client_secret: None,
            base_url: None,
            provider: PhantomData,
        }
    }

    /// Reads the provider's client id, secret and, if set, base URL variables.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(&env::process)
    }

    /// As [`from_env`](Self::from_env), with variables from `lookup`.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let provider = P::ENDPOINT.provider;
        env::require_all(provider, lookup, &[P::ENV_CLIENT_ID, P::ENV_CLIENT_SECRET])?;
        let mut builder = Self::builder()
            .client_id(env::required(provider, lookup, P::ENV_CLIENT_ID)?)
            .client_secret(env::required(provider, lookup, P::ENV_CLIENT_SECRET)?);
        if let Some(url) = env::optional(lookup, P::ENV_BASE_URL) {
            builder = builder.base_url(url);
        }
        builder.build()
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The API host.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }
}

impl<P> Clone for ClientCredentials<P> {
    fn clone(&self) -> Self {
        Self {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            base_url: self.base_url.clone(),
            provider: PhantomData,
        }
    }
}

impl<P> fmt::Debug for ClientCredentials<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("base_url", &self.base_url.as_str())
            .finish()
    }
}

/// Builds [`ClientCredentials`].
pub struct ClientCredentialsBuilder<P> {
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    base_url: Option<wire::UrlSetting>,
    provider: PhantomData<fn() -> P>,
}

impl<P: ClientCredentialsProvider> ClientCredentialsBuilder<P> {
    /// The client id (required).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The client secret (required).
    pub fn client_secret(mut self, client_secret: impl Into<SecretString>) -> Self {
        self.client_secret = Some(client_secret.into());
        self
    }

    /// The API host (default [`ClientCredentialsProvider::DEFAULT_BASE_URL`]); `https`, or
    /// `http` for a loopback host. Text or a parsed [`Url`]: for many credentials
    /// on one host, parse it once ([`UrlSetting`](wire::UrlSetting)).
    pub fn base_url(mut self, base_url: impl Into<wire::UrlSetting>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Checks and builds the credentials.
    pub fn build(self) -> Result<ClientCredentials<P>> {
        let provider = P::ENDPOINT.provider;
        Ok(ClientCredentials {
            client_id: required_text(provider, self.client_id, "client_id")?,
            client_secret: required_secret(provider, self.client_secret, "client_secret")?,
            base_url: wire::UrlSetting::resolve_or(self.base_url, provider, P::DEFAULT_BASE_URL)?,
            provider: PhantomData,
        })
    }
}

impl<P> fmt::Debug for ClientCredentialsBuilder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsBuilder")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// Fetches tokens with the client-credentials grant at a [`ClientCredentialsProvider`]'s
/// endpoint: `grant_type=client_credentials` and the client, as the spec encodes them.
pub struct ClientCredentialsSource<P> {
    credentials: ClientCredentials<P>,
    endpoint: TokenEndpoint,
}

impl<P: ClientCredentialsProvider> ClientCredentialsSource<P> {
    /// A source using the default HTTP client.
    pub fn new(credentials: ClientCredentials<P>) -> Result<Self> {
        Self::with_http(credentials, HttpClient::new())
    }

    /// A source using `http`, for a custom reqwest client or retry policy.
    pub fn with_http(credentials: ClientCredentials<P>, http: HttpClient) -> Result<Self> {
        let endpoint = TokenEndpoint::new(P::ENDPOINT, &credentials.base_url, http)?;
        Ok(Self {
            credentials,
            endpoint,
        })
    }

    /// A source with credentials from the environment; see [`ClientCredentials::from_env`].
    pub fn from_env() -> Result<Self> {
        Self::new(ClientCredentials::from_env()?)
    }

    /// A boxed source with credentials from `lookup`: a provider descriptor's
    /// [`FromLookup`](crate::provider::FromLookup).
    pub fn boxed_from_lookup(
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Box<dyn TokenSource>> {
        Ok(Box::new(Self::new(ClientCredentials::from_lookup(
            lookup,
        )?)?))
    }

    /// The credentials.
    pub fn credentials(&self) -> &ClientCredentials<P> {
        &self.credentials
    }

    /// The token endpoint's URL.
    pub fn token_url(&self) -> &Url {
        self.endpoint.url()
    }
}

impl<P> Clone for ClientCredentialsSource<P> {
    fn clone(&self) -> Self {
        Self {
            credentials: self.credentials.clone(),
            endpoint: self.endpoint.clone(),
        }
    }
}

impl<P> fmt::Debug for ClientCredentialsSource<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentialsSource")
            .field("provider", &self.endpoint.spec.provider)
            .field("credentials", &self.credentials)
            .field("token_url", &self.endpoint.url.as_str())
            .field("http", &self.endpoint.http)
            .finish()
    }
}

#[async_trait::async_trait]
impl<P: ClientCredentialsProvider> TokenSource for ClientCredentialsSource<P> {
    fn provider(&self) -> &str {
        P::ENDPOINT.provider
    }

    fn documented_lifetime(&self) -> Option<Duration> {
        P::DOCUMENTED_LIFETIME
    }

    fn identity(&self) -> Option<String> {
        Some(self.endpoint.identity(&[
            &self.credentials.client_id,
            self.credentials.client_secret.expose_secret(),
        ]))
    }

    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        self.endpoint
            .request()
            .field("grant_type", "client_credentials")
            .client(&self.credentials.client_id, &self.credentials.client_secret)
            .send(cx)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Serialize;
    use serde::ser::SerializeMap;

    /// The fields as `serde_json` writes a map of them.
    fn serde_json_body(fields: &[(&str, Value<'_>)]) -> Vec<u8> {
        struct Fields<'a>(&'a [(&'a str, Value<'a>)]);
        impl Serialize for Fields<'_> {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (name, value) in self.0 {
                    match value {
                        Value::Text(text) => map.serialize_entry(name, text)?,
                        Value::Int(n) => map.serialize_entry(name, n)?,
                    }
                }
                map.end()
            }
        }
        serde_json::to_vec(&Fields(fields)).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        /// A JSON body, with its shortcut for text that needs no escape, is byte for byte
        /// what `serde_json` writes.
        #[test]
        fn json_bodies_are_written_as_serde_json_writes_them(
            fields in prop::collection::vec(
                ("\\PC{0,12}|[\\x00-\\x7f]{0,12}", prop_oneof![
                    "\\PC{0,24}|[\\x00-\\x7f]{0,24}".prop_map(Ok),
                    any::<u64>().prop_map(Err),
                ]),
                0..6,
            ),
        ) {
            let fields: Vec<(&str, Value<'_>)> = fields
                .iter()
                .map(|(name, value)| {
                    (name.as_str(), match value {
                        Ok(text) => Value::Text(text),
                        Err(n) => Value::Int(*n),
                    })
                })
                .collect();
            prop_assert_eq!(&json_body(&fields, 0)[..], &serde_json_body(&fields)[..]);
        }
    }
}
