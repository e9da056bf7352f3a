//! `Side` against a `BTreeMap` model: fixed cases, then random operations at every depth.

use super::super::pages::PAGE;
use super::*;
use std::collections::BTreeMap;

fn d(v: i64) -> Decimal {
    Decimal::from_i64(v)
}

/// Deterministic xorshift, so every run checks the same cases without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The structure's own rules: pages non-empty, within capacity, never reallocated, sorted
/// within and across pages and below the window; every key on the ladder's tick; the best
/// level in the window; the level count kept.
fn check_invariants(side: &Side) {
    let mut prev: Option<i128> = None;
    let mut n = 0;
    for page in side.far.raw_pages() {
        assert!(
            !page.is_empty() && page.len() <= PAGE,
            "page of {}",
            page.len()
        );
        assert_eq!(page.capacity(), PAGE, "pages never reallocate");
        for e in page {
            assert!(prev.is_none_or(|p| p < e.key), "keys ascend strictly");
            assert!(!e.size.is_zero(), "no zero level is kept");
            assert!(
                e.key < side.ladder.base(),
                "pages hold only levels below the window"
            );
            assert!(on_tick(e.key, side.ladder.exp()), "page keys on the tick");
            prev = Some(e.key);
        }
        n += page.len();
    }
    assert_eq!(n, side.far.len());
    assert!(
        side.far.len() == 0 || side.ladder.len() > 0,
        "the best is in the window"
    );
    assert_eq!(side.len(), side.ladder.len() + side.far.len());
    assert_eq!(side.iter().len(), side.len());
    let levels: Vec<_> = side.iter().collect();
    assert_eq!(levels.len(), side.len());
    for w in levels.windows(2) {
        let (k0, k1) = (side.key(w[0].0), side.key(w[1].0));
        assert!(k0 > k1, "best first, strictly");
    }
}

/// The side equals the model: every level in order, best first, and `size_at` agrees.
fn check_model(side: &Side, model: &BTreeMap<Decimal, Decimal>, is_bid: bool) {
    let mut want: Vec<_> = model.iter().map(|(p, s)| (*p, *s)).collect();
    if is_bid {
        want.reverse();
    }
    assert_eq!(side.iter().collect::<Vec<_>>(), want);
    assert_eq!(side.best(), want.first().copied());
    assert_eq!(side.best_price(), want.first().map(|l| l.0));
    assert_eq!(side.len(), model.len());
    assert_eq!(side.is_empty(), model.is_empty());
}

fn model_set(model: &mut BTreeMap<Decimal, Decimal>, p: Decimal, s: Decimal) {
    if s.is_zero() {
        model.remove(&p);
    } else {
        model.insert(p, s);
    }
}

fn model_best(model: &BTreeMap<Decimal, Decimal>, is_bid: bool) -> Option<(Decimal, Decimal)> {
    let best = if is_bid {
        model.iter().next_back()
    } else {
        model.iter().next()
    };
    best.map(|(p, s)| (*p, *s))
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
    assert!(!b.set(d(4), Decimal::ZERO), "a zero on an empty side");
    b.set(d(5), d(2));
    assert!(!b.set(d(4), Decimal::ZERO));
    assert_eq!(b.len(), 1);
    assert!(b.set(d(5), Decimal::ZERO));
    assert!(b.is_empty());
    assert_eq!(b.best(), None);
    assert_eq!(b.size_at(d(5)), Decimal::ZERO);
}

#[test]
fn load_sorts_dedups_and_drops_zeros() {
    let mut a = Side::new(false);
    let mut pairs = vec![
        (d(3), d(1)),
        (d(1), d(1)),
        (d(2), Decimal::ZERO),
        (d(3), d(7)),
        (d(4), d(1)),
        (d(4), Decimal::ZERO),
    ];
    a.load(&mut pairs);
    assert_eq!(a.iter().collect::<Vec<_>>(), [(d(1), d(1)), (d(3), d(7))]);
    check_invariants(&a);
}

#[test]
fn load_puts_the_top_in_the_window_and_the_rest_in_full_pages() {
    for is_bid in [true, false] {
        let mut side = Side::new(is_bid);
        // 5,000 levels every other tick of 0.01: the bench_memory shape.
        let mut pairs: Vec<_> = (0..5000)
            .map(|i| {
                (
                    Decimal::from_raw((3_000_000 + 2 * i) * 10i128.pow(16)),
                    d(1),
                )
            })
            .collect();
        side.load(&mut pairs.clone());
        check_invariants(&side);
        assert_eq!(side.ladder.exp(), 16, "the tick is 0.01");
        assert_eq!(side.ladder.width(), MAX_WIDTH);
        let pages = side.far.raw_pages();
        assert!(pages[..pages.len() - 1].iter().all(|p| p.len() == PAGE));
        let mut model = BTreeMap::new();
        for (p, s) in pairs.drain(..) {
            model.insert(p, s);
        }
        check_model(&side, &model, is_bid);
        let mut fewer: Vec<_> = (0..10).map(|p| (d(p), d(2))).collect();
        side.load(&mut fewer);
        check_invariants(&side);
        assert_eq!(side.len(), 10);
        assert_eq!(side.ladder.width(), MIN_WIDTH);
        assert_eq!(
            side.best(),
            Some(if is_bid { (d(9), d(2)) } else { (d(0), d(2)) })
        );
        side.load(&mut []);
        assert!(side.is_empty() && side.best().is_none());
    }
}

#[test]
fn a_finer_tick_re_ticks_the_side() {
    let mut b = Side::new(true);
    let mut model = BTreeMap::new();
    let prices = [
        "100",
        "90",
        "100.5",
        "99.25",
        "1000",
        "0.000000000000000001",
        "-3",
        "0",
    ];
    for (i, p) in prices.iter().enumerate() {
        let p = Decimal::parse(p).unwrap();
        b.set(p, d(i as i64 + 1));
        model.insert(p, d(i as i64 + 1));
        check_invariants(&b);
        check_model(&b, &model, true);
    }
    assert_eq!(b.ladder.exp(), 0, "down to the raw unit");
    // A zero for an off-tick or absent price changes nothing.
    let mut a = Side::new(false);
    a.set(d(5), d(1));
    assert!(!a.set(Decimal::parse("5.5").unwrap(), Decimal::ZERO));
    assert!(!a.set(d(1_000_000), Decimal::ZERO));
    assert!(!a.set(d(-1_000_000), Decimal::ZERO));
    assert_eq!(a.len(), 1);
    assert_eq!(a.size_at(Decimal::parse("5.5").unwrap()), Decimal::ZERO);
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
    check_invariants(&b);
}

#[test]
fn truncate_drain_returns_the_far_levels_far_first_across_pages() {
    for (n, depth) in [
        (1000, 10),
        (1000, 999),
        (1000, 0),
        (5, 10),
        (PAGE * 3, PAGE),
    ] {
        let mut a = Side::new(false);
        let mut pairs: Vec<_> = (0..n as i64).map(|p| (d(p), d(p + 1))).collect();
        a.load(&mut pairs);
        let got: Vec<_> = a.truncate_drain(depth).collect();
        let cut = n.saturating_sub(depth);
        let want: Vec<_> = (0..n as i64)
            .rev()
            .take(cut)
            .map(|p| (d(p), d(p + 1)))
            .collect();
        assert_eq!(got, want, "n={n} depth={depth}");
        assert_eq!(a.len(), n.min(depth));
        check_invariants(&a);
        assert_eq!(a.iter().next(), (n > 0 && depth > 0).then(|| (d(0), d(1))));
    }
}

/// Random operations against the model, in a pattern chosen per run: top-heavy (the
/// exchanges' shape), deep inserts and deletes at every depth, the top moving far across
/// page boundaries, huge, negative and zero prices, zero sizes for levels that are absent.
#[test]
fn matches_a_btreemap_model_under_random_operations() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // (price range, operations, share of zero sizes in %)
    let patterns: [(i128, usize, u64); 4] = [
        (300, 20_000, 25),
        (5_000, 30_000, 40),
        (1 << 40, 8_000, 10),
        (3, 2_000, 50),
    ];
    for is_bid in [true, false] {
        for &(range, ops, zeros) in &patterns {
            let mut side = Side::new(is_bid);
            let mut model = BTreeMap::new();
            for step in 0..ops {
                // Prices below, at and above zero; for the huge range, near the i128 edge the
                // parser allows too.
                let raw = (rng.next() as i128 % range) - range / 3;
                let p = if range > 1 << 30 && step % 7 == 0 {
                    Decimal::from_raw((i128::MAX / 2) - raw.abs())
                } else {
                    // Mostly 0.01 ticks, sometimes whole units or a much finer tick.
                    let scale = [16, 16, 16, 16, 16, 16, 18, 18, 10][rng.below(9) as usize];
                    Decimal::from_raw(raw * 10i128.pow(scale))
                };
                // Sometimes hit an existing level at a random depth (deep deletes).
                let p = if step % 5 == 0 && !model.is_empty() {
                    let k = rng.below(model.len() as u64) as usize;
                    *model.keys().nth(k).unwrap()
                } else {
                    p
                };
                let s = if rng.below(100) < zeros {
                    Decimal::ZERO
                } else {
                    Decimal::from_raw(1 + rng.below(1 << 50) as i128)
                };
                let before = model_best(&model, is_bid);
                let changed = side.set(p, s);
                model_set(&mut model, p, s);
                let after = model_best(&model, is_bid);
                assert_eq!(side.best(), after);
                // True exactly when the level written is (or was, for a delete) the best.
                let touched_top = if s.is_zero() {
                    before.map(|b| b.0) == Some(p)
                } else {
                    after.map(|a| a.0) == Some(p)
                };
                assert_eq!(changed, touched_top, "step {step}");
                if step % 997 == 0 {
                    check_invariants(&side);
                    check_model(&side, &model, is_bid);
                    let probe = Decimal::from_raw(p.raw() + 1);
                    assert_eq!(side.size_at(p), model.get(&p).copied().unwrap_or_default());
                    assert_eq!(
                        side.size_at(probe),
                        model.get(&probe).copied().unwrap_or_default()
                    );
                }
            }
            check_invariants(&side);
            check_model(&side, &model, is_bid);
            for (p, s) in &model {
                assert_eq!(side.size_at(*p), *s);
            }
            // Empty the side from a random order of deletes: pages merge down to none.
            let mut keys: Vec<_> = model.keys().copied().collect();
            for i in (1..keys.len()).rev() {
                keys.swap(i, rng.below(i as u64 + 1) as usize);
            }
            for (j, p) in keys.iter().enumerate() {
                side.set(*p, Decimal::ZERO);
                model.remove(p);
                if j % 211 == 0 {
                    check_invariants(&side);
                    check_model(&side, &model, is_bid);
                }
            }
            assert!(side.is_empty() && side.far.len() == 0);
        }
    }
}

/// The top walking away from a deep book and back: every step inserts a new best (or deletes
/// the best), which crosses page boundaries in both directions.
#[test]
fn top_moves_across_pages_in_both_directions() {
    for is_bid in [true, false] {
        let mut side = Side::new(is_bid);
        let mut model = BTreeMap::new();
        let mut pairs: Vec<_> = (0..1000).map(|p| (d(p * 2), d(1))).collect();
        side.load(&mut pairs.clone());
        for (p, s) in pairs.drain(..) {
            model.insert(p, s);
        }
        let step = if is_bid { 1 } else { -1 };
        let mut top = if is_bid { 1998 } else { 0 };
        for _ in 0..500 {
            top += step;
            assert!(side.set(d(top), d(3)), "a new best");
            model.insert(d(top), d(3));
        }
        for _ in 0..1200 {
            assert!(side.set(d(top), Decimal::ZERO), "the best goes");
            model.remove(&d(top));
            top = (model_best(&model, is_bid).unwrap().0.raw() / Decimal::ONE_RAW) as i64;
        }
        check_invariants(&side);
        check_model(&side, &model, is_bid);
    }
}

/// A price that trends for a long way (every update a new best, the old top thinned out
/// behind it) keeps re-anchoring the window; the side stays exact and the window stays small.
#[test]
fn a_long_trend_re_anchors_the_window_and_stays_exact() {
    for is_bid in [true, false] {
        let mut side = Side::new(is_bid);
        let mut model = BTreeMap::new();
        let step = if is_bid { 1 } else { -1 };
        for i in 0..20_000i64 {
            let p = Decimal::from_raw(i128::from(i * step) * 10i128.pow(16));
            assert!(side.set(p, d(1)), "a new best");
            model.insert(p, d(1));
            if i % 3 == 0 {
                // Thin out a level a little below the top.
                let q = Decimal::from_raw(i128::from((i - 5) * step) * 10i128.pow(16));
                side.set(q, Decimal::ZERO);
                model.remove(&q);
            }
        }
        check_invariants(&side);
        check_model(&side, &model, is_bid);
        assert!(side.ladder.width() <= MAX_WIDTH);
    }
}
