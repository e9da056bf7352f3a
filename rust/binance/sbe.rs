//! Binance spot SBE market data (`binance.md` §5): a zero-copy decoder and book application.
//!
//! Schema `stream_1_0.xml` (id 1, version 0, little-endian). Every message is an 8-byte
//! header (`blockLength`, `templateId`, `schemaId`, `version`, all u16), a fixed block, then
//! repeating groups, then the `symbol` as `varString8` (u8 length + UTF-8). Prices and sizes
//! are int64 mantissas with one int8 exponent per message for each; times are µs.
//!
//! | template | message | fixed block | group entries |
//! |---|---|---|---|
//! | 10000 | TradesStreamEvent | eventTime, transactTime, priceExp, qtyExp (18) | `u16 blockLength, u32 count`; id, price, qty i64, isBuyerMaker u8 (25) |
//! | 10001 | BestBidAskStreamEvent | eventTime, bookUpdateId, priceExp, qtyExp, bidPrice, bidQty, askPrice, askQty (50) | — |
//! | 10002 | DepthSnapshotStreamEvent | eventTime, bookUpdateId, priceExp, qtyExp (18) | `u16, u16`; price, qty (16) |
//! | 10003 | DepthDiffStreamEvent | eventTime, firstBookUpdateId, lastBookUpdateId, priceExp, qtyExp (26) | `u16, u16`; price, qty (16) |
//!
//! Larger `blockLength`s (a newer schema version) are honoured by skipping the unknown tail
//! of the block or entry; smaller ones, short frames, bytes after the symbol, a wrong schema
//! id and a symbol that is not UTF-8 are refused. Nothing is copied: groups are slices of the
//! frame, read on iteration. The conversion to [`Decimal`] is exact or refused (an exponent
//! that would need rounding or overflow is an error, never a rounded value).

use super::depth::DepthOutcome;
use super::error::BinanceError;
use crate::book::{LevelWriter, OrderBook, SnapshotWriter};
use crate::decimal::Decimal;
use crate::error::{DecimalError, DecimalErrorKind};
use crate::gate::GateErrorKind;

/// Schema id of `stream_1_0.xml`.
pub const SCHEMA_ID: u16 = 1;
/// `TradesStreamEvent`.
pub const TRADES: u16 = 10000;
/// `BestBidAskStreamEvent`.
pub const BEST_BID_ASK: u16 = 10001;
/// `DepthSnapshotStreamEvent`.
pub const DEPTH_SNAPSHOT: u16 = 10002;
/// `DepthDiffStreamEvent`.
pub const DEPTH_DIFF: u16 = 10003;

/// `mantissa × 10^exponent` as an exact [`Decimal`].
///
/// # Errors
/// [`DecimalErrorKind::TooPrecise`] when the value has digits below 10^-18,
/// [`DecimalErrorKind::Overflow`] when it is beyond the fixed-point range.
pub fn mantissa_decimal(mantissa: i64, exponent: i8) -> Result<Decimal, DecimalError> {
    let m = i128::from(mantissa);
    let shift = 18 + i32::from(exponent);
    let err = |kind| DecimalError {
        kind,
        text: format!("{mantissa}e{exponent}"),
    };
    if shift >= 0 {
        // 10^38 is the largest power of ten in an i128; beyond it only zero fits.
        let p = 10i128
            .checked_pow(shift.unsigned_abs())
            .ok_or_else(|| err(DecimalErrorKind::Overflow));
        return match p {
            Ok(p) => m
                .checked_mul(p)
                .map(Decimal::from_raw)
                .ok_or_else(|| err(DecimalErrorKind::Overflow)),
            Err(_) if m == 0 => Ok(Decimal::ZERO),
            Err(e) => Err(e),
        };
    }
    // |mantissa| < 10^19, so a divisor of 10^19 or more leaves only zero exact.
    match 10i128.checked_pow(shift.unsigned_abs()) {
        Some(d) if m % d == 0 => Ok(Decimal::from_raw(m / d)),
        None if m == 0 => Ok(Decimal::ZERO),
        _ => Err(err(DecimalErrorKind::TooPrecise)),
    }
}

/// The raw-value multiplier of a mantissa with `exponent` (`10^(18 + exponent)`), when it is
/// a whole number that fits an i128 (exponents -18..=19; the product is still checked).
#[inline]
fn scale(exponent: i8) -> Option<i128> {
    let shift = u32::try_from(18 + i32::from(exponent)).ok()?;
    (shift <= 37).then(|| 10i128.pow(shift))
}

/// A little-endian reader over the frame with bounds checks that name the field.
#[derive(Clone, Copy)]
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

fn short(field: &str, pos: usize) -> BinanceError {
    BinanceError::invalid(field, pos, "frame too short")
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], BinanceError> {
        let end = self.i.checked_add(n).ok_or_else(|| short(field, self.i))?;
        let out = self
            .b
            .get(self.i..end)
            .ok_or_else(|| short(field, self.i))?;
        self.i = end;
        Ok(out)
    }
    fn u8(&mut self, f: &str) -> Result<u8, BinanceError> {
        Ok(self.take(1, f)?[0])
    }
    fn u16(&mut self, f: &str) -> Result<u16, BinanceError> {
        let b = self.take(2, f)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, f: &str) -> Result<u32, BinanceError> {
        let b = self.take(4, f)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self, f: &str) -> Result<i64, BinanceError> {
        Ok(le_i64(self.take(8, f)?))
    }
}

fn le_i64(b: &[u8]) -> i64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    i64::from_le_bytes(w)
}

/// The message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Length of the fixed block.
    pub block_length: u16,
    /// Message template.
    pub template_id: u16,
    /// Schema id (1).
    pub schema_id: u16,
    /// Schema version.
    pub version: u16,
}

/// A repeating group of fixed-size entries, as a slice of the frame.
#[derive(Debug, Clone, Copy)]
pub struct Group<'a> {
    entries: &'a [u8],
    block: usize,
    count: usize,
    /// Byte offset of the first entry in the frame (for error positions).
    at: usize,
}

impl<'a> Group<'a> {
    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.count
    }
    /// True when the group has no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    fn entry(&self, i: usize) -> &'a [u8] {
        &self.entries[i * self.block..(i + 1) * self.block]
    }
}

/// Price and size levels of a depth message.
#[derive(Debug, Clone, Copy)]
pub struct Levels<'a> {
    group: Group<'a>,
    price_exp: i8,
    qty_exp: i8,
}

impl<'a> Levels<'a> {
    /// Number of levels.
    #[must_use]
    pub fn len(&self) -> usize {
        self.group.len()
    }
    /// True when there are no levels.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.group.is_empty()
    }
    /// Raw `(price, qty)` mantissas of level `i`.
    ///
    /// # Panics
    /// When `i >= self.len()`.
    #[must_use]
    pub fn mantissas(&self, i: usize) -> (i64, i64) {
        let e = self.group.entry(i);
        (le_i64(&e[0..8]), le_i64(&e[8..16]))
    }
    /// Level `i` as exact decimals.
    ///
    /// # Errors
    /// A negative or inexact price or size.
    ///
    /// # Panics
    /// When `i >= self.len()`.
    pub fn level(&self, i: usize, side: &str) -> Result<(Decimal, Decimal), BinanceError> {
        let (p, q) = self.mantissas(i);
        let pos = self.group.at + i * self.group.block;
        let conv = |m: i64, e: i8, what: &'static str| -> Result<Decimal, BinanceError> {
            let d = mantissa_decimal(m, e)
                .map_err(|d| BinanceError::at(side, pos, GateErrorKind::Decimal(d)))?;
            if d.is_negative() {
                return Err(BinanceError::invalid(side, pos, what));
            }
            Ok(d)
        };
        Ok((
            conv(p, self.price_exp, "negative price")?,
            conv(q, self.qty_exp, "negative size")?,
        ))
    }
    /// Calls `f` with every level in wire order.
    ///
    /// # Errors
    /// As [`Levels::level`].
    pub fn for_each(
        &self,
        side: &str,
        mut f: impl FnMut(Decimal, Decimal),
    ) -> Result<(), BinanceError> {
        // The exponents are the message's: their scale is computed once, and a level is then
        // two multiplications. Anything the scale cannot take exactly (a negative mantissa, an
        // exponent below -18 or above 19, an overflow) goes through `level` for its error or
        // exact value.
        let (ps, qs) = (scale(self.price_exp), scale(self.qty_exp));
        let g = &self.group;
        for (i, e) in g.entries.chunks_exact(g.block).take(g.count).enumerate() {
            let (pm, qm) = (le_i64(&e[0..8]), le_i64(&e[8..16]));
            let fast = match (ps, qs) {
                (Some(ps), Some(qs)) if pm >= 0 && qm >= 0 => i128::from(pm)
                    .checked_mul(ps)
                    .zip(i128::from(qm).checked_mul(qs)),
                _ => None,
            };
            let (p, q) = match fast {
                Some((p, q)) => (Decimal::from_raw(p), Decimal::from_raw(q)),
                None => self.level(i, side)?,
            };
            f(p, q);
        }
        Ok(())
    }
}

/// `DepthDiffStreamEvent` (diff) or `DepthSnapshotStreamEvent` (top 20, `first_id` = None).
#[derive(Debug, Clone, Copy)]
pub struct Depth<'a> {
    /// µs.
    pub event_time: i64,
    /// `firstBookUpdateId` (diffs only).
    pub first_id: Option<u64>,
    /// `lastBookUpdateId`, or the snapshot's `bookUpdateId`.
    pub last_id: u64,
    /// Price exponent.
    pub price_exp: i8,
    /// Quantity exponent.
    pub qty_exp: i8,
    /// Bids in wire order.
    pub bids: Levels<'a>,
    /// Asks in wire order.
    pub asks: Levels<'a>,
    /// Symbol.
    pub symbol: &'a str,
}

/// `BestBidAskStreamEvent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BestBidAsk<'a> {
    /// µs.
    pub event_time: i64,
    /// `bookUpdateId`.
    pub book_update_id: i64,
    /// Price exponent.
    pub price_exp: i8,
    /// Quantity exponent.
    pub qty_exp: i8,
    /// Mantissas: bid price, bid qty, ask price, ask qty.
    pub mantissas: [i64; 4],
    /// Symbol.
    pub symbol: &'a str,
}

/// One trade of a `TradesStreamEvent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade {
    /// Trade id.
    pub id: i64,
    /// Price mantissa.
    pub price: i64,
    /// Quantity mantissa.
    pub qty: i64,
    /// Buyer is maker (the taker sold).
    pub is_buyer_maker: bool,
}

/// `TradesStreamEvent`.
#[derive(Debug, Clone, Copy)]
pub struct Trades<'a> {
    /// µs.
    pub event_time: i64,
    /// µs.
    pub transact_time: i64,
    /// Price exponent.
    pub price_exp: i8,
    /// Quantity exponent.
    pub qty_exp: i8,
    group: Group<'a>,
    /// Symbol.
    pub symbol: &'a str,
}

impl Trades<'_> {
    /// Number of trades.
    #[must_use]
    pub fn len(&self) -> usize {
        self.group.len()
    }
    /// True when there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.group.is_empty()
    }
    /// Trade `i`.
    ///
    /// # Panics
    /// When `i >= self.len()`.
    #[must_use]
    pub fn get(&self, i: usize) -> Trade {
        let e = self.group.entry(i);
        Trade {
            id: le_i64(&e[0..8]),
            price: le_i64(&e[8..16]),
            qty: le_i64(&e[16..24]),
            is_buyer_maker: e[24] != 0,
        }
    }
}

/// One decoded SBE message.
#[derive(Debug, Clone, Copy)]
pub enum SbeMessage<'a> {
    /// Template 10003.
    DepthDiff(Depth<'a>),
    /// Template 10002.
    DepthSnapshot(Depth<'a>),
    /// Template 10001.
    BestBidAsk(BestBidAsk<'a>),
    /// Template 10000.
    Trades(Trades<'a>),
    /// A template this decoder does not know (a newer schema); nothing else was read.
    Other(Header),
}

fn header(c: &mut Cursor<'_>) -> Result<Header, BinanceError> {
    let h = Header {
        block_length: c.u16("blockLength")?,
        template_id: c.u16("templateId")?,
        schema_id: c.u16("schemaId")?,
        version: c.u16("version")?,
    };
    if h.schema_id != SCHEMA_ID {
        return Err(BinanceError::invalid(
            "schemaId",
            4,
            "not schema 1 (stream_1_0.xml)",
        ));
    }
    Ok(h)
}

/// The fixed block (at least `known` bytes; a longer one's tail is skipped).
fn block<'a>(c: &mut Cursor<'a>, h: &Header, known: usize) -> Result<Cursor<'a>, BinanceError> {
    let n = usize::from(h.block_length);
    if n < known {
        return Err(BinanceError::invalid(
            "blockLength",
            0,
            "shorter than the schema's fixed block",
        ));
    }
    let at = c.i;
    c.take(n, "block")?;
    Ok(Cursor { b: c.b, i: at })
}

fn group<'a>(
    c: &mut Cursor<'a>,
    known: usize,
    wide: bool,
    field: &str,
) -> Result<Group<'a>, BinanceError> {
    let pos = c.i;
    let block = usize::from(c.u16(field)?);
    let count = if wide {
        c.u32(field)? as usize
    } else {
        usize::from(c.u16(field)?)
    };
    if block < known {
        return Err(BinanceError::invalid(
            field,
            pos,
            "entry shorter than the schema's",
        ));
    }
    let at = c.i;
    let bytes = block.checked_mul(count).ok_or_else(|| short(field, pos))?;
    let entries = c.take(bytes, field)?;
    Ok(Group {
        entries,
        block,
        count,
        at,
    })
}

fn symbol<'a>(c: &mut Cursor<'a>) -> Result<&'a str, BinanceError> {
    let n = usize::from(c.u8("symbol")?);
    let pos = c.i;
    let b = c.take(n, "symbol")?;
    if c.i != c.b.len() {
        return Err(BinanceError::invalid(
            "symbol",
            c.i,
            "bytes after the message",
        ));
    }
    std::str::from_utf8(b).map_err(|_| BinanceError::invalid("symbol", pos, "symbol is not UTF-8"))
}

fn exps(c: &mut Cursor<'_>) -> Result<(i8, i8), BinanceError> {
    Ok((c.u8("priceExponent")? as i8, c.u8("qtyExponent")? as i8))
}

fn id(v: i64, field: &str, pos: usize) -> Result<u64, BinanceError> {
    u64::try_from(v).map_err(|_| BinanceError::invalid(field, pos, "negative id"))
}

/// Decodes one binary frame.
///
/// # Errors
/// A [`BinanceError`] for a short or malformed frame (field and byte offset named).
pub fn decode(frame: &[u8]) -> Result<SbeMessage<'_>, BinanceError> {
    let mut c = Cursor { b: frame, i: 0 };
    let h = header(&mut c)?;
    let msg = match h.template_id {
        DEPTH_DIFF | DEPTH_SNAPSHOT => {
            let diff = h.template_id == DEPTH_DIFF;
            let mut f = block(&mut c, &h, if diff { 26 } else { 18 })?;
            let event_time = f.i64("eventTime")?;
            let (first_id, last_id) = if diff {
                let p = f.i;
                let a = id(f.i64("firstBookUpdateId")?, "firstBookUpdateId", p)?;
                let b = id(f.i64("lastBookUpdateId")?, "lastBookUpdateId", p + 8)?;
                (Some(a), b)
            } else {
                let p = f.i;
                (None, id(f.i64("bookUpdateId")?, "bookUpdateId", p)?)
            };
            let (price_exp, qty_exp) = exps(&mut f)?;
            let bids = group(&mut c, 16, false, "bids")?;
            let asks = group(&mut c, 16, false, "asks")?;
            let d = Depth {
                event_time,
                first_id,
                last_id,
                price_exp,
                qty_exp,
                bids: Levels {
                    group: bids,
                    price_exp,
                    qty_exp,
                },
                asks: Levels {
                    group: asks,
                    price_exp,
                    qty_exp,
                },
                symbol: symbol(&mut c)?,
            };
            if diff {
                SbeMessage::DepthDiff(d)
            } else {
                SbeMessage::DepthSnapshot(d)
            }
        }
        BEST_BID_ASK => {
            let mut f = block(&mut c, &h, 50)?;
            let event_time = f.i64("eventTime")?;
            let book_update_id = f.i64("bookUpdateId")?;
            let (price_exp, qty_exp) = exps(&mut f)?;
            let mantissas = [
                f.i64("bidPrice")?,
                f.i64("bidQty")?,
                f.i64("askPrice")?,
                f.i64("askQty")?,
            ];
            SbeMessage::BestBidAsk(BestBidAsk {
                event_time,
                book_update_id,
                price_exp,
                qty_exp,
                mantissas,
                symbol: symbol(&mut c)?,
            })
        }
        TRADES => {
            let mut f = block(&mut c, &h, 18)?;
            let event_time = f.i64("eventTime")?;
            let transact_time = f.i64("transactTime")?;
            let (price_exp, qty_exp) = exps(&mut f)?;
            let group = group(&mut c, 25, true, "trades")?;
            SbeMessage::Trades(Trades {
                event_time,
                transact_time,
                price_exp,
                qty_exp,
                group,
                symbol: symbol(&mut c)?,
            })
        }
        _ => SbeMessage::Other(h),
    };
    Ok(msg)
}

fn fill_delta(w: &mut LevelWriter<'_>, d: &Depth<'_>) -> Result<(), BinanceError> {
    d.bids.for_each("bids", |p, q| w.bid(p, q))?;
    d.asks.for_each("asks", |p, q| w.ask(p, q))
}

fn fill_snapshot(w: &mut SnapshotWriter<'_>, d: &Depth<'_>) -> Result<(), BinanceError> {
    d.bids.for_each("bids", |p, q| w.bid(p, q))?;
    d.asks.for_each("asks", |p, q| w.ask(p, q))
}

/// Applies an SBE depth message to `book`: diffs through the book's sequence rule (spot:
/// `firstBookUpdateId`/`lastBookUpdateId` as `U`/`u`, §5), `depth20` snapshots replace it.
/// `want` (an exchange symbol such as `BTCUSDT`) refuses other symbols untouched.
///
/// # Errors
/// As [`decode`]; a bad level found while writing leaves the book out of sync.
pub fn apply_sbe_depth(
    frame: &[u8],
    book: &mut OrderBook,
    want: Option<&str>,
) -> Result<DepthOutcome, BinanceError> {
    let (d, diff) = match decode(frame)? {
        SbeMessage::DepthDiff(d) => (d, true),
        SbeMessage::DepthSnapshot(d) => (d, false),
        _ => return Ok(DepthOutcome::NotDepth),
    };
    if want.is_some_and(|w| w != d.symbol) {
        return Ok(DepthOutcome::WrongSymbol);
    }
    let mut ran = false;
    let st = if diff {
        book.apply_delta(d.first_id.unwrap_or_default(), d.last_id, |w| {
            ran = true;
            fill_delta(w, &d)
        })?
    } else {
        // A depth snapshot message comes on the stream itself: its own confirmation.
        book.load_stream_snapshot(d.last_id, |w| fill_snapshot(w, &d))?
    };
    if diff && !ran {
        // Not applied (stale, gap, refused): bad levels are still an error.
        d.bids.for_each("bids", |_, _| {})?;
        d.asks.for_each("asks", |_, _| {})?;
    }
    Ok(DepthOutcome::Book(st))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{SeqRule, Status};

    /// The reference's test vector (§5): DepthDiff, ids 100..102, one bid 65000.12 × 1.5,
    /// one ask 65000.13 × 0, BTCUSDT.
    const VECTOR: &str = "1a 00 13 27 01 00 00 00 40 22 20 18 24 0a 06 00 64 00 00 00 00 00 00 00 66 00 00 00 00 00 00 00 \
        fe f8 10 00 01 00 ac 2e 63 00 00 00 00 00 80 d1 f0 08 00 00 00 00 10 00 01 00 ad 2e 63 00 00 00 \
        00 00 00 00 00 00 00 00 00 00 07 42 54 43 55 53 44 54";

    pub(crate) fn vector() -> Vec<u8> {
        VECTOR
            .split_whitespace()
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect()
    }

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn golden_vector_decodes() {
        let v = vector();
        assert_eq!(v.len(), 82);
        let SbeMessage::DepthDiff(m) = decode(&v).unwrap() else {
            panic!("a depth diff");
        };
        assert_eq!(m.event_time, 1_700_000_000_123_456);
        assert_eq!((m.first_id, m.last_id), (Some(100), 102));
        assert_eq!((m.price_exp, m.qty_exp), (-2, -8));
        assert_eq!(m.bids.level(0, "bids").unwrap(), (d("65000.12"), d("1.5")));
        assert_eq!(
            m.asks.level(0, "asks").unwrap(),
            (d("65000.13"), Decimal::ZERO)
        );
        assert_eq!(m.symbol, "BTCUSDT");
    }

    #[test]
    fn golden_vector_feeds_a_book() {
        let v = vector();
        let mut b = OrderBook::new(SeqRule::BinanceSpot, None);
        b.load_snapshot::<()>(99, |w| {
            w.ask(d("65000.13"), d("2"));
            w.ask(d("65001"), d("1"));
            Ok(())
        })
        .unwrap();
        let out = apply_sbe_depth(&v, &mut b, Some("BTCUSDT")).unwrap();
        assert_eq!(out, DepthOutcome::Book(Status::Applied));
        assert_eq!(b.bids().best(), Some((d("65000.12"), d("1.5"))));
        assert_eq!(b.asks().best(), Some((d("65001"), d("1"))));
        assert_eq!(b.sequence(), 102);
        assert_eq!(
            apply_sbe_depth(&v, &mut b, Some("ETHUSDT")).unwrap(),
            DepthOutcome::WrongSymbol
        );
        assert_eq!(
            apply_sbe_depth(&v, &mut b, None).unwrap(),
            DepthOutcome::Book(Status::Stale)
        );
    }

    #[test]
    fn every_truncation_and_bad_header_is_an_error() {
        let v = vector();
        for n in 0..v.len() {
            assert!(decode(&v[..n]).is_err(), "cut at {n}");
        }
        let mut extra = v.clone();
        extra.push(0);
        assert!(decode(&extra).is_err());
        let mut schema = v.clone();
        schema[4] = 2;
        assert!(decode(&schema).unwrap_err().to_string().contains("schema"));
        let mut small = v.clone();
        small[0] = 25;
        assert!(decode(&small).is_err());
        let mut entry = v.clone();
        entry[34] = 15;
        assert!(decode(&entry).is_err());
        let mut other = v;
        other[2] = 0x20;
        assert!(matches!(decode(&other).unwrap(), SbeMessage::Other(_)));
    }

    #[test]
    fn longer_blocks_from_a_newer_schema_are_skipped() {
        let v = vector();
        // Block 26 -> 28 with two unknown bytes, entries 16 -> 17.
        let mut w = vec![28, 0];
        w.extend_from_slice(&v[2..34]);
        w.extend_from_slice(&[0xAA, 0xBB]);
        for (start, n) in [(34usize, 16usize), (54, 16)] {
            w.extend_from_slice(&[17, 0, 1, 0]);
            w.extend_from_slice(&v[start + 4..start + 4 + n]);
            w.push(0xCC);
        }
        w.extend_from_slice(&v[74..]);
        let SbeMessage::DepthDiff(m) = decode(&w).unwrap() else {
            panic!("a depth diff");
        };
        assert_eq!(m.bids.level(0, "bids").unwrap(), (d("65000.12"), d("1.5")));
        assert_eq!(
            m.asks.level(0, "asks").unwrap(),
            (d("65000.13"), Decimal::ZERO)
        );
    }

    /// `for_each`'s once-per-message scale gives `level`'s values and errors, whatever the
    /// exponents and mantissas (signs, overflow, sub-1e-18 digits).
    #[test]
    fn for_each_agrees_with_level() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let picks = [
            0i64,
            1,
            -1,
            5,
            1_000_000,
            i64::MAX,
            i64::MIN,
            123_456_789_012,
        ];
        for _ in 0..3_000 {
            let pe = (next() % 50) as i8 - 25;
            let qe = (next() % 50) as i8 - 25;
            let n = (next() % 4) as usize;
            let mut entries = Vec::new();
            for _ in 0..n {
                for _ in 0..2 {
                    let r = next();
                    let m = if r % 3 == 0 {
                        picks[(r >> 8) as usize % picks.len()]
                    } else {
                        (r >> 4) as i64 % 10_000_000_000
                    };
                    entries.extend_from_slice(&m.to_le_bytes());
                }
            }
            let lv = Levels {
                group: Group {
                    entries: &entries,
                    block: 16,
                    count: n,
                    at: 0,
                },
                price_exp: pe,
                qty_exp: qe,
            };
            let mut got = Vec::new();
            let r = lv.for_each("bids", |p, q| got.push((p, q)));
            let mut want = Vec::new();
            let w = (0..n).try_for_each(|i| {
                want.push(lv.level(i, "bids")?);
                Ok::<(), BinanceError>(())
            });
            assert_eq!(format!("{r:?}"), format!("{w:?}"), "{pe} {qe}");
            assert_eq!(got, want);
        }
    }

    #[test]
    fn mantissas_convert_exactly_or_refuse() {
        assert_eq!(mantissa_decimal(6_500_012, -2).unwrap(), d("65000.12"));
        assert_eq!(mantissa_decimal(15, 3).unwrap(), d("15000"));
        assert_eq!(mantissa_decimal(-5, 0).unwrap(), d("-5"));
        assert_eq!(mantissa_decimal(1, -18).unwrap(), d("0.000000000000000001"));
        assert_eq!(
            mantissa_decimal(10, -19).unwrap(),
            d("0.000000000000000001")
        );
        assert_eq!(mantissa_decimal(0, -128).unwrap(), Decimal::ZERO);
        assert_eq!(mantissa_decimal(0, 127).unwrap(), Decimal::ZERO);
        assert_eq!(
            mantissa_decimal(1, -19).unwrap_err().kind,
            DecimalErrorKind::TooPrecise
        );
        assert_eq!(
            mantissa_decimal(i64::MAX, 3).unwrap_err().kind,
            DecimalErrorKind::Overflow
        );
        assert_eq!(
            mantissa_decimal(1, 127).unwrap_err().kind,
            DecimalErrorKind::Overflow
        );
        assert!(mantissa_decimal(i64::MIN, -128).is_err());
        assert_eq!(
            mantissa_decimal(i64::MAX, 1).unwrap().raw(),
            i128::from(i64::MAX) * 10i128.pow(19)
        );
    }
}
