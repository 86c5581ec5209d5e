//! README tables generated from the provider registry (`adauth::PROVIDERS`): the feature
//! tables, the variable tables and the crate list. Each sits between
//! `<!-- tidy:begin NAME -->` and `<!-- tidy:end NAME -->`; `cargo xtask tidy` fails when one
//! is out of date, and `cargo xtask tidy --fix` rewrites it.

use std::fmt::Write as _;

use adauth::{EnvVar, Provider};

/// Umbrella features that are not providers: name, what it gives, the crate it comes from.
pub(crate) const EXTRA_FEATURE_ROWS: &[(&str, &str, &str)] = &[
    (
        "redis",
        "a Redis token store: one token per credential across machines",
        "adauth-redis",
    ),
    (
        "redis-tls",
        "`rediss://` for the Redis token store (rustls)",
        "adauth-redis",
    ),
    (
        "encryption",
        "`SealedStore` and `StoreKey`: token stores encrypted at rest",
        "adauth-core",
    ),
    (
        "middleware",
        "`adauth::middleware::AuthMiddleware`: the auth as a `reqwest-middleware` middleware",
        "adauth-core",
    ),
    (
        "testkit",
        "`adauth::testkit`: every compiled-in provider's fake, and a sandbox of them",
        "adauth-testkit",
    ),
];

/// Workspace crates that are not providers, as the root README lists them.
const OTHER_CRATES: &[(&str, &str)] = &[
    (
        "adauth",
        "the umbrella: re-exports the core and, per feature, the providers",
    ),
    (
        "adauth-core",
        "token, expiry rules, `TokenSource`, `TokenCache`, the declarative token endpoint, errors, HTTP helpers",
    ),
    ("adauth-redis", "a Redis token store, plain or over TLS"),
    (
        "adauth-testkit",
        "what the providers' fakes are built on, the sandbox, and Redis servers for tests",
    ),
    ("adauth-cli", "the `adauth` command"),
];

/// One generated block: the file it is in, its name, its text.
pub(crate) struct Block {
    pub(crate) file: String,
    pub(crate) name: &'static str,
    pub(crate) text: String,
}

/// The begin marker of block `name`.
pub(crate) fn begin(name: &str) -> String {
    format!("<!-- tidy:begin {name} -->")
}

/// The end marker of block `name`.
pub(crate) fn end(name: &str) -> String {
    format!("<!-- tidy:end {name} -->")
}

/// The directory of a provider's crate.
pub(crate) fn crate_dir(provider: &Provider) -> String {
    format!("crates/adauth-{}", provider.name())
}

/// Every generated block, from the registry.
pub(crate) fn blocks() -> Vec<Block> {
    let providers = adauth::PROVIDERS;
    let mut blocks = vec![
        Block {
            file: "README.md".to_owned(),
            name: "features",
            text: root_features(providers),
        },
        Block {
            file: "README.md".to_owned(),
            name: "crates",
            text: crates(providers),
        },
        Block {
            file: "README.md".to_owned(),
            name: "variables",
            text: all_variables(providers),
        },
        Block {
            file: "crates/adauth/README.md".to_owned(),
            name: "features",
            text: umbrella_features(providers),
        },
    ];
    for provider in providers {
        blocks.push(Block {
            file: format!("{}/README.md", crate_dir(provider)),
            name: "variables",
            text: variables(provider.env_vars()),
        });
    }
    blocks
}

fn root_features(providers: &[&Provider]) -> String {
    let mut out = "| umbrella feature | provider |\n|---|---|\n".to_owned();
    for p in providers {
        let _ = writeln!(out, "| `{}` | {} |", p.name(), p.display_name());
    }
    for (feature, what, krate) in EXTRA_FEATURE_ROWS {
        let _ = writeln!(
            out,
            "| `{feature}` | not a provider: {what} ([`{krate}`](crates/{krate})) |"
        );
    }
    out.push_str("| `full` | every feature above but `testkit` |\n");
    out
}

fn umbrella_features(providers: &[&Provider]) -> String {
    let link = |krate: &str| format!("[`{krate}`](https://crates.io/crates/{krate})");
    let mut out = "| feature | provider | crate |\n|---|---|---|\n".to_owned();
    for p in providers {
        let krate = format!("adauth-{}", p.name());
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            p.name(),
            p.display_name(),
            link(&krate)
        );
    }
    for (feature, what, krate) in EXTRA_FEATURE_ROWS {
        let _ = writeln!(out, "| `{feature}` | {what} | {} |", link(krate));
    }
    out.push_str("| `full` | every feature above but `testkit` | |\n");
    out
}

fn crates(providers: &[&Provider]) -> String {
    let mut out = "| crate | what |\n|---|---|\n".to_owned();
    let row = |out: &mut String, krate: &str, what: &str| {
        let _ = writeln!(out, "| [`{krate}`](crates/{krate}) | {what} |");
    };
    for (krate, what) in &OTHER_CRATES[..2] {
        row(&mut out, krate, what);
    }
    for p in providers {
        row(
            &mut out,
            &format!("adauth-{}", p.name()),
            &format!(
                "{}: its source, its descriptor and its fake",
                p.display_name()
            ),
        );
    }
    for (krate, what) in &OTHER_CRATES[2..] {
        row(&mut out, krate, what);
    }
    out
}

fn all_variables(providers: &[&Provider]) -> String {
    let mut out = "| provider | variable | | what |\n|---|---|---|---|\n".to_owned();
    for p in providers {
        for (i, var) in p.env_vars().iter().enumerate() {
            let name = if i == 0 { p.display_name() } else { "" };
            let _ = writeln!(
                out,
                "| {name} | `{}` | {} | {} |",
                var.name(),
                need(var),
                var.description()
            );
        }
    }
    out
}

fn variables(vars: &[EnvVar]) -> String {
    let mut out = "| variable | | what |\n|---|---|---|\n".to_owned();
    for var in vars {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            var.name(),
            need(var),
            var.description()
        );
    }
    out
}

fn need(var: &EnvVar) -> &'static str {
    match (var.is_required(), var.is_secret()) {
        (true, true) => "required, secret",
        (true, false) => "required",
        (false, true) => "optional, secret",
        (false, false) => "optional",
    }
}

/// The text between `name`'s markers in `text`; `None` if the markers are missing.
pub(crate) fn current<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let begin = begin(name);
    let start = text.find(&begin)? + begin.len();
    let stop = text[start..].find(&end(name))? + start;
    Some(text[start..stop].trim_start_matches('\n'))
}

/// `text` with `name`'s block replaced by `block`; `None` if the markers are missing.
pub(crate) fn replace(text: &str, name: &str, block: &str) -> Option<String> {
    let begin = begin(name);
    let start = text.find(&begin)? + begin.len();
    let stop = text[start..].find(&end(name))? + start;
    Some(format!("{}\n{block}{}", &text[..start], &text[stop..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_through_their_markers() {
        let text = format!("a\n{}\nold\n{}\nb\n", begin("x"), end("x"));
        assert_eq!(current(&text, "x"), Some("old\n"));
        let new = replace(&text, "x", "| new |\n").unwrap();
        assert_eq!(current(&new, "x"), Some("| new |\n"));
        assert!(new.starts_with("a\n") && new.ends_with("\nb\n"), "{new}");
        assert_eq!(current("no markers", "x"), None);
    }

    #[test]
    fn every_registered_provider_and_variable_is_in_the_tables() {
        let blocks = blocks();
        for p in adauth::PROVIDERS {
            let root = &blocks.iter().find(|b| b.name == "variables").unwrap().text;
            for var in p.env_vars() {
                assert!(root.contains(var.name()), "{root}");
            }
            assert!(blocks[0].text.contains(&format!("| `{}` |", p.name())));
        }
    }
}
