//! Rust-only timing of the Gate.io depth hot path (`crate::gate::apply_frame`), to separate the
//! decoder's cost from the Python call overhead measured by `benches/bench_gate.py`.
//!
//! Usage: `cargo bench --no-default-features --bench gate_depth -- FRAMES SNAPSHOT` where
//! FRAMES holds one `spot.order_book_update` frame per line and SNAPSHOT is `[[bids],[asks]]`
//! as written by `bench_gate.py --dump`.

use std::time::Instant;

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

fn snapshot_levels(json: &str) -> (Vec<(Decimal, Decimal)>, Vec<(Decimal, Decimal)>) {
    // The snapshot file is `[[["p","s"],...],[["p","s"],...]]`: every quoted token is a number.
    let toks: Vec<&str> = json.split('"').skip(1).step_by(2).collect();
    let half = json.find("]],").unwrap_or(json.len());
    let mut bids = Vec::new();
    let mut asks = Vec::new();
    let mut pos = 0;
    for pair in toks.chunks(2) {
        pos = json[pos..].find(pair[0]).map_or(pos, |i| pos + i);
        let lv = (
            Decimal::parse(pair[0]).unwrap(),
            Decimal::parse(pair[1]).unwrap(),
        );
        if pos < half {
            bids.push(lv);
        } else {
            asks.push(lv);
        }
    }
    (bids, asks)
}

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let frames_path = args.get(1).map_or("/tmp/gate_frames.txt", String::as_str);
    let snap_path = args.get(2).map_or("/tmp/gate_snap.json", String::as_str);
    let data = std::fs::read(frames_path).expect("frames file");
    let frames: Vec<&[u8]> = data
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let (bids, asks) = snapshot_levels(&std::fs::read_to_string(snap_path).expect("snapshot file"));
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
        assert_eq!(sink as usize >= frames.len(), true);
        best = best.min(ns);
    }
    println!(
        "apply_frame + best: {best:.0} ns/frame over {} frames",
        frames.len()
    );

    // The book's share: the same deltas, decoded beforehand, applied from vectors.
    let decoded: Vec<(u64, u64, Levels)> = frames
        .iter()
        .map(|f| {
            let env = _core::gate::envelope::parse(f).unwrap();
            let mut s = _core::gate::json::Scan::at(f, env.result_pos);
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
            std::hint::black_box(_core::gate::json::validate(f).is_ok());
        }
        best_v = best_v.min(t0.elapsed().as_nanos() as f64 / frames.len() as f64);
    }
    println!("json::validate only: {best_v:.0} ns/frame");
    println!(
        "book apply from vectors: {best_book:.0} ns/frame (decode share {:.0} ns)",
        best - best_book
    );
}
