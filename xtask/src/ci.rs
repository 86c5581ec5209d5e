//! The `ci` and `features` tasks: the checks CI runs, in order.

use std::time::Instant;

use crate::Failure;
use crate::cmd::{Cmd, on_ci, project_root, say};

/// Manifest of the umbrella crate whose features are checked one by one.
const UMBRELLA_MANIFEST: &str = "crates/adauth/Cargo.toml";

/// Package name of the umbrella crate.
const UMBRELLA: &str = "adauth";

/// Features of the umbrella crate that are not checked on their own:
/// `default` is covered by `--no-default-features` plus the single features,
/// and `full` by `--all-features`.
const SKIPPED_FEATURES: &[&str] = &["default", "full"];

/// Umbrella features that switch on a feature of another crate rather than a crate of
/// their own: the crate each one must pull in.
const FEATURES_OF_OTHER_CRATES: &[(&str, &str)] = &[
    ("redis-tls", "adauth-redis"),
    ("encryption", "adauth-core"),
    ("middleware", "adauth-core"),
];

/// Runs `cargo xtask ci [--skip-tests]`.
pub(crate) fn run(args: &[String]) -> Result<(), Failure> {
    let mut skip_tests = false;
    for arg in args {
        match arg.as_str() {
            "--skip-tests" => skip_tests = true,
            other => {
                return Err(Failure::Usage(format!(
                    "unknown option `{other}` for task `ci`"
                )));
            }
        }
    }

    let start = Instant::now();
    crate::tidy::run(false)?;
    Cmd::cargo(["fmt", "--all", "--", "--check"]).run_step("fmt")?;
    Cmd::cargo([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ])
    .run_step("clippy")?;
    if skip_tests {
        say("test: skipped (--skip-tests)");
    } else {
        Cmd::cargo(["test", "--workspace", "--all-features"]).run_step("test")?;
    }
    examples()?;
    Cmd::cargo(["doc", "--workspace", "--all-features", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .run_step("doc")?;
    // docs.rs builds with `--cfg docsrs` on nightly, where `feature(doc_cfg)` is allowed;
    // RUSTC_BOOTSTRAP=1 lets this stable toolchain build the same way.
    Cmd::cargo(["doc", "--workspace", "--all-features", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings --cfg docsrs")
        .env("RUSTC_BOOTSTRAP", "1")
        .run_step("doc (docs.rs)")?;
    features()?;
    crate::msrv::run()?;
    let deny_ran = deny()?;
    let secs = start.elapsed().as_secs_f64();
    if deny_ran {
        say(&format!("ci: all checks passed ({secs:.1}s)"));
    } else {
        say(&format!(
            "ci: all checks passed EXCEPT cargo-deny, which was skipped ({secs:.1}s)"
        ));
    }
    Ok(())
}

/// Runs each registered provider's example (`crates/adauth/examples/<provider>.rs`)
/// against its fake, all from one build.
fn examples() -> Result<(), Failure> {
    for provider in adauth::PROVIDERS {
        Cmd::cargo([
            "run",
            "--quiet",
            "-p",
            UMBRELLA,
            "--features",
            "full,testkit",
            "--example",
            provider.name(),
        ])
        .run_step("examples")?;
    }
    Ok(())
}

/// Runs `cargo xtask features`: checks the umbrella crate with no features,
/// with each feature alone, and with all of them.
pub(crate) fn features() -> Result<(), Failure> {
    let path = project_root().join(UMBRELLA_MANIFEST);
    let manifest = std::fs::read_to_string(&path)
        .map_err(|err| Failure::Other(format!("cannot read {}: {err}", path.display())))?;
    let features = feature_names(&manifest);

    Cmd::cargo(["check", "-p", UMBRELLA, "--no-default-features"]).run_step("features")?;
    for feature in features
        .iter()
        .filter(|f| !SKIPPED_FEATURES.contains(&f.as_str()))
    {
        Cmd::cargo([
            "check",
            "-p",
            UMBRELLA,
            "--no-default-features",
            "--features",
            feature,
        ])
        .run_step("features")?;
    }
    Cmd::cargo(["check", "-p", UMBRELLA, "--all-features"]).run_step("features")?;
    isolation(&features)
}

/// Checks that each provider feature of the umbrella pulls in its own provider crate
/// (`adauth-<feature>`) and no other one, and that no feature pulls in none.
fn isolation(features: &[String]) -> Result<(), Failure> {
    let crate_of =
        |feature: &str| match FEATURES_OF_OTHER_CRATES.iter().find(|(f, _)| *f == feature) {
            Some((_, krate)) => (*krate).to_owned(),
            None => format!("adauth-{feature}"),
        };
    let providers: Vec<String> = features
        .iter()
        .filter(|f| !SKIPPED_FEATURES.contains(&f.as_str()))
        .filter(|f| !FEATURES_OF_OTHER_CRATES.iter().any(|(o, _)| o == f))
        .map(|f| format!("adauth-{f}"))
        .collect();
    let mut selections: Vec<Option<&str>> = vec![None];
    selections.extend(
        features
            .iter()
            .filter(|f| !SKIPPED_FEATURES.contains(&f.as_str()))
            .map(|f| Some(f.as_str())),
    );
    for selection in selections {
        let mut args = vec![
            "tree",
            "-p",
            UMBRELLA,
            "--no-default-features",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ];
        if let Some(feature) = selection {
            args.extend(["--features", feature]);
        }
        let tree = Cmd::cargo(args).output_of_step("isolation")?;
        let crates: Vec<&str> = tree
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .collect();
        let expected = selection.map(crate_of);
        if let Some(expected) = &expected
            && !crates.contains(&expected.as_str())
        {
            return Err(Failure::Other(format!(
                "isolation: feature `{}` of {UMBRELLA} does not pull in `{expected}`; \
                 make the feature enable `dep:{expected}`",
                selection.unwrap_or_default()
            )));
        }
        if let Some(stray) = providers
            .iter()
            .find(|p| Some(*p) != expected.as_ref() && crates.contains(&p.as_str()))
        {
            return Err(Failure::Other(format!(
                "isolation: {UMBRELLA} with {} pulls in `{stray}`; \
                 provider crates must be optional and enabled only by their own feature",
                selection.map_or("no features".to_owned(), |f| format!("only `{f}`"))
            )));
        }
    }
    say("isolation: ok (each provider feature pulls in its own crate only)");
    Ok(())
}

/// Runs `cargo deny check bans licenses sources`; returns whether it ran.
///
/// Advisories are left out on purpose: that check needs the advisory
/// database from the network. When cargo-deny is missing the step is skipped
/// with a warning on a workstation, and fails on CI (env `CI` set).
fn deny() -> Result<bool, Failure> {
    let probe = Cmd::cargo(["deny", "--version"]);
    if !probe.succeeds_quietly() {
        if on_ci() {
            return Err(Failure::Step {
                step: "deny",
                command: probe.display(),
                reason: "failed: cargo-deny is required on CI \
                         (install it with `cargo install --locked cargo-deny`)"
                    .to_owned(),
            });
        }
        let banner = "!".repeat(72);
        eprintln!("{banner}");
        say("WARNING: deny: SKIPPED, `cargo deny --version` failed");
        say("WARNING: bans, licenses and sources were NOT checked");
        say("WARNING: install it with `cargo install --locked cargo-deny`");
        eprintln!("{banner}");
        return Ok(false);
    }
    Cmd::cargo(["deny", "check", "bans", "licenses", "sources"]).run_step("deny")?;
    Ok(true)
}

/// Names of the features declared in the `[features]` table of a manifest.
///
/// A deliberately simple parse: from the `[features]` header up to the next
/// table header, every `name = [...]` line outside of an array yields `name`
/// (quotes removed). Comments and blank lines are skipped, and arrays that
/// span several lines are followed by counting brackets.
fn feature_names(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_features = false;
    let mut depth = 0usize;
    for line in manifest.lines() {
        let line = strip_comment(line).trim();
        if line.is_empty() {
            continue;
        }
        if depth == 0 && line.starts_with('[') {
            in_features = line == "[features]";
            continue;
        }
        if !in_features {
            continue;
        }
        let value = if depth == 0 {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            names.push(key.trim().trim_matches(['"', '\'']).to_owned());
            value
        } else {
            line
        };
        let opened = value.matches('[').count();
        let closed = value.matches(']').count();
        depth = (depth + opened).saturating_sub(closed);
    }
    names
}

/// The part of a TOML line before a `#` comment; a `#` inside a double-quoted
/// string does not start a comment.
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..i],
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::feature_names;

    /// Features are read from their table only, in order, and comments,
    /// multi-line arrays and other tables are not mistaken for features.
    #[test]
    fn reads_feature_names() {
        let manifest = r#"
[package]
name = "adauth"
version = "0.1.0"

[features]
default = []
## Fyber.
fyber = ["dep:adauth-fyber"] # trailing comment
"ad-gem" = [
    "dep:adauth-adgem",
    "adauth-core/x",
]
full = ["fyber", "ad-gem"]

[dependencies]
adauth-core = { version = "0.1.0", path = "../adauth-core" }
"#;
        assert_eq!(
            feature_names(manifest),
            ["default", "fyber", "ad-gem", "full"]
        );
    }

    /// A manifest without a `[features]` table has no features.
    #[test]
    fn no_features_table() {
        assert!(feature_names("[package]\nname = \"x\"\n").is_empty());
    }
}
