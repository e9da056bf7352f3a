//! Byte-level readers for the one-pass depth paths (`gate`, `binance` and `kucoin::compact`):
//! frames written exactly the way an exchange writes them (no whitespace, plain numbers and
//! strings) are read with these; anything else makes them return `None` and the caller falls
//! back to the validating scanner ([`super::scan`]), so they never decide what a frame means.

/// The index after `lit` if the bytes at `i` are `lit`.
#[inline(always)]
pub fn lit(b: &[u8], i: usize, lit: &[u8]) -> Option<usize> {
    (b.get(i..i + lit.len())? == lit).then_some(i + lit.len())
}

/// A bare JSON integer at `i` (no sign, no leading zero, at most 18 digits: always an i64)
/// and the index after it.
#[inline(always)]
pub fn uint(b: &[u8], i: usize) -> Option<(u64, usize)> {
    let mut j = i;
    let mut v: u64 = 0;
    while let Some(&c) = b.get(j) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v * 10 + u64::from(d);
        j += 1;
        if j - i > 18 {
            return None;
        }
    }
    let n = j - i;
    (n > 0 && !(n > 1 && b[i] == b'0')).then_some((v, j))
}

/// The contents of a string whose opening quote was consumed, made of printable ASCII other
/// than `"` and `\` (so it needs no decoding and is valid UTF-8), and the index after its
/// closing quote.
#[inline(always)]
pub fn plain_str(b: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let rest = b.get(i..)?;
    let n = rest.iter().position(|&c| c == b'"')?;
    let s = &rest[..n];
    s.iter()
        .all(|&c| (0x20..0x7f).contains(&c) && c != b'\\')
        .then_some((s, i + n + 1))
}
