//! Rust-only timing of the two halves of a depth level's cost: the decimal conversion of its
//! price and size, and the write into a book side, on the Gate corpus.
//!
//! Usage: `python benches/bench_gate.py --dump` (writes the stream to `target/gate_bench/`),
//! then `cargo bench --no-default-features --bench book_side [-- DIR]`.
//!
//! Rows (best of 25 passes):
//! - `decimal`: ns per number for the level reader's fused scan (`scan_plain_decimal`) and for
//!   `Decimal::parse_bytes` on the same price and size strings;
//! - `side`: ns per level written (`Side::set`, both sides, the deltas decoded beforehand,
//!   into sides seeded from the snapshot), plus one `best()` per side per delta.

#[path = "common.rs"]
// Shared with the other harnesses; this one needs only the snapshot reader and the timer.
#[allow(dead_code)]
mod common;

use _core::book::Side;
use _core::decimal::Decimal;
use _core::gate::depth::{parse_result, DepthChannel};
use _core::gate::value::scan_plain_decimal;
use common::{best_of, snapshot_levels};

/// One delta: (is_bid, price, size) in wire order.
type Delta = Vec<(bool, Decimal, Decimal)>;
type Level = (Decimal, Decimal);

/// What the harness needs from a side structure.
trait Book: Clone {
    fn empty(is_bid: bool) -> Self;
    fn put(&mut self, price: Decimal, size: Decimal) -> bool;
    fn top(&self) -> Option<(Decimal, Decimal)>;
}

impl Book for Side {
    fn empty(is_bid: bool) -> Self {
        Side::new(is_bid)
    }
    #[inline]
    fn put(&mut self, price: Decimal, size: Decimal) -> bool {
        self.set(price, size)
    }
    #[inline]
    fn top(&self) -> Option<(Decimal, Decimal)> {
        self.best()
    }
}

/// ns per level written for side structure `B`, and the final best levels. Generic so that
/// a candidate structure can be timed against `Side` on the same deltas (how the table in
/// `rust/book/side.rs` was made).
fn time_side<B: Book>(
    snap: &common::Snapshot,
    deltas: &[Delta],
) -> (f64, Option<Level>, Option<Level>) {
    let mut bids = B::empty(true);
    let mut asks = B::empty(false);
    for &(p, s) in &snap.0 {
        bids.put(p, s);
    }
    for &(p, s) in &snap.1 {
        asks.put(p, s);
    }
    let levels: usize = deltas.iter().map(Vec::len).sum();
    let (mut fb, mut fa) = (None, None);
    let ns = best_of(|| {
        // Cloning two seeded sides costs microseconds against milliseconds of deltas.
        let (mut b, mut a) = (bids.clone(), asks.clone());
        let mut changed = 0usize;
        for d in deltas {
            for &(is_bid, p, s) in d {
                changed += usize::from(if is_bid { b.put(p, s) } else { a.put(p, s) });
            }
            std::hint::black_box((b.top(), a.top()));
        }
        std::hint::black_box(changed);
        (fb, fa) = (b.top(), a.top());
        levels
    });
    (ns, fb, fa)
}

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let dir = args.get(1).map_or("target/gate_bench", String::as_str);
    let Ok(data) = std::fs::read(format!("{dir}/gate_frames.txt")) else {
        println!("no {dir}/gate_frames.txt: run `python benches/bench_gate.py --dump` first");
        return;
    };
    let frames: Vec<&[u8]> = data
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let snap = snapshot_levels(
        &std::fs::read_to_string(format!("{dir}/gate_snapshot.txt")).expect("snapshot file"),
    );
    let deltas: Vec<Delta> = frames
        .iter()
        .map(|f| {
            let env = _core::gate::envelope::parse(f).unwrap();
            let mut s = _core::json::Scan::at(f, env.result_pos);
            let u = parse_result(&mut s, DepthChannel::Update).unwrap();
            let mut d: Delta = u.levels.bids.iter().map(|&(p, z)| (true, p, z)).collect();
            d.extend(u.levels.asks.iter().map(|&(p, z)| (false, p, z)));
            d
        })
        .collect();
    let levels: usize = deltas.iter().map(Vec::len).sum();

    // Every quoted number inside the level arrays: (frame, start of the digits, end).
    let mut numbers: Vec<(usize, usize, usize)> = Vec::new();
    for (fi, f) in frames.iter().enumerate() {
        let mut i = 0;
        while i + 2 < f.len() {
            if f[i] == b'"' && f[i + 1].is_ascii_digit() && (f[i - 1] == b'[' || f[i - 1] == b',') {
                let end = i + 1 + f[i + 1..].iter().position(|&c| c == b'"').unwrap();
                if f[end + 1] == b',' && f[i - 1] == b'[' || f[end + 1] == b']' {
                    numbers.push((fi, i + 1, end));
                }
                i = end;
            }
            i += 1;
        }
    }
    assert_eq!(numbers.len(), 2 * levels, "two numbers per level");
    let scan = best_of(|| {
        let mut sum = 0i128;
        for &(fi, s, _) in &numbers {
            sum ^= scan_plain_decimal(frames[fi], s).unwrap().0.raw();
        }
        std::hint::black_box(sum);
        numbers.len()
    });
    let parse = best_of(|| {
        let mut sum = 0i128;
        for &(fi, s, e) in &numbers {
            sum ^= Decimal::parse_bytes(&frames[fi][s..e]).unwrap().raw();
        }
        std::hint::black_box(sum);
        numbers.len()
    });
    println!(
        "{} deltas, {levels} levels ({:.1}/delta), seed {} + {} levels",
        deltas.len(),
        levels as f64 / deltas.len() as f64,
        snap.0.len(),
        snap.1.len()
    );
    println!("decimal scan_plain_decimal (gate reader): {scan:.1} ns/number");
    println!("decimal Decimal::parse_bytes: {parse:.1} ns/number");
    let (side, _, _) = time_side::<Side>(&snap, &deltas);
    println!("side Side::set + best: {side:.1} ns/level");
}
