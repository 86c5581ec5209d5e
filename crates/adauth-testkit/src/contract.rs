//! What every [`TokenStore`] must do, as checks a store's own tests call: one contract,
//! run against the file store, the Redis store, [`MemoryStore`](crate::MemoryStore) and any
//! store a user writes.

use adauth_core::TokenStore;
use adauth_core::secrecy::{ExposeSecret as _, SecretString};

/// Checks `compare_and_set` and `load` on `key`, which must hold nothing yet: the first
/// write needs `None`, a write over a wrong or stale revision writes nothing, each write
/// gets a new revision, and `load` gives the last write. Returns the last revision, for the
/// store's own further checks; `key` then holds `"c"`.
pub async fn compare_and_set(store: &dyn TokenStore, key: &str) -> String {
    let value = |s: &str| SecretString::from(s.to_owned());
    assert!(store.load(key).await.unwrap().is_none(), "{key} is empty");
    let r1 = store
        .compare_and_set(key, None, &value("a"))
        .await
        .unwrap()
        .expect("the first write");
    for wrong in [None, Some("other")] {
        let written = store.compare_and_set(key, wrong, &value("b")).await;
        assert!(written.unwrap().is_none(), "a write over {wrong:?}");
    }
    let r2 = store
        .compare_and_set(key, Some(&r1), &value("c"))
        .await
        .unwrap()
        .expect("a write over the current revision");
    assert_ne!(r1, r2);
    let stale = store.compare_and_set(key, Some(&r1), &value("d")).await;
    assert!(stale.unwrap().is_none(), "a write over a stale revision");
    let loaded = store.load(key).await.unwrap().expect("the last write");
    assert_eq!(
        (loaded.revision.as_str(), loaded.value.expose_secret()),
        (r2.as_str(), "c")
    );
    r2
}
