//! Token stores across OS processes: `store-worker` processes sharing one store against the
//! provider fakes, which run in this test process.
//!
//! The Redis tests start a `redis-server` of their own each.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use adauth::testkit::Fake;
use adauth_testkit::RedisServer;

/// A fake for tests about any provider: the first registered.
fn any_fake(sandbox: &adauth::testkit::Sandbox) -> &Fake {
    &sandbox.fakes()[0]
}

/// The value of every secret variable of every provider's fake.
fn sandbox_secrets() -> Vec<String> {
    let mut secrets = Vec::new();
    for provider in adauth::PROVIDERS {
        let Some(fake) = adauth::testkit::fake_of(provider) else {
            continue;
        };
        let env = fake.env("http://127.0.0.1:1");
        for var in provider.env_vars().iter().filter(|v| v.is_secret()) {
            secrets.extend(
                env.iter()
                    .filter(|(k, _)| k == var.name())
                    .map(|(_, v)| v.clone()),
            );
        }
    }
    assert!(!secrets.is_empty());
    secrets
}
use serde_json::Value;

const SECOND: Duration = Duration::from_secs(1);

/// Where the workers share tokens.
#[derive(Debug, Clone)]
enum Shared {
    File(PathBuf),
    Redis { url: String, prefix: String },
}

impl Shared {
    fn args(&self) -> Vec<String> {
        match self {
            Shared::File(dir) => vec!["--file-store".into(), dir.display().to_string()],
            Shared::Redis { url, prefix } => vec![
                "--redis".into(),
                url.clone(),
                "--redis-prefix".into(),
                prefix.clone(),
            ],
        }
    }

    fn redis_at(url: String) -> Shared {
        let prefix = format!("adauth-test-{}:", adauth::new_revision());
        Shared::Redis { url, prefix }
    }
}

/// Starts a worker for `fake`'s provider with `fake`'s variables (and no other `ADAUTH_*`
/// variable from this environment).
fn spawn(fake: &Fake, shared: &Shared, extra: &[&str]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_store-worker"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ADAUTH_") {
            command.env_remove(name);
        }
    }
    command
        .envs(fake.env())
        .args(["--provider", fake.provider()])
        .args(shared.args())
        .args(["--protected-url", &fake.protected_url()])
        .args(["--protected-method", fake.protected_method()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("store-worker starts")
}

/// Waits (at most `limit`) for a worker to exit and returns its report; panics if it does
/// not exit in time, fails or prints no report.
async fn finish(mut child: Child, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a worker did not finish within {limit:?}");
        }
        // A poll interval for the child's exit, bounded by the deadline above.
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    // Warnings carry error texts: they must name no token (the fakes issue `fake-...`
    // values) and no credential.
    let secrets = sandbox_secrets();
    for secret in std::iter::once("fake-").chain(secrets.iter().map(String::as_str)) {
        assert!(
            !out.contains(secret),
            "a worker's report shows a secret: {out}"
        );
    }
    let report: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("a worker printed no report ({e}): {out:?}"));
    assert!(status.success(), "worker failed: {report}");
    assert_eq!(report["error"], Value::Null, "{report}");
    report
}

/// Polls `done` every 5 ms for at most `limit`.
async fn wait_until(limit: Duration, what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Runs `count` workers with `args`, released together by a start file.
async fn run_together(fake: &Fake, shared: &Shared, count: usize, args: &[&str]) -> Vec<Value> {
    let gate = tempfile::tempdir().unwrap();
    let start = gate.path().join("start");
    let start_arg = start.display().to_string();
    let mut full = vec!["--start-file", start_arg.as_str()];
    full.extend_from_slice(args);
    let children: Vec<Child> = (0..count).map(|_| spawn(fake, shared, &full)).collect();
    std::fs::write(&start, b"").unwrap();
    let mut reports = Vec::new();
    for child in children {
        reports.push(finish(child, Duration::from_secs(60)).await);
    }
    reports
}

fn n(report: &Value, field: &str) -> u64 {
    report[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {report}"))
}

fn warned(report: &Value, text: &str) -> bool {
    report["warnings"].as_array().is_some_and(|w| {
        w.iter()
            .any(|m| m.as_str().is_some_and(|m| m.contains(text)))
    })
}

// Item 2: eight processes, one token.
async fn eight_processes_share_one_mediago_token(shared: Shared) {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediago").unwrap();
    let reports = run_together(fake, &shared, 8, &["--calls", "200", "--every", "1"]).await;
    for report in &reports {
        assert_eq!(n(report, "calls"), 200, "{report}");
        assert_eq!(n(report, "protected"), 200, "{report}");
        assert_eq!(n(report, "non_2xx"), 0, "{report}");
        assert_eq!(n(report, "distinct_tokens"), 1, "{report}");
    }
    assert_eq!(
        fake.token_requests(),
        1,
        "one token request for 8 processes"
    );
    assert_eq!(fake.protected_requests(), 1600);
    assert_eq!(
        fake.unauthorized(),
        0,
        "no process was logged out by a reissue"
    );
}

// Item 3: the lease holder dies in its token request; another process takes over in time.
/// `limit`: how long the new process may take, from its own start to its first token.
async fn a_killed_lease_holder_is_taken_over(shared: Shared, lease_ttl: Duration, limit: Duration) {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediago").unwrap();
    let ttl = lease_ttl.as_millis().to_string();
    let args = ["--lease-ttl-ms", ttl.as_str(), "--calls", "3"];

    fake.delay_tokens(Duration::from_secs(120));
    let mut holder = spawn(fake, &shared, &args);
    wait_until(
        Duration::from_secs(20),
        "the holder's token request",
        || fake.token_requests() == 1,
    )
    .await;
    holder.kill().unwrap();
    assert!(!holder.wait().unwrap().success());
    fake.delay_tokens(Duration::ZERO);

    let report = finish(spawn(fake, &shared, &args), Duration::from_secs(30)).await;
    let waited = Duration::from_millis(n(&report, "first_token_ms"));
    assert!(waited <= limit, "took over after {waited:?}: {report}");
    assert_eq!(n(&report, "calls"), 3, "{report}");
    assert_eq!(n(&report, "non_2xx"), 0, "{report}");
    assert_eq!(
        fake.token_requests(),
        2,
        "the dead holder's, then the new one's"
    );
    assert_eq!(fake.unauthorized(), 0);
}

// Item 4: concurrent forced refreshes never reuse a rotated refresh token, also when every
// token request takes longer than three lease times (`slow`).
async fn concurrent_admitad_refreshes_use_each_refresh_token_once(shared: Shared, slow: bool) {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("admitad").unwrap();
    let refreshes: u64 = if slow { 2 } else { 10 };
    let count = refreshes.to_string();
    let mut args = vec!["--mode", "refresh", "--refreshes", count.as_str()];
    if slow {
        fake.delay_tokens(SLOW_TOKEN_REQUEST);
        args.extend(["--lease-ttl-ms", SHORT_LEASE_MS]);
    }
    let reports = run_together(fake, &shared, 4, &args).await;
    for report in &reports {
        assert_eq!(n(report, "renewals"), refreshes, "{report}");
        assert_eq!(n(report, "non_2xx"), 0, "{report}");
    }
    assert_eq!(
        fake.refresh_token_reuses(),
        0,
        "no refresh token used twice"
    );
    // One grant with the credentials, then at most one refresh per forced renewal.
    let requests = fake.token_requests();
    let most = 1 + 4 * refreshes as usize;
    assert!((2..=most).contains(&requests), "{requests} token requests");
    assert_eq!(fake.issued(), requests, "every token request succeeded");
    assert_eq!(fake.unauthorized(), 0);
}

/// A lease time short enough that a slow token request outlasts three of them, and long
/// enough that a renewal (every third of it) is not missed on a busy machine.
const SHORT_LEASE_MS: &str = "1000";
/// A token request of three and a half short lease times.
const SLOW_TOKEN_REQUEST: Duration = Duration::from_millis(3500);

// Issue 9, item 7: eight processes and a token request longer than three lease times: the
// holder keeps its lease, nobody else asks.
async fn a_token_request_longer_than_three_lease_times_is_made_once(shared: Shared) {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = sandbox.fake("mediago").unwrap();
    fake.delay_tokens(SLOW_TOKEN_REQUEST);
    let args = ["--lease-ttl-ms", SHORT_LEASE_MS, "--calls", "20"];
    let reports = run_together(fake, &shared, 8, &args).await;
    for report in &reports {
        assert_eq!(n(report, "calls"), 20, "{report}");
        assert_eq!(n(report, "non_2xx"), 0, "{report}");
        assert_eq!(n(report, "distinct_tokens"), 1, "{report}");
    }
    assert_eq!(
        fake.token_requests(),
        1,
        "one token request for 8 processes"
    );
    assert_eq!(
        fake.unauthorized(),
        0,
        "no process was logged out by a reissue"
    );
}

// Issue 9, item 10: eight processes against a provider that answers 429 with
// `Retry-After: 60` make one request between them.
async fn a_rate_limited_answer_is_shared_by_every_process(shared: Shared) {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = any_fake(&sandbox);
    fake.fail_next(100, 429);
    fake.set_retry_after(Some(Duration::from_secs(60)));
    let reports = run_together(fake, &shared, 8, &["--calls", "3", "--allow-errors"]).await;
    for report in &reports {
        assert_eq!(n(report, "errors"), 3, "{report}");
        let error = report["first_error"].as_str().unwrap_or_default();
        assert!(
            error.contains("rate limited") && error.contains("HTTP 429"),
            "{report}"
        );
    }
    assert_eq!(fake.token_requests(), 1, "one request for 8 processes");
}

fn token_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "token"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_eight_processes_share_one_mediago_token() {
    let dir = tempfile::tempdir().unwrap();
    eight_processes_share_one_mediago_token(Shared::File(dir.path().into())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_a_killed_lease_holder_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    // The lock dies with its holder, so the take-over does not wait for the ttl.
    let ttl = Duration::from_secs(1);
    a_killed_lease_holder_is_taken_over(Shared::File(dir.path().into()), ttl, ttl + SECOND).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_concurrent_admitad_refreshes_use_each_refresh_token_once() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_admitad_refreshes_use_each_refresh_token_once(
        Shared::File(dir.path().into()),
        false,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_slow_admitad_refreshes_use_each_refresh_token_once() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_admitad_refreshes_use_each_refresh_token_once(Shared::File(dir.path().into()), true)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_a_token_request_longer_than_three_lease_times_is_made_once() {
    let dir = tempfile::tempdir().unwrap();
    a_token_request_longer_than_three_lease_times_is_made_once(Shared::File(dir.path().into()))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_a_rate_limited_answer_is_shared_by_every_process() {
    let dir = tempfile::tempdir().unwrap();
    a_rate_limited_answer_is_shared_by_every_process(Shared::File(dir.path().into())).await;
}

// Item 6, file case end to end: a corrupt file and a foreign value are ignored with a
// warning and replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_a_corrupt_or_foreign_value_is_replaced() {
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = any_fake(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let shared = Shared::File(dir.path().into());
    let args = ["--calls", "2"];

    let first = finish(spawn(fake, &shared, &args), Duration::from_secs(30)).await;
    assert!(!warned(&first, "ignoring"), "{first}");
    let file = token_file(dir.path());
    assert_eq!(fake.token_requests(), 1);

    for (garbage, warning) in [
        ("{not json", "ignoring an unreadable token file"),
        (
            "adauth token file 1\nforeign\nnot a token",
            "ignoring an unreadable value in the token store",
        ),
    ] {
        let before = fake.token_requests();
        std::fs::write(&file, garbage).unwrap();
        let report = finish(spawn(fake, &shared, &args), Duration::from_secs(30)).await;
        assert!(warned(&report, warning), "{garbage}: {report}");
        assert_eq!(n(&report, "non_2xx"), 0, "{report}");
        assert_eq!(fake.token_requests(), before + 1, "{garbage}: fetched anew");
        let stored = std::fs::read_to_string(&file).unwrap();
        let mut lines = stored.splitn(3, '\n');
        assert_eq!(lines.next(), Some("adauth token file 1"), "{stored}");
        assert_ne!(lines.next(), Some("foreign"), "the file was replaced");
        let record: Value = serde_json::from_str(lines.next().unwrap()).expect("a record");
        assert!(record["token"].is_object(), "{record}");
    }

    // The replacement is shared: the next process needs no token request.
    let last = finish(spawn(fake, &shared, &args), Duration::from_secs(30)).await;
    assert!(!warned(&last, "ignoring"), "{last}");
    assert_eq!(fake.token_requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn redis_eight_processes_share_one_mediago_token() {
    let server = RedisServer::start();
    let shared = Shared::redis_at(server.url());
    eight_processes_share_one_mediago_token(shared).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn redis_cluster_eight_processes_share_one_mediago_token() {
    let cluster = adauth_testkit::RedisCluster::start();
    let shared = Shared::redis_at(cluster.urls().join(","));
    eight_processes_share_one_mediago_token(shared).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn redis_a_killed_lease_holder_is_taken_over_within_the_lease_time_plus_one_second() {
    let server = RedisServer::start();
    let shared = Shared::redis_at(server.url());
    let ttl = Duration::from_secs(1);
    a_killed_lease_holder_is_taken_over(shared, ttl, ttl + SECOND).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn redis_concurrent_admitad_refreshes_use_each_refresh_token_once() {
    let server = RedisServer::start();
    let shared = Shared::redis_at(server.url());
    concurrent_admitad_refreshes_use_each_refresh_token_once(shared, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn redis_slow_admitad_refreshes_use_each_refresh_token_once() {
    let server = RedisServer::start();
    let shared = Shared::redis_at(server.url());
    concurrent_admitad_refreshes_use_each_refresh_token_once(shared, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn redis_a_token_request_longer_than_three_lease_times_is_made_once() {
    let server = RedisServer::start();
    let shared = Shared::redis_at(server.url());
    a_token_request_longer_than_three_lease_times_is_made_once(shared).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn redis_a_rate_limited_answer_is_shared_by_every_process() {
    let server = RedisServer::start();
    let shared = Shared::redis_at(server.url());
    a_rate_limited_answer_is_shared_by_every_process(shared).await;
}

// Item 6, Redis case: a value that is not JSON and a key of another Redis type are ignored
// with a warning and replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn redis_a_corrupt_or_foreign_value_is_replaced() {
    let server = RedisServer::start();
    let shared = Shared::redis_at(server.url());
    let Shared::Redis { url, prefix } = &shared else {
        unreachable!()
    };
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = any_fake(&sandbox);
    let env = fake.env();
    let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let identity = adauth::provider(fake.provider())
        .unwrap()
        .source_from_lookup(&lookup)
        .unwrap()
        .identity()
        .unwrap();
    let key = format!("{prefix}token:{identity}");
    let mut redis = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let args = ["--calls", "2"];

    let first = finish(spawn(fake, &shared, &args), Duration::from_secs(30)).await;
    assert!(!warned(&first, "ignoring"), "{first}");
    let stored: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(
        stored.contains("revision"),
        "the token is stored under {key}"
    );
    assert_eq!(fake.token_requests(), 1);

    // Not JSON, then a list where a string is expected.
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg("{not json")
        .query_async(&mut redis)
        .await
        .unwrap();
    let report = finish(spawn(fake, &shared, &args), Duration::from_secs(30)).await;
    assert!(warned(&report, "unreadable token value"), "{report}");
    assert_eq!(fake.token_requests(), 2, "fetched anew");

    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    let _: () = redis::cmd("RPUSH")
        .arg(&key)
        .arg("foreign")
        .query_async(&mut redis)
        .await
        .unwrap();
    let report = finish(spawn(fake, &shared, &args), Duration::from_secs(30)).await;
    assert!(warned(&report, "another type"), "{report}");
    assert_eq!(n(&report, "non_2xx"), 0, "{report}");
    assert_eq!(fake.token_requests(), 3, "fetched anew");
    let kind: String = redis::cmd("TYPE")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(kind, "string", "the list was replaced");

    // The replacement is shared: the next process needs no token request.
    let last = finish(spawn(fake, &shared, &args), Duration::from_secs(30)).await;
    assert!(!warned(&last, "ignoring"), "{last}");
    assert_eq!(fake.token_requests(), 3);
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
}

// Item 5: Redis stopped mid-run. Calls keep succeeding from the process's own cache and
// direct fetches, and nothing panics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn redis_stopped_mid_run_costs_no_call() {
    let mut server = RedisServer::start();
    let sandbox = adauth::testkit::sandbox().build().await.unwrap();
    let fake = any_fake(&sandbox);
    let shared = Shared::redis_at(server.url());
    let gate = tempfile::tempdir().unwrap();
    let paused = gate.path().join("paused").display().to_string();
    let resume = gate.path().join("resume");
    let resume_arg = resume.display().to_string();
    let args = [
        "--mode",
        "refresh",
        "--refreshes",
        "6",
        "--pause-after",
        "3",
        "--paused-file",
        &paused,
        "--resume-file",
        &resume_arg,
    ];
    let worker = spawn(fake, &shared, &args);
    wait_until(Duration::from_secs(30), "the worker's pause", || {
        Path::new(&paused).exists()
    })
    .await;
    let before = fake.token_requests();
    server.stop();
    std::fs::write(&resume, b"").unwrap();

    let report = finish(worker, Duration::from_secs(60)).await;
    assert_eq!(n(&report, "renewals"), 6, "{report}");
    assert_eq!(n(&report, "protected"), 6, "{report}");
    assert_eq!(n(&report, "non_2xx"), 0, "{report}");
    assert!(warned(&report, "token store failed"), "{report}");
    assert_eq!(
        fake.token_requests(),
        before + 3,
        "one direct fetch per renewal"
    );
    assert_eq!(fake.unauthorized(), 0);
}
