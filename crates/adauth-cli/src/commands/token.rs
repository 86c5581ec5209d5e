//! `adauth token`: print an access token, as `gcloud auth print-access-token` does.

use std::sync::Arc;
use std::time::SystemTime;

use adauth::secrecy::ExposeSecret;
use adauth::{Token, TokenSource};
use clap::{Args, ValueEnum};

use crate::cache::{self, Mode, unix_seconds};
use crate::{Failure, note};

/// Arguments of `adauth token`.
#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    /// The provider.
    #[arg(value_parser = crate::commands::provider_names(), ignore_case = true)]
    provider: String,

    /// What to print.
    #[arg(long, value_enum, default_value_t = Format::Raw)]
    format: Format,

    /// Neither read nor write the token store (the disk cache).
    #[arg(long, conflicts_with = "force_refresh")]
    no_cache: bool,

    /// Fetch a new token even if the store holds a valid one, and store it in its place.
    #[arg(long)]
    force_refresh: bool,
}

/// The output formats of `adauth token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// The access token alone, on one line.
    Raw,
    /// A JSON object: provider, access_token, token_type, expires_at, expires_in, scope.
    Json,
    /// The header lines an API request needs, one per line.
    Header,
}

/// Gets a token and prints it in the chosen format.
pub(crate) async fn run(
    args: &TokenArgs,
    profile: Option<&str>,
    verbose: bool,
) -> Result<(), Failure> {
    let provider = super::provider(&args.provider)?;
    let mode = if args.force_refresh {
        Mode::Replace
    } else {
        Mode::ReadWrite
    };
    let opened = super::open(provider, profile, !args.no_cache, verbose).await?;
    let cache = &opened.cache;
    let token = match (&opened.shared, mode) {
        (Some(shared), Mode::Replace) => Arc::new(cache::replace(cache, shared, verbose).await?),
        _ => cache.token().await?.into_arc(),
    };
    if let Some(shared) = &opened.shared
        && !opened.activity.used_network()
    {
        note!(
            verbose,
            "served from the {} (expires in {} s)",
            shared.name,
            token.expires_in(SystemTime::now()).as_secs()
        );
    }
    let out = match args.format {
        Format::Raw => format!("{}\n", token.access_token().expose_secret()),
        Format::Json => format!("{}\n", json(provider.name(), &token, SystemTime::now())),
        Format::Header => header_lines(&**cache.source(), &token)?,
    };
    print!("{out}");
    Ok(())
}

/// The JSON form, keys in a fixed order; `scope` only when known.
fn json(provider: &str, token: &Token, now: SystemTime) -> String {
    let s = |v: &str| serde_json::Value::from(v).to_string();
    let mut out = format!(
        "{{\"provider\":{},\"access_token\":{},\"token_type\":{},\"expires_at\":{},\"expires_in\":{}",
        s(provider),
        s(token.access_token().expose_secret()),
        s(token.token_type()),
        s(&rfc3339(unix_seconds(token.expires_at()))),
        token.expires_in(now).as_secs(),
    );
    if let Some(scope) = token.scope() {
        out.push_str(&format!(",\"scope\":{}", s(scope)));
    }
    out.push('}');
    out
}

/// The headers the source puts on a request, as `Name: value` lines: from
/// [`TokenSource::authorize_headers`], so every provider's extras appear (and no HTTP client
/// is built to print them).
fn header_lines(source: &dyn TokenSource, token: &Token) -> Result<String, Failure> {
    let mut headers = adauth::reqwest::header::HeaderMap::new();
    source.authorize_headers(&mut headers, token)?;
    let mut out = String::new();
    for (name, value) in &headers {
        let value = value
            .to_str()
            .map_err(|_| Failure::other(format!("header {name} is not printable")))?;
        out.push_str(&format!("{}: {value}\n", title_case(name.as_str())));
    }
    Ok(out)
}

/// `account-id` as `Account-Id`: header names are case-insensitive, this is how people
/// write them.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Unix seconds as RFC 3339 in UTC: `2026-11-23T13:00:00Z`.
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // d is 1..=31 and m 1..=12.
    (y, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_formats_utc_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_438_800), "2026-11-23T13:00:00Z");
        assert_eq!(rfc3339(951_868_799), "2000-02-29T23:59:59Z");
        assert_eq!(rfc3339(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn header_names_are_title_cased() {
        assert_eq!(title_case("authorization"), "Authorization");
        assert_eq!(title_case("account-id"), "Account-Id");
    }

    #[test]
    fn json_has_scope_only_when_known() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_435_200);
        let token = Token::new("tok".to_owned().into(), t0, t0 + Duration::from_secs(3600));
        let plain: serde_json::Value = serde_json::from_str(&json("example", &token, t0)).unwrap();
        assert_eq!(
            plain,
            serde_json::json!({
                "provider": "example", "access_token": "tok", "token_type": "Bearer",
                "expires_at": "2026-11-23T13:00:00Z", "expires_in": 3600
            })
        );
        let scoped = json("example", &token.with_scope("reports"), t0);
        assert!(scoped.ends_with(",\"scope\":\"reports\"}"), "{scoped}");
    }
}
