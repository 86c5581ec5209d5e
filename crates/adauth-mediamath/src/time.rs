//! The few timestamps the session answer carries (`2015-08-20T15:05:10`), read without a
//! date-time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Seconds since the Unix epoch of a JSON timestamp: a number of seconds, or a string
/// `YYYY-MM-DDTHH:MM:SS` (a space may stand for the `T`) with optional fractional seconds and
/// an optional offset (`Z`, `+HH:MM`, `+HHMM`); a string without an offset is read as UTC.
pub(crate) fn timestamp(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => parse(s),
        _ => None,
    }
}

/// `t` as seconds since the Unix epoch (negative before it).
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

fn parse(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| b.get(i) != Some(&c))
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        rest = &fraction[len..];
    }
    let offset = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let pair = |a: u8, b: u8| {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            };
            let minutes = pair(*h1, *h2)? * 60 + pair(*m1, *m2)?;
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset * 60)
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<i64> {
        timestamp(&Value::String(text.to_owned()))
    }

    #[test]
    fn reads_the_session_timestamps() {
        // From MediaMath's SDK fixture.
        assert_eq!(at("2015-08-20T15:05:10"), Some(1_440_083_110));
        assert_eq!(at("2015-08-20 15:05:10"), Some(1_440_083_110));
        assert_eq!(at("2015-08-20T15:05:10.250Z"), Some(1_440_083_110));
        assert_eq!(at("2015-08-20T17:05:10+02:00"), Some(1_440_083_110));
        assert_eq!(at("2015-08-20T10:05:10-0500"), Some(1_440_083_110));
        assert_eq!(at("1970-01-01T00:00:00"), Some(0));
        assert_eq!(at("2000-02-29T00:00:00"), Some(951_782_400));
        assert_eq!(
            timestamp(&serde_json::json!(1_440_083_110)),
            Some(1_440_083_110)
        );
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "",
            "tomorrow",
            "2015-08-20",
            "2015-13-20T15:05:10",
            "2015-08-20T25:05:10",
            "2015-08-20T15:05:10+5",
            "2015-08-20T15:05:10.",
            "2015-08-20T15:05:10 PM",
            "+015-08-20T15:05:10",
            "2015-08-20T15:05:1é",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
        assert_eq!(timestamp(&Value::Bool(true)), None);
    }

    #[test]
    fn unix_seconds_both_sides_of_the_epoch() {
        use std::time::Duration;
        assert_eq!(unix_seconds(UNIX_EPOCH + Duration::from_secs(5)), 5);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(5)), -5);
    }
}
