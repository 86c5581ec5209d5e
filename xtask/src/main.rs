//! Project automation for the adauth workspace.
//!
//! Run it as `cargo xtask <task>` (the alias lives in `.cargo/config.toml`).
//! It depends on nothing but `std`, so it builds in a second and keeps
//! working while the library crates are in flux.
//!
//! Each task lives in its own module and exposes a `run` function returning
//! [`Result<(), Failure>`]; `main` only parses the task name and maps the
//! outcome to an exit code.
#![forbid(unsafe_code)]

mod ci;
mod cmd;
mod fuzz;
mod generated;
mod msrv;
mod release;
mod tidy;
mod toml;

use std::fmt;
use std::process::ExitCode;

/// Usage text printed by `cargo xtask help` and on a usage error.
const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  ci [--skip-tests]  run every check CI runs, stopping at the first failure:
                     tidy, fmt, clippy, test, doc (plain and as docs.rs builds it),
                     feature matrix, MSRV of the dependencies, cargo-deny
                     (--skip-tests leaves out `cargo test --workspace --all-features`)
  tidy [--fix]       check crate metadata, internal dependencies, the umbrella's
                     features, each provider's registration, and the README tables
                     generated from the registry (--fix rewrites those tables)
  msrv               check that no dependency needs a newer Rust than our rust-version
  release <VERSION> [--dry-run]
                     set the version, date the changelog, run ci, package and verify
                     every crate; without --dry-run also commit, publish and tag
  fuzz [CASES]       run the parsers' property tests in release mode with CASES
                     cases each (default 1,000,000; `cargo test` runs 10,000)
  features           check the `adauth` crate with each of its features alone,
                     with none and with all of them
  help               print this message
";

/// Why a task did not complete.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command line was not understood; the usage text is printed.
    Usage(String),
    /// A step ran and failed, or could not be started.
    Step {
        /// Short name of the step, such as `clippy`.
        step: &'static str,
        /// The command line of the step, as shown in its header.
        command: String,
        /// What went wrong: the exit status, or the error that kept it from starting.
        reason: String,
    },
    /// Anything else, such as a manifest that could not be read.
    Other(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(msg) | Self::Other(msg) => f.write_str(msg),
            Self::Step {
                step,
                command,
                reason,
            } => write!(f, "step `{step}` failed: `{command}` {reason}"),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };

    let outcome = match task {
        "ci" => ci::run(rest),
        "features" => no_options(task, rest).and_then(|()| ci::features()),
        "tidy" => match rest {
            [] => tidy::run(false),
            [fix] if fix == "--fix" => tidy::run(true),
            _ => Err(Failure::Usage("tidy takes only `--fix`".to_owned())),
        },
        "msrv" => no_options(task, rest).and_then(|()| msrv::run()),
        "release" => release::run(rest),
        "fuzz" => fuzz::run(rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(Failure::Usage(format!("unknown task `{other}`"))),
    };

    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}\n");
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
        Err(failure) => {
            eprintln!("==> [xtask] error: {failure}");
            ExitCode::FAILURE
        }
    }
}

/// Rejects any argument given to a task that takes none.
fn no_options(task: &str, rest: &[String]) -> Result<(), Failure> {
    match rest.first() {
        None => Ok(()),
        Some(arg) => Err(Failure::Usage(format!(
            "task `{task}` takes no arguments, got `{arg}`"
        ))),
    }
}
