"""Deterministic depth-update corpus shared by the benchmarks.

A seeded simulation of one instrument: a 1,000-level book per side around a drifting mid,
then a stream of deltas of 1-20 levels each, about a quarter of them deletions, clustered
near the top of the book the way real feeds are. Levels are decimal strings as they come
off the wire; the generator keeps its own exact model so every pipeline's final book can be
checked against ``expected``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from sortedcontainers import SortedDict

Levels = list[tuple[str, str]]


@dataclass
class DepthCorpus:
    snapshot_bids: Levels
    snapshot_asks: Levels
    snapshot_id: int
    updates: list[tuple[Levels, Levels, int, int]]
    expected_bids: dict[Decimal, Decimal]
    expected_asks: dict[Decimal, Decimal]


def _fmt_size(rng: random.Random) -> str:
    return f"{rng.uniform(0.0001, 5):.8f}"


def depth_corpus(
    n_updates: int = 20_000, depth: int = 1_000, seed: int = 7, mid_ticks: int = 3_000_000
) -> DepthCorpus:
    """Build a snapshot plus ``n_updates`` deltas (prices in ticks of 0.01).

    Each side keeps about ``depth`` levels: a non-deleting change inserts a new level near the
    top while the side is short of ``depth`` and updates an existing one otherwise.
    """
    rng = random.Random(seed)
    tick = Decimal("0.01")
    # Bids are keyed by negated ticks so that index 0 is the best level on both sides.
    bids = SortedDict({-(mid_ticks - 1 - 2 * i): _fmt_size(rng) for i in range(depth)})
    asks = SortedDict({mid_ticks + 1 + 2 * i: _fmt_size(rng) for i in range(depth)})

    def px(key: int, is_bid: bool) -> str:
        return str((-key if is_bid else key) * tick)

    snap_bids = [(px(k, True), s) for k, s in bids.items()]
    snap_asks = [(px(k, False), s) for k, s in asks.items()]
    seq = 1_000_000
    snapshot_id = seq
    updates = []
    for _ in range(n_updates):
        upd_bids: Levels = []
        upd_asks: Levels = []
        for _ in range(rng.randint(1, 20)):
            is_bid = rng.random() < 0.5
            side, other = (bids, asks) if is_bid else (asks, bids)
            out = upd_bids if is_bid else upd_asks
            # Distance from the top: mostly the first few levels, sometimes deep.
            dist = int(rng.expovariate(1 / 6)) if rng.random() < 0.9 else rng.randrange(len(side))
            dist = min(dist, len(side) - 1)
            if rng.random() < 0.25 and len(side) > 1:
                key = side.keys()[dist]
                del side[key]
                out.append((px(key, is_bid), "0"))
                continue
            if len(side) < depth:
                # A new level: just inside the spread or in a hole near the top.
                best_key = side.keys()[0]
                key = best_key - 1 if rng.random() < 0.3 else side.keys()[dist] + 1
                while key in side:
                    key += 1
                # Never cross: a bid must stay below the best ask and vice versa.
                crosses = (-key >= other.keys()[0]) if is_bid else (key <= -other.keys()[0])
                if other and crosses:
                    key = side.keys()[-1] + 1
            else:
                key = side.keys()[dist]
            size = _fmt_size(rng)
            side[key] = size
            out.append((px(key, is_bid), size))
        first = seq + 1
        seq += rng.randint(1, 4)
        updates.append((upd_bids, upd_asks, first, seq))
    return DepthCorpus(
        snap_bids,
        snap_asks,
        snapshot_id,
        updates,
        {Decimal(px(k, True)): Decimal(s) for k, s in bids.items()},
        {Decimal(px(k, False)): Decimal(s) for k, s in asks.items()},
    )
