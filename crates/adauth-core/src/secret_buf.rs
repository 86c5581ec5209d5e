//! Buffers that hold secrets and are wiped when freed.
//!
//! A `Vec` that grows frees its old allocation as it is, so a secret written into a growing
//! buffer survives in freed memory. [`SecretBuf`] grows by copying into a new allocation
//! and zeroizing the old one, and zeroizes its last one when dropped; the [`Bytes`] made of
//! it zeroize their memory when the last clone goes.

use std::io;

use bytes::Bytes;
use secrecy::SecretString;
use zeroize::{Zeroize, Zeroizing};

/// A growable byte buffer whose every allocation is zeroized when it is released.
pub(crate) struct SecretBuf(Zeroizing<Vec<u8>>);

impl SecretBuf {
    /// An empty buffer with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self(Zeroizing::new(Vec::with_capacity(capacity)))
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Appends `data`, moving to a larger allocation (and wiping the old one) when full.
    #[inline]
    pub(crate) fn extend(&mut self, data: &[u8]) {
        let needed = self.0.len() + data.len();
        if needed > self.0.capacity() {
            self.grow(needed);
        }
        self.0.extend_from_slice(data);
    }

    /// Appends one byte (a quote, a separator).
    #[inline]
    pub(crate) fn push(&mut self, byte: u8) {
        if self.0.len() == self.0.capacity() {
            self.grow(self.0.len() + 1);
        }
        self.0.push(byte);
    }

    /// Moves to an allocation of at least `needed` bytes, wiping the old one.
    #[cold]
    fn grow(&mut self, needed: usize) {
        let mut bigger = Vec::with_capacity(needed.max(self.0.capacity() * 2).max(64));
        bigger.extend_from_slice(&self.0);
        // The old allocation is zeroized as it is dropped.
        self.0 = Zeroizing::new(bigger);
    }

    /// Appends `n` zero bytes and returns them, to be written in place.
    pub(crate) fn extend_zeroed(&mut self, n: usize) -> &mut [u8] {
        let start = self.0.len();
        if start + n > self.0.capacity() {
            self.grow(start + n);
        }
        self.0.resize(start + n, 0);
        &mut self.0[start..]
    }

    /// Keeps the first `len` bytes. (The whole allocation is still wiped when dropped.)
    pub(crate) fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    /// The bytes, as a [`Bytes`] that zeroizes the memory once its last clone is dropped.
    pub(crate) fn into_bytes(self) -> Bytes {
        Bytes::from_owner(self.0)
    }

    /// The buffer as a secret string, or `None` (wiped) if it is not UTF-8.
    pub(crate) fn into_secret_string(mut self) -> Option<SecretString> {
        std::str::from_utf8(&self.0).ok()?;
        let mut vec = std::mem::take(&mut *self.0);
        if vec.capacity() != vec.len() {
            // `SecretString::from` would shrink (reallocate) the buffer, leaving a copy.
            let mut exact = Vec::with_capacity(vec.len());
            exact.extend_from_slice(&vec);
            vec.zeroize();
            vec = exact;
        }
        // Checked above; the conversion moves the allocation, it does not copy it.
        let text = String::from_utf8(vec).ok()?;
        Some(SecretString::from(text))
    }
}

impl io::Write for SecretBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.extend(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `value` as JSON, secret: no copy of it is left in freed memory.
pub(crate) fn secret_json<T: serde::Serialize + ?Sized>(value: &T) -> SecretBuf {
    let mut buf = SecretBuf::with_capacity(256);
    // Serializing strings, numbers and maps of them into memory cannot fail; a value that
    // does (a map with non-string keys) gives an empty buffer, which no parser accepts.
    if serde_json::to_writer(&mut buf, value).is_err() {
        buf = SecretBuf::with_capacity(0);
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn a_buffer_keeps_what_it_is_given_across_growth() {
        let mut buf = SecretBuf::with_capacity(1);
        for _ in 0..100 {
            buf.extend(b"abc");
        }
        assert_eq!(buf.len(), 300);
        assert!(buf.as_slice().chunks(3).all(|c| c == b"abc"));
        let text = buf.into_secret_string().unwrap();
        assert_eq!(text.expose_secret().len(), 300);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_no_string() {
        let mut buf = SecretBuf::with_capacity(4);
        buf.extend(&[0xff, 0xfe]);
        assert!(buf.into_secret_string().is_none());
    }
}
