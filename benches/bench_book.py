"""Order book: apply a depth delta and read the best bid/ask, from Python.

Every pipeline starts from the same already-parsed levels (lists of ``(price, size)``
decimal strings, as a JSON decoder hands them over) and must convert them itself:

- ``hftws`` (Rust): ``OrderBook.apply`` + ``bbo()`` per update, and ``apply_many`` over
  batches of 16 updates (one socket read's worth) with one ``bbo()`` per batch;
- ``SortedDict`` (sortedcontainers, float keys), the usual pure-Python book;
- ``order_book`` (C extension, float keys).

Every pipeline's final book is checked against the corpus before it is timed.

Run: ``python benches/bench_book.py [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from order_book import OrderBook as CBook
from sortedcontainers import SortedDict

import hftws
from _harness import measure, save, table
from corpus import depth_corpus

BATCH = 16


def run_hftws(c, updates):
    book = hftws.OrderBook("gate")
    book.load_snapshot(c.snapshot_bids, c.snapshot_asks, c.snapshot_id)
    apply, bbo = book.apply, book.bbo
    for bids, asks, first, last in updates:
        apply(bids, asks, first, last)
        bbo()
    return book


def run_hftws_batched(c, batches):
    book = hftws.OrderBook("gate")
    book.load_snapshot(c.snapshot_bids, c.snapshot_asks, c.snapshot_id)
    apply_many, bbo = book.apply_many, book.bbo
    for batch in batches:
        apply_many(batch)
        bbo()
    return book


def run_sorteddict(c, updates):
    bids = SortedDict({float(p): float(s) for p, s in c.snapshot_bids})
    asks = SortedDict({float(p): float(s) for p, s in c.snapshot_asks})
    for ubids, uasks, _first, _last in updates:
        for side, levels in ((bids, ubids), (asks, uasks)):
            for p, s in levels:
                size = float(s)
                if size == 0:
                    side.pop(float(p), None)
                else:
                    side[float(p)] = size
        bids.peekitem(-1)
        asks.peekitem(0)
    return bids, asks


def run_cbook(c, updates):
    ob = CBook()
    for p, s in c.snapshot_bids:
        ob.bids[float(p)] = float(s)
    for p, s in c.snapshot_asks:
        ob.asks[float(p)] = float(s)
    bids, asks = ob.bids, ob.asks
    for ubids, uasks, _first, _last in updates:
        for side, levels in ((bids, ubids), (asks, uasks)):
            for p, s in levels:
                size = float(s)
                if size == 0:
                    if float(p) in side:
                        del side[float(p)]
                else:
                    side[float(p)] = size
        bids.index(0)
        asks.index(0)
    return ob


def check(c, updates, batches) -> None:
    """Every pipeline must end with the corpus's expected book."""
    want_b = {float(p): float(s) for p, s in c.expected_bids.items()}
    want_a = {float(p): float(s) for p, s in c.expected_asks.items()}
    for book in (run_hftws(c, updates), run_hftws_batched(c, batches)):
        bd, ad = book.depth()
        assert {Decimal(p): Decimal(s) for p, s in bd} == c.expected_bids
        assert {Decimal(p): Decimal(s) for p, s in ad} == c.expected_asks
    bids, asks = run_sorteddict(c, updates)
    assert dict(bids) == want_b and dict(asks) == want_a
    ob = run_cbook(c, updates)
    assert ob.bids.to_dict() == want_b and ob.asks.to_dict() == want_a


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small corpus, 3 repetitions")
    args = ap.parse_args()
    n = 5_000 if args.quick else 20_000
    c = depth_corpus(n)
    updates = c.updates
    batches = [updates[i : i + BATCH] for i in range(0, len(updates), BATCH)]
    check(c, updates, batches)
    cases = {
        "hftws apply+bbo (1 update/call)": lambda: (run_hftws(c, updates), n)[1],
        f"hftws apply_many+bbo ({BATCH} updates/call)": lambda: (run_hftws_batched(c, batches), n)[
            1
        ],
        "SortedDict float keys": lambda: (run_sorteddict(c, updates), n)[1],
        "order_book C ext float keys": lambda: (run_cbook(c, updates), n)[1],
    }
    timings = measure(cases, repeat=3 if args.quick else 7)
    fastest_py = min(
        timings["SortedDict float keys"].median, timings["order_book C ext float keys"].median
    )
    one = timings["hftws apply+bbo (1 update/call)"].median
    many = timings[f"hftws apply_many+bbo ({BATCH} updates/call)"].median
    print(
        table(
            f"Apply a delta (1-20 levels) + read best bid/ask, {n:,} updates, ns/update",
            timings,
            baseline="order_book C ext float keys",
        )
    )
    print(
        f"hftws vs fastest Python book: {fastest_py / one:.1f}x one at a time (target 5x), "
        f"{fastest_py / many:.1f}x batched (target 10x)"
    )
    save(
        "book",
        {
            "updates": n,
            "timings": timings,
            "ratio_single": fastest_py / one,
            "ratio_batched": fastest_py / many,
        },
    )


if __name__ == "__main__":
    main()
