#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod cache;
mod commands;
mod demo;

use std::fmt;
use std::process::ExitCode;
use std::time::Duration;

use adauth::ErrorKind;
use clap::{Parser, Subcommand};

use commands::{request::RequestArgs, token::TokenArgs};

/// Access tokens for advertising-platform APIs, from the command line.
#[derive(Debug, Parser)]
#[command(name = "adauth", version, about, long_about = None)]
struct Cli {
    /// Show progress and timing on stderr (never a secret).
    #[arg(short, long, global = true)]
    verbose: bool,

    /// Give up after this many seconds in all (default: 60 for `token`, 300 for `request`).
    #[arg(long, global = true, env = "ADAUTH_TIMEOUT", value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    timeout: Option<u64>,

    /// Take the provider's settings from this profile of the config file (`adauth
    /// profiles` lists them); variables set in the environment still win.
    #[arg(long, global = true, env = "ADAUTH_PROFILE", value_name = "NAME")]
    profile: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print an access token for a provider (from the disk cache while it is fresh).
    Token(TokenArgs),
    /// Send an API request with the provider's auth applied; the body goes to stdout.
    Request(RequestArgs),
    /// Authorize adauth as a user, in the browser (the authorization-code grant): the
    /// grant is kept in the token store, and `adauth token` then gives the user's tokens.
    Login(commands::login::LoginArgs),
    /// Forget the grant of `adauth login`.
    Logout(commands::login::LogoutArgs),
    /// List the providers compiled in and which of their variables are set.
    Providers,
    /// List the profiles of the config file (`ADAUTH_CONFIG`, or
    /// `~/.config/adauth/config.toml`) and where each setting comes from.
    Profiles,
    /// Run local fakes of every provider and print the variables that point at them
    /// (`eval "$(adauth sandbox)"` starts them in the background).
    Sandbox(commands::sandbox::SandboxArgs),
    /// Show every provider working against local fakes: no credentials, no network.
    Demo,
    /// Print a completion script for a shell: `source <(adauth completions bash)`, or
    /// `adauth completions fish > ~/.config/fish/completions/adauth.fish`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Why a command failed, and the exit code that says so.
#[derive(Debug)]
pub(crate) struct Failure {
    code: u8,
    message: Option<String>,
}

impl Failure {
    /// Exit code 2: bad usage or configuration.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: Some(message.into()),
        }
    }

    /// Exit code 1 with a message.
    pub(crate) fn other(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: Some(message.into()),
        }
    }

    /// Exit code 1 with nothing more to say (the command already said it).
    pub(crate) fn silent() -> Self {
        Self {
            code: 1,
            message: None,
        }
    }
}

/// The exit code for an adauth error: 2 configuration, 3 credentials rejected, 4 the
/// provider could not be reached or kept failing, 1 anything else.
pub(crate) fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Configuration => 2,
        ErrorKind::CredentialsRejected => 3,
        ErrorKind::ProviderUnavailable
        | ErrorKind::RateLimited
        | ErrorKind::Timeout
        | ErrorKind::Transport => 4,
        _ => 1,
    }
}

impl From<adauth::Error> for Failure {
    fn from(err: adauth::Error) -> Self {
        let message = err.to_string();
        // Errors of the umbrella itself name it "adauth", as every line here begins.
        let message = match message.strip_prefix("adauth: ") {
            Some(rest) => rest.to_owned(),
            None => message,
        };
        Self {
            code: exit_code(err.kind()),
            message: Some(message),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message.as_deref().unwrap_or("failed"))
    }
}

/// Prints a progress line on stderr when `-v` was given. Never pass it a secret.
macro_rules! note {
    ($verbose:expr, $($arg:tt)*) => {
        if $verbose {
            eprintln!("adauth: {}", format_args!($($arg)*));
        }
    };
}
pub(crate) use note;

/// Shows the library's `tracing` warnings (a token store that fails, a cache that goes on
/// alone) on stderr, and with `-v` its debug events too; the cache's warning about a failed
/// fetch only with `-v`, since the command reports the failure itself. Other crates' events stay at
/// warnings, so that no HTTP library's debug output (URLs, headers) is ever printed.
fn log_to_stderr(verbose: bool) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let ours = if verbose {
        LevelFilter::DEBUG
    } else {
        LevelFilter::WARN
    };
    let filter = Targets::new()
        .with_default(LevelFilter::WARN)
        .with_target("adauth", ours)
        // A failed fetch is the command's own error message: not said twice.
        .with_target(
            "adauth_core::cache",
            if verbose {
                LevelFilter::DEBUG
            } else {
                LevelFilter::ERROR
            },
        );
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .without_time()
                .with_target(false),
        )
        .with(filter)
        .try_init();
}

/// How long `adauth token` may take in all unless `--timeout` says otherwise.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(60);

/// How long `adauth request` may take in all (the answer's body included) unless
/// `--timeout` says otherwise.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs a command within `limit`; past it, exit code 4 with a message that says how to
/// give it longer.
async fn within(
    limit: Duration,
    command: impl std::future::Future<Output = Result<(), Failure>>,
) -> Result<(), Failure> {
    match tokio::time::timeout(limit, command).await {
        Ok(result) => result,
        Err(_) => Err(Failure {
            code: 4,
            message: Some(format!(
                "gave up after {} s (--timeout or ADAUTH_TIMEOUT gives more)",
                limit.as_secs()
            )),
        }),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbose = cli.verbose;
    log_to_stderr(verbose);
    let limit = |default: Duration| cli.timeout.map_or(default, Duration::from_secs);
    let profile = cli.profile.as_deref().filter(|p| !p.trim().is_empty());
    let result = match cli.command {
        Command::Token(args) => {
            within(
                limit(TOKEN_TIMEOUT),
                commands::token::run(&args, profile, verbose),
            )
            .await
        }
        Command::Request(args) => {
            within(
                limit(REQUEST_TIMEOUT),
                commands::request::run(&args, profile, verbose),
            )
            .await
        }
        Command::Login(args) => {
            within(
                limit(commands::login::LOGIN_TIMEOUT),
                commands::login::run(&args, profile, verbose),
            )
            .await
        }
        Command::Logout(args) => {
            within(
                limit(TOKEN_TIMEOUT),
                commands::login::logout(&args, profile, verbose),
            )
            .await
        }
        Command::Providers => commands::providers::run(),
        Command::Profiles => commands::profiles::run(),
        Command::Sandbox(args) => commands::sandbox::run(&args, verbose).await,
        Command::Demo => demo::run(verbose).await,
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            clap_complete::generate(shell, &mut Cli::command(), "adauth", &mut std::io::stdout());
            if shell == clap_complete::Shell::Fish {
                // clap_complete's fish script leaves positional values out: the provider
                // names of `token` and `request`.
                let names: Vec<&str> = adauth::PROVIDERS.iter().map(|p| p.name()).collect();
                let logins: Vec<&str> = adauth::PROVIDERS
                    .iter()
                    .filter(|p| p.login().is_some())
                    .map(|p| p.name())
                    .collect();
                for (command, names) in [
                    ("token", &names),
                    ("request", &names),
                    ("login", &logins),
                    ("logout", &logins),
                ] {
                    println!(
                        "complete -c adauth -n \"__fish_adauth_using_subcommand {command}\" -f -a \"{}\"",
                        names.join(" ")
                    );
                }
            }
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if let Some(message) = &failure.message {
                eprintln!("adauth: {message}");
            }
            ExitCode::from(failure.code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn exit_codes_follow_the_error_kind() {
        assert_eq!(exit_code(ErrorKind::Configuration), 2);
        assert_eq!(exit_code(ErrorKind::CredentialsRejected), 3);
        for kind in [
            ErrorKind::ProviderUnavailable,
            ErrorKind::RateLimited,
            ErrorKind::Timeout,
            ErrorKind::Transport,
        ] {
            assert_eq!(exit_code(kind), 4);
        }
        assert_eq!(exit_code(ErrorKind::UnexpectedResponse), 1);
        assert_eq!(exit_code(ErrorKind::RequestRejected), 1);
    }
}
