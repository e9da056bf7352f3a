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
import sys
from pathlib import Path

from order_book import OrderBook as CBook
from sortedcontainers import SortedDict

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus as C
from _harness import measure, save, table
from hftws import BookStatus, OrderBook, mexc
from hftws.testing.mexc_proto import load
from hftws.ws import StreamDecoder

SYMBOL = C.MEXC_SYMBOL
START_VERSION = C.SNAPSHOT_ID
BATCH = 10


def depth_cases(c: C.Corpus, frames: list[bytes], repeat: int, finals: dict):
    """One case per pipeline; each pass gets a fresh book built outside the timed region.

    Each case records its final best bid/ask prices in ``finals`` so the run can check that
    every pipeline built the same book.
    """
    pb = load()
    wrapper_cls = pb.PushDataV3ApiWrapper
    n = len(frames)

    def rust_book() -> OrderBook:
        return C.hftws_book(c, "mexc")

    def sorted_book() -> tuple[SortedDict, SortedDict]:
        bids = SortedDict({float(p): float(q) for p, q in c.snapshot_bids})
        asks = SortedDict({float(p): float(q) for p, q in c.snapshot_asks})
        return bids, asks

    def c_book() -> CBook:
        b = CBook()
        for p, q in c.snapshot_bids:
            b.bids[float(p)] = float(q)
        for p, q in c.snapshot_asks:
            b.asks[float(p)] = float(q)
        return b

    rust_books = [rust_book() for _ in range(repeat + 1)]
    stream_books = {k: [rust_book() for _ in range(repeat + 1)] for k in (1, BATCH)}
    wire = {
        k: [b"".join(C.server_frame(f, 2) for f in b) for b in C.batches(frames, k)]
        for k in (1, BATCH)
    }
    sorted_books = [sorted_book() for _ in range(repeat + 1)]
    c_books = [c_book() for _ in range(repeat + 1)]
    # `apply_depth` returns the cached status objects of `status_object` (the ones
    # `OrderBook.check` returns too), so an identity test is the cheapest status check.
    applied = rust_book().check(START_VERSION + 1, START_VERSION + 1)
    assert applied == BookStatus.APPLIED
    apply_depth = mexc.apply_depth

    check = rust_book()
    checker = StreamDecoder("mexc")
    checker.register_book(SYMBOL, check)
    for chunk in wire[BATCH]:
        checker.feed(chunk)
    C.check_hftws("hftws StreamDecoder", check, c)

    def stale() -> int:
        # `check` already holds every push: each one is only scanned and found stale.
        bbo = check.bbo
        for f in frames:
            apply_depth(f, check)
            bbo()
        return n

    def ours() -> int:
        book = rust_books.pop()
        bbo = book.bbo
        for f in frames:
            if apply_depth(f, book) is not applied:
                raise RuntimeError("book lost sync")
            top = bbo()
        finals["hftws"] = (top[0], top[2])
        return n

    def stream(k: int) -> int:
        book = stream_books[k].pop()
        dec = StreamDecoder("mexc")
        dec.register_book(SYMBOL, book)
        feed, bbo = dec.feed, book.bbo
        for chunk in wire[k]:
            feed(chunk)
            top = bbo()
        finals[f"stream{k}"] = (top[0], top[2])
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
        "profile: hftws apply_depth of stale pushes (scan + id check, no writes)": stale,
        "hftws StreamDecoder.feed (1 frame/call)": lambda: stream(1),
        f"hftws StreamDecoder.feed ({BATCH} frames/read)": lambda: stream(BATCH),
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


def mixed_cases(n: int, repeat: int) -> tuple[dict, int]:
    """Depth, deals and book tickers on one socket: every push decoded, depth applied."""
    c = C.corpus(n, depth_share=0.7, seed=11)
    frames = c.mexc
    wire = [b"".join(C.server_frame(f, 2) for f in b) for b in C.batches(frames, BATCH)]
    wrapper_cls = load().PushDataV3ApiWrapper
    pools = {k: [C.hftws_book(c, "mexc") for _ in range(repeat)] for k in ("one", "stream")}
    sorted_pool = [
        (
            SortedDict({float(p): float(q) for p, q in c.snapshot_bids}),
            SortedDict({float(p): float(q) for p, q in c.snapshot_asks}),
        )
        for _ in range(repeat + 1)
    ]

    def ours_one() -> int:
        book = pools["one"].pop()
        apply, decode, bbo = mexc.apply_depth, mexc.decode, book.bbo
        for f, kind in zip(frames, c.kinds, strict=True):
            # What a caller without the fused decoder does: route on the channel it
            # subscribed to (known per symbol), then one call per push.
            if kind == "depth":
                apply(f, book)
                bbo()
            else:
                decode(f)
        return n

    def ours_stream() -> int:
        book = pools["stream"].pop()
        dec = StreamDecoder("mexc")
        dec.register_book(SYMBOL, book)
        feed, bbo = dec.feed, book.bbo
        for chunk in wire:
            feed(chunk)
            bbo()
        return n

    def upb_sorted() -> int:
        bids, asks = sorted_pool.pop()
        msg = wrapper_cls()
        for f in frames:
            msg.ParseFromString(f)
            if msg.WhichOneof("body") != "publicAggreDepths":
                continue
            body = msg.publicAggreDepths
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
            bids.peekitem(-1)
            asks.peekitem(0)
        return n

    check = C.hftws_book(c, "mexc")
    dec = StreamDecoder("mexc")
    dec.register_book(SYMBOL, check)
    for chunk in wire:
        dec.feed(chunk)
    C.check_hftws("mixed StreamDecoder", check, c)
    cases = {
        "hftws apply_depth or decode (1 call/push)": ours_one,
        f"hftws StreamDecoder.feed ({BATCH} frames/read)": ours_stream,
        "upb + WhichOneof + SortedDict": upb_sorted,
    }
    return cases, len(c.by_kind["depth"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small run (< 30 s)")
    args = ap.parse_args()
    n, repeat = (3000, 3) if args.quick else (20000, 7)

    c = C.corpus(n)
    frames = c.mexc
    levels = sum(len(mexc.decode(f).bids) + len(mexc.decode(f).asks) for f in frames) / n
    print(f"depth: {n} pushes, {levels:.1f} levels/push, 1,000 levels per side\n")
    finals: dict[str, tuple[float, float]] = {}
    depth = measure(depth_cases(c, frames, repeat, finals), repeat=repeat)
    if len(set(finals.values())) != 1:
        raise SystemExit(f"pipelines disagree on the final book: {finals}")
    fastest = min(("upb + SortedDict", "upb + order_book (C)"), key=lambda k: depth[k].median)
    print(table("MEXC aggregated depth: decode + apply + best bid/ask (ns/push)", depth, fastest))

    other = C.corpus(n, depth_share=0.0)
    deals, tickers = other.select("mexc", "trade"), other.select("mexc", "ticker")
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
    cases, n_depth = mixed_cases(n, repeat)
    mixed = measure(cases, repeat=repeat)
    print(
        table(
            f"MEXC mixed stream ({n_depth:,} depth pushes, the rest deals and book tickers): "
            "every push decoded, depth applied, best read (ns/push)",
            mixed,
            "upb + WhichOneof + SortedDict",
        )
    )
    path = save(
        "bench_mexc_quick" if args.quick else "bench_mexc",
        {
            "pushes": n,
            "levels_per_push": levels,
            "depth": depth,
            "deals": dec_deals,
            "book_ticker": dec_tickers,
            "depth_speedup_vs_fastest": ratio,
            "mixed": mixed,
        },
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()
