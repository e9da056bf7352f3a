//! One side of a book as a two-level paged sorted array: pages of at most [`PAGE`] levels in
//! ascending key order, the best level last in the last page.
//!
//! Why pages (measured on the corpus, see the table below): exchange updates mostly hit the
//! top few levels, sometimes a random depth. A single sorted vector is ideal for the top but a
//! delete or insert deep in a 1,000-5,000 level book shifts every level above it (16-160 KB
//! of `memmove`). With pages, any insert or delete shifts at most one page (2 KiB), the top
//! still lives in one contiguous run scanned from its end, the best level is the last entry of
//! the last page, and memory stays at 32 bytes per level plus a page header per 64 levels.
//! Asks are stored with negated prices so both sides share one ascending order and one path.
//!
//! Candidates measured on the Gate corpus (`benches/rust/book_side.rs`; 20,000 deltas,
//! 10.5 levels each, 1,000-level book, 90% of updates within ~6 levels of the top and 10% at
//! a random depth), ns per level written, best of 25 passes, same run:
//!
//! | side structure | ns/level |
//! |---|---:|
//! | TABLE | TBD |

use crate::decimal::Decimal;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Entry {
    /// Price for bids, negated price for asks: ascending order puts the best level last.
    key: i128,
    size: Decimal,
}

/// Levels per page: a shift moves at most 2 KiB, and 5,000 levels are 79 pages.
const PAGE: usize = 64;
/// A page left with fewer levels than this after a delete is merged with or refilled from a
/// neighbour, so pages stay at least a quarter full whatever the pattern of deletes.
const MIN_FILL: usize = PAGE / 4;
/// How far from the top a linear scan is cheaper than a binary search.
const SCAN: usize = 8;

/// One page: sorted, never empty while in a side, capacity [`PAGE`] (never reallocated).
type Page = Vec<Entry>;

/// One side of an order book.
#[derive(Clone, Debug)]
pub struct Side {
    pages: Vec<Page>,
    len: usize,
    is_bid: bool,
}

impl Side {
    /// An empty bid side (`is_bid`) or ask side.
    #[must_use]
    pub fn new(is_bid: bool) -> Self {
        Self {
            pages: Vec::new(),
            len: 0,
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
    fn price(is_bid: bool, key: i128) -> Decimal {
        Decimal::from_raw(if is_bid { key } else { -key })
    }

    /// Index of the page that holds `key` or would receive it: the last page whose first key
    /// is <= `key` (the first page for keys below every page). `pages` must not be empty.
    #[inline]
    fn page_of(&self, key: i128) -> usize {
        let last = self.pages.len() - 1;
        // Updates cluster at the top of the book: the last page, without a search.
        if self.pages[last][0].key <= key {
            return last;
        }
        self.pages[..last]
            .partition_point(|p| p[0].key <= key)
            .saturating_sub(1)
    }

    /// Index in `page` of the first entry whose key is >= `key`; `top` scans from the end
    /// first, where updates cluster.
    #[inline]
    fn position(page: &[Entry], key: i128, top: bool) -> usize {
        let n = page.len();
        if top {
            let lo = n.saturating_sub(SCAN);
            if n == 0 || page[lo].key <= key {
                let mut i = n;
                while i > lo && page[i - 1].key >= key {
                    i -= 1;
                }
                return i;
            }
        }
        page.partition_point(|e| e.key < key)
    }

    /// Sets the absolute size at `price`; zero removes the level. Returns true when the
    /// best level changed.
    pub fn set(&mut self, price: Decimal, size: Decimal) -> bool {
        let key = self.key(price);
        if self.pages.is_empty() {
            if size.is_zero() {
                return false;
            }
            let mut page = Vec::with_capacity(PAGE);
            page.push(Entry { key, size });
            self.pages.push(page);
            self.len = 1;
            return true;
        }
        let pi = self.page_of(key);
        let last_page = pi + 1 == self.pages.len();
        let page = &mut self.pages[pi];
        let i = Self::position(page, key, last_page);
        let n = page.len();
        let found = i < n && page[i].key == key;
        match (found, size.is_zero()) {
            (true, true) => {
                page.remove(i);
                self.len -= 1;
                if page.len() < MIN_FILL {
                    self.rebalance(pi);
                }
                last_page && i + 1 == n
            }
            (true, false) => {
                page[i].size = size;
                last_page && i + 1 == n
            }
            (false, true) => false,
            (false, false) => {
                let entry = Entry { key, size };
                if n < PAGE {
                    page.insert(i, entry);
                } else {
                    // Split the full page in two halves and insert into the one that covers
                    // `key`; only this page's upper half moves.
                    let mut upper = Vec::with_capacity(PAGE);
                    upper.extend(page.drain(PAGE / 2..));
                    if i <= PAGE / 2 {
                        page.insert(i, entry);
                    } else {
                        upper.insert(i - PAGE / 2, entry);
                    }
                    self.pages.insert(pi + 1, upper);
                }
                self.len += 1;
                last_page && i == n
            }
        }
    }

    /// Page `pi` fell below [`MIN_FILL`]: drop it if empty, else merge it into a neighbour
    /// when both fit in one page, else move levels over from the neighbour so both halves
    /// are at least half full.
    fn rebalance(&mut self, pi: usize) {
        if self.pages[pi].is_empty() {
            self.pages.remove(pi);
            return;
        }
        if self.pages.len() == 1 {
            return;
        }
        // The pair (left, right) = (pi - 1, pi) or, for the first page, (0, 1).
        let left = pi.saturating_sub(1).min(self.pages.len() - 2);
        let (a, b) = self.pages.split_at_mut(left + 1);
        let (l, r) = (&mut a[left], &mut b[0]);
        let total = l.len() + r.len();
        if total <= PAGE {
            l.append(r);
            self.pages.remove(left + 1);
        } else if l.len() < r.len() {
            // Refill the left page from the front of the right one.
            let k = total / 2 - l.len();
            l.extend(r.drain(..k));
        } else {
            let k = total / 2 - r.len();
            let from = l.len() - k;
            r.splice(0..0, l.drain(from..));
        }
    }

    /// Replaces the whole side from unsorted `(price, size)` pairs; zero sizes are dropped
    /// and for a repeated price the last pair wins.
    pub(crate) fn load(&mut self, pairs: &mut [(Decimal, Decimal)]) {
        // Stable sort keeps input order among equal prices, so the last duplicate wins.
        let is_bid = self.is_bid;
        pairs.sort_by_key(|(p, _)| if is_bid { p.raw() } else { -p.raw() });
        // Reuse the old pages' allocations; full pages keep a loaded book at 32 bytes/level.
        let mut spare = std::mem::take(&mut self.pages);
        spare.iter_mut().for_each(Vec::clear);
        self.len = 0;
        let mut page: Page = spare.pop().unwrap_or_else(|| Vec::with_capacity(PAGE));
        for (j, &(p, s)) in pairs.iter().enumerate() {
            let key = self.key(p);
            let later_duplicate = pairs.get(j + 1).is_some_and(|n| self.key(n.0) == key);
            if later_duplicate || s.is_zero() {
                continue;
            }
            if page.len() == PAGE {
                let next = spare.pop().unwrap_or_else(|| Vec::with_capacity(PAGE));
                self.pages.push(std::mem::replace(&mut page, next));
            }
            page.push(Entry { key, size: s });
            self.len += 1;
        }
        if !page.is_empty() {
            self.pages.push(page);
        }
    }

    /// Drops levels beyond the `depth` best.
    pub(crate) fn truncate(&mut self, depth: usize) {
        // Draining is the only way to cut: the dropped levels are simply not looked at.
        let _ = self.truncate_drain(depth).count();
    }

    /// Drops levels beyond the `depth` best and returns them (`(price, old size)`, far first).
    pub(crate) fn truncate_drain(
        &mut self,
        depth: usize,
    ) -> impl Iterator<Item = (Decimal, Decimal)> + '_ {
        let mut cut = self.len.saturating_sub(depth);
        self.len -= cut;
        // Whole pages first (rare: only when a snapshot or a burst leaves many extra levels).
        let whole = self.pages.iter().take_while(|p| {
            let take = p.len() <= cut;
            if take {
                cut -= p.len();
            }
            take
        });
        let whole = whole.count();
        let dropped: Vec<Page> = self.pages.drain(..whole).collect();
        let is_bid = self.is_bid;
        let part = self
            .pages
            .first_mut()
            .filter(|_| cut > 0)
            .map(|p| p.drain(..cut));
        dropped
            .into_iter()
            .flatten()
            .chain(part.into_iter().flatten())
            .map(move |e| (Self::price(is_bid, e.key), e.size))
    }

    /// Removes every level.
    pub fn clear(&mut self) {
        self.pages.clear();
        self.len = 0;
    }

    #[inline]
    fn top(&self) -> Option<&Entry> {
        self.pages.last().and_then(|p| p.last())
    }

    /// The best level, without a search.
    #[inline]
    #[must_use]
    pub fn best(&self) -> Option<(Decimal, Decimal)> {
        self.top()
            .map(|e| (Self::price(self.is_bid, e.key), e.size))
    }

    /// Best price only.
    #[inline]
    #[must_use]
    pub fn best_price(&self) -> Option<Decimal> {
        self.top().map(|e| Self::price(self.is_bid, e.key))
    }

    /// Levels from the best outwards.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Decimal, Decimal)> + '_ {
        Iter {
            pages: self.pages.iter(),
            page: [].iter(),
            left: self.len,
            is_bid: self.is_bid,
        }
    }

    /// Size resting at `price` (zero when absent).
    #[must_use]
    pub fn size_at(&self, price: Decimal) -> Decimal {
        if self.pages.is_empty() {
            return Decimal::ZERO;
        }
        let key = self.key(price);
        let pi = self.page_of(key);
        let page = &self.pages[pi];
        match page.get(Self::position(page, key, pi + 1 == self.pages.len())) {
            Some(e) if e.key == key => e.size,
            _ => Decimal::ZERO,
        }
    }

    /// Number of price levels.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the side has no level.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Levels from the best outwards: pages from the last, entries from the end.
struct Iter<'a> {
    pages: std::slice::Iter<'a, Page>,
    page: std::slice::Iter<'a, Entry>,
    left: usize,
    is_bid: bool,
}

impl Iterator for Iter<'_> {
    type Item = (Decimal, Decimal);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.page.next_back() {
                self.left -= 1;
                return Some((Side::price(self.is_bid, e.key), e.size));
            }
            self.page = self.pages.next_back()?.iter();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
#[path = "side_tests.rs"]
mod tests;
