//! A token store that always fails, for tests of how a cache goes on without it.

use std::time::Duration;

use adauth_core::secrecy::SecretString;
use adauth_core::{Error, ErrorKind, Lease, Result, StoredValue, TokenStore, async_trait};

/// A store that always fails.
#[derive(Debug)]
pub(crate) struct Down;

#[async_trait]
impl TokenStore for Down {
    async fn load(&self, _key: &str) -> Result<Option<StoredValue>> {
        Err(Error::new("token store", ErrorKind::Transport))
    }
    async fn compare_and_set(
        &self,
        _: &str,
        _: Option<&str>,
        _: &SecretString,
    ) -> Result<Option<String>> {
        Err(Error::new("token store", ErrorKind::Transport))
    }
    async fn try_lease(&self, _: &str, _: Duration) -> Result<Option<Lease>> {
        Err(Error::new("token store", ErrorKind::Transport))
    }
    async fn renew(&self, _: &str, _: &Lease, _: Duration) -> Result<bool> {
        Err(Error::new("token store", ErrorKind::Transport))
    }
    async fn release(&self, _: &str, _: Lease) -> Result<()> {
        Err(Error::new("token store", ErrorKind::Transport))
    }
}
