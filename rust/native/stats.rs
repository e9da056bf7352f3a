//! Per-stage metrics of the worker: counts, a read -> applied histogram per depth update and
//! an optional bounded trace ring.
//!
//! The worker records into its own copy (no lock, no allocation per message) and merges it
//! into the shared one once per socket read; Python copies the shared one when asked.

use std::collections::VecDeque;

use crate::metrics::Histogram;

/// One traced depth update: (book id, last update id, read ns, applied ns).
pub type TraceEntry = (u32, u64, u64, u64);

/// Counters of the worker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Socket reads that returned bytes.
    pub reads: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Data messages decoded.
    pub messages: u64,
    /// Depth pushes offered to a book.
    pub depth: u64,
    /// Data messages queued for Python.
    pub queued: u64,
    /// Connections opened.
    pub connects: u64,
    /// Connections lost (each is followed by a reconnect unless stopping).
    pub disconnects: u64,
    /// WebSocket pings answered.
    pub pings: u64,
    /// Commands handled.
    pub commands: u64,
}

/// Counters and the latency histogram.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// The counters.
    pub counts: Counters,
    /// read -> applied ns per applied depth update.
    pub read_to_applied: Histogram,
}

/// The last `capacity` depth updates applied (off when the capacity is zero).
#[derive(Clone, Debug, Default)]
pub struct Trace {
    capacity: usize,
    entries: VecDeque<TraceEntry>,
}

impl Trace {
    /// A ring of `capacity` entries, allocated once.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: VecDeque::with_capacity(capacity),
        }
    }

    /// Whether entries are kept.
    #[inline]
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.capacity != 0
    }

    /// Adds one entry, dropping the oldest when full.
    #[inline]
    pub fn push(&mut self, e: TraceEntry) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(e);
    }

    /// The entries, oldest first.
    #[must_use]
    pub fn entries(&self) -> Vec<TraceEntry> {
        self.entries.iter().copied().collect()
    }
}

impl Counters {
    /// Adds `other` (the worker's per-read tally).
    pub fn add(&mut self, other: &Counters) {
        self.reads += other.reads;
        self.bytes += other.bytes;
        self.messages += other.messages;
        self.depth += other.depth;
        self.queued += other.queued;
        self.connects += other.connects;
        self.disconnects += other.disconnects;
        self.pings += other.pings;
        self.commands += other.commands;
    }
}
