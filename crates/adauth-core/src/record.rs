//! What a token cache keeps in a token store for one credential: the token, whether it was
//! invalidated, and the last failure with its retry time.

use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::secret_buf::secret_json;
use crate::token::{Stored, StoredRef};
use crate::{Error, ErrorKind, Token};

const VERSION: u32 = 2;

/// One credential's record in a store.
#[derive(Debug, Default)]
pub(crate) struct Record {
    /// The token, if one was written and could be read back.
    pub(crate) token: Option<Token>,
    /// The token was invalidated after an authentication failure: nobody may adopt it.
    pub(crate) revoked: bool,
    /// The last fetch failed: nobody fetches again before its retry time.
    pub(crate) failure: Option<SharedFailure>,
}

/// A failed fetch as every process sharing the store sees it.
#[derive(Debug, Clone)]
pub(crate) struct SharedFailure {
    /// The error, without its body excerpt or source.
    pub(crate) error: Error,
    /// When the next attempt may be made (wall clock: it is compared across processes).
    pub(crate) retry_at: SystemTime,
    /// Consecutive failures, for the back-off.
    pub(crate) failures: u32,
}

/// A record as written: the token's secrets are borrowed, never copied.
#[derive(Serialize)]
struct WireRef<'a> {
    v: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<StoredRef<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    revoked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<WireFailure>,
}

/// A record as read: the token's secrets go straight into secret strings.
#[derive(Deserialize)]
struct Wire {
    v: u32,
    #[serde(default)]
    token: Option<Stored>,
    #[serde(default)]
    revoked: bool,
    #[serde(default)]
    failure: Option<WireFailure>,
}

#[derive(Serialize, Deserialize)]
struct WireFailure {
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after_ms: Option<u64>,
    retry_at_ms: u64,
    failures: u32,
}

fn unix_ms(t: SystemTime) -> u64 {
    let ms = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis();
    u64::try_from(ms).unwrap_or(u64::MAX)
}

fn from_unix_ms(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::from_millis(ms))
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

impl Record {
    /// Reads a stored value; `None` when it is not a record of this provider's (it is then
    /// replaced by the next write).
    pub(crate) fn read(provider: &str, value: &SecretString) -> Option<Record> {
        let wire: Wire = serde_json::from_str(value.expose_secret()).ok()?;
        if wire.v != VERSION {
            return None;
        }
        let token = match wire.token {
            Some(token) => Some(Token::from_stored_form(provider, token).ok()?),
            None => None,
        };
        let failure = wire.failure.map(|f| {
            let mut error = Error::new(provider.to_owned(), ErrorKind::from_name(&f.kind));
            if let Some(status) = f.status {
                error = error.with_status(status);
            }
            if let Some(code) = f.code {
                error = error.with_code(code);
            }
            if let Some(description) = f.description {
                error = error.with_description(description);
            }
            if let Some(message) = f.message {
                error = error.with_message(message);
            }
            if let Some(ms) = f.retry_after_ms {
                error = error.with_retry_after(Duration::from_millis(ms));
            }
            SharedFailure {
                error,
                retry_at: from_unix_ms(f.retry_at_ms),
                failures: f.failures,
            }
        });
        Some(Record {
            token,
            revoked: wire.revoked,
            failure,
        })
    }

    /// The value to store. Secret: it holds the token.
    pub(crate) fn write(&self, provider: &str) -> SecretString {
        let wire = WireRef {
            v: VERSION,
            token: self.token.as_ref().map(|t| t.stored_form(provider)),
            revoked: self.revoked,
            failure: self.failure.as_ref().map(|f| WireFailure {
                kind: f.error.kind().name().to_owned(),
                status: f.error.status().map(|s| s.as_u16()),
                code: f.error.code().map(str::to_owned),
                description: f.error.description().map(str::to_owned),
                message: f.error.message().map(str::to_owned),
                retry_after_ms: f
                    .error
                    .retry_after()
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                retry_at_ms: unix_ms(f.retry_at),
                failures: f.failures,
            }),
        };
        // Plain strings and numbers, written into a buffer that is wiped as it grows.
        secret_json(&wire)
            .into_secret_string()
            .unwrap_or_else(|| SecretString::from(String::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Cases: `PROPTEST_CASES` (10,000 in this workspace; `cargo xtask fuzz` runs more).
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        // Store bytes are anyone's: a record is read or refused, never a panic.
        #[test]
        fn any_stored_value_is_read_or_refused(text in ".{0,200}", kind in ".{0,20}", n in any::<u64>()) {
            let _ = Record::read("p", &SecretString::from(text.clone()));
            let shaped = serde_json::json!({
                "v": 2,
                "token": text,
                "revoked": n % 2 == 0,
                "failure": {"kind": kind, "status": n, "retry_at_ms": n, "failures": n, "retry_after_ms": n},
            });
            let _ = Record::read("p", &SecretString::from(shaped.to_string()));
        }
    }

    #[test]
    fn records_round_trip_without_losing_the_failure() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let token = Token::new(SecretString::from("t"), now, now + Duration::from_secs(60));
        let error = Error::new("fake", ErrorKind::RateLimited)
            .with_status(429)
            .with_code("too_many_requests")
            .with_description("slow down")
            .with_retry_after(Duration::from_secs(60));
        let record = Record {
            token: Some(token),
            revoked: true,
            failure: Some(SharedFailure {
                error,
                retry_at: now + Duration::from_secs(60),
                failures: 3,
            }),
        };
        let back = Record::read("fake", &record.write("fake")).unwrap();
        assert!(back.revoked);
        assert_eq!(back.token.unwrap().access_token().expose_secret(), "t");
        let failure = back.failure.unwrap();
        assert_eq!(failure.failures, 3);
        assert_eq!(failure.retry_at, now + Duration::from_secs(60));
        assert_eq!(
            failure.error.to_string(),
            "fake: rate limited (HTTP 429, too_many_requests: slow down, retry after 60s)"
        );
        // Another provider's record, an old format or garbage is no record.
        assert!(Record::read("other", &record.write("fake")).is_none());
        assert!(Record::read("fake", &SecretString::from("{\"v\":1}")).is_none());
        assert!(Record::read("fake", &SecretString::from("not json")).is_none());
    }
}
