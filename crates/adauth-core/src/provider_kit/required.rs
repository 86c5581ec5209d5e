//! Checks of required builder fields, shared by the provider crates so every provider
//! reports a missing setting the same way.

use secrecy::{ExposeSecret, SecretString};

use crate::{Error, Result};

/// `value`, trimmed, or a [`Configuration`](crate::ErrorKind::Configuration) error
/// `"<what> is required"` when it is missing or blank.
pub fn required_text(provider: &str, value: Option<String>, what: &str) -> Result<String> {
    value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing(provider, what))
}

/// `value`, or a [`Configuration`](crate::ErrorKind::Configuration) error
/// `"<what> is required"` when it is missing or empty. Secrets are kept exactly as given.
pub fn required_secret(
    provider: &str,
    value: Option<SecretString>,
    what: &str,
) -> Result<SecretString> {
    value
        .filter(|s| !s.expose_secret().is_empty())
        .ok_or_else(|| missing(provider, what))
}

/// The [`Configuration`](crate::ErrorKind::Configuration) error for a missing setting.
pub fn missing(provider: &str, what: &str) -> Error {
    Error::configuration(provider.to_owned(), format!("{what} is required"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_missing_values_are_named() {
        assert_eq!(
            required_text("p", Some(" id ".into()), "client_id").unwrap(),
            "id"
        );
        let err = required_text("p", Some("  ".into()), "client_id").unwrap_err();
        assert_eq!(
            err.to_string(),
            "p: configuration error: client_id is required"
        );
        assert!(required_secret("p", Some(SecretString::from("")), "client_secret").is_err());
        assert!(required_secret("p", None, "client_secret").is_err());
        assert!(required_secret("p", Some(SecretString::from(" s ")), "x").is_ok());
    }
}
