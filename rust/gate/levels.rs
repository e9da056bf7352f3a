//! Level arrays of the depth channels, streamed into a sink (`gateio.md` §3.5, §3.7, §6.2).
//!
//! Spot and obu levels are `[price, amount]` pairs of decimal strings; futures levels are
//! `{"p": price, "s": size}` objects whose size is an integer or (with `X-Gate-Size-Decimal`)
//! a decimal string. Compact levels (no whitespace, plain decimals: how Gate sends them) are
//! read by a single fused scan that converts the numbers as it finds them; any other spelling
//! takes the general, fully checking path. Levels go to a [`LevelSink`] (`crate::book`): the
//! book's writers on the hot path, or owned vectors for `parse`.

use super::error::{GateError, GateErrorKind};
use super::value;
use crate::book::{Level, LevelSink};
use crate::decimal::Decimal;
use crate::json::{Scan, Val};

/// Owned levels of both sides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Levels {
    /// Bids in wire order.
    pub bids: Vec<Level>,
    /// Asks in wire order.
    pub asks: Vec<Level>,
}

impl LevelSink for Levels {
    #[inline]
    fn level(&mut self, bid: bool, price: Decimal, size: Decimal) {
        if bid {
            self.bids.push((price, size));
        } else {
            self.asks.push((price, size));
        }
    }
}

/// A level written without whitespace and with plain decimals: `["63250.1","0.41"]`, or
/// `{"p":"63240.1","s":1520}` / `{"p":"..","s":".."}`. Returns the price, size and the index
/// after the level, or `None` (nothing consumed) for any other spelling, which then takes the
/// general path. Plain decimals are never negative, so no sign check is needed.
#[inline(always)]
pub(crate) fn compact_level(b: &[u8], i: usize) -> Option<(Decimal, Decimal, usize)> {
    match b.get(i..i + 2)? {
        b"[\"" => {
            let (p, e1) = value::scan_plain_decimal(b, i + 2)?;
            if b.get(e1..e1 + 3)? != b"\",\"" {
                return None;
            }
            let (z, e2) = value::scan_plain_decimal(b, e1 + 3)?;
            if b.get(e2..e2 + 2)? != b"\"]" {
                return None;
            }
            Some((p, z, e2 + 2))
        }
        b"{\"" => {
            if b.get(i + 2..i + 6)? != b"p\":\"" {
                return None;
            }
            let (p, e1) = value::scan_plain_decimal(b, i + 6)?;
            if b.get(e1..e1 + 6)? != b"\",\"s\":" {
                return None;
            }
            let quoted = b.get(e1 + 6) == Some(&b'"');
            let zs = e1 + 6 + usize::from(quoted);
            if !quoted && b.get(zs) == Some(&b'0') && matches!(b.get(zs + 1), Some(b'0'..=b'9')) {
                // "0123" is not a JSON number: let the general path report it.
                return None;
            }
            let (z, e2) = value::scan_plain_decimal(b, zs)?;
            let end = if quoted {
                if b.get(e2) != Some(&b'"') {
                    return None;
                }
                e2 + 1
            } else {
                // A JSON number must end here (no fraction part or exponent left over).
                e2
            };
            if b.get(end) != Some(&b'}') {
                return None;
            }
            Some((p, z, end + 1))
        }
        _ => None,
    }
}

/// Streams one level array (cursor at `[`) into `sink`.
///
/// # Errors
/// Malformed levels, wrong types, non-decimal or negative prices and sizes.
#[inline]
pub fn read_levels<W: LevelSink>(
    s: &mut Scan<'_>,
    sink: &mut W,
    bid: bool,
) -> Result<(), GateError> {
    let side = if bid { "b" } else { "a" };
    let mut first = true;
    let mut n = 0usize;
    let at = |n: usize, sub: &str, e: GateError| e.under(&format!("{side}[{n}]{sub}"));
    if s.peek() != Some(b'[') {
        let pos = s.i;
        let v = s.value().map_err(|e| GateError::json(side, e))?;
        if v == Val::Null {
            return Ok(());
        }
        return Err(GateError::at(
            side,
            pos,
            GateErrorKind::Type {
                expected: "array of levels",
                found: v.type_name(),
            },
        ));
    }
    let b = s.bytes();
    while s
        .next_item(&mut first)
        .map_err(|e| GateError::json(side, e))?
    {
        // Compact `["p","s"]` / `{"p":"..","s":..}` levels (how Gate sends them) in one go.
        if let Some((p, z, end)) = compact_level(b, s.i) {
            sink.level(bid, p, z);
            s.i = end;
            n += 1;
            continue;
        }
        let (p, z) = match s.peek() {
            Some(b'[') => read_pair(s).map_err(|e| at(n, "", e))?,
            Some(b'{') => read_ps(s).map_err(|e| at(n, "", e))?,
            _ => {
                let pos = s.i;
                let v = s.value().map_err(|e| GateError::json(side, e))?;
                return Err(at(
                    n,
                    "",
                    GateError::at(
                        "",
                        pos,
                        GateErrorKind::Type {
                            expected: "[price, size] or {\"p\",\"s\"}",
                            found: v.type_name(),
                        },
                    ),
                ));
            }
        };
        sink.level(bid, p, z);
        n += 1;
    }
    Ok(())
}

#[inline]
fn price_size(p: Decimal, z: Decimal, pos: usize) -> Result<(Decimal, Decimal), GateError> {
    if p.is_negative() {
        return Err(GateError::at(
            "[0]",
            pos,
            GateErrorKind::Invalid("negative price"),
        ));
    }
    if z.is_negative() {
        return Err(GateError::at(
            "[1]",
            pos,
            GateErrorKind::Invalid("negative size"),
        ));
    }
    Ok((p, z))
}

/// One price or size of a level. Plain quoted decimals (`"63250.1"`, nearly every level) are
/// scanned and converted in the same pass (as `value::fast_decimal` would); anything else
/// (escapes, exponents, signs, JSON numbers, 20+ digits) takes the general path.
#[inline(always)]
fn level_num(s: &mut Scan<'_>, name: &'static str) -> Result<Decimal, GateError> {
    s.peek();
    let b = s.bytes();
    let at = s.i;
    if b.get(at) == Some(&b'"') {
        if let Some((d, end)) = value::scan_plain_decimal(b, at + 1) {
            if b.get(end) == Some(&b'"') {
                s.i = end + 1;
                return Ok(d);
            }
        }
    }
    let v = s.value().map_err(|e| GateError::json(name, e))?;
    value::decimal_req(&v, name, at)
}

#[inline(always)]
fn read_pair(s: &mut Scan<'_>) -> Result<(Decimal, Decimal), GateError> {
    let pos0 = s.i;
    s.expect(b'[').map_err(|e| GateError::json("", e))?;
    let p = level_num(s, "[0]")?;
    s.expect(b',').map_err(|e| {
        if e.kind == crate::json::JsonErrorKind::Unexpected && s.bytes().get(e.pos) == Some(&b']') {
            GateError::at(
                "",
                pos0,
                GateErrorKind::Invalid("a level needs a price and a size"),
            )
        } else {
            GateError::json("", e)
        }
    })?;
    let z = level_num(s, "[1]")?;
    // Tolerate extra elements after the pair; they are validated and ignored.
    let mut first = false;
    while s
        .next_item(&mut first)
        .map_err(|e| GateError::json("", e))?
    {
        s.skip().map_err(|e| GateError::json("", e))?;
    }
    price_size(p, z, pos0)
}

#[inline]
fn read_ps(s: &mut Scan<'_>) -> Result<(Decimal, Decimal), GateError> {
    let mut first = true;
    let pos0 = s.i;
    let (mut p, mut z) = (None, None);
    while let Some(k) = s.next_key(&mut first).map_err(|e| GateError::json("", e))? {
        // A repeated `p`/`s` is refused: JSON would keep the last one, the fast path the first.
        if k.is("p") {
            if p.is_some() {
                return Err(GateError::duplicate("p", s.i));
            }
            p = Some(level_num(s, "p")?);
        } else if k.is("s") {
            if z.is_some() {
                return Err(GateError::duplicate("s", s.i));
            }
            z = Some(level_num(s, "s")?);
        } else {
            s.skip().map_err(|e| GateError::json("", e))?;
        }
    }
    let p = p.ok_or_else(|| GateError::at("p", pos0, GateErrorKind::Missing))?;
    let z = z.ok_or_else(|| GateError::at("s", pos0, GateErrorKind::Missing))?;
    price_size(p, z, pos0).map_err(|mut e| {
        e.field = if e.field == "[0]" {
            "p".into()
        } else {
            "s".into()
        };
        e
    })
}

/// Calls `f(price, size)` with the raw JSON values of every level of the array starting at
/// byte `start` (as located by [`parse_result`]), for exact string access.
///
/// # Errors
/// Malformed JSON (not for spans the parser already accepted).
pub fn level_values<'a>(
    frame: &'a [u8],
    start: usize,
    mut f: impl FnMut(Val<'a>, Val<'a>),
) -> Result<(), GateError> {
    let j = |e| GateError::json("result", e);
    let mut s = Scan::at(frame, start);
    let mut first = true;
    while s.next_item(&mut first).map_err(j)? {
        let (mut p, mut z) = (Val::Null, Val::Null);
        let mut inner = true;
        if s.peek() == Some(b'{') {
            while let Some(k) = s.next_key(&mut inner).map_err(j)? {
                let v = s.value().map_err(j)?;
                if k.is("p") {
                    p = v;
                } else if k.is("s") {
                    z = v;
                }
            }
        } else {
            let mut n = 0;
            while s.next_item(&mut inner).map_err(j)? {
                let v = s.value().map_err(j)?;
                match n {
                    0 => p = v,
                    1 => z = v,
                    _ => {}
                }
                n += 1;
            }
        }
        f(p, z);
    }
    Ok(())
}
