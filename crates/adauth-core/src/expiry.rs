use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::{Error, Result};

/// The `expires_in` field of a token response, exactly as the provider sent it.
///
/// Providers send a number (`3600`), sometimes a numeric string (`"3600"`), sometimes a
/// float, sometimes nothing. `ExpiresIn` accepts all of these when deserializing and never
/// fails: a value that is not a number is kept so that [`ExpiryPolicy::expires_at`] can report
/// it. Use it as `Option<ExpiresIn>` with `#[serde(default)]` in a wire type.
///
/// ```
/// use adauth_core::ExpiresIn;
///
/// let v: ExpiresIn = serde_json::from_str(r#""3600""#).unwrap();
/// assert_eq!(v.seconds(), Some(3600));
/// let v: ExpiresIn = serde_json::from_str("-1").unwrap();
/// assert_eq!(v.seconds(), Some(-1));
/// let v: ExpiresIn = serde_json::from_str(r#""soon""#).unwrap();
/// assert_eq!(v.seconds(), None);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ExpiresIn(Repr);

#[derive(Clone, PartialEq, Eq)]
enum Repr {
    Seconds(i128),
    /// What was sent, cut to 32 characters: shown by `Debug` only.
    NotANumber(String),
}

impl ExpiresIn {
    /// A lifetime of `seconds` (which may be zero or negative, as a provider might send).
    pub fn from_seconds(seconds: i128) -> Self {
        Self(Repr::Seconds(seconds))
    }

    /// The number of seconds, or `None` if the provider sent something that is not a number.
    pub fn seconds(&self) -> Option<i128> {
        match &self.0 {
            Repr::Seconds(s) => Some(*s),
            Repr::NotANumber(_) => None,
        }
    }

    fn from_text(text: &str) -> Self {
        let trimmed = text.trim();
        if let Ok(n) = trimmed.parse::<i128>() {
            return Self(Repr::Seconds(n));
        }
        match trimmed.parse::<f64>() {
            Ok(f) if f.is_finite() => Self::from_float(f),
            _ => Self(Repr::NotANumber(text.chars().take(32).collect())),
        }
    }

    fn from_float(f: f64) -> Self {
        if f.is_finite() {
            // `as` saturates, so even 1e300 becomes a (huge, later clamped) integer.
            Self(Repr::Seconds(f.trunc() as i128))
        } else {
            Self(Repr::NotANumber(f.to_string()))
        }
    }
}

impl fmt::Debug for ExpiresIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Seconds(s) => write!(f, "ExpiresIn({s})"),
            Repr::NotANumber(t) => write!(f, "ExpiresIn({t:?})"),
        }
    }
}

impl<'de> Deserialize<'de> for ExpiresIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ExpiresIn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of seconds, as a number or a string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ExpiresIn, E> {
                Ok(ExpiresIn::from_seconds(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ExpiresIn, E> {
                Ok(ExpiresIn::from_seconds(v.into()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<ExpiresIn, E> {
                Ok(ExpiresIn::from_seconds(v))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<ExpiresIn, E> {
                Ok(ExpiresIn::from_seconds(
                    i128::try_from(v).unwrap_or(i128::MAX),
                ))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ExpiresIn, E> {
                Ok(ExpiresIn::from_float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ExpiresIn, E> {
                Ok(ExpiresIn::from_text(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ExpiresIn, E> {
                Ok(ExpiresIn(Repr::NotANumber(v.to_string())))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// How a token's absolute expiry is worked out from what the provider sent.
///
/// The expiry is stamped from `issued_at`, the moment *before* the token request was sent,
/// so time spent on the network only ever makes adauth think the token expires sooner.
///
/// | `expires_in`                     | expiry                                                   |
/// |----------------------------------|----------------------------------------------------------|
/// | positive number or numeric string | `issued_at + expires_in`, at most `issued_at + max_lifetime` |
/// | missing, `null`, zero or negative | the access token's JWT `exp` claim when it has one in the future (at most `max_lifetime` away), otherwise `issued_at +` the [assumed lifetime](ExpiryPolicy::assumed_lifetime) |
/// | anything else (`"soon"`, `true`)  | an [`ErrorKind::UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse) error |
///
/// Zero and negative values are read as "unknown" rather than "already expired": a token
/// that is expired on arrival would make every caller fetch again at once.
///
/// Defaults: the assumed lifetime is the provider's documented one (Mediago 1 hour, say),
/// or 5 minutes for a source that documents none (short, so a token of unknown life is
/// renewed early rather than used after it died); `max_lifetime` 30 days.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use adauth_core::{ExpiresIn, ExpiryPolicy};
/// use secrecy::SecretString;
///
/// let policy = ExpiryPolicy::default();
/// let issued = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let token = SecretString::from("opaque");
/// let at = policy
///     .expires_at("fyber", issued, Some(&ExpiresIn::from_seconds(3600)), &token)
///     .unwrap();
/// assert_eq!(at, issued + Duration::from_secs(3600));
/// let at = policy.expires_at("fyber", issued, None, &token).unwrap();
/// assert_eq!(at, issued + Duration::from_secs(300));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryPolicy {
    /// Set by the user: beats the provider's documented lifetime.
    default_lifetime: Option<Duration>,
    /// The provider's documented lifetime ([`TokenSource::documented_lifetime`]).
    ///
    /// [`TokenSource::documented_lifetime`]: crate::TokenSource::documented_lifetime
    documented_lifetime: Option<Duration>,
    max_lifetime: Duration,
    use_jwt_exp: bool,
}

/// The lifetime assumed for a token whose provider says nothing of it, nor documents one.
pub const FALLBACK_LIFETIME: Duration = Duration::from_secs(5 * 60);

impl Default for ExpiryPolicy {
    fn default() -> Self {
        Self {
            default_lifetime: None,
            documented_lifetime: None,
            max_lifetime: Duration::from_secs(30 * 24 * 60 * 60),
            use_jwt_exp: true,
        }
    }
}

impl ExpiryPolicy {
    /// The lifetime assumed when the provider gives none, in place of the provider's
    /// documented lifetime (at least 1 s). Without it: the documented lifetime, else
    /// [`FALLBACK_LIFETIME`] (5 minutes).
    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = Some(lifetime.max(Duration::from_secs(1)));
        self
    }

    /// The lifetime the provider documents for its tokens, assumed when an answer gives
    /// none and no [`default_lifetime`](Self::default_lifetime) is set. A
    /// [`TokenCache`](crate::TokenCache) sets it from its source's
    /// [`documented_lifetime`](crate::TokenSource::documented_lifetime).
    pub fn documented_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.documented_lifetime = lifetime.map(|l| l.max(Duration::from_secs(1)));
        self
    }

    /// The lifetime assumed for a token of unknown life: the
    /// [`default_lifetime`](Self::default_lifetime) if set, else the documented one, else
    /// [`FALLBACK_LIFETIME`].
    pub fn assumed_lifetime(&self) -> Duration {
        self.default_lifetime
            .or(self.documented_lifetime)
            .unwrap_or(FALLBACK_LIFETIME)
    }

    /// The longest lifetime believed; longer ones are cut to it (default 30 days; at least 1 s).
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_lifetime = lifetime.max(Duration::from_secs(1));
        self
    }

    /// Whether a JWT access token's `exp` claim is read when `expires_in` is unusable
    /// (default `true`). The token's signature is not checked: the claim is only a hint.
    pub fn use_jwt_exp(mut self, yes: bool) -> Self {
        self.use_jwt_exp = yes;
        self
    }

    /// Works out when a token issued at `issued_at` expires; see the table above.
    pub fn expires_at(
        &self,
        provider: &str,
        issued_at: SystemTime,
        expires_in: Option<&ExpiresIn>,
        access_token: &SecretString,
    ) -> Result<SystemTime> {
        let max = self.max_lifetime;
        let latest = issued_at.checked_add(max).unwrap_or(issued_at);
        match expires_in.map(|e| &e.0) {
            Some(Repr::Seconds(s)) if *s > 0 => {
                let secs = u64::try_from(*s).unwrap_or(u64::MAX);
                let lifetime = Duration::from_secs(secs).min(max);
                Ok(issued_at.checked_add(lifetime).unwrap_or(latest))
            }
            // The value itself is not repeated: errors never quote what a provider sent in
            // a token response.
            Some(Repr::NotANumber(_)) => Err(Error::unexpected(
                provider.to_owned(),
                "the token lifetime (`expires_in`) is not a number of seconds",
            )),
            _ => {
                let from_jwt = self
                    .use_jwt_exp
                    .then(|| jwt_expiry(access_token.expose_secret()))
                    .flatten()
                    .filter(|exp| *exp > issued_at)
                    .map(|exp| exp.min(latest));
                Ok(from_jwt.unwrap_or_else(|| {
                    issued_at
                        .checked_add(self.assumed_lifetime().min(max))
                        .unwrap_or(latest)
                }))
            }
        }
    }
}

/// Reads the `exp` claim of a JWT without checking its signature.
pub(crate) fn jwt_expiry(token: &str) -> Option<SystemTime> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(payload).ok()?;
    #[derive(serde::Deserialize)]
    struct Claims {
        exp: Option<ExpiresIn>,
    }
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    let exp = u64::try_from(claims.exp?.seconds()?).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(exp))
}

/// When a cached token is renewed ahead of its expiry.
///
/// A token is *renewed ahead* once it enters its refresh window, while callers keep being
/// served the still-valid token; it is *expired* for adauth a small safety margin before its
/// real expiry, after which callers wait for a new one.
///
/// The window is a share of the token's lifetime, bounded: by default 10% of the lifetime,
/// at least 30 s and at most 30 minutes, so a 1-hour token is renewed about 6 minutes early
/// and a 7-day token 30 minutes early. On top of the window each token gets a random
/// extra lead of up to half the window (`jitter`), so many processes holding tokens issued at
/// the same moment do not all renew at the same instant. The window never exceeds half the
/// lifetime, and the safety margin (default 10 s) never exceeds a quarter of it, so even a
/// very short-lived token is used for a while before it is renewed.
///
/// ```
/// use std::time::Duration;
/// use adauth_core::RefreshPolicy;
///
/// let policy = RefreshPolicy::default()
///     .window_fraction(0.2)
///     .min_window(Duration::from_secs(60))
///     .max_window(Duration::from_secs(3600))
///     .jitter(0.0);
/// # let _ = policy;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshPolicy {
    fraction: f64,
    min_window: Duration,
    max_window: Duration,
    jitter: f64,
    margin: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            fraction: 0.1,
            min_window: Duration::from_secs(30),
            max_window: Duration::from_secs(30 * 60),
            jitter: 0.5,
            margin: Duration::from_secs(10),
        }
    }
}

/// When one cached token is to be renewed and when it stops being served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshSchedule {
    /// From this instant, a renewal starts in the background.
    pub refresh_at: SystemTime,
    /// From this instant, the token is no longer served.
    pub usable_until: SystemTime,
}

fn unit_interval(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
}

impl RefreshPolicy {
    /// The share of the token's lifetime used as the refresh window, from 0 to 1 (default 0.1).
    pub fn window_fraction(mut self, fraction: f64) -> Self {
        self.fraction = unit_interval(fraction);
        self
    }

    /// The shortest refresh window (default 30 s).
    pub fn min_window(mut self, window: Duration) -> Self {
        self.min_window = window;
        self.max_window = self.max_window.max(window);
        self
    }

    /// The longest refresh window (default 30 minutes).
    pub fn max_window(mut self, window: Duration) -> Self {
        self.max_window = window;
        self.min_window = self.min_window.min(window);
        self
    }

    /// The random extra lead, as a share of the window from 0 to 1 (default 0.5).
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = unit_interval(jitter);
        self
    }

    /// How long before its real expiry a token stops being served (default 10 s).
    pub fn safety_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The schedule for a token issued at `issued_at` and expiring at `expires_at`, with
    /// `random` (from 0 to 1) choosing the jitter.
    pub fn schedule(
        &self,
        issued_at: SystemTime,
        expires_at: SystemTime,
        random: f64,
    ) -> RefreshSchedule {
        let lifetime = expires_at
            .duration_since(issued_at)
            .unwrap_or(Duration::ZERO);
        let margin = self.margin.min(lifetime / 4);
        let window = lifetime
            .mul_f64(self.fraction)
            .clamp(self.min_window, self.max_window)
            .min(lifetime / 2);
        let lead = (window + window.mul_f64(self.jitter * unit_interval(random)))
            .min(lifetime / 2)
            .max(margin);
        RefreshSchedule {
            refresh_at: expires_at.checked_sub(lead).unwrap_or(issued_at),
            usable_until: expires_at.checked_sub(margin).unwrap_or(issued_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn jwt(exp: u64) -> SecretString {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = b64.encode(format!(r#"{{"iat":1,"exp":{exp}}}"#));
        SecretString::from(format!("eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln"))
    }

    fn parse(json: &str) -> Option<ExpiresIn> {
        #[derive(serde::Deserialize)]
        struct Wire {
            #[serde(default)]
            expires_in: Option<ExpiresIn>,
        }
        serde_json::from_str::<Wire>(json).unwrap().expires_in
    }

    #[test]
    fn expires_in_documented_cases() {
        let p = ExpiryPolicy::default();
        let opaque = SecretString::from("opaque");
        let at = |json: &str| p.expires_at("x", t0(), parse(json).as_ref(), &opaque);
        let secs = |n: u64| Ok(t0() + Duration::from_secs(n));
        assert_eq!(at(r#"{"expires_in":3600}"#).map_err(|_| ()), secs(3600));
        assert_eq!(at(r#"{"expires_in":"3600"}"#).map_err(|_| ()), secs(3600));
        assert_eq!(at(r#"{"expires_in":" 3600 "}"#).map_err(|_| ()), secs(3600));
        assert_eq!(at(r#"{"expires_in":3600.9}"#).map_err(|_| ()), secs(3600));
        // Zero, negative, missing and null: the default lifetime.
        for json in [
            r#"{"expires_in":0}"#,
            r#"{"expires_in":-1}"#,
            r#"{"expires_in":"-1"}"#,
            r#"{}"#,
            r#"{"expires_in":null}"#,
        ] {
            assert_eq!(at(json).map_err(|_| ()), secs(300), "{json}");
        }
        // Huge values are clamped to the maximum, without overflow.
        let max = secs(30 * 24 * 3600);
        assert_eq!(
            at(&format!(r#"{{"expires_in":{}}}"#, u64::MAX)).map_err(|_| ()),
            max
        );
        assert_eq!(at(r#"{"expires_in":1e300}"#).map_err(|_| ()), max);
        assert_eq!(
            at(r#"{"expires_in":"340282366920938463463374607431768211455"}"#).map_err(|_| ()),
            max
        );
        // Not a number: a clear error naming the field.
        let err = at(r#"{"expires_in":"soon"}"#).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::UnexpectedResponse);
        assert!(
            err.to_string().contains("(`expires_in`) is not a number"),
            "{err}"
        );
        assert!(!err.to_string().contains("soon"), "{err}");
        assert!(at(r#"{"expires_in":true}"#).is_err());
    }

    #[test]
    fn jwt_exp_fills_in_for_a_missing_expires_in() {
        let p = ExpiryPolicy::default();
        let exp = 1_700_000_000 + 900;
        let token = jwt(exp);
        assert_eq!(
            p.expires_at("x", t0(), None, &token).unwrap(),
            UNIX_EPOCH + Duration::from_secs(exp)
        );
        assert_eq!(
            p.expires_at("x", t0(), Some(&ExpiresIn::from_seconds(0)), &token)
                .unwrap(),
            UNIX_EPOCH + Duration::from_secs(exp)
        );
        // A JWT that has already expired (server clock skew) is not believed.
        let stale = jwt(1_600_000_000);
        assert_eq!(
            p.expires_at("x", t0(), None, &stale).unwrap(),
            t0() + Duration::from_secs(300)
        );
        // Disabled: the default lifetime.
        let p = p.use_jwt_exp(false);
        assert_eq!(
            p.expires_at("x", t0(), None, &token).unwrap(),
            t0() + Duration::from_secs(300)
        );
        assert_eq!(jwt_expiry("not.a.jwt"), None);
        assert_eq!(jwt_expiry("a.b"), None);
    }

    #[test]
    fn refresh_window_suits_short_and_long_tokens() {
        let p = RefreshPolicy::default().jitter(0.0);
        let hour = p.schedule(t0(), t0() + Duration::from_secs(3600), 0.5);
        assert_eq!(hour.refresh_at, t0() + Duration::from_secs(3600 - 360));
        assert_eq!(hour.usable_until, t0() + Duration::from_secs(3590));
        let week = 7 * 24 * 3600;
        let week_s = p.schedule(t0(), t0() + Duration::from_secs(week), 0.5);
        assert_eq!(week_s.refresh_at, t0() + Duration::from_secs(week - 1800));
        // A 4-second token: window and margin shrink to fit.
        let tiny = p.schedule(t0(), t0() + Duration::from_secs(4), 0.5);
        assert_eq!(tiny.refresh_at, t0() + Duration::from_secs(2));
        assert_eq!(tiny.usable_until, t0() + Duration::from_secs(3));
        // Already expired at issue: nothing panics.
        let dead = p.schedule(t0(), t0() - Duration::from_secs(5), 0.5);
        assert!(dead.refresh_at <= dead.usable_until);
    }

    #[test]
    fn jitter_spreads_refreshes_within_half_a_window() {
        let p = RefreshPolicy::default();
        let exp = t0() + Duration::from_secs(3600);
        let early = p.schedule(t0(), exp, 1.0).refresh_at;
        let late = p.schedule(t0(), exp, 0.0).refresh_at;
        assert_eq!(late, exp - Duration::from_secs(360));
        assert_eq!(early, exp - Duration::from_secs(540));
        // Out-of-range inputs are clamped, never a panic.
        let odd = RefreshPolicy::default()
            .window_fraction(f64::NAN)
            .jitter(7.0);
        let s = odd.schedule(t0(), exp, f64::INFINITY);
        assert!(s.refresh_at <= s.usable_until);
    }
}
