//! What a cache tells: `tracing` spans around fetch, refresh and store calls with their
//! fields, none holding a secret, and the event hook's events.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{
    CacheEvent, Error, ErrorKind, FetchContext, FileStore, ManualClock, Result, Token, TokenCache,
    TokenSource, async_trait,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

#[path = "support/down.rs"]
mod down;

const ACCESS: &str = "CANARY-ACCESS-5e1d";
const REFRESH: &str = "CANARY-REFRESH-9a7c";
const CLIENT_SECRET: &str = "CANARY-SECRET-3b2f";

/// Issues canary tokens with refresh tokens; fails while `down` is set.
#[derive(Debug, Default)]
struct Canary {
    fetches: AtomicUsize,
    down: AtomicBool,
}

impl Canary {
    fn issue(&self, cx: &FetchContext) -> Result<Token> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        if self.down.load(Ordering::SeqCst) {
            return Err(Error::new("canary", ErrorKind::ProviderUnavailable)
                .with_status(503)
                .with_description("the service is down"));
        }
        let now = cx.now();
        Ok(Token::new(
            SecretString::from(format!("{ACCESS}-{n}")),
            now,
            now + Duration::from_secs(3600),
        )
        .with_refresh_token(Some(SecretString::from(format!("{REFRESH}-{n}")))))
    }
}

#[async_trait]
impl TokenSource for Canary {
    fn provider(&self) -> &str {
        "canary"
    }
    fn identity(&self) -> Option<String> {
        Some(adauth_core::credential_identity(
            "canary",
            &["client", CLIENT_SECRET],
        ))
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        self.issue(cx)
    }
    async fn refresh(&self, cx: &FetchContext, _refresh_token: &SecretString) -> Result<Token> {
        self.issue(cx)
    }
}

/// A span as the capture saw it: its name and every field recorded on it.
#[derive(Debug, Clone)]
struct Captured {
    name: &'static str,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Capture {
    spans: Arc<Mutex<Vec<(u64, Captured)>>>,
    /// Every event's fields, rendered: to look for secrets.
    events: Arc<Mutex<Vec<String>>>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let name = attrs.metadata().name();
        self.spans
            .lock()
            .unwrap()
            .push((id.into_u64(), Captured { name, fields }));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut spans = self.spans.lock().unwrap();
        if let Some((_, span)) = spans.iter_mut().rev().find(|(i, _)| *i == id.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.events.lock().unwrap().push(format!("{fields:?}"));
    }
}

impl Capture {
    fn spans(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        self.spans
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, s)| s.name == name)
            .map(|(_, s)| s.fields.clone())
            .collect()
    }

    fn assert_no_secret(&self) {
        let everything = format!(
            "{:?} {:?}",
            self.spans.lock().unwrap(),
            self.events.lock().unwrap()
        );
        for canary in [ACCESS, REFRESH, CLIENT_SECRET] {
            assert!(!everything.contains(canary), "{canary} in {everything}");
        }
    }
}

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn field<'a>(span: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    span.get(name)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no {name} in {span:?}"))
}

#[tokio::test(start_paused = true)]
async fn fetch_refresh_and_failure_spans_carry_their_fields_and_no_secret() {
    let capture = Capture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let source = Arc::new(Canary::default());
    let clock = ManualClock::new(t0());
    let cache = TokenCache::builder(Arc::clone(&source))
        .clock(Arc::new(clock.clone()))
        .backoff(Duration::from_millis(1), Duration::from_millis(1))
        .build();

    let first = cache.token().await.unwrap();
    assert!(first.access_token().expose_secret().starts_with(ACCESS));
    // Past the refresh point: renewed with the refresh token.
    clock.advance(Duration::from_secs(3590));
    cache.renew_now().await.unwrap();
    // Then a failure, and the attempt after it.
    source.down.store(true, Ordering::SeqCst);
    assert!(cache.invalidate(&cache.token().await.unwrap()));
    cache.token().await.unwrap_err();
    tokio::time::sleep(Duration::from_millis(5)).await;
    cache.token().await.unwrap_err();

    let fetches = capture.spans("adauth.fetch");
    assert_eq!(fetches.len(), 4, "{fetches:?}");
    let identity = source.identity().unwrap();
    for span in &fetches {
        assert_eq!(field(span, "provider"), "canary");
        assert_eq!(field(span, "identity"), identity);
        field(span, "duration_ms").parse::<u64>().unwrap();
    }
    let summary: Vec<(&str, &str, &str)> = fetches
        .iter()
        .map(|s| (field(s, "attempt"), field(s, "grant"), field(s, "outcome")))
        .collect();
    assert_eq!(
        summary,
        [
            ("1", "fetch", "fetched"),
            ("1", "refresh_token", "refreshed"),
            ("1", "refresh_token", "failed"),
            ("2", "refresh_token", "failed"),
        ]
    );
    assert_eq!(field(&fetches[2], "error_kind"), "ProviderUnavailable");
    let refreshes = capture.spans("adauth.refresh");
    assert_eq!(field(&refreshes[0], "outcome"), "refreshed");
    assert_eq!(field(&refreshes[1], "outcome"), "failed");
    capture.assert_no_secret();
}

#[tokio::test]
async fn store_calls_have_spans_and_a_failing_store_is_an_event() {
    let capture = Capture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let dir = std::env::temp_dir().join(format!("adauth-spans-{}", adauth_core::new_revision()));
    let stored = TokenCache::builder(Canary::default())
        .store(Arc::new(FileStore::new(&dir).unwrap()))
        .build();
    stored.token().await.unwrap();
    let operations: Vec<(String, String)> = capture
        .spans("adauth.store")
        .iter()
        .map(|s| {
            (
                field(s, "operation").to_owned(),
                field(s, "outcome").to_owned(),
            )
        })
        .collect();
    for operation in ["read", "lease", "write", "release its lease"] {
        assert!(
            operations.contains(&(operation.to_owned(), "ok".to_owned())),
            "{operation}: {operations:?}"
        );
    }

    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let down = TokenCache::builder(Canary::default())
        .store(Arc::new(down::Down))
        .on_event(move |event| seen.lock().unwrap().push(format!("{event:?}")))
        .build();
    down.token().await.unwrap();
    let events = events.lock().unwrap().clone();
    assert!(
        events[0].starts_with(r#"StoreFallback { provider: "canary", operation: "read" }"#),
        "{events:?}"
    );
    assert!(
        events[1].starts_with(r#"Fetched { provider: "canary", attempt: 1"#),
        "{events:?}"
    );
    assert!(
        capture
            .spans("adauth.store")
            .iter()
            .any(|s| field(s, "outcome") == "failed"),
    );
    capture.assert_no_secret();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(start_paused = true)]
async fn the_hook_hears_each_kind_of_event_and_survives_its_own_panic() {
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&events);
    let source = Arc::new(Canary::default());
    let clock = ManualClock::new(t0());
    let cache = TokenCache::builder(Arc::clone(&source))
        .clock(Arc::new(clock.clone()))
        .on_event(move |event| {
            let kind = match event {
                CacheEvent::Fetched { attempt, .. } => format!("fetched {attempt}"),
                CacheEvent::Refreshed { attempt, .. } => format!("refreshed {attempt}"),
                CacheEvent::Failed { kind, attempt, .. } => format!("failed {kind:?} {attempt}"),
                CacheEvent::Invalidated { provider } => format!("invalidated {provider}"),
                other => format!("{other:?}"),
            };
            seen.lock().unwrap().push(kind);
            if matches!(event, CacheEvent::Invalidated { .. }) {
                panic!("a hook that panics");
            }
        })
        .build();

    let token = cache.token().await.unwrap();
    clock.advance(Duration::from_secs(3590));
    cache.renew_now().await.unwrap();
    source.down.store(true, Ordering::SeqCst);
    assert!(cache.invalidate(&cache.token().await.unwrap()));
    let err = cache.token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    drop(token);

    assert_eq!(
        *events.lock().unwrap(),
        [
            "fetched 1",
            // `renew_now` drops the current token first.
            "invalidated canary",
            "refreshed 1",
            "invalidated canary",
            "failed ProviderUnavailable 1",
        ]
    );
}
