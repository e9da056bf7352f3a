//! A book's published state: written by the worker after each socket read, read by Python
//! without a lock that could block the writer (a double-buffered sequence lock over atomic
//! words).
//!
//! There are two copies. The writer fills the one readers are not pointed at (its sequence
//! odd while it writes, even after), then points readers at it. A reader copies the current
//! one between two loads of its sequence and keeps the copy only when both loads saw the same
//! even value. A writer preempted mid-publish therefore never stalls readers (they read the
//! other copy); a reader retries only if the writer finished one publish and started the next
//! during its copy. All words are atomics (relaxed), so a torn copy is a retry, never
//! undefined behaviour. The writer is the worker thread alone.

use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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
    /// Per copy: odd while the writer fills it.
    seq: [AtomicU64; 2],
    /// The copy readers read.
    current: AtomicUsize,
    top: usize,
    /// Words per copy.
    len: usize,
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
        let len = HEADER + 2 * top * LEVEL_WORDS;
        let words = (0..2 * len).map(|_| AtomicU64::new(0)).collect();
        Self {
            seq: [AtomicU64::new(0), AtomicU64::new(0)],
            current: AtomicUsize::new(0),
            top,
            len,
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

    /// The words of copy `slot`.
    #[inline]
    fn words(&self, slot: usize) -> &[AtomicU64] {
        &self.words[slot * self.len..(slot + 1) * self.len]
    }

    fn put_side(&self, w: &[AtomicU64], base: usize, side: &Side) -> u64 {
        let mut n = 0;
        for (i, (p, s)) in side.iter().take(self.top).enumerate() {
            let at = base + i * LEVEL_WORDS;
            let (p, s) = (p.raw() as u128, s.raw() as u128);
            put(w, at, p as u64);
            put(w, at + 1, (p >> 64) as u64);
            put(w, at + 2, s as u64);
            put(w, at + 3, (s >> 64) as u64);
            n += 1;
        }
        n
    }

    fn get_side(w: &[AtomicU64], base: usize, n: usize, out: &mut Vec<(Decimal, Decimal)>) {
        for i in 0..n {
            let at = base + i * LEVEL_WORDS;
            let p = u128::from(get(w, at)) | (u128::from(get(w, at + 1)) << 64);
            let s = u128::from(get(w, at + 2)) | (u128::from(get(w, at + 3)) << 64);
            out.push((Decimal::from_raw(p as i128), Decimal::from_raw(s as i128)));
        }
    }

    /// Publishes `book` (the worker alone calls this). `read_ns`/`applied_ns`: the read that
    /// carried the last applied update and when it was applied (0: keep the previous ones).
    pub fn publish(&self, book: &OrderBook, read_ns: u64, applied_ns: u64) {
        let cur = self.current.load(Ordering::Relaxed);
        let next = 1 - cur;
        let (old, w) = (self.words(cur), self.words(next));
        let s = self.seq[next].load(Ordering::Relaxed);
        self.seq[next].store(s.wrapping_add(1), Ordering::Relaxed);
        // Readers that see the odd sequence retry; the words below are not read as valid
        // before the even store that follows them.
        fence(Ordering::Release);
        put(w, PHASE, phase_code(book.phase()));
        put(w, LINKED, u64::from(book.linked()));
        put(w, SEQUENCE, book.sequence());
        put(w, STREAM_SEQUENCE, book.stream_sequence());
        put(w, APPLIED, book.counts.applied);
        put(w, HELD, book.pending.len() as u64);
        put(w, BID_COUNT, book.bids().len() as u64);
        put(w, ASK_COUNT, book.asks().len() as u64);
        let (r, a) = if applied_ns != 0 {
            (read_ns, applied_ns)
        } else {
            (get(old, READ_NS), get(old, APPLIED_NS))
        };
        put(w, READ_NS, r);
        put(w, APPLIED_NS, a);
        put(w, STALE, book.counts.stale);
        put(w, GAPS, book.counts.gaps);
        put(w, CROSSED, book.counts.crossed);
        put(w, REFUSED, book.counts.refused);
        put(w, SNAPSHOTS, book.counts.snapshots);
        put(w, TOP_CHANGED, u64::from(book.top_changed()));
        let nb = self.put_side(w, HEADER, book.bids());
        let na = self.put_side(w, HEADER + self.top * LEVEL_WORDS, book.asks());
        put(w, N_BIDS, nb);
        put(w, N_ASKS, na);
        self.seq[next].store(s.wrapping_add(2), Ordering::Release);
        self.current.store(next, Ordering::Release);
    }

    /// One consistent copy with at most `levels` levels per side. Retries while the writer
    /// laps the copy being read: `attempts` times, yielding the CPU after the first few, and
    /// for at most 50 ms (the worker may be preempted between two publishes).
    ///
    /// # Errors
    /// [`Torn`] when every attempt overlapped a publish.
    pub fn read(&self, levels: usize, attempts: u32) -> Result<BookState, Torn> {
        let mut st = BookState::default();
        let deadline = Instant::now() + Duration::from_millis(50);
        for attempt in 0..attempts.max(1) {
            if attempt >= 64 {
                if Instant::now() > deadline {
                    break;
                }
                std::thread::yield_now();
            }
            let slot = self.current.load(Ordering::Acquire);
            let w = self.words(slot);
            let s1 = self.seq[slot].load(Ordering::Acquire);
            if s1 & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let n_bids = (get(w, N_BIDS) as usize).min(self.top).min(levels);
            let n_asks = (get(w, N_ASKS) as usize).min(self.top).min(levels);
            st.phase = phase_of(get(w, PHASE));
            st.linked = get(w, LINKED) != 0;
            st.sequence = get(w, SEQUENCE);
            st.stream_sequence = get(w, STREAM_SEQUENCE);
            st.applied = get(w, APPLIED);
            st.held = get(w, HELD);
            st.bid_count = get(w, BID_COUNT);
            st.ask_count = get(w, ASK_COUNT);
            st.read_ns = get(w, READ_NS);
            st.applied_ns = get(w, APPLIED_NS);
            st.stale = get(w, STALE);
            st.gaps = get(w, GAPS);
            st.crossed = get(w, CROSSED);
            st.refused = get(w, REFUSED);
            st.snapshots = get(w, SNAPSHOTS);
            st.top_changed = get(w, TOP_CHANGED) != 0;
            st.bids.clear();
            st.asks.clear();
            Self::get_side(w, HEADER, n_bids, &mut st.bids);
            Self::get_side(w, HEADER + self.top * LEVEL_WORDS, n_asks, &mut st.asks);
            fence(Ordering::Acquire);
            if self.seq[slot].load(Ordering::Relaxed) == s1 {
                return Ok(st);
            }
        }
        Err(Torn)
    }
}

#[inline]
fn put(w: &[AtomicU64], i: usize, v: u64) {
    w[i].store(v, Ordering::Relaxed);
}

#[inline]
fn get(w: &[AtomicU64], i: usize) -> u64 {
    w[i].load(Ordering::Relaxed)
}
