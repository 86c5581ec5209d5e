//! `cargo xtask fuzz [CASES]`: the parsers' property tests, for a long session.
//!
//! The same tests run in `cargo test` with 10,000 cases each; here they run in release mode
//! with `CASES` each (default 1,000,000).

use crate::Failure;
use crate::cmd::Cmd;

/// The property tests over parsers of provider and store bytes, by package and target.
const SUITES: &[(&str, &[&str])] = &[
    ("adauth-core", &["--test", "parsers"]),
    ("adauth-core", &["--lib", "record::"]),
    ("adauth-mediago", &["--lib", "wire::"]),
    ("adauth-admitad", &["--lib", "error::"]),
];

/// Runs every suite with `args[0]` cases (default 1,000,000).
pub(crate) fn run(args: &[String]) -> Result<(), Failure> {
    let cases = match args {
        [] => 1_000_000,
        [n] => n
            .parse::<u64>()
            .map_err(|_| Failure::Usage(format!("fuzz: {n:?} is not a number of cases")))?,
        _ => return Err(Failure::Usage("fuzz takes at most one argument".to_owned())),
    };
    for (package, target) in SUITES {
        let (kind, filter) = (target[0], target[1]);
        let mut cmd = vec!["test", "--release", "-p", package, kind];
        if kind == "--test" {
            cmd.push(filter);
        } else {
            cmd.extend(["--", filter]);
        }
        Cmd::cargo(cmd)
            .env("PROPTEST_CASES", &cases.to_string())
            .run_step("fuzz")?;
    }
    Ok(())
}
