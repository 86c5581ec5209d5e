//! The `release` task: `cargo xtask release <VERSION> [--dry-run]`.
//!
//! 1. The tree must be clean, on `main`, and without a `v<VERSION>` tag.
//! 2. Sets `<VERSION>` in `[workspace.package]` and on every internal crate in
//!    `[workspace.dependencies]`, and moves the `Unreleased` section of `CHANGELOG.md`
//!    under `<VERSION>` with today's date (UTC).
//! 3. Runs `cargo xtask ci` and `cargo publish --workspace --dry-run`, which packages and
//!    builds every published crate in cargo's dependency order.
//! 4. With `--dry-run`: prints the diff of the edits and puts `Cargo.toml`, `Cargo.lock` and
//!    `CHANGELOG.md` back as they were, whatever the outcome; the tree is left untouched.
//!    Without it: commits the edits, publishes crate by crate in dependency order (skipping
//!    versions already on crates.io, waiting and retrying on rate limits), and tags
//!    `v<VERSION>`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Failure;
use crate::cmd::{Cmd, project_root, say};
use crate::tidy::{Workspace, workspace_version};
use crate::toml::{self, table, unquote};

/// Files the release edits (Cargo.lock follows the manifest).
const EDITED: &[&str] = &["Cargo.toml", "CHANGELOG.md", "Cargo.lock"];

/// Publishing attempts per crate when crates.io answers with a rate limit.
const PUBLISH_ATTEMPTS: u32 = 10;

/// Runs `cargo xtask release`.
pub(crate) fn run(args: &[String]) -> Result<(), Failure> {
    let mut version = None;
    let mut dry_run = false;
    for arg in args {
        match arg.as_str() {
            "--dry-run" => dry_run = true,
            other if other.starts_with('-') => {
                return Err(Failure::Usage(format!(
                    "unknown option `{other}` for task `release`"
                )));
            }
            other if version.is_none() => version = Some(other.to_owned()),
            other => return Err(Failure::Usage(format!("unexpected argument `{other}`"))),
        }
    }
    let version = version
        .ok_or_else(|| Failure::Usage("task `release` needs a VERSION, such as 0.1.0".into()))?;
    if !valid_version(&version) {
        return Err(Failure::Usage(format!(
            "`{version}` is not a version such as 0.1.0 or 0.2.0-rc.1"
        )));
    }

    preconditions(&version)?;
    let root = project_root();
    let originals = EDITED
        .iter()
        .map(|f| Ok((root.join(f), read(&root.join(f))?)))
        .collect::<Result<Vec<_>, Failure>>()?;
    let restore = Restore {
        files: if dry_run {
            originals.clone()
        } else {
            Vec::new()
        },
    };

    let manifest = &originals[0].1;
    let changelog = &originals[1].1;
    let repository = table(&toml::parse(manifest), "workspace.package")
        .and_then(|t| t.get("repository"))
        .map(|v| unquote(v).to_owned())
        .unwrap_or_default();
    write(&root.join("Cargo.toml"), &set_version(manifest, &version))?;
    write(
        &root.join("CHANGELOG.md"),
        &release_changelog(changelog, &version, &today(), &repository)?,
    )?;
    say(&format!(
        "release: version {version} set, CHANGELOG.md dated"
    ));

    crate::ci::run(&[])?;
    let mut package = vec!["publish", "--workspace", "--dry-run"];
    if dry_run {
        package.push("--allow-dirty");
    }
    Cmd::cargo(package).run_step("package")?;

    let diff = Cmd::program(
        "git",
        ["diff", "--", "Cargo.toml", "CHANGELOG.md", "Cargo.lock"],
    )
    .output_of_step("diff")?;
    if dry_run {
        eprintln!("{diff}");
        drop(restore);
        say(&format!(
            "release: dry run of {version} passed; every crate packaged and verified. \
             The tree is as it was: the diff above is what the release would commit."
        ));
        return Ok(());
    }

    commit(&version, &diff)?;
    for name in publish_order(&Workspace::load(&root)?)? {
        publish(&name, &version)?;
    }
    let tag = format!("v{version}");
    Cmd::program(
        "git",
        ["tag", "-a", &tag, "-m", &format!("Release {version}")],
    )
    .run_step("tag")?;
    say(&format!(
        "release: {version} published and tagged; push with `git push origin main {tag}`"
    ));
    Ok(())
}

/// Puts files back as they were when dropped (a dry run leaves no trace, even on failure).
struct Restore {
    files: Vec<(PathBuf, String)>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        for (path, text) in &self.files {
            if let Err(err) = std::fs::write(path, text) {
                say(&format!(
                    "release: could not restore {}: {err}",
                    path.display()
                ));
            }
        }
    }
}

fn read(path: &std::path::Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|err| Failure::Other(format!("cannot read {}: {err}", path.display())))
}

fn write(path: &std::path::Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text)
        .map_err(|err| Failure::Other(format!("cannot write {}: {err}", path.display())))
}

/// `MAJOR.MINOR.PATCH` with an optional `-pre.release` part.
fn valid_version(v: &str) -> bool {
    let (core, pre) = v.split_once('-').unwrap_or((v, "x"));
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && !pre.is_empty()
        && pre
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// A clean tree on `main`, and no tag for the version yet.
fn preconditions(version: &str) -> Result<(), Failure> {
    let status = Cmd::program("git", ["status", "--porcelain"]).output_of_step("git")?;
    if !status.trim().is_empty() {
        return Err(Failure::Other(format!(
            "release: the tree is not clean; commit or stash first:\n{status}"
        )));
    }
    let branch =
        Cmd::program("git", ["rev-parse", "--abbrev-ref", "HEAD"]).output_of_step("git")?;
    if branch.trim() != "main" {
        return Err(Failure::Other(format!(
            "release: on branch `{}`, releases are made from `main`",
            branch.trim()
        )));
    }
    let tag = format!("refs/tags/v{version}");
    if Cmd::program("git", ["rev-parse", "-q", "--verify", &tag]).succeeds_quietly() {
        return Err(Failure::Other(format!(
            "release: tag v{version} already exists"
        )));
    }
    Ok(())
}

/// The root manifest with `version` in `[workspace.package]` and on every internal crate
/// (those with a `path`) in `[workspace.dependencies]`.
fn set_version(manifest: &str, version: &str) -> String {
    let old = workspace_version(&toml::parse(manifest)).unwrap_or_default();
    let mut header = String::new();
    let mut out = String::with_capacity(manifest.len());
    for line in manifest.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            header = trimmed.to_owned();
        }
        let key = trimmed.split('=').next().unwrap_or_default().trim();
        let edited = match header.as_str() {
            "[workspace.package]" if key == "version" => {
                line.replacen(&format!("\"{old}\""), &format!("\"{version}\""), 1)
            }
            "[workspace.dependencies]" if trimmed.contains("path =") => line.replacen(
                &format!("version = \"{old}\""),
                &format!("version = \"{version}\""),
                1,
            ),
            _ => line.to_owned(),
        };
        out.push_str(&edited);
    }
    out
}

/// The changelog with its `Unreleased` entries moved under `## [version] - date`, a new
/// empty `Unreleased` section, and the comparison links at the bottom updated.
fn release_changelog(
    text: &str,
    version: &str,
    date: &str,
    repository: &str,
) -> Result<String, Failure> {
    let fail = |msg: &str| Err(Failure::Other(format!("release: CHANGELOG.md: {msg}")));
    if text.contains(&format!("## [{version}]")) {
        return fail(&format!("it already has a section for {version}"));
    }
    let Some(start) = text.find("## [Unreleased]") else {
        return fail("no `## [Unreleased]` section");
    };
    let body_start = start
        + text[start..]
            .find('\n')
            .map_or(text.len() - start, |i| i + 1);
    let body_end = text[body_start..]
        .find("\n## [")
        .map(|i| body_start + i + 1)
        .or_else(|| text[body_start..].find("\n[").map(|i| body_start + i + 1))
        .unwrap_or(text.len());
    let body = text[body_start..body_end].trim();
    if body.is_empty() {
        return fail("the Unreleased section is empty: there is nothing to release");
    }
    let mut out = format!(
        "{}## [Unreleased]\n\n## [{version}] - {date}\n\n{body}\n\n{}",
        &text[..start],
        &text[body_end..]
    );
    // Links: `[Unreleased]: .../compare/vPREV...HEAD` becomes `.../compare/vVERSION...HEAD`,
    // and `[VERSION]` points at the comparison with the previous tag, or at the tag itself.
    let link = out
        .lines()
        .find(|l| l.starts_with("[Unreleased]:"))
        .map(str::to_owned);
    let unreleased = format!("[Unreleased]: {repository}/compare/v{version}...HEAD");
    let released = match link.as_deref().and_then(|l| l.split("/compare/").nth(1)) {
        Some(range) => {
            let previous = range.split("...").next().unwrap_or_default();
            format!("[{version}]: {repository}/compare/{previous}...v{version}")
        }
        None => format!("[{version}]: {repository}/releases/tag/v{version}"),
    };
    match link {
        Some(line) => out = out.replacen(&line, &format!("{unreleased}\n{released}"), 1),
        None => out = format!("{}\n\n{unreleased}\n{released}\n", out.trim_end()),
    }
    Ok(out)
}

/// Today's date (UTC) as `YYYY-MM-DD`.
fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Year, month and day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Commits the release edits, if there are any.
fn commit(version: &str, diff: &str) -> Result<(), Failure> {
    if diff.trim().is_empty() {
        return Ok(());
    }
    let mut add = vec!["add", "--"];
    add.extend(EDITED);
    Cmd::program("git", add).run_step("commit")?;
    Cmd::program(
        "git",
        [
            "commit",
            "-m",
            &format!("Release {version}: set the version and date the changelog"),
        ],
    )
    .run_step("commit")
}

/// Published crates, each after every workspace crate it depends on (dev-dependencies
/// included: crates.io needs them to exist); ties in name order.
fn publish_order(ws: &Workspace) -> Result<Vec<String>, Failure> {
    let mut crates: Vec<(String, BTreeSet<String>)> = Vec::new();
    for member in &ws.members {
        let tables = toml::parse(&member.manifest);
        let package = table(&tables, "package");
        if package.and_then(|p| p.get("publish")) == Some("false") {
            continue;
        }
        let Some(name) = package
            .and_then(|p| p.get("name"))
            .map(|n| unquote(n).to_owned())
        else {
            continue;
        };
        let deps = tables
            .iter()
            .filter(|t| t.header.ends_with("dependencies"))
            .flat_map(|t| &t.entries)
            .map(|(k, _)| k.strip_suffix(".workspace").unwrap_or(k).to_owned())
            .collect();
        crates.push((name, deps));
    }
    let names: BTreeSet<String> = crates.iter().map(|(n, _)| n.clone()).collect();
    let mut done: Vec<String> = Vec::new();
    while done.len() < crates.len() {
        let mut ready: Vec<&String> = crates
            .iter()
            .filter(|(n, deps)| {
                !done.contains(n)
                    && deps
                        .iter()
                        .all(|d| d == n || !names.contains(d) || done.contains(d))
            })
            .map(|(n, _)| n)
            .collect();
        ready.sort();
        let Some(next) = ready.first() else {
            return Err(Failure::Other(format!(
                "release: the workspace crates depend on each other in a cycle; left: {:?}",
                names
                    .iter()
                    .filter(|n| !done.contains(n))
                    .collect::<Vec<_>>()
            )));
        };
        done.push((*next).clone());
    }
    Ok(done)
}

/// Publishes one crate; a version already on crates.io is skipped, a rate limit waited out.
fn publish(name: &str, version: &str) -> Result<(), Failure> {
    for attempt in 1..=PUBLISH_ATTEMPTS {
        let (ok, output) = Cmd::cargo(["publish", "-p", name]).run_captured("publish")?;
        if ok {
            say(&format!("publish: {name} {version} published"));
            return Ok(());
        }
        let lower = output.to_lowercase();
        if lower.contains("already exists") || lower.contains("already uploaded") {
            say(&format!(
                "publish: {name} {version} is already on crates.io, skipped"
            ));
            return Ok(());
        }
        if lower.contains("429") || lower.contains("too many") || lower.contains("rate limit") {
            let wait = Duration::from_secs(60 * u64::from(attempt)).min(Duration::from_secs(600));
            say(&format!(
                "publish: crates.io rate limit for {name} (attempt {attempt}/{PUBLISH_ATTEMPTS}), \
                 waiting {}s",
                wait.as_secs()
            ));
            std::thread::sleep(wait);
            continue;
        }
        return Err(Failure::Other(format!(
            "publish: `cargo publish -p {name}` failed (output above); crates published so far \
             stay published, rerun the release to go on"
        )));
    }
    Err(Failure::Other(format!(
        "publish: {name} still rate limited after {PUBLISH_ATTEMPTS} attempts; rerun later"
    )))
}

#[cfg(test)]
mod tests {
    use super::{civil_from_days, publish_order, release_changelog, set_version, valid_version};
    use crate::tidy::{Member, Workspace};

    const MANIFEST: &str = r#"[workspace]
members = ["crates/*"]

[workspace.package]
version = "0.1.0"
rust-version = "1.89"

[workspace.dependencies]
adauth-core = { version = "0.1.0", path = "crates/adauth-core" }
adauth = { version = "0.1.0", path = "crates/adauth", default-features = false }
serde = { version = "0.1.0" }
"#;

    /// The workspace version and internal requirements change, nothing else.
    #[test]
    fn sets_the_version_everywhere() {
        let edited = set_version(MANIFEST, "0.2.0");
        assert_eq!(
            edited,
            MANIFEST
                .replace("version = \"0.1.0\"\nrust", "version = \"0.2.0\"\nrust")
                .replace("{ version = \"0.1.0\", path", "{ version = \"0.2.0\", path")
        );
        assert!(edited.contains("serde = { version = \"0.1.0\" }"));
        assert_eq!(set_version(MANIFEST, "0.1.0"), MANIFEST);
    }

    const CHANGELOG: &str = "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n### Added\n\n- A thing.\n\n\
                             [Unreleased]: https://x/adauth/commits/main\n";

    /// The first release: entries move under the version, links point at the tag.
    #[test]
    fn dates_the_unreleased_section() {
        let out = release_changelog(CHANGELOG, "0.1.0", "2026-05-01", "https://x/adauth").unwrap();
        assert_eq!(
            out,
            "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n## [0.1.0] - 2026-05-01\n\n### Added\n\n\
             - A thing.\n\n[Unreleased]: https://x/adauth/compare/v0.1.0...HEAD\n\
             [0.1.0]: https://x/adauth/releases/tag/v0.1.0\n"
        );
        let next = out.replace("## [Unreleased]\n", "## [Unreleased]\n\n- More.\n");
        let out = release_changelog(&next, "0.2.0", "2026-06-01", "https://x/adauth").unwrap();
        assert!(out.contains("## [0.2.0] - 2026-06-01\n\n- More.\n\n## [0.1.0] - 2026-05-01"));
        assert!(out.contains("[0.2.0]: https://x/adauth/compare/v0.1.0...v0.2.0\n"));
        assert!(release_changelog(&out, "0.2.0", "d", "r").is_err());
        assert!(
            release_changelog(&out, "0.3.0", "d", "r").is_err(),
            "empty Unreleased"
        );
    }

    #[test]
    fn versions_and_dates() {
        assert!(valid_version("0.1.0") && valid_version("1.2.3-rc.1"));
        assert!(!valid_version("0.1") && !valid_version("v0.1.0") && !valid_version("0.1.0-"));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    /// Dependencies (dev ones too) come first; unpublished crates are left out.
    #[test]
    fn publishes_in_dependency_order() {
        let member = |name: &str, deps: &str| Member {
            manifest: format!("[package]\nname = \"{name}\"\n\n[dependencies]\n{deps}\n"),
            ..Member::default()
        };
        let ws = Workspace {
            members: vec![
                member("adauth", "adauth-fyber = { workspace = true, optional = true }\nadauth-core.workspace = true"),
                member("adauth-fyber", "adauth-core.workspace = true"),
                member("adauth-core", "serde.workspace = true"),
                Member {
                    manifest: "[package]\nname = \"xtask\"\npublish = false\n[dev-dependencies]\nadauth.workspace = true\n".into(),
                    ..Member::default()
                },
            ],
            ..Workspace::default()
        };
        assert_eq!(
            publish_order(&ws).unwrap(),
            ["adauth-core", "adauth-fyber", "adauth"]
        );
    }
}
