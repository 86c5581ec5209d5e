//! One run of `adauth token` with a fetch (`--no-cache`) beside one served from the disk
//! cache, against the sandbox's fake of the first provider, in one run, as a ratio: what a
//! shell script pays per call.
//!
//! Run with `cargo bench -p adauth-cli --bench command`.

use std::process::Command;
use std::time::Instant;

#[path = "../../adauth-core/benches/support/compare.rs"]
mod compare;
use compare::{Case, Plan, compare};

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox = runtime
        .block_on(adauth::testkit::sandbox().build())
        .expect("sandbox");
    let fake = &sandbox.fakes()[0];
    let provider = fake.provider();
    let cache_dir =
        std::env::temp_dir().join(format!("adauth-bench-cache-{}", adauth::new_revision()));
    let adauth = env!("CARGO_BIN_EXE_adauth");
    let command = |args: &[&str]| {
        let mut command = Command::new(adauth);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ADAUTH_") {
                command.env_remove(name);
            }
        }
        command
            .envs(fake.env())
            .env("ADAUTH_CACHE_DIR", &cache_dir)
            .args(args);
        command
    };
    let run = |args: &'static [&'static str], n: u64| {
        let start = Instant::now();
        for _ in 0..n {
            let mut all = vec!["token", provider];
            all.extend_from_slice(args);
            let out = command(&all).output().expect("adauth runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        start.elapsed()
    };
    // Fill the disk cache.
    run(&[], 1);
    compare(
        &format!("adauth token {provider}, one run"),
        &Plan {
            rounds: 9,
            batch: 10,
            slice: 10,
        },
        vec![
            Case::timed("served from the disk cache", |n| run(&[], n)),
            Case::timed("--no-cache (a token request)", |n| run(&["--no-cache"], n)),
            Case::timed("--format header, from the disk cache", |n| {
                run(&["--format", "header"], n)
            }),
        ],
    );
    let _ = std::fs::remove_dir_all(&cache_dir);
}
