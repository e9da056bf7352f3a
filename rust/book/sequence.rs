//! Sequence rules that decide whether a delta may touch the book.
//!
//! Both exchange families number book changes with a u64 id and tag each push with the first
//! and last id it covers (MEXC `fromVersion`/`toVersion`, Gate.io `U`/`u`). Sizes are absolute,
//! so re-applying ids the book already holds is harmless; skipping ids is not.
//!
//! - MEXC (`mexc.md` §6.2): after a snapshot with id S, pushes with `to <= S` are stale; the
//!   first applied push needs `from <= S + 1 <= to`; every later push must start exactly at the
//!   previous `to + 1`. Anything else is a violation and forces a resync.
//! - Gate.io (`gateio.md` §4.2, §6.3): the same first-push rule; afterwards a push with
//!   `U <= L + 1 <= u` applies (a straddling push is safe with absolute sizes), `u <= L` is
//!   stale and `U > L + 1` is a gap. Empty pushes still advance the id.

/// Which exchange's continuity rule the book enforces.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SeqRule {
    /// MEXC aggregated depth: strict continuity after the first push.
    Mexc,
    /// Gate.io spot and futures `U`/`u`: straddling pushes are accepted.
    Gate,
}

/// What happened to one delta or snapshot.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// The delta was applied and the book is in sync.
    Applied,
    /// The delta covered only ids the book already holds; it was skipped.
    Stale,
    /// Ids were missed: the book is now out of sync and needs a snapshot.
    Gap,
    /// After applying, best bid >= best ask: the book is now out of sync.
    Crossed,
    /// The book had no valid snapshot, so the delta was refused.
    NotSynced,
}

impl Status {
    /// Lower-case name used in Python reprs and logs.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::Stale => "stale",
            Status::Gap => "gap",
            Status::Crossed => "crossed",
            Status::NotSynced => "not_synced",
        }
    }
}

/// Whether the book can be trusted.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SyncState {
    /// No snapshot has been loaded yet.
    Empty,
    /// Seeded by a snapshot and continuous since.
    Synced,
    /// A gap, crossed book or malformed delta was seen; waiting for a snapshot.
    OutOfSync,
}

/// The verdict for a delta covering ids `first..=last`, before it touches the book.
pub(crate) fn check(
    rule: SeqRule,
    state: SyncState,
    last_id: u64,
    first_pending: bool,
    first: u64,
    last: u64,
) -> Status {
    if state != SyncState::Synced {
        return Status::NotSynced;
    }
    if first > last {
        // A reversed range is malformed; treating it as lost data is the only safe answer.
        return Status::Gap;
    }
    if last <= last_id {
        return Status::Stale;
    }
    let next = last_id.saturating_add(1);
    let ok = if first_pending || rule == SeqRule::Gate {
        first <= next
    } else {
        first == next
    };
    if ok {
        Status::Applied
    } else {
        Status::Gap
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SyncState::*;

    #[test]
    fn first_push_must_straddle_the_snapshot() {
        for rule in [SeqRule::Mexc, SeqRule::Gate] {
            assert_eq!(check(rule, Synced, 100, true, 90, 100), Status::Stale);
            assert_eq!(check(rule, Synced, 100, true, 95, 105), Status::Applied);
            assert_eq!(check(rule, Synced, 100, true, 101, 105), Status::Applied);
            assert_eq!(check(rule, Synced, 100, true, 102, 105), Status::Gap);
        }
    }

    #[test]
    fn mexc_requires_exact_continuity_after_the_first_push() {
        assert_eq!(
            check(SeqRule::Mexc, Synced, 100, false, 101, 120),
            Status::Applied
        );
        assert_eq!(
            check(SeqRule::Mexc, Synced, 100, false, 99, 120),
            Status::Gap
        );
        assert_eq!(
            check(SeqRule::Mexc, Synced, 100, false, 102, 120),
            Status::Gap
        );
        assert_eq!(
            check(SeqRule::Mexc, Synced, 100, false, 90, 100),
            Status::Stale
        );
    }

    #[test]
    fn gate_accepts_a_straddling_push_mid_stream() {
        assert_eq!(
            check(SeqRule::Gate, Synced, 100, false, 99, 120),
            Status::Applied
        );
        assert_eq!(
            check(SeqRule::Gate, Synced, 100, false, 102, 120),
            Status::Gap
        );
    }

    #[test]
    fn unsynced_books_refuse_and_reversed_ranges_are_gaps() {
        assert_eq!(
            check(SeqRule::Gate, Empty, 0, true, 1, 2),
            Status::NotSynced
        );
        assert_eq!(
            check(SeqRule::Gate, OutOfSync, 0, true, 1, 2),
            Status::NotSynced
        );
        assert_eq!(
            check(SeqRule::Gate, Synced, 100, false, 110, 105),
            Status::Gap
        );
    }

    #[test]
    fn ids_near_u64_max_do_not_wrap() {
        assert_eq!(
            check(
                SeqRule::Mexc,
                Synced,
                u64::MAX - 1,
                false,
                u64::MAX,
                u64::MAX
            ),
            Status::Applied
        );
        assert_eq!(
            check(SeqRule::Mexc, Synced, u64::MAX, false, u64::MAX, u64::MAX),
            Status::Stale
        );
    }
}
