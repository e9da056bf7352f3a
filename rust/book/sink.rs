//! Where decoded depth levels go: the sink every exchange's level walker writes into.
//!
//! The walkers (Gate's `read_levels`, reused by Binance and KuCoin) know the wire, not the
//! book; the book's writers and owned level vectors know nothing of the wire. This trait is
//! the seam, owned by the book so that no exchange module depends on another for it.

use super::order_book::{LevelWriter, SnapshotWriter};
use crate::decimal::Decimal;

/// Receives levels; implemented by the book's writers and by owned vectors.
pub trait LevelSink {
    /// One level of the bid (`bid`) or ask side.
    fn level(&mut self, bid: bool, price: Decimal, size: Decimal);
}

impl LevelSink for LevelWriter<'_> {
    #[inline]
    fn level(&mut self, bid: bool, price: Decimal, size: Decimal) {
        if bid {
            self.bid(price, size);
        } else {
            self.ask(price, size);
        }
    }
}

impl LevelSink for SnapshotWriter<'_> {
    #[inline]
    fn level(&mut self, bid: bool, price: Decimal, size: Decimal) {
        if bid {
            self.bid(price, size);
        } else {
            self.ask(price, size);
        }
    }
}
