//! Byte-level readers for the one-pass depth paths (`gate`, `binance` and `kucoin::compact`):
//! frames written exactly the way an exchange writes them (no whitespace, plain numbers and
//! strings) are read with these; anything else makes them return `None` and the caller falls
//! back to the validating scanner ([`super::scan`]), so they never decide what a frame means.

/// The index after `lit` if the bytes at `i` are `lit`.
#[inline(always)]
pub fn lit(b: &[u8], i: usize, lit: &[u8]) -> Option<usize> {
    (b.get(i..i + lit.len())? == lit).then_some(i + lit.len())
}

/// The run of ASCII digits in the 8 bytes at `i` (0 to 8 of them) and its value, eight bytes
/// at a time (SWAR, no branch per digit); `None` when fewer than 8 bytes remain.
#[inline(always)]
fn digits8(b: &[u8], i: usize) -> Option<(u64, usize)> {
    let chunk: [u8; 8] = b.get(i..i + 8)?.try_into().ok()?;
    let x = u64::from_le_bytes(chunk);
    // Digits become 0..=9. A byte below '0' borrows from the bytes above it and a byte above
    // '9' carries into them, so only the lowest flagged byte is exact, which is all we need:
    // bytes below it are digits, which neither borrow nor carry.
    let t = x.wrapping_sub(0x3030_3030_3030_3030);
    let flags = (t | t.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080;
    let n = (flags.trailing_zeros() / 8) as usize;
    if n == 0 {
        return Some((0, 0));
    }
    // The n digits, first digit lowest, moved to the top; the zero bytes below read as leading
    // zeros. Then pairs, quads and the eight combine with three multiplies.
    let v = t << (8 * (8 - n));
    let v = (v & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561) >> 8;
    let v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    let v = (v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32;
    Some((v, n))
}

/// 10^k for k in 0..=8.
const POW10: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// The run of ASCII digits at `i`: its value and length. Runs longer than 19 digits report
/// a length above 19 and a meaningless value (callers refuse them); shorter runs are exact.
#[inline(always)]
#[must_use]
pub fn digits(b: &[u8], i: usize) -> (u64, usize) {
    let mut v = 0u64;
    let mut n = 0usize;
    // Eight at a time while eight bytes remain; the frame's last few bytes one at a time.
    while let Some((chunk, k)) = digits8(b, i + n) {
        v = v.wrapping_mul(POW10[k]).wrapping_add(chunk);
        n += k;
        if k < 8 || n > 19 {
            return (v, n);
        }
    }
    while let Some(d) = b
        .get(i + n)
        .map(|c| c.wrapping_sub(b'0'))
        .filter(|d| *d <= 9)
    {
        v = v.wrapping_mul(10).wrapping_add(u64::from(d));
        n += 1;
        if n > 19 {
            break;
        }
    }
    (v, n)
}

/// A bare JSON integer at `i` (no sign, no leading zero, at most 18 digits: always an i64)
/// and the index after it.
#[inline(always)]
pub fn uint(b: &[u8], i: usize) -> Option<(u64, usize)> {
    let (v, n) = digits(b, i);
    (n > 0 && n <= 18 && !(n > 1 && b[i] == b'0')).then_some((v, i + n))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-at-a-time reading `digits` replaces.
    fn slow(b: &[u8], i: usize) -> (u64, usize) {
        let mut v = 0u64;
        let mut n = 0;
        while let Some(&c) = b.get(i + n) {
            if !c.is_ascii_digit() || n > 19 {
                break;
            }
            v = v.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            n += 1;
        }
        (v, n)
    }

    #[test]
    fn swar_digit_runs_match_the_byte_loop() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 32) as usize;
            let mut buf = Vec::with_capacity(len);
            let mut y = x;
            for _ in 0..len {
                y = y.rotate_left(5) ^ 0x9E37_79B9_7F4A_7C15;
                // Mostly digits, sometimes the bytes around them and high bytes.
                buf.push(match y % 16 {
                    0 => b'/',
                    1 => b':',
                    2 => b'"',
                    3 => 0x80 | (y >> 8) as u8,
                    4 => (y >> 8) as u8,
                    _ => b'0' + (y >> 8) as u8 % 10,
                });
            }
            for i in 0..=buf.len() {
                let (v, n) = digits(&buf, i);
                let (sv, sn) = slow(&buf, i);
                if sn <= 19 {
                    assert_eq!((v, n), (sv, sn), "{buf:?} at {i}");
                } else {
                    assert!(n > 19, "{buf:?} at {i}");
                }
            }
        }
    }

    #[test]
    fn uint_takes_json_integers_only() {
        assert_eq!(uint(b"0,", 0), Some((0, 1)));
        assert_eq!(uint(b"1727000012034}", 0), Some((1_727_000_012_034, 13)));
        assert_eq!(uint(b"012", 0), None);
        assert_eq!(uint(b"x", 0), None);
        assert_eq!(
            uint(b"123456789012345678", 0),
            Some((123_456_789_012_345_678, 18))
        );
        assert_eq!(uint(b"1234567890123456789", 0), None);
        assert_eq!(uint(b"99999999999999999999999", 0), None);
    }
}
