//! One process of a multi-process test: builds a provider's source from its `ADAUTH_*`
//! variables, caches it over a shared token store and calls `token()`, then prints one JSON
//! line of results on stdout. Exits 1 on any error (the JSON line then has `"error"`).
//!
//! ```text
//! store-worker --provider NAME (--file-store DIR | --redis URL[,URL...] [--redis-prefix P])
//!              [--key-prefix P]
//!              [--lease-ttl-ms MS] [--protected-url URL] [--protected-method GET|POST]
//!              [--mode calls|refresh] [--calls N] [--every K]
//!              [--refreshes K] [--start-file PATH] [--allow-errors]
//!              [--pause-after N --paused-file PATH --resume-file PATH]
//! ```
//!
//! - `calls`: `N` `token()` calls, and a request to the fake's protected endpoint every `K`
//!   calls (0: none), counting answers other than 2xx.
//! - `refresh`: `K` times, invalidates the current token and asks for a new one (which must
//!   differ), then sends one protected request with it.
//! - `--allow-errors`: in `calls` mode, a failed `token()` is counted (`errors`, and the
//!   first one's text in `first_error`) instead of ending the run.
//! - `--start-file`: waits (polling every 5 ms, for at most 30 s) until the file exists, so
//!   that workers started one after another make their first call together.
//! - `--pause-after`: after that many calls (or renewals), creates `--paused-file` and waits
//!   until `--resume-file` exists, so a test can change the world mid-run.
#![forbid(unsafe_code)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adauth::secrecy::ExposeSecret;
use adauth::{AuthorizedClient, FileStore, TokenCache, TokenStore};
use serde_json::json;

#[derive(Debug, Default)]
struct Args {
    provider: String,
    file_store: Option<PathBuf>,
    redis: Option<String>,
    redis_prefix: Option<String>,
    key_prefix: String,
    lease_ttl: Option<Duration>,
    mode: String,
    protected_url: Option<String>,
    protected_method: String,
    calls: u64,
    every: u64,
    refreshes: u64,
    start_file: Option<PathBuf>,
    pause_after: Option<u64>,
    paused_file: Option<PathBuf>,
    resume_file: Option<PathBuf>,
    allow_errors: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        mode: "calls".to_owned(),
        protected_method: "GET".to_owned(),
        calls: 1,
        every: 1,
        refreshes: 1,
        ..Args::default()
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--provider" => args.provider = value()?,
            "--file-store" => args.file_store = Some(value()?.into()),
            "--redis" => args.redis = Some(value()?),
            "--redis-prefix" => args.redis_prefix = Some(value()?),
            "--key-prefix" => args.key_prefix = value()?,
            "--lease-ttl-ms" => args.lease_ttl = Some(Duration::from_millis(number(value()?)?)),
            "--mode" => args.mode = value()?,
            "--protected-url" => args.protected_url = Some(value()?),
            "--protected-method" => args.protected_method = value()?,
            "--calls" => args.calls = number(value()?)?,
            "--every" => args.every = number(value()?)?,
            "--refreshes" => args.refreshes = number(value()?)?,
            "--start-file" => args.start_file = Some(value()?.into()),
            "--pause-after" => args.pause_after = Some(number(value()?)?),
            "--paused-file" => args.paused_file = Some(value()?.into()),
            "--resume-file" => args.resume_file = Some(value()?.into()),
            "--allow-errors" => args.allow_errors = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.provider.is_empty() {
        return Err("--provider is required".to_owned());
    }
    Ok(args)
}

/// Records the messages of `WARN` and `ERROR` events, to report them.
struct Warnings {
    messages: Mutex<Vec<String>>,
    next_span: AtomicU64,
}

struct Message<'a>(&'a mut String);

impl tracing::field::Visit for Message<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write as _;
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        let _ = write!(self.0, "{}={value:?}", field.name());
    }
}

impl tracing::Subscriber for Warnings {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        *metadata.level() <= tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed))
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut text = String::new();
        event.record(&mut Message(&mut text));
        self.messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(text);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[derive(Debug, Default)]
struct Counts {
    calls: u64,
    protected: u64,
    non_2xx: u64,
    renewals: u64,
    first_token_ms: Option<u128>,
    tokens: HashSet<String>,
    errors: u64,
    first_error: Option<String>,
}

async fn wait_for_file(path: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        if Instant::now() >= deadline {
            return Err(format!("{} did not appear within 30 s", path.display()));
        }
        // Polling for a file another process creates: an observable event with a deadline.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

async fn store(args: &Args) -> Result<Arc<dyn TokenStore>, String> {
    if let Some(dir) = &args.file_store {
        return Ok(Arc::new(FileStore::new(dir).map_err(|e| e.to_string())?));
    }
    if let Some(url) = &args.redis {
        return redis_store(url, args.redis_prefix.as_deref()).await;
    }
    Err("--file-store or --redis is required".to_owned())
}

async fn redis_store(url: &str, prefix: Option<&str>) -> Result<Arc<dyn TokenStore>, String> {
    // Several comma-separated URLs: the seed nodes of a Redis Cluster.
    let store = if url.contains(',') {
        let nodes: Vec<&str> = url.split(',').collect();
        adauth_redis::RedisStore::connect_cluster(&nodes).await
    } else {
        adauth_redis::RedisStore::connect(url).await
    };
    let mut store = store.map_err(|e| e.to_string())?;
    if let Some(prefix) = prefix {
        store = store.with_prefix(prefix);
    }
    Ok(Arc::new(store))
}

async fn protected(args: &Args, api: &AuthorizedClient, counts: &mut Counts) -> Result<(), String> {
    let url = args
        .protected_url
        .as_deref()
        .ok_or("--protected-url is required")?;
    let method =
        reqwest::Method::from_bytes(args.protected_method.as_bytes()).map_err(|e| e.to_string())?;
    let response = api
        .send(api.request(method, url))
        .await
        .map_err(|e| e.to_string())?;
    counts.protected += 1;
    if !response.status().is_success() {
        counts.non_2xx += 1;
    }
    Ok(())
}

async fn pause(args: &Args, done: u64) -> Result<(), String> {
    if args.pause_after != Some(done) {
        return Ok(());
    }
    if let Some(paused) = &args.paused_file {
        std::fs::write(paused, b"").map_err(|e| format!("{}: {e}", paused.display()))?;
    }
    match &args.resume_file {
        Some(resume) => wait_for_file(resume).await,
        None => Ok(()),
    }
}

async fn run(args: &Args, started: Instant, counts: &mut Counts) -> Result<(), String> {
    let provider =
        adauth::provider(&args.provider).ok_or_else(|| format!("no provider {}", args.provider))?;
    let source = provider.source_from_env().map_err(|e| e.to_string())?;
    let mut builder = TokenCache::builder_arc(source.into())
        .store(store(args).await?)
        .store_key_prefix(args.key_prefix.clone());
    if let Some(ttl) = args.lease_ttl {
        builder = builder.lease_ttl(ttl);
    }
    let cache = builder.build();
    let api = AuthorizedClient::new(cache.clone(), reqwest::Client::new());
    if let Some(start) = &args.start_file {
        wait_for_file(start).await?;
    }
    let token = async |counts: &mut Counts| {
        let token = cache.token().await.map_err(|e| e.to_string())?;
        counts.calls += 1;
        counts
            .first_token_ms
            .get_or_insert_with(|| started.elapsed().as_millis());
        counts
            .tokens
            .insert(token.access_token().expose_secret().to_owned());
        Ok::<_, String>(token)
    };
    match args.mode.as_str() {
        "calls" => {
            for i in 0..args.calls {
                match token(counts).await {
                    Ok(_) => {}
                    Err(e) if args.allow_errors => {
                        counts.errors += 1;
                        counts.first_error.get_or_insert(e);
                        continue;
                    }
                    Err(e) => return Err(e),
                }
                if args.every > 0 && i % args.every == 0 {
                    protected(args, &api, counts).await?;
                }
                pause(args, i + 1).await?;
            }
        }
        "refresh" => {
            for i in 0..args.refreshes {
                let old = token(counts).await?;
                cache.invalidate(&old);
                let new = token(counts).await?;
                if new.same_access_token(&old) {
                    return Err("an invalidated token was served again".to_owned());
                }
                counts.renewals += 1;
                protected(args, &api, counts).await?;
                pause(args, i + 1).await?;
            }
        }
        other => return Err(format!("unknown mode {other}")),
    }
    Ok(())
}

fn main() -> ExitCode {
    let started = Instant::now();
    let warnings = Arc::new(Warnings {
        messages: Mutex::default(),
        next_span: AtomicU64::new(1),
    });
    let _ = tracing::subscriber::set_global_default(Arc::clone(&warnings));
    let mut counts = Counts::default();
    let result = parse_args().and_then(|args| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(run(&args, started, &mut counts))
    });
    let warnings = warnings
        .messages
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let report = json!({
        "error": result.as_ref().err(),
        "calls": counts.calls,
        "protected": counts.protected,
        "non_2xx": counts.non_2xx,
        "renewals": counts.renewals,
        "distinct_tokens": counts.tokens.len(),
        "errors": counts.errors,
        "first_error": counts.first_error,
        "first_token_ms": counts.first_token_ms,
        "elapsed_ms": started.elapsed().as_millis(),
        "warnings": warnings,
    });
    println!("{report}");
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
