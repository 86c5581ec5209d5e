//! Byte classes checked a block at a time: a token, a secret or a request field is checked
//! on every fetch, and a check of 32 bytes at once (which the compiler turns into vector
//! compares) costs a fraction of a byte-by-byte table lookup.

/// Whether `ok` holds for every byte of `bytes`. `ok` should be branch-free (`&`, `|`,
/// comparisons), so that a block's checks become vector instructions, and must hold for
/// `a` (the filler of the last, partial block).
#[inline(always)]
pub(crate) fn every_byte(bytes: &[u8], ok: impl Fn(u8) -> bool + Copy) -> bool {
    #[inline(always)]
    fn block_ok(block: &[u8; 32], ok: impl Fn(u8) -> bool) -> bool {
        let mut bad = 0u8;
        for &b in block {
            bad |= u8::from(!ok(b));
        }
        bad == 0
    }
    debug_assert!(ok(b'a'));
    let (blocks, rest) = bytes.as_chunks::<32>();
    if !blocks.iter().all(|block| block_ok(block, ok)) {
        return false;
    }
    // The short fields (names, grant types, ids) are all rest: one padded block checks
    // them at once, not a byte at a time.
    let mut last = [b'a'; 32];
    last[..rest.len()].copy_from_slice(rest);
    block_ok(&last, ok)
}

/// An ASCII letter or digit.
#[inline(always)]
pub(crate) const fn alphanumeric(b: u8) -> bool {
    (b.wrapping_sub(b'0') < 10) | ((b | 0x20).wrapping_sub(b'a') < 26)
}

/// A byte that a JSON string holds as it is: no control character, quote or backslash.
#[inline(always)]
pub(crate) fn json_plain(b: u8) -> bool {
    (b >= 0x20) & (b != b'"') & (b != b'\\')
}

/// A byte that `application/x-www-form-urlencoded` leaves as it is.
#[inline(always)]
pub(crate) const fn form_plain(b: u8) -> bool {
    alphanumeric(b) | (b == b'*') | (b == b'-') | (b == b'.') | (b == b'_')
}

/// A byte of RFC 6750's `b64token`, before its trailing `=`s.
#[inline(always)]
pub(crate) fn b64token(b: u8) -> bool {
    alphanumeric(b)
        | (b == b'-')
        | (b == b'.')
        | (b == b'_')
        | (b == b'~')
        | (b == b'+')
        | (b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each class is the one its name says, for every byte, and a block is checked as
    /// each of its bytes would be, wherever the odd byte sits.
    #[test]
    fn classes_hold_for_exactly_their_bytes() {
        for b in 0..=255u8 {
            let c = char::from(b);
            assert_eq!(alphanumeric(b), c.is_ascii_alphanumeric(), "{b}");
            assert_eq!(json_plain(b), b >= 0x20 && c != '"' && c != '\\', "{b}");
            assert_eq!(
                form_plain(b),
                c.is_ascii_alphanumeric() || "*-._".contains(c),
                "{b}"
            );
            assert_eq!(
                b64token(b),
                c.is_ascii_alphanumeric() || "-._~+/".contains(c),
                "{b}"
            );
        }
        for len in [0, 1, 31, 32, 33, 64, 100] {
            let plain = vec![b'a'; len];
            assert!(every_byte(&plain, form_plain));
            for at in 0..len {
                let mut odd = plain.clone();
                odd[at] = b'"';
                assert!(!every_byte(&odd, json_plain), "{len} {at}");
            }
        }
    }
}
