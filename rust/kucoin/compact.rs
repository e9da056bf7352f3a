//! One pass over a level2 push written the way KuCoin writes it (`kucoin.md` §12): no
//! whitespace, plain decimals, bare integer ids, the envelope keys `topic`/`type`/`subject`
//! (and futures `sn`) before `data`, and `data` keys in KuCoin's order
//! (`changes{asks,bids}`, `sequenceEnd`, `sequenceStart`, `symbol`, `time` on spot;
//! `sequence`, `change`, `timestamp` on futures).
//!
//! The general path ([`super::envelope`], [`super::depth`]) validates the whole frame, then
//! locates `data`'s ids by structure, then reads the entries: three walks over the changes,
//! because the spot ids come after them. Here the entries are converted as they are found
//! (the grammar accepted is valid JSON by construction), the ones the book will take are kept
//! in a reused buffer, and the push is judged and applied once its ids are read. Anything
//! else, including pushes for another symbol or the other market's book, returns `None`
//! before the book is touched, and the caller takes the general path, so results (and errors)
//! are exactly the general path's.

use std::cell::RefCell;
use std::convert::Infallible;

use super::depth::compact_entry;
use crate::book::{OrderBook, SeqRule, Status};
use crate::decimal::Decimal;
use crate::gate::value::scan_plain_decimal;
use crate::json::compact::{lit, plain_str, uint};

thread_local! {
    /// The entries of the push being read that the book will take: (bid, price, size).
    static TAKEN: RefCell<Vec<(bool, Decimal, Decimal)>> = const { RefCell::new(Vec::new()) };
}

/// The envelope up to and including `"data":`: the topic's contents and the index of the
/// `data` value. Keys before `data` may come in any order, each at most once.
fn envelope(b: &[u8]) -> Option<(&[u8], usize)> {
    let mut i = lit(b, 0, b"{")?;
    let (mut topic, mut typed, mut subject, mut sn) = (None, false, false, false);
    loop {
        if let Some(j) = lit(b, i, b"\"data\":") {
            return (typed && topic.is_some()).then(|| (topic.unwrap_or_default(), j));
        }
        if let Some(j) = lit(b, i, b"\"topic\":\"") {
            if topic.is_some() {
                return None;
            }
            let (t, j) = plain_str(b, j)?;
            topic = Some(t);
            i = j;
        } else if let Some(j) = lit(b, i, b"\"type\":\"message\"") {
            if typed {
                return None;
            }
            typed = true;
            i = j;
        } else if let Some(j) = lit(b, i, b"\"subject\":\"") {
            if subject {
                return None;
            }
            subject = true;
            i = plain_str(b, j)?.1;
        } else if let Some(j) = lit(b, i, b"\"sn\":") {
            if sn {
                return None;
            }
            sn = true;
            i = uint(b, j)?.1;
        } else {
            return None;
        }
        i = lit(b, i, b",")?;
    }
}

/// Applies a compact spot or futures level2 push to `book`; `None` (book untouched) when the
/// frame is not one, is for another symbol than `want`, or the book follows the other
/// market's rule: the caller then takes the general path.
#[inline]
pub fn apply(frame: &[u8], book: &mut OrderBook, want: Option<&str>) -> Option<Status> {
    let (topic, data) = envelope(frame)?;
    let (market, symbol) = topic.split_at(topic.iter().position(|&c| c == b':')? + 1);
    if want.is_some_and(|w| w.as_bytes() != symbol) {
        return None;
    }
    match (market, book.rule()) {
        (b"/market/level2:", SeqRule::KucoinSpot) => spot(frame, data, book, want),
        (b"/contractMarket/level2:", SeqRule::KucoinFutures) => futures(frame, data, book),
        _ => None,
    }
}

/// `{"changes":{"asks":[..],"bids":[..]},"sequenceEnd":N,"sequenceStart":N,"symbol":"..",
/// "time":N}}` at `i`; entries up to the book's id and price-zero entries are skipped
/// (`kucoin.md` §4.1 step 4).
fn spot(b: &[u8], i: usize, book: &mut OrderBook, want: Option<&str>) -> Option<Status> {
    let after = book.sequence();
    TAKEN.with(|cell| {
        let mut taken = cell.try_borrow_mut().ok()?;
        taken.clear();
        let mut i = lit(b, i, b"{\"changes\":{\"asks\":")?;
        i = entries(b, i, false, after, &mut taken)?;
        i = lit(b, i, b",\"bids\":")?;
        i = entries(b, i, true, after, &mut taken)?;
        let (last, i) = uint(b, lit(b, i, b"},\"sequenceEnd\":")?)?;
        let (first, i) = uint(b, lit(b, i, b",\"sequenceStart\":")?)?;
        let (symbol, i) = plain_str(b, lit(b, i, b",\"symbol\":\"")?)?;
        if want.is_some_and(|w| w.as_bytes() != symbol) {
            return None;
        }
        let (_time, i) = uint(b, lit(b, i, b",\"time\":")?)?;
        if lit(b, i, b"}}")? != b.len() {
            return None;
        }
        let st = book.apply_delta(first, last, |w| {
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

/// One side's `[[price, size, sequence], ...]` at `i`: the entries newer than `after` with a
/// non-zero price go to `taken`. Returns the index after the array.
#[inline(always)]
fn entries(
    b: &[u8],
    i: usize,
    bid: bool,
    after: u64,
    taken: &mut Vec<(bool, Decimal, Decimal)>,
) -> Option<usize> {
    let mut i = lit(b, i, b"[")?;
    if let Some(j) = lit(b, i, b"]") {
        return Some(j);
    }
    loop {
        let (p, z, q, end) = compact_entry(b, i)?;
        if q > after && !p.is_zero() {
            taken.push((bid, p, z));
        }
        match b.get(end) {
            Some(b',') => i = end + 1,
            Some(b']') => return Some(end + 1),
            _ => return None,
        }
    }
}

/// `{"sequence":N,"change":"price,side,size","timestamp":N}}` at `i`; a price-zero change
/// is ignored (as on spot).
fn futures(b: &[u8], i: usize, book: &mut OrderBook) -> Option<Status> {
    let (seq, i) = uint(b, lit(b, i, b"{\"sequence\":")?)?;
    let (p, i) = scan_plain_decimal(b, lit(b, i, b",\"change\":\"")?)?;
    let (bid, i) = if let Some(j) = lit(b, i, b",buy,") {
        (true, j)
    } else {
        (false, lit(b, i, b",sell,")?)
    };
    let (z, i) = scan_plain_decimal(b, i)?;
    let (_stamp, i) = uint(b, lit(b, i, b"\",\"timestamp\":")?)?;
    if lit(b, i, b"}}")? != b.len() {
        return None;
    }
    let st = book.apply_delta(seq, seq, |w| {
        if !p.is_zero() {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::testkit::{d, seeded, state, Rng};
    use crate::kucoin::apply_checked;

    /// A book at `id`, in one of the states a stream meets: fresh snapshot, synced, out of
    /// sync, empty.
    fn book(rule: SeqRule, id: u64, state: u64) -> OrderBook {
        if state == 3 {
            return OrderBook::new(rule, Some(50));
        }
        let mut b = seeded(rule, id);
        match state {
            1 => {
                let next = id + 1;
                b.apply_delta::<Infallible>(next, next, |_| Ok(())).unwrap();
            }
            2 => b.mark_out_of_sync(),
            _ => {}
        }
        b
    }

    /// The one-pass reader and the general path agree on the outcome and the book.
    fn agree(frame: &str, b: &OrderBook, want: Option<&str>) -> bool {
        let (mut one, mut general) = (b.clone(), b.clone());
        let took = apply(frame.as_bytes(), &mut b.clone(), want).is_some();
        let r1 = super::super::apply_frame(frame.as_bytes(), &mut one, want);
        let r2 = apply_checked(frame.as_bytes(), &mut general, want);
        assert_eq!(format!("{r1:?}"), format!("{r2:?}"), "{frame}");
        assert_eq!(state(&one), state(&general), "{frame}");
        took
    }

    fn spot_frame(r: &mut Rng, id: u64) -> String {
        let prices = [
            "100", "99.5", "101", "101.5", "0", "97.25", "102.125", "100.0",
        ];
        let sizes = ["0", "1", "0.5", "2.25", "0.00000001", "10"];
        let start = id + 1 - r.below(3).min(id);
        let mut seq = start;
        let mut side = |r: &mut Rng| {
            let n = r.below(4);
            let mut out = Vec::new();
            for _ in 0..n {
                let q = seq.saturating_sub(r.below(2) * 2);
                seq += 1;
                out.push(format!(
                    r#"["{}","{}","{q}"]"#,
                    r.pick(&prices),
                    r.pick(&sizes)
                ));
            }
            out.join(",")
        };
        let (asks, bids) = (side(r), side(r));
        let end = (seq - 1).max(start) + r.below(2);
        let start = start + r.below(3) / 2;
        let sym = r.pick(&["BTC-USDT", "BTC-USDT", "ETH-USDT"]);
        let data_sym = if r.below(8) == 0 { "ETH-USDT" } else { sym };
        format!(
            r#"{{"topic":"/market/level2:{sym}","type":"message","subject":"trade.l2update","data":{{"changes":{{"asks":[{asks}],"bids":[{bids}]}},"sequenceEnd":{end},"sequenceStart":{start},"symbol":"{data_sym}","time":1729816425625}}}}"#
        )
    }

    fn futures_frame(r: &mut Rng, id: u64) -> String {
        let seq = id + r.below(3);
        let price = r.pick(&["90631.2", "0", "100", "99.5", "101"]);
        let side = r.pick(&["buy", "sell"]);
        let size = r.pick(&["0", "2", "1.5"]);
        let sym = r.pick(&["XBTUSDTM", "XBTUSDTM", "ETHUSDTM"]);
        format!(
            r#"{{"topic":"/contractMarket/level2:{sym}","type":"message","subject":"level2","sn":{seq},"data":{{"sequence":{seq},"change":"{price},{side},{size}","timestamp":1731897467182}}}}"#
        )
    }

    /// Respellings the general path reads (or refuses) and the one-pass reader must hand over.
    fn mutate(r: &mut Rng, f: &str) -> String {
        let b = f.as_bytes();
        match r.below(12) {
            0 => {
                // Whitespace after a random structural byte.
                let at: Vec<usize> = (0..b.len())
                    .filter(|&i| matches!(b[i], b'{' | b',' | b':' | b'['))
                    .collect();
                let i = at[r.below(at.len() as u64) as usize] + 1;
                format!("{} {}", &f[..i], &f[i..])
            }
            1 => f.replacen(r#""type":"message","#, "", 1).replacen(
                r#""subject""#,
                r#""type":"message","subject""#,
                1,
            ),
            2 => f.replacen(
                r#"","type":"message""#,
                r#"","type":"message","type":"message""#,
                1,
            ),
            3 => f.replacen(r#""sequenceEnd":"#, r#""sequenceEnd":0"#, 1),
            4 => f.replacen("-USDT", "\\u002dUSDT", 1),
            5 => format!("{f} "),
            6 => f[..r.below(b.len() as u64) as usize].to_string(),
            7 => {
                let i = r.below(b.len() as u64) as usize;
                let c = r.pick(&["\"", "x", "]", "0", ".", "-", "e5"]);
                format!("{}{c}{}", &f[..i], &f[i + 1..])
            }
            8 => f
                .replacen(r#""time":"#, r#""time":"17"#, 1)
                .replacen("}}", "\"}}", 1),
            9 => f.replacen("\"data\"", "\"extra\":1,\"data\"", 1),
            10 => f.replacen(r#""symbol""#, r#""symbol":"x","symbol""#, 1),
            _ => f.replacen(r#""asks":[]"#, r#""asks":null"#, 1),
        }
    }

    #[test]
    fn the_one_pass_reader_agrees_with_the_general_path() {
        let mut r = Rng(0x2545_F491_4F6C_DD1D);
        let (mut took, mut cases) = (0, 0);
        for i in 0..4_000 {
            let futures = i % 4 == 3;
            let id = 1_000 + r.below(5);
            let (rule, want) = if futures {
                (SeqRule::KucoinFutures, ["XBTUSDTM"])
            } else {
                (SeqRule::KucoinSpot, ["BTC-USDT"])
            };
            let frame = if futures {
                futures_frame(&mut r, id)
            } else {
                spot_frame(&mut r, id)
            };
            let frame = if r.below(3) == 0 {
                mutate(&mut r, &frame)
            } else {
                frame
            };
            let st = r.below(4);
            // The other market's book, and a book with no symbol, too.
            let other = if futures {
                SeqRule::KucoinSpot
            } else {
                SeqRule::KucoinFutures
            };
            for (rule, want) in [(rule, Some(want[0])), (rule, None), (other, Some(want[0]))] {
                took += usize::from(agree(&frame, &book(rule, id, st), want));
                cases += 1;
            }
        }
        assert!(
            took > cases / 3,
            "the one-pass reader took {took} of {cases}"
        );
    }

    #[test]
    fn the_reference_push_takes_the_one_pass_reader() {
        let spot = r#"{"topic":"/market/level2:BTC-USDT","type":"message","subject":"trade.l2update","data":{"changes":{"asks":[["67993.3","1.21427407","14701689783"]],"bids":[]},"sequenceEnd":14701689783,"sequenceStart":14701689783,"symbol":"BTC-USDT","time":1729816425625}}"#;
        let mut b = book(SeqRule::KucoinSpot, 14_701_689_782, 0);
        assert_eq!(
            apply(spot.as_bytes(), &mut b, Some("BTC-USDT")),
            Some(Status::Applied)
        );
        assert!(b
            .asks()
            .iter()
            .any(|l| l == (d("67993.3"), d("1.21427407"))));
        let fut = r#"{"topic":"/contractMarket/level2:XBTUSDTM","type":"message","subject":"level2","sn":1709400450243,"data":{"sequence":1709400450243,"change":"90631.2,sell,2","timestamp":1731897467182}}"#;
        let mut b = book(SeqRule::KucoinFutures, 1_709_400_450_242, 0);
        assert_eq!(
            apply(fut.as_bytes(), &mut b, Some("XBTUSDTM")),
            Some(Status::Applied)
        );
        assert!(b.asks().iter().any(|l| l == (d("90631.2"), d("2"))));
        // The other market's book and another symbol are left to the general path.
        assert_eq!(
            apply(fut.as_bytes(), &mut b.clone(), Some("ETHUSDTM")),
            None
        );
        assert_eq!(apply(spot.as_bytes(), &mut b, None), None);
    }

    /// The futures change's numbers read here are the general path's `Decimal::parse_bytes`.
    #[test]
    fn plain_decimals_agree_with_the_decimal_parser() {
        for s in [
            "0",
            "00.5",
            "90631.2",
            "9999999999999999999",
            "0.000000000000000001",
            "1.000000000000000000",
            "123456789.0123456789",
        ] {
            let b = s.as_bytes();
            match scan_plain_decimal(b, 0) {
                Some((v, end)) if end == b.len() => {
                    assert_eq!(Decimal::parse_bytes(b).ok(), Some(v), "{s}");
                }
                _ => {}
            }
        }
    }
}
