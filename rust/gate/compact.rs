//! One pass over an `order_book_update` push written the way Gate writes it (`gateio.md`
//! §2.2, §3.5, §6.2): no whitespace, plain decimals, bare integer ids, the envelope keys
//! `time`/`time_ms`/`channel`/`event` before `result` (which ends the frame), and the result
//! keys `t`, `full`, `l`, `e`, `E`, `s`, `U`, `u`, `b`, `a` (spot: `t,l,e,E,s,U,u,b,a`;
//! futures: `t,s,U,u,b,a,l`), each at most once, in any order.
//!
//! The general path ([`super::envelope`], [`super::depth`]) validates the envelope and the
//! result with the shared scanner, classifies every key, decodes the symbol, checks the tail
//! after `result`, then streams the levels into the book. Here the levels are converted as
//! they are found (the grammar accepted is valid JSON by construction) into a reused buffer,
//! and the push is judged and applied once the whole frame is read. Anything else (another
//! channel, `spot.obu`, a key outside the set or repeated, an escape, whitespace, a `full` after
//! the levels, a push for another symbol than `want`, an increment without `U`) returns `None`
//! before the book is touched, and the caller takes the general path, so results (and errors)
//! are exactly the general path's.

use std::cell::RefCell;
use std::convert::Infallible;

use super::levels::compact_level;
use crate::book::{LevelSink, OrderBook, Status};
use crate::decimal::Decimal;
use crate::json::compact::{lit, plain_str, uint};

thread_local! {
    /// The levels of the push being read, in wire order: (bid, price, size).
    static LEVELS: RefCell<Vec<(bool, Decimal, Decimal)>> = const { RefCell::new(Vec::new()) };
}

/// The envelope up to and including `"result":`: the index of the `result` value. Keys before
/// `result` may come in any order, each at most once; `channel` must be an
/// `order_book_update` channel and `event` must be `update`.
#[inline]
fn envelope(b: &[u8]) -> Option<usize> {
    let mut i = lit(b, 0, b"{")?;
    let (mut time, mut time_ms, mut channel, mut event) = (false, false, false, false);
    loop {
        if let Some(j) = lit(b, i, b"\"result\":") {
            return (channel && event).then_some(j);
        }
        if let Some(j) = lit(b, i, b"\"time\":") {
            if std::mem::replace(&mut time, true) {
                return None;
            }
            i = uint(b, j)?.1;
        } else if let Some(j) = lit(b, i, b"\"time_ms\":") {
            if std::mem::replace(&mut time_ms, true) {
                return None;
            }
            i = uint(b, j)?.1;
        } else if let Some(j) = lit(b, i, b"\"channel\":\"") {
            if std::mem::replace(&mut channel, true) {
                return None;
            }
            i = lit(b, j, b"spot.order_book_update\"")
                .or_else(|| lit(b, j, b"futures.order_book_update\""))?;
        } else if let Some(j) = lit(b, i, b"\"event\":\"update\"") {
            if std::mem::replace(&mut event, true) {
                return None;
            }
            i = j;
        } else {
            return None;
        }
        i = lit(b, i, b",")?;
    }
}

/// The result keys read here; the discriminant is the bit that refuses a repeat.
#[derive(Clone, Copy)]
enum Key {
    T = 0,
    Full,
    L,
    E,
    BigE,
    S,
    First,
    Last,
    Bids,
    Asks,
}

/// The result key at `i` (`"name":`) and the index of its value.
#[inline(always)]
fn key(b: &[u8], i: usize) -> Option<(Key, usize)> {
    if *b.get(i)? != b'"' {
        return None;
    }
    let k = match *b.get(i + 1)? {
        b't' => Key::T,
        b'l' => Key::L,
        b'e' => Key::E,
        b'E' => Key::BigE,
        b's' => Key::S,
        b'U' => Key::First,
        b'u' => Key::Last,
        b'b' => Key::Bids,
        b'a' => Key::Asks,
        b'f' => return Some((Key::Full, lit(b, i + 2, b"ull\":")?)),
        _ => return None,
    };
    Some((k, lit(b, i + 2, b"\":")?))
}

/// Applies a compact `order_book_update` push to `book`; `None` (book untouched) when the
/// frame is not one or is for another instrument than `want`: the caller then takes the
/// general path.
#[inline]
pub fn apply(frame: &[u8], book: &mut OrderBook, want: Option<&str>) -> Option<Status> {
    let b = frame;
    let i = envelope(b)?;
    LEVELS.with(|cell| {
        let mut levels = cell.try_borrow_mut().ok()?;
        levels.clear();
        let mut i = lit(b, i, b"{")?;
        let (mut first, mut last, mut full, mut sym) = (None, None, None, None);
        let mut seen = 0u16;
        loop {
            let (k, j) = key(b, i)?;
            let bit = 1u16 << (k as u16);
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            i = match k {
                Key::T | Key::BigE => uint(b, j)?.1,
                Key::E | Key::L => plain_str(b, lit(b, j, b"\"")?)?.1,
                Key::S => {
                    let (s, j) = plain_str(b, lit(b, j, b"\"")?)?;
                    sym = Some(s);
                    j
                }
                Key::First => {
                    let (v, j) = uint(b, j)?;
                    first = Some(v);
                    j
                }
                Key::Last => {
                    let (v, j) = uint(b, j)?;
                    last = Some(v);
                    j
                }
                Key::Full => {
                    // A `full` after a level array is committed differently by the general
                    // path (as an increment, then reloaded): leave it to that path.
                    if seen & ((1 << Key::Bids as u16) | (1 << Key::Asks as u16)) != 0 {
                        return None;
                    }
                    if let Some(j) = lit(b, j, b"true") {
                        full = Some(true);
                        j
                    } else {
                        full = Some(false);
                        lit(b, j, b"false")?
                    }
                }
                Key::Bids => side(b, j, true, &mut levels)?,
                Key::Asks => side(b, j, false, &mut levels)?,
            };
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => break,
                _ => return None,
            }
        }
        // The result ends the envelope, and the frame.
        if lit(b, i, b"}}")? != b.len() {
            return None;
        }
        if let Some(w) = want {
            if sym? != w.as_bytes() {
                return None;
            }
        }
        let last = last?;
        let st = if full == Some(true) {
            book.load_stream_snapshot(last, |w| fill(w, &levels))
        } else {
            book.apply_delta(first?, last, |w| fill(w, &levels))
        };
        match st {
            Ok(st) => Some(st),
            Err(never) => match never {},
        }
    })
}

/// Writes the buffered levels, in wire order, to either of the book's writers.
#[inline(always)]
fn fill<W: LevelSink>(w: &mut W, levels: &[(bool, Decimal, Decimal)]) -> Result<(), Infallible> {
    for &(bid, p, z) in levels {
        w.level(bid, p, z);
    }
    Ok(())
}

/// One side's `[[price, size], ...]` (or futures `[{"p":..,"s":..}, ...]`) at `i`, appended
/// to `levels`. Returns the index after the array.
#[inline(always)]
fn side(
    b: &[u8],
    i: usize,
    bid: bool,
    levels: &mut Vec<(bool, Decimal, Decimal)>,
) -> Option<usize> {
    let mut i = lit(b, i, b"[")?;
    if let Some(j) = lit(b, i, b"]") {
        return Some(j);
    }
    loop {
        let (p, z, end) = compact_level(b, i)?;
        levels.push((bid, p, z));
        match b.get(end) {
            Some(b',') => i = end + 1,
            Some(b']') => return Some(end + 1),
            _ => return None,
        }
    }
}

#[cfg(test)]
#[path = "compact_tests.rs"]
mod tests;
