//! `adauth login` and `adauth logout`: a user's grant through the browser (the
//! authorization-code flow), as `gcloud auth login` does, kept in the token store so that
//! `adauth token` (and library caches on the same store) renew it with its refresh token.
//!
//! The token, refresh token included, goes to the store under the grant's own identity;
//! a marker file in the cache directory (`logins/<provider>[@<profile>]`, owner-only) says
//! that there is one and which redirect URI it was made with. It holds no secret.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use adauth::{Login, Provider, TokenCache, TokenSource};
use clap::Args;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use crate::cache::{self, Shared};
use crate::{Failure, note};

/// The names of the providers that have a browser login, as the argument's value list.
pub(crate) fn login_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        adauth::PROVIDERS
            .iter()
            .filter(|p| p.login().is_some())
            .map(|p| p.name()),
    )
}

/// Arguments of `adauth login`.
#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// The provider.
    #[arg(value_parser = login_names(), ignore_case = true)]
    provider: String,

    /// Print the authorization URL instead of opening a browser.
    #[arg(long)]
    no_browser: bool,

    /// The loopback port to listen on for the redirect (default: any free one). Use the
    /// port of the redirect URI registered for the application, if it names one.
    #[arg(long, default_value_t = 0)]
    port: u16,
}

/// Arguments of `adauth logout`.
#[derive(Debug, Args)]
pub(crate) struct LogoutArgs {
    /// The provider.
    #[arg(value_parser = login_names(), ignore_case = true)]
    provider: String,
}

/// The longest request head the listener reads: 16 KiB.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// Runs `adauth login`.
pub(crate) async fn run(
    args: &LoginArgs,
    profile: Option<&str>,
    verbose: bool,
) -> Result<(), Failure> {
    let provider = super::provider(&args.provider)?;
    let login = login_of(provider)?;
    let lookup = super::settings(provider, profile, verbose)?;
    let shared = store(verbose).await?;

    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| Failure::other(format!("cannot listen on 127.0.0.1:{}: {e}", args.port)))?;
    let port = listener
        .local_addr()
        .map_err(|e| Failure::other(format!("cannot read the listener's address: {e}")))?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let pending = login.start(&*lookup, &redirect_uri)?;
    eprintln!(
        "adauth: to authorize adauth for {}, open this URL in a browser:\n{}",
        provider.name(),
        pending.url()
    );
    if !args.no_browser {
        open_browser(pending.url().as_str(), verbose);
    }
    let redirected = callback(&listener, &redirect_uri).await?;
    note!(verbose, "the browser came back; exchanging the code");
    let source: Arc<dyn TokenSource> = pending.finish(&redirected).await?.into();
    let cache = TokenCache::builder_arc(source)
        .store(Arc::clone(&shared.store))
        .build();
    cache.token().await?;
    adauth::logins::save(&dir()?, provider, profile, &redirect_uri)?;
    eprintln!(
        "adauth: logged in to {}; `adauth token {}` now gives the user's tokens, renewed with \
         the refresh token ({}); `adauth logout {}` forgets them",
        provider.name(),
        provider.name(),
        shared.name,
        provider.name()
    );
    Ok(())
}

/// Runs `adauth logout`: the stored grant is overwritten and the marker removed.
pub(crate) async fn logout(
    args: &LogoutArgs,
    profile: Option<&str>,
    verbose: bool,
) -> Result<(), Failure> {
    let provider = super::provider(&args.provider)?;
    let Some((login, redirect_uri)) = marker(provider, profile)? else {
        eprintln!("adauth: not logged in to {}", provider.name());
        return Ok(());
    };
    let lookup = super::settings(provider, profile, verbose)?;
    let source = login.source(&*lookup, &redirect_uri)?;
    if let (Some(key), Ok(shared)) = (source.identity(), store(verbose).await) {
        forget(&shared, &key).await?;
    }
    adauth::logins::forget(&dir()?, provider, profile)?;
    eprintln!("adauth: logged out of {}", provider.name());
    Ok(())
}

/// Overwrites the stored grant: an empty record holds no token and is replaced by the next
/// write.
async fn forget(shared: &Shared, key: &str) -> Result<(), Failure> {
    let empty = adauth::secrecy::SecretString::from(String::new());
    for _ in 0..3 {
        let revision = shared.store.load(key).await?.map(|v| v.revision);
        if revision.is_none() {
            return Ok(());
        }
        if shared
            .store
            .compare_and_set(key, revision.as_deref(), &empty)
            .await?
            .is_some()
        {
            return Ok(());
        }
    }
    Err(Failure::other(
        "the stored grant kept changing; run `adauth logout` again",
    ))
}

fn login_of(provider: &Provider) -> Result<&'static dyn Login, Failure> {
    provider
        .login()
        .ok_or_else(|| Failure::usage(format!("{} has no browser login", provider.name())))
}

/// The store a login is kept in: Redis when `ADAUTH_REDIS_URL` is set, else the disk cache.
async fn store(verbose: bool) -> Result<Shared, Failure> {
    let key = adauth::StoreKey::from_env()?;
    match cache::store(verbose).await {
        Some(shared) => Ok(shared.sealed(key)),
        None => Err(Failure::usage(
            "a login is kept in the token store: set ADAUTH_CACHE_DIR (or HOME) or \
             ADAUTH_REDIS_URL",
        )),
    }
}

/// Waits for the browser's redirect to `/callback` and answers it; the full URL it came
/// to. Other requests (a browser's `/favicon.ico`) get a 404.
async fn callback(listener: &TcpListener, redirect_uri: &str) -> Result<String, Failure> {
    loop {
        let (mut stream, _) = listener
            .accept()
            .await
            .map_err(|e| Failure::other(format!("the redirect listener failed: {e}")))?;
        let mut head = Vec::new();
        let mut buf = [0u8; 2048];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST_HEAD {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        let mut parts = line.split_whitespace();
        let target = match (parts.next(), parts.next()) {
            (Some("GET"), Some(target)) if target.split('?').next() == Some("/callback") => {
                target.to_owned()
            }
            _ => {
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
                continue;
            }
        };
        let body = "<!doctype html><title>adauth</title><p>adauth has the authorization; you \
                    can close this window.</p>";
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
        let query = target.strip_prefix("/callback").unwrap_or_default();
        return Ok(format!("{redirect_uri}{query}"));
    }
}

/// Opens `url` in the user's browser (`open` on macOS, `xdg-open` elsewhere); if that
/// fails, the printed URL is there to open by hand.
fn open_browser(url: &str, verbose: bool) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        note!(
            verbose,
            "could not run {opener} ({e}): open the URL by hand"
        );
    }
}

/// The cache directory, where the markers are.
fn dir() -> Result<PathBuf, Failure> {
    cache::default_dir().ok_or_else(|| {
        Failure::usage("logins are kept in the cache directory: set ADAUTH_CACHE_DIR or HOME")
    })
}

/// The login of `provider` (under `profile`), if `adauth login` made one: its flow and the
/// redirect URI it used.
pub(crate) fn marker(
    provider: &Provider,
    profile: Option<&str>,
) -> Result<Option<(&'static dyn Login, String)>, Failure> {
    match cache::default_dir() {
        Some(dir) => Ok(adauth::logins::saved(&dir, provider, profile)?),
        None => Ok(None),
    }
}

/// How long `adauth login` waits in all, by default: five minutes for the user to agree.
pub(crate) const LOGIN_TIMEOUT: Duration = Duration::from_secs(300);
