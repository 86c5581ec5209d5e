//! The cached path reads the system clock through the C library, so a program that uses
//! adauth runs under valgrind (which provides no vDSO of the kernel's), as pipelines are
//! profiled and checked for leaks. The check runs this same test binary, its ignored test
//! below, under `valgrind --tool=none`.

use std::process::Command;
use std::time::Duration;

const CHILD: &str = "child_reads_the_system_clock_and_a_cached_token";

#[test]
#[cfg_attr(no_valgrind, ignore = "valgrind is not installed")]
fn a_program_using_the_system_clock_runs_under_valgrind() {
    let output = Command::new("valgrind")
        .args(["-q", "--tool=none", "--error-exitcode=99"])
        .arg(std::env::current_exe().unwrap())
        .args([
            CHILD,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .expect("valgrind runs");
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "under valgrind:\n{shown}");
    assert!(
        shown.contains(&format!("{CHILD} ... ok")),
        "the child test did not run:\n{shown}"
    );
}

#[derive(Debug)]
struct Instant1h;

#[adauth::async_trait]
impl adauth::TokenSource for Instant1h {
    fn provider(&self) -> &str {
        "instant"
    }
    async fn fetch(&self, cx: &adauth::FetchContext) -> adauth::Result<adauth::Token> {
        let now = cx.now();
        Ok(adauth::Token::new(
            adauth::secrecy::SecretString::from("t"),
            now,
            now + Duration::from_secs(3600),
        ))
    }
}

#[tokio::test]
#[ignore = "run by a_program_using_the_system_clock_runs_under_valgrind"]
async fn child_reads_the_system_clock_and_a_cached_token() {
    use adauth::Clock as _;

    let before = std::time::SystemTime::now();
    let now = adauth::SystemClock.now();
    assert!(now <= before + Duration::from_secs(1), "{now:?} {before:?}");
    assert!(now + Duration::from_secs(1) >= before, "{now:?} {before:?}");
    let cache = adauth::TokenCache::new(Instant1h);
    let first = cache.token().await.unwrap().into_arc();
    let again = cache.token().await.unwrap().into_arc();
    assert!(std::sync::Arc::ptr_eq(&first, &again), "served from memory");
}
