//! A book's published state: written by the worker after each socket read, read by Python
//! without a lock that could block the writer (a sequence lock over atomic words).
//!
//! The writer makes the sequence odd, stores every word, then makes it even again; a reader
//! copies the words between two loads of the sequence and keeps the copy only when both loads
//! saw the same even value. All words are atomics (relaxed), so a torn copy is a retry, never
//! undefined behaviour. The writer is the worker thread alone.

use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};

use crate::book::{OrderBook, Phase, Side};
use crate::decimal::Decimal;

/// Levels per side published when the registration does not say.
pub const DEFAULT_TOP: usize = 20;

// Word offsets of the scalar fields.
const PHASE: usize = 0;
const LINKED: usize = 1;
const SEQUENCE: usize = 2;
const STREAM_SEQUENCE: usize = 3;
const APPLIED: usize = 4;
const HELD: usize = 5;
const BID_COUNT: usize = 6;
const ASK_COUNT: usize = 7;
const READ_NS: usize = 8;
const APPLIED_NS: usize = 9;
const STALE: usize = 10;
const GAPS: usize = 11;
const CROSSED: usize = 12;
const REFUSED: usize = 13;
const SNAPSHOTS: usize = 14;
const N_BIDS: usize = 15;
const N_ASKS: usize = 16;
const TOP_CHANGED: usize = 17;
const HEADER: usize = 18;
/// Words per level: price and size, two words each (i128 raw decimals).
const LEVEL_WORDS: usize = 4;

/// One consistent copy of a published book.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookState {
    /// Where the book stands.
    pub phase: Option<Phase>,
    /// The connection is up and the subscription confirmed.
    pub linked: bool,
    /// The last change id applied.
    pub sequence: u64,
    /// The highest change id the stream has offered.
    pub stream_sequence: u64,
    /// Deltas applied since the book was made.
    pub applied: u64,
    /// Pushes held while waiting for a snapshot.
    pub held: u64,
    /// Levels per side in the whole book.
    pub bid_count: u64,
    /// Levels per side in the whole book.
    pub ask_count: u64,
    /// `CLOCK_MONOTONIC` ns of the socket read that carried the last applied update.
    pub read_ns: u64,
    /// `CLOCK_MONOTONIC` ns when that update was applied.
    pub applied_ns: u64,
    /// Deltas skipped as stale.
    pub stale: u64,
    /// Gaps detected.
    pub gaps: u64,
    /// Crossed books detected.
    pub crossed: u64,
    /// Deltas refused while out of sync.
    pub refused: u64,
    /// Snapshots loaded.
    pub snapshots: u64,
    /// The last applied update changed the best bid or ask.
    pub top_changed: bool,
    /// The best published bid levels, best first.
    pub bids: Vec<(Decimal, Decimal)>,
    /// The best published ask levels, best first.
    pub asks: Vec<(Decimal, Decimal)>,
}

impl BookState {
    /// True only in [`Phase::InSync`].
    #[must_use]
    pub fn in_sync(&self) -> bool {
        self.phase == Some(Phase::InSync)
    }
}

fn phase_code(p: Phase) -> u64 {
    match p {
        Phase::Empty => 0,
        Phase::Unconfirmed => 1,
        Phase::Unlinked => 2,
        Phase::OutOfSync => 3,
        Phase::InSync => 4,
    }
}

fn phase_of(code: u64) -> Option<Phase> {
    Some(match code {
        0 => Phase::Empty,
        1 => Phase::Unconfirmed,
        2 => Phase::Unlinked,
        3 => Phase::OutOfSync,
        4 => Phase::InSync,
        _ => return None,
    })
}

/// The reader gave up: the writer kept the sequence moving through every attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Torn;

/// The published state of one book.
pub struct BookView {
    seq: AtomicU64,
    top: usize,
    words: Box<[AtomicU64]>,
    /// An "applied" notification for this book waits in the queue (at most one: the
    /// listeners read the book as it is when they run, so later updates coalesce into it).
    pub notified: AtomicBool,
    /// An applied update changed the best bid or ask since the last notification was taken.
    pub top_since: AtomicBool,
}

impl BookView {
    /// A view publishing `top` levels per side (at least one).
    #[must_use]
    pub fn new(top: usize) -> Self {
        let top = top.max(1);
        let words = (0..HEADER + 2 * top * LEVEL_WORDS)
            .map(|_| AtomicU64::new(0))
            .collect();
        Self {
            seq: AtomicU64::new(0),
            top,
            words,
            notified: AtomicBool::new(false),
            top_since: AtomicBool::new(false),
        }
    }

    /// Levels per side published.
    #[must_use]
    pub fn top(&self) -> usize {
        self.top
    }

    #[inline]
    fn put(&self, i: usize, v: u64) {
        self.words[i].store(v, Ordering::Relaxed);
    }

    #[inline]
    fn get(&self, i: usize) -> u64 {
        self.words[i].load(Ordering::Relaxed)
    }

    fn put_side(&self, base: usize, side: &Side) -> u64 {
        let mut n = 0;
        for (i, (p, s)) in side.iter().take(self.top).enumerate() {
            let at = base + i * LEVEL_WORDS;
            let (p, s) = (p.raw() as u128, s.raw() as u128);
            self.put(at, p as u64);
            self.put(at + 1, (p >> 64) as u64);
            self.put(at + 2, s as u64);
            self.put(at + 3, (s >> 64) as u64);
            n += 1;
        }
        n
    }

    fn get_side(&self, base: usize, n: usize, out: &mut Vec<(Decimal, Decimal)>) {
        for i in 0..n {
            let at = base + i * LEVEL_WORDS;
            let p = u128::from(self.get(at)) | (u128::from(self.get(at + 1)) << 64);
            let s = u128::from(self.get(at + 2)) | (u128::from(self.get(at + 3)) << 64);
            out.push((Decimal::from_raw(p as i128), Decimal::from_raw(s as i128)));
        }
    }

    /// Publishes `book` (the worker alone calls this). `read_ns`/`applied_ns`: the read that
    /// carried the last applied update and when it was applied (0: keep the previous ones).
    pub fn publish(&self, book: &OrderBook, read_ns: u64, applied_ns: u64) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s.wrapping_add(1), Ordering::Relaxed);
        // Readers that see the odd sequence retry; the words below are not read as valid
        // before the even store that follows them.
        fence(Ordering::Release);
        self.put(PHASE, phase_code(book.phase()));
        self.put(LINKED, u64::from(book.linked()));
        self.put(SEQUENCE, book.sequence());
        self.put(STREAM_SEQUENCE, book.stream_sequence());
        self.put(APPLIED, book.counts.applied);
        self.put(HELD, book.pending.len() as u64);
        self.put(BID_COUNT, book.bids().len() as u64);
        self.put(ASK_COUNT, book.asks().len() as u64);
        if applied_ns != 0 {
            self.put(READ_NS, read_ns);
            self.put(APPLIED_NS, applied_ns);
        }
        self.put(STALE, book.counts.stale);
        self.put(GAPS, book.counts.gaps);
        self.put(CROSSED, book.counts.crossed);
        self.put(REFUSED, book.counts.refused);
        self.put(SNAPSHOTS, book.counts.snapshots);
        self.put(TOP_CHANGED, u64::from(book.top_changed()));
        let nb = self.put_side(HEADER, book.bids());
        let na = self.put_side(HEADER + self.top * LEVEL_WORDS, book.asks());
        self.put(N_BIDS, nb);
        self.put(N_ASKS, na);
        self.seq.store(s.wrapping_add(2), Ordering::Release);
    }

    /// One consistent copy with at most `levels` levels per side, trying at most `attempts`
    /// times while the writer is mid-publish.
    ///
    /// # Errors
    /// [`Torn`] when every attempt overlapped a publish.
    pub fn read(&self, levels: usize, attempts: u32) -> Result<BookState, Torn> {
        let mut st = BookState::default();
        for _ in 0..attempts.max(1) {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let n_bids = (self.get(N_BIDS) as usize).min(self.top).min(levels);
            let n_asks = (self.get(N_ASKS) as usize).min(self.top).min(levels);
            st.phase = phase_of(self.get(PHASE));
            st.linked = self.get(LINKED) != 0;
            st.sequence = self.get(SEQUENCE);
            st.stream_sequence = self.get(STREAM_SEQUENCE);
            st.applied = self.get(APPLIED);
            st.held = self.get(HELD);
            st.bid_count = self.get(BID_COUNT);
            st.ask_count = self.get(ASK_COUNT);
            st.read_ns = self.get(READ_NS);
            st.applied_ns = self.get(APPLIED_NS);
            st.stale = self.get(STALE);
            st.gaps = self.get(GAPS);
            st.crossed = self.get(CROSSED);
            st.refused = self.get(REFUSED);
            st.snapshots = self.get(SNAPSHOTS);
            st.top_changed = self.get(TOP_CHANGED) != 0;
            st.bids.clear();
            st.asks.clear();
            self.get_side(HEADER, n_bids, &mut st.bids);
            self.get_side(HEADER + self.top * LEVEL_WORDS, n_asks, &mut st.asks);
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == s1 {
                return Ok(st);
            }
        }
        Err(Torn)
    }
}
