//! The one-pass `order_book_update` reader against the general path: thousands of seeded
//! pushes, a third of them respelled, on several book states.

use super::*;
use crate::book::testkit::{d, seeded, state, Rng};
use crate::book::SeqRule;
use crate::gate::depth::{apply_checked, apply_frame};

/// A book at `id`, in one of the states a stream meets: fresh snapshot, synced, out of sync,
/// empty.
fn book(id: u64, state: u64) -> OrderBook {
    if state == 3 {
        return OrderBook::new(SeqRule::Gate, Some(50));
    }
    let mut b = seeded(SeqRule::Gate, id);
    match state {
        1 => {
            b.apply_delta::<Infallible>(id, id + 1, |_| Ok(())).unwrap();
        }
        2 => b.mark_out_of_sync(),
        _ => {}
    }
    b
}

/// The one-pass reader and the general path agree on the outcome (or error) and the book;
/// true when the one-pass reader took the frame.
fn agree(frame: &str, b: &OrderBook, want: Option<&str>, verdicts: &mut Vec<String>) -> bool {
    let (mut one, mut general) = (b.clone(), b.clone());
    let took = apply(frame.as_bytes(), &mut b.clone(), want);
    if let Some(st) = took {
        let v = format!("{st:?}");
        if !verdicts.contains(&v) {
            verdicts.push(v);
        }
    }
    let took = took.is_some();
    let r1 = apply_frame(frame.as_bytes(), &mut one, want);
    let r2 = apply_checked(frame.as_bytes(), &mut general, want);
    assert_eq!(format!("{r1:?}"), format!("{r2:?}"), "{frame}");
    assert_eq!(state(&one), state(&general), "{frame}");
    took
}

const PRICES: [&str; 8] = [
    "100", "99.5", "101", "101.5", "97.25", "102.125", "100.0", "0.00001",
];

fn side(r: &mut Rng, futures: bool) -> String {
    let sizes = ["0", "1", "0.5", "2.25", "0.00000001", "10"];
    let n = r.below(5);
    let out: Vec<String> = (0..n)
        .map(|_| {
            let p = r.pick(&PRICES);
            if futures {
                if r.below(2) == 0 {
                    format!(r#"{{"p":"{p}","s":{}}}"#, r.below(40))
                } else {
                    format!(r#"{{"p":"{p}","s":"{}"}}"#, r.pick(&sizes))
                }
            } else {
                format!(r#"["{p}","{}"]"#, r.pick(&sizes))
            }
        })
        .collect();
    out.join(",")
}

/// A push as Gate writes it around the book's id `id` (stale, bridging, next, gap).
fn frame(r: &mut Rng, id: u64, futures: bool) -> String {
    let first = id + 2 - r.below(4).min(id + 2);
    let last = first + r.below(3);
    let sym = r.pick(&["BTC_USDT", "BTC_USDT", "ETH_USDT"]);
    let (b, a) = (side(r, futures), side(r, futures));
    let full = match r.below(8) {
        0 => r#""full":true,"#,
        1 => r#""full":false,"#,
        _ => "",
    };
    let result = if futures {
        format!(
            r#"{{"t":1727000006101,{full}"s":"{sym}","U":{first},"u":{last},"b":[{b}],"a":[{a}],"l":"100"}}"#
        )
    } else {
        let l = if r.below(2) == 0 { r#""l":"100","# } else { "" };
        format!(
            r#"{{"t":1727000006101,{full}{l}"e":"depthUpdate","E":1727000006,"s":"{sym}","U":{first},"u":{last},"b":[{b}],"a":[{a}]}}"#
        )
    };
    let channel = if futures {
        "futures.order_book_update"
    } else {
        "spot.order_book_update"
    };
    format!(
        r#"{{"time":1727000006,"time_ms":1727000006118,"channel":"{channel}","event":"update","result":{result}}}"#
    )
}

/// Respellings the general path reads (or refuses) and the one-pass reader must hand over.
fn mutate(r: &mut Rng, f: &str) -> String {
    let b = f.as_bytes();
    match r.below(20) {
        0 => {
            // Whitespace after a random structural byte.
            let at: Vec<usize> = (0..b.len())
                .filter(|&i| matches!(b[i], b'{' | b',' | b':' | b'['))
                .collect();
            let i = at[r.below(at.len() as u64) as usize] + 1;
            let ws = r.pick(&[" ", "\n", "\t", "\r\n "]);
            format!("{}{ws}{}", &f[..i], &f[i..])
        }
        // Key order: the symbol after the levels, the ids after the levels, `full` late.
        1 => {
            f.replacen(r#""s":"#, r#""x":"#, 1)
                .replacen(r#"]],"a""#, r#"]],"s":"BTC_USDT","a""#, 1)
        }
        2 => {
            let (head, tail) = f.split_once(r#","b":"#).unwrap_or((f, ""));
            if tail.is_empty() {
                return f.to_string();
            }
            let ids_at = head.find(r#","U":"#).unwrap_or(head.len());
            let ids = &head[ids_at..];
            let body = tail.trim_end_matches("}}");
            format!("{},\"b\":{body}{ids}}}}}", &head[..ids_at])
        }
        3 => f.replacen(r#""b":"#, r#""full":true,"b":"#, 1).replacen(
            r#""full":true,"b":"#,
            r#""b":"#,
            usize::from(r.below(2) == 0),
        ),
        4 => f.replacen(r#"}}"#, r#","full":true}}"#, 1),
        // Escapes.
        5 => f.replacen("BTC_USDT", "BTC\\u005fUSDT", 1),
        6 => f.replacen(r#""U":"#, r#""\u0055":"#, 1),
        7 => f.replacen("spot.order", "spot.\\u006frder", 1),
        // Duplicate keys, in the envelope and the result.
        8 => f.replacen(r#""U":"#, r#""U":1,"U":"#, 1),
        9 => f.replacen(
            r#""event":"update""#,
            r#""event":"update","event":"update""#,
            1,
        ),
        10 => f.replacen(r#""s":"#, r#""contract":"BTC_USDT","s":"#, 1),
        // Truncation and corruption.
        11 => f[..r.below(b.len() as u64) as usize].to_string(),
        12 => {
            let i = r.below(b.len() as u64) as usize;
            let c = r.pick(&["\"", "x", "]", "0", ".", "-", "e5", "}", "null"]);
            format!("{}{c}{}", &f[..i], &f[i + 1..])
        }
        13 => format!("{f} "),
        // Other channels and envelopes.
        14 => f.replacen(
            "order_book_update",
            r.pick(&["obu", "order_book", "trades", "book_ticker"]),
            1,
        ),
        15 => f.replacen(
            r#""event":"update""#,
            r.pick(&[
                r#""event":"all""#,
                r#""event":"subscribe""#,
                r#""error":null,"event":"update""#,
                r#""id":7,"event":"update""#,
            ]),
            1,
        ),
        16 => f.replacen(r#"}}"#, r#"},"error":{"code":1,"message":"x"}}"#, 1),
        // Missing ids, wrong types, null sides, extra level elements, status keys.
        17 => f.replacen(r#""U":"#, r#""V":"#, 1).replacen(
            r#","u":"#,
            r.pick(&[r#","u":-"#, r#","u":"1"#, r#","w":"#]),
            1,
        ),
        18 => f.replacen(
            r#""a":[]"#,
            r.pick(&[r#""a":null"#, r#""a":{}"#, r#""status":"success""#]),
            1,
        ),
        _ => f
            .replacen(r#""]"#, r#"","1"]"#, 1)
            .replacen(r#""t":1727000006101"#, r#""t":-1"#, 1),
    }
}

#[test]
fn the_one_pass_reader_agrees_with_the_general_path() {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut took, mut cases) = (0, 0);
    let mut verdicts = Vec::new();
    for i in 0..6_000 {
        let futures = i % 3 == 2;
        let id = 1_000 + r.below(5);
        let f = frame(&mut r, id, futures);
        let f = if r.below(3) == 0 {
            mutate(&mut r, &f)
        } else {
            f
        };
        let st = r.below(4);
        for want in [Some("BTC_USDT"), None, Some("ETH_USDT")] {
            took += usize::from(agree(&f, &book(id, st), want, &mut verdicts));
            cases += 1;
        }
    }
    assert!(
        took > cases / 3,
        "the one-pass reader took {took} of {cases}"
    );
    // The one-pass reader met every verdict a stream produces.
    for v in ["Applied", "Stale", "Gap", "Crossed"] {
        assert!(verdicts.iter().any(|x| x == v), "{v} not met: {verdicts:?}");
    }
}

#[test]
fn the_reference_pushes_take_the_one_pass_reader() {
    // gateio.md §3.5 example, as the local server writes it (`l` before `e`).
    let spot = r#"{"time":1727000006,"time_ms":1727000006118,"channel":"spot.order_book_update","event":"update","result":{"t":1727000006101,"l":"100","e":"depthUpdate","E":1727000006,"s":"BTC_USDT","U":1001,"u":1003,"b":[["100.5","0.41230"],["99.5","0"]],"a":[["100.9","0.00870"]]}}"#;
    let mut b = book(1_000, 0);
    assert_eq!(
        apply(spot.as_bytes(), &mut b, Some("BTC_USDT")),
        Some(Status::Applied)
    );
    assert_eq!(b.sequence(), 1_003);
    assert_eq!(b.bids().best(), Some((d("100.5"), d("0.4123"))));
    assert!(!b.bids().iter().any(|(p, _)| p == d("99.5")));
    assert_eq!(b.asks().best(), Some((d("100.9"), d("0.0087"))));
    // Replayed: stale, the book left alone.
    assert_eq!(
        apply(spot.as_bytes(), &mut b, Some("BTC_USDT")),
        Some(Status::Stale)
    );
    // Another pair, the general path's job.
    assert_eq!(apply(spot.as_bytes(), &mut b, Some("ETH_USDT")), None);
    // Futures, `l` last, integer sizes; a `full: true` snapshot replaces the book.
    let fut = r#"{"time":1727000007,"time_ms":1727000007000,"channel":"futures.order_book_update","event":"update","result":{"t":1727000006999,"full":true,"s":"BTC_USDT","U":1,"u":2000,"b":[{"p":"63240.1","s":1520}],"a":[{"p":"63240.5","s":"0.5"}],"l":"100"}}"#;
    assert_eq!(
        apply(fut.as_bytes(), &mut b, Some("BTC_USDT")),
        Some(Status::Applied)
    );
    assert_eq!(b.sequence(), 2_000);
    assert_eq!(
        b.bids().iter().collect::<Vec<_>>(),
        [(d("63240.1"), d("1520"))]
    );
    assert_eq!(
        b.asks().iter().collect::<Vec<_>>(),
        [(d("63240.5"), d("0.5"))]
    );
}
