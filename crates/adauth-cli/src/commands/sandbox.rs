//! `adauth sandbox`: local fakes of every provider, for trying tools and pipelines without
//! credentials.

use std::io::Write;

use adauth_testkit::Sandbox;

use crate::{Failure, note};

/// Starts the fakes, prints `export NAME='value'` lines for their variables on stdout
/// (so `eval "$(adauth sandbox)"`-style use works), and serves until Ctrl-C or SIGTERM.
pub(crate) async fn run(verbose: bool) -> Result<(), Failure> {
    let sandbox = Sandbox::start()
        .await
        .map_err(|e| Failure::other(format!("the sandbox could not start: {e}")))?;
    let mut out = String::new();
    for (name, value) in sandbox.env() {
        out.push_str(&format!("export {name}={}\n", shell_quote(&value)));
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::other(format!("could not print the variables: {e}")))?;
    drop(stdout);
    for fake in sandbox.fakes() {
        note!(
            verbose,
            "{:<10} {} {}",
            fake.provider(),
            fake.protected_method(),
            fake.protected_url()
        );
    }
    eprintln!("adauth: sandbox running; press Ctrl-C to stop");
    wait_for_shutdown()
        .await
        .map_err(|e| Failure::other(format!("could not wait for a signal: {e}")))?;
    drop(sandbox);
    Ok(())
}

/// Returns on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn wait_for_shutdown() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

/// `value` in single quotes for a POSIX shell.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_quote("http://127.0.0.1:1"), "'http://127.0.0.1:1'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
