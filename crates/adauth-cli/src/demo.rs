//! `adauth demo`: every provider working against local fakes, with no credentials and no
//! network. Each provider's source is built from its fake's variables (never the process
//! environment) and uses no disk cache.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use adauth::secrecy::ExposeSecret;
use adauth::testkit::Fake;
use adauth::{AuthorizedClient, Provider, TokenCache, TokenSource};

use crate::{Failure, note};

/// Runs the demo; fails (exit 1) unless every provider works.
pub(crate) async fn run(verbose: bool) -> Result<(), Failure> {
    let started = Instant::now();
    let sandbox = adauth::testkit::sandbox()
        .build()
        .await
        .map_err(|e| Failure::other(format!("the sandbox could not start: {e}")))?;
    note!(
        verbose,
        "fakes started in {} ms",
        started.elapsed().as_millis()
    );
    let client = adauth::http::shared_client()?.clone();
    println!(
        "adauth demo: {} providers against local fakes (no credentials, no network)\n",
        sandbox.fakes().len()
    );
    let mut working = 0;
    let mut total = 0;
    for fake in sandbox.fakes() {
        total += 1;
        let Some(provider) = adauth::provider(fake.provider()) else {
            println!("{:<10} not compiled in\n", fake.provider());
            continue;
        };
        match show(provider, fake, &client).await {
            Ok(lines) => {
                working += 1;
                print_lines(fake.provider(), &lines);
            }
            Err((mut lines, error)) => {
                lines.push(format!("FAILED   {error}"));
                print_lines(fake.provider(), &lines);
            }
        }
    }
    if working == total {
        println!("all {total} providers working");
        Ok(())
    } else {
        println!("{working} of {total} providers working");
        Err(Failure::silent())
    }
}

fn print_lines(provider: &str, lines: &[String]) {
    for (i, line) in lines.iter().enumerate() {
        let name = if i == 0 { provider } else { "" };
        println!("{name:<10} {line}");
    }
    println!();
}

type Steps = Vec<String>;

/// The three steps for one provider; the lines so far and the error if one fails.
async fn show(
    provider: &Provider,
    fake: &Fake,
    client: &adauth::reqwest::Client,
) -> Result<Steps, (Steps, String)> {
    let mut lines = Vec::new();
    let vars = fake.env();
    let lookup = move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let source: Arc<dyn TokenSource> = match provider.source_from_lookup(&lookup) {
        Ok(source) => source.into(),
        Err(e) => return Err((lines, e.to_string())),
    };
    let cache = TokenCache::builder_arc(source).build();

    // 1. A token from the fake.
    let started = Instant::now();
    let token = match cache.token().await {
        Ok(token) => token,
        Err(e) => return Err((lines, e.to_string())),
    };
    let elapsed = started.elapsed().as_millis();
    let expires_at = crate::cache::unix_seconds(token.expires_at());
    lines.push(format!(
        "token    {}  expires {} (in {} s), {} token request, {elapsed} ms",
        shorten(token.access_token().expose_secret()),
        crate::commands::token::rfc3339(expires_at),
        token.expires_in(SystemTime::now()).as_secs(),
        fake.token_requests(),
    ));

    // 2. The same token again, from the in-memory cache.
    let again = match cache.token().await {
        Ok(token) => token,
        Err(e) => return Err((lines, e.to_string())),
    };
    if !again.same_access_token(&token) || fake.token_requests() != 1 {
        return Err((
            lines,
            format!(
                "the second call was not served from the cache ({} token requests)",
                fake.token_requests()
            ),
        ));
    }
    lines.push(format!(
        "cached   same token again, still {} token request",
        fake.token_requests()
    ));

    // 3. Revoked on the fake: the API answers 401, the client renews and retries.
    fake.revoke_all();
    let api = AuthorizedClient::new(cache, client.clone());
    let url = fake.protected_url();
    let request = match fake.protected_method() {
        "POST" => api
            .post(&url)
            .header("content-type", "application/json")
            .body("{}"),
        _ => api.get(&url),
    };
    let status = match api.send(request).await {
        Ok(response) => response.status(),
        Err(e) => return Err((lines, e.to_string())),
    };
    let path = url.strip_prefix(&fake.base_url()).unwrap_or(&url);
    let line = format!(
        "revoked  {} {path}: 401, renewed, retried: HTTP {} ({} token requests, {} 401)",
        fake.protected_method(),
        status.as_u16(),
        fake.token_requests(),
        fake.unauthorized(),
    );
    lines.push(line);
    if !status.is_success() || fake.unauthorized() != 1 {
        return Err((lines, "the request did not recover from the 401".to_owned()));
    }
    Ok(lines)
}

/// The start and end of a token, `fake-fyb…3f2a`: enough to tell tokens apart.
fn shorten(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    if chars.len() <= 12 {
        return "…".to_owned();
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_tokens() {
        assert_eq!(shorten("fake-fyber-access-1-00003f2a"), "fake-fyb…3f2a");
        assert_eq!(shorten("short"), "…");
    }
}
