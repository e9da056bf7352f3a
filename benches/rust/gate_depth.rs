//! Rust-only timing of the Gate.io depth hot path (`crate::gate::apply_frame`), to separate the
//! decoder's cost from the Python call overhead measured by `benches/bench_gate.py`.
//!
//! Usage: `python benches/bench_gate.py --dump` (writes the stream to `target/gate_bench/`),
//! then `cargo bench --no-default-features --bench gate_depth [-- DIR]`.

use std::time::Instant;

use serde::Deserialize;

use _core::book::{OrderBook, SeqRule};
use _core::decimal::Decimal;
use _core::gate::apply_frame;
use _core::gate::depth::{parse_result, DepthChannel, Levels};

fn seeded(bids: &[(Decimal, Decimal)], asks: &[(Decimal, Decimal)]) -> OrderBook {
    let mut book = OrderBook::new(SeqRule::Gate, None);
    book.load_snapshot::<()>(1_000_000, |w| {
        for &(p, s) in bids {
            w.bid(p, s);
        }
        for &(p, s) in asks {
            w.ask(p, s);
        }
        Ok(())
    })
    .unwrap();
    book
}

/// serde baseline: borrowed `&str` fields, the usual "zero-copy" serde_json setup.
#[derive(Deserialize)]
struct SerdeFrame<'a> {
    #[serde(borrow)]
    channel: &'a str,
    #[serde(borrow)]
    result: SerdeDepth<'a>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct SerdeDepth<'a> {
    #[serde(borrow)]
    s: &'a str,
    U: u64,
    u: u64,
    #[serde(borrow)]
    b: Vec<(&'a str, &'a str)>,
    #[serde(borrow)]
    a: Vec<(&'a str, &'a str)>,
}

fn serde_apply(frame: &[u8], book: &mut OrderBook) -> _core::book::Status {
    let f: SerdeFrame<'_> = serde_json::from_slice(frame).expect("serde frame");
    assert!(f.channel.ends_with("order_book_update") && f.result.s == "BTC_USDT");
    let r = f.result;
    book.apply_delta::<()>(r.U, r.u, |w| {
        for (p, s) in &r.b {
            w.bid(Decimal::parse(p).unwrap(), Decimal::parse(s).unwrap());
        }
        for (p, s) in &r.a {
            w.ask(Decimal::parse(p).unwrap(), Decimal::parse(s).unwrap());
        }
        Ok(())
    })
    .unwrap()
}

/// Bid and ask levels of the seed snapshot.
type Snapshot = (Vec<(Decimal, Decimal)>, Vec<(Decimal, Decimal)>);

/// Reads `b PRICE SIZE` / `a PRICE SIZE` lines.
fn snapshot_levels(text: &str) -> Snapshot {
    let (mut bids, mut asks) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let (Some(side), Some(p), Some(s)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        let lv = (
            Decimal::parse(p).expect("price"),
            Decimal::parse(s).expect("size"),
        );
        if side == "b" {
            bids.push(lv);
        } else {
            asks.push(lv);
        }
    }
    (bids, asks)
}

/// Times `gate::parse` on `spot.trades` and `spot.book_ticker` frames (the typed-event path,
/// without Python), one-pass reader and general path.
fn trade_parse() {
    let trade = br#"{"time":1727000012,"time_ms":1727000012090,"channel":"spot.trades","event":"update","result":{"id":9834412201,"id_market":512993347,"create_time":1727000012,"create_time_ms":"1727000012085.3310","side":"buy","currency_pair":"BTC_USDT","amount":"0.0153","price":"63251.1","range":"512993347-512993347"}}"#;
    let ticker = br#"{"time":1727000012,"time_ms":1727000012034,"channel":"spot.book_ticker","event":"update","result":{"t":1727000012030,"u":41886412,"s":"BTC_USDT","b":"63251.0","B":"0.2210","a":"63251.1","A":"1.0345"}}"#;
    type ParseFn = fn(&[u8]) -> Result<_core::gate::Message, _core::gate::GateError>;
    // The floor for any validating reader: one pass of the JSON validator over the frame.
    let mut best_v = f64::MAX;
    for _ in 0..25 {
        let t0 = Instant::now();
        for _ in 0..20_000 {
            std::hint::black_box(_core::json::validate(std::hint::black_box(trade)).is_ok());
        }
        best_v = best_v.min(t0.elapsed().as_nanos() as f64 / 20_000.0);
    }
    println!("json::validate spot.trades: {best_v:.0} ns/frame");
    let cases: [(&str, &[u8], ParseFn); 4] = [
        ("gate::parse spot.trades", trade, _core::gate::parse),
        (
            "general path spot.trades",
            trade,
            _core::gate::message::parse_checked,
        ),
        ("gate::parse spot.book_ticker", ticker, _core::gate::parse),
        (
            "general path spot.book_ticker",
            ticker,
            _core::gate::message::parse_checked,
        ),
    ];
    let only = std::env::var("GATE_BENCH_CASE").ok();
    for (name, frame, parse) in cases {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let mut best_t = f64::MAX;
        for _ in 0..25 {
            let t0 = Instant::now();
            for _ in 0..20_000 {
                std::hint::black_box(parse(std::hint::black_box(frame)).is_ok());
            }
            best_t = best_t.min(t0.elapsed().as_nanos() as f64 / 20_000.0);
        }
        println!("{name}: {best_t:.0} ns/frame");
    }
}

fn main() {
    if std::env::var_os("GATE_BENCH_TRADE_ONLY").is_some() {
        trade_parse();
        return;
    }
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let dir = args.get(1).map_or("target/gate_bench", String::as_str);
    let (frames_path, snap_path) = (
        format!("{dir}/gate_frames.txt"),
        format!("{dir}/gate_snapshot.txt"),
    );
    let Ok(data) = std::fs::read(&frames_path) else {
        println!("no {frames_path}: run `python benches/bench_gate.py --dump` first");
        return;
    };
    let frames: Vec<&[u8]> = data
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let (bids, asks) =
        snapshot_levels(&std::fs::read_to_string(&snap_path).expect("snapshot file"));
    let mut best = f64::MAX;
    for _ in 0..25 {
        let mut book = seeded(&bids, &asks);
        let t0 = Instant::now();
        let mut sink = 0u64;
        for f in &frames {
            let r = apply_frame(f, &mut book, Some("BTC_USDT")).unwrap();
            sink += u64::from(matches!(
                r,
                _core::gate::DepthOutcome::Book(_core::book::Status::Applied)
            ));
            sink += book.bids().best().map_or(0, |b| b.0.raw() as u64 & 1);
        }
        let ns = t0.elapsed().as_nanos() as f64 / frames.len() as f64;
        assert!(sink as usize >= frames.len());
        best = best.min(ns);
    }
    println!(
        "apply_frame + best: {best:.0} ns/frame over {} frames",
        frames.len()
    );
    let mut best_serde = f64::MAX;
    for _ in 0..25 {
        let mut book = seeded(&bids, &asks);
        let t0 = Instant::now();
        for f in &frames {
            std::hint::black_box(serde_apply(f, &mut book));
            std::hint::black_box(book.bids().best());
        }
        best_serde = best_serde.min(t0.elapsed().as_nanos() as f64 / frames.len() as f64);
    }
    println!("serde_json borrowed structs + apply + best: {best_serde:.0} ns/frame");
    if std::env::var_os("GATE_BENCH_APPLY_ONLY").is_some() {
        // For profiling the hot path alone.
        return;
    }

    // The book's share: the same deltas, decoded beforehand, applied from vectors.
    let decoded: Vec<(u64, u64, Levels)> = frames
        .iter()
        .map(|f| {
            let env = _core::gate::envelope::parse(f).unwrap();
            let mut s = _core::json::Scan::at(f, env.result_pos);
            let u = parse_result(&mut s, DepthChannel::Update).unwrap();
            (u.first_id.unwrap(), u.last_id, u.levels)
        })
        .collect();
    let mut best_book = f64::MAX;
    for _ in 0..25 {
        let mut book = seeded(&bids, &asks);
        let t0 = Instant::now();
        for (first, last, lv) in &decoded {
            book.apply_delta::<()>(*first, *last, |w| {
                for &(p, s) in &lv.bids {
                    w.bid(p, s);
                }
                for &(p, s) in &lv.asks {
                    w.ask(p, s);
                }
                Ok(())
            })
            .unwrap();
            std::hint::black_box(book.bids().best());
        }
        best_book = best_book.min(t0.elapsed().as_nanos() as f64 / frames.len() as f64);
    }
    let mut best_v = f64::MAX;
    for _ in 0..25 {
        let t0 = Instant::now();
        for f in &frames {
            std::hint::black_box(_core::json::validate(f).is_ok());
        }
        best_v = best_v.min(t0.elapsed().as_nanos() as f64 / frames.len() as f64);
    }
    println!("json::validate only: {best_v:.0} ns/frame");
    trade_parse();
    println!(
        "book apply from vectors: {best_book:.0} ns/frame (decode share {:.0} ns)",
        best - best_book
    );
}
