//! One pass over record pushes (trades, book tickers, tickers, candles, ...) written the way
//! Gate writes them (`gateio.md` §2.2, §3.2, §3.4, §6.2): no whitespace, the envelope keys
//! `time`/`time_ms`/`channel`/`event` (each at most once, any order, `event` = `update`)
//! before `result`, which ends the frame; record keys plain (no escapes), each at most once;
//! values plain strings, JSON numbers, decimal or integer strings, `true`/`false`/`null`.
//!
//! The general path ([`super::envelope`], [`super::channels::read_record`]) classifies every
//! envelope key through the validating scanner, splits and routes the channel name as text,
//! looks every record key up in its table and types the value through [`crate::json::Val`].
//! Here the channel is matched as bytes once, keys are compared in table order and values are
//! typed and converted as they are found. Anything outside that grammar (an escape, whitespace,
//! a nested value, a repeated key, an `error`/`id` key, a key after `result`, a number this
//! reader does not convert) returns `None` and the caller takes the general path, so what is
//! accepted here is valid JSON by construction and every slot equals the general path's (the
//! tests compare them on respelled frames).

use super::channels::{Kind, Record, Records, Slot, Tag, Ty};
use super::message::{Body, Head, Message};
use super::value::scan_plain_decimal;
use crate::json::compact::{lit, uint};
use crate::json::{string_stop, Span};

/// A span of plain text (no escapes).
#[inline(always)]
fn span(start: usize, end: usize) -> Span {
    Span {
        start: u32::try_from(start).unwrap_or(u32::MAX),
        end: u32::try_from(end).unwrap_or(u32::MAX),
        escaped: false,
    }
}

/// The closing quote of a string whose contents start at `i`, when the contents need no
/// decoding: no backslash, no control character, valid UTF-8 (the scanner's
/// [`string_stop`] finds the first byte that is not plain ASCII eight bytes at a time).
#[inline(always)]
fn plain_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = string_stop(b, i);
    let mut wide = false;
    loop {
        match *b.get(j)? {
            b'"' => break,
            c if c >= 0x80 => {
                wide = true;
                j = string_stop(b, j + 1);
            }
            _ => return None,
        }
    }
    if wide {
        std::str::from_utf8(b.get(i..j)?).ok()?;
    }
    Some(j)
}

/// Where a record channel routes (`spot.`/`futures.` + a record channel name), from the
/// channel's bytes. Other channels (depth, pong, unknown) are left to the general path.
#[inline]
fn record_channel(name: &[u8]) -> Option<(Kind, bool)> {
    let (futures, rest) = if let Some(r) = name.strip_prefix(b"spot.") {
        (false, r)
    } else {
        (true, name.strip_prefix(b"futures.")?)
    };
    let rest = std::str::from_utf8(rest).ok()?;
    Some((Kind::from_channel(rest)?, futures))
}

/// Reads a compact record push; `None` when the frame is not one (see the module doc).
#[must_use]
pub fn parse(b: &[u8]) -> Option<Message> {
    read::<true>(b)
}

/// True when `b` is a compact record push (trades, tickers, ...): a frame that is certainly
/// not a depth push. The same pass as [`parse`], keeping nothing (no slot is stored, nothing
/// is allocated).
#[must_use]
pub fn is_record_push(b: &[u8]) -> bool {
    read::<false>(b).is_some()
}

/// The one pass; `KEEP` stores the slots (false: only check the grammar and the types).
#[inline(always)]
fn read<const KEEP: bool>(b: &[u8]) -> Option<Message> {
    let mut i = lit(b, 0, b"{")?;
    let mut head = Head::default();
    let mut kind = None;
    let mut seen = 0u8;
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let (bit, j) = match b.get(i + 1)? {
            b'r' => {
                let j = lit(b, i, b"\"result\":")?;
                // `event` must have said this is a push: an event-less or later-keyed frame
                // could still be an ack, which the general path works out.
                if seen & 8 == 0 {
                    return None;
                }
                let (records, j) = records::<KEEP>(b, j, kind?)?;
                if lit(b, j, b"}")? != b.len() {
                    return None;
                }
                let kind = kind?;
                return Some(Message {
                    head,
                    body: Body::Records { kind, records },
                });
            }
            b't' => {
                if let Some(j) = lit(b, i, b"\"time\":") {
                    let (v, j) = uint(b, j)?;
                    head.time = Some(i64::try_from(v).ok()?);
                    (1, j)
                } else {
                    let j = lit(b, i, b"\"time_ms\":")?;
                    let (v, j) = uint(b, j)?;
                    head.time_ms = Some(i64::try_from(v).ok()?);
                    (2, j)
                }
            }
            b'c' => {
                let j = lit(b, i, b"\"channel\":\"")?;
                // The channels of every market-data stream, as constant-length compares; the
                // rest through the channel table.
                let (k, futures, end) = if let Some(e) = lit(b, j, b"spot.trades\"") {
                    (Kind::Trade, false, e - 1)
                } else if let Some(e) = lit(b, j, b"spot.book_ticker\"") {
                    (Kind::BookTicker, false, e - 1)
                } else if let Some(e) = lit(b, j, b"futures.trades\"") {
                    (Kind::Trade, true, e - 1)
                } else if let Some(e) = lit(b, j, b"futures.book_ticker\"") {
                    (Kind::BookTicker, true, e - 1)
                } else {
                    let end = plain_end(b, j)?;
                    let (k, futures) = record_channel(b.get(j..end)?)?;
                    (k, futures, end)
                };
                kind = Some(k);
                head.futures = futures;
                head.channel = Some(span(j, end));
                (4, end + 1)
            }
            b'e' => {
                let j = lit(b, i, b"\"event\":\"update\"")?;
                head.event = Some(span(j - 7, j - 1));
                (8, j)
            }
            _ => return None,
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        i = lit(b, j, b",")?;
    }
}

/// `result`: one record object or a list of them.
#[inline]
fn records<const KEEP: bool>(b: &[u8], i: usize, kind: Kind) -> Option<(Records, usize)> {
    if b.get(i) != Some(&b'[') {
        let (rec, j) = record::<KEEP>(b, i, kind)?;
        return Some((Records::One(rec), j));
    }
    let mut out = Vec::new();
    let mut i = i + 1;
    if b.get(i) == Some(&b']') {
        return Some((Records::List(out), i + 1));
    }
    loop {
        let (rec, j) = record::<KEEP>(b, i, kind)?;
        if KEEP {
            out.push(rec);
        }
        match b.get(j) {
            Some(b',') => i = j + 1,
            Some(b']') => return Some((Records::List(out), j + 1)),
            _ => return None,
        }
    }
}

/// One record object at `i`; returns it and the index after its `}`.
#[inline]
fn record<const KEEP: bool>(b: &[u8], i: usize, kind: Kind) -> Option<(Record, usize)> {
    let fields = kind.fields();
    let start = i;
    let mut i = lit(b, i, b"{")?;
    let mut slots: Box<[Slot]> = if KEEP {
        vec![Slot::default(); fields.len()].into_boxed_slice()
    } else {
        Box::default()
    };
    if b.get(i) == Some(&b'}') {
        return Some((
            Record {
                kind,
                slots,
                span: (start, i + 1),
            },
            i + 1,
        ));
    }
    // One bit per table field (the largest table has 53): a repeat goes to the general path,
    // which keeps the last value as Python's json does.
    let mut seen = 0u64;
    // Gate sends fields in table order: the usual lookup is one comparison.
    let mut hint = 0usize;
    loop {
        let k = lit(b, i, b"\"")?;
        // The next table field, or the one after it (spot trades skip the futures fields
        // between theirs); else a search of the table, lengths first.
        let next = (hint..hint + 2).find(|&n| fields.get(n).is_some_and(|f| key_is(b, k, f.name)));
        let (found, v) = match next {
            Some(n) => (Some(n), k + fields[n].name.len() + 2),
            None => {
                let end = plain_end(b, k)?;
                let key = b.get(k..end)?;
                let v = lit(b, end + 1, b":")?;
                let n = fields
                    .iter()
                    .position(|f| f.name.len() == key.len() && f.name.as_bytes() == key);
                (n, v)
            }
        };
        i = match found {
            Some(n) => {
                let bit = 1u64 << n;
                if seen & bit != 0 {
                    return None;
                }
                seen |= bit;
                hint = n + 1;
                let (slot, j) = value(b, v, fields[n].ty)?;
                if KEEP {
                    *slots.get_mut(n)? = slot;
                }
                j
            }
            None => skip_scalar(b, v)?,
        };
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => {
                return Some((
                    Record {
                        kind,
                        slots,
                        span: (start, i + 1),
                    },
                    i + 1,
                ))
            }
            _ => return None,
        }
    }
}

/// A decimal at `i` with an optional `-`: `digits[.digits]`, at most 19 digits and 18 after
/// the dot (what [`super::value::fast_decimal`] converts exactly). `json` adds the JSON
/// number rules: no leading zero, and no exponent, dot or digit after it. Returns the raw
/// decimal value and the index after the text.
#[inline(always)]
fn number(b: &[u8], i: usize, json: bool) -> Option<(i128, usize)> {
    let neg = b.get(i) == Some(&b'-');
    let body = i + usize::from(neg);
    let (d, end) = scan_plain_decimal(b, body)?;
    if json {
        if b.get(body) == Some(&b'0') && matches!(b.get(body + 1), Some(b'0'..=b'9')) {
            return None;
        }
        if matches!(b.get(end), Some(b'e' | b'E' | b'.' | b'0'..=b'9')) {
            return None;
        }
    }
    Some((if neg { -d.raw() } else { d.raw() }, end))
}

/// An integer at `i` with an optional `-` (at most 18 digits); `json` refuses a leading zero
/// and a fraction or exponent after it.
#[inline(always)]
fn integer(b: &[u8], i: usize, json: bool) -> Option<(i64, usize)> {
    let neg = b.get(i) == Some(&b'-');
    let body = i + usize::from(neg);
    let (v, end) = if json {
        uint(b, body)?
    } else {
        // Integer strings may have leading zeros ("0123" reads as 123).
        let mut j = body;
        let mut v = 0u64;
        while let Some(d) = b.get(j).map(|c| c.wrapping_sub(b'0')).filter(|d| *d <= 9) {
            v = v * 10 + u64::from(d);
            j += 1;
            if j - body > 18 {
                return None;
            }
        }
        (j > body).then_some((v, j))?
    };
    if json && matches!(b.get(end), Some(b'e' | b'E' | b'.')) {
        return None;
    }
    let v = i64::try_from(v).ok()?;
    Some((if neg { -v } else { v }, end))
}

/// True when the key at `k` (after its opening quote) is `name`, followed by `":`.
#[inline(always)]
fn key_is(b: &[u8], k: usize, name: &str) -> bool {
    let name = name.as_bytes();
    // Keys are a few bytes: an inline loop beats a call to memcmp.
    b.get(k..k + name.len() + 2).is_some_and(|got| {
        got[..name.len()].iter().zip(name).all(|(a, b)| a == b)
            && got[name.len()] == b'"'
            && got[name.len() + 1] == b':'
    })
}

/// One value for a table field of type `ty` at `i`, typed as
/// [`super::channels::read_slot`] types it; `None` for anything this reader leaves to it.
#[inline(always)]
fn value(b: &[u8], i: usize, ty: Ty) -> Option<(Slot, usize)> {
    let c = *b.get(i)?;
    if c == b'n' {
        // `null`: absent for every type (and no text).
        let j = lit(b, i, b"null")?;
        let slot = Slot {
            tag: Tag::Null,
            ..Slot::default()
        };
        return Some((slot, j));
    }
    let quoted = c == b'"';
    let at = i + usize::from(quoted);
    match ty {
        Ty::Str | Ty::Any if quoted => {
            let end = plain_end(b, at)?;
            Some((
                Slot {
                    span: span(at, end),
                    tag: Tag::Str,
                    ..Slot::default()
                },
                end + 1,
            ))
        }
        Ty::Dec if quoted && b.get(at) == Some(&b'"') => {
            // `""`: an empty side (futures book_ticker), absent, its text kept.
            Some((
                Slot {
                    span: span(at, at),
                    tag: Tag::Null,
                    ..Slot::default()
                },
                at + 1,
            ))
        }
        Ty::Dec => {
            let (val, end) = number(b, at, !quoted)?;
            let close = if quoted { lit(b, end, b"\"")? } else { end };
            let slot = Slot {
                val,
                span: span(at, end),
                tag: if quoted { Tag::Str } else { Tag::Num },
                fits: true,
            };
            Some((slot, close))
        }
        Ty::Int => {
            let (v, end) = integer(b, at, !quoted)?;
            let close = if quoted { lit(b, end, b"\"")? } else { end };
            let slot = Slot {
                val: i128::from(v),
                span: span(at, end),
                tag: if quoted { Tag::Str } else { Tag::Num },
                fits: false,
            };
            Some((slot, close))
        }
        Ty::Any if matches!(c, b'-' | b'0'..=b'9') => {
            let (_, end) = number(b, i, true)?;
            let slot = Slot {
                span: span(i, end),
                tag: Tag::Num,
                ..Slot::default()
            };
            Some((slot, end))
        }
        Ty::Bool | Ty::Any => {
            let (v, j) = if let Some(j) = lit(b, i, b"true") {
                (1, j)
            } else {
                (0, lit(b, i, b"false")?)
            };
            let slot = Slot {
                val: v,
                tag: Tag::Bool,
                ..Slot::default()
            };
            Some((slot, j))
        }
        Ty::Str => None,
    }
}

/// Skips the scalar value of a key outside the table; containers and anything else go to
/// the general path.
#[inline(always)]
fn skip_scalar(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => Some(plain_end(b, i + 1)? + 1),
        b'-' | b'0'..=b'9' => Some(number(b, i, true)?.1),
        b't' => lit(b, i, b"true"),
        b'f' => lit(b, i, b"false"),
        b'n' => lit(b, i, b"null"),
        _ => None,
    }
}

#[cfg(test)]
#[path = "compact_records_tests.rs"]
mod tests;
