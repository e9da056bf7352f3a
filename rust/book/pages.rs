//! The deep part of a book side: a two-level paged sorted array of `(key, size)` entries in
//! ascending key order. Pages hold at most [`PAGE`] entries, so an insert or delete anywhere
//! shifts at most one page (2 KiB) instead of every level above it, and a page is found by a
//! binary search over the page list (79 pages for 5,000 levels). Loaded pages are full, so a
//! loaded book costs 32 bytes per level plus one page header per 64 levels.

use crate::decimal::Decimal;

/// One level: the side's key (price, negated for asks) and its size (never zero here).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) key: i128,
    pub(crate) size: Decimal,
}

/// Entries per page: a shift moves at most 2 KiB.
pub(crate) const PAGE: usize = 64;
/// A page left with fewer entries than this after a delete is merged with or refilled from a
/// neighbour, so pages stay at least a quarter full whatever the pattern of deletes.
const MIN_FILL: usize = PAGE / 4;

/// One page: sorted, never empty while in the list, capacity [`PAGE`] (never reallocated).
type Page = Vec<Entry>;

/// Sorted entries in pages.
#[derive(Clone, Debug, Default)]
pub(crate) struct Pages {
    pages: Vec<Page>,
    len: usize,
}

impl Pages {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Index of the page that holds `key` or would receive it: the last page whose first key
    /// is <= `key` (the first page for keys below every page). `pages` must not be empty.
    #[inline]
    fn page_of(&self, key: i128) -> usize {
        self.pages
            .partition_point(|p| p[0].key <= key)
            .saturating_sub(1)
    }

    /// The size at `key` (zero when absent).
    pub(crate) fn get(&self, key: i128) -> Decimal {
        if self.pages.is_empty() {
            return Decimal::ZERO;
        }
        let page = &self.pages[self.page_of(key)];
        match page.get(page.partition_point(|e| e.key < key)) {
            Some(e) if e.key == key => e.size,
            _ => Decimal::ZERO,
        }
    }

    /// Sets the size at `key`; zero removes the entry (absent: nothing happens).
    pub(crate) fn set(&mut self, key: i128, size: Decimal) {
        if self.pages.is_empty() {
            if !size.is_zero() {
                self.push_top(Entry { key, size });
            }
            return;
        }
        let pi = self.page_of(key);
        let page = &mut self.pages[pi];
        let i = page.partition_point(|e| e.key < key);
        let n = page.len();
        let found = i < n && page[i].key == key;
        match (found, size.is_zero()) {
            (true, true) => {
                page.remove(i);
                self.len -= 1;
                if page.len() < MIN_FILL {
                    self.rebalance(pi);
                }
            }
            (true, false) => page[i].size = size,
            (false, true) => {}
            (false, false) => {
                self.insert_at(pi, i, Entry { key, size });
            }
        }
    }

    /// Inserts `entry` at index `i` of page `pi`, splitting the page when it is full: only
    /// that page's upper half moves.
    fn insert_at(&mut self, pi: usize, i: usize, entry: Entry) {
        let page = &mut self.pages[pi];
        if page.len() < PAGE {
            page.insert(i, entry);
        } else {
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
    }

    /// Page `pi` fell below [`MIN_FILL`]: drop it if empty, else merge it into a neighbour
    /// when both fit in one page, else move entries over from the neighbour so that both
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
            let k = total / 2 - l.len();
            l.extend(r.drain(..k));
        } else {
            let k = total / 2 - r.len();
            let from = l.len() - k;
            r.splice(0..0, l.drain(from..));
        }
    }

    /// The highest entry.
    #[inline]
    pub(crate) fn top(&self) -> Option<Entry> {
        self.pages.last().and_then(|p| p.last()).copied()
    }

    /// Removes and returns the highest entry.
    pub(crate) fn pop_top(&mut self) -> Option<Entry> {
        let last = self.pages.len().checked_sub(1)?;
        let e = self.pages[last].pop();
        self.len -= 1;
        if self.pages[last].len() < MIN_FILL {
            self.rebalance(last);
        }
        e
    }

    /// Appends an entry above every other one.
    pub(crate) fn push_top(&mut self, entry: Entry) {
        match self.pages.last_mut() {
            Some(p) if p.len() < PAGE => {
                p.push(entry);
                self.len += 1;
            }
            _ => {
                // Start a new page rather than split: entries pushed in ascending order (a
                // load, a window handing levels down) leave full pages behind.
                let mut page = Vec::with_capacity(PAGE);
                page.push(entry);
                self.pages.push(page);
                self.len += 1;
            }
        }
    }

    /// Removes the `k` lowest entries and returns them, lowest first.
    pub(crate) fn drain_bottom(&mut self, k: usize) -> impl Iterator<Item = Entry> + '_ {
        let mut cut = k.min(self.len);
        self.len -= cut;
        let whole = self
            .pages
            .iter()
            .take_while(|p| {
                let take = p.len() <= cut;
                if take {
                    cut -= p.len();
                }
                take
            })
            .count();
        let dropped: Vec<Page> = self.pages.drain(..whole).collect();
        let part = self
            .pages
            .first_mut()
            .filter(|_| cut > 0)
            .map(|p| p.drain(..cut));
        dropped
            .into_iter()
            .flatten()
            .chain(part.into_iter().flatten())
    }

    /// Removes every entry.
    pub(crate) fn clear(&mut self) {
        self.pages.clear();
        self.len = 0;
    }

    /// Entries from the highest down.
    pub(crate) fn iter_desc(&self) -> impl Iterator<Item = &Entry> + '_ {
        self.pages.iter().rev().flat_map(|p| p.iter().rev())
    }

    /// Every page's entries, for the structure's tests.
    #[cfg(test)]
    pub(crate) fn raw_pages(&self) -> &[Page] {
        &self.pages
    }
}
