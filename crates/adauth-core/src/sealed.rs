//! Token stores encrypted at rest: [`SealedStore`] and its [`StoreKey`].

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::secret_buf::SecretBuf;
use crate::store::{Lease, StoredValue, TokenStore};
use crate::{Error, Result};

/// The environment variable [`StoreKey::from_env`] reads.
pub const STORE_KEY_VAR: &str = "ADAUTH_STORE_KEY";

/// What every sealed value starts with: the format, so that a later one can be told apart.
const SEALED_PREFIX: &str = "adauth-sealed-1.";
/// What every sealed key name starts with.
const NAME_PREFIX: &str = "sealed-";
const NONCE_LEN: usize = 24;

/// The secret that a [`SealedStore`] encrypts and names keys with: 32 random bytes, written
/// as base64 (`openssl rand -base64 32`, or [`StoreKey::generate`]).
///
/// Two keys are derived from it with HKDF-SHA256: one names store keys (HMAC-SHA256 of
/// the credential identity), one encrypts values (XChaCha20-Poly1305). Every process that
/// shares a store needs the same key. `Debug` never shows it.
#[derive(Clone)]
pub struct StoreKey {
    names: Zeroizing<[u8; 32]>,
    values: Zeroizing<[u8; 32]>,
}

impl StoreKey {
    /// The key written as base64 (standard or URL-safe, padded or not) of 32 bytes.
    ///
    /// The error never quotes the text.
    ///
    /// ```
    /// let key = adauth_core::StoreKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
    /// assert!(adauth_core::StoreKey::from_base64("too short").is_err());
    /// # let _ = key;
    /// ```
    pub fn from_base64(text: &str) -> Result<Self> {
        let text = text.trim();
        let mut bytes = Zeroizing::new([0u8; 48]);
        let decoded = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &URL_SAFE_NO_PAD,
        ]
        .into_iter()
        .find_map(|engine| engine.decode_slice(text, &mut bytes[..]).ok());
        match decoded {
            Some(32) => {
                let mut secret = Zeroizing::new([0u8; 32]);
                secret.copy_from_slice(&bytes[..32]);
                Ok(Self::from_bytes(&secret))
            }
            Some(n) => Err(Error::configuration(
                "token store",
                format!("the store key is {n} bytes; it must be 32 bytes, written as base64"),
            )),
            None => Err(Error::configuration(
                "token store",
                "the store key is not base64; it must be 32 bytes, written as base64",
            )),
        }
    }

    /// The key in `ADAUTH_STORE_KEY`, or `None` if the variable is not set.
    pub fn from_env() -> Result<Option<Self>> {
        Self::from_lookup(&crate::provider_kit::env::process)
    }

    /// The key in `ADAUTH_STORE_KEY` as `lookup` supplies it, or `None` if it is not set.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let Some(text) = lookup(STORE_KEY_VAR).map(Zeroizing::new) else {
            return Ok(None);
        };
        if text.trim().is_empty() {
            return Ok(None);
        }
        Self::from_base64(&text)
            .map(Some)
            .map_err(|e| Error::configuration("token store", format!("{STORE_KEY_VAR}: {e}")))
    }

    /// A new random key, as base64, for `ADAUTH_STORE_KEY`.
    pub fn generate() -> Result<SecretString> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut bytes[..]).map_err(|e| {
            Error::configuration("token store", format!("no random bytes for a key: {e}"))
        })?;
        Ok(SecretString::from(STANDARD.encode(&bytes[..])))
    }

    fn from_bytes(secret: &[u8; 32]) -> Self {
        let hkdf = hkdf::Hkdf::<Sha256>::new(None, secret);
        let mut names = Zeroizing::new([0u8; 32]);
        let mut values = Zeroizing::new([0u8; 32]);
        // 32 bytes are well within HKDF-SHA256's limit: these cannot fail.
        let _ = hkdf.expand(b"adauth store key names v1", &mut names[..]);
        let _ = hkdf.expand(b"adauth store values v1", &mut values[..]);
        Self { names, values }
    }

    fn name(&self, key: &str) -> Result<String> {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.names[..])
            .map_err(|_| Error::configuration("token store", "the store key cannot name keys"))?;
        mac.update(key.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut name = String::with_capacity(NAME_PREFIX.len() + 64);
        name.push_str(NAME_PREFIX);
        for b in digest {
            name.push_str(&format!("{b:02x}"));
        }
        Ok(name)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        <XChaCha20Poly1305 as KeyInit>::new((&*self.values).into())
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey([redacted])")
    }
}

/// A [`TokenStore`] that encrypts what it keeps in another one, and hides what it is keyed
/// by.
///
/// Values are sealed with XChaCha20-Poly1305 under a [`StoreKey`], with a fresh random
/// nonce each, bound to the key name they are stored under (a value moved to another name
/// does not open). Key names become an HMAC-SHA256 of the credential identity, so that a
/// reader of the store (a Redis user, a backup of the cache directory) can neither use a
/// token nor test a guess of a credential against a name. Leases, revisions and
/// notifications are the inner store's.
///
/// A value that does not open (another key, tampering, a plaintext record) is ignored with
/// a warning and replaced by the next write, as an unreadable record is.
///
/// ```no_run
/// # fn run(source: impl adauth_core::TokenSource + 'static) -> adauth_core::Result<()> {
/// use std::sync::Arc;
/// use adauth_core::{FileStore, SealedStore, StoreKey, TokenCache};
///
/// let key = StoreKey::from_env()?.expect("ADAUTH_STORE_KEY is set");
/// let store = SealedStore::new(FileStore::new("/var/cache/my-pipeline/tokens")?, key);
/// let cache = TokenCache::builder(source).store(Arc::new(store)).build();
/// # Ok(()) }
/// ```
pub struct SealedStore<S> {
    inner: S,
    key: StoreKey,
}

impl<S: TokenStore> SealedStore<S> {
    /// `inner`, with every value sealed and every key name hashed under `key`.
    pub fn new(inner: S, key: StoreKey) -> Self {
        Self { inner, key }
    }

    /// The store underneath.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn seal(&self, name: &str, value: &SecretString) -> Result<SecretString> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| {
            Error::configuration("token store", format!("no random bytes for a nonce: {e}"))
        })?;
        let sealed = self
            .key
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: value.expose_secret().as_bytes(),
                    aad: name.as_bytes(),
                },
            )
            .map_err(|_| Error::configuration("token store", "a value could not be sealed"))?;
        let mut joined = Vec::with_capacity(NONCE_LEN + sealed.len());
        joined.extend_from_slice(&nonce);
        joined.extend_from_slice(&sealed);
        let mut text = String::with_capacity(
            SEALED_PREFIX.len() + base64::encoded_len(joined.len(), false).unwrap_or(0),
        );
        text.push_str(SEALED_PREFIX);
        URL_SAFE_NO_PAD.encode_string(&joined, &mut text);
        Ok(SecretString::from(text))
    }

    fn open(&self, name: &str, value: &SecretString) -> Option<SecretString> {
        let encoded = value.expose_secret().strip_prefix(SEALED_PREFIX)?;
        let joined = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        if joined.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = joined.split_at(NONCE_LEN);
        let mut plain = self
            .key
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: name.as_bytes(),
                },
            )
            .ok()?;
        let mut buf = SecretBuf::with_capacity(plain.len());
        buf.extend(&plain);
        plain.zeroize();
        buf.into_secret_string()
    }
}

impl<S: fmt::Debug> fmt::Debug for SealedStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedStore")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl<S: TokenStore> TokenStore for SealedStore<S> {
    async fn load(&self, key: &str) -> Result<Option<StoredValue>> {
        let name = self.key.name(key)?;
        let Some(stored) = self.inner.load(&name).await? else {
            return Ok(None);
        };
        match self.open(&name, &stored.value) {
            Some(value) => Ok(Some(StoredValue {
                revision: stored.revision,
                value,
            })),
            None => {
                tracing::warn!(
                    key = %name,
                    "ignoring a stored value that the store key does not open; it will be replaced"
                );
                // Kept with its revision, so that the next write replaces it.
                Ok(Some(StoredValue {
                    revision: stored.revision,
                    value: SecretString::from(String::new()),
                }))
            }
        }
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&str>,
        value: &SecretString,
    ) -> Result<Option<String>> {
        let name = self.key.name(key)?;
        let sealed = self.seal(&name, value)?;
        self.inner.compare_and_set(&name, expected, &sealed).await
    }

    async fn try_lease(&self, key: &str, ttl: Duration) -> Result<Option<Lease>> {
        self.inner.try_lease(&self.key.name(key)?, ttl).await
    }

    async fn renew(&self, key: &str, lease: &Lease, ttl: Duration) -> Result<bool> {
        self.inner.renew(&self.key.name(key)?, lease, ttl).await
    }

    async fn release(&self, key: &str, lease: Lease) -> Result<()> {
        self.inner.release(&self.key.name(key)?, lease).await
    }

    async fn wait_for_change(
        &self,
        key: &str,
        seen: Option<&str>,
        timeout: Duration,
    ) -> Result<()> {
        self.inner
            .wait_for_change(&self.key.name(key)?, seen, timeout)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileStore;

    fn key(byte: u8) -> StoreKey {
        StoreKey::from_base64(&STANDARD.encode([byte; 32])).unwrap()
    }

    fn store(dir: &std::path::Path, byte: u8) -> SealedStore<FileStore> {
        SealedStore::new(FileStore::new(dir).unwrap(), key(byte))
    }

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    #[tokio::test]
    async fn values_are_sealed_and_names_are_keyed_hashes() {
        let dir = std::env::temp_dir().join(format!("adauth-sealed-{}", crate::new_revision()));
        let sealed = store(&dir, 1);
        let identity = crate::credential_identity("fyber", &["id", "CANARY-secret"]);
        let record = "{\"access_token\":\"CANARY-token\"}";
        sealed
            .compare_and_set(&identity, None, &secret(record))
            .await
            .unwrap()
            .unwrap();
        // What the directory holds names neither the identity nor the token.
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            assert!(name.starts_with("sealed-"), "{name}");
            assert!(!name.contains(&identity[6..]), "{name}");
            let bytes = std::fs::read(entry.path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("CANARY"), "{text}");
        }
        let loaded = sealed.load(&identity).await.unwrap().unwrap();
        assert_eq!(loaded.value.expose_secret(), record);
        // Another key opens nothing and names other files.
        let other = store(&dir, 2);
        assert!(other.load(&identity).await.unwrap().is_none());
        let name = other.key.name(&identity).unwrap();
        let stolen = sealed
            .inner()
            .load(&sealed.key.name(&identity).unwrap())
            .await
            .unwrap();
        other
            .inner()
            .compare_and_set(&name, None, &stolen.unwrap().value)
            .await
            .unwrap()
            .unwrap();
        let refused = other.load(&identity).await.unwrap().unwrap();
        assert!(refused.value.expose_secret().is_empty());
        // A value moved under another name does not open: it is bound to its name.
        let moved = sealed
            .inner()
            .load(&sealed.key.name(&identity).unwrap())
            .await
            .unwrap()
            .unwrap();
        let elsewhere = sealed.key.name("elsewhere").unwrap();
        sealed
            .inner()
            .compare_and_set(&elsewhere, None, &moved.value)
            .await
            .unwrap()
            .unwrap();
        assert!(
            sealed
                .load("elsewhere")
                .await
                .unwrap()
                .unwrap()
                .value
                .expose_secret()
                .is_empty()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn keys_are_32_bytes_of_base64_and_never_shown() {
        let text = STANDARD.encode([7u8; 32]);
        let key = StoreKey::from_base64(&text).unwrap();
        assert!(!format!("{key:?}").contains(&text[..8]));
        assert!(StoreKey::from_base64(&URL_SAFE_NO_PAD.encode([7u8; 32])).is_ok());
        for bad in [
            "",
            "not base64!",
            &STANDARD.encode([7u8; 16]),
            &STANDARD.encode([7u8; 33]),
        ] {
            let err = StoreKey::from_base64(bad).unwrap_err();
            assert!(err.is_configuration(), "{err}");
            assert!(err.to_string().contains("32 bytes"), "{err}");
        }
        let lookup = |_: &str| Some("short".to_owned());
        let err = StoreKey::from_lookup(&lookup).unwrap_err();
        assert!(err.to_string().contains(STORE_KEY_VAR), "{err}");
        assert!(!err.to_string().contains("short"), "{err}");
        assert!(StoreKey::from_lookup(&|_| None).unwrap().is_none());
        let generated = StoreKey::generate().unwrap();
        assert!(StoreKey::from_base64(generated.expose_secret()).is_ok());
    }
}
