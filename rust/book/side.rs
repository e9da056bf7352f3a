//! One side of a book: a price ladder for the top ([`super::ladder`]) over a paged sorted
//! array for the levels below it ([`super::pages`]).
//!
//! Exchange updates mostly hit the top few levels, sometimes a random depth. The ladder
//! places a level by computing its slot from the price, so updates, inserts and deletes in
//! the window (normally the whole of a 1,000-level book) search nothing and move nothing,
//! and the best level is a cached slot. Levels below the window live in pages of 64, so an
//! insert or delete there shifts at most one page, never thousands of entries. Asks are
//! stored with negated prices (keys) so both sides share one ascending order, best highest.
//!
//! Invariants: every key of the side is a multiple of the ladder's tick `10^exp` (a key off
//! the tick makes the side re-tick finer); every key in the pages is below the window; the
//! pages are empty whenever the ladder is (the best level is always in the window).
//!
//! The window is rebuilt (levels moved between it and the pages, O(window + moved)) when a
//! new best lands above it (the new best goes 1/8 of the window below its top, so the price
//! can move that far before the next rebuild), when the top falls into its lowest quarter
//! or the window empties while deeper levels remain, on a finer tick, and to double its width
//! (64 to 8,192 slots) while at least half its slots are used. A loaded side picks the widest
//! window that is at least a quarter full, so a window slot (16 bytes) costs at most 64 bytes
//! per level it holds and a page entry 32. Measured for 100 books x 5,000 levels per side at
//! 50% tick density (the `bench_memory` shape): 35.5 bytes per level of RSS for the whole
//! book, against 66 before (a 32-byte vector entry plus the snapshot buffers that the book
//! kept until the next snapshot, which it now releases).
//!
//! Candidates measured on the Gate corpus (`benches/rust/book_side.rs`; 20,000 deltas, 10.5
//! levels each, into sides seeded with 1,000 levels at 50% tick density; 90% of updates
//! within ~6 levels of the top, 10% at a random depth), ns per level written plus one best
//! read per side per delta, best of 25 passes, same binary, four runs on the shared 2-core
//! machine (lowest / range):
//!
//! | side structure | ns/level | range |
//! |---|---:|---:|
//! | ladder over pages (this module) | 25.0 | 25.0-48.5 |
//! | pages of 64 alone (binary search over pages, then in the page) | 46.1 | 46.1-118.7 |
//! | one sorted vector, best last (before) | 51.3 | 51.3-111.3 |
//!
//! In every run the ladder was the fastest, 1.5-2.8x faster than the vector. The losers are not kept;
//! the paged-only side is commit `378c249`, the vector the one before it. Whole depth pushes
//! (`benches/rust/{gate,binance}_depth.rs`, same run, vector -> ladder): Gate
//! `apply_frame` + best 802-1,624 -> 465-503 ns, Binance JSON 704-719 -> 454-457 ns, Binance SBE
//! 503-522 -> 272-329 ns, Binance book writes alone 487-490 -> 240-311 ns per push.

use super::ladder::{on_tick, tick, tick_exp_of, Ladder, Loc, MAX_EXP};
use super::pages::{Entry, Pages};
use crate::decimal::Decimal;

/// Window widths (slots; multiples of 64).
const MIN_WIDTH: usize = 64;
const MAX_WIDTH: usize = 8192;
// `Ladder::locate` needs `MAX_WIDTH * 5^MAX_EXP < 2^64`.
const _: () = assert!(MAX_WIDTH <= 1 << 13);

/// One side of an order book.
#[derive(Clone, Debug)]
pub struct Side {
    ladder: Ladder,
    far: Pages,
    is_bid: bool,
}

impl Side {
    /// An empty bid side (`is_bid`) or ask side.
    #[must_use]
    pub fn new(is_bid: bool) -> Self {
        Self {
            ladder: Ladder::new(),
            far: Pages::default(),
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
    fn level(is_bid: bool, e: Entry) -> (Decimal, Decimal) {
        (
            Decimal::from_raw(if is_bid { e.key } else { -e.key }),
            e.size,
        )
    }

    /// Sets the absolute size at `price`; zero removes the level. Returns true when the
    /// best level changed.
    pub fn set(&mut self, price: Decimal, size: Decimal) -> bool {
        let key = self.key(price);
        if self.ladder.len() == 0 {
            if size.is_zero() {
                return false;
            }
            // An empty side: a window around this level, on the coarsest tick it allows.
            let w = self.ladder.width().max(MIN_WIDTH);
            self.rebuild(w, tick_exp_of(key, MAX_EXP), key);
        }
        // At most three rounds: a finer tick, then a window moved up to the new key.
        loop {
            match self.ladder.locate(key) {
                Loc::Slot(slot) => {
                    if !size.is_zero() {
                        return self.ladder.put(slot, size);
                    }
                    let was_top = self.ladder.remove(slot) == Some(true);
                    if was_top {
                        self.after_top_removed();
                    }
                    return was_top;
                }
                Loc::Below => {
                    let w = self.ladder.width();
                    if !size.is_zero() && self.ladder.len() * 2 >= w && w < MAX_WIDTH {
                        // A dense window that the book outgrows: widen it.
                        let top = self.ladder.key_of(self.ladder.top_slot());
                        self.rebuild(w * 2, self.ladder.exp(), top);
                        continue;
                    }
                    self.far.set(key, size);
                    return false;
                }
                // An absent level: nothing to delete.
                Loc::Above | Loc::OffTick if size.is_zero() => return false,
                Loc::Above => {
                    let w = self.ladder.width().max(MIN_WIDTH);
                    self.rebuild(w, self.ladder.exp(), key);
                }
                Loc::OffTick => {
                    let exp = tick_exp_of(key, self.ladder.exp());
                    let w = self.ladder.width().max(MIN_WIDTH);
                    let anchor = self.ladder.best().map_or(key, |e| e.key);
                    self.rebuild(w, exp, anchor);
                }
            }
        }
    }

    /// The best level was deleted: keep the top in the upper part of the window, and the
    /// window non-empty while the pages hold levels.
    fn after_top_removed(&mut self) {
        let Some(far_top) = self.far.top() else {
            return;
        };
        let w = self.ladder.width();
        match self.ladder.best() {
            None => self.rebuild(w, self.ladder.exp(), far_top.key),
            Some(top) if self.ladder.top_slot() < w / 4 => {
                self.rebuild(w, self.ladder.exp(), top.key);
            }
            Some(_) => {}
        }
    }

    /// Re-anchors the window (`width` slots, tick `10^exp`) so that `anchor` (the best key,
    /// or a new key above it, a multiple of the tick) sits 1/8 of the window below its top,
    /// then moves levels between the window and the pages to match.
    fn rebuild(&mut self, width: usize, exp: u32, anchor: i128) {
        let mut moved = Vec::with_capacity(self.ladder.len());
        self.ladder.drain_into(&mut moved);
        let below_top = (width - width / 8 - 1) as i128;
        let base = below_top
            .checked_mul(tick(exp))
            .and_then(|span| anchor.checked_sub(span))
            .unwrap_or(anchor);
        self.ladder.reset(base, exp, width);
        // Pages levels now inside the window come up (they are the pages' highest)...
        while let Some(e) = self.far.top() {
            if e.key < base {
                break;
            }
            self.far.pop_top();
            self.place(e);
        }
        // ...and former window levels below the new base go down, above every page level.
        for e in moved {
            if e.key < base {
                self.far.push_top(e);
            } else {
                self.place(e);
            }
        }
    }

    /// Puts a level known to fall in the window.
    fn place(&mut self, e: Entry) {
        match self.ladder.locate(e.key) {
            Loc::Slot(slot) => {
                self.ladder.put(slot, e.size);
            }
            // Unreachable by the invariants (keys on tick, window anchored at the top); kept
            // exact rather than panicking.
            _ => self.far.set(e.key, e.size),
        }
    }

    /// Replaces the whole side from unsorted `(price, size)` pairs; zero sizes are dropped
    /// and for a repeated price the last pair wins.
    pub(crate) fn load(&mut self, pairs: &mut [(Decimal, Decimal)]) {
        // Stable sort keeps input order among equal prices, so the last duplicate wins.
        let is_bid = self.is_bid;
        let key = |p: Decimal| if is_bid { p.raw() } else { -p.raw() };
        pairs.sort_by_key(|(p, _)| key(*p));
        let kept = |j: usize| {
            let (p, s) = pairs[j];
            let later_duplicate = pairs.get(j + 1).is_some_and(|n| key(n.0) == key(p));
            (!later_duplicate && !s.is_zero()).then_some(Entry {
                key: key(p),
                size: s,
            })
        };
        self.ladder.clear();
        self.far.clear();
        let Some(top) = (0..pairs.len()).rev().find_map(kept) else {
            return;
        };
        let mut exp = tick_exp_of(top.key, MAX_EXP);
        for j in 0..pairs.len() {
            if let Some(e) = kept(j) {
                if !on_tick(e.key, exp) {
                    exp = tick_exp_of(e.key, exp);
                }
            }
        }
        // The widest window whose span below the top is at least a quarter full (the
        // runtime rule for widening: at least half full before doubling).
        let t = tick(exp);
        let mut width = MIN_WIDTH;
        let mut desc = (0..pairs.len()).rev().filter_map(kept).peekable();
        let mut inside = 0usize;
        while width * 2 <= MAX_WIDTH {
            let w = width * 2;
            let floor = ((w - w / 8 - 1) as i128)
                .checked_mul(t)
                .and_then(|span| top.key.checked_sub(span));
            let Some(floor) = floor else { break };
            while desc.next_if(|e| e.key >= floor).is_some() {
                inside += 1;
            }
            if inside * 4 < w {
                break;
            }
            width = w;
        }
        self.ladder.reset(0, exp, 0);
        self.rebuild(width, exp, top.key);
        for e in (0..pairs.len()).filter_map(kept) {
            if e.key < self.ladder.base() {
                self.far.push_top(e);
            } else {
                self.place(e);
            }
        }
    }

    /// Drops levels beyond the `depth` best.
    pub(crate) fn truncate(&mut self, depth: usize) {
        self.cut(depth, |_| ());
    }

    /// Drops levels beyond the `depth` best and returns them (`(price, old size)`, far first).
    pub(crate) fn truncate_drain(
        &mut self,
        depth: usize,
    ) -> impl Iterator<Item = (Decimal, Decimal)> + '_ {
        let mut out = Vec::new();
        self.cut(depth, |e| out.push(e));
        let is_bid = self.is_bid;
        out.into_iter().map(move |e| Self::level(is_bid, e))
    }

    /// Removes the lowest levels until `depth` remain, lowest first into `sink`: the pages
    /// first, then the window from its bottom.
    fn cut(&mut self, depth: usize, mut sink: impl FnMut(Entry)) {
        let mut extra = self.len().saturating_sub(depth);
        let from_far = extra.min(self.far.len());
        self.far.drain_bottom(from_far).for_each(&mut sink);
        extra -= from_far;
        for _ in 0..extra {
            let Some(slot) = self.ladder.lowest() else {
                break;
            };
            sink(Entry {
                key: self.ladder.key_of(slot),
                size: self.ladder.get(slot),
            });
            self.ladder.remove(slot);
        }
    }

    /// Removes every level.
    pub fn clear(&mut self) {
        self.ladder.clear();
        self.far.clear();
    }

    /// The best level, without a search.
    #[inline]
    #[must_use]
    pub fn best(&self) -> Option<(Decimal, Decimal)> {
        self.ladder.best().map(|e| Self::level(self.is_bid, e))
    }

    /// Best price only.
    #[inline]
    #[must_use]
    pub fn best_price(&self) -> Option<Decimal> {
        self.best().map(|l| l.0)
    }

    /// Levels from the best outwards.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Decimal, Decimal)> + '_ {
        let is_bid = self.is_bid;
        let ladder = &self.ladder;
        let mut next = (ladder.len() > 0).then(|| ladder.top_slot());
        let window = std::iter::from_fn(move || {
            let slot = ladder.highest_at_or_below(next?)?;
            next = slot.checked_sub(1);
            Some(Entry {
                key: ladder.key_of(slot),
                size: ladder.get(slot),
            })
        });
        Counted {
            inner: window
                .chain(self.far.iter_desc().copied())
                .map(move |e| Self::level(is_bid, e)),
            left: self.len(),
        }
    }

    /// Size resting at `price` (zero when absent).
    #[must_use]
    pub fn size_at(&self, price: Decimal) -> Decimal {
        let key = self.key(price);
        match self.ladder.locate(key) {
            Loc::Slot(slot) => self.ladder.get(slot),
            Loc::Below => self.far.get(key),
            Loc::Above | Loc::OffTick => Decimal::ZERO,
        }
    }

    /// Number of price levels.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ladder.len() + self.far.len()
    }

    /// True when the side has no level.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ladder.len() == 0
    }
}

/// An iterator whose length is known up front.
struct Counted<I> {
    inner: I,
    left: usize,
}

impl<I: Iterator> Iterator for Counted<I> {
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        let v = self.inner.next()?;
        self.left -= 1;
        Some(v)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<I: Iterator> ExactSizeIterator for Counted<I> {}

#[cfg(test)]
#[path = "side_tests.rs"]
mod tests;
