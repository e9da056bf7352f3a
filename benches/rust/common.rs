//! What the Rust profile harnesses (`benches/rust/*_depth.rs`) share: the dumped seed
//! snapshot, a book seeded from it, and a best-of-N timer. Included with `#[path]`, since each
//! harness is its own bench target.

use std::convert::Infallible;
use std::time::Instant;

use _core::book::{OrderBook, SeqRule};
use _core::decimal::Decimal;

/// Bid and ask levels of the seed snapshot, and its id.
pub type Snapshot = (Vec<(Decimal, Decimal)>, Vec<(Decimal, Decimal)>, u64);

/// Reads `id N` then `b PRICE SIZE` / `a PRICE SIZE` lines.
pub fn snapshot_levels(text: &str) -> Snapshot {
    let (mut bids, mut asks, mut id) = (Vec::new(), Vec::new(), 0);
    for line in text.lines() {
        let mut it = line.split_whitespace();
        match (it.next(), it.next(), it.next()) {
            (Some("id"), Some(n), None) => id = n.parse().expect("snapshot id"),
            (Some(side), Some(p), Some(s)) => {
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
            _ => {}
        }
    }
    (bids, asks, id)
}

/// A book of `rule` loaded from `snap`.
pub fn seeded(snap: &Snapshot, rule: SeqRule) -> OrderBook {
    let mut book = OrderBook::new(rule, None);
    book.load_snapshot::<Infallible>(snap.2, |w| {
        for &(p, s) in &snap.0 {
            w.bid(p, s);
        }
        for &(p, s) in &snap.1 {
            w.ask(p, s);
        }
        Ok(())
    })
    .unwrap();
    book
}

/// Best of 25 passes of `pass` (which returns how many pushes it handled), in ns per push.
pub fn best_of(mut pass: impl FnMut() -> usize) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..25 {
        let t0 = Instant::now();
        let n = pass();
        best = best.min(t0.elapsed().as_nanos() as f64 / n as f64);
    }
    best
}
