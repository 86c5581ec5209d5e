//! `adauth sandbox`: local fakes of every provider, for trying tools and pipelines without
//! credentials.

use std::io::{BufRead, Write};
use std::time::Duration;

use crate::{Failure, note};

/// The variable that names the background sandbox's process, for `--stop`.
const PID_VAR: &str = "ADAUTH_SANDBOX_PID";

/// The line a background sandbox prints once its variables are out.
const READY: &str = "# adauth sandbox ready";

/// How long starting the background sandbox may take.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// `adauth sandbox`'s options.
#[derive(Debug, clap::Args)]
pub(crate) struct SandboxArgs {
    /// Serve in the foreground until Ctrl-C, even when stdout is not a terminal.
    #[arg(long, conflicts_with = "stop")]
    foreground: bool,
    /// Stop the background sandbox named by ADAUTH_SANDBOX_PID.
    #[arg(long)]
    stop: bool,
    /// The background sandbox itself (started by `adauth sandbox`).
    #[arg(long, hide = true)]
    serve: bool,
}

/// Prints `export NAME='value'` lines for the fakes' variables on stdout. On a terminal (or
/// with `--foreground`) it then serves until Ctrl-C or SIGTERM. Otherwise, as in
/// `eval "$(adauth sandbox)"`, the fakes run in a background process of their own, the
/// lines include `ADAUTH_SANDBOX_PID`, and the command returns; `adauth sandbox --stop`
/// ends them.
pub(crate) async fn run(args: &SandboxArgs, verbose: bool) -> Result<(), Failure> {
    use std::io::IsTerminal as _;
    if args.stop {
        return stop();
    }
    if args.serve {
        return serve(verbose, true).await;
    }
    if args.foreground || std::io::stdout().is_terminal() {
        return serve(verbose, false).await;
    }
    background(verbose)
}

/// Starts `adauth sandbox --serve` in a process group of its own (so that Ctrl-C in this
/// shell, or its end, does not stop it), passes its variables on, and returns.
fn background(verbose: bool) -> Result<(), Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::other(format!("could not find the adauth binary: {e}")))?;
    let mut command = std::process::Command::new(exe);
    command
        .args(["sandbox", "--serve"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| Failure::other(format!("could not start the sandbox: {e}")))?;
    let pid = child.id();
    let lines = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
    // Read on a thread, so that a child that never gets ready cannot hold this command.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = String::new();
        for line in lines.lines() {
            let Ok(line) = line else { break };
            if line == READY {
                let _ = tx.send(Some(out));
                return;
            }
            out.push_str(&line);
            out.push('\n');
        }
        let _ = tx.send(None);
    });
    let exports = match rx.recv_timeout(START_TIMEOUT) {
        Ok(Some(exports)) => exports,
        _ => {
            let _ = child.kill();
            return Err(Failure::other("the sandbox did not start"));
        }
    };
    let out = format!("{exports}export {PID_VAR}={pid}\n");
    print_out(&out)?;
    note!(verbose, "sandbox process {pid} started");
    eprintln!(
        "adauth: sandbox running in the background (process {pid}); stop it with `adauth sandbox --stop`"
    );
    Ok(())
}

/// Ends the background sandbox named by `ADAUTH_SANDBOX_PID`.
fn stop() -> Result<(), Failure> {
    let pid = adauth::provider_kit::env::optional(&adauth::provider_kit::env::process, PID_VAR)
        .ok_or_else(|| Failure::usage(format!("{PID_VAR} is not set: no sandbox to stop")))?;
    let pid: u32 = pid
        .trim()
        .parse()
        .map_err(|_| Failure::usage(format!("{PID_VAR} is not a process id")))?;
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success());
    match stopped {
        Ok(true) => {
            eprintln!("adauth: sandbox process {pid} stopped");
            Ok(())
        }
        _ => Err(Failure::other(format!(
            "could not stop process {pid} (it may have ended already)"
        ))),
    }
}

fn print_out(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::other(format!("could not print the variables: {e}")))
}

/// Starts the fakes, prints their variables and serves until Ctrl-C or SIGTERM.
async fn serve(verbose: bool, background: bool) -> Result<(), Failure> {
    let sandbox = adauth::testkit::sandbox()
        .build()
        .await
        .map_err(|e| Failure::other(format!("the sandbox could not start: {e}")))?;
    let mut out = String::new();
    for (name, value) in sandbox.env() {
        out.push_str(&format!("export {name}={}\n", shell_quote(&value)));
    }
    if background {
        out.push_str(READY);
        out.push('\n');
    }
    print_out(&out)?;
    for fake in sandbox.fakes() {
        note!(
            verbose,
            "{:<10} {} {}",
            fake.provider(),
            fake.protected_method(),
            fake.protected_url()
        );
    }
    if !background {
        eprintln!("adauth: sandbox running; press Ctrl-C to stop");
    }
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
