//! A small helper to run external commands from the workspace root.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::Failure;

/// The workspace root: the parent of this crate's manifest directory.
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Whether the environment variable `CI` is set to anything.
pub(crate) fn on_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// Prints a line to stderr with the `==> [xtask]` prefix used by every task.
pub(crate) fn say(msg: &str) {
    eprintln!("==> [xtask] {msg}");
}

/// A command to run from the workspace root, with the environment inherited.
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    /// The program actually executed.
    program: OsString,
    /// How the program is shown in messages.
    label: String,
    /// Arguments after the program.
    args: Vec<String>,
    /// Extra environment variables, shown before the program in messages.
    envs: Vec<(String, String)>,
}

impl Cmd {
    /// A cargo invocation, using the cargo that runs xtask (env `CARGO`)
    /// or else the first `cargo` on the `PATH`.
    pub(crate) fn cargo<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            program: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            label: "cargo".to_owned(),
            args: args.into_iter().map(Into::into).collect(),
            envs: Vec::new(),
        }
    }

    /// Sets an environment variable for this command only.
    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The command line as a person would type it in a shell.
    pub(crate) fn display(&self) -> String {
        let envs = self.envs.iter().map(|(k, v)| format!("{k}={}", quote(v)));
        let words = std::iter::once(self.label.clone()).chain(self.args.iter().map(|a| quote(a)));
        envs.chain(words).collect::<Vec<_>>().join(" ")
    }

    /// The underlying [`Command`], set to run from the workspace root.
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .current_dir(project_root());
        command
    }

    /// Runs the command with its output silenced; true if it started and exited 0.
    pub(crate) fn succeeds_quietly(&self) -> bool {
        self.command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Runs the command as part of the step `step` and returns its standard output; its
    /// standard error is let through.
    pub(crate) fn output_of_step(&self, step: &'static str) -> Result<String, Failure> {
        let line = self.display();
        say(&format!("{step}: {line}"));
        let fail = |reason: String| Failure::Step {
            step,
            command: line.clone(),
            reason,
        };
        let output = self
            .command()
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|err| fail(format!("could not be started: {err}")))?;
        if !output.status.success() {
            return Err(fail(format!("exited with {}", output.status)));
        }
        String::from_utf8(output.stdout).map_err(|_| fail("printed non-UTF-8 output".to_owned()))
    }

    /// Runs the command as part of the step `step` with its output captured, then prints
    /// that output; returns whether it exited 0 and what it printed on both streams.
    pub(crate) fn run_captured(&self, step: &'static str) -> Result<(bool, String), Failure> {
        let line = self.display();
        say(&format!("{step}: {line}"));
        let output = self
            .command()
            .stdin(Stdio::null())
            .output()
            .map_err(|err| Failure::Step {
                step,
                command: line.clone(),
                reason: format!("could not be started: {err}"),
            })?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        eprint!("{text}");
        Ok((output.status.success(), text))
    }

    /// A command other than cargo, such as `git`.
    pub(crate) fn program<I, S>(program: &str, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            program: program.into(),
            label: program.to_owned(),
            args: args.into_iter().map(Into::into).collect(),
            envs: Vec::new(),
        }
    }

    /// Runs the command as the step `step`: prints a header naming it, lets
    /// its output through, then prints how long it took.
    pub(crate) fn run_step(&self, step: &'static str) -> Result<(), Failure> {
        let line = self.display();
        say(&format!("{step}: {line}"));
        let start = Instant::now();
        let result = self.command().status();
        let secs = start.elapsed().as_secs_f64();
        let reason = match result {
            Ok(status) if status.success() => {
                say(&format!("{step}: ok ({secs:.1}s)"));
                return Ok(());
            }
            Ok(status) => match status.code() {
                Some(code) => format!("exited with status {code}"),
                None => format!("was stopped ({status})"),
            },
            Err(err) => format!("could not be started: {err}"),
        };
        say(&format!("{step}: FAILED ({secs:.1}s)"));
        Err(Failure::Step {
            step,
            command: line,
            reason,
        })
    }
}

/// Quotes a word for display if a shell would split or expand it.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=./:,+@".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::{Cmd, quote};

    /// Plain words are shown as they are, others in single quotes.
    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("--all-features"), "--all-features");
        assert_eq!(quote("-D warnings"), "'-D warnings'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    /// Environment variables come first, and the program is shown as `cargo`.
    #[test]
    fn displays_like_a_shell_line() {
        let cmd = Cmd::cargo(["doc", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            cmd.display(),
            "RUSTDOCFLAGS='-D warnings' cargo doc --no-deps"
        );
    }
}
