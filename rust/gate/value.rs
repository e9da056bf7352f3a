//! Typed reads of scalar JSON values, as Gate.io sends them.
//!
//! The exchange is loose about number encoding (`gateio.md` §0, §6.4): prices and amounts are
//! decimal strings, futures sizes are integers or (with `X-Gate-Size-Decimal`) strings, ids and
//! timestamps are integers or integer strings, some millisecond stamps are strings with a
//! fraction. Each reader here accepts exactly the encodings the exchange uses for that kind of
//! field and reports anything else as a [`GateError`] naming the field.

use super::error::{GateError, GateErrorKind};
use crate::decimal::Decimal;
use crate::json::{JStr, Scan, Val};

fn type_err(field: &str, pos: usize, expected: &'static str, v: &Val<'_>) -> GateError {
    GateError::at(
        field,
        pos,
        GateErrorKind::Type {
            expected,
            found: v.type_name(),
        },
    )
}

/// Decimal text of a string (escapes resolved) as bytes to parse.
fn str_bytes<'a>(
    s: &JStr<'a>,
    field: &str,
    pos: usize,
) -> Result<std::borrow::Cow<'a, [u8]>, GateError> {
    if s.escaped {
        let d = s
            .decode()
            .map_err(|k| GateError::at(field, pos, GateErrorKind::Json(k)))?;
        Ok(std::borrow::Cow::Owned(d.into_owned().into_bytes()))
    } else {
        Ok(std::borrow::Cow::Borrowed(s.raw))
    }
}

/// A price, size or amount: a decimal string or a JSON number. `Ok(None)` for `null` and for
/// the empty string (futures `book_ticker` sends `""` for an empty side).
///
/// # Errors
/// Wrong type or a value that is not an exact decimal.
#[inline]
pub fn decimal(v: &Val<'_>, field: &str, pos: usize) -> Result<Option<Decimal>, GateError> {
    let parsed = match v {
        Val::Str(s) if !s.escaped => {
            if s.raw.is_empty() {
                return Ok(None);
            }
            if let Some(d) = fast_decimal(s.raw) {
                return Ok(Some(d));
            }
            Decimal::parse_bytes(s.raw)
        }
        Val::Str(s) => {
            let b = str_bytes(s, field, pos)?;
            if b.is_empty() {
                return Ok(None);
            }
            Decimal::parse_bytes(&b)
        }
        Val::Num(n) => Decimal::parse_bytes(n),
        Val::Null => return Ok(None),
        other => return Err(type_err(field, pos, "decimal string or number", other)),
    };
    parsed
        .map(Some)
        .map_err(|e| GateError::at(field, pos, GateErrorKind::Decimal(e)))
}

/// 10^k for k in 0..=18.
const POW10_U64: [u64; 19] = {
    let mut t = [1u64; 19];
    let mut i = 1;
    while i < 19 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// 10^k as i128 for k in 0..=18 (1 for anything larger; callers check the range).
#[inline]
#[must_use]
pub fn pow10(k: usize) -> i128 {
    POW10_U64.get(k).map_or(1, |p| i128::from(*p))
}

/// Fast path for the plain decimals that make up almost every price and size on the wire:
/// `digits[.digits]` with at most 19 digits in all, accumulated in a `u64`. Anything else
/// (sign, exponent, more digits) returns `None` and goes through [`Decimal::parse_bytes`];
/// for every input it accepts it gives the same value (see the tests).
#[inline]
#[must_use]
pub fn fast_decimal(b: &[u8]) -> Option<Decimal> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let mut mant: u64 = 0;
    let mut digits = 0usize;
    let mut dot: Option<usize> = None;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                mant = mant.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                digits += 1;
            }
            b'.' if dot.is_none() && i > 0 && i + 1 < b.len() => dot = Some(i),
            _ => return None,
        }
    }
    if digits > 19 {
        return None;
    }
    let frac = dot.map_or(0, |d| b.len() - d - 1);
    let scale = POW10_U64.get(18usize.checked_sub(frac)?)?;
    Some(Decimal::from_raw(i128::from(mant) * i128::from(*scale)))
}

/// Scans a plain decimal (`digits[.digits]`, <= 19 digits, <= 18 after the dot) starting at
/// `b[start]` and converts it in the same pass. Returns the value and the index just after it,
/// or `None` (nothing consumed) for anything else, which callers send down the general path.
/// Accepts exactly what [`fast_decimal`] accepts.
#[inline(always)]
#[must_use]
pub fn scan_plain_decimal(b: &[u8], start: usize) -> Option<(Decimal, usize)> {
    let mut i = start;
    let mut mant: u64 = 0;
    let mut digits = 0u32;
    let mut dot = 0usize;
    while let Some(&c) = b.get(i) {
        match c {
            b'0'..=b'9' => {
                mant = mant.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                digits += 1;
            }
            b'.' if dot == 0 => dot = i,
            _ => break,
        }
        i += 1;
    }
    let frac = if dot == 0 { 0 } else { i - dot - 1 };
    let ok = digits > 0 && digits <= 19 && (dot == 0 || (dot > start && frac > 0)) && frac <= 18;
    ok.then(|| (Decimal::from_raw(i128::from(mant) * pow10(18 - frac)), i))
}

/// A decimal that must be present.
///
/// # Errors
/// As [`decimal`], plus [`GateErrorKind::Missing`] for null/empty.
#[inline]
pub fn decimal_req(v: &Val<'_>, field: &str, pos: usize) -> Result<Decimal, GateError> {
    decimal(v, field, pos)?.ok_or_else(|| GateError::at(field, pos, GateErrorKind::Missing))
}

/// An integer literal (optional sign, 1-19 digits) as i64, or None.
#[inline]
#[must_use]
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    if digits.len() <= 18 {
        // Up to 18 digits cannot overflow: no checked arithmetic on the common path.
        let mut v: i64 = 0;
        for &c in digits {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + i64::from(d);
        }
        return Some(if neg { -v } else { v });
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_sub(i64::from(c - b'0'))?;
    }
    // Accumulated negatively so that i64::MIN parses.
    if neg {
        Some(v)
    } else {
        v.checked_neg()
    }
}

/// An integer (id, timestamp): a JSON integer or a string of one. `Ok(None)` for `null`.
///
/// # Errors
/// Wrong type, a fraction/exponent, or out of the i64 range.
#[inline]
pub fn int(v: &Val<'_>, field: &str, pos: usize) -> Result<Option<i64>, GateError> {
    let got = match v {
        Val::Num(n) => parse_i64(n),
        Val::Str(s) => parse_i64(&str_bytes(s, field, pos)?),
        Val::Null => return Ok(None),
        other => return Err(type_err(field, pos, "integer", other)),
    };
    got.map(Some)
        .ok_or_else(|| GateError::at(field, pos, GateErrorKind::Integer))
}

/// An update id: a non-negative integer that must be present.
///
/// # Errors
/// As [`int`], plus missing or negative.
#[inline]
pub fn seq_id(v: &Val<'_>, field: &str, pos: usize) -> Result<u64, GateError> {
    let i = int(v, field, pos)?.ok_or_else(|| GateError::at(field, pos, GateErrorKind::Missing))?;
    u64::try_from(i).map_err(|_| GateError::at(field, pos, GateErrorKind::Invalid("negative id")))
}

/// Reads an integer field at the cursor: JSON integers in place, anything else through
/// [`int`].
///
/// # Errors
/// As [`int`], plus malformed JSON.
#[inline(always)]
pub fn read_int(s: &mut Scan<'_>, name: &'static str) -> Result<Option<i64>, GateError> {
    let pos = s.i;
    if matches!(s.peek(), Some(b'0'..=b'9')) {
        // Plain non-negative integers (ids, timestamps) are converted while scanned.
        let b = s.bytes();
        let start = s.i;
        let mut i = start;
        let mut v: i64 = 0;
        while let Some(&c) = b.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v.wrapping_mul(10).wrapping_add(i64::from(d));
            i += 1;
        }
        let n = i - start;
        let plain = n <= 18 && (n == 1 || b.get(start) != Some(&b'0'));
        if plain && !matches!(b.get(i), Some(b'.' | b'e' | b'E')) {
            s.i = i;
            return Ok(Some(v));
        }
        let n = s.number().map_err(|e| GateError::json(name, e))?;
        if let Some(v) = parse_i64(n) {
            return Ok(Some(v));
        }
        return int(&Val::Num(n), name, pos);
    }
    let v = s.value().map_err(|e| GateError::json(name, e))?;
    int(&v, name, pos)
}

/// Reads a string field at the cursor (`null` reads as `None`).
///
/// # Errors
/// Wrong type or malformed JSON.
#[inline(always)]
pub fn read_str<'a>(s: &mut Scan<'a>, name: &'static str) -> Result<Option<JStr<'a>>, GateError> {
    let pos = s.i;
    if s.peek() == Some(b'"') {
        return s.string().map(Some).map_err(|e| GateError::json(name, e));
    }
    let v = s.value().map_err(|e| GateError::json(name, e))?;
    string(&v, name, pos)
}

/// A string field. `Ok(None)` for `null`.
///
/// # Errors
/// Wrong type.
#[inline]
pub fn string<'a>(v: &Val<'a>, field: &str, pos: usize) -> Result<Option<JStr<'a>>, GateError> {
    match v {
        Val::Str(s) => Ok(Some(*s)),
        Val::Null => Ok(None),
        other => Err(type_err(field, pos, "string", other)),
    }
}

/// A boolean field. `Ok(None)` for `null`.
///
/// # Errors
/// Wrong type.
#[inline]
pub fn boolean(v: &Val<'_>, field: &str, pos: usize) -> Result<Option<bool>, GateError> {
    match v {
        Val::Bool(b) => Ok(Some(*b)),
        Val::Null => Ok(None),
        other => Err(type_err(field, pos, "bool", other)),
    }
}

/// Any scalar (ids whose encoding differs between channels); containers are refused.
///
/// # Errors
/// Wrong type.
#[inline]
pub fn scalar(v: &Val<'_>, field: &str, pos: usize) -> Result<(), GateError> {
    match v {
        Val::Obj(..) | Val::Arr(..) => Err(type_err(field, pos, "string, number or bool", v)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Scan;

    fn val(s: &str) -> Val<'_> {
        Scan::new(s.as_bytes()).value().unwrap()
    }

    #[test]
    fn decimals_come_as_strings_or_numbers() {
        let d = |s| decimal(&val(s), "x", 0).unwrap();
        assert_eq!(d("\"63250.1\""), Some(Decimal::parse("63250.1").unwrap()));
        assert_eq!(d("-250"), Some(Decimal::from_i64(-250)));
        assert_eq!(d("1.5e2"), Some(Decimal::from_i64(150)));
        assert_eq!(d("\"\""), None);
        assert_eq!(d("null"), None);
        assert_eq!(d(r#""\u0031.5""#), Some(Decimal::parse("1.5").unwrap()));
        let e = decimal(&val("\"abc\""), "price", 3).unwrap_err();
        assert!(matches!(e.kind, GateErrorKind::Decimal(_)));
        assert_eq!(e.field, "price");
        let e = decimal(&val("[1]"), "price", 0).unwrap_err();
        assert!(e
            .to_string()
            .contains("expected decimal string or number, got array"));
        assert!(matches!(
            decimal_req(&val("null"), "p", 0).unwrap_err().kind,
            GateErrorKind::Missing
        ));
    }

    #[test]
    fn fast_decimal_agrees_with_the_full_parser() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"0123456789.-e";
        for _ in 0..200_000 {
            let len = (next() % 22) as usize;
            let s: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            if let Some(fast) = fast_decimal(&s) {
                assert_eq!(
                    Ok(fast),
                    Decimal::parse_bytes(&s),
                    "{}",
                    String::from_utf8_lossy(&s)
                );
            }
        }
        for s in [
            "0",
            "0.00000001",
            "63250.1",
            "9999999999999999999",
            "0.000000000000000001",
            "1234567890.123456789",
        ] {
            assert_eq!(fast_decimal(s.as_bytes()), Decimal::parse(s).ok(), "{s}");
        }
        for s in [
            "",
            ".5",
            "5.",
            "1e3",
            "-1",
            "99999999999999999999",
            "0.0000000000000000001",
            "1.2.3",
        ] {
            assert_eq!(fast_decimal(s.as_bytes()), None, "{s}");
        }
    }

    #[test]
    fn integers_come_as_numbers_or_strings() {
        let i = |s| int(&val(s), "t", 0);
        assert_eq!(i("1727000012").unwrap(), Some(1_727_000_012));
        assert_eq!(i("\"1727000012\"").unwrap(), Some(1_727_000_012));
        assert_eq!(i("-9223372036854775808").unwrap(), Some(i64::MIN));
        assert_eq!(i("null").unwrap(), None);
        for bad in ["1.5", "1e3", "\"x\"", "9223372036854775808", "\"\""] {
            assert_eq!(i(bad).unwrap_err().kind, GateErrorKind::Integer, "{bad}");
        }
        assert!(matches!(
            i("true").unwrap_err().kind,
            GateErrorKind::Type { .. }
        ));
        assert!(seq_id(&val("-1"), "u", 0).is_err());
        assert_eq!(
            seq_id(&val("18446744073709551615"), "u", 0)
                .unwrap_err()
                .kind,
            GateErrorKind::Integer
        );
    }

    #[test]
    fn strings_bools_and_scalars_are_type_checked() {
        assert!(string(&val("1"), "s", 0).is_err());
        assert!(string(&val("\"a\""), "s", 0).unwrap().is_some());
        assert_eq!(boolean(&val("true"), "w", 0).unwrap(), Some(true));
        assert!(boolean(&val("\"true\""), "w", 0).is_err());
        assert!(scalar(&val("{}"), "id", 0).is_err());
        assert!(scalar(&val("\"7\""), "id", 0).is_ok());
    }
}
