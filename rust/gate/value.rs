//! Typed reads of scalar JSON values, as Gate.io sends them.
//!
//! The exchange is loose about number encoding (`gateio.md` §0, §6.4): prices and amounts are
//! decimal strings, futures sizes are integers or (with `X-Gate-Size-Decimal`) strings, ids and
//! timestamps are integers or integer strings, some millisecond stamps are strings with a
//! fraction. Each reader here accepts exactly the encodings the exchange uses for that kind of
//! field and reports anything else as a [`GateError`] naming the field.

use super::error::{GateError, GateErrorKind};
use super::json::{JStr, Val};
use crate::decimal::Decimal;

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

/// A decimal that must be present.
///
/// # Errors
/// As [`decimal`], plus [`GateErrorKind::Missing`] for null/empty.
#[inline]
pub fn decimal_req(v: &Val<'_>, field: &str, pos: usize) -> Result<Decimal, GateError> {
    decimal(v, field, pos)?.ok_or_else(|| GateError::at(field, pos, GateErrorKind::Missing))
}

fn parse_i64(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
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
    use crate::gate::json::Scan;

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
