//! One side of a book as a sorted vector whose best level is the last element.
//!
//! Measured choice (see `benches/bench_book.py`): exchange updates hit the top few levels,
//! so inserting or deleting near the end of a contiguous vector moves only a handful of
//! elements, reading the best level is `last()`, and the whole side stays in a few cache
//! lines where a B-tree would chase pointers. Asks are stored with negated prices so both
//! sides share one ascending order and one code path.

use crate::decimal::Decimal;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Entry {
    /// Price for bids, negated price for asks: ascending order puts the best level last.
    key: i128,
    size: Decimal,
}

/// One side of an order book.
#[derive(Clone, Debug)]
pub struct Side {
    levels: Vec<Entry>,
    is_bid: bool,
}

/// How far from the top a linear scan is cheaper than a binary search.
const SCAN: usize = 8;

impl Side {
    /// An empty bid side (`is_bid`) or ask side.
    #[must_use]
    pub fn new(is_bid: bool) -> Self {
        Self {
            levels: Vec::new(),
            is_bid,
        }
    }

    #[inline]
    fn key(&self, price: Decimal) -> i128 {
        if self.is_bid {
            price.raw()
        } else {
            -price.raw()
        }
    }

    #[inline]
    fn price(&self, key: i128) -> Decimal {
        Decimal::from_raw(if self.is_bid { key } else { -key })
    }

    /// Index of the first entry whose key is >= `key`.
    #[inline]
    fn position(&self, key: i128) -> usize {
        let n = self.levels.len();
        // Updates cluster at the top of the book (the end of the vector): scan a few
        // entries from the end before falling back to a binary search.
        let lo = n.saturating_sub(SCAN);
        if n == 0 || self.levels[lo].key <= key {
            let mut i = n;
            while i > lo && self.levels[i - 1].key >= key {
                i -= 1;
            }
            return i;
        }
        self.levels[..lo].partition_point(|e| e.key < key)
    }

    /// Sets the absolute size at `price`; zero removes the level. Returns true when the
    /// best level changed.
    pub fn set(&mut self, price: Decimal, size: Decimal) -> bool {
        let key = self.key(price);
        let i = self.position(key);
        let n = self.levels.len();
        let found = i < n && self.levels[i].key == key;
        let top = i + 1 >= n;
        match (found, size.is_zero()) {
            (true, true) => {
                self.levels.remove(i);
                top
            }
            (true, false) => {
                self.levels[i].size = size;
                top
            }
            (false, true) => false,
            (false, false) => {
                self.levels.insert(i, Entry { key, size });
                i == n
            }
        }
    }

    /// Replaces the whole side from unsorted `(price, size)` pairs; zero sizes are dropped
    /// and for a repeated price the last pair wins.
    pub(crate) fn load(&mut self, pairs: &mut [(Decimal, Decimal)]) {
        self.levels.clear();
        // Stable sort keeps input order among equal prices, so the last duplicate wins.
        let is_bid = self.is_bid;
        pairs.sort_by_key(|(p, _)| if is_bid { p.raw() } else { -p.raw() });
        for &(p, s) in pairs.iter() {
            let key = self.key(p);
            match self.levels.last_mut() {
                Some(e) if e.key == key => e.size = s,
                _ => self.levels.push(Entry { key, size: s }),
            }
        }
        self.levels.retain(|e| !e.size.is_zero());
    }

    /// Drops levels beyond the `depth` best.
    pub(crate) fn truncate(&mut self, depth: usize) {
        let n = self.levels.len();
        if n > depth {
            self.levels.drain(..n - depth);
        }
    }

    /// Drops levels beyond the `depth` best and returns them (`(price, old size)`, far first).
    pub(crate) fn truncate_drain(
        &mut self,
        depth: usize,
    ) -> impl Iterator<Item = (Decimal, Decimal)> + '_ {
        let n = self.levels.len();
        let cut = n.saturating_sub(depth);
        let is_bid = self.is_bid;
        self.levels.drain(..cut).map(move |e| {
            let raw = if is_bid { e.key } else { -e.key };
            (Decimal::from_raw(raw), e.size)
        })
    }

    /// Removes every level.
    pub fn clear(&mut self) {
        self.levels.clear();
    }

    /// The best level, without a search.
    #[inline]
    #[must_use]
    pub fn best(&self) -> Option<(Decimal, Decimal)> {
        self.levels.last().map(|e| (self.price(e.key), e.size))
    }

    /// Best price only.
    #[inline]
    #[must_use]
    pub fn best_price(&self) -> Option<Decimal> {
        self.levels.last().map(|e| self.price(e.key))
    }

    /// Levels from the best outwards.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Decimal, Decimal)> + '_ {
        self.levels
            .iter()
            .rev()
            .map(|e| (self.price(e.key), e.size))
    }

    /// Size resting at `price` (zero when absent).
    #[must_use]
    pub fn size_at(&self, price: Decimal) -> Decimal {
        let key = self.key(price);
        let i = self.position(key);
        match self.levels.get(i) {
            Some(e) if e.key == key => e.size,
            _ => Decimal::ZERO,
        }
    }

    /// Number of price levels.
    #[must_use]
    pub fn len(&self) -> usize {
        self.levels.len()
    }

    /// True when the side has no level.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn d(v: i64) -> Decimal {
        Decimal::from_i64(v)
    }

    #[test]
    fn bids_best_is_highest_asks_best_is_lowest() {
        let mut b = Side::new(true);
        let mut a = Side::new(false);
        for p in [5, 1, 9, 3] {
            b.set(d(p), d(1));
            a.set(d(p), d(1));
        }
        assert_eq!(b.best_price(), Some(d(9)));
        assert_eq!(a.best_price(), Some(d(1)));
        assert_eq!(
            b.iter().map(|l| l.0).collect::<Vec<_>>(),
            [d(9), d(5), d(3), d(1)]
        );
        assert_eq!(
            a.iter().map(|l| l.0).collect::<Vec<_>>(),
            [d(1), d(3), d(5), d(9)]
        );
    }

    #[test]
    fn zero_deletes_and_unknown_zero_is_ignored() {
        let mut b = Side::new(true);
        b.set(d(5), d(2));
        assert!(!b.set(d(4), Decimal::ZERO));
        assert_eq!(b.len(), 1);
        assert!(b.set(d(5), Decimal::ZERO));
        assert!(b.is_empty());
    }

    #[test]
    fn matches_a_btreemap_model_under_random_updates() {
        // xorshift keeps the test deterministic without a dependency.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for is_bid in [true, false] {
            let mut side = Side::new(is_bid);
            let mut model = BTreeMap::new();
            for _ in 0..20_000 {
                let p = d((next() % 300) as i64);
                let s = if next() % 4 == 0 {
                    Decimal::ZERO
                } else {
                    d((next() % 50) as i64)
                };
                side.set(p, s);
                if s.is_zero() {
                    model.remove(&p);
                } else {
                    model.insert(p, s);
                }
                let want = if is_bid {
                    model.iter().next_back()
                } else {
                    model.iter().next()
                };
                assert_eq!(side.best(), want.map(|(p, s)| (*p, *s)));
            }
            let got: Vec<_> = side.iter().collect();
            let mut want: Vec<_> = model.into_iter().collect();
            if is_bid {
                want.reverse();
            }
            assert_eq!(got, want);
        }
    }

    #[test]
    fn load_sorts_dedups_and_drops_zeros() {
        let mut a = Side::new(false);
        let mut pairs = vec![
            (d(3), d(1)),
            (d(1), d(1)),
            (d(2), Decimal::ZERO),
            (d(3), d(7)),
        ];
        a.load(&mut pairs);
        assert_eq!(a.iter().collect::<Vec<_>>(), [(d(1), d(1)), (d(3), d(7))]);
    }

    #[test]
    fn truncate_keeps_the_best_levels() {
        let mut b = Side::new(true);
        for p in 1..=10 {
            b.set(d(p), d(1));
        }
        b.truncate(3);
        assert_eq!(
            b.iter().map(|l| l.0).collect::<Vec<_>>(),
            [d(10), d(9), d(8)]
        );
    }
}
