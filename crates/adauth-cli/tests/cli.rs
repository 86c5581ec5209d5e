//! The `adauth` binary run against an in-process sandbox of every registered provider's fake.

use std::path::PathBuf;
use std::process::Output;

use adauth::testkit::{Fake, Sandbox};

/// The provider the tests of the command's own behaviour (the cache, the store, exit codes,
/// streams) use: Fyber, for its plain flow: client credentials, no refresh token, no session,
/// no revocation of earlier tokens. Tests for every provider take them from the registry.
const PLAIN: &str = "fyber";

/// The names of the registered providers.
fn providers() -> impl Iterator<Item = &'static str> {
    adauth::PROVIDERS.iter().map(|p| p.name())
}
use assert_cmd::Command;
use serde_json::Value;

/// A sandbox on its own runtime (so the test thread can block on the binary while the
/// fakes serve) and an empty cache directory that does not exist yet.
struct Harness {
    sandbox: Sandbox,
    _rt: tokio::runtime::Runtime,
    tmp: tempfile::TempDir,
}

impl Harness {
    fn new() -> Self {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let sandbox = rt.block_on(adauth::testkit::sandbox().build()).unwrap();
        Self {
            sandbox,
            _rt: rt,
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    fn fake(&self, provider: &str) -> &Fake {
        self.sandbox.fake(provider).unwrap()
    }

    fn cache_dir(&self) -> PathBuf {
        self.tmp.path().join("cache").join("adauth")
    }

    /// `adauth` with no inherited `ADAUTH_*` variable, the sandbox's variables and the
    /// test's cache directory.
    fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("adauth"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ADAUTH_") {
                cmd.env_remove(name);
            }
        }
        cmd.envs(self.sandbox.env());
        cmd.env("ADAUTH_CACHE_DIR", self.cache_dir());
        cmd
    }

    /// [`Self::std_cmd`] for `assert_cmd`.
    fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Runs and expects success; stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// The files in the cache directory: tokens and their lock files.
    fn cache_files(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.cache_dir()) {
            Ok(dir) => dir.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The token files (`<identity>.token`) written so far.
    fn token_files(&self) -> Vec<PathBuf> {
        self.cache_files()
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "token"))
            .collect()
    }

    /// Every secret the sandbox hands out: the values of the variables the providers mark
    /// secret.
    fn secrets(&self) -> Vec<String> {
        let secret = |name: &str| {
            adauth::PROVIDERS
                .iter()
                .flat_map(|p| p.env_vars())
                .any(|v| v.name() == name && v.is_secret())
        };
        let secrets: Vec<String> = self
            .sandbox
            .env()
            .into_iter()
            .filter(|(k, _)| secret(k))
            .map(|(_, v)| v)
            .collect();
        assert!(!secrets.is_empty());
        secrets
    }
}

/// The cache's record in a store file: `{"revision": ..., "value": "<the record as JSON>"}`,
/// the record being `{"v": 2, "token": {...}, "failure": {...}}`.
fn stored_record(path: &std::path::Path) -> Value {
    let (_, value) = read_store_file(path);
    let record: Value = serde_json::from_str(&value).unwrap();
    assert_eq!(record["v"], 2, "{record}");
    record
}

/// A store file's revision and value: `adauth token file 1`, the revision, the value.
fn read_store_file(path: &std::path::Path) -> (String, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut parts = text.splitn(3, '\n');
    assert_eq!(parts.next(), Some("adauth token file 1"), "{text}");
    let revision = parts.next().expect("a revision").to_owned();
    (revision, parts.next().expect("a value").to_owned())
}

/// The token a store file holds.
fn stored_token(path: &std::path::Path) -> Value {
    let token = stored_record(path)["token"].clone();
    assert!(token.is_object(), "no token in {}", path.display());
    token
}

/// Rewrites the token in a store file so that it expires in `secs` seconds, an hour after
/// it was issued: well inside its refresh window.
fn age_stored_token(path: &std::path::Path, secs: u64) {
    let (revision, _) = read_store_file(path);
    let mut record = stored_record(path);
    let mut token = stored_token(path);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Times are stored as `[seconds, nanoseconds]` since the Unix epoch.
    assert!(token["expires_at"].is_array(), "{}", token["expires_at"]);
    token["issued_at"] = serde_json::json!([now + secs - 3600, 0]);
    token["expires_at"] = serde_json::json!([now + secs, 0]);
    record["token"] = token;
    std::fs::write(path, format!("adauth token file 1\n{revision}\n{record}")).unwrap();
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The arguments of an `adauth request` to the fake's protected endpoint.
fn request_args(fake: &Fake) -> Vec<String> {
    let mut args = vec![
        "request".to_owned(),
        fake.provider().to_owned(),
        fake.protected_url(),
        "-X".to_owned(),
        fake.protected_method().to_owned(),
    ];
    if fake.protected_method() == "POST" {
        args.extend(["-H", "Content-Type: application/json", "-d", "{}"].map(String::from));
    }
    args
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

// ---- token ----------------------------------------------------------------------------

#[test]
fn token_raw_prints_the_token_alone_for_every_provider() {
    let h = Harness::new();
    for provider in providers() {
        let out = h.ok(&["token", provider]);
        let token = out.strip_suffix('\n').expect("one line");
        assert!(!token.is_empty() && !token.contains('\n'), "{out:?}");
        assert!(token.starts_with("fake-"), "{out:?}");
        assert_eq!(h.fake(provider).token_requests(), 1, "{provider}");
    }
}

#[test]
fn token_json_has_the_documented_fields_for_every_provider() {
    let h = Harness::new();
    for provider in providers() {
        let raw = h.ok(&["token", provider, "--no-cache"]);
        let out = h.ok(&["token", provider, "--format", "json", "--no-cache"]);
        assert_eq!(out.lines().count(), 1, "{out}");
        let json: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["provider"], *provider);
        let token = json["access_token"].as_str().unwrap();
        assert!(token.starts_with("fake-") && token != raw.trim(), "{json}");
        assert!(
            json["token_type"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("bearer")
        );
        let expires_at = json["expires_at"].as_str().unwrap();
        let b = expires_at.as_bytes();
        assert_eq!(b.len(), 20, "{expires_at}");
        assert!(expires_at.starts_with("20") && expires_at.ends_with('Z'));
        assert_eq!(
            (b[4], b[7], b[10], b[13], b[16]),
            (b'-', b'-', b'T', b':', b':')
        );
        let expires_in = json["expires_in"].as_u64().unwrap();
        assert!((3500..=3600).contains(&expires_in), "{expires_in}");
        if let Some(scope) = json.get("scope") {
            assert!(scope.is_string(), "{json}");
        }
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in &keys {
            assert!(
                [
                    "provider",
                    "access_token",
                    "token_type",
                    "expires_at",
                    "expires_in",
                    "scope"
                ]
                .contains(key),
                "{key}"
            );
        }
    }
    let admitad: Value =
        serde_json::from_str(&h.ok(&["token", "admitad", "--format", "json"])).unwrap();
    assert!(admitad["scope"].is_string(), "{admitad}");
}

#[test]
fn token_header_prints_every_header_a_request_needs() {
    let h = Harness::new();
    for provider in providers() {
        let raw = h.ok(&["token", provider]);
        let out = h.ok(&["token", provider, "--format", "header"]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            format!("Authorization: Bearer {}", raw.trim()),
            "{out}"
        );
        match provider {
            "mediago" => {
                assert!(lines.contains(&"Account-Id: 100146"), "{out}");
                assert_eq!(lines.len(), 2, "{out}");
            }
            "mediamath" => {
                assert!(
                    lines.iter().any(|l| l.starts_with("Cookie: adama_session=")
                        && l.len() > "Cookie: adama_session=".len()),
                    "{out}"
                );
                assert_eq!(lines.len(), 2, "{out}");
            }
            _ => assert_eq!(lines.len(), 1, "{out}"),
        }
        // The second run was served from the disk cache.
        assert_eq!(h.fake(provider).token_requests(), 1, "{provider}");
    }
}

// ---- disk cache -------------------------------------------------------------------------

#[test]
fn a_second_run_is_served_from_the_disk_cache() {
    let h = Harness::new();
    let first = h.ok(&["token", PLAIN]);
    let out = h.run(&["-v", "token", PLAIN]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), first);
    assert!(
        stderr(&out).contains("served from the disk cache (expires in"),
        "{}",
        stderr(&out)
    );
    assert_eq!(h.fake(PLAIN).token_requests(), 1);
}

#[test]
fn no_cache_and_force_refresh_each_fetch() {
    let h = Harness::new();
    let fyber = h.fake(PLAIN);
    let a = h.ok(&["token", PLAIN]);
    let b = h.ok(&["token", PLAIN, "--no-cache"]);
    assert_eq!(fyber.token_requests(), 2);
    assert_ne!(a, b);
    // --no-cache did not write: the file still holds the first token.
    assert_eq!(h.ok(&["token", PLAIN]), a);
    assert_eq!(fyber.token_requests(), 2);
    let c = h.ok(&["token", PLAIN, "--force-refresh"]);
    assert_eq!(fyber.token_requests(), 3);
    assert_ne!(c, a);
    // --force-refresh wrote its token.
    assert_eq!(h.ok(&["token", PLAIN]), c);
    assert_eq!(fyber.token_requests(), 3);
    // Both together make no sense.
    let out = h.run(&["token", PLAIN, "--no-cache", "--force-refresh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_corrupt_cache_file_is_ignored_and_replaced() {
    let h = Harness::new();
    h.ok(&["token", PLAIN]);
    let files = h.token_files();
    assert_eq!(files.len(), 1, "{files:?}");
    for garbage in [
        "{not json",
        "",
        "{\"v\":1}",
        "{\"revision\":\"x\",\"value\":\"not a token\"}",
    ] {
        std::fs::write(&files[0], garbage).unwrap();
        let before = h.fake(PLAIN).token_requests();
        let token = h.ok(&["token", PLAIN]);
        assert_eq!(h.fake(PLAIN).token_requests(), before + 1);
        let stored = stored_token(&files[0]);
        assert_eq!(stored["provider"], PLAIN);
        assert_eq!(stored["access_token"], token.trim());
    }
}

#[test]
fn a_stored_token_in_its_refresh_window_is_renewed_with_its_refresh_token_or_fetched() {
    let h = Harness::new();
    for provider in ["mediamath", PLAIN] {
        let fake = h.fake(provider);
        let first = h.ok(&["token", provider]);
        let file = h
            .token_files()
            .into_iter()
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(provider)
            })
            .unwrap();
        // Still valid for 20 s, but the store only hands out tokens before their refresh
        // window (here the last 6 minutes or more of the hour).
        age_stored_token(&file, 20);
        let out = h.run(&["-v", "token", provider]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_ne!(stdout(&out), first);
        assert_eq!(fake.token_requests(), 2);
        let note = if provider == "mediamath" {
            "refreshed the token"
        } else {
            "fetched a new token"
        };
        assert!(stderr(&out).contains(note), "{}", stderr(&out));
        // The renewed token replaced it in the store.
        assert_eq!(stored_token(&file)["access_token"], stdout(&out).trim());
        assert_eq!(h.ok(&["token", provider]), stdout(&out));
        assert_eq!(fake.token_requests(), 2);
    }
}

#[cfg(unix)]
#[test]
fn cache_files_are_owner_only_and_named_by_identity() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::new();
    h.ok(&["token", PLAIN]);
    h.ok(&["token", "mediamath"]);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&h.cache_dir()), 0o700);
    let files = h.token_files();
    assert_eq!(files.len(), 2, "{files:?}");
    // Besides the tokens, only their lock files: no temporary file is left behind.
    for file in h.cache_files() {
        assert_eq!(mode(&file), 0o600, "{file:?}");
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(
            (name.starts_with("fyber-") || name.starts_with("mediamath-"))
                && [".token", ".lease", ".write-lock"]
                    .iter()
                    .any(|s| name.ends_with(s)),
            "{name}"
        );
        assert!(h.secrets().iter().all(|s| !name.contains(s.as_str())));
    }
    for file in &files {
        let provider = stored_token(file)["provider"].as_str().unwrap().to_owned();
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(&format!("{provider}-")), "{name}");
    }
}

#[test]
fn parallel_runs_share_one_token() {
    let h = Harness::new();
    let mediago = h.fake("mediago");
    // The Mediago fake revokes a token when it issues the next one: two fetches would
    // leave one run with a dead token.
    let children: Vec<_> = (0..4)
        .map(|_| {
            h.std_cmd()
                .args(["token", "mediago"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outs {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
        assert_eq!(stdout(out), stdout(&outs[0]));
    }
    assert!(stdout(&outs[0]).starts_with("fake-"));
    assert_eq!(mediago.token_requests(), 1);
    // And the token works.
    let out = h.run(&strs(&request_args(mediago)));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mediago.token_requests(), 1);
}

#[test]
fn parallel_runs_with_rejected_credentials_all_fail_promptly() {
    let h = Harness::new();
    let started = std::time::Instant::now();
    let children: Vec<_> = (0..3)
        .map(|_| {
            h.std_cmd()
                .env("ADAUTH_FYBER_CLIENT_SECRET", "CANARY-wrong-secret")
                .args(["token", PLAIN])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        assert!(stderr(&out).contains("invalid_client"), "{}", stderr(&out));
    }
    // Each run tries once when the one before it gives its lease back, instead of waiting
    // for a token that will not come (16 s each).
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // The failure is recorded for the other runs to share; no token is.
    for file in h.token_files() {
        assert!(
            stored_record(&file)["token"].is_null(),
            "{}",
            file.display()
        );
        assert_eq!(stored_record(&file)["failure"]["code"], "invalid_client");
    }
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn an_unreachable_redis_costs_one_warning_and_the_disk_cache_carries_on() {
    let h = Harness::new();
    let url = format!("redis://:CANARY-redis-pw@127.0.0.1:{}/0", closed_port());
    let run = || {
        h.cmd()
            .env("ADAUTH_REDIS_URL", &url)
            .args(["token", PLAIN])
            .output()
            .unwrap()
    };
    let first = run();
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(stdout(&first).starts_with("fake-"), "{}", stdout(&first));
    let err = stderr(&first);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("adauth: warning: ") && err.contains("Redis"),
        "{err}"
    );
    assert!(!err.contains("CANARY"), "{err}");
    // The disk cache took over: the second run fetches nothing.
    let second = run();
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!(stdout(&second), stdout(&first));
    assert_eq!(h.fake(PLAIN).token_requests(), 1);
    assert_eq!(h.token_files().len(), 1);
}

#[test]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
fn runs_on_different_hosts_share_one_token_through_redis() {
    let server = adauth_testkit::RedisServer::start();
    let url = server.url();
    let h = Harness::new();
    let other_host = tempfile::tempdir().unwrap();
    let run = |cache_dir: &std::path::Path| {
        let out = h
            .cmd()
            .env("ADAUTH_REDIS_URL", &url)
            .env("ADAUTH_CACHE_DIR", cache_dir)
            .args(["-v", "token", PLAIN])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
        out
    };
    // The fake's token URL (its port) is part of the key: no other run's token is found.
    let first = run(&h.cache_dir());
    let second = run(other_host.path());
    assert_eq!(stdout(&second), stdout(&first));
    assert!(
        stderr(&second).contains("served from the Redis store"),
        "{}",
        stderr(&second)
    );
    assert_eq!(h.fake(PLAIN).token_requests(), 1);
    assert!(h.token_files().is_empty(), "Redis replaces the disk cache");
}

/// A store key for `ADAUTH_STORE_KEY`: 32 bytes, base64.
const STORE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[test]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
fn runs_share_one_sealed_token_through_redis_over_tls() {
    let server = adauth_testkit::RedisServer::start_tls();
    let h = Harness::new();
    let other_host = tempfile::tempdir().unwrap();
    let run = |cache_dir: &std::path::Path| {
        let out = h
            .cmd()
            .env("ADAUTH_REDIS_URL", server.url())
            .env("ADAUTH_REDIS_CA_FILE", server.ca_file().unwrap())
            .env("ADAUTH_STORE_KEY", STORE_KEY)
            .env("ADAUTH_CACHE_DIR", cache_dir)
            .args(["-v", "token", PLAIN])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
        assert!(stderr(&out).contains("rediss://"), "{}", stderr(&out));
        out
    };
    let first = run(&h.cache_dir());
    let second = run(other_host.path());
    assert_eq!(stdout(&second), stdout(&first));
    assert!(
        stderr(&second).contains("served from the Redis store"),
        "{}",
        stderr(&second)
    );
    assert_eq!(h.fake(PLAIN).token_requests(), 1);
}

#[test]
fn with_a_store_key_the_disk_cache_holds_no_token_and_names_no_credential() {
    let h = Harness::new();
    let run = || {
        h.cmd()
            .env("ADAUTH_STORE_KEY", STORE_KEY)
            .args(["token", PLAIN])
            .output()
            .unwrap()
    };
    let first = run();
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let token = stdout(&first).trim().to_owned();
    let files = h.token_files();
    assert_eq!(files.len(), 1);
    for file in h.cache_files() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("sealed-"), "{name}");
        assert!(!name.contains(PLAIN), "{name}");
    }
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!text.contains(&token), "{text}");
    assert!(!text.contains("access_token"), "{text}");
    // The next run opens it: no second token request.
    let second = run();
    assert_eq!(stdout(&second), stdout(&first));
    assert_eq!(h.fake(PLAIN).token_requests(), 1);
    // A run without the key does not read it (and does not guess its name).
    h.ok(&["token", PLAIN]);
    assert_eq!(h.fake(PLAIN).token_requests(), 2);
}

#[test]
fn a_malformed_store_key_fails_the_command_without_echoing_it() {
    let h = Harness::new();
    let out = h
        .cmd()
        .env("ADAUTH_STORE_KEY", "CANARY-not-a-key")
        .args(["token", PLAIN])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("ADAUTH_STORE_KEY"), "{err}");
    assert!(err.contains("32 bytes"), "{err}");
    assert!(!err.contains("CANARY"), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(h.fake(PLAIN).token_requests(), 0);
}

// ---- request ----------------------------------------------------------------------------

#[test]
fn request_reaches_every_protected_endpoint() {
    let h = Harness::new();
    for fake in h.sandbox.fakes() {
        let out = h.run(&strs(&request_args(fake)));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(!out.stdout.is_empty(), "{}", fake.provider());
        assert_eq!(stderr(&out), "HTTP 200\n");
        assert_eq!(fake.protected_requests(), 1);
    }
    let fyber = stdout(&h.run(&strs(&request_args(h.fake(PLAIN)))));
    assert!(fyber.starts_with("date,application_id"), "{fyber}");
}

#[test]
fn request_recovers_from_a_revoked_token_with_one_token_request() {
    let h = Harness::new();
    for fake in h.sandbox.fakes() {
        let old = h.ok(&["token", fake.provider()]);
        assert_eq!(fake.token_requests(), 1);
        fake.revoke_all();
        let out = h.run(&strs(&request_args(fake)));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(stderr(&out), "HTTP 200\n");
        assert_eq!(fake.token_requests(), 2, "{}", fake.provider());
        assert_eq!(fake.unauthorized(), 1);
        // The renewed token went to the disk cache.
        let new = h.ok(&["token", fake.provider()]);
        assert_ne!(new, old);
        assert_eq!(fake.token_requests(), 2);
    }
}

#[test]
fn request_exits_1_on_a_non_2xx_answer() {
    let h = Harness::new();
    let fyber = h.fake(PLAIN);
    // The report endpoint wants POST.
    let url = fyber.protected_url();
    let out = h.run(&["request", PLAIN, &url]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "HTTP 400\n");
    assert!(stdout(&out).contains("invalid_request"), "{}", stdout(&out));
}

#[test]
fn request_refuses_plain_http_to_other_hosts() {
    let h = Harness::new();
    let out = h.run(&["request", PLAIN, "http://example.com/api"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("plain http"), "{}", stderr(&out));
    assert_eq!(h.fake(PLAIN).token_requests(), 0);
    let out = h.run(&["request", PLAIN, "https://example.com/", "-H", "no colon"]);
    assert_eq!(out.status.code(), Some(2));
}

// ---- providers --------------------------------------------------------------------------

#[test]
fn providers_lists_every_provider_and_marks_set_variables_without_values() {
    let h = Harness::new();
    let out = h.ok(&["providers"]);
    for provider in providers() {
        assert!(out.lines().any(|l| l == provider), "{out}");
    }
    let state = |var: &str| {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(var))
            .unwrap_or_else(|| panic!("{var} missing: {out}"));
        line.split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Each variable: required or optional, then set (the sandbox's) or not.
    let env = h.sandbox.env();
    for var in adauth::PROVIDERS.iter().flat_map(|p| p.env_vars()) {
        let need = if var.is_required() {
            "required"
        } else {
            "optional"
        };
        let set = if env.iter().any(|(k, _)| k == var.name()) {
            "set"
        } else {
            "not set"
        };
        assert_eq!(state(var.name()), format!("{need} {set}"), "{out}");
    }
    assert_eq!(state("ADAUTH_CACHE_DIR"), "optional set");
    assert_eq!(state("ADAUTH_REDIS_URL"), "optional not set");
    let with_redis = h
        .cmd()
        .env("ADAUTH_REDIS_URL", "redis://:CANARY-pw@127.0.0.1:1/")
        .arg("providers")
        .output()
        .unwrap();
    assert!(stdout(&with_redis).lines().any(
        |l| l.split_whitespace().collect::<Vec<_>>() == ["ADAUTH_REDIS_URL", "optional", "set"]
    ));
    assert!(!stdout(&with_redis).contains("CANARY"));
    for (_, value) in h.sandbox.env() {
        assert!(!out.contains(&value), "{value} printed");
    }
}

// ---- failures and exit codes --------------------------------------------------------------

#[test]
fn configuration_and_usage_errors_exit_2() {
    let h = Harness::new();
    // The provider argument takes the registered names only, and says which they are.
    let out = h.run(&["token", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("invalid value 'nope'"), "{err}");
    for provider in providers() {
        assert!(err.contains(provider), "{err}");
    }
    let help = h.ok(&["token", "--help"]);
    assert!(help.contains("possible values"), "{help}");

    let out = h
        .cmd()
        .env_remove("ADAUTH_FYBER_CLIENT_SECRET")
        .args(["token", PLAIN])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("ADAUTH_FYBER_CLIENT_SECRET"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1);

    for args in [
        &["token"][..],
        &["token", PLAIN, "--format", "xml"],
        &["bogus"],
        &[],
    ] {
        assert_eq!(h.run(args).status.code(), Some(2), "{args:?}");
    }
    assert_eq!(h.fake(PLAIN).token_requests(), 0);
}

#[test]
fn rejected_credentials_exit_3_with_the_provider_code() {
    let h = Harness::new();
    let out = h
        .cmd()
        .env("ADAUTH_FYBER_CLIENT_SECRET", "CANARY-wrong-secret")
        .args(["-v", "token", PLAIN])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains("invalid_client"), "{err}");
    assert!(!err.contains("CANARY"), "{err}");
    assert!(out.stdout.is_empty());
    // The failure is recorded for the other runs to share; no token is.
    for file in h.token_files() {
        assert!(
            stored_record(&file)["token"].is_null(),
            "{}",
            file.display()
        );
        assert_eq!(stored_record(&file)["failure"]["code"], "invalid_client");
    }
}

#[test]
fn an_unreachable_or_failing_provider_exits_4() {
    let h = Harness::new();
    let closed = closed_port();
    let out = h
        .cmd()
        .env(
            "ADAUTH_FYBER_BASE_URL",
            format!("http://127.0.0.1:{closed}"),
        )
        .args(["token", PLAIN])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));

    h.fake(PLAIN).fail_next(10, 500);
    let out = h.run(&["token", PLAIN]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("HTTP 500"), "{}", stderr(&out));
}

// ---- demo and sandbox ---------------------------------------------------------------------

#[test]
fn demo_shows_every_provider_working() {
    let h = Harness::new();
    // The demo must not need the environment: give it none of the sandbox's variables.
    let mut cmd = Command::cargo_bin("adauth").unwrap();
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ADAUTH_") {
            cmd.env_remove(name);
        }
    }
    let out = cmd
        .env("ADAUTH_CACHE_DIR", h.cache_dir())
        .arg("demo")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for provider in providers() {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("{provider:<10} token "))),
            "{text}"
        );
    }
    let count = adauth::PROVIDERS.len();
    assert_eq!(text.matches("HTTP 200").count(), count, "{text}");
    let last = format!("all {count} providers working");
    assert_eq!(text.lines().last(), Some(last.as_str()));
    assert!(h.token_files().is_empty(), "the demo writes no cache");
}

#[test]
fn sandbox_prints_working_exports_until_stopped() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let h = Harness::new();
    let expected = h.sandbox.env().len();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("adauth"))
        .arg("sandbox")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut exports = Vec::new();
    while exports.len() < expected {
        let line = lines.next().expect("an export line").unwrap();
        let rest = line.strip_prefix("export ").expect("export NAME='value'");
        let (name, value) = rest.split_once('=').unwrap();
        let value = value
            .strip_prefix('\'')
            .unwrap()
            .strip_suffix('\'')
            .unwrap();
        exports.push((name.to_owned(), value.to_owned()));
    }
    let names: Vec<&str> = exports.iter().map(|(k, _)| k.as_str()).collect();
    for (name, _) in h.sandbox.env() {
        assert!(names.contains(&name.as_str()), "{name} missing");
    }
    // The printed variables point at the running fakes.
    let mut cmd = h.cmd();
    for (name, _) in h.sandbox.env() {
        cmd.env_remove(name);
    }
    let out = cmd.envs(exports).args(["token", PLAIN]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        h.fake(PLAIN).token_requests(),
        0,
        "served by the child's fakes"
    );

    #[cfg(unix)]
    {
        let term = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        assert!(child.wait().unwrap().success(), "SIGTERM stops it cleanly");
    }
    #[cfg(not(unix))]
    {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

// ---- secrets --------------------------------------------------------------------------------

#[test]
fn stderr_never_carries_a_secret() {
    let h = Harness::new();
    let mut secrets = h.secrets();
    let mut stderrs = Vec::new();
    for fake in h.sandbox.fakes() {
        let p = fake.provider();
        for args in [
            vec!["-v", "token", p],
            vec!["-v", "token", p, "--format", "json"],
            vec!["-v", "token", p, "--format", "header", "--force-refresh"],
        ] {
            let out = h.run(&args);
            assert_eq!(out.status.code(), Some(0));
            // Everything the token command printed is secret too.
            secrets.extend(
                stdout(&out)
                    .split(|c: char| c.is_whitespace() || "\"{},:=".contains(c))
                    .filter(|w| w.starts_with("fake-"))
                    .map(str::to_owned),
            );
            stderrs.push(stderr(&out));
        }
        fake.revoke_all();
        let mut args = vec!["-v".to_owned()];
        args.extend(request_args(fake));
        let out = h.run(&strs(&args));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stderrs.push(stderr(&out));
        let out = h.run(&["-v", "token", p]);
        secrets.push(stdout(&out).trim().to_owned());
        fake.fail_next(10, 401);
        let out = h.run(&["-v", "token", p, "--no-cache"]);
        assert_ne!(out.status.code(), Some(0));
        stderrs.push(stderr(&out));
    }
    assert!(secrets.len() > 20);
    assert!(stderrs.iter().any(|e| e.contains("fetched a new token")));
    for err in &stderrs {
        for secret in &secrets {
            assert!(!err.contains(secret.as_str()), "{secret} in {err}");
        }
    }
}

// ---- edges: local attackers, terminals, warnings ---------------------------------------

/// A Fyber token endpoint that answers `status` with `body`, and the command pointed at it.
fn fyber_answering(h: &Harness, status: u16, body: &str) -> (httpmock::MockServer, Command) {
    let server = httpmock::MockServer::start();
    server.mock(|when, then| {
        when.method(httpmock::Method::POST);
        then.status(status)
            .header("content-type", "application/json")
            .body(body);
    });
    let mut cmd = h.cmd();
    cmd.env("ADAUTH_FYBER_BASE_URL", server.base_url());
    (server, cmd)
}

// Issue 10, item 7: a token is a token.
#[test]
fn a_token_with_a_line_break_is_refused_never_printed_or_cached() {
    let h = Harness::new();
    let body = r#"{"accessToken":"abc\r\nX-Injected: 1","tokenType":"bearer","expiresIn":3600}"#;
    let (_server, mut cmd) = fyber_answering(&h, 200, body);
    let out = cmd.args(["token", PLAIN]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("b64token"), "{err}");
    assert!(!err.contains("X-Injected"), "{err}");
    for file in h.token_files() {
        assert!(
            stored_record(&file)["token"].is_null(),
            "{}",
            file.display()
        );
    }
}

// Issue 10, item 6: provider text is safe to print.
#[test]
fn provider_text_cannot_forge_lines_or_colours_on_stderr() {
    let h = Harness::new();
    let body = "{\"error\":\"invalid_client\",\"error_description\":\"bad\\u001b[32m\\r\\nadauth: token ok\\u202e\"}";
    let (_server, mut cmd) = fyber_answering(&h, 400, body);
    let out = cmd.args(["token", PLAIN]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains('\u{1b}') && !err.contains('\r'), "{err:?}");
    assert!(!err.contains('\u{202e}'), "{err:?}");
    assert!(
        !err.lines().any(|l| l.starts_with("adauth: token ok")),
        "{err:?}"
    );
    assert!(err.contains("invalid_client"), "{err}");
    // Said once: the cache's own warning about the failed fetch is not repeated.
    assert_eq!(err.matches("invalid_client").count(), 1, "{err}");
}

// Issue 10, item 8: warnings are visible.
#[test]
fn token_store_warnings_are_shown_on_stderr() {
    let h = Harness::new();
    let first = h.ok(&["token", PLAIN]);
    let files = h.token_files();
    assert_eq!(files.len(), 1);
    // The token file becomes a directory: the store can neither read nor write it.
    std::fs::remove_file(&files[0]).unwrap();
    std::fs::create_dir(&files[0]).unwrap();
    let out = h.run(&["token", PLAIN]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("WARN"), "{err}");
    assert!(err.contains("token store failed to write"), "{err}");
    for secret in h.secrets() {
        assert!(!err.contains(&secret), "{err}");
    }
    assert!(!err.contains(first.trim()), "{err}");
}

// Issue 10, item 5: a directory that others can write is refused.
#[cfg(unix)]
#[test]
fn a_cache_directory_that_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::new();
    let dir = h.cache_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = h.run(&["token", PLAIN]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&dir.display().to_string()), "{err}");
    assert!(err.contains("chmod 700"), "{err}");
    assert!(h.cache_files().is_empty(), "nothing written there");
}

// Issue 10, item 4: no symlink is followed.
#[cfg(unix)]
#[test]
fn links_planted_in_the_cache_directory_are_never_followed() {
    let h = Harness::new();
    let real = h.ok(&["token", PLAIN]);
    let files = h.token_files();
    let token_file = files[0].clone();
    // Someone plants a token file of their own, behind a link.
    let elsewhere = tempfile::tempdir().unwrap();
    let planted = elsewhere.path().join("planted");
    let text = std::fs::read_to_string(&token_file)
        .unwrap()
        .replace(real.trim(), "PLANTED");
    std::fs::write(&planted, text).unwrap();
    std::fs::remove_file(&token_file).unwrap();
    std::os::unix::fs::symlink(&planted, &token_file).unwrap();
    let before = h.fake(PLAIN).token_requests();
    let token = h.ok(&["token", PLAIN]);
    assert_ne!(token.trim(), "PLANTED");
    assert_eq!(h.fake(PLAIN).token_requests(), before + 1, "fetched anew");
    assert!(
        std::fs::symlink_metadata(&token_file).unwrap().is_file(),
        "replaced"
    );

    // A lease file that is a link does not get its target created.
    let lease = token_file.with_extension("lease");
    let _ = std::fs::remove_file(&lease);
    let target = elsewhere.path().join("created-by-adauth");
    std::os::unix::fs::symlink(&target, &lease).unwrap();
    std::fs::remove_file(&token_file).unwrap();
    let out = h.run(&["token", PLAIN]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!target.exists());
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
}

/// A proxy on loopback that records what it is sent and answers 502: its address and the
/// bytes it has seen.
fn recording_proxy() -> (String, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        for mut socket in listener.incoming().flatten() {
            let mut buf = vec![0u8; 64 * 1024];
            if let Ok(n) = socket.read(&mut buf) {
                record.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            let _ = socket.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        }
    });
    (url, seen)
}

// Issue 10, item 1: with proxies set, loopback endpoints (the sandbox) are reached directly,
// by the token client and by `adauth request`'s.
#[test]
fn proxies_never_see_requests_to_loopback_endpoints() {
    let h = Harness::new();
    let (proxy, seen) = recording_proxy();
    let fake = h.fake(PLAIN);
    for args in [
        vec![
            "token".to_owned(),
            PLAIN.to_owned(),
            "--no-cache".to_owned(),
        ],
        vec![
            "request".to_owned(),
            PLAIN.to_owned(),
            fake.protected_url(),
            "-X".to_owned(),
            fake.protected_method().to_owned(),
        ],
    ] {
        let out = h
            .cmd()
            .env("HTTP_PROXY", &proxy)
            .env("http_proxy", &proxy)
            .env("ALL_PROXY", &proxy)
            .env("HTTPS_PROXY", &proxy)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    let seen = seen.lock().unwrap();
    assert!(seen.is_empty(), "{}", String::from_utf8_lossy(&seen));
}

/// A loopback server that accepts connections and never answers.
fn silent_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for socket in listener.incoming().flatten() {
            open.push(socket);
        }
    });
    url
}

// Issue 10, item 11: every limit is configurable: a provider that never answers is given up
// on after --timeout (or ADAUTH_TIMEOUT).
#[test]
fn a_provider_that_never_answers_is_given_up_on_after_the_timeout() {
    let h = Harness::new();
    let silent = silent_server();
    for (flag, env) in [(Some("1"), None), (None, Some("1"))] {
        let started = std::time::Instant::now();
        let mut cmd = h.cmd();
        cmd.env("ADAUTH_FYBER_BASE_URL", &silent);
        if let Some(env) = env {
            cmd.env("ADAUTH_TIMEOUT", env);
        }
        cmd.args(["token", PLAIN, "--no-cache"]);
        if let Some(flag) = flag {
            cmd.args(["--timeout", flag]);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("gave up after 1 s"),
            "{}",
            stderr(&out)
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
    // `request` too, against an API that never answers.
    let started = std::time::Instant::now();
    let out = h.run(&["request", PLAIN, &format!("{silent}/api"), "--timeout", "1"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

// Issue 10, item 9: the README's `eval "$(adauth sandbox)"` returns, the fakes it started
// serve, and `adauth sandbox --stop` ends them.
#[test]
fn eval_adauth_sandbox_returns_and_the_fakes_can_be_stopped() {
    let bin = assert_cmd::cargo::cargo_bin("adauth");
    let dir = bin.parent().unwrap().display().to_string();
    let cache = tempfile::tempdir().unwrap();
    let script = r#"
        eval "$(adauth sandbox)"
        echo "pid=$ADAUTH_SANDBOX_PID"
        adauth token fyber > /dev/null && echo "token ok"
        adauth sandbox --stop
    "#;
    let mut bash = std::process::Command::new("bash");
    bash.args(["-c", script])
        .env(
            "PATH",
            format!("{dir}:{}", std::env::var("PATH").unwrap_or_default()),
        )
        .env("ADAUTH_CACHE_DIR", cache.path().join("c"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ADAUTH_") {
            bash.env_remove(name);
        }
    }
    let mut child = bash.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            panic!("eval \"$(adauth sandbox)\" did not return");
        }
        // Polling the child's exit, bounded by the deadline above.
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let text = stdout(&out);
    assert!(status.success(), "{text}{}", stderr(&out));
    assert!(text.contains("token ok"), "{text}{}", stderr(&out));
    let pid = text
        .lines()
        .find_map(|l| l.strip_prefix("pid="))
        .and_then(|p| p.trim().parse::<u32>().ok())
        .expect("ADAUTH_SANDBOX_PID was set");
    // Stopped: the process is gone (`kill -0` fails) within a few seconds.
    let gone = (0..200).any(|_| {
        // A zombie (exited, not yet reaped by whoever adopted it) counts as gone.
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        });
        let alive = !zombie
            && std::process::Command::new("kill")
                .args(["-0", &pid.to_string()])
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap()
                .success();
        if alive {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        !alive
    });
    assert!(gone, "the sandbox process {pid} is still running");
}

// Issue 10, item 10: messages say what happened.
#[cfg(unix)]
#[test]
fn messages_say_what_happened() {
    use std::os::unix::ffi::OsStrExt as _;
    let h = Harness::new();
    let bare = || {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("adauth"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        cmd
    };
    // An unknown provider: the providers compiled in.
    let out = bare().args(["token", "nope"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(providers().all(|p| err.contains(p)), "{err}");
    // Every missing variable at once.
    let out = bare().args(["token", "mediamath"]).output().unwrap();
    let err = stderr(&out);
    for name in ["CLIENT_ID", "CLIENT_SECRET", "USERNAME", "PASSWORD"] {
        assert!(err.contains(&format!("ADAUTH_MEDIAMATH_{name}")), "{err}");
    }
    // A value that is not UTF-8 is not "not set".
    let out = bare()
        .env(
            "ADAUTH_FYBER_CLIENT_ID",
            std::ffi::OsStr::from_bytes(b"\xff\xfe"),
        )
        .env("ADAUTH_FYBER_CLIENT_SECRET", "s")
        .args(["token", PLAIN])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("ADAUTH_FYBER_CLIENT_ID is not valid UTF-8"),
        "{err}"
    );
    // The cause of a failed connection is named.
    let out = h
        .cmd()
        .env(
            "ADAUTH_FYBER_BASE_URL",
            format!("http://127.0.0.1:{}", closed_port()),
        )
        .args(["token", PLAIN, "--no-cache"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
}

// Issue 10, item 12: `adauth request` streams the answer to stdout as it arrives.
#[test]
fn request_streams_the_answer_as_it_arrives() {
    use std::io::{BufRead, Read, Write};
    let h = Harness::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/stream", listener.local_addr().unwrap());
    let (release, held) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut buf = [0u8; 8192];
        let _ = socket.read(&mut buf);
        socket
            .write_all(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nb\r\nFIRST-PART\n\r\n",
            )
            .unwrap();
        socket.flush().unwrap();
        // The rest only once the first part has reached the command's stdout (or, if it
        // never does, after a while, so that a buffering command ends too).
        let released = held
            .recv_timeout(std::time::Duration::from_secs(20))
            .is_ok();
        let _ = socket.write_all(b"5\r\nLAST\n\r\n0\r\n\r\n");
        released
    });
    let mut child = h
        .std_cmd()
        .args(["request", PLAIN, &url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "FIRST-PART");
    let _ = release.send(());
    assert_eq!(lines.next().unwrap().unwrap(), "LAST");
    assert!(child.wait().unwrap().success());
    assert!(
        server.join().unwrap(),
        "the first part reached stdout only after the whole answer"
    );
}

/// A config file in the harness's directory, owner-only, with `text`.
fn write_config(h: &Harness, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = h.tmp.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// [`Harness::std_cmd`] without the plain provider's variables, reading `config`.
fn profile_cmd(h: &Harness, config: &std::path::Path) -> std::process::Command {
    let mut cmd = h.std_cmd();
    for (name, _) in h.fake(PLAIN).env() {
        cmd.env_remove(name);
    }
    cmd.env("ADAUTH_CONFIG", config);
    cmd
}

#[test]
fn a_profile_gives_the_command_its_settings_and_the_environment_wins() {
    let h = Harness::new();
    let env: std::collections::BTreeMap<String, String> = h.fake(PLAIN).env().into_iter().collect();
    let var = |suffix: &str| {
        env.iter()
            .find(|(k, _)| k.ends_with(suffix))
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let secret = var("_CLIENT_SECRET");
    let config = write_config(
        &h,
        &format!(
            "[profiles.reports]\nprovider = \"{PLAIN}\"\nclient_id = \"{}\"\n\
             client_secret_command = \"printf '%s\\\\n' {secret}\"\nbase_url = \"{}\"\n",
            var("_CLIENT_ID"),
            var("_BASE_URL"),
        ),
    );
    let run = |cmd: &mut std::process::Command| cmd.output().unwrap();

    // --profile, and ADAUTH_PROFILE.
    let out =
        run(profile_cmd(&h, &config).args(["token", PLAIN, "--profile", "reports", "--no-cache"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).trim().is_empty());
    let out = run(profile_cmd(&h, &config)
        .env("ADAUTH_PROFILE", "reports")
        .args(["token", PLAIN, "--no-cache"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(h.fake(PLAIN).token_requests(), 2);

    // Without a profile the variables are missing.
    let out = run(profile_cmd(&h, &config).args(["token", PLAIN, "--no-cache"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // A variable in the environment wins over the profile's command.
    let out = run(profile_cmd(&h, &config)
        .env(
            env.keys().find(|k| k.ends_with("_CLIENT_SECRET")).unwrap(),
            "not-the-secret",
        )
        .args(["token", PLAIN, "--profile", "reports", "--no-cache"]));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));

    // A profile of another provider is a usage error.
    let other = adauth::PROVIDERS
        .iter()
        .find(|p| p.name() != PLAIN)
        .unwrap()
        .name();
    let out = run(profile_cmd(&h, &config).args(["token", other, "--profile", "reports"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is for"), "{}", stderr(&out));

    // `adauth profiles` says where each setting comes from, never its value.
    let out = run(profile_cmd(&h, &config).arg("profiles"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listing = stdout(&out);
    assert!(
        listing.contains(&format!("reports  ({PLAIN})")),
        "{listing}"
    );
    assert!(listing.contains("_CLIENT_SECRET  command"), "{listing}");
    assert!(!listing.contains(&secret), "{listing}");
}

#[test]
fn a_config_file_others_can_read_is_refused_when_it_holds_a_secret() {
    use std::os::unix::fs::PermissionsExt as _;
    let h = Harness::new();
    let canary = "Zq7xProfileCanary";
    let config = write_config(
        &h,
        &format!(
            "[profiles.p]\nprovider = \"{PLAIN}\"\nclient_id = \"x\"\nclient_secret = \"{canary}\"\n"
        ),
    );
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = profile_cmd(&h, &config)
        .args(["token", PLAIN, "--profile", "p"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("chmod 600"), "{err}");
    assert!(
        !err.contains(canary) && !stdout(&out).contains(canary),
        "{err}"
    );
}

#[test]
fn completions_cover_the_commands_and_every_provider_for_each_shell() {
    let h = Harness::new();
    for (shell, marker, option) in [
        ("bash", "complete -F", "--profile"),
        ("zsh", "#compdef adauth", "--profile"),
        ("fish", "complete -c adauth", "-l profile"),
    ] {
        let script = h.ok(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: {script}");
        for word in ["token", "request", "profiles", option] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
        for provider in providers() {
            assert!(script.contains(provider), "{shell} lacks {provider}");
        }
    }
    let out = h.run(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

/// A GET over plain HTTP to a loopback URL: the status and the `Location` header.
fn get(url: &str) -> (u16, Option<String>) {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://").expect("a loopback http URL");
    let (host, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET {} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n",
        if target.is_empty() { "/" } else { target }
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.split_whitespace().nth(1).unwrap().parse().unwrap();
    let location = answer
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or(l.strip_prefix("Location: "))
        })
        .map(str::to_owned);
    (status, location)
}

/// The lines `adauth login` writes on stderr after the authorization URL.
type LoginLines = std::io::Lines<std::io::BufReader<std::process::ChildStderr>>;

/// Starts `adauth login <provider> --no-browser`: the child, the rest of its stderr and the
/// authorization URL it printed.
fn start_login(h: &Harness, provider: &str) -> (std::process::Child, LoginLines, String) {
    use std::io::BufRead as _;
    let mut child = h
        .std_cmd()
        .args(["login", provider, "--no-browser"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|l| l.starts_with("http://"))
        .expect("an authorization URL");
    (child, lines, url)
}

/// The providers with a browser login.
fn logins() -> impl Iterator<Item = &'static str> {
    adauth::PROVIDERS
        .iter()
        .filter(|p| p.login().is_some())
        .map(|p| p.name())
}

#[test]
fn login_through_the_fakes_then_token_renews_the_users_grant_and_logout_forgets_it() {
    let h = Harness::new();
    assert!(logins().count() > 0);
    for provider in logins() {
        let fake = h.fake(provider);
        // The command prints the authorization URL; the test is the browser.
        let (mut child, lines, url) = start_login(&h, provider);
        assert!(url.starts_with(&fake.base_url()), "{url}");
        let (status, location) = get(&url);
        assert_eq!(status, 302, "the fake grants at once");
        let location = location.expect("a redirect to the listener");
        assert!(location.starts_with("http://127.0.0.1:"), "{location}");
        assert!(location.contains("/callback?code="), "{location}");
        assert_eq!(get(&location).0, 200, "the listener answers the browser");
        let rest: Vec<String> = lines.map(Result::unwrap).collect();
        assert!(child.wait().unwrap().success(), "{rest:?}");
        assert!(rest.iter().any(|l| l.contains("logged in")), "{rest:?}");
        let exchanged = fake.token_requests();

        // Only the client's variables: no user name or password.
        let client_only = |args: &[&str]| {
            let mut cmd = h.cmd();
            for (name, _) in h.sandbox.env() {
                if name.contains("USERNAME") || name.contains("PASSWORD") {
                    cmd.env_remove(name);
                }
            }
            cmd.args(args).output().unwrap()
        };
        let out = client_only(&["-v", "token", provider]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(stderr(&out).contains("adauth login"), "{}", stderr(&out));
        assert_eq!(fake.token_requests(), exchanged, "served from the store");
        let token = stdout(&out);

        // A program reads the same grant from the same store.
        let descriptor = adauth::provider(provider).unwrap();
        let (login, redirect_uri) = adauth::logins::saved(&h.cache_dir(), descriptor, None)
            .unwrap()
            .expect("the login's marker");
        let vars = h.sandbox.env();
        let lookup = move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let store = adauth::FileStore::new(h.cache_dir()).unwrap();
        let cache =
            adauth::TokenCache::builder_arc(login.source(&lookup, &redirect_uri).unwrap().into())
                .store(std::sync::Arc::new(store))
                .build();
        let from_library = h._rt.block_on(cache.token()).unwrap();
        assert_eq!(
            adauth::secrecy::ExposeSecret::expose_secret(from_library.access_token()),
            token.trim()
        );
        assert_eq!(fake.token_requests(), exchanged);

        // Once due, it is renewed with the grant's refresh token, and stays the user's.
        let file = h
            .token_files()
            .into_iter()
            .find(|p| read_store_file(p).1.contains(token.trim()))
            .expect("the login's token in the store");
        assert!(stored_token(&file)["refresh_token"].is_string());
        age_stored_token(&file, 20);
        let out = client_only(&["-v", "token", provider]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("refreshed the token"),
            "{}",
            stderr(&out)
        );
        assert_ne!(stdout(&out), token);
        assert_eq!(fake.token_requests(), exchanged + 1);

        h.ok(&["logout", provider]);
        assert!(
            !std::fs::read_to_string(&file)
                .unwrap()
                .contains(stdout(&out).trim()),
            "the grant is gone from the store"
        );
        let out = client_only(&["-v", "token", provider]);
        assert!(!stderr(&out).contains("adauth login"), "{}", stderr(&out));
    }
}

#[test]
fn a_redirect_with_another_state_is_refused_and_nothing_is_kept() {
    let h = Harness::new();
    for provider in logins() {
        let fake = h.fake(provider);
        // The command prints the authorization URL; the test is the browser.
        let (mut child, lines, url) = start_login(&h, provider);
        let location = get(&url).1.expect("a redirect to the listener");
        // Another page's redirect (a forged one): same listener, another state.
        let forged: String = match location.split_once("state=") {
            Some((head, _)) => format!("{head}state=forged"),
            None => panic!("no state in {location}"),
        };
        assert_eq!(get(&forged).0, 200);
        let rest: Vec<String> = lines.map(Result::unwrap).collect();
        let status = child.wait().unwrap();
        assert!(!status.success(), "{rest:?}");
        assert!(rest.iter().any(|l| l.contains("state")), "{rest:?}");
        assert_eq!(fake.token_requests(), 0, "the code is never exchanged");
        assert!(!h.cache_dir().join("logins").join(provider).exists());
    }
}

#[test]
fn a_login_nobody_completes_gives_up_at_its_deadline() {
    let h = Harness::new();
    for provider in logins() {
        let out = h.run(&["--timeout", "1", "login", provider, "--no-browser"]);
        assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("gave up after 1 s"),
            "{}",
            stderr(&out)
        );
        assert!(!h.cache_dir().join("logins").join(provider).exists());
    }
}
