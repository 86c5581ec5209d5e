//! `adauth providers`: the providers compiled in and which of their variables are set.

use std::fmt::Write as _;

use crate::Failure;

/// Prints each provider and its variables, marked `set` or `not set` (never a value).
pub(crate) fn run() -> Result<(), Failure> {
    print!(
        "{}",
        listing(&|name| adauth::env::optional(&adauth::env::process, name).is_some())
    );
    Ok(())
}

/// The variables that choose where tokens are shared, listed after the providers.
const STORE_VARS: &[&str] = &[
    adauth_redis::ENV_URL,
    adauth_redis::ENV_CA_FILE,
    adauth::STORE_KEY_VAR,
    "ADAUTH_CACHE_DIR",
];

/// The listing, with `is_set` saying whether a variable has a value.
fn listing(is_set: &dyn Fn(&str) -> bool) -> String {
    let sections = adauth::PROVIDERS
        .iter()
        .map(|p| (p.name(), p.env_vars()))
        .chain([("token store", STORE_VARS)]);
    let width = sections
        .clone()
        .flat_map(|(_, vars)| vars)
        .map(|v| v.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (name, vars) in sections {
        let _ = writeln!(out, "{name}");
        for var in vars {
            let state = if is_set(var) { "set" } else { "not set" };
            let _ = writeln!(out, "  {var:<width$}  {state}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_provider_and_marks_variables() {
        let out = listing(&|name| name == "ADAUTH_FYBER_CLIENT_ID");
        for name in ["mediago", "mediamath", "admitad", "fyber", "adgem"] {
            assert!(out.lines().any(|l| l == name), "{out}");
        }
        let line = |var: &str| {
            out.lines()
                .find(|l| l.trim_start().starts_with(var))
                .unwrap()
        };
        assert!(line("ADAUTH_FYBER_CLIENT_ID ").ends_with("  set"), "{out}");
        assert!(line("ADAUTH_FYBER_BASE_URL").ends_with("not set"), "{out}");
        assert!(out.contains("\ntoken store\n"), "{out}");
        assert!(line("ADAUTH_REDIS_URL").ends_with("not set"), "{out}");
        assert!(line("ADAUTH_CACHE_DIR").ends_with("not set"), "{out}");
    }
}
