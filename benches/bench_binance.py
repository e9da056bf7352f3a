"""Binance depth: parse + apply + best level per message, against Python pipelines.

Stream: the shared ``depth_corpus`` (1-20 levels per push, ~25% deletions, a 1,000-level book
per side) written as Binance spot combined-stream JSON (``{"stream":"btcusdt@depth@100ms",
"data":{"e":"depthUpdate",...}}``, binance.md §2.1, §3) and as SBE ``DepthDiffStreamEvent``
frames (§5, price exponent -2, qty exponent -8). Every pipeline applies the same messages with
Binance's ``U``/``u`` rule, reads the best bid and ask after each one, and its final book is
checked against the corpus.

Pipelines:
- hftws ``binance.apply_depth`` + ``OrderBook.bbo()``;
- hftws ``binance.apply_sbe_depth`` + ``OrderBook.bbo()`` (binary frames);
- ``orjson.loads`` + ``sortedcontainers.SortedDict`` (float keys);
- ``msgspec`` typed structs + ``SortedDict`` (float keys);
- ``orjson.loads`` alone (parse only, for reference).

Run: ``.venv/bin/python benches/bench_binance.py [--quick]`` (not part of ``make bench``).
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec
import orjson
from sortedcontainers import SortedDict

import corpus as C
import hftws
from _harness import measure, save, table
from hftws import binance

SYMBOL = "BTCUSDT"
STREAM = "btcusdt@depth@100ms"
SBE_HEAD = struct.Struct("<HHHH")
SBE_DIFF = struct.Struct("<qqqbb")
SBE_GROUP = struct.Struct("<HH")
SBE_LEVEL = struct.Struct("<qq")


def json_frames(dc: C.DepthCorpus) -> list[bytes]:
    out = []
    for i, (b, a, first, last) in enumerate(dc.updates):
        data = {
            "e": "depthUpdate",
            "E": C.T0_MS + i,
            "s": SYMBOL,
            "U": first,
            "u": last,
            "b": [list(x) for x in b],
            "a": [list(x) for x in a],
        }
        msg = {"stream": STREAM, "data": data}
        out.append(json.dumps(msg, separators=(",", ":")).encode())
    return out


def sbe_frames(dc: C.DepthCorpus) -> list[bytes]:
    out = []
    for i, (b, a, first, last) in enumerate(dc.updates):
        body = SBE_DIFF.pack((C.T0_MS + i) * 1000, first, last, -2, -8)
        buf = SBE_HEAD.pack(len(body), 10003, 1, 0) + body
        for side in (b, a):
            buf += SBE_GROUP.pack(SBE_LEVEL.size, len(side))
            for p, s in side:
                buf += SBE_LEVEL.pack(int(Decimal(p).scaleb(2)), int(Decimal(s).scaleb(8)))
        buf += bytes([len(SYMBOL)]) + SYMBOL.encode()
        out.append(buf)
    return out


def hftws_book(dc: C.DepthCorpus) -> hftws.OrderBook:
    book = hftws.OrderBook("binance", symbol=SYMBOL)
    book.load_snapshot(dc.snapshot_bids, dc.snapshot_asks, dc.snapshot_id)
    return book


def run_hftws(book, frames) -> int:
    apply, bbo = binance.apply_depth, book.bbo
    for f in frames:
        apply(f, book)
        bbo()
    return len(frames)


def run_hftws_sbe(book, frames) -> int:
    apply, bbo = binance.apply_sbe_depth, book.bbo
    for f in frames:
        apply(f, book)
        bbo()
    return len(frames)


def sorted_books(dc: C.DepthCorpus) -> tuple[SortedDict, SortedDict]:
    return (
        SortedDict({float(p): float(s) for p, s in dc.snapshot_bids}),
        SortedDict({float(p): float(s) for p, s in dc.snapshot_asks}),
    )


def apply_levels(side: SortedDict, levels) -> None:
    for p, s in levels:
        fs = float(s)
        if fs == 0.0:
            side.pop(float(p), None)
        else:
            side[float(p)] = fs


def run_orjson_sorted(books, frames, first_id: int) -> int:
    bids, asks = books
    last = first_id
    loads = orjson.loads
    for f in frames:
        d = loads(f)["data"]
        if d["u"] <= last:
            continue
        if d["U"] > last + 1:
            raise RuntimeError("gap")
        apply_levels(bids, d["b"])
        apply_levels(asks, d["a"])
        last = d["u"]
        bids.peekitem(-1)
        asks.peekitem(0)
    return len(frames)


class MData(msgspec.Struct):
    e: str
    E: int
    s: str
    U: int
    u: int
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]


class MFrame(msgspec.Struct):
    stream: str
    data: MData


def run_msgspec_sorted(books, frames, first_id: int) -> int:
    bids, asks = books
    dec = msgspec.json.Decoder(MFrame)
    last = first_id
    for f in frames:
        d = dec.decode(f).data
        if d.u <= last:
            continue
        if d.U > last + 1:
            raise RuntimeError("gap")
        apply_levels(bids, d.b)
        apply_levels(asks, d.a)
        last = d.u
        bids.peekitem(-1)
        asks.peekitem(0)
    return len(frames)


def run_orjson_only(frames) -> int:
    loads = orjson.loads
    for f in frames:
        loads(f)
    return len(frames)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer messages and repetitions")
    args = ap.parse_args()
    n, repeat = (4_000, 3) if args.quick else (20_000, 7)
    dc = C.depth_corpus(n)
    frames, sbe = json_frames(dc), sbe_frames(dc)
    first = dc.snapshot_id

    # Correctness first: every pipeline ends with the corpus's book.
    book = hftws_book(dc)
    run_hftws(book, frames)
    C.check_hftws("hftws json", book, dc)
    book = hftws_book(dc)
    run_hftws_sbe(book, sbe)
    C.check_hftws("hftws sbe", book, dc)
    for name, fn in (("orjson", run_orjson_sorted), ("msgspec", run_msgspec_sorted)):
        books = sorted_books(dc)
        fn(books, frames, first)
        C.check_book(name, dict(books[0]), dict(books[1]), dc)

    # Each repetition starts from a fresh book, built before the clock starts.
    def case(make, run, data):
        books = [make(dc) for _ in range(repeat)]
        return lambda: run(books.pop(), data)

    timed = {
        "hftws binance.apply_depth + bbo()": case(hftws_book, run_hftws, frames),
        "hftws binance.apply_sbe_depth + bbo() (SBE)": case(hftws_book, run_hftws_sbe, sbe),
        "orjson.loads + SortedDict": case(
            sorted_books, lambda b, f: run_orjson_sorted(b, f, first), frames
        ),
        "msgspec typed + SortedDict": case(
            sorted_books, lambda b, f: run_msgspec_sorted(b, f, first), frames
        ),
    }
    timed["orjson.loads only (parse, no book)"] = lambda: run_orjson_only(frames)
    timings = measure(timed, repeat=repeat)
    print(table(f"Binance depth: parse + apply + best level ({n:,} messages)", timings))
    base = timings["hftws binance.apply_depth + bbo()"].median
    for other in ("orjson.loads + SortedDict", "msgspec typed + SortedDict"):
        print(f"hftws JSON vs {other}: {timings[other].median / base:.1f}x")
    sbe_t = timings["hftws binance.apply_sbe_depth + bbo() (SBE)"].median
    msgspec_t = timings["msgspec typed + SortedDict"].median
    print(f"hftws SBE vs msgspec typed + SortedDict: {msgspec_t / sbe_t:.1f}x")
    save("bench_binance", {"depth": timings, "messages": n})


if __name__ == "__main__":
    main()
