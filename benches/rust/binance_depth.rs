//! Rust-only timing of the Binance depth hot paths (`binance::apply_frame` for combined-stream
//! JSON, `sbe::apply_sbe_depth` for SBE), split into parts, to separate the decoder's cost
//! from the Python call measured by `benches/bench_binance.py`.
//!
//! Usage: `python benches/bench_binance.py --dump` (writes the stream to
//! `target/binance_bench/`), then `cargo bench --no-default-features --bench binance_depth
//! [-- DIR]`.
//!
//! Rows (best of 25 passes, ns per push):
//! - `json apply_frame + best`: what `binance.apply_depth` runs, into a seeded book;
//! - `json general path`: the same pushes with one space after the opening brace (which the
//!   one-pass reader refuses): the validating wrapper and payload scans;
//! - `json stale replay`: the pushes again to the final book (read and judged, nothing written);
//! - `json levels only`: the level arrays walked and their decimals converted;
//! - `book only`: the same levels, decoded beforehand, applied from vectors;
//! - `sbe apply + best`, `sbe stale replay`: the same for the binary frames.

use std::convert::Infallible;

use _core::binance::{apply_frame, parse, sbe, Body, DepthOutcome};
#[path = "common.rs"]
mod common;

use _core::book::{OrderBook, SeqRule, Status};
use _core::decimal::Decimal;
use common::{best_of, seeded, snapshot_levels};

fn check(r: DepthOutcome) {
    assert!(matches!(
        r,
        DepthOutcome::Book(Status::Applied | Status::Stale)
    ));
}

fn apply_all(book: &mut OrderBook, frames: &[Vec<u8>]) -> usize {
    for f in frames {
        check(apply_frame(f, book, Some("BTCUSDT")).unwrap());
        std::hint::black_box(book.bids().best());
        std::hint::black_box(book.asks().best());
    }
    frames.len()
}

fn apply_all_sbe(book: &mut OrderBook, frames: &[Vec<u8>]) -> usize {
    for f in frames {
        check(sbe::apply_sbe_depth(f, book, Some("BTCUSDT")).unwrap());
        std::hint::black_box(book.bids().best());
        std::hint::black_box(book.asks().best());
    }
    frames.len()
}

fn unhex(line: &str) -> Vec<u8> {
    (0..line.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&line[i..i + 2], 16).expect("hex"))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let dir = args.get(1).map_or("target/binance_bench", String::as_str);
    let path = |name: &str| format!("{dir}/binance_{name}.txt");
    let Ok(data) = std::fs::read(path("frames")) else {
        println!(
            "no {}: run `python benches/bench_binance.py --dump` first",
            path("frames")
        );
        return;
    };
    let frames: Vec<Vec<u8>> = data
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let sbe_frames: Vec<Vec<u8>> = std::fs::read_to_string(path("sbe"))
        .expect("sbe file")
        .lines()
        .filter(|l| !l.is_empty())
        .map(unhex)
        .collect();
    let spaced: Vec<Vec<u8>> = frames
        .iter()
        .map(|f| [&b"{ "[..], &f[1..]].concat())
        .collect();
    let snap = snapshot_levels(&std::fs::read_to_string(path("snapshot")).expect("snapshot"));

    let fast = best_of(|| apply_all(&mut seeded(&snap, SeqRule::BinanceSpot), &frames));
    if std::env::var_os("BINANCE_BENCH_FAST_ONLY").is_some() {
        // For profiling the JSON hot path alone.
        println!("json apply_frame + best: {fast:.0} ns/push");
        return;
    }
    let general = best_of(|| apply_all(&mut seeded(&snap, SeqRule::BinanceSpot), &spaced));
    let mut done = seeded(&snap, SeqRule::BinanceSpot);
    apply_all(&mut done, &frames);
    let mut again = seeded(&snap, SeqRule::BinanceSpot);
    apply_all(&mut again, &spaced);
    let mut bin = seeded(&snap, SeqRule::BinanceSpot);
    apply_all_sbe(&mut bin, &sbe_frames);
    assert_eq!(
        (done.bids().best(), done.asks().best()),
        (again.bids().best(), again.asks().best()),
        "both JSON paths end with the same book"
    );
    assert_eq!(
        (done.bids().best(), done.asks().best()),
        (bin.bids().best(), bin.asks().best()),
        "JSON and SBE end with the same book"
    );
    let stale = best_of(|| apply_all(&mut done, &frames));
    let sbe_fast = best_of(|| apply_all_sbe(&mut seeded(&snap, SeqRule::BinanceSpot), &sbe_frames));
    let sbe_stale = best_of(|| apply_all_sbe(&mut bin, &sbe_frames));

    // Levels decoded beforehand by the general `parse`.
    type Changes = Vec<(bool, Decimal, Decimal)>;
    let decoded: Vec<(u64, u64, Changes)> = frames
        .iter()
        .map(|f| {
            let Body::Depth(d) = parse(f).unwrap().body else {
                panic!("not depth")
            };
            let mut ch: Changes = d.levels.bids.iter().map(|&(p, z)| (true, p, z)).collect();
            ch.extend(d.levels.asks.iter().map(|&(p, z)| (false, p, z)));
            (d.first_id.unwrap(), d.last_id, ch)
        })
        .collect();
    let parse_only = best_of(|| {
        for f in &frames {
            std::hint::black_box(parse(f).unwrap());
        }
        frames.len()
    });
    let book_only = best_of(|| {
        let mut book = seeded(&snap, SeqRule::BinanceSpot);
        for (first, last, ch) in &decoded {
            book.apply_delta::<Infallible>(*first, *last, |w| {
                for &(bid, p, z) in ch {
                    if bid {
                        w.bid(p, z);
                    } else {
                        w.ask(p, z);
                    }
                }
                Ok(())
            })
            .unwrap();
            std::hint::black_box(book.bids().best());
            std::hint::black_box(book.asks().best());
        }
        decoded.len()
    });
    let n = frames.len();
    let bytes = frames.iter().map(Vec::len).sum::<usize>() as f64 / n as f64;
    let levels = decoded.iter().map(|d| d.2.len()).sum::<usize>() as f64 / n as f64;
    println!("{n} pushes, {bytes:.0} bytes and {levels:.1} levels each; ns per push:");
    println!("json apply_frame + best:            {fast:>6.0}");
    println!("json general path (spaced):         {general:>6.0}");
    println!("json stale replay (read + judge):   {stale:>6.0}");
    println!("json parse (owned levels):          {parse_only:>6.0}");
    println!("book only (apply from vectors):     {book_only:>6.0}");
    println!("sbe apply + best:                   {sbe_fast:>6.0}");
    println!("sbe stale replay (decode + judge):  {sbe_stale:>6.0}");
    println!(
        "json = {:.0} read/judge + {book_only:.0} book (remainder {:.0})",
        stale,
        fast - stale - book_only
    );
}
