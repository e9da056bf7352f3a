//! Depth pushes straight into an [`OrderBook`] (`kucoin.md` §3, §4, §7.1–7.2).
//!
//! - Spot `/market/level2`: `sequenceStart`/`sequenceEnd` judge the push under
//!   [`SeqRule::KucoinSpot`]; each `[price, size, sequence]` entry is applied only when its
//!   own sequence is newer than the book (§4.1 step 4), price `"0"` entries are ignored (the
//!   push still advances the book), size `"0"` removes the price.
//! - Futures `/contractMarket/level2`: one `"price,side,size"` change, `sequence` judged
//!   under [`SeqRule::KucoinFutures`].
//! - `level2Depth5`/`Depth50`: top-N books sent on the stream, loaded as stream snapshots
//!   (spot carries no sequence: its `timestamp` is the id; futures carries `sequence`).
//!
//! The envelope pass in [`super::object`] validates the frame; `data` is then located by
//! structure (`Trust::Valid`) and the levels are read in
//! place from the frame into the book's writer: no allocation per level or per message.

use super::envelope::int_at;
use super::error::KucoinError;
use super::object::{locate, Trust};
use super::route::Kind;
use crate::book::{LevelSink, OrderBook, SeqRule};
use crate::decimal::Decimal;
use crate::gate::levels::read_levels;
use crate::gate::{value, GateErrorKind};
use crate::json::{Scan, Span, Val};

/// What a depth push did to a book (shared with Gate.io).
pub use crate::gate::DepthOutcome;

const L2_KEYS: [&str; 5] = ["changes", "sequenceStart", "sequenceEnd", "symbol", "time"];
const CHANGE_KEYS: [&str; 2] = ["asks", "bids"];
const FUT_KEYS: [&str; 3] = ["sequence", "change", "timestamp"];
const TOP_KEYS: [&str; 5] = ["asks", "bids", "sequence", "timestamp", "ts"];

/// The fields of a depth push that decide what it does to a book.
#[derive(Debug, Clone, Copy, Default)]
pub struct DepthHead {
    /// First id covered (`sequenceStart`; futures: `sequence`; snapshots: None).
    pub first: Option<u64>,
    /// Last id (`sequenceEnd`, `sequence`, or the snapshot id).
    pub last: u64,
    /// `data.symbol` (spot level2).
    pub symbol: Option<Span>,
    /// `time` / `timestamp` (ms).
    pub time: Option<i64>,
    /// Offset of the bid array (spot level2: `changes.bids`; snapshots: `bids`).
    pub bids: Option<usize>,
    /// Offset of the ask array.
    pub asks: Option<usize>,
    /// Futures level2: the change, as (price, bid side, size).
    pub change: Option<(Decimal, bool, Decimal)>,
}

fn id(frame: &[u8], at: Option<usize>, name: &'static str) -> Result<Option<u64>, KucoinError> {
    match int_at(frame, at, name)? {
        None => Ok(None),
        Some(v) => u64::try_from(v)
            .map(Some)
            .map_err(|_| KucoinError::invalid(name, at.unwrap_or(0), "negative sequence")),
    }
}

fn need<T>(v: Option<T>, name: &str) -> Result<T, KucoinError> {
    v.ok_or_else(|| KucoinError::at(name, 0, GateErrorKind::Missing))
}

/// Reads the head of the depth payload of `kind` whose `data` value is at `data`.
///
/// # Errors
/// Wrong types, missing ids, repeated keys, a malformed futures `change`.
pub fn head(frame: &[u8], kind: Kind, data: usize) -> Result<DepthHead, KucoinError> {
    let mut s = Scan::at(frame, data);
    let under = |e: KucoinError| e.under("data");
    match kind {
        Kind::SpotLevel2 => {
            let at = locate(&mut s, &L2_KEYS, Trust::Valid).map_err(under)?;
            let first = id(frame, at[1], "sequenceStart").map_err(under)?;
            let last = id(frame, at[2], "sequenceEnd").map_err(under)?;
            let symbol = match at[3] {
                Some(p) => value::read_str(&mut Scan::at(frame, p), "symbol")
                    .map_err(|e| under(e.into()))?
                    .map(|j| Span::of(frame, &j)),
                None => None,
            };
            let time = int_at(frame, at[4], "time").map_err(under)?;
            let changes = need(at[0], "changes").map_err(under)?;
            let sides = locate(&mut Scan::at(frame, changes), &CHANGE_KEYS, Trust::Valid)
                .map_err(|e| e.under("data.changes"))?;
            Ok(DepthHead {
                first: Some(need(first, "sequenceStart").map_err(under)?),
                last: need(last, "sequenceEnd").map_err(under)?,
                symbol,
                time,
                asks: sides[0],
                bids: sides[1],
                change: None,
            })
        }
        Kind::FuturesLevel2 => {
            let at = locate(&mut s, &FUT_KEYS, Trust::Valid).map_err(under)?;
            let seq =
                need(id(frame, at[0], "sequence").map_err(under)?, "sequence").map_err(under)?;
            let cpos = need(at[1], "change").map_err(under)?;
            let change = read_change(frame, cpos).map_err(under)?;
            Ok(DepthHead {
                first: Some(seq),
                last: seq,
                time: int_at(frame, at[2], "timestamp").map_err(under)?,
                change: Some(change),
                ..DepthHead::default()
            })
        }
        Kind::SpotDepth | Kind::FuturesDepth => {
            let at = locate(&mut s, &TOP_KEYS, Trust::Valid).map_err(under)?;
            let seq = id(frame, at[2], "sequence").map_err(under)?;
            let stamp = id(frame, at[3], "timestamp").map_err(under)?;
            id(frame, at[4], "ts").map_err(under)?;
            // Spot top-N pushes carry no sequence: the timestamp orders them (our choice).
            let last = if kind == Kind::FuturesDepth {
                need(seq, "sequence").map_err(under)?
            } else {
                need(seq.or(stamp), "timestamp").map_err(under)?
            };
            let h = DepthHead {
                last,
                time: stamp.and_then(|t| i64::try_from(t).ok()),
                bids: at[1],
                asks: at[0],
                ..DepthHead::default()
            };
            // Validate the levels now, so a bad level is an error whatever the book says.
            h.fill_top(frame, &mut Discard)?;
            Ok(h)
        }
        _ => Err(KucoinError::invalid("data", data, "not a depth push")),
    }
}

/// Parses a futures change `"price,side,size"` (`side` is `buy` or `sell`).
fn read_change(frame: &[u8], pos: usize) -> Result<(Decimal, bool, Decimal), KucoinError> {
    let j = value::read_str(&mut Scan::at(frame, pos), "change")?
        .ok_or_else(|| KucoinError::at("change", pos, GateErrorKind::Missing))?;
    let bad = |why| KucoinError::invalid("change", pos, why);
    // Escapes never occur in a change string; decoding them would allocate, so refuse.
    if j.escaped {
        return Err(bad("escaped change string"));
    }
    let mut parts = j.raw.split(|&c| c == b',');
    let (Some(p), Some(side), Some(z), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("expected \"price,side,size\""));
    };
    let num = |b: &[u8]| -> Result<Decimal, KucoinError> {
        let d = Decimal::parse_bytes(b)
            .map_err(|e| KucoinError::at("change", pos, GateErrorKind::Decimal(e)))?;
        if d.is_negative() {
            return Err(bad("negative price or size"));
        }
        Ok(d)
    };
    let bid = match side {
        b"buy" => true,
        b"sell" => false,
        _ => return Err(bad("side must be buy or sell")),
    };
    Ok((num(p)?, bid, num(z)?))
}

/// Streams one `[price, size, sequence]` array (at `pos`: `[` or `null`); `f` gets each
/// entry.
///
/// # Errors
/// A malformed entry.
pub fn read_entries(
    frame: &[u8],
    pos: usize,
    side: &'static str,
    mut f: impl FnMut(Decimal, Decimal, u64),
) -> Result<(), KucoinError> {
    let mut s = Scan::at(frame, pos);
    let at = |n: usize, e: KucoinError| e.under(&format!("data.changes.{side}[{n}]"));
    let v0 = s.peek();
    if v0 != Some(b'[') {
        let v = s.value().map_err(|e| KucoinError::json(side, e))?;
        if v == Val::Null {
            return Ok(());
        }
        return Err(KucoinError::at(
            side,
            pos,
            GateErrorKind::Type {
                expected: "array of [price, size, sequence]",
                found: v.type_name(),
            },
        ));
    }
    let mut first = true;
    let mut n = 0;
    while s
        .next_item(&mut first)
        .map_err(|e| KucoinError::json(side, e))?
    {
        // `["67993.3","1.21427407","14701689783"]` as KuCoin writes it, in one go.
        if let Some((p, z, q, end)) = compact_entry(frame, s.i) {
            f(p, z, q);
            s.i = end;
            n += 1;
            continue;
        }
        let (p, z, q) = read_entry(&mut s).map_err(|e| at(n, e))?;
        f(p, z, q);
        n += 1;
    }
    Ok(())
}

/// An entry written without whitespace, with plain decimals and a quoted (or bare) integer
/// sequence of 1-19 digits. Returns `None` (nothing consumed) for any other spelling, which
/// then takes the fully checking path. Plain decimals are never negative.
#[inline(always)]
pub(super) fn compact_entry(b: &[u8], i: usize) -> Option<(Decimal, Decimal, u64, usize)> {
    if b.get(i..i + 2)? != b"[\"" {
        return None;
    }
    let (p, e1) = value::scan_plain_decimal(b, i + 2)?;
    if b.get(e1..e1 + 3)? != b"\",\"" {
        return None;
    }
    let (z, e2) = value::scan_plain_decimal(b, e1 + 3)?;
    if b.get(e2..e2 + 2)? != b"\"," {
        return None;
    }
    let quoted = b.get(e2 + 2) == Some(&b'"');
    let start = e2 + 2 + usize::from(quoted);
    let mut j = start;
    let mut q: u64 = 0;
    while let Some(&c) = b.get(j) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        // 19 digits stay below u64::MAX; a longer run wraps but is refused below.
        q = q.wrapping_mul(10).wrapping_add(u64::from(d));
        j += 1;
    }
    let n = j - start;
    // A bare JSON number may not have a leading zero; i64 is the sequence range.
    if n == 0 || n > 19 || q > i64::MAX as u64 || (!quoted && n > 1 && b[start] == b'0') {
        return None;
    }
    if quoted {
        if b.get(j) != Some(&b'"') {
            return None;
        }
        j += 1;
    }
    if b.get(j) != Some(&b']') {
        return None;
    }
    Some((p, z, q, j + 1))
}

fn read_entry(s: &mut Scan<'_>) -> Result<(Decimal, Decimal, u64), KucoinError> {
    let pos = s.i;
    if s.peek() != Some(b'[') {
        let v = s.value().map_err(|e| KucoinError::json("", e))?;
        return Err(KucoinError::at(
            "",
            pos,
            GateErrorKind::Type {
                expected: "[price, size, sequence]",
                found: v.type_name(),
            },
        ));
    }
    let mut first = true;
    let mut item = |s: &mut Scan<'_>, name| -> Result<(), KucoinError> {
        if s.next_item(&mut first)
            .map_err(|e| KucoinError::json(name, e))?
        {
            Ok(())
        } else {
            Err(KucoinError::invalid(
                name,
                pos,
                "expected [price, size, sequence]",
            ))
        }
    };
    item(s, "[0]")?;
    let p = dec(s, "[0]")?;
    item(s, "[1]")?;
    let z = dec(s, "[1]")?;
    item(s, "[2]")?;
    let qpos = s.i;
    let q = value::read_int(s, "[2]")?
        .ok_or_else(|| KucoinError::at("[2]", qpos, GateErrorKind::Missing))?;
    let q = u64::try_from(q).map_err(|_| KucoinError::invalid("[2]", qpos, "negative sequence"))?;
    if s.next_item(&mut first)
        .map_err(|e| KucoinError::json("", e))?
    {
        return Err(KucoinError::invalid(
            "",
            pos,
            "expected [price, size, sequence]",
        ));
    }
    Ok((p, z, q))
}

fn dec(s: &mut Scan<'_>, name: &'static str) -> Result<Decimal, KucoinError> {
    let pos = s.i;
    let v = s.value().map_err(|e| KucoinError::json(name, e))?;
    let d = value::decimal_req(&v, name, pos)?;
    if d.is_negative() {
        return Err(KucoinError::invalid(name, pos, "negative price or size"));
    }
    Ok(d)
}

impl DepthHead {
    /// Streams the spot level2 entries newer than `after` into `sink`; price `"0"` entries
    /// are skipped (`kucoin.md` §4.1 step 4).
    fn fill_l2<W: LevelSink>(
        &self,
        frame: &[u8],
        after: u64,
        sink: &mut W,
    ) -> Result<(), KucoinError> {
        for (bid, at, side) in [(false, self.asks, "asks"), (true, self.bids, "bids")] {
            if let Some(pos) = at {
                read_entries(frame, pos, side, |p, z, q| {
                    if !p.is_zero() && q > after {
                        sink.level(bid, p, z);
                    }
                })?;
            }
        }
        Ok(())
    }

    /// Streams the top-N levels into `sink`.
    ///
    /// # Errors
    /// A malformed level.
    pub fn fill_top<W: LevelSink>(&self, frame: &[u8], sink: &mut W) -> Result<(), KucoinError> {
        for (bid, at, side) in [
            (true, self.bids, "data.bids"),
            (false, self.asks, "data.asks"),
        ] {
            if let Some(pos) = at {
                read_levels(&mut Scan::at(frame, pos), sink, bid)
                    .map_err(|e| KucoinError::from(e).under(side))?;
            }
        }
        Ok(())
    }

    /// Checks every spot level2 entry (what `parse` requires of a push).
    ///
    /// # Errors
    /// A malformed entry.
    pub fn validate_l2(&self, frame: &[u8]) -> Result<(), KucoinError> {
        self.fill_l2(frame, u64::MAX, &mut Discard)
    }

    /// The change of a futures push into `sink` (price zero is ignored, as on spot).
    fn fill_change<W: LevelSink>(&self, sink: &mut W) {
        if let Some((p, bid, z)) = self.change {
            if !p.is_zero() {
                sink.level(bid, p, z);
            }
        }
    }
}

/// A level sink that only lets the reader validate.
pub struct Discard;

impl LevelSink for Discard {
    fn level(&mut self, _bid: bool, _price: Decimal, _size: Decimal) {}
}

/// Applies a depth push whose envelope was already scanned; `kind` is a depth kind.
///
/// # Errors
/// Malformed data, or a push of the other market than the book's rule.
pub fn apply(
    frame: &[u8],
    kind: Kind,
    data: usize,
    book: &mut OrderBook,
    want: Option<&str>,
) -> Result<DepthOutcome, KucoinError> {
    let want_futures = match book.rule() {
        SeqRule::KucoinFutures => true,
        SeqRule::KucoinSpot => false,
        _ => return Err(KucoinError::invalid("", 0, "not a KuCoin book")),
    };
    if kind.is_futures() != want_futures {
        return Err(KucoinError::invalid(
            "topic",
            0,
            "spot and futures depth do not mix in one book",
        ));
    }
    let h = head(frame, kind, data)?;
    if let (Some(want), Some(sym)) = (want, h.symbol) {
        if sym.decode(frame).map_or(true, |s| s != want) {
            h.validate_l2(frame)?;
            return Ok(DepthOutcome::WrongSymbol);
        }
    }
    let st = match kind {
        Kind::SpotLevel2 => {
            // Entries up to the book's id are already in it (§4.1): skip them.
            let after = book.sequence();
            let mut ran = false;
            let st = book.apply_delta(h.first.unwrap_or(0), h.last, |w| {
                ran = true;
                h.fill_l2(frame, after, w)
            })?;
            if !ran {
                h.validate_l2(frame)?;
            }
            st
        }
        Kind::FuturesLevel2 => book.apply_delta(h.last, h.last, |w| {
            h.fill_change(w);
            Ok::<(), KucoinError>(())
        })?,
        _ => book.load_stream_snapshot(h.last, |w| h.fill_top(frame, w))?,
    };
    Ok(DepthOutcome::Book(st))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path reads exactly what the checking path reads, or defers to it.
    #[test]
    fn compact_entries_agree_with_the_checking_path() {
        for e in [
            r#"["67993.3","1.21427407","14701689783"]"#,
            r#"["0","0","1550467891610"]"#,
            r#"["1","2",3]"#,
            r#"["1","2","0"]"#,
            r#"["1.","2","3"]"#,
            r#"["1","2",03]"#,
            r#"["1","2","99999999999999999999"]"#,
            r#"["1","2","9223372036854775808"]"#,
            r#"["1","2","3",4]"#,
            r#"["1","2","3"x"#,
            r#"[ "1","2","3"]"#,
            r#"["1e3","2","3"]"#,
        ] {
            let b = e.as_bytes();
            let slow = read_entry(&mut Scan::new(b)).ok();
            if let Some((p, z, q, end)) = compact_entry(b, 0) {
                assert_eq!(end, b.len(), "{e}");
                assert_eq!(slow, Some((p, z, q)), "{e}");
            }
        }
        assert!(compact_entry(br#"["1","2","3"]"#, 0).is_some());
        assert!(compact_entry(br#"["1","2",3]"#, 0).is_some());
    }
}
