//! The `tidy` task: checks of the manifests and READMEs that no compiler makes.
//!
//! - every workspace crate is either published with full metadata (description, license,
//!   repository, readme, keywords, categories, rust-version, docs.rs metadata, both
//!   license files, a README with an example that opens the crate docs) or `publish = false`;
//! - internal dependencies go through `[workspace.dependencies]`, which gives each one a
//!   version (the workspace version) and a path;
//! - the umbrella crate has exactly one feature per provider crate, and `full` lists every
//!   feature;
//! - the feature tables of the umbrella README and the root README match those features;
//! - every provider crate is registered completely: its `[workspace.dependencies]` entry, its
//!   umbrella dependency, feature, `testkit` line and registration line, its `DESCRIPTOR`
//!   and its fake; each missing piece is reported with the file and the line to add;
//! - the README tables generated from the registry ([`generated`](crate::generated)) are up
//!   to date (`cargo xtask tidy --fix` rewrites them).
//!
//! The checks work on file contents ([`Workspace`]), so tests can feed them broken input.

use std::collections::BTreeSet;
use std::path::Path;

use crate::Failure;
use crate::cmd::{project_root, say};
use crate::toml::{self, Table, inline_has, inline_key, strings, table, unquote};

/// Package name of the umbrella crate.
const UMBRELLA: &str = "adauth";

/// Published workspace crates named `adauth-*` that are not providers, so get no umbrella
/// feature of their own (a provider crate is every other published `adauth-*` crate).
const NOT_PROVIDERS: &[&str] = &[
    "adauth-core",
    "adauth-cli",
    "adauth-testkit",
    "adauth-redis",
];

/// Umbrella features that are not providers, with exactly what each one enables.
const EXTRA_FEATURES: &[(&str, &[&str])] = &[
    ("redis", &["dep:adauth-redis"]),
    ("redis-tls", &["redis", "adauth-redis/tls"]),
    ("encryption", &["adauth-core/encryption"]),
    ("middleware", &["adauth-core/middleware"]),
    // Checked line by line (one `adauth-<provider>?/testkit` per provider) by
    // `provider_registrations`.
    ("testkit", &[]),
];

/// The license every published crate carries.
const LICENSE: &str = "MIT OR Apache-2.0";

/// The files every published crate ships next to its manifest.
const LICENSE_FILES: &[&str] = &["LICENSE-MIT", "LICENSE-APACHE"];

/// Package keys a published crate must set, itself or from `[workspace.package]`.
const REQUIRED_KEYS: &[&str] = &[
    "description",
    "license",
    "repository",
    "readme",
    "keywords",
    "categories",
    "rust-version",
];

/// The first line of every published crate root: the README is the crate documentation.
const DOC_LINE: &str = "#![doc = include_str!(\"../README.md\")]";

/// The header row that starts the umbrella README's feature table.
const UMBRELLA_TABLE: &str = "| feature |";

/// The header row that starts the root README's feature table.
const ROOT_TABLE: &str = "| umbrella feature |";

/// One workspace member, as far as tidy looks at it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Member {
    /// Directory relative to the workspace root, such as `crates/adauth-core`.
    pub(crate) dir: String,
    /// Text of its `Cargo.toml`.
    pub(crate) manifest: String,
    /// Names of the files directly in its directory.
    pub(crate) files: BTreeSet<String>,
    /// Its README, if it has one.
    pub(crate) readme: Option<String>,
    /// Its crate root (`src/lib.rs`, else `src/main.rs`), if it has one.
    pub(crate) crate_root: Option<String>,
}

/// Everything tidy checks.
#[derive(Debug, Clone, Default)]
pub(crate) struct Workspace {
    /// Text of the root `Cargo.toml`.
    pub(crate) root_manifest: String,
    /// Text of the root `README.md`.
    pub(crate) root_readme: String,
    /// Every workspace member.
    pub(crate) members: Vec<Member>,
}

/// Runs `cargo xtask tidy`; with `fix`, rewrites the generated README tables first.
pub(crate) fn run(fix: bool) -> Result<(), Failure> {
    let root = project_root();
    if fix {
        for block in crate::generated::blocks() {
            let path = root.join(&block.file);
            let text = std::fs::read_to_string(&path)
                .map_err(|err| Failure::Other(format!("cannot read {}: {err}", block.file)))?;
            let Some(new) = crate::generated::replace(&text, block.name, &block.text) else {
                continue;
            };
            if new != text {
                std::fs::write(&path, new)
                    .map_err(|err| Failure::Other(format!("cannot write {}: {err}", block.file)))?;
                say(&format!(
                    "tidy: rewrote the `{}` table of {}",
                    block.name, block.file
                ));
            }
        }
    }
    let workspace = Workspace::load(&root)?;
    let mut problems = check(&workspace);
    problems.extend(generated_tables(&workspace));
    if problems.is_empty() {
        say(&format!(
            "tidy: ok ({} crates: metadata, internal dependencies, umbrella features, provider registrations, README tables)",
            workspace.members.len()
        ));
        return Ok(());
    }
    for problem in &problems {
        say(&format!("tidy: {problem}"));
    }
    Err(Failure::Other(format!(
        "tidy: {} problem(s), each listed above with what to fix",
        problems.len()
    )))
}

impl Workspace {
    /// Reads the workspace at `root`: the members listed in the root manifest, with `dir/*`
    /// patterns expanded to the directories that hold a `Cargo.toml`.
    pub(crate) fn load(root: &Path) -> Result<Self, Failure> {
        let read = |path: &Path| {
            std::fs::read_to_string(path)
                .map_err(|err| Failure::Other(format!("cannot read {}: {err}", path.display())))
        };
        let root_manifest = read(&root.join("Cargo.toml"))?;
        let root_readme = read(&root.join("README.md"))?;
        let tables = toml::parse(&root_manifest);
        let patterns = table(&tables, "workspace")
            .and_then(|t| t.get("members"))
            .map(strings)
            .unwrap_or_default();
        let mut dirs = Vec::new();
        for pattern in patterns {
            if let Some(parent) = pattern.strip_suffix("/*") {
                let entries = std::fs::read_dir(root.join(parent))
                    .map_err(|err| Failure::Other(format!("cannot list {parent}: {err}")))?;
                let mut found: Vec<String> = entries
                    .filter_map(Result::ok)
                    .filter(|e| e.path().join("Cargo.toml").is_file())
                    .map(|e| format!("{parent}/{}", e.file_name().to_string_lossy()))
                    .collect();
                found.sort();
                dirs.extend(found);
            } else {
                dirs.push(pattern);
            }
        }
        let mut members = Vec::new();
        for dir in dirs {
            let path = root.join(&dir);
            let files = std::fs::read_dir(&path)
                .map_err(|err| Failure::Other(format!("cannot list {dir}: {err}")))?
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            let crate_root = ["src/lib.rs", "src/main.rs"]
                .iter()
                .find_map(|f| std::fs::read_to_string(path.join(f)).ok());
            members.push(Member {
                manifest: read(&path.join("Cargo.toml"))?,
                readme: std::fs::read_to_string(path.join("README.md")).ok(),
                files,
                crate_root,
                dir,
            });
        }
        Ok(Self {
            root_manifest,
            root_readme,
            members,
        })
    }
}

/// Every problem found, each saying what to fix; empty when the workspace is tidy.
pub(crate) fn check(ws: &Workspace) -> Vec<String> {
    let mut problems = Vec::new();
    let root = toml::parse(&ws.root_manifest);
    let members: Vec<(&Member, Vec<Table>)> = ws
        .members
        .iter()
        .map(|m| (m, toml::parse(&m.manifest)))
        .collect();
    let names: BTreeSet<String> = members
        .iter()
        .filter_map(|(_, t)| package_name(t))
        .collect();

    workspace_dependencies(&root, &names, &mut problems);
    for (member, tables) in &members {
        internal_dependencies(member, tables, &names, &mut problems);
        if publishes(tables) {
            metadata(member, tables, &root, &mut problems);
        }
    }
    let providers: Vec<(&Member, &Vec<Table>, String)> = members
        .iter()
        .filter(|(_, t)| publishes(t))
        .filter_map(|(m, t)| package_name(t).map(|n| (*m, t, n)))
        .filter(|(_, _, n)| n.starts_with("adauth-") && !NOT_PROVIDERS.contains(&n.as_str()))
        .collect();
    let umbrella = members
        .iter()
        .find(|(_, t)| package_name(t).as_deref() == Some(UMBRELLA))
        .map(|(m, t)| (*m, t));
    provider_registrations(ws, &root, umbrella, &providers, &mut problems);
    match members
        .iter()
        .find(|(_, t)| package_name(t).as_deref() == Some(UMBRELLA))
    {
        Some((umbrella, tables)) => {
            let published: BTreeSet<String> = members
                .iter()
                .filter(|(_, t)| publishes(t))
                .filter_map(|(_, t)| package_name(t))
                .collect();
            let features = umbrella_features(umbrella, tables, &published, &mut problems);
            readme_table(
                &format!("{}/README.md", umbrella.dir),
                umbrella.readme.as_deref().unwrap_or_default(),
                UMBRELLA_TABLE,
                &features,
                &mut problems,
            );
            readme_table(
                "README.md",
                &ws.root_readme,
                ROOT_TABLE,
                &features,
                &mut problems,
            );
        }
        None => problems.push(format!(
            "no workspace crate is named `{UMBRELLA}`; tidy checks its features \
             (update UMBRELLA in xtask/src/tidy.rs if it was renamed)"
        )),
    }
    problems
}

/// The generated README tables that are missing or out of date.
pub(crate) fn generated_tables(ws: &Workspace) -> Vec<String> {
    let mut problems = Vec::new();
    for block in crate::generated::blocks() {
        let text = if block.file == "README.md" {
            Some(ws.root_readme.as_str())
        } else {
            ws.members
                .iter()
                .find(|m| format!("{}/README.md", m.dir) == block.file)
                .and_then(|m| m.readme.as_deref())
        };
        let Some(text) = text else {
            problems.push(format!("{}: missing", block.file));
            continue;
        };
        match crate::generated::current(text, block.name) {
            None => problems.push(format!(
                "{}: no generated `{name}` table; add the lines `{}` and `{}` where it goes, \
                 then run `cargo xtask tidy --fix`",
                block.file,
                crate::generated::begin(block.name),
                crate::generated::end(block.name),
                name = block.name,
            )),
            Some(current) if current != block.text => problems.push(format!(
                "{}: the `{}` table is not what the provider registry says; run \
                 `cargo xtask tidy --fix`",
                block.file, block.name
            )),
            Some(_) => {}
        }
    }
    problems
}

/// Everything a provider crate needs besides its own code, each missing piece reported
/// with the file and the line to add.
fn provider_registrations(
    ws: &Workspace,
    root: &[Table],
    umbrella: Option<(&Member, &Vec<Table>)>,
    providers: &[(&Member, &Vec<Table>, String)],
    problems: &mut Vec<String>,
) {
    let version = workspace_version(root).unwrap_or_default();
    let deps = table(root, "workspace.dependencies");
    for (member, tables, name) in providers {
        let short = &name["adauth-".len()..];
        let ident = name.replace('-', "_");
        if deps.and_then(|d| d.get(name)).is_none() {
            problems.push(format!(
                "Cargo.toml: [workspace.dependencies] has no `{name}`; add \
                 `{name} = {{ version = \"{version}\", path = \"{}\" }}`",
                member.dir
            ));
        }
        let root_src = member.crate_root.as_deref().unwrap_or_default();
        let src = format!("{}/src/lib.rs", member.dir);
        if !root_src.contains("pub const DESCRIPTOR") {
            problems.push(format!(
                "{src}: no `pub const DESCRIPTOR: adauth_core::Provider = ...;`, the value that \
                 describes the provider (see adauth-fyber)"
            ));
        }
        if !root_src.contains(".with_fake(") || !root_src.contains("pub mod testkit") {
            problems.push(format!(
                "{src}: the descriptor has no fake; add `#[cfg(feature = \"testkit\")] pub mod \
                 testkit;` and, in DESCRIPTOR, `#[cfg(feature = \"testkit\")] let provider = \
                 provider.with_fake(&adauth_testkit::fake::Registration(&testkit::FAKE));`"
            ));
        }
        let testkit_feature = table(tables, "features")
            .and_then(|f| f.get("testkit"))
            .map(strings)
            .unwrap_or_default();
        if !testkit_feature.iter().any(|f| f == "dep:adauth-testkit") {
            problems.push(format!(
                "{}/Cargo.toml: no `testkit` feature; add `testkit = [\"dep:adauth-testkit\"]` \
                 to [features] and `adauth-testkit = {{ workspace = true, optional = true }}` \
                 to [dependencies]",
                member.dir
            ));
        }
        let Some((umbrella, umbrella_tables)) = umbrella else {
            continue;
        };
        let manifest = format!("{}/Cargo.toml", umbrella.dir);
        let dependency = table(umbrella_tables, "dependencies").and_then(|d| d.get(name));
        if !dependency.is_some_and(|raw| inline_has(raw, "optional", "true")) {
            problems.push(format!(
                "{manifest}: [dependencies] has no optional `{name}`; add \
                 `{name} = {{ workspace = true, optional = true }}`"
            ));
        }
        let umbrella_testkit = table(umbrella_tables, "features")
            .and_then(|f| f.get("testkit"))
            .map(strings)
            .unwrap_or_default();
        let line = format!("{name}?/testkit");
        if !umbrella_testkit.contains(&line) {
            problems.push(format!(
                "{manifest}: the `testkit` feature does not enable `{line}`; add \"{line}\" \
                 to `testkit = [...]`"
            ));
        }
        let example = format!("{}/examples/{short}.rs", umbrella.dir);
        if !project_root().join(&example).is_file() {
            problems.push(format!(
                "{example}: no example; add a program that runs against the fake (see the \
                 other providers' examples)"
            ));
        }
        let entry = format!(
            "[[example]]\nname = \"{short}\"\nrequired-features = [\"{short}\", \"testkit\"]"
        );
        let umbrella_manifest =
            std::fs::read_to_string(project_root().join(&manifest)).unwrap_or_default();
        if !umbrella_manifest.contains(&entry) {
            problems.push(format!(
                "{manifest}: no example entry for `{short}`; add `{entry}`"
            ));
        }
        let registration = format!("\"{short}\" => {short} = {ident};");
        if !umbrella
            .crate_root
            .as_deref()
            .unwrap_or_default()
            .contains(&registration)
        {
            problems.push(format!(
                "{}/src/lib.rs: `{name}` is not registered; add `{registration}` to the \
                 `providers! {{ ... }}` list",
                umbrella.dir
            ));
        }
    }
    let _ = ws;
}

fn package_name(tables: &[Table]) -> Option<String> {
    table(tables, "package")
        .and_then(|p| p.get("name"))
        .map(|v| unquote(v).to_owned())
}

/// Whether a crate is published: no `publish = false`.
fn publishes(tables: &[Table]) -> bool {
    table(tables, "package").and_then(|p| p.get("publish")) != Some("false")
}

/// The version of `[workspace.package]`.
pub(crate) fn workspace_version(root: &[Table]) -> Option<String> {
    table(root, "workspace.package")
        .and_then(|t| t.get("version"))
        .map(|v| unquote(v).to_owned())
}

/// Each internal crate in `[workspace.dependencies]` has a path and the workspace version.
fn workspace_dependencies(root: &[Table], names: &BTreeSet<String>, problems: &mut Vec<String>) {
    let version = workspace_version(root).unwrap_or_default();
    let Some(deps) = table(root, "workspace.dependencies") else {
        problems.push("Cargo.toml: no [workspace.dependencies] table".to_owned());
        return;
    };
    for (name, raw) in &deps.entries {
        if !names.contains(name) {
            continue;
        }
        let wanted = format!("\"{version}\"");
        if !inline_has(raw, "path", &format!("\"{}\"", dep_path(raw)))
            || !inline_has(raw, "version", &wanted)
        {
            problems.push(format!(
                "Cargo.toml: [workspace.dependencies] `{name}` must have both `version = {wanted}` \
                 (the workspace version) and a `path`; it is `{raw}`"
            ));
        }
    }
}

/// The `path` of an inline dependency table, or "" if it has none.
fn dep_path(raw: &str) -> String {
    raw.trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim() == "path")
        .map(|(_, v)| unquote(v).to_owned())
        .unwrap_or_default()
}

/// Whether a table header is a dependency table (`dependencies`, `dev-dependencies`,
/// `build-dependencies`, or one of those under `target.'cfg(...)'`).
fn is_dependency_table(header: &str) -> bool {
    ["dependencies", "dev-dependencies", "build-dependencies"]
        .iter()
        .any(|d| header == *d || header.ends_with(&format!(".{d}")))
}

/// Internal dependencies of a member use `workspace = true`, and no dependency has a path
/// without a version.
fn internal_dependencies(
    member: &Member,
    tables: &[Table],
    names: &BTreeSet<String>,
    problems: &mut Vec<String>,
) {
    let manifest = format!("{}/Cargo.toml", member.dir);
    for t in tables.iter().filter(|t| is_dependency_table(&t.header)) {
        for (key, raw) in &t.entries {
            let name = key.strip_suffix(".workspace").unwrap_or(key);
            let inherited = key.ends_with(".workspace") || inline_has(raw, "workspace", "true");
            if names.contains(name) && !inherited {
                problems.push(format!(
                    "{manifest}: [{}] `{name}` is an internal crate: write \
                     `{name}.workspace = true` (or `{{ workspace = true, ... }}`) so it gets its \
                     version and path from [workspace.dependencies]",
                    t.header
                ));
            } else if inline_key(raw, "path") && !inline_key(raw, "version") {
                problems.push(format!(
                    "{manifest}: [{}] `{name}` has a path but no version, so the crate cannot \
                     be published; add a version or go through [workspace.dependencies]",
                    t.header
                ));
            }
        }
    }
}

/// The metadata of a published crate.
fn metadata(member: &Member, tables: &[Table], root: &[Table], problems: &mut Vec<String>) {
    let manifest = format!("{}/Cargo.toml", member.dir);
    let empty = Table {
        header: String::new(),
        entries: Vec::new(),
    };
    let package = table(tables, "package").unwrap_or(&empty);
    let shared = table(root, "workspace.package").unwrap_or(&empty);
    for key in REQUIRED_KEYS {
        let value = match package.get(&format!("{key}.workspace")) {
            Some("true") => shared.get(key),
            _ => package.get(key),
        };
        let Some(value) = value.filter(|v| !unquote(v).is_empty() && *v != "[]") else {
            problems.push(format!(
                "{manifest}: published crate without `{key}`; set it in [package] \
                 (or `{key}.workspace = true`), or add `publish = false`"
            ));
            continue;
        };
        match *key {
            "license" if unquote(value) != LICENSE => problems.push(format!(
                "{manifest}: license is `{}`, must be `{LICENSE}`",
                unquote(value)
            )),
            "readme" if !member.files.contains(unquote(value)) => problems.push(format!(
                "{manifest}: readme `{}` does not exist in {}",
                unquote(value),
                member.dir
            )),
            _ => {}
        }
    }
    for file in LICENSE_FILES {
        if !member.files.contains(*file) {
            problems.push(format!(
                "{}: no {file}; copy the workspace root's {file} into the crate directory \
                 so the package carries it",
                member.dir
            ));
        }
    }
    let docs_rs = table(tables, "package.metadata.docs.rs");
    let all_features = docs_rs.and_then(|t| t.get("all-features")) == Some("true");
    let cfg = docs_rs
        .and_then(|t| t.get("rustdoc-args"))
        .is_some_and(|v| strings(v).iter().any(|a| a == "docsrs"));
    if !all_features || !cfg {
        problems.push(format!(
            "{manifest}: add [package.metadata.docs.rs] with `all-features = true` and \
             `rustdoc-args = [\"--cfg\", \"docsrs\"]` so docs.rs shows feature-gated items \
             with their feature"
        ));
    }
    if !member
        .readme
        .as_deref()
        .is_some_and(|r| r.contains("```rust") || r.contains("```sh") || r.contains("```toml"))
    {
        problems.push(format!(
            "{}/README.md: no example; add a ```rust block (```sh for a command)",
            member.dir
        ));
    }
    if member
        .crate_root
        .as_deref()
        .is_none_or(|src| src.lines().next() != Some(DOC_LINE))
    {
        problems.push(format!(
            "{}: the crate root must open with `{DOC_LINE}` so the README and its example \
             open the crate docs",
            member.dir
        ));
    }
}

/// Checks the umbrella's features and returns their names without `default`.
fn umbrella_features(
    umbrella: &Member,
    tables: &[Table],
    names: &BTreeSet<String>,
    problems: &mut Vec<String>,
) -> Vec<String> {
    let manifest = format!("{}/Cargo.toml", umbrella.dir);
    let empty = Table {
        header: String::new(),
        entries: Vec::new(),
    };
    let features = table(tables, "features").unwrap_or(&empty);
    let providers: Vec<&str> = names
        .iter()
        .filter(|n| n.starts_with("adauth-") && !NOT_PROVIDERS.contains(&n.as_str()))
        .map(String::as_str)
        .collect();
    for provider in &providers {
        let feature = &provider["adauth-".len()..];
        if features.get(feature).is_none() {
            problems.push(format!(
                "{manifest}: provider crate `{provider}` has no feature: add \
                 `{feature} = [\"dep:{provider}\"]` to [features], list it in `full`, \
                 and add a row for it to the README feature tables"
            ));
        }
    }
    let mut listed = Vec::new();
    for (feature, raw) in &features.entries {
        if feature == "default" || feature == "full" {
            continue;
        }
        listed.push(feature.clone());
        let provider = format!("adauth-{feature}");
        let expected: Option<Vec<String>> = EXTRA_FEATURES
            .iter()
            .find(|(f, _)| f == feature)
            .map(|(_, enables)| enables.iter().map(|e| (*e).to_owned()).collect())
            .or_else(|| {
                providers
                    .contains(&provider.as_str())
                    .then(|| vec![format!("dep:{provider}")])
            });
        let Some(expected) = expected else {
            problems.push(format!(
                "{manifest}: feature `{feature}` matches no provider crate `adauth-{feature}`; \
                 remove it, or if it is not a provider add it to EXTRA_FEATURES in \
                 xtask/src/tidy.rs"
            ));
            continue;
        };
        let enables = strings(raw);
        if feature == "testkit" {
            if !enables.iter().any(|e| e == "dep:adauth-testkit") {
                problems.push(format!(
                    "{manifest}: feature `testkit` must enable \"dep:adauth-testkit\""
                ));
            }
            continue;
        }
        if enables != expected {
            problems.push(format!(
                "{manifest}: feature `{feature}` must enable exactly {expected:?}, \
                 it enables {enables:?}"
            ));
        }
    }
    match features.get("full") {
        None => problems.push(format!(
            "{manifest}: no `full` feature; add `full = [{}]`",
            quoted(&listed)
        )),
        Some(raw) => {
            let full = strings(raw);
            // `testkit` starts servers and pulls in axum: never part of `full`.
            for feature in listed
                .iter()
                .filter(|f| !full.contains(f) && f.as_str() != "testkit")
            {
                problems.push(format!(
                    "{manifest}: `full` does not list `{feature}`; add \"{feature}\" to \
                     `full = [...]`"
                ));
            }
            for item in full.iter().filter(|f| !listed.contains(f)) {
                problems.push(format!(
                    "{manifest}: `full` lists `{item}`, which is no feature of {UMBRELLA}; \
                     remove it from `full`"
                ));
            }
        }
    }
    let mut all = listed;
    if features.get("full").is_some() {
        all.push("full".to_owned());
    }
    all
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first column of the Markdown table whose header row starts with `header`, with
/// backticks removed; `None` if there is no such table.
fn table_column(text: &str, header: &str) -> Option<Vec<String>> {
    let mut lines = text.lines().skip_while(|l| !l.trim().starts_with(header));
    lines.next()?;
    Some(
        lines
            .skip(1) // the |---| separator
            .take_while(|l| l.trim().starts_with('|'))
            .filter_map(|l| l.trim().trim_start_matches('|').split('|').next())
            .map(|cell| cell.trim().trim_matches('`').to_owned())
            .collect(),
    )
}

/// The README's feature table has one row per umbrella feature (and `full`), no others.
fn readme_table(
    path: &str,
    text: &str,
    header: &str,
    features: &[String],
    problems: &mut Vec<String>,
) {
    let Some(rows) = table_column(text, header) else {
        problems.push(format!(
            "{path}: no feature table (a Markdown table whose header starts with `{header}`); \
             add one with a row per umbrella feature"
        ));
        return;
    };
    for feature in features.iter().filter(|f| !rows.contains(f)) {
        problems.push(format!(
            "{path}: the feature table has no row for `{feature}`; add \
             `| \\`{feature}\\` | ... |`"
        ));
    }
    for row in rows.iter().filter(|r| !features.contains(r)) {
        problems.push(format!(
            "{path}: the feature table has a row `{row}`, which is no feature of {UMBRELLA}; \
             remove the row or add the feature"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::{Member, Workspace, check};

    const ROOT: &str = r#"
[workspace]
members = ["crates/*"]

[workspace.package]
version = "0.2.0"
license = "MIT OR Apache-2.0"
repository = "https://example.com/adauth"
rust-version = "1.89"

[workspace.dependencies]
adauth-core = { version = "0.2.0", path = "crates/adauth-core" }
adauth-fyber = { version = "0.2.0", path = "crates/adauth-fyber" }
adauth-adgem = { version = "0.2.0", path = "crates/adauth-adgem" }
"#;

    const UMBRELLA: &str = r#"
[package]
name = "adauth"
description = "umbrella"
version.workspace = true
license.workspace = true
repository.workspace = true
rust-version.workspace = true
readme = "README.md"
keywords = ["oauth"]
categories = ["authentication"]

[features]
default = []
fyber = ["dep:adauth-fyber"]
adgem = ["dep:adauth-adgem"]
testkit = ["dep:adauth-testkit", "adauth-fyber?/testkit", "adauth-adgem?/testkit"]
full = ["fyber", "adgem"]

[dependencies]
adauth-core.workspace = true
adauth-fyber = { workspace = true, optional = true }
adauth-adgem = { workspace = true, optional = true }

[package.metadata.docs.rs]
all-features = true
rustdoc-args = ["--cfg", "docsrs"]
"#;

    const TABLE: &str = "| feature | provider | crate |\n|---|---|---|\n\
                         | `fyber` | Fyber | x |\n| `adgem` | AdGem | x |\n| `testkit` | fakes | x |\n\
                         | `full` | all | |\n\n\
                         ```rust\nlet x = 1;\n```\n";

    /// What a registered provider's crate root holds, and the umbrella's registrations.
    const PROVIDER_ROOT: &str =
        "pub mod testkit;\npub const DESCRIPTOR: Provider = p.with_fake(&F);\n";
    const REGISTRATIONS: &str = "providers! {\n    \"fyber\" => fyber = adauth_fyber;\n    \
                                 \"adgem\" => adgem = adauth_adgem;\n}\n";

    fn member(name: &str, manifest: &str) -> Member {
        let body = match name {
            "adauth" => REGISTRATIONS,
            "adauth-core" => "",
            _ => PROVIDER_ROOT,
        };
        Member {
            dir: format!("crates/{name}"),
            manifest: manifest.to_owned(),
            files: ["Cargo.toml", "README.md", "LICENSE-MIT", "LICENSE-APACHE"]
                .map(str::to_owned)
                .into(),
            readme: Some(TABLE.to_owned()),
            crate_root: Some(format!("{}\n{body}", super::DOC_LINE)),
        }
    }

    fn provider(name: &str) -> Member {
        member(
            name,
            &UMBRELLA
                .replace("name = \"adauth\"", &format!("name = \"{name}\""))
                .split("[features]")
                .next()
                .unwrap()
                .to_owned()
                .replace(
                    "categories = [\"authentication\"]",
                    "categories = [\"authentication\"]\n\n[package.metadata.docs.rs]\n\
                     all-features = true\nrustdoc-args = [\"--cfg\", \"docsrs\"]\n\n\
                     [features]\ntestkit = [\"dep:adauth-testkit\"]",
                ),
        )
    }

    fn workspace(umbrella: &str) -> Workspace {
        Workspace {
            root_manifest: ROOT.to_owned(),
            root_readme: TABLE.replace("| feature |", "| umbrella feature |"),
            members: vec![
                member("adauth", umbrella),
                provider("adauth-core"),
                provider("adauth-fyber"),
                provider("adauth-adgem"),
            ],
        }
    }

    /// The well-formed workspace passes.
    #[test]
    fn tidy_workspace_passes() {
        assert_eq!(check(&workspace(UMBRELLA)), Vec::<String>::new());
    }

    /// A provider missing from `full` is reported with the line to change.
    #[test]
    fn provider_missing_from_full() {
        let broken = UMBRELLA.replace(r#"full = ["fyber", "adgem"]"#, r#"full = ["fyber"]"#);
        let problems = check(&workspace(&broken));
        assert_eq!(
            problems,
            [
                "crates/adauth/Cargo.toml: `full` does not list `adgem`; add \"adgem\" to `full = [...]`"
            ]
        );
    }

    /// A provider crate without a feature is reported, naming the feature to add.
    #[test]
    fn provider_without_feature() {
        let broken = UMBRELLA
            .replace("adgem = [\"dep:adauth-adgem\"]\n", "")
            .replace(r#"full = ["fyber", "adgem"]"#, r#"full = ["fyber"]"#);
        let problems = check(&workspace(&broken));
        assert!(
            problems.iter().any(|p| p.contains(
                "provider crate `adauth-adgem` has no feature: add `adgem = [\"dep:adauth-adgem\"]`"
            )),
            "{problems:#?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("README.md: the feature table has a row `adgem`")),
            "{problems:#?}"
        );
    }

    /// A provider crate that is only a crate, registered nowhere, is reported with every
    /// place to change: the file and the line to add.
    #[test]
    fn an_unregistered_provider_is_reported_with_every_place_to_change() {
        let mut ws = workspace(UMBRELLA);
        let mut taboola = provider("adauth-taboola");
        taboola.manifest = taboola
            .manifest
            .replace("[features]\ntestkit = [\"dep:adauth-testkit\"]", "");
        taboola.crate_root = Some(format!("{}\n", super::DOC_LINE));
        ws.members.push(taboola);
        let problems = check(&ws).join("\n");
        for expected in [
            "Cargo.toml: [workspace.dependencies] has no `adauth-taboola`; add `adauth-taboola = { version = \"0.2.0\", path = \"crates/adauth-taboola\" }`",
            "crates/adauth-taboola/src/lib.rs: no `pub const DESCRIPTOR",
            "crates/adauth-taboola/src/lib.rs: the descriptor has no fake",
            "crates/adauth-taboola/Cargo.toml: no `testkit` feature",
            "crates/adauth/Cargo.toml: [dependencies] has no optional `adauth-taboola`",
            "crates/adauth/Cargo.toml: the `testkit` feature does not enable `adauth-taboola?/testkit`",
            "crates/adauth/src/lib.rs: `adauth-taboola` is not registered; add `\"taboola\" => taboola = adauth_taboola;`",
            "crates/adauth/Cargo.toml: provider crate `adauth-taboola` has no feature",
        ] {
            assert!(
                problems.contains(expected),
                "{expected}\nnot in:\n{problems}"
            );
        }
    }

    /// The real workspace passes every check, the generated tables included: tidy runs as
    /// a test too.
    #[test]
    fn the_workspace_is_tidy() {
        let ws = Workspace::load(&crate::cmd::project_root()).unwrap();
        assert_eq!(check(&ws), Vec::<String>::new());
        assert_eq!(super::generated_tables(&ws), Vec::<String>::new());
    }

    /// A feature row missing from a README table is reported.
    #[test]
    fn readme_table_missing_row() {
        let mut ws = workspace(UMBRELLA);
        ws.root_readme = ws.root_readme.replace("| `fyber` | Fyber | x |\n", "");
        assert_eq!(
            check(&ws),
            ["README.md: the feature table has no row for `fyber`; add `| \\`fyber\\` | ... |`"]
        );
    }

    /// Missing metadata, license files and a path dependency are each reported; a crate
    /// with `publish = false` needs no metadata.
    #[test]
    fn metadata_and_dependencies() {
        let mut ws = workspace(UMBRELLA);
        let fyber = &mut ws.members[2];
        fyber.manifest = fyber
            .manifest
            .replace("keywords = [\"oauth\"]\n", "")
            .replace(
                "adauth-core.workspace = true",
                "adauth-core = { path = \"../adauth-core\" }",
            );
        fyber
            .manifest
            .push_str("\n[dependencies]\nadauth-core = { path = \"../adauth-core\" }\n");
        fyber.files.remove("LICENSE-MIT");
        ws.members.push(Member {
            dir: "xtask".to_owned(),
            manifest: "[package]\nname = \"xtask\"\npublish = false\n".to_owned(),
            ..Member::default()
        });
        let problems = check(&ws);
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].contains("`adauth-core` is an internal crate"));
        assert!(problems[1].contains("published crate without `keywords`"));
        assert!(problems[2].contains("no LICENSE-MIT"));
    }
}
