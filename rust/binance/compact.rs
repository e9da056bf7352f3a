//! One pass over a diff-depth push written the way Binance writes it (`binance.md` §2.1, §3,
//! §8.2): no whitespace, plain decimals, bare integer ids, the combined-stream wrapper
//! `{"stream":"<sym>@depth..","data":{..}}` with `stream` first (or a raw `/ws` payload), and
//! the payload's keys in Binance's order: `e`, `E`, (`T`), `s`, `U`, `u`, (`pu`), `b`, `a`.
//!
//! The general path ([`super::frame`], [`super::depth`]) validates the wrapper, reads every
//! key through the generic scanner and judges the push when its ids are in. Here the levels
//! are converted as they are found into a reused buffer (the grammar accepted is valid JSON by
//! construction), and the push is judged and applied once at the end. Anything else (another
//! spelling or key order, a push for another symbol, a futures book without `pu`, a stream
//! that is not diff depth) returns `None` before the book is touched, and the caller takes the
//! general path, so results (and errors) are exactly the general path's.

use std::cell::RefCell;
use std::convert::Infallible;

#[cfg(test)]
use super::route::{self, Kind};
use crate::book::{OrderBook, SeqRule, Status};
use crate::decimal::Decimal;
use crate::gate::levels::compact_level;
use crate::json::compact::{lit, plain_str, uint};

thread_local! {
    /// The levels of the push being read: (bid, price, size), bids first, in wire order.
    static LEVELS: RefCell<Vec<(bool, Decimal, Decimal)>> = const { RefCell::new(Vec::new()) };
}

/// One side's `[["price","size"],...]` at `i` into `out`; the index after the array.
#[inline(always)]
fn levels(b: &[u8], i: usize, bid: bool, out: &mut Vec<(bool, Decimal, Decimal)>) -> Option<usize> {
    let mut i = lit(b, i, b"[")?;
    if let Some(j) = lit(b, i, b"]") {
        return Some(j);
    }
    loop {
        // The level reader's own fast path: what it accepts, the general path reads alike.
        let (p, z, end) = compact_level(b, i)?;
        out.push((bid, p, z));
        match b.get(end) {
            Some(b',') => i = end + 1,
            Some(b']') => return Some(end + 1),
            _ => return None,
        }
    }
}

/// True when the stream name `<symbol>@depth[@<speed>]` routes to diff depth
/// (`Kind::of_stream`) and, with `want`, names it (`route::stream_symbol_is`); read on the
/// bytes, without the `str` searches. A non-ASCII `want` or a `!` stream is left to the general
/// path (false).
#[inline(always)]
fn diff_stream_of(name: &[u8], want: Option<&str>) -> bool {
    let Some(at) = name.iter().position(|&c| c == b'@') else {
        return false;
    };
    let (sym, rest) = (&name[..at], &name[at + 1..]);
    let kind = rest.split(|&c| c == b'@').next().unwrap_or_default();
    if kind != b"depth" || sym.first() == Some(&b'!') {
        return false;
    }
    want.is_none_or(|w| {
        w.is_ascii()
            && w.len() == sym.len()
            && w.bytes()
                .zip(sym)
                .all(|(a, &b)| a.to_ascii_lowercase() == b)
    })
}

/// Applies a compact diff-depth push to a Binance `book`; `None` (book untouched) when the
/// frame is not one, is for another symbol than `want`, or lacks what the book's rule needs:
/// the caller then takes the general path.
#[inline]
pub fn apply(frame: &[u8], book: &mut OrderBook, want: Option<&str>) -> Option<Status> {
    let futures = match book.rule() {
        SeqRule::BinanceSpot => false,
        SeqRule::BinanceFutures => true,
        _ => return None,
    };
    let (payload, wrapped) = if let Some(i) = lit(frame, 0, b"{\"stream\":\"") {
        let (name, i) = plain_str(frame, i)?;
        if !diff_stream_of(name, want) {
            return None;
        }
        (lit(frame, i, b",\"data\":")?, true)
    } else {
        (0, false)
    };
    let b = frame;
    let i = lit(b, payload, b"{\"e\":\"depthUpdate\",\"E\":")?;
    let (_event_time, mut i) = uint(b, i)?;
    if let Some(j) = lit(b, i, b",\"T\":") {
        i = uint(b, j)?.1;
    }
    let (symbol, i) = plain_str(b, lit(b, i, b",\"s\":\"")?)?;
    if want.is_some_and(|w| w.as_bytes() != symbol) {
        return None;
    }
    let (first, i) = uint(b, lit(b, i, b",\"U\":")?)?;
    let (last, mut i) = uint(b, lit(b, i, b",\"u\":")?)?;
    let mut prev = None;
    if let Some(j) = lit(b, i, b",\"pu\":") {
        let (p, j) = uint(b, j)?;
        prev = Some(p);
        i = j;
    }
    // Only a futures book reads `pu` (and needs it); a spot book ignores it.
    let prev = if futures { prev? } else { 0 };
    LEVELS.with(|cell| {
        let mut taken = cell.try_borrow_mut().ok()?;
        taken.clear();
        let i = levels(b, lit(b, i, b",\"b\":")?, true, &mut taken)?;
        let i = levels(b, lit(b, i, b",\"a\":")?, false, &mut taken)?;
        let end = if wrapped { b"}}".as_slice() } else { b"}" };
        if lit(b, i, end)? != b.len() {
            return None;
        }
        let st = book.apply_linked_delta(first, last, prev, |w| {
            for &(bid, p, z) in taken.iter() {
                if bid {
                    w.bid(p, z);
                } else {
                    w.ask(p, z);
                }
            }
            Ok::<(), Infallible>(())
        });
        match st {
            Ok(st) => Some(st),
            Err(never) => match never {},
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::testkit::{d, seeded, state, Rng};

    /// A book at `id`, in one of the states a stream meets: fresh snapshot, synced, out of
    /// sync, empty.
    fn book(rule: SeqRule, id: u64, state: u64) -> OrderBook {
        if state == 3 {
            return OrderBook::new(rule, Some(50));
        }
        let mut b = seeded(rule, id);
        match state {
            1 => {
                // Straddles the snapshot id under both rules (futures: `U <= S <= u`).
                let st = b
                    .apply_linked_delta::<Infallible>(id, id + 1, id - 1, |_| Ok(()))
                    .unwrap();
                assert_eq!(st, Status::Applied);
            }
            2 => b.mark_out_of_sync(),
            _ => {}
        }
        b
    }

    /// The one-pass reader and the general path agree on the outcome (or error) and the book.
    fn agree(frame: &str, b: &OrderBook, want: Option<&str>) -> bool {
        let (mut one, mut general) = (b.clone(), b.clone());
        let mut probe = b.clone();
        let took = apply(frame.as_bytes(), &mut probe, want).is_some();
        if !took {
            assert_eq!(state(&probe), state(b), "refused but touched: {frame}");
        }
        let r1 = super::super::apply_frame(frame.as_bytes(), &mut one, want);
        let r2 = super::super::apply_checked(frame.as_bytes(), &mut general, want);
        assert_eq!(format!("{r1:?}"), format!("{r2:?}"), "{frame}");
        assert_eq!(state(&one), state(&general), "{frame}");
        took
    }

    fn side(r: &mut Rng) -> String {
        let prices = [
            "100", "99.5", "101", "101.5", "97.25", "102.125", "100.0", "0",
        ];
        let sizes = ["0", "1", "0.5", "2.25", "0.00000001", "10", "0.000"];
        let n = r.below(4);
        let out: Vec<String> = (0..n)
            .map(|_| format!(r#"["{}","{}"]"#, r.pick(&prices), r.pick(&sizes)))
            .collect();
        out.join(",")
    }

    /// A diff push around book id `id`: spot or futures keys, raw or wrapped.
    fn push(r: &mut Rng, id: u64, futures: bool) -> String {
        let first = id + 2 - r.below(4).min(id + 2);
        let last = first + r.below(3);
        let prev = if r.below(4) == 0 {
            id + r.below(3)
        } else {
            first.saturating_sub(1)
        };
        let sym = r.pick(&["BTCUSDT", "BTCUSDT", "BTCUSDT", "ETHUSDT"]);
        let (bids, asks) = (side(r), side(r));
        // Spot pushes sometimes carry `T`/`pu`, futures ones sometimes lack them.
        let t = if futures == (r.below(6) != 0) {
            ",\"T\":1672515782134"
        } else {
            ""
        };
        let pu = if futures == (r.below(6) != 0) {
            format!(",\"pu\":{prev}")
        } else {
            String::new()
        };
        let data = format!(
            r#"{{"e":"depthUpdate","E":1672515782136{t},"s":"{sym}","U":{first},"u":{last}{pu},"b":[{bids}],"a":[{asks}]}}"#
        );
        if r.below(3) == 0 {
            return data;
        }
        let stream_sym = if r.below(8) == 0 {
            "ethusdt".to_string()
        } else {
            sym.to_lowercase()
        };
        let kind = r.pick(&["@depth", "@depth@100ms", "@depth@0ms", "@depth5", "@trade"]);
        format!(r#"{{"stream":"{stream_sym}{kind}","data":{data}}}"#)
    }

    /// Respellings the general path reads (or refuses) and the one-pass reader must hand over.
    fn mutate(r: &mut Rng, f: &str) -> String {
        let b = f.as_bytes();
        match r.below(16) {
            0 => {
                // Whitespace after a random structural byte.
                let at: Vec<usize> = (0..b.len())
                    .filter(|&i| matches!(b[i], b'{' | b',' | b':' | b'['))
                    .collect();
                let i = at[r.below(at.len() as u64) as usize] + 1;
                format!("{} {}", &f[..i], &f[i..])
            }
            1 => {
                // `a` before `b`.
                let (bs, as_) = (f.find(",\"b\":").unwrap(), f.find(",\"a\":").unwrap());
                let end = f[as_..].find(']').unwrap() + as_ + 1;
                let end = if f[end..].starts_with(']') {
                    end + 1
                } else {
                    end
                };
                format!("{}{}{}{}", &f[..bs], &f[as_..end], &f[bs..as_], &f[end..])
            }
            2 => f.replacen(",\"U\":", ",\"u\":1,\"U\":", 1),
            3 => f.replacen("USDT\"", "\\u0055SDT\"", 1),
            4 => format!("{f} "),
            5 => f[..r.below(b.len() as u64) as usize].to_string(),
            6 => {
                let i = r.below(b.len() as u64) as usize;
                let c = r.pick(&["\"", "x", "]", "0", ".", "-", "e5", "}", ","]);
                format!("{}{c}{}", &f[..i], &f[i + 1..])
            }
            7 => f.replacen("\"E\":", "\"E\":-", 1),
            8 => f.replacen("\"b\":[", "\"b\":null,\"x\":[", 1),
            9 => f.replacen("\"s\":", "\"x\":1,\"s\":", 1),
            10 => f.replacen("\"],[\"", "\",\"7\"],[\"", 1),
            11 => f.replacen("\"u\":", "\"u\":0", 1),
            12 => f.replacen("\"a\":[", "\"a\":[[\"1.5\",2],", 1),
            13 => match f.find(",\"data\":") {
                // `data` before `stream`.
                Some(i) => {
                    let data = &f[i + 8..f.len() - 1];
                    format!("{{\"data\":{data},{}}}", &f[1..i])
                }
                None => f.replacen("{\"e\"", "{\"lastUpdateId\":5,\"e\"", 1),
            },
            14 => f.replacen("\"pu\":", "\"pu\":-", 1),
            _ => f.replacen("\"e\":\"depthUpdate\"", "\"e\":\"trade\"", 1),
        }
    }

    #[test]
    fn the_one_pass_reader_agrees_with_the_general_path() {
        let mut r = Rng(0x2545_F491_4F6C_DD1D);
        let (mut took, mut cases) = (0, 0);
        for i in 0..4_000 {
            let futures = i % 2 == 1;
            let id = 1_000 + r.below(5);
            let frame = push(&mut r, id, futures);
            let frame = if r.below(3) == 0 {
                mutate(&mut r, &frame)
            } else {
                frame
            };
            let st = r.below(4);
            let (rule, other) = if futures {
                (SeqRule::BinanceFutures, SeqRule::BinanceSpot)
            } else {
                (SeqRule::BinanceSpot, SeqRule::BinanceFutures)
            };
            // The other market's book, and a book with no symbol, too.
            for (rule, want) in [
                (rule, Some("BTCUSDT")),
                (rule, None),
                (other, Some("BTCUSDT")),
            ] {
                took += usize::from(agree(&frame, &book(rule, id, st), want));
                cases += 1;
            }
        }
        assert!(
            took > cases / 4,
            "the one-pass reader took {took} of {cases}"
        );
    }

    /// The byte-level stream check says what the route functions say (when it says yes).
    #[test]
    fn stream_names_agree_with_the_route() {
        let names = [
            "btcusdt@depth",
            "btcusdt@depth@100ms",
            "BTCUSDT@depth",
            "btcusdt@depth5",
            "btcusdt@trade",
            "!depth",
            "@depth",
            "btcusdt@depthx",
            "ethusdt@depth@0ms",
            "btcusdt",
            "btcusdt@@depth",
            "btcusdt@depth@",
            "bTcusdt@depth",
        ];
        for name in names {
            for want in [None, Some("BTCUSDT"), Some("btcusdt"), Some("ÉTH")] {
                let route_says = route::Kind::of_stream(name) == Kind::DiffDepth
                    && want.is_none_or(|w| {
                        route::stream_symbol(name).is_some_and(|ss| route::stream_symbol_is(ss, w))
                    });
                let ours = diff_stream_of(name.as_bytes(), want);
                assert!(!ours || route_says, "{name} {want:?}");
                if want.is_none_or(str::is_ascii) && !name.starts_with('!') {
                    assert_eq!(ours, route_says, "{name} {want:?}");
                }
            }
        }
    }

    #[test]
    fn the_reference_pushes_take_the_one_pass_reader() {
        let spot = r#"{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["99.75","10"]],"a":[["102","100"]]}"#;
        let mut b = book(SeqRule::BinanceSpot, 156, 0);
        assert_eq!(
            apply(spot.as_bytes(), &mut b, Some("BNBBTC")),
            Some(Status::Applied)
        );
        assert!(b.bids().iter().any(|l| l == (d("99.75"), d("10"))));
        assert_eq!(b.sequence(), 160);
        let fut = r#"{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1672515782136,"T":1672515782134,"s":"BTCUSDT","U":157,"u":160,"pu":149,"b":[["100.50","1.000"]],"a":[["101","0"]]}}"#;
        let mut f = book(SeqRule::BinanceFutures, 158, 0);
        assert_eq!(
            apply(fut.as_bytes(), &mut f, Some("BTCUSDT")),
            Some(Status::Applied)
        );
        assert!(f.bids().iter().any(|l| l == (d("100.5"), d("1"))));
        // Another symbol, a spot book of a futures stream without `pu`, and partial depth
        // are left to the general path.
        assert_eq!(apply(fut.as_bytes(), &mut f.clone(), Some("ETHUSDT")), None);
        let no_pu = fut.replacen(",\"pu\":149", "", 1);
        assert_eq!(apply(no_pu.as_bytes(), &mut f.clone(), None), None);
        let partial = fut.replacen("@depth@0ms", "@depth5", 1);
        assert_eq!(apply(partial.as_bytes(), &mut f, None), None);
    }
}
