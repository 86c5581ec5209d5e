//! `adauth request`: one API request with the provider's auth applied.

use std::io::Write;
use std::time::{Duration, Instant};

use adauth::reqwest::Method;
use adauth::reqwest::header::{HeaderName, HeaderValue};
use adauth::{AuthorizedClient, ErrorKind};
use clap::Args;

use crate::{Failure, note};

/// Arguments of `adauth request`.
#[derive(Debug, Args)]
pub(crate) struct RequestArgs {
    /// The provider.
    #[arg(value_parser = crate::commands::provider_names(), ignore_case = true)]
    provider: String,

    /// The URL: https, or plain http to a loopback host only.
    url: String,

    /// The HTTP method (default GET, or POST with -d).
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    method: Option<String>,

    /// An extra header, `Name: value`; may be repeated.
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    headers: Vec<String>,

    /// The request body, sent as given.
    #[arg(short = 'd', long = "data", value_name = "BODY")]
    data: Option<String>,
}

/// How long an API request may take in all; reports can be slow.
const TIMEOUT: Duration = Duration::from_secs(300);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends the request; prints the body on stdout and `HTTP <status>` on stderr. Fails with
/// exit code 1 when the status is not 2xx.
pub(crate) async fn run(
    args: &RequestArgs,
    profile: Option<&str>,
    verbose: bool,
) -> Result<(), Failure> {
    let provider = super::provider(&args.provider)?;
    let url = adauth::provider_kit::wire::parse_endpoint(provider.name(), &args.url)?;
    let method = match &args.method {
        Some(m) => Method::from_bytes(m.trim().to_ascii_uppercase().as_bytes())
            .map_err(|_| Failure::usage(format!("invalid method {m:?}")))?,
        None if args.data.is_some() => Method::POST,
        None => Method::GET,
    };
    let headers = args
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>, _>>()?;

    let cache = super::open(provider, profile, true, verbose).await?.cache;
    // Redirects are not followed: the answer is shown as it is, and auth headers never
    // travel to wherever a redirect points.
    let client = adauth::http::client_builder(&adauth::provider_kit::env::process)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TIMEOUT)
        .user_agent(concat!("adauth-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Failure::other(format!("the HTTP client could not be built: {e}")))?;
    let api = AuthorizedClient::new(cache, client);
    let mut request = api.request(method, url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    if let Some(body) = &args.data {
        request = request.body(body.clone());
    }

    let started = Instant::now();
    let mut response = api.send(request).await?;
    let status = response.status();
    note!(verbose, "answered in {} ms", started.elapsed().as_millis());
    // The body goes to stdout as it arrives, never held whole in memory.
    let mut written: u64 = 0;
    let mut stdout_open = true;
    loop {
        let chunk = response.chunk().await.map_err(|e| {
            adauth::Error::new(provider.name(), ErrorKind::Transport)
                .with_message("the response body could not be read")
                .with_source(e.without_url())
        })?;
        let Some(chunk) = chunk else { break };
        written += chunk.len() as u64;
        // A closed pipe (`| head`) is not the request's failure: the rest is read and
        // dropped, so the connection ends cleanly.
        if stdout_open {
            let mut stdout = std::io::stdout().lock();
            stdout_open = stdout
                .write_all(&chunk)
                .and_then(|()| stdout.flush())
                .is_ok();
        }
    }
    note!(
        verbose,
        "{written} bytes in {} ms",
        started.elapsed().as_millis()
    );
    eprintln!("HTTP {}", status.as_u16());
    if status.is_success() {
        Ok(())
    } else {
        Err(Failure::silent())
    }
}

/// `Name: value` into its parts; anything else is a usage error.
fn parse_header(header: &str) -> Result<(HeaderName, HeaderValue), Failure> {
    let bad = || Failure::usage(format!("invalid header {header:?}: expected 'Name: value'"));
    let (name, value) = header.split_once(':').ok_or_else(bad)?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad())?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| bad())?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_split_at_the_first_colon() {
        let (name, value) = parse_header("Content-Type: application/json").unwrap();
        assert_eq!(name, "content-type");
        assert_eq!(value, "application/json");
        assert_eq!(parse_header("X-Time: 12:00").unwrap().1, "12:00");
        assert_eq!(parse_header("no colon").unwrap_err().code, 2);
        assert_eq!(parse_header(": value").unwrap_err().code, 2);
    }
}
