//! Reading credentials and settings from environment variables.
//!
//! Provider crates read `ADAUTH_<PROVIDER>_<FIELD>` variables through these helpers, with a
//! lookup function so that tests can supply variables without touching the process
//! environment.

use crate::{Error, Result};

/// Looks a variable up in the process environment. Unset, empty and non-UTF-8 values all
/// read as unset.
pub fn process(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The value of `name`, trimmed; `None` when unset or blank.
pub fn optional(lookup: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The value of `name`, trimmed, or a [`Configuration`](crate::ErrorKind::Configuration)
/// error that names the variable.
pub fn required(
    provider: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Result<String> {
    optional(lookup, name).ok_or_else(|| {
        // A value the process has but that is not UTF-8 is not "unset".
        let why = match std::env::var(name) {
            Err(std::env::VarError::NotUnicode(_)) => "is not valid UTF-8",
            _ => "is not set",
        };
        Error::configuration(
            provider.to_owned(),
            format!("environment variable {name} {why}"),
        )
    })
}

/// Checks that every variable in `names` is set, and otherwise fails with one
/// [`Configuration`](crate::ErrorKind::Configuration) error that lists all of those missing,
/// so that a user fixes them in one go rather than one run at a time.
///
/// ```
/// let lookup = |name: &str| (name == "B").then(|| "x".to_owned());
/// let err = adauth_core::provider_kit::env::require_all("p", &lookup, &["A", "B", "C"]).unwrap_err();
/// assert_eq!(err.to_string(), "p: configuration error: environment variables A and C are not set");
/// ```
pub fn require_all(
    provider: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    names: &[&str],
) -> Result<()> {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| optional(lookup, name).is_none())
        .collect();
    match missing.as_slice() {
        [] => Ok(()),
        [one] => required(provider, lookup, one).map(drop),
        [first @ .., last] => Err(Error::configuration(
            provider.to_owned(),
            format!(
                "environment variables {} and {last} are not set",
                first.join(", ")
            ),
        )),
    }
}

/// A required value that must parse as `T`; the error names the variable but never quotes
/// its value.
pub fn required_parsed<T: std::str::FromStr>(
    provider: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    name: &str,
    expected: &str,
) -> Result<T> {
    required(provider, lookup, name)?.parse().map_err(|_| {
        Error::configuration(
            provider.to_owned(),
            format!("environment variable {name} must be {expected}"),
        )
    })
}

/// An optional value that must parse as `T` when set; the error names the variable but
/// never quotes its value.
pub fn optional_parsed<T: std::str::FromStr>(
    provider: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    name: &str,
    expected: &str,
) -> Result<Option<T>> {
    optional(lookup, name)
        .map(|value| {
            value.parse().map_err(|_| {
                Error::configuration(
                    provider.to_owned(),
                    format!("environment variable {name} must be {expected}"),
                )
            })
        })
        .transpose()
}

/// An optional value that must be one of `choices` (compared without regard to ASCII case)
/// when set; the error names the variable and the choices but never quotes its value.
///
/// ```
/// use adauth_core::provider_kit::env;
///
/// let lookup = |name: &str| (name == "X_MODE").then(|| "Form".to_owned());
/// let mode = env::optional_choice("fyber", &lookup, "X_MODE", &[("json", 1), ("form", 2)]);
/// assert_eq!(mode.unwrap(), Some(2));
/// ```
pub fn optional_choice<T: Copy>(
    provider: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    name: &str,
    choices: &[(&str, T)],
) -> Result<Option<T>> {
    let Some(value) = optional(lookup, name) else {
        return Ok(None);
    };
    if let Some((_, choice)) = choices.iter().find(|(k, _)| k.eq_ignore_ascii_case(&value)) {
        return Ok(Some(*choice));
    }
    let names: Vec<String> = choices.iter().map(|(k, _)| format!("`{k}`")).collect();
    Err(Error::configuration(
        provider.to_owned(),
        format!("environment variable {name} must be {}", names.join(" or ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_missing_or_bad_variable() {
        let lookup = |name: &str| match name {
            "A" => Some(" x ".to_owned()),
            "B" => Some("  ".to_owned()),
            "N" => Some("12a".to_owned()),
            _ => None,
        };
        assert_eq!(required("p", &lookup, "A").unwrap(), "x");
        let err = required("p", &lookup, "B").unwrap_err();
        assert_eq!(
            err.to_string(),
            "p: configuration error: environment variable B is not set"
        );
        let err = required_parsed::<u64>("p", &lookup, "N", "an integer").unwrap_err();
        assert!(err.to_string().contains("N must be an integer"));
        assert!(!err.to_string().contains("12a"));
        assert_eq!(optional(&lookup, "C"), None);
        assert_eq!(
            optional_parsed::<u64>("p", &lookup, "C", "a number").unwrap(),
            None
        );
        assert!(optional_parsed::<u64>("p", &lookup, "N", "a number").is_err());
    }
}
