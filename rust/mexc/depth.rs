//! Applies MEXC depth pushes straight from the frame to an [`OrderBook`] (mexc.md §6).
//!
//! The body is scanned once for its version ids (which may come after the levels: fields are
//! in any order), the book's sequence rule decides from the ids alone, and only then are the
//! levels streamed from the bytes into the book: no level objects, no allocation. Bodies:
//! - 313 `publicAggreDepths`: a delta covering `fromVersion..=toVersion` (absolute sizes).
//! - 302 `publicIncreaseDepths`: a delta covering its single `version`.
//! - 312 `publicIncreaseDepthsBatch`: its items as 302 deltas in order, stopping at the first
//!   gap or crossed book.
//! - 303 `publicLimitDepths`: a full top-N snapshot at `version` (replaces the book unless it
//!   is older than what an in-sync book already holds, which is reported stale).

use super::error::{ErrorKind, FieldPath, MexcError};
use super::push::{body_name, split};
use super::wire::{parse_decimal, Reader, Ver};
use crate::book::{OrderBook, Status};
use crate::decimal::Decimal;

/// What [`apply_depth`] did with a push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthOutcome {
    /// The book's verdict: applied, stale, gap, crossed or not synced.
    pub status: Status,
    /// The wrapper body field (302, 303, 312 or 313).
    pub body: u32,
    /// First version covered (`fromVersion`, or `version`).
    pub first: u64,
    /// Last version covered (`toVersion`, or `version`).
    pub last: u64,
}

/// Field numbers of one depth body.
struct Layout {
    first: (u32, &'static str),
    last: (u32, &'static str),
    /// `lastOrderCreateTime`, a varint, where the body has it.
    time: Option<u32>,
}

const AGGRE: Layout = Layout {
    first: (4, "fromVersion"),
    last: (5, "toVersion"),
    time: Some(6),
};
const INCREASE: Layout = Layout {
    first: (4, "version"),
    last: (4, "version"),
    time: None,
};
const LIMIT: Layout = Layout {
    first: (4, "version"),
    last: (4, "version"),
    time: Some(5),
};

/// Decodes the frame's depth body and applies it to `book`.
///
/// # Errors
/// Wire and number errors naming the field; `WrongBody` for a non-depth push; `Missing`
/// when a version is absent. An error while streaming levels leaves the book out of sync.
pub fn apply_depth(frame: &[u8], book: &mut OrderBook) -> Result<DepthOutcome, MexcError> {
    match apply_depth_push(frame, book)? {
        Some(outcome) => Ok(outcome),
        None => {
            let (_, num, _) = split(frame)?;
            let name = body_name(num).unwrap_or("body");
            Err(MexcError::new(FieldPath::ROOT, ErrorKind::WrongBody(name)))
        }
    }
}

/// [`apply_depth`] for a stream of every kind of push: `None` (the book untouched) when the
/// push carries no depth body, so a caller routes by message type without an error.
///
/// # Errors
/// As [`apply_depth`], except for a non-depth push.
pub fn apply_depth_push(
    frame: &[u8],
    book: &mut OrderBook,
) -> Result<Option<DepthOutcome>, MexcError> {
    let (_, num, body) = split(frame)?;
    let name = body_name(num).unwrap_or("body");
    let path = FieldPath::ROOT.push(name);
    let (status, first, last) = match num {
        313 => delta(body, path, &AGGRE, book)?,
        302 => delta(body, path, &INCREASE, book)?,
        312 => batch(body, path, book)?,
        303 => snapshot(body, path, book)?,
        _ => return Ok(None),
    };
    Ok(Some(DepthOutcome {
        status,
        body: num,
        first,
        last,
    }))
}

/// Levels remembered by the first pass so the second need not re-read tags: up to `CAP`
/// `(offset, length)` spans into the body plus a bid bitmask, all on the stack.
const CAP: usize = 64;

impl Scan {
    fn new() -> Self {
        Scan {
            first: 0,
            last: 0,
            spans: [(0, 0); CAP],
            bids: 0,
            n: 0,
            overflow: false,
        }
    }
}

struct Scan {
    first: u64,
    last: u64,
    spans: [(u32, u32); CAP],
    bids: u64,
    n: usize,
    /// More levels than `CAP` (or a body over 4 GiB): the second pass re-reads the body.
    overflow: bool,
}

/// First pass: the version ids and the level spans, with every non-level field checked as
/// `decode` would.
fn scan(buf: &[u8], path: FieldPath, layout: &Layout, s: &mut Scan) -> Result<(), MexcError> {
    let (mut first, mut last) = (None, None);
    s.n = 0;
    s.bids = 0;
    s.overflow = u32::try_from(buf.len()).is_err();
    let mut r = Reader::new(buf);
    while let Some((num, wire)) = r.tag(path)? {
        match num {
            1 | 2 => {
                let item = r.len_field(wire, path.push(if num == 1 { "asks" } else { "bids" }))?;
                if s.n < CAP && !s.overflow {
                    // `item` lies inside `buf`, whose length fits in u32 (checked above).
                    let off = (item.as_ptr() as usize - buf.as_ptr() as usize) as u32;
                    s.spans[s.n] = (off, item.len() as u32);
                    s.bids |= u64::from(num == 2) << s.n;
                    s.n += 1;
                } else {
                    s.overflow = true;
                }
            }
            3 => {
                r.str_field(wire, path.push("eventType"))?;
            }
            n if n == layout.first.0 || n == layout.last.0 => {
                let key = if n == layout.first.0 {
                    layout.first.1
                } else {
                    layout.last.1
                };
                let p = path.push(key);
                let v = Ver::parse(r.str_field(wire, p)?, p)?.value;
                if n == layout.first.0 {
                    first = v;
                }
                if n == layout.last.0 {
                    last = v;
                }
            }
            n if Some(n) == layout.time => {
                r.varint_field(wire, path.push("lastOrderCreateTime"))?;
            }
            _ => r.skip(wire, path)?,
        }
    }
    let missing = |key| MexcError::new(path.push(key), ErrorKind::Missing);
    s.first = first.ok_or_else(|| missing(layout.first.1))?;
    s.last = last.ok_or_else(|| missing(layout.last.1))?;
    Ok(())
}

/// Second pass: every level, in wire order, as `(is_bid, price, size)`.
#[inline]
fn stream_levels(
    buf: &[u8],
    scan: &Scan,
    path: FieldPath,
    mut put: impl FnMut(bool, Decimal, Decimal),
) -> Result<(), MexcError> {
    let side = |bid: bool| path.push(if bid { "bids" } else { "asks" });
    if !scan.overflow {
        for (i, &(off, len)) in scan.spans[..scan.n].iter().enumerate() {
            let bid = scan.bids >> i & 1 == 1;
            let item = buf
                .get(off as usize..off as usize + len as usize)
                .ok_or_else(|| MexcError::new(side(bid), ErrorKind::Truncated))?;
            let (price, size) = level(item, path).map_err(|e| under(e, side(bid)))?;
            put(bid, price, size);
        }
        return Ok(());
    }
    let mut r = Reader::new(buf);
    while let Some((num, wire)) = r.tag(path)? {
        if num != 1 && num != 2 {
            // Already checked by `scan`.
            r.skip(wire, path)?;
            continue;
        }
        let item = r.len_field(wire, path)?;
        let (price, size) = level(item, path).map_err(|e| under(e, side(num == 2)))?;
        put(num == 2, price, size);
    }
    Ok(())
}

/// Re-roots an item error (built against the body path) under `asks`/`bids`.
#[cold]
fn under(mut e: MexcError, side: FieldPath) -> MexcError {
    let mut p = side;
    for seg in e.path.segments().iter().skip(side.segments().len() - 1) {
        p = p.push(seg);
    }
    e.path = p;
    e
}

/// One `{price, quantity}` item. Decimal parsing rejects any non-ASCII byte, so the UTF-8
/// check `decode` makes is implied here.
#[inline]
fn level(item: &[u8], path: FieldPath) -> Result<(Decimal, Decimal), MexcError> {
    // Fast path for the layout every serializer emits: `0a <len> price 12 <len> quantity`
    // with one-byte lengths and nothing else.
    if let [0x0a, pl, rest @ ..] = item {
        let pl = usize::from(*pl);
        if pl < 0x80 && pl > 0 {
            if let (Some(price), Some([0x12, ql, qty @ ..])) = (rest.get(..pl), rest.get(pl..)) {
                if usize::from(*ql) == qty.len() && !qty.is_empty() {
                    let p = parse_decimal(price, path).map_err(|e| at(e, path, "price"))?;
                    let s = parse_decimal(qty, path).map_err(|e| at(e, path, "quantity"))?;
                    return not_negative(p, s, path);
                }
            }
        }
    }
    let (mut price, mut size): (&[u8], &[u8]) = (&[], &[]);
    let mut r = Reader::new(item);
    // Paths are built only on error: this loop runs for every level of every push.
    while let Some((num, wire)) = r.tag(path)? {
        match num {
            1 => price = r.len_field(wire, path)?,
            2 => size = r.len_field(wire, path)?,
            _ => r.skip(wire, path)?,
        }
    }
    // An empty string is proto3's "absent": a level without a price or size is unusable.
    if price.is_empty() || size.is_empty() {
        let key = if price.is_empty() {
            "price"
        } else {
            "quantity"
        };
        return Err(MexcError::new(path.push(key), ErrorKind::Missing));
    }
    let p = parse_decimal(price, path).map_err(|e| at(e, path, "price"))?;
    let s = parse_decimal(size, path).map_err(|e| at(e, path, "quantity"))?;
    not_negative(p, s, path)
}

/// A level is never negative (a zero size deletes it): refuse rather than corrupt the book.
#[inline(always)]
fn not_negative(p: Decimal, s: Decimal, path: FieldPath) -> Result<(Decimal, Decimal), MexcError> {
    if p.is_negative() || s.is_negative() {
        let key = if p.is_negative() { "price" } else { "quantity" };
        return Err(MexcError::new(path.push(key), ErrorKind::Negative));
    }
    Ok((p, s))
}

#[cold]
fn at(mut e: MexcError, path: FieldPath, key: &'static str) -> MexcError {
    e.path = path.push(key);
    e
}

fn delta(
    buf: &[u8],
    path: FieldPath,
    layout: &Layout,
    book: &mut OrderBook,
) -> Result<(Status, u64, u64), MexcError> {
    // Filled in place: returning it by value would copy the span table.
    let mut scan = Scan::new();
    self::scan(buf, path, layout, &mut scan)?;
    let (first, last) = (scan.first, scan.last);
    let status = book.apply_delta(first, last, |w| {
        stream_levels(buf, &scan, path, |bid, p, s| {
            if bid {
                w.bid(p, s);
            } else {
                w.ask(p, s);
            }
        })
    })?;
    Ok((status, first, last))
}

fn snapshot(
    buf: &[u8],
    path: FieldPath,
    book: &mut OrderBook,
) -> Result<(Status, u64, u64), MexcError> {
    let mut scan = Scan::new();
    self::scan(buf, path, &LIMIT, &mut scan)?;
    let version = scan.first;
    if book.confirmed() && version <= book.sequence() {
        return Ok((Status::Stale, version, version));
    }
    // A limit-depth push is the whole (top-N) book as the stream sees it: its own confirmation.
    let status = book.load_stream_snapshot(version, |w| {
        stream_levels(buf, &scan, path, |bid, p, s| {
            if bid {
                w.bid(p, s);
            } else {
                w.ask(p, s);
            }
        })
    })?;
    Ok((status, version, version))
}

fn batch(
    buf: &[u8],
    path: FieldPath,
    book: &mut OrderBook,
) -> Result<(Status, u64, u64), MexcError> {
    let items = path.push("items");
    let mut out = (Status::Stale, 0, 0);
    let mut seen = false;
    let mut r = Reader::new(buf);
    while let Some((num, wire)) = r.tag(path)? {
        match num {
            1 => {
                let item = r.len_field(wire, items)?;
                let (st, first, last) = delta(item, items, &INCREASE, book)?;
                out = (st, if seen { out.1 } else { first }, last);
                seen = true;
                if !matches!(st, Status::Applied | Status::Stale) {
                    return Ok(out);
                }
            }
            2 => {
                r.str_field(wire, path.push("eventType"))?;
            }
            _ => r.skip(wire, path)?,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::SeqRule;
    use crate::mexc::testdata::{aggre_depth, len, tag, vector_273};

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    fn seeded(id: u64) -> OrderBook {
        let mut b = OrderBook::new(SeqRule::Mexc, None);
        b.load_snapshot::<()>(id, |w| {
            w.bid(d("117145.48"), d("0.1"));
            w.bid(d("117144.90"), d("3"));
            w.ask(d("117145.49"), d("0.2"));
            w.ask(d("117147"), d("1"));
            Ok(())
        })
        .unwrap();
        b
    }

    #[test]
    fn applies_the_reference_vector() {
        let mut b = seeded(43_296_363_240);
        let out = apply_depth(&vector_273(), &mut b).unwrap();
        assert_eq!(out.status, Status::Applied);
        assert_eq!(
            (out.body, out.first, out.last),
            (313, 43_296_363_236, 43_296_363_255)
        );
        assert_eq!(b.asks().best(), Some((d("117145.50"), d("0.012345"))));
        assert_eq!(b.bids().best(), Some((d("117145.48"), d("0.512"))));
        assert_eq!(b.bids().size_at(d("117144.90")), Decimal::ZERO);
        assert_eq!(b.sequence(), 43_296_363_255);
        // The same push again is stale and leaves the book alone.
        assert_eq!(
            apply_depth(&vector_273(), &mut b).unwrap().status,
            Status::Stale
        );
    }

    #[test]
    fn versions_after_levels_and_gaps() {
        let mut b = seeded(100);
        // toVersion, then levels, then fromVersion: any order is fine.
        let frame = aggre_depth(&[("117150", "1")], &[("4", "1")], "101", "105", true);
        assert_eq!(apply_depth(&frame, &mut b).unwrap().status, Status::Applied);
        let gap = aggre_depth(&[], &[("4", "2")], "107", "110", false);
        assert_eq!(apply_depth(&gap, &mut b).unwrap().status, Status::Gap);
        assert_eq!(b.bids().size_at(d("4")), d("1"), "a gap touches nothing");
    }

    #[test]
    fn bad_levels_name_the_field_and_desync_the_book() {
        let mut b = seeded(100);
        let frame = aggre_depth(&[("117150", "1x")], &[], "101", "102", false);
        let e = apply_depth(&frame, &mut b).unwrap_err();
        assert_eq!(e.path.to_string(), "publicAggreDepths.asks.quantity");
        assert!(!b.in_sync());
        let frame = aggre_depth(&[], &[], "101", "1O2", false);
        let e = apply_depth(&frame, &mut seeded(100)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "publicAggreDepths.toVersion: invalid integer '1O2'"
        );
    }

    /// Finding 5 of issue 13: negative sizes and prices used to go into the book.
    #[test]
    fn negative_levels_are_refused() {
        for (asks, bids) in [
            (&[("117150", "-1")][..], &[][..]),
            (&[], &[("-4", "1")][..]),
            (&[], &[("4", "-0.00000001")][..]),
        ] {
            let mut b = seeded(100);
            let frame = aggre_depth(asks, bids, "101", "102", false);
            let e = apply_depth(&frame, &mut b).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Negative);
            assert!(!b.in_sync());
        }
        // The serializers' layout (price then quantity, one-byte lengths) takes a fast path.
        let e = apply_depth(&limit_frame("101", &[("4", "-1")]), &mut seeded(100)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Negative);
        // "-0" is zero, not negative: it deletes.
        let mut b = seeded(100);
        let frame = aggre_depth(&[("117147", "-0")], &[], "101", "102", false);
        assert_eq!(apply_depth(&frame, &mut b).unwrap().status, Status::Applied);
        assert_eq!(b.asks().size_at(d("117147")), Decimal::ZERO);
    }

    #[test]
    fn missing_version_and_wrong_body_are_errors() {
        let mut body = Vec::new();
        tag(&mut body, 4, 2);
        len(&mut body, b"7");
        let mut frame = Vec::new();
        tag(&mut frame, 313, 2);
        len(&mut frame, &body);
        let e = apply_depth(&frame, &mut seeded(1)).unwrap_err();
        assert_eq!(e.to_string(), "publicAggreDepths.toVersion: missing");
        let mut frame = Vec::new();
        tag(&mut frame, 314, 2);
        len(&mut frame, &[]);
        let e = apply_depth(&frame, &mut seeded(1)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::WrongBody("publicAggreDeals"));
    }

    fn limit_frame(version: &str, bids: &[(&str, &str)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (p, q) in bids {
            let mut item = Vec::new();
            tag(&mut item, 1, 2);
            len(&mut item, p.as_bytes());
            tag(&mut item, 2, 2);
            len(&mut item, q.as_bytes());
            tag(&mut body, 2, 2);
            len(&mut body, &item);
        }
        tag(&mut body, 4, 2);
        len(&mut body, version.as_bytes());
        let mut frame = Vec::new();
        tag(&mut frame, 303, 2);
        len(&mut frame, &body);
        frame
    }

    #[test]
    fn limit_depth_is_a_snapshot_unless_older() {
        let mut b = OrderBook::new(SeqRule::Mexc, None);
        let out = apply_depth(&limit_frame("50", &[("1", "2"), ("0.5", "1")]), &mut b).unwrap();
        assert_eq!((out.status, out.first, out.last), (Status::Applied, 50, 50));
        assert!(b.in_sync());
        assert_eq!(b.bids().len(), 2);
        let out = apply_depth(&limit_frame("49", &[("9", "9")]), &mut b).unwrap();
        assert_eq!(out.status, Status::Stale);
        assert_eq!(b.bids().best(), Some((d("1"), d("2"))));
        apply_depth(&limit_frame("51", &[("3", "1")]), &mut b).unwrap();
        assert_eq!(b.bids().len(), 1);
        assert_eq!(b.sequence(), 51);
    }

    #[test]
    fn batches_apply_in_order_and_stop_at_a_gap() {
        let item = |v: &str, p: &str| {
            let mut lvl = Vec::new();
            tag(&mut lvl, 1, 2);
            len(&mut lvl, p.as_bytes());
            tag(&mut lvl, 2, 2);
            len(&mut lvl, b"1");
            let mut m = Vec::new();
            tag(&mut m, 2, 2);
            len(&mut m, &lvl);
            tag(&mut m, 4, 2);
            len(&mut m, v.as_bytes());
            m
        };
        let mut body = Vec::new();
        for (v, p) in [("101", "10"), ("102", "11"), ("104", "12"), ("105", "13")] {
            tag(&mut body, 1, 2);
            len(&mut body, &item(v, p));
        }
        let mut frame = Vec::new();
        tag(&mut frame, 312, 2);
        len(&mut frame, &body);
        let mut b = seeded(100);
        let out = apply_depth(&frame, &mut b).unwrap();
        assert_eq!((out.status, out.first, out.last), (Status::Gap, 101, 104));
        assert_eq!(b.bids().size_at(d("11")), d("1"));
        assert_eq!(b.bids().size_at(d("12")), Decimal::ZERO);
    }
}
