"""Build a Rust order book from a snapshot and a stream of deltas, and time it.

Uses the deterministic benchmark corpus (a 1,000-level book per side and 20,000 deltas of
1-20 levels each), checks the final book level by level, and prints the top of book and the
time per update.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benches"))

import hftws
from corpus import depth_corpus


def main() -> None:
    corpus = depth_corpus(20_000)
    book = hftws.OrderBook("gate", symbol="BTC_USDT")
    book.load_snapshot(corpus.snapshot_bids, corpus.snapshot_asks, corpus.snapshot_id)
    print(f"snapshot: {book}")
    t0 = time.perf_counter_ns()
    for bids, asks, first, last in corpus.updates:
        status = book.apply(bids, asks, first, last)
        if not status.ok:
            raise SystemExit(f"unexpected {status} at ids {first}..{last}")
        book.bbo()
    elapsed = time.perf_counter_ns() - t0
    bids, asks = book.depth()
    exact = {Decimal(p): Decimal(s) for p, s in bids} == corpus.expected_bids and {
        Decimal(p): Decimal(s) for p, s in asks
    } == corpus.expected_asks
    print(f"after {len(corpus.updates):,} deltas: {book}")
    top_bids, top_asks = book.top_decimal(3)
    print("  best bids:", ", ".join(f"{s} @ {p}" for p, s in top_bids))
    print("  best asks:", ", ".join(f"{s} @ {p}" for p, s in top_asks))
    print(f"  spread {book.spread()}, mid {book.mid():.4f}")
    print(f"  {elapsed / len(corpus.updates):,.0f} ns per update (apply + best bid/ask read)")
    print(f"  final book matches the reference model exactly: {exact}")
    # A gap is reported, and the book refuses deltas until it is re-seeded.
    print(
        f"  a skipped id gives {book.apply([], [], book.sequence + 5, book.sequence + 6)}; "
        f"in_sync={book.in_sync}"
    )
    if not exact:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
