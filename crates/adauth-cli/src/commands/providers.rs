//! `adauth providers`: the providers compiled in and which of their variables are set.

use std::fmt::Write as _;

use crate::Failure;

/// Prints each provider and its variables, marked `set` or `not set` (never a value).
pub(crate) fn run() -> Result<(), Failure> {
    print!(
        "{}",
        listing(&|name| adauth::provider_kit::env::optional(
            &adauth::provider_kit::env::process,
            name
        )
        .is_some())
    );
    Ok(())
}

/// The variables that choose where tokens are shared, listed after the providers.
const STORE_VARS: &[adauth::EnvVar] = &[
    adauth::EnvVar::optional(
        adauth_redis::ENV_URL,
        "the Redis server to share tokens through",
    ),
    adauth::EnvVar::optional(
        adauth_redis::ENV_CLUSTER_URLS,
        "the seed nodes of a Redis Cluster to share tokens through",
    ),
    adauth::EnvVar::optional(adauth_redis::ENV_CA_FILE, "the CA of a `rediss://` server"),
    adauth::EnvVar::optional(adauth::STORE_KEY_VAR, "the key that seals stored tokens"),
    adauth::EnvVar::optional("ADAUTH_CACHE_DIR", "the disk cache's directory"),
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
        .map(|v| v.name().len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (name, vars) in sections {
        let _ = writeln!(out, "{name}");
        for var in vars {
            let state = if is_set(var.name()) { "set" } else { "not set" };
            let need = if var.is_required() {
                "required"
            } else {
                "optional"
            };
            let _ = writeln!(out, "  {:<width$}  {need}  {state}", var.name());
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
        for p in adauth::PROVIDERS {
            assert!(out.lines().any(|l| l == p.name()), "{out}");
        }
        assert!(!adauth::PROVIDERS.is_empty());
        let line = |var: &str| {
            out.lines()
                .find(|l| l.trim_start().starts_with(var))
                .unwrap()
        };
        assert!(
            line("ADAUTH_FYBER_CLIENT_ID ").ends_with("  required  set"),
            "{out}"
        );
        assert!(line("ADAUTH_FYBER_BASE_URL").ends_with("not set"), "{out}");
        assert!(out.contains("\ntoken store\n"), "{out}");
        assert!(line("ADAUTH_REDIS_URL").ends_with("not set"), "{out}");
        assert!(line("ADAUTH_CACHE_DIR").ends_with("not set"), "{out}");
    }
}
