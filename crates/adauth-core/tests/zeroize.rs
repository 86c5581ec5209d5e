//! No buffer that adauth builds with a secret is freed with the secret still in it.
//!
//! A global allocator looks into every block as it is freed, while a case runs, and counts
//! the blocks that still hold the canary (raw, or base64 in a Basic pair). Safe code cannot
//! read freed memory, so this is the one place where the tests use `unsafe`.
//!
//! The buffers of reqwest, hyper and the operating system are out of reach and out of
//! scope: the cases call adauth's own builders and readers, not a whole HTTP exchange.
#![allow(unsafe_code)]

use adauth_core::provider_kit::wire::{basic_authorization, form_body, json_body};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{
    Error, ErrorKind, FetchContext, FileStore, Result, Token, TokenCache, TokenSource, TokenStore,
    async_trait,
};

/// The secret. Letters and digits only, so that it is the same raw, form-, percent- and
/// JSON-encoded, and a valid bearer token.
const CANARY: &[u8] = b"Zq7xCanarySecretW4";
/// Base64 of `client:Zq7xCanarySecretW4`, as a Basic header carries it.
const CANARY_BASIC: &[u8] = b"Y2xpZW50OlpxN3hDYW5hcnlTZWNyZXRXNA";

struct Scanning;

static ARMED: AtomicBool = AtomicBool::new(false);
static LEAKS: AtomicUsize = AtomicUsize::new(0);

fn holds(block: &[u8], needle: &[u8]) -> bool {
    block.windows(needle.len()).any(|w| w == needle)
}

// SAFETY: every call is forwarded to the system allocator with the same arguments; the scan
// reads a block only before it is given back, while it is still allocated to the caller.
unsafe impl GlobalAlloc for Scanning {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller's contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::SeqCst) {
            // SAFETY: `ptr` is a live block of `layout.size()` bytes until `System.dealloc`.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if holds(block, CANARY) || holds(block, CANARY_BASIC) {
                LEAKS.fetch_add(1, Ordering::SeqCst);
            }
        }
        // SAFETY: as the caller's contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    // `realloc` is left to its default (allocate, copy, `dealloc`), so that the block a
    // growing buffer leaves behind is scanned too.
}

#[global_allocator]
static ALLOCATOR: Scanning = Scanning;

fn canary() -> &'static str {
    std::str::from_utf8(CANARY).unwrap()
}

fn secret() -> SecretString {
    let mut text = String::with_capacity(CANARY.len());
    text.push_str(canary());
    SecretString::from(text)
}

/// How many freed blocks held the canary while `case` ran.
fn leaks(case: impl FnOnce()) -> usize {
    LEAKS.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    case();
    ARMED.store(false, Ordering::SeqCst);
    LEAKS.load(Ordering::SeqCst)
}

#[derive(Debug)]
struct Canary;

#[async_trait]
impl TokenSource for Canary {
    fn provider(&self) -> &str {
        "canary"
    }
    fn identity(&self) -> Option<String> {
        Some("canary-key".to_owned())
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let now = cx.now();
        Ok(Token::new(secret(), now, now + Duration::from_secs(3600))
            .with_refresh_token(Some(secret())))
    }
}

#[derive(serde::Serialize)]
struct Grant<'a> {
    grant_type: &'a str,
    client_secret: &'a str,
}

// One test, so that no other test frees blocks while the scan is armed.
#[test]
fn no_buffer_adauth_builds_with_a_secret_is_freed_unwiped() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("adauth-zeroize-{}", adauth_core::new_revision()));
    let secret = secret();
    let mut failures = Vec::new();
    let mut check = |name: &str, n: usize| {
        if n > 0 {
            failures.push(format!("{name}: {n} freed blocks held the secret"));
        }
    };

    // The control: a plain copy is seen, so a zero below means wiped, not unseen.
    let plain = leaks(|| drop(canary().to_owned()));
    assert_eq!(plain, 1, "the scan does not see a freed copy");
    let plain_basic = leaks(|| {
        use base64::Engine as _;
        drop(base64::engine::general_purpose::STANDARD.encode("client:Zq7xCanarySecretW4"))
    });
    assert_eq!(plain_basic, 1, "the scan does not see a freed Basic pair");

    check(
        "form body",
        leaks(|| {
            let body = form_body(&[("grant_type", "x"), ("client_secret", canary())]);
            assert!(holds(&body, CANARY));
            let again = body.clone();
            drop(body);
            drop(again);
        }),
    );
    check(
        "JSON body",
        leaks(|| {
            let body = json_body(&Grant {
                grant_type: "password",
                client_secret: canary(),
            });
            assert!(holds(&body, CANARY));
        }),
    );
    check(
        "Basic header",
        leaks(|| {
            let value = basic_authorization("client", canary());
            assert!(holds(value.as_bytes(), CANARY_BASIC));
        }),
    );
    let now = std::time::SystemTime::now();
    let token = Token::new(secret.clone(), now, now + Duration::from_secs(60))
        .with_refresh_token(Some(secret.clone()));
    check(
        "Bearer header",
        leaks(|| {
            let value = token.authorization_header("canary").unwrap();
            assert!(holds(value.as_bytes(), CANARY));
        }),
    );
    check(
        "stored token",
        leaks(|| {
            let stored = token.to_stored("canary");
            let back = Token::from_stored("canary", stored.expose_secret()).unwrap();
            assert!(back.same_access_token(&token));
        }),
    );
    check(
        "error scrub",
        leaks(|| {
            let mut description = String::with_capacity(64);
            description.push_str("bad secret ");
            description.push_str(canary());
            let error = Error::new("canary", ErrorKind::CredentialsRejected)
                .with_description(description)
                .scrub(&[canary(), "client:Zq7xCanarySecretW4"]);
            assert!(!error.to_string().contains(canary()));
        }),
    );
    let store = Arc::new(FileStore::new(&dir).unwrap());
    check(
        "file store write and read",
        leaks(|| {
            runtime.block_on(async {
                store
                    .compare_and_set("k", None, &secret)
                    .await
                    .unwrap()
                    .unwrap();
                let loaded = store.load("k").await.unwrap().unwrap();
                assert_eq!(loaded.value.expose_secret(), canary());
            })
        }),
    );
    check(
        "cache records through the file store",
        leaks(|| {
            runtime.block_on(async {
                // One cache fetches and writes its record; a second one reads it back.
                let first = TokenCache::builder(Canary).store(store.clone()).build();
                let token = first.token().await.unwrap();
                let second = TokenCache::builder(Canary).store(store.clone()).build();
                assert!(second.token().await.unwrap().same_access_token(&token));
            })
        }),
    );
    drop(runtime);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{failures:#?}");
}
