//! An L2 book for one instrument: two sides plus the sync state machine.
//!
//! Deltas are written through a closure so that decoders can stream levels straight from a
//! wire buffer into the book without an intermediate vector: the sequence verdict is taken
//! first (from the ids alone), and levels are touched only when it says "apply". A delta
//! whose levels fail to parse half-way leaves the book out of sync, never silently wrong.

use super::pending::Pending;
use super::sequence::{check, SeqRule, Status, SyncState};
use super::side::Side;
use crate::decimal::Decimal;

/// One price level.
pub type Level = (Decimal, Decimal);

/// One level as a delta left it: which side, the price, and the new absolute size (zero: the
/// level is gone, whether the exchange deleted it or the book's depth limit cut it off).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// True for the bid side.
    pub is_bid: bool,
    /// Price of the level.
    pub price: Decimal,
    /// New absolute size (zero removes the level).
    pub size: Decimal,
}

/// The opt-in change journal: every level the book set since the journal was last taken, in
/// the order it set them, so that replaying the entries on a copy of the book taken at
/// [`Journal::base_id`] gives this book exactly. Off by default; when off the book pays one
/// predictable branch per level and allocates nothing.
#[derive(Clone, Debug, Default)]
pub struct Journal {
    /// The changes, in order.
    pub changes: Vec<Change>,
    /// The book's last change id when the journal was last taken (the entries follow it).
    pub base_id: u64,
    /// A snapshot replaced the book since the journal was last taken: the entries are
    /// relative to that snapshot, so a reader must send the whole book instead.
    pub reseeded: bool,
}

/// Snapshot buffer capacity (levels per side) kept between snapshots.
const SCRATCH_KEPT: usize = 1024;

/// A local order book with exchange sequence rules.
#[derive(Clone, Debug)]
pub struct OrderBook {
    bids: Side,
    asks: Side,
    rule: SeqRule,
    state: SyncState,
    last_id: u64,
    /// No stream push has bridged the snapshot yet: the first-push rule applies, and the book
    /// is not in sync (a REST snapshot is only trusted once the stream confirms it).
    first_pending: bool,
    /// The book's connection is up and its subscription confirmed (always true for a book
    /// driven by hand; a book fed by a connection is told when that changes).
    linked: bool,
    /// Pushes held while the book waits for a snapshot.
    pub pending: Pending,
    /// The highest change id any stream push offered to the book has covered (applied,
    /// stale, held or refused): how far the stream is known to have got.
    stream_last: u64,
    max_depth: Option<usize>,
    scratch_bids: Vec<Level>,
    scratch_asks: Vec<Level>,
    top_changed: bool,
    /// The change journal, when enabled ([`OrderBook::set_journal`]).
    journal: Option<Journal>,
    /// Counters for metrics: applied, stale, gap, crossed, refused deltas and snapshots.
    pub counts: Counts,
}

/// How many deltas ended in each status, and how many snapshots were loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Deltas applied.
    pub applied: u64,
    /// Deltas skipped as stale.
    pub stale: u64,
    /// Gaps detected.
    pub gaps: u64,
    /// Crossed books detected.
    pub crossed: u64,
    /// Deltas refused because the book was not in sync.
    pub refused: u64,
    /// Snapshots loaded.
    pub snapshots: u64,
}

/// Where a book stands; only [`Phase::InSync`] may be reported as in sync.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No snapshot yet.
    Empty,
    /// A REST snapshot is loaded but no stream push has bridged it yet.
    Unconfirmed,
    /// Confirmed by the stream, but the connection is down or the subscription is not active.
    Unlinked,
    /// Gap, crossed book, bad push or lost link: waiting for a new snapshot.
    OutOfSync,
    /// Exact, continuous and live.
    InSync,
}

impl Phase {
    /// Lower-case name used in Python (`OrderBook.state`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Phase::Empty => "empty",
            Phase::Unconfirmed => "unconfirmed",
            Phase::Unlinked => "unlinked",
            Phase::OutOfSync => "out_of_sync",
            Phase::InSync => "synced",
        }
    }
}

/// Writes the levels of one delta; handed to the closure of [`OrderBook::apply_delta`].
pub struct LevelWriter<'a> {
    bids: &'a mut Side,
    asks: &'a mut Side,
    top_changed: bool,
    journal: Option<&'a mut Vec<Change>>,
}

impl LevelWriter<'_> {
    /// Sets the absolute bid size at `price` (zero deletes).
    #[inline]
    pub fn bid(&mut self, price: Decimal, size: Decimal) {
        self.top_changed |= self.bids.set(price, size);
        if let Some(j) = self.journal.as_deref_mut() {
            j.push(Change {
                is_bid: true,
                price,
                size,
            });
        }
    }
    /// Sets the absolute ask size at `price` (zero deletes).
    #[inline]
    pub fn ask(&mut self, price: Decimal, size: Decimal) {
        self.top_changed |= self.asks.set(price, size);
        if let Some(j) = self.journal.as_deref_mut() {
            j.push(Change {
                is_bid: false,
                price,
                size,
            });
        }
    }
}

/// Collects the levels of a snapshot; handed to the closure of [`OrderBook::load_snapshot`].
pub struct SnapshotWriter<'a> {
    bids: &'a mut Vec<Level>,
    asks: &'a mut Vec<Level>,
}

impl SnapshotWriter<'_> {
    /// Adds a bid level (any order; zero sizes are dropped).
    #[inline]
    pub fn bid(&mut self, price: Decimal, size: Decimal) {
        self.bids.push((price, size));
    }
    /// Adds an ask level (any order; zero sizes are dropped).
    #[inline]
    pub fn ask(&mut self, price: Decimal, size: Decimal) {
        self.asks.push((price, size));
    }
}

impl OrderBook {
    /// An empty book following `rule`; with `max_depth` only that many levels per side are
    /// kept (Gate.io streams describe only the top N levels).
    #[must_use]
    pub fn new(rule: SeqRule, max_depth: Option<usize>) -> Self {
        Self {
            bids: Side::new(true),
            asks: Side::new(false),
            rule,
            state: SyncState::Empty,
            last_id: 0,
            first_pending: true,
            linked: true,
            pending: Pending::default(),
            stream_last: 0,
            max_depth,
            scratch_bids: Vec::new(),
            scratch_asks: Vec::new(),
            top_changed: false,
            journal: None,
            counts: Counts::default(),
        }
    }

    /// Turns the change journal on (empty, based at the book's current id) or off.
    pub fn set_journal(&mut self, on: bool) {
        self.journal = on.then(|| Journal {
            changes: Vec::new(),
            base_id: self.last_id,
            reseeded: false,
        });
    }

    /// The change journal, if enabled.
    #[must_use]
    pub fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
    }

    /// Empties the journal after a reader has taken its entries: the next entries follow the
    /// book's current id. Keeps the allocation.
    pub fn clear_journal(&mut self) {
        let id = self.last_id;
        if let Some(j) = self.journal.as_mut() {
            j.changes.clear();
            j.base_id = id;
            j.reseeded = false;
        }
    }

    /// Replaces the book with a REST snapshot whose last change id is `id`.
    ///
    /// The book is seeded but not yet in sync: a stream push must bridge `id` first (see
    /// [`OrderBook::in_sync`]). Returns [`Status::Applied`], or [`Status::Crossed`] when the
    /// snapshot itself is crossed (the book is then out of sync).
    ///
    /// # Errors
    /// Whatever `fill` returns; the book is then out of sync.
    pub fn load_snapshot<E>(
        &mut self,
        id: u64,
        fill: impl FnOnce(&mut SnapshotWriter<'_>) -> Result<(), E>,
    ) -> Result<Status, E> {
        self.seed(id, true, fill)
    }

    /// Replaces the book with a snapshot that came on the stream itself (Gate.io `full: true`
    /// and `order_book` pushes, MEXC limit depth): it is its own confirmation.
    ///
    /// # Errors
    /// As [`OrderBook::load_snapshot`].
    pub fn load_stream_snapshot<E>(
        &mut self,
        id: u64,
        fill: impl FnOnce(&mut SnapshotWriter<'_>) -> Result<(), E>,
    ) -> Result<Status, E> {
        self.seed(id, false, fill)
    }

    fn seed<E>(
        &mut self,
        id: u64,
        unconfirmed: bool,
        fill: impl FnOnce(&mut SnapshotWriter<'_>) -> Result<(), E>,
    ) -> Result<Status, E> {
        if !unconfirmed {
            self.stream_last = self.stream_last.max(id);
        }
        self.scratch_bids.clear();
        self.scratch_asks.clear();
        let filled = fill(&mut SnapshotWriter {
            bids: &mut self.scratch_bids,
            asks: &mut self.scratch_asks,
        });
        if let Err(e) = filled {
            self.state = SyncState::OutOfSync;
            return Err(e);
        }
        self.bids.load(&mut self.scratch_bids);
        self.asks.load(&mut self.scratch_asks);
        // A deep REST snapshot's buffers would stay allocated (32 bytes per level, as much as
        // the book itself) until the next one; small stream snapshots keep theirs for reuse.
        for scratch in [&mut self.scratch_bids, &mut self.scratch_asks] {
            if scratch.capacity() > SCRATCH_KEPT {
                *scratch = Vec::new();
            }
        }
        self.trim();
        self.counts.snapshots += 1;
        self.last_id = id;
        if let Some(j) = self.journal.as_mut() {
            j.changes.clear();
            j.base_id = id;
            j.reseeded = true;
        }
        self.first_pending = unconfirmed;
        self.top_changed = true;
        self.state = SyncState::Synced;
        Ok(self.check_crossed(Status::Applied))
    }

    /// The verdict a delta covering `first..=last` would get, without applying it.
    #[must_use]
    pub fn check(&self, first: u64, last: u64) -> Status {
        check(
            self.rule,
            self.state,
            self.last_id,
            self.first_pending,
            first,
            last,
        )
    }

    /// Applies a delta covering change ids `first..=last` if the sequence rule allows it;
    /// `fill` writes its levels.
    ///
    /// # Errors
    /// Whatever `fill` returns; the book is then out of sync.
    pub fn apply_delta<E>(
        &mut self,
        first: u64,
        last: u64,
        fill: impl FnOnce(&mut LevelWriter<'_>) -> Result<(), E>,
    ) -> Result<Status, E> {
        self.top_changed = false;
        self.stream_last = self.stream_last.max(last);
        let verdict = self.check(first, last);
        match verdict {
            Status::Applied => {}
            Status::Stale => {
                self.counts.stale += 1;
                return Ok(verdict);
            }
            Status::Gap => {
                self.counts.gaps += 1;
                self.state = SyncState::OutOfSync;
                return Ok(verdict);
            }
            Status::NotSynced | Status::Crossed => {
                self.counts.refused += 1;
                return Ok(Status::NotSynced);
            }
        }
        let mut w = LevelWriter {
            bids: &mut self.bids,
            asks: &mut self.asks,
            top_changed: false,
            journal: self.journal.as_mut().map(|j| &mut j.changes),
        };
        let filled = fill(&mut w);
        self.top_changed = w.top_changed;
        if let Err(e) = filled {
            self.state = SyncState::OutOfSync;
            return Err(e);
        }
        self.trim();
        self.last_id = last;
        self.first_pending = false;
        self.counts.applied += 1;
        Ok(self.check_crossed(Status::Applied))
    }

    /// Applies a push that names the last id of the previous push (`prev`, Binance USDⓈ-M
    /// `pu`): the first push after a snapshot is judged on `first..=last`; later ones must
    /// have `prev` equal to the book's last id, which is checked as exact continuity of
    /// `prev + 1..=last` under [`SeqRule::BinanceFutures`]. Books of other rules ignore `prev`.
    ///
    /// # Errors
    /// Whatever `fill` returns; the book is then out of sync.
    pub fn apply_linked_delta<E>(
        &mut self,
        first: u64,
        last: u64,
        prev: u64,
        fill: impl FnOnce(&mut LevelWriter<'_>) -> Result<(), E>,
    ) -> Result<Status, E> {
        if self.first_pending || self.rule != SeqRule::BinanceFutures {
            return self.apply_delta(first, last, fill);
        }
        match prev.checked_add(1) {
            Some(next) => self.apply_delta(next, last, fill),
            // `prev` cannot be the book's last id plus anything: a reversed range is a gap
            // (or NotSynced), exactly as `apply_delta` reports it.
            None => self.apply_delta(1, 0, fill),
        }
    }

    fn trim(&mut self) {
        if let Some(depth) = self.max_depth {
            match self.journal.as_mut() {
                // Levels cut off by the depth limit are changes too: a reader's book without
                // the limit must drop them as well.
                Some(j) => {
                    for (price, _) in self.bids.truncate_drain(depth) {
                        j.changes.push(Change {
                            is_bid: true,
                            price,
                            size: Decimal::ZERO,
                        });
                    }
                    for (price, _) in self.asks.truncate_drain(depth) {
                        j.changes.push(Change {
                            is_bid: false,
                            price,
                            size: Decimal::ZERO,
                        });
                    }
                }
                None => {
                    self.bids.truncate(depth);
                    self.asks.truncate(depth);
                }
            }
        }
    }

    fn check_crossed(&mut self, ok: Status) -> Status {
        if self.is_crossed() {
            self.counts.crossed += 1;
            self.state = SyncState::OutOfSync;
            Status::Crossed
        } else {
            ok
        }
    }

    /// True when best bid >= best ask.
    #[must_use]
    pub fn is_crossed(&self) -> bool {
        matches!((self.bids.best_price(), self.asks.best_price()), (Some(b), Some(a)) if b >= a)
    }

    /// Marks the book out of sync (a reconnect or a failed snapshot): deltas are refused
    /// until the next snapshot, and held pushes are dropped.
    pub fn mark_out_of_sync(&mut self) {
        if self.state == SyncState::Synced {
            self.state = SyncState::OutOfSync;
        }
        self.pending.clear();
    }

    /// Tells the book whether its connection is up with its subscription confirmed.
    ///
    /// Losing the link breaks the stream's continuity, so the book also goes out of sync and
    /// needs a new snapshot; regaining it does not make the book in sync by itself.
    pub fn set_linked(&mut self, linked: bool) {
        if !linked {
            self.mark_out_of_sync();
        }
        self.linked = linked;
    }

    /// The highest change id the stream has delivered to this book (0: none yet). A REST
    /// snapshot with a higher id is ahead of anything the stream has confirmed.
    #[must_use]
    pub fn stream_sequence(&self) -> u64 {
        self.stream_last
    }

    /// Whether the book's connection is up with its subscription confirmed.
    #[must_use]
    pub fn linked(&self) -> bool {
        self.linked
    }

    /// Seeded and continuous since, whatever the link: the stream has confirmed the snapshot.
    #[must_use]
    pub fn confirmed(&self) -> bool {
        self.state == SyncState::Synced && !self.first_pending
    }

    /// Where the book stands, as one word (`in_sync` is true only for [`Phase::InSync`]).
    #[must_use]
    pub fn phase(&self) -> Phase {
        match self.state {
            SyncState::Empty => Phase::Empty,
            SyncState::OutOfSync => Phase::OutOfSync,
            SyncState::Synced if self.first_pending => Phase::Unconfirmed,
            SyncState::Synced if !self.linked => Phase::Unlinked,
            SyncState::Synced => Phase::InSync,
        }
    }

    /// Removes every level and forgets the snapshot.
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.pending.clear();
        self.state = SyncState::Empty;
        self.last_id = 0;
        self.first_pending = true;
        if let Some(j) = self.journal.as_mut() {
            j.changes.clear();
            j.base_id = 0;
            j.reseeded = true;
        }
    }

    /// Bid side.
    #[must_use]
    pub fn bids(&self) -> &Side {
        &self.bids
    }
    /// Ask side.
    #[must_use]
    pub fn asks(&self) -> &Side {
        &self.asks
    }
    /// Sync state.
    #[must_use]
    pub fn state(&self) -> SyncState {
        self.state
    }
    /// True when seeded and continuous since.
    /// The one definition of "in sync": seeded by a snapshot, a stream push has bridged it
    /// (or the snapshot came on the stream), no gap or crossed book since, and the book's
    /// connection is up with its subscription confirmed.
    #[must_use]
    pub fn in_sync(&self) -> bool {
        self.state == SyncState::Synced && !self.first_pending && self.linked
    }
    /// Last applied change id (snapshot id before the first delta).
    #[must_use]
    pub fn sequence(&self) -> u64 {
        self.last_id
    }
    /// The sequence rule.
    #[must_use]
    pub fn rule(&self) -> SeqRule {
        self.rule
    }
    /// Levels kept per side, if limited.
    #[must_use]
    pub fn max_depth(&self) -> Option<usize> {
        self.max_depth
    }
    /// True when the last applied delta or snapshot changed the best bid or ask level.
    #[must_use]
    pub fn top_changed(&self) -> bool {
        self.top_changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    fn seeded(rule: SeqRule) -> OrderBook {
        let mut b = OrderBook::new(rule, None);
        let st = b
            .load_snapshot::<Infallible>(100, |w| {
                w.bid(d("99.5"), d("1"));
                w.bid(d("99"), d("2"));
                w.ask(d("100.5"), d("3"));
                w.ask(d("101"), d("4"));
                Ok(())
            })
            .unwrap();
        assert_eq!(st, Status::Applied);
        b
    }

    fn delta(
        b: &mut OrderBook,
        first: u64,
        last: u64,
        bids: &[(&str, &str)],
        asks: &[(&str, &str)],
    ) -> Status {
        b.apply_delta::<Infallible>(first, last, |w| {
            for (p, s) in bids {
                w.bid(d(p), d(s));
            }
            for (p, s) in asks {
                w.ask(d(p), d(s));
            }
            Ok(())
        })
        .unwrap()
    }

    #[test]
    fn applies_absolute_sizes_and_tracks_the_sequence() {
        let mut b = seeded(SeqRule::Mexc);
        assert_eq!(
            delta(
                &mut b,
                95,
                105,
                &[("99.5", "0"), ("99.7", "5")],
                &[("100.5", "0.00000000")]
            ),
            Status::Applied
        );
        assert_eq!(b.bids().best(), Some((d("99.7"), d("5"))));
        assert_eq!(b.asks().best(), Some((d("101"), d("4"))));
        assert_eq!(b.sequence(), 105);
        assert!(b.top_changed());
        assert_eq!(delta(&mut b, 106, 106, &[], &[]), Status::Applied);
        assert_eq!(b.sequence(), 106);
    }

    #[test]
    fn stale_is_skipped_and_gap_stops_the_book_until_a_snapshot() {
        let mut b = seeded(SeqRule::Gate);
        assert_eq!(delta(&mut b, 90, 100, &[("1", "1")], &[]), Status::Stale);
        assert_eq!(b.bids().len(), 2);
        assert_eq!(delta(&mut b, 102, 110, &[("99.9", "1")], &[]), Status::Gap);
        assert!(!b.in_sync());
        assert_eq!(
            b.bids().best_price(),
            Some(d("99.5")),
            "a gap must not touch levels"
        );
        assert_eq!(delta(&mut b, 101, 101, &[], &[]), Status::NotSynced);
        let mut b2 = seeded(SeqRule::Gate);
        assert!(
            !b2.in_sync(),
            "a REST snapshot is not trusted before the stream confirms it"
        );
        assert_eq!(b2.phase(), Phase::Unconfirmed);
        assert_eq!(delta(&mut b2, 101, 101, &[], &[]), Status::Applied);
        assert!(b2.in_sync());
        b2.set_linked(false);
        assert!(!b2.in_sync() && b2.phase() == Phase::OutOfSync);
        assert_eq!(b.counts.gaps, 1);
        assert_eq!(b.counts.refused, 1);
    }

    #[test]
    fn crossed_book_is_detected() {
        let mut b = seeded(SeqRule::Gate);
        assert_eq!(
            delta(&mut b, 101, 101, &[("100.5", "1")], &[]),
            Status::Crossed
        );
        assert!(!b.in_sync());
        assert!(b.is_crossed());
    }

    #[test]
    fn failing_fill_leaves_the_book_out_of_sync() {
        let mut b = seeded(SeqRule::Mexc);
        let r = b.apply_delta(101, 101, |w| {
            w.bid(d("1"), d("1"));
            Err("bad level")
        });
        assert_eq!(r, Err("bad level"));
        assert!(!b.in_sync());
    }

    #[test]
    fn max_depth_trims_the_far_levels() {
        let mut b = OrderBook::new(SeqRule::Gate, Some(2));
        b.load_snapshot::<Infallible>(1, |w| {
            for p in ["1", "2", "3"] {
                w.bid(d(p), d("1"));
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(b.bids().len(), 2);
        delta(&mut b, 2, 2, &[("4", "1")], &[]);
        assert_eq!(
            b.bids().iter().map(|l| l.0).collect::<Vec<_>>(),
            [d("4"), d("3")]
        );
    }
}
