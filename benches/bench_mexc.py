"""MEXC protobuf: decode + apply to a book + read the best levels, and decode-only.

Pipelines, on the same pushes in the same run (generated with Google's runtime from the
compiled ``proto/``):

- depth: a stream of aggregated-depth pushes (body 313; 1-20 levels each around a random-walk
  mid, ~25% deletions) applied to a 1,000-level-per-side book, best bid/ask read after each:
  ``hftws.mexc.apply_depth`` + ``OrderBook.bbo()`` against Google ``protobuf`` (upb)
  ``ParseFromString`` + ``sortedcontainers.SortedDict`` and + the ``order_book`` C extension
  (float keys). One push per Python call everywhere.
- deals / book ticker: ``hftws.mexc.decode`` (typed event) against upb's bare ``ParseFromString``.

Run: ``.venv/bin/python benches/bench_mexc.py [--quick]``.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from order_book import OrderBook as CBook
from sortedcontainers import SortedDict

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import measure, save, table
from hftws import (
    BookStatus,
    OrderBook,
    mexc,
)
from hftws.testing.mexc_proto import load

SYMBOL = "BTCUSDT"
BOOK_LEVELS = 1000
START_VERSION = 43_296_363_000


def price_str(ticks: int) -> str:
    return f"{ticks // 100}.{ticks % 100:02d}"


def qty_str(rng: random.Random) -> str:
    return f"{rng.randint(1, 5_000_000) / 1e6:.8f}"


def make_depth_stream(n: int, seed: int = 7) -> tuple[dict[int, str], dict[int, str], list[bytes]]:
    """Snapshot (price ticks -> qty per side) and ``n`` serialized pushes that never cross."""
    pb = load()
    rng = random.Random(seed)
    mid = 11_714_550  # bids at <= mid, asks at > mid (price in cents)
    bids = {mid - k: qty_str(rng) for k in range(BOOK_LEVELS)}
    asks = {mid + 1 + k: qty_str(rng) for k in range(BOOK_LEVELS)}
    snapshot = (dict(bids), dict(asks))
    frames = []
    version = START_VERSION
    channel = mexc.depth_channel(SYMBOL)
    for _ in range(n):
        mid += rng.choice((-1, 0, 0, 1))
        levels: list[tuple[bool, int, str]] = []
        # Levels now on the wrong side of the mid are deleted in the same push.
        for p in [p for p in bids if p > mid]:
            levels.append((True, p, "0"))
            del bids[p]
        for p in [p for p in asks if p <= mid]:
            levels.append((False, p, "0"))
            del asks[p]
        for _ in range(max(0, rng.randint(1, 20) - len(levels))):
            is_bid = rng.random() < 0.5
            depth = min(int(rng.expovariate(0.15)), BOOK_LEVELS - 1)
            p = mid - depth if is_bid else mid + 1 + depth
            side = bids if is_bid else asks
            if rng.random() < 0.25:
                q = "0"
                side.pop(p, None)
            else:
                q = qty_str(rng)
                side[p] = q
            levels.append((is_bid, p, q))
        push = pb.PushDataV3ApiWrapper(channel=channel, symbol=SYMBOL, sendTime=1754741322152)
        body = push.publicAggreDepths
        for is_bid, p, q in levels:
            item = (body.bids if is_bid else body.asks).add()
            item.price = price_str(p)
            item.quantity = q
        body.eventType = "spot@public.aggre.depth.v3.api.pb@10ms"
        body.fromVersion = str(version + 1)
        version += rng.randint(1, 5)
        body.toVersion = str(version)
        body.lastOrderCreateTime = 1754741322149
        frames.append(push.SerializeToString())
    return snapshot[0], snapshot[1], frames


def make_deals(n: int, seed: int = 8) -> list[bytes]:
    pb = load()
    rng = random.Random(seed)
    out = []
    for i in range(n):
        push = pb.PushDataV3ApiWrapper(
            channel=mexc.deals_channel(SYMBOL), symbol=SYMBOL, sendTime=1754741322171 + i
        )
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            d = push.publicAggreDeals.deals.add()
            d.price = price_str(11_714_550 + rng.randint(-50, 50))
            d.quantity = qty_str(rng)
            d.tradeType = rng.choice((1, 2))
            d.time = 1754741322163 + i
            d.tradeId = f"{730292425431437318 + i}X{rng.randint(0, 3)}"
        push.publicAggreDeals.eventType = "spot@public.aggre.deals.v3.api.pb@10ms"
        out.append(push.SerializeToString())
    return out


def make_tickers(n: int, seed: int = 9) -> list[bytes]:
    pb = load()
    rng = random.Random(seed)
    out = []
    for i in range(n):
        push = pb.PushDataV3ApiWrapper(
            channel=mexc.book_ticker_channel(SYMBOL), symbol=SYMBOL, sendTime=1754741322160 + i
        )
        t = push.publicAggreBookTicker
        bid = 11_714_550 + rng.randint(-50, 50)
        t.bidPrice, t.bidQuantity = price_str(bid), qty_str(rng)
        t.askPrice, t.askQuantity = price_str(bid + 1), qty_str(rng)
        t.version = str(START_VERSION + i)
        t.lastOrderCreateTime = 1754741322149 + i
        out.append(push.SerializeToString())
    return out


def depth_cases(frames: list[bytes], snap_bids: dict, snap_asks: dict, repeat: int, finals: dict):
    """One case per pipeline; each pass gets a fresh book built outside the timed region.

    Each case records its final best bid/ask prices in ``finals`` so the run can check that
    every pipeline built the same book.
    """
    pb = load()
    wrapper_cls = pb.PushDataV3ApiWrapper
    n = len(frames)

    def rust_book() -> OrderBook:
        b = OrderBook("mexc", symbol=SYMBOL)
        b.load_snapshot(
            [(price_str(p), q) for p, q in snap_bids.items()],
            [(price_str(p), q) for p, q in snap_asks.items()],
            START_VERSION,
        )
        return b

    def sorted_book() -> tuple[SortedDict, SortedDict]:
        bids = SortedDict({float(price_str(p)): float(q) for p, q in snap_bids.items()})
        asks = SortedDict({float(price_str(p)): float(q) for p, q in snap_asks.items()})
        return bids, asks

    def c_book() -> CBook:
        b = CBook()
        for p, q in snap_bids.items():
            b.bids[float(price_str(p))] = float(q)
        for p, q in snap_asks.items():
            b.asks[float(price_str(p))] = float(q)
        return b

    rust_books = [rust_book() for _ in range(repeat + 1)]
    sorted_books = [sorted_book() for _ in range(repeat + 1)]
    c_books = [c_book() for _ in range(repeat + 1)]
    # `apply_depth` returns the cached status objects of `status_object` (the ones
    # `OrderBook.check` returns too), so an identity test is the cheapest status check.
    applied = rust_book().check(START_VERSION + 1, START_VERSION + 1)
    assert applied == BookStatus.APPLIED
    apply_depth = mexc.apply_depth

    def ours() -> int:
        book = rust_books.pop()
        bbo = book.bbo
        for f in frames:
            if apply_depth(f, book) is not applied:
                raise RuntimeError("book lost sync")
            top = bbo()
        finals["hftws"] = (top[0], top[2])
        return n

    def upb_sorted() -> int:
        bids, asks = sorted_books.pop()
        last = START_VERSION
        msg = wrapper_cls()
        for f in frames:
            msg.ParseFromString(f)
            body = msg.publicAggreDepths
            if int(body.fromVersion) != last + 1:
                raise RuntimeError("gap")
            last = int(body.toVersion)
            for lvl in body.bids:
                p, q = float(lvl.price), float(lvl.quantity)
                if q == 0.0:
                    bids.pop(p, None)
                else:
                    bids[p] = q
            for lvl in body.asks:
                p, q = float(lvl.price), float(lvl.quantity)
                if q == 0.0:
                    asks.pop(p, None)
                else:
                    asks[p] = q
            best = (bids.peekitem(-1), asks.peekitem(0))
        finals["sorted"] = (best[0][0], best[1][0])
        return n

    def upb_cbook() -> int:
        book = c_books.pop()
        bids, asks = book.bids, book.asks
        last = START_VERSION
        msg = wrapper_cls()
        for f in frames:
            msg.ParseFromString(f)
            body = msg.publicAggreDepths
            if int(body.fromVersion) != last + 1:
                raise RuntimeError("gap")
            last = int(body.toVersion)
            for lvl in body.bids:
                p, q = float(lvl.price), float(lvl.quantity)
                if q == 0.0:
                    if p in bids:
                        del bids[p]
                else:
                    bids[p] = q
            for lvl in body.asks:
                p, q = float(lvl.price), float(lvl.quantity)
                if q == 0.0:
                    if p in asks:
                        del asks[p]
                else:
                    asks[p] = q
            best = (bids.index(0), asks.index(0))
        finals["cbook"] = (best[0][0], best[1][0])
        return n

    return {
        "hftws apply_depth + bbo": ours,
        "upb + SortedDict": upb_sorted,
        "upb + order_book (C)": upb_cbook,
    }


def decode_cases(frames: list[bytes]):
    wrapper_cls = load().PushDataV3ApiWrapper
    decode = mexc.decode
    n = len(frames)

    def ours() -> int:
        for f in frames:
            decode(f)
        return n

    def upb() -> int:
        msg = wrapper_cls()
        for f in frames:
            msg.ParseFromString(f)
        return n

    def upb_new() -> int:
        for f in frames:
            wrapper_cls.FromString(f)
        return n

    return {
        "hftws decode (typed event)": ours,
        "upb ParseFromString (reused msg)": upb,
        "upb FromString (new msg)": upb_new,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small run (< 30 s)")
    args = ap.parse_args()
    n, repeat = (3000, 3) if args.quick else (20000, 7)

    snap_bids, snap_asks, frames = make_depth_stream(n)
    levels = sum(len(mexc.decode(f).bids) + len(mexc.decode(f).asks) for f in frames) / n
    print(f"depth: {n} pushes, {levels:.1f} levels/push, {BOOK_LEVELS} levels per side\n")
    finals: dict[str, tuple[float, float]] = {}
    depth = measure(depth_cases(frames, snap_bids, snap_asks, repeat, finals), repeat=repeat)
    if len(set(finals.values())) != 1:
        raise SystemExit(f"pipelines disagree on the final book: {finals}")
    fastest = min(("upb + SortedDict", "upb + order_book (C)"), key=lambda k: depth[k].median)
    print(table("MEXC aggregated depth: decode + apply + best bid/ask (ns/push)", depth, fastest))

    deals = make_deals(n)
    tickers = make_tickers(n)
    dec_deals = measure(decode_cases(deals), repeat=repeat)
    print(
        table(
            "MEXC aggregated deals: decode only (ns/push)",
            dec_deals,
            "upb ParseFromString (reused msg)",
        )
    )
    dec_tickers = measure(decode_cases(tickers), repeat=repeat)
    print(
        table(
            "MEXC aggregated book ticker: decode only (ns/push)",
            dec_tickers,
            "upb ParseFromString (reused msg)",
        )
    )

    ratio = depth[fastest].median / depth["hftws apply_depth + bbo"].median
    print(f"depth speed-up vs fastest baseline ({fastest}): {ratio:.1f}x (target >= 20x)")
    path = save(
        "bench_mexc",
        {
            "pushes": n,
            "levels_per_push": levels,
            "depth": depth,
            "deals": dec_deals,
            "book_ticker": dec_tickers,
            "depth_speedup_vs_fastest": ratio,
        },
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()
