//! Test support for the one-pass depth readers' agreement tests (`gate::compact`, `binance::compact`,
//! `kucoin::compact`): a deterministic random source, a seeded book and the book's whole
//! observable state, so both fast paths are judged against their general path the same way.

use std::convert::Infallible;

use super::{Level, OrderBook, SeqRule};
use crate::decimal::Decimal;

/// A deterministic xorshift: the same cases on every run.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    pub(crate) fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[usize::try_from(self.below(xs.len() as u64)).unwrap()]
    }
}

pub(crate) fn d(s: &str) -> Decimal {
    Decimal::parse(s).unwrap()
}

/// A book of `rule` loaded from a three-level snapshot at `id`, not yet bridged.
pub(crate) fn seeded(rule: SeqRule, id: u64) -> OrderBook {
    let mut b = OrderBook::new(rule, Some(50));
    b.load_snapshot::<Infallible>(id, |w| {
        for (p, z) in [("100", "1"), ("99.5", "2"), ("98", "3")] {
            w.bid(d(p), d(z));
        }
        for (p, z) in [("101", "1"), ("101.5", "2"), ("103", "3")] {
            w.ask(d(p), d(z));
        }
        Ok(())
    })
    .unwrap();
    b
}

/// Everything a reader can observe of a book: levels, sequence, phase, counters, sync.
pub(crate) type State = (Vec<Level>, Vec<Level>, u64, String, bool);

pub(crate) fn state(b: &OrderBook) -> State {
    (
        b.bids().iter().collect(),
        b.asks().iter().collect(),
        b.sequence(),
        format!("{:?} {:?}", b.phase(), b.counts),
        b.in_sync(),
    )
}
