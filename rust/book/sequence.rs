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
//! - Binance spot (`binance.md` §4.1 step 6 and the §4.2 pseudo-code): every push with
//!   `u <= L` is stale, `U > L + 1` is a gap, anything else applies; so the first push after
//!   the snapshot needs `U <= L + 1 <= u` and later ones normally start at `L + 1` (an
//!   overlapping push is applied: sizes are absolute, so re-applied ids are harmless).
//! - Binance USDⓈ-M futures (`binance.md` §8.3): ids are not contiguous between pushes, each
//!   push names the last id of the previous one (`pu`). The first push after a snapshot with
//!   id S is stale when `u < S` and applies when `U <= S <= u` (no `+ 1`, unlike spot);
//!   every later push must have `pu == L`. [`OrderBook::apply_linked_delta`] feeds `pu + 1`
//!   as the first id of later pushes, so the check below is exact continuity.
//!
//! - KuCoin spot (`kucoin.md` §4.1, §4.2): the first push after a snapshot with id L needs
//!   `sequenceStart <= L + 1 <= sequenceEnd` (its entries whose own sequence is <= L are
//!   skipped by the decoder); later pushes must start at `L + 1`; `sequenceEnd <= L` is
//!   stale. The MEXC rule, word for word.
//! - KuCoin futures (`kucoin.md` §7.2): one id per push, `sequence == L + 1`, stale when
//!   `<= L`, else a gap: the same rule with `first == last`.
//!
//! [`OrderBook::apply_linked_delta`]: super::OrderBook::apply_linked_delta

/// Which exchange's continuity rule the book enforces.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SeqRule {
    /// MEXC aggregated depth: strict continuity after the first push.
    Mexc,
    /// Gate.io spot and futures `U`/`u`: straddling pushes are accepted.
    Gate,
    /// Binance spot `U`/`u` (`binance.md` §4.1).
    BinanceSpot,
    /// Binance USDⓈ-M futures `U`/`u`/`pu` (`binance.md` §8.3).
    BinanceFutures,
    /// KuCoin spot `sequenceStart`/`sequenceEnd` (`kucoin.md` §4): strict after the first push.
    KucoinSpot,
    /// KuCoin futures `sequence` (`kucoin.md` §7.2): each push is exactly `L + 1`.
    KucoinFutures,
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
    if rule == SeqRule::BinanceFutures && first_pending {
        // The snapshot id must lie inside the first push: `U <= S <= u` (binance.md §8.3
        // steps 3-4), so a push ending exactly at S still applies.
        return if last < last_id {
            Status::Stale
        } else if first <= last_id {
            Status::Applied
        } else {
            Status::Gap
        };
    }
    if last <= last_id {
        return Status::Stale;
    }
    let next = last_id.saturating_add(1);
    let ok = match rule {
        SeqRule::Gate | SeqRule::BinanceSpot => first <= next,
        _ if first_pending => first <= next,
        SeqRule::Mexc | SeqRule::BinanceFutures | SeqRule::KucoinSpot | SeqRule::KucoinFutures => {
            first == next
        }
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

    #[test]
    fn binance_spot_follows_the_documented_procedure() {
        let r = SeqRule::BinanceSpot;
        // First push: `u <= S` stale, `U <= S + 1 <= u` applies, `U > S + 1` is a gap.
        assert_eq!(check(r, Synced, 160, true, 157, 160), Status::Stale);
        assert_eq!(check(r, Synced, 160, true, 157, 161), Status::Applied);
        assert_eq!(check(r, Synced, 160, true, 161, 165), Status::Applied);
        assert_eq!(check(r, Synced, 160, true, 162, 165), Status::Gap);
        // Later pushes: `U == L + 1` normally; an overlap applies (absolute sizes).
        assert_eq!(check(r, Synced, 160, false, 161, 170), Status::Applied);
        assert_eq!(check(r, Synced, 160, false, 158, 170), Status::Applied);
        assert_eq!(check(r, Synced, 160, false, 162, 170), Status::Gap);
        assert_eq!(check(r, Synced, 160, false, 150, 160), Status::Stale);
    }

    #[test]
    fn binance_futures_first_push_must_contain_the_snapshot_id() {
        let r = SeqRule::BinanceFutures;
        assert_eq!(check(r, Synced, 160, true, 150, 159), Status::Stale);
        // `u == S` is not stale on futures: `U <= S <= u` holds.
        assert_eq!(check(r, Synced, 160, true, 157, 160), Status::Applied);
        assert_eq!(check(r, Synced, 160, true, 160, 170), Status::Applied);
        // No `+ 1`: a first push starting right after S is a gap.
        assert_eq!(check(r, Synced, 160, true, 161, 170), Status::Gap);
        assert_eq!(check(r, OutOfSync, 160, true, 157, 160), Status::NotSynced);
    }

    #[test]
    fn kucoin_spot_calibrates_then_requires_continuity() {
        let r = SeqRule::KucoinSpot;
        assert_eq!(check(r, Synced, 16, true, 10, 16), Status::Stale);
        assert_eq!(check(r, Synced, 16, true, 15, 19), Status::Applied);
        assert_eq!(check(r, Synced, 16, true, 17, 19), Status::Applied);
        assert_eq!(check(r, Synced, 16, true, 18, 19), Status::Gap);
        assert_eq!(check(r, Synced, 19, false, 20, 25), Status::Applied);
        assert_eq!(check(r, Synced, 19, false, 18, 25), Status::Gap);
        assert_eq!(check(r, Synced, 19, false, 21, 25), Status::Gap);
        assert_eq!(check(r, Synced, 19, false, 15, 19), Status::Stale);
    }

    #[test]
    fn kucoin_futures_is_one_id_per_push() {
        let r = SeqRule::KucoinFutures;
        for first_pending in [true, false] {
            assert_eq!(check(r, Synced, 16, first_pending, 16, 16), Status::Stale);
            assert_eq!(check(r, Synced, 16, first_pending, 17, 17), Status::Applied);
            assert_eq!(check(r, Synced, 16, first_pending, 18, 18), Status::Gap);
        }
    }

    /// A true futures stream (ids with holes between pushes, `pu` = previous `u`), a
    /// snapshot taken somewhere inside it, and deliveries with drops, duplicates and
    /// reorders. The model knows which push is the correct next one; the book must apply
    /// exactly that one, call older ones stale and anything else a gap.
    #[test]
    fn binance_futures_book_agrees_with_a_model_of_the_stream() {
        use crate::book::OrderBook;
        use std::convert::Infallible;
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut rnd = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for _ in 0..2_000 {
            // (U, u, pu)
            let mut stream = Vec::new();
            let mut u = 1000 + rnd(50);
            for _ in 0..20 {
                let first = u + 1 + rnd(3);
                let last = first + rnd(5);
                stream.push((first, last, u));
                u = last;
            }
            let snap = stream[0].0 + rnd(stream[10].1 - stream[0].0);
            let mut book = OrderBook::new(SeqRule::BinanceFutures, None);
            book.load_snapshot::<Infallible>(snap, |_| Ok(())).unwrap();
            // Model: index of the last applied push, None before the first.
            let mut applied: Option<usize> = None;
            for _ in 0..30 {
                let i = rnd(stream.len() as u64) as usize;
                let (first, last, prev) = stream[i];
                let want = match applied {
                    None if last < snap => Status::Stale,
                    None if first <= snap => Status::Applied,
                    None => Status::Gap,
                    Some(j) if i <= j => Status::Gap,
                    Some(j) if i == j + 1 => Status::Applied,
                    Some(_) => Status::Gap,
                };
                // A push at or before the last applied one: its `pu` is not `L`, so the
                // documented rule calls it a gap unless it is wholly stale (`u <= L`).
                let want = match (applied, want) {
                    (Some(j), Status::Gap) if i <= j => Status::Stale,
                    _ => want,
                };
                let got = book
                    .apply_linked_delta::<Infallible>(first, last, prev, |_| Ok(()))
                    .unwrap();
                assert_eq!(
                    got, want,
                    "push {i} {:?} snap {snap} applied {applied:?}",
                    stream[i]
                );
                match got {
                    Status::Applied => applied = Some(i),
                    Status::Stale => {}
                    _ => break,
                }
            }
        }
    }
}
