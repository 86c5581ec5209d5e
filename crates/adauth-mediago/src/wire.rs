//! What Mediago sends, exactly as it sends it.

use adauth_core::ExpiresIn;
use adauth_core::provider_kit::wire::HttpResponse;
use adauth_core::{Error, ErrorKind};
use serde::Deserialize;
use serde_json::Value;

use crate::{Account, PROVIDER};

/// `{"access_token", "expires_in": 3600, "client_id": "146"}`; the account-level answer has
/// the same fields, `client_id` perhaps not.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    #[serde(default)]
    pub(crate) expires_in: Option<ExpiresIn>,
    /// Kept loosely typed: a non-secret extra is not worth failing a token over.
    #[serde(default)]
    client_id: Option<Value>,
    /// Read so that a 200 answer with an error code needs no second read to be found.
    #[serde(default)]
    errno: Option<Value>,
    #[serde(default)]
    code: Option<Value>,
}

impl TokenResponse {
    pub(crate) fn client_id(&self) -> Option<String> {
        self.client_id
            .as_ref()
            .and_then(text)
            .filter(|s| !s.is_empty())
    }

    /// Whether the answer carries an error code, as [`BodyError::read`] finds one.
    pub(crate) fn reports_error(&self) -> bool {
        error_code(self.errno.as_ref(), self.code.as_ref()).is_some()
    }
}

/// `{"data": {"accounts": [{"account_id", "account_name"}]}}`.
#[derive(Deserialize)]
pub(crate) struct AccountsResponse {
    data: AccountsData,
}

#[derive(Deserialize)]
struct AccountsData {
    /// A client without accounts may well come back as `null`.
    #[serde(default)]
    accounts: Option<Vec<WireAccount>>,
}

#[derive(Deserialize)]
struct WireAccount {
    account_id: Id,
    #[serde(default)]
    account_name: Option<String>,
}

/// An identifier sent as a number or as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Unsigned(u64),
    Signed(i64),
    Text(String),
}

impl AccountsResponse {
    pub(crate) fn into_accounts(self) -> Vec<Account> {
        self.data
            .accounts
            .unwrap_or_default()
            .into_iter()
            .map(|a| Account {
                account_id: match a.account_id {
                    Id::Unsigned(n) => n.to_string(),
                    Id::Signed(n) => n.to_string(),
                    Id::Text(s) => s,
                },
                account_name: a.account_name.unwrap_or_default(),
            })
            .collect()
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A field as text (trimmed, a number as its digits), if it is some.
fn field(value: Option<&Value>) -> Option<String> {
    value.and_then(text).filter(|s| !s.is_empty())
}

/// The error code of an answer and the field it came from: a non-zero `errno`, else a
/// `code` other than `0` and `200` (third-party clients treat `"code": 200` as success).
fn error_code(errno: Option<&Value>, code: Option<&Value>) -> Option<(String, &'static str)> {
    let is = |code: &str, n: f64| code.parse::<f64>().is_ok_and(|c| c == n);
    if let Some(errno) = field(errno).filter(|c| !is(c, 0.0)) {
        return Some((errno, "errno"));
    }
    field(code)
        .filter(|c| !is(c, 0.0) && !is(c, 200.0))
        .map(|code| (code, "code"))
}

/// An error Mediago reported in the body: `{"errno": -1, "errmsg": ...}` or
/// `{"code": 40001, "msg": ...}`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BodyError {
    code: String,
    description: Option<String>,
}

impl BodyError {
    /// The error in a JSON object body, if it carries a non-zero `errno` or a `code` other
    /// than `0` and `200` (third-party clients treat `"code": 200` as success too).
    pub(crate) fn read(body: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(body).ok()?;
        let object = value.as_object()?;
        let (code, key) = error_code(object.get("errno"), object.get("code"))?;
        let message = match key {
            "errno" => ["errmsg", "msg", "message"],
            _ => ["msg", "errmsg", "message"],
        };
        Some(Self {
            code,
            description: message.iter().find_map(|k| field(object.get(*k))),
        })
    }

    /// Codes that read as HTTP statuses mean what those statuses mean. Any other code (such
    /// as `errno: -1`) is taken as a refusal of the credential, the one thing either request
    /// sends: the API token for a token request, the access token for the accounts list.
    fn kind(&self) -> ErrorKind {
        match self.code.parse::<i64>() {
            Ok(401 | 403) => ErrorKind::CredentialsRejected,
            Ok(429) => ErrorKind::RateLimited,
            Ok(500..=599) => ErrorKind::ProviderUnavailable,
            Ok(400..=499) => ErrorKind::RequestRejected,
            _ => ErrorKind::CredentialsRejected,
        }
    }
}

impl BodyError {
    /// Whether this error, in an API answer, says the access token was refused: a code that
    /// reads as 401 or 403, or a message about an invalid or expired token.
    pub(crate) fn refuses_token(&self) -> bool {
        if matches!(self.code.parse::<i64>(), Ok(401 | 403)) {
            return true;
        }
        let message = self
            .description
            .as_deref()
            .unwrap_or_default()
            .to_lowercase();
        message.contains("token")
            && ["invalid", "expire", "illegal", "unauthori"]
                .iter()
                .any(|w| message.contains(w))
    }
}

/// The error an answer stands for, if it is one: any non-2xx status, or a 2xx whose body
/// reports an error. `request` names the request in the message.
///
/// A body error (`errno`, `code`) is read whatever the status, and keeps its code and
/// message; its kind is the body code's ([`BodyError`]: `errno: -1` is a refused
/// credential) unless the status says that the provider failed (5xx) or throttled (429).
pub(crate) fn answer_error(response: &HttpResponse, request: &str) -> Option<Error> {
    let body_error = BodyError::read(response.body());
    let status = response.status();
    if let Some(found) = &body_error
        && !status.is_success()
        && !status.is_server_error()
        && status != adauth_core::reqwest::StatusCode::TOO_MANY_REQUESTS
    {
        let mut err = response
            .error_with(PROVIDER, adauth_core::provider_kit::wire::classify)
            .with_kind(found.kind())
            .with_message(format!("{request} was refused"))
            .with_code(found.code.clone());
        if let Some(description) = &found.description {
            err = err.with_description(description.clone());
        }
        return Some(err);
    }
    if response.reports_error() {
        let mut err = response.error_with(PROVIDER, adauth_core::provider_kit::wire::classify);
        if let Some(found) = body_error {
            err = err.with_code(found.code);
            if let Some(description) = found.description {
                err = err.with_description(description);
            }
        }
        return Some(err);
    }
    let found = body_error?;
    let mut err = Error::new(PROVIDER, found.kind())
        .with_message(format!("{request} was refused"))
        .with_status(response.status())
        .with_body(response.content_type(), response.body())
        .with_code(found.code);
    if let Some(description) = found.description {
        err = err.with_description(description);
    }
    Some(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Cases: `PROPTEST_CASES` (10,000 in this workspace; `cargo xtask fuzz` runs more).
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        // `errno` bodies of any shape and any status: an error or none, never a panic.
        #[test]
        fn errno_bodies_never_panic(
            status in 100u16..600,
            errno in prop_oneof![any::<i64>().prop_map(|n| n.to_string()), ".{0,12}".prop_map(|s| format!("{s:?}"))],
            msg in ".{0,40}",
            noise in prop::collection::vec(any::<u8>(), 0..200),
        ) {
            for body in [
                format!(r#"{{"errno":{errno},"errmsg":{msg:?}}}"#).into_bytes(),
                format!(r#"{{"code":{errno},"msg":{msg:?},"data":null}}"#).into_bytes(),
                noise.clone(),
            ] {
                let _ = BodyError::read(&body);
                let response = adauth_core::provider_kit::wire::HttpResponse::new(
                    adauth_core::reqwest::StatusCode::from_u16(status).unwrap(),
                    adauth_core::reqwest::header::HeaderMap::new(),
                    body.into(),
                    std::time::SystemTime::UNIX_EPOCH,
                );
                let _ = answer_error(&response, "the request");
            }
        }
    }

    fn json_value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            prop_oneof![Just(0.0), Just(200.0), any::<f64>()].prop_map(|n| {
                serde_json::Number::from_f64(n).map_or("0".to_owned(), |n| n.to_string())
            }),
            prop_oneof![
                Just(String::new()),
                Just(" 0 ".to_owned()),
                Just("200".to_owned()),
                Just("0.0".to_owned()),
                ".{0,6}"
            ]
            .prop_map(|s| serde_json::to_string(&s).unwrap()),
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("[1]".to_owned()),
            Just(r#"{"errno":1}"#.to_owned()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        // A token answer read once says it carries an error exactly when the body, read as
        // an error would be, has one.
        #[test]
        fn a_token_answer_finds_the_error_codes_that_an_error_read_finds(
            errno in proptest::option::of(json_value()),
            code in proptest::option::of(json_value()),
            msg in proptest::option::of(".{0,8}"),
        ) {
            let mut fields = vec![r#""access_token":"tok""#.to_owned(), r#""expires_in":3600"#.to_owned()];
            if let Some(errno) = &errno {
                fields.push(format!(r#""errno":{errno}"#));
            }
            if let Some(code) = &code {
                fields.push(format!(r#""code":{code}"#));
            }
            if let Some(msg) = &msg {
                fields.push(format!(r#""msg":{}"#, serde_json::to_string(msg).unwrap()));
            }
            let body = format!("{{{}}}", fields.join(","));
            let answer: TokenResponse = serde_json::from_str(&body).unwrap();
            prop_assert_eq!(answer.reports_error(), BodyError::read(body.as_bytes()).is_some(), "{}", body);
        }
    }

    fn read(body: &str) -> Option<(String, Option<String>)> {
        BodyError::read(body.as_bytes()).map(|e| (e.code, e.description))
    }

    #[test]
    fn reads_errno_and_code_shapes() {
        let pair = |c: &str, d: &str| Some((c.to_owned(), Some(d.to_owned())));
        assert_eq!(read(r#"{"errno":-1,"errmsg":"bad"}"#), pair("-1", "bad"));
        assert_eq!(read(r#"{"errno":"1001","msg":"bad"}"#), pair("1001", "bad"));
        assert_eq!(read(r#"{"code":40001,"msg":"bad"}"#), pair("40001", "bad"));
        assert_eq!(read(r#"{"code":1,"message":"bad"}"#), pair("1", "bad"));
        assert_eq!(read(r#"{"errno":7}"#), Some(("7".to_owned(), None)));
        for ok in [
            r#"{"errno":0,"errmsg":"ok","access_token":"t"}"#,
            r#"{"code":0,"msg":"success"}"#,
            r#"{"code":"0"}"#,
            r#"{"code":200,"msg":"success"}"#,
            r#"{"errno":null}"#,
            r#"{"access_token":"t","expires_in":3600}"#,
            r#"[1]"#,
            "<html>",
        ] {
            assert_eq!(read(ok), None, "{ok}");
        }
    }

    #[test]
    fn body_codes_map_to_kinds() {
        let kind = |code: &str| {
            BodyError {
                code: code.to_owned(),
                description: None,
            }
            .kind()
        };
        assert_eq!(kind("-1"), ErrorKind::CredentialsRejected);
        assert_eq!(kind("401"), ErrorKind::CredentialsRejected);
        assert_eq!(kind("429"), ErrorKind::RateLimited);
        assert_eq!(kind("503"), ErrorKind::ProviderUnavailable);
        assert_eq!(kind("400"), ErrorKind::RequestRejected);
    }
}
