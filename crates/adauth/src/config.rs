//! Named profiles in a config file, shared by the `adauth` command and programs.
//!
//! The file is TOML, at `ADAUTH_CONFIG` or else `$XDG_CONFIG_HOME/adauth/config.toml`
//! (`~/.config/adauth/config.toml`). Each profile names its provider and sets that
//! provider's variables by their short names: `api_token` for `ADAUTH_MEDIAGO_API_TOKEN`.
//! Any setting may instead come from a command's output (`<name>_command`, run with
//! `sh -c`, as git credential helpers and AWS's `credential_process` are) or a file
//! (`<name>_file`), so that secrets need not be in the config at all:
//!
//! ```toml
//! [profiles.eu-agency]
//! provider = "mediago"
//! api_token_command = "pass show mediago/eu-agency"
//! account_id = "100146"
//!
//! [profiles.reports]
//! provider = "fyber"
//! client_id = "210263"
//! client_secret_file = "~/.secrets/fyber"
//! ```
//!
//! - **Environment variables win**: a variable set in the environment overrides the
//!   profile's setting (its command is then not run).
//! - **Refused permissions**: a config file that others may write, or that belongs to
//!   another user than you or root, is refused (its commands run as you), and so is one that
//!   holds a secret inline and that others may read.
//! - **Bounded**: a command gets [`DEFAULT_COMMAND_TIMEOUT`] (30 s;
//!   [`Config::command_timeout`]) and at most 64 KiB of output.
//!
//! ```no_run
//! # fn run() -> adauth::Result<()> {
//! let config = adauth::config::Config::load()?;
//! let source = config.profile("eu-agency")?.source()?;
//! let cache = adauth::TokenCache::builder_arc(source.into()).build();
//! # let _ = cache; Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{Error, Provider, Result, TokenSource};

/// `ADAUTH_CONFIG`: the config file's path.
pub const CONFIG_VAR: &str = "ADAUTH_CONFIG";

/// `ADAUTH_PROFILE`: the profile the command uses when `--profile` is not given.
pub const PROFILE_VAR: &str = "ADAUTH_PROFILE";

/// How long a setting's command may run unless [`Config::command_timeout`] says otherwise.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The most output read from a setting's command or file.
const MAX_VALUE_BYTES: u64 = 64 * 1024;

const WHO: &str = "adauth";

/// A parsed config file: its profiles.
#[derive(Clone)]
pub struct Config {
    path: PathBuf,
    profiles: BTreeMap<String, Profile>,
    timeout: Duration,
}

/// One profile: a provider and its settings.
#[derive(Clone)]
pub struct Profile {
    name: String,
    provider: &'static Provider,
    settings: BTreeMap<&'static str, Setting>,
    /// Where `_file` paths are relative to: the config file's directory.
    base: PathBuf,
    timeout: Duration,
}

/// Where a setting's value comes from.
#[derive(Clone)]
enum Setting {
    Plain(String),
    Secret(SecretString),
    Command(String),
    File(String),
}

impl Setting {
    fn kind(&self) -> &'static str {
        match self {
            Setting::Plain(_) => "value",
            Setting::Secret(_) => "secret value",
            Setting::Command(_) => "command",
            Setting::File(_) => "file",
        }
    }
}

impl Config {
    /// The config file's path from the process environment: `ADAUTH_CONFIG`, else
    /// `$XDG_CONFIG_HOME/adauth/config.toml`, else `$HOME/.config/adauth/config.toml`.
    pub fn default_path() -> Option<PathBuf> {
        Self::path_from(&adauth_core::provider_kit::env::process)
    }

    /// As [`default_path`](Self::default_path), with variables from `lookup`.
    pub fn path_from(lookup: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(path) = set(CONFIG_VAR) {
            return Some(PathBuf::from(path));
        }
        let dir = match set("XDG_CONFIG_HOME") {
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from(set("HOME")?).join(".config"),
        };
        Some(dir.join("adauth").join("config.toml"))
    }

    /// Reads the config file at [`default_path`](Self::default_path). A file that does not
    /// exist is an empty config, unless `ADAUTH_CONFIG` names it.
    pub fn load() -> Result<Self> {
        let Some(path) = Self::default_path() else {
            return Ok(Self::empty(PathBuf::new()));
        };
        let named = adauth_core::provider_kit::env::process(CONFIG_VAR)
            .is_some_and(|v| !v.trim().is_empty());
        if !named && !path.exists() {
            return Ok(Self::empty(path));
        }
        Self::from_path(&path)
    }

    /// Reads the config file at `path`, refusing one that others may write, or that holds
    /// a secret inline and others may read.
    pub fn from_path(path: &Path) -> Result<Self> {
        let text = read_bounded(path).map_err(|e| {
            Error::configuration(
                WHO,
                format!("the config file {} could not be read: {e}", path.display()),
            )
        })?;
        let config = Self::parse(&text, path)?;
        config.check_permissions()?;
        Ok(config)
    }

    /// Parses config text; `path` names it in errors and anchors relative `_file` paths. No
    /// permission is checked.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            // The error's own rendering quotes the line, which may hold a secret: only its
            // position and message are shown.
            let at = e.span().map(|span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!(", line {line}, column {column}")
            });
            Error::configuration(
                WHO,
                format!(
                    "the config file {}{} is not valid TOML: {}",
                    path.display(),
                    at.unwrap_or_default(),
                    e.message()
                ),
            )
        })?;
        let bad = |message: String| {
            Error::configuration(
                WHO,
                format!("the config file {}: {message}", path.display()),
            )
        };
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut profiles = BTreeMap::new();
        for (key, value) in &table {
            if key != "profiles" {
                return Err(bad(format!(
                    "unknown section `{key}` (profiles go under [profiles.<name>])"
                )));
            }
            let Some(entries) = value.as_table() else {
                return Err(bad("`profiles` must be a table of [profiles.<name>]".into()));
            };
            for (name, entry) in entries {
                let Some(entry) = entry.as_table() else {
                    return Err(bad(format!("profile `{name}` must be a table")));
                };
                let profile = Profile::parse(name, entry, &base, DEFAULT_COMMAND_TIMEOUT)
                    .map_err(|m| bad(format!("profile `{name}`: {m}")))?;
                profiles.insert(name.clone(), profile);
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            profiles,
            timeout: DEFAULT_COMMAND_TIMEOUT,
        })
    }

    fn empty(path: PathBuf) -> Self {
        Self {
            path,
            profiles: BTreeMap::new(),
            timeout: DEFAULT_COMMAND_TIMEOUT,
        }
    }

    /// How long each setting's command may run (default [`DEFAULT_COMMAND_TIMEOUT`],
    /// 30 s; at least 1 ms).
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        for profile in self.profiles.values_mut() {
            profile.timeout = self.timeout;
        }
        self
    }

    /// The file's path (empty when no path could be found: no `HOME`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The profiles, by name.
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }

    /// The profile called `name`, or an error listing those there are.
    pub fn profile(&self, name: &str) -> Result<&Profile> {
        self.profiles.get(name.trim()).ok_or_else(|| {
            let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            Error::configuration(
                WHO,
                if known.is_empty() {
                    format!(
                        "no profile `{name}`: {} has no profiles",
                        self.describe_path()
                    )
                } else {
                    format!(
                        "no profile `{name}` in {}; profiles: {}",
                        self.describe_path(),
                        known.join(", ")
                    )
                },
            )
        })
    }

    fn describe_path(&self) -> String {
        if self.path.as_os_str().is_empty() {
            "the config (no file)".to_owned()
        } else {
            self.path.display().to_string()
        }
    }

    #[cfg(unix)]
    fn check_permissions(&self) -> Result<()> {
        use std::os::unix::fs::MetadataExt as _;
        let meta = std::fs::metadata(&self.path)
            .map_err(|e| Error::configuration(WHO, format!("{}: {e}", self.path.display())))?;
        let mode = meta.mode();
        let fix = format!("chmod 600 {}", self.path.display());
        let me = rustix::process::getuid().as_raw();
        if let Some(why) = foreign_owner(meta.uid(), me) {
            return Err(Error::configuration(
                WHO,
                format!(
                    "the config file {} {why}, and its commands would run as you: use a file \
                     of your own",
                    self.path.display()
                ),
            ));
        }
        if mode & 0o022 != 0 {
            return Err(Error::configuration(
                WHO,
                format!(
                    "the config file {} can be written by others (mode {:o}), and its commands \
                     run as you: {fix}",
                    self.path.display(),
                    mode & 0o777
                ),
            ));
        }
        let inline = self.profiles.values().find_map(|p| {
            p.settings
                .iter()
                .find(|(_, s)| matches!(s, Setting::Secret(_)))
                .map(|(var, _)| (p, *var))
        });
        if let Some((profile, var)) = inline
            && mode & 0o044 != 0
        {
            return Err(Error::configuration(
                WHO,
                format!(
                    "the config file {} holds a secret (profile `{}`, `{}`) and can be read by \
                     others (mode {:o}): {fix}, or use `{}_command` or `{}_file`",
                    self.path.display(),
                    profile.name,
                    profile.short_name(var),
                    mode & 0o777,
                    profile.short_name(var),
                    profile.short_name(var),
                ),
            ));
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn check_permissions(&self) -> Result<()> {
        Ok(())
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("path", &self.path)
            .field("profiles", &self.profiles.values().collect::<Vec<_>>())
            .finish()
    }
}

impl Profile {
    fn parse(
        name: &str,
        entry: &toml::Table,
        base: &Path,
        timeout: Duration,
    ) -> std::result::Result<Self, String> {
        let provider_name = match entry.get("provider") {
            Some(toml::Value::String(p)) => p,
            Some(_) => return Err("`provider` must be a string".into()),
            None => return Err("`provider` is missing".into()),
        };
        let provider = crate::provider(provider_name).ok_or_else(|| {
            let known: Vec<&str> = crate::PROVIDERS.iter().map(|p| p.name()).collect();
            format!(
                "unknown provider `{provider_name}`; compiled in: {}",
                known.join(", ")
            )
        })?;
        let mut profile = Self {
            name: name.to_owned(),
            provider,
            settings: BTreeMap::new(),
            base: base.to_path_buf(),
            timeout,
        };
        for (key, value) in entry {
            if key == "provider" {
                continue;
            }
            let (short, how) = match (key.strip_suffix("_command"), key.strip_suffix("_file")) {
                (Some(short), _) => (short, "command"),
                (_, Some(short)) => (short, "file"),
                _ => (key.as_str(), "value"),
            };
            let Some(var) = profile.variable(short) else {
                let known: Vec<String> = provider
                    .env_vars()
                    .iter()
                    .map(|v| profile.short_name(v.name()))
                    .collect();
                return Err(format!(
                    "`{key}` is not a setting of {}; settings: {} (each may also be \
                     `<setting>_command` or `<setting>_file`)",
                    provider.name(),
                    known.join(", ")
                ));
            };
            let text = match value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(n) if how == "value" => n.to_string(),
                toml::Value::Boolean(b) if how == "value" => if *b { "1" } else { "0" }.to_owned(),
                _ => return Err(format!("`{key}` must be a string")),
            };
            let setting = match how {
                "command" => Setting::Command(text),
                "file" => Setting::File(text),
                _ if var.is_secret() => Setting::Secret(SecretString::from(text)),
                _ => Setting::Plain(text),
            };
            if profile.settings.insert(var.name(), setting).is_some() {
                return Err(format!(
                    "`{short}` is set more than once (as a value, a command or a file)"
                ));
            }
        }
        Ok(profile)
    }

    /// The provider's variable whose short name is `short`.
    fn variable(&self, short: &str) -> Option<&'static adauth_core::EnvVar> {
        self.provider
            .env_vars()
            .iter()
            .find(|v| self.short_name(v.name()).eq_ignore_ascii_case(short))
    }

    /// `ADAUTH_MEDIAGO_API_TOKEN` → `api_token`.
    fn short_name(&self, var: &str) -> String {
        let prefix = format!("ADAUTH_{}_", self.provider.name().to_ascii_uppercase());
        var.strip_prefix(&prefix)
            .unwrap_or(var)
            .to_ascii_lowercase()
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The provider it is for.
    pub fn provider(&self) -> &'static Provider {
        self.provider
    }

    /// The variables it sets, each with where its value comes from (`value`, `secret
    /// value`, `command`, `file`); never a value.
    pub fn settings(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.settings.iter().map(|(var, s)| (*var, s.kind()))
    }

    /// The provider's variables as this profile and the process environment give them, the
    /// environment first. Commands and files are read now, for the variables the
    /// environment does not set.
    pub fn lookup(&self) -> Result<impl Fn(&str) -> Option<String> + Send + Sync + use<>> {
        self.lookup_over(&adauth_core::provider_kit::env::process)
    }

    /// As [`lookup`](Self::lookup), with `env` in place of the process environment.
    pub fn lookup_over(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<impl Fn(&str) -> Option<String> + Send + Sync + use<>> {
        let mut values: BTreeMap<&'static str, SecretString> = BTreeMap::new();
        let mut env_values: BTreeMap<&'static str, SecretString> = BTreeMap::new();
        for var in self.provider.env_vars() {
            if let Some(value) = env(var.name()) {
                env_values.insert(var.name(), SecretString::from(value));
            }
        }
        for (var, setting) in &self.settings {
            if env_values.contains_key(var) {
                continue;
            }
            values.insert(var, self.resolve(var, setting)?);
        }
        values.extend(env_values);
        Ok(move |name: &str| values.get(name).map(|v| v.expose_secret().to_owned()))
    }

    /// A source for the profile's provider from [`lookup`](Self::lookup).
    pub fn source(&self) -> Result<Box<dyn TokenSource>> {
        self.provider.source_from_lookup(&self.lookup()?)
    }

    fn resolve(&self, var: &str, setting: &Setting) -> Result<SecretString> {
        let short = self.short_name(var);
        let fail = |message: String| {
            Error::configuration(WHO, format!("profile `{}`: {message}", self.name))
        };
        let value = match setting {
            Setting::Plain(text) => return Ok(SecretString::from(text.clone())),
            Setting::Secret(secret) => return Ok(secret.clone()),
            Setting::File(path) => {
                let path = self.path_of(path);
                read_bounded(&path).map_err(|e| {
                    fail(format!(
                        "`{short}_file` {} could not be read: {e}",
                        path.display()
                    ))
                })?
            }
            Setting::Command(command) => run(command, self.timeout)
                .map_err(|why| fail(format!("`{short}_command` {why}")))?,
        };
        let value = value.strip_suffix('\n').unwrap_or(&value);
        let value = value.strip_suffix('\r').unwrap_or(value);
        if value.trim().is_empty() {
            return Err(fail(format!("`{short}` came out empty")));
        }
        Ok(SecretString::from(value.to_owned()))
    }

    fn path_of(&self, path: &str) -> PathBuf {
        if let Some(rest) = path.strip_prefix("~/")
            && let Some(home) = adauth_core::provider_kit::env::process("HOME")
        {
            return PathBuf::from(home).join(rest);
        }
        let path = PathBuf::from(path);
        if path.is_relative() {
            self.base.join(path)
        } else {
            path
        }
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("provider", &self.provider.name())
            .field("settings", &self.settings().collect::<Vec<_>>())
            .finish()
    }
}

/// Why a config file owned by `owner` must not be run by user `me`: its owner could make
/// its commands anything. Yours and root's are trusted, as ssh trusts its config files.
fn foreign_owner(owner: u32, me: u32) -> Option<String> {
    (owner != me && owner != 0).then(|| format!("belongs to another user (uid {owner})"))
}

/// Reads at most [`MAX_VALUE_BYTES`] of a file as text.
fn read_bounded(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_VALUE_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_VALUE_BYTES {
        return Err(std::io::Error::other("it is larger than 64 KiB"));
    }
    Ok(text)
}

/// Runs `command` with `sh -c`, without input, and returns its output; a failure says why
/// without repeating the output.
fn run(command: &str, timeout: Duration) -> std::result::Result<String, String> {
    use wait_timeout::ChildExt as _;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not be started: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("has no output")?;
    let mut stderr = child.stderr.take().ok_or("has no error output")?;
    // Read on threads, so that a chatty command cannot fill a pipe and hang.
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let read = (&mut stdout)
            .take(MAX_VALUE_BYTES + 1)
            .read_to_string(&mut text);
        read.map(|_| text)
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = (&mut stderr).take(4096).read_to_string(&mut text);
        text
    });
    let status = match child.wait_timeout(timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("did not finish within {} s", timeout.as_secs_f64()));
        }
        Err(e) => return Err(format!("could not be waited for: {e}")),
    };
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        let said = stderr.lines().next().unwrap_or("").trim();
        return Err(if said.is_empty() {
            format!("failed ({status})")
        } else {
            format!(
                "failed ({status}): {}",
                adauth_core::redact_excerpt(said.as_bytes())
            )
        });
    }
    let text = out
        .join()
        .map_err(|_| "its output could not be read".to_owned())?
        .map_err(|e| format!("its output is not text: {e}"))?;
    if text.len() as u64 > MAX_VALUE_BYTES {
        return Err("printed more than 64 KiB".to_owned());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::foreign_owner;

    #[test]
    fn only_files_of_the_user_or_root_are_trusted() {
        assert_eq!(foreign_owner(1000, 1000), None);
        assert_eq!(
            foreign_owner(0, 1000),
            None,
            "root's, such as /etc/adauth.toml"
        );
        assert_eq!(foreign_owner(0, 0), None);
        let why = foreign_owner(1001, 1000).expect("another user's file is refused");
        assert!(why.contains("uid 1001"), "{why}");
        assert!(
            foreign_owner(1000, 0).is_some(),
            "root does not run a user's commands"
        );
    }
}
