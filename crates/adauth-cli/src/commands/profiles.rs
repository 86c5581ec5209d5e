//! `adauth profiles`: the config file's profiles and where each setting comes from.

use std::fmt::Write as _;

use adauth::config::Config;

use crate::Failure;

/// Prints the config file's path and each profile: its provider and its settings, each
/// with where its value comes from (never a value).
pub(crate) fn run() -> Result<(), Failure> {
    let config = Config::load()?;
    print!("{}", listing(&config));
    Ok(())
}

fn listing(config: &Config) -> String {
    let mut out = String::new();
    if config.path().as_os_str().is_empty() {
        out.push_str("no config file (set ADAUTH_CONFIG or HOME)\n");
        return out;
    }
    let _ = writeln!(out, "config file: {}", config.path().display());
    let mut any = false;
    for profile in config.profiles() {
        any = true;
        let _ = writeln!(out, "{}  ({})", profile.name(), profile.provider().name());
        for (var, from) in profile.settings() {
            let _ = writeln!(out, "  {var}  {from}");
        }
    }
    if !any {
        out.push_str("no profiles\n");
    }
    out
}
