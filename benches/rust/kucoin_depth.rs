//! Rust-only timing of the KuCoin spot level2 hot path (`kucoin::apply_frame`), split into its
//! parts, to separate the decoder's cost from the Python call measured by
//! `benches/bench_kucoin.py`.
//!
//! Usage: `python benches/bench_kucoin.py --dump` (writes the stream to `target/kucoin_bench/`),
//! then `cargo bench --no-default-features --bench kucoin_depth [-- DIR]`.
//!
//! Rows (best of 25 passes, ns per push):
//! - `apply_frame + best`: the one-pass reader of compact pushes, into a seeded book;
//! - `general path`: the same pushes with one space after the opening brace, which the
//!   one-pass reader refuses: the validating envelope scan, `data` located by structure, then
//!   the entries (what every push cost before the one-pass reader);
//! - `stale replay`: the pushes again to the final book (read and judged, nothing written);
//! - `entries only`: the `[price, size, sequence]` arrays walked and their decimals converted;
//! - `book only`: the same changes, decoded beforehand, applied from vectors.

use std::convert::Infallible;

#[path = "common.rs"]
mod common;

use _core::book::{OrderBook, SeqRule, Status};
use _core::decimal::Decimal;
use _core::kucoin::{apply_frame, depth, parse, DepthOutcome};
use common::{best_of, seeded, snapshot_levels};

fn apply_all(book: &mut OrderBook, frames: &[Vec<u8>]) -> usize {
    for f in frames {
        let r = apply_frame(f, book, Some("BTC-USDT")).unwrap();
        assert!(matches!(
            r,
            DepthOutcome::Book(Status::Applied | Status::Stale)
        ));
        std::hint::black_box(book.bids().best());
        std::hint::black_box(book.asks().best());
    }
    frames.len()
}

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let dir = args.get(1).map_or("target/kucoin_bench", String::as_str);
    let (frames_path, snap_path) = (
        format!("{dir}/kucoin_frames.txt"),
        format!("{dir}/kucoin_snapshot.txt"),
    );
    let Ok(data) = std::fs::read(&frames_path) else {
        println!("no {frames_path}: run `python benches/bench_kucoin.py --dump` first");
        return;
    };
    let frames: Vec<Vec<u8>> = data
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let spaced: Vec<Vec<u8>> = frames
        .iter()
        .map(|f| [&b"{ "[..], &f[1..]].concat())
        .collect();
    let snap = snapshot_levels(&std::fs::read_to_string(&snap_path).expect("snapshot file"));

    let fast = best_of(|| apply_all(&mut seeded(&snap, SeqRule::KucoinSpot), &frames));
    if std::env::var_os("KUCOIN_BENCH_FAST_ONLY").is_some() {
        // For profiling the one-pass reader alone.
        println!("apply_frame + best (one pass): {fast:.0} ns/push");
        return;
    }
    let general = best_of(|| apply_all(&mut seeded(&snap, SeqRule::KucoinSpot), &spaced));
    let mut done = seeded(&snap, SeqRule::KucoinSpot);
    apply_all(&mut done, &frames);
    let mut again = seeded(&snap, SeqRule::KucoinSpot);
    apply_all(&mut again, &spaced);
    assert_eq!(
        (done.bids().best(), done.asks().best()),
        (again.bids().best(), again.asks().best()),
        "both paths end with the same book"
    );
    let stale = best_of(|| apply_all(&mut done, &frames));

    // Entries and ids, decoded beforehand by the general `parse`.
    let heads: Vec<_> = frames
        .iter()
        .map(|f| parse(f).unwrap().depth.unwrap())
        .collect();
    let entries = best_of(|| {
        let mut sink = 0u64;
        for (f, h) in frames.iter().zip(&heads) {
            for (at, side) in [(h.asks, "asks"), (h.bids, "bids")] {
                if let Some(pos) = at {
                    depth::read_entries(f, pos, side, |p, z, q| {
                        sink ^= (p.raw() ^ z.raw()) as u64 ^ q;
                    })
                    .unwrap();
                }
            }
        }
        std::hint::black_box(sink);
        frames.len()
    });
    type Changes = Vec<(bool, Decimal, Decimal)>;
    let decoded: Vec<(u64, u64, Changes)> = frames
        .iter()
        .zip(&heads)
        .map(|(f, h)| {
            let mut ch = Vec::new();
            for (bid, at, side) in [(false, h.asks, "asks"), (true, h.bids, "bids")] {
                if let Some(pos) = at {
                    depth::read_entries(f, pos, side, |p, z, _| ch.push((bid, p, z))).unwrap();
                }
            }
            (h.first.unwrap(), h.last, ch)
        })
        .collect();
    let book_only = best_of(|| {
        let mut book = seeded(&snap, SeqRule::KucoinSpot);
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
    println!("{n} pushes, {bytes:.0} bytes and {levels:.1} entries each; ns per push:");
    println!("apply_frame + best (one pass):      {fast:>6.0}");
    println!("apply_frame + best (general path):  {general:>6.0}");
    println!("stale replay (read + judge):        {stale:>6.0}");
    println!("entries only (walk + decimals):     {entries:>6.0}");
    println!("book only (apply from vectors):     {book_only:>6.0}");
    println!(
        "one pass = {:.0} envelope/ids/judge + {entries:.0} entries + {book_only:.0} book \
         (remainder {:.0})",
        stale - entries,
        fast - stale - book_only
    );
}
