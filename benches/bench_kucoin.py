"""KuCoin spot level2: parse + apply + best level per message, against Python pipelines.

Stream: the shared ``depth_corpus`` (1-20 levels per push, ~25% deletions, a 1,000-level book
per side) written as KuCoin ``/market/level2`` frames (kucoin.md §4, §12 item 3: ``changes``
entries ``[price, size, sequence]``, then ``sequenceEnd``/``sequenceStart``). Sequences are
renumbered so that each entry has its own id and a push covers exactly its entries. Every
pipeline applies the same messages with KuCoin's rule (continuity on ``sequenceStart``,
entries not newer than the book skipped, price "0" ignored), reads the best bid and ask after
each one, and its final book is checked against the corpus.

Pipelines:
- hftws ``kucoin.apply_depth`` + ``OrderBook.bbo()``;
- ccxt.pro ``kucoin`` ``handle_message`` (``json.loads`` as its client does, a fake client and
  a seeded book; it reads the best levels from its book sides);
- ``orjson.loads`` + ``sortedcontainers.SortedDict`` (float keys);
- ``msgspec`` typed structs + ``SortedDict`` (float keys);
- ``orjson.loads`` alone (parse only, for reference).

Profile rows (same run) split hftws's time per message: a ``pong`` frame through
``apply_depth`` (the Python→Rust call, argument checks and the return), ``bbo()`` alone, and the
same pushes replayed to the final book (every push stale: the frame is read and judged, the
book is not written). ``benches/rust/kucoin_depth.rs`` splits the Rust part further
(``--dump`` writes the stream for it).

Run: ``.venv/bin/python benches/bench_kucoin.py [--quick] [--dump]`` (``make bench`` runs it
through ``benches/run.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec
import orjson
from sortedcontainers import SortedDict

import corpus as C
import hftws
from _harness import measure, save, table
from hftws import kucoin

SYMBOL = "BTC-USDT"
HFTWS = "hftws kucoin.apply_depth + bbo()"
CCXT = "ccxt.pro kucoin handle_message"
STALE = "profile: hftws apply_depth + bbo() of stale pushes (read + judge, no writes)"
CALL = "profile: hftws apply_depth of a pong frame (call floor)"
BBO = "profile: bbo() alone"
TOPIC = f"/market/level2:{SYMBOL}"


def frames_of(dc: C.DepthCorpus) -> list[bytes]:
    out = []
    seq = dc.snapshot_id
    for i, (b, a, _first, _last) in enumerate(dc.updates):
        start = seq + 1
        asks = [[p, s, str(start + j)] for j, (p, s) in enumerate(a)]
        bids = [[p, s, str(start + len(a) + j)] for j, (p, s) in enumerate(b)]
        seq = start + max(len(a) + len(b), 1) - 1
        msg = {
            "topic": TOPIC,
            "type": "message",
            "subject": "trade.l2update",
            "data": {
                "changes": {"asks": asks, "bids": bids},
                "sequenceEnd": seq,
                "sequenceStart": start,
                "symbol": SYMBOL,
                "time": C.T0_MS + i,
            },
        }
        out.append(json.dumps(msg, separators=(",", ":")).encode())
    return out


def hftws_book(dc: C.DepthCorpus) -> hftws.OrderBook:
    book = hftws.OrderBook("kucoin", symbol=SYMBOL)
    book.load_snapshot(dc.snapshot_bids, dc.snapshot_asks, dc.snapshot_id)
    return book


def run_hftws(book, frames) -> int:
    apply, bbo = kucoin.apply_depth, book.bbo
    for f in frames:
        apply(f, book)
        bbo()
    return len(frames)


def sorted_books(dc: C.DepthCorpus) -> tuple[SortedDict, SortedDict]:
    return (
        SortedDict({float(p): float(s) for p, s in dc.snapshot_bids}),
        SortedDict({float(p): float(s) for p, s in dc.snapshot_asks}),
    )


def apply_entries(side: SortedDict, entries, last: int) -> None:
    for p, s, q in entries:
        fp = float(p)
        if fp == 0.0 or int(q) <= last:
            continue
        fs = float(s)
        if fs == 0.0:
            side.pop(fp, None)
        else:
            side[fp] = fs


def run_orjson_sorted(books, frames, first_id: int) -> int:
    bids, asks = books
    last = first_id
    loads = orjson.loads
    for f in frames:
        d = loads(f)["data"]
        if d["sequenceEnd"] <= last:
            continue
        if d["sequenceStart"] != last + 1:
            raise RuntimeError("gap")
        ch = d["changes"]
        apply_entries(bids, ch["bids"], last)
        apply_entries(asks, ch["asks"], last)
        last = d["sequenceEnd"]
        bids.peekitem(-1)
        asks.peekitem(0)
    return len(frames)


class MChanges(msgspec.Struct):
    asks: list[tuple[str, str, str]]
    bids: list[tuple[str, str, str]]


class MData(msgspec.Struct):
    changes: MChanges
    sequenceEnd: int
    sequenceStart: int
    symbol: str
    time: int


class MFrame(msgspec.Struct):
    topic: str
    type: str
    subject: str
    data: MData


def run_msgspec_sorted(books, frames, first_id: int) -> int:
    bids, asks = books
    dec = msgspec.json.Decoder(MFrame)
    last = first_id
    for f in frames:
        d = dec.decode(f).data
        if d.sequenceEnd <= last:
            continue
        if d.sequenceStart != last + 1:
            raise RuntimeError("gap")
        apply_entries(bids, d.changes.bids, last)
        apply_entries(asks, d.changes.asks, last)
        last = d.sequenceEnd
        bids.peekitem(-1)
        asks.peekitem(0)
    return len(frames)


class FakeClient:
    """What ccxt's ``handle_order_book`` touches on its WebSocket client."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, object] = {}

    def resolve(self, result: object, message_hash: str) -> None:
        pass

    def reject(self, error: Exception, message_hash: str | None = None) -> None:
        raise error


def ccxt_exchange():
    try:
        import ccxt.pro as ccxtpro
    except ImportError:
        return None
    return ccxtpro.kucoin({"enableRateLimit": False})


def ccxt_book(ex, dc: C.DepthCorpus):
    snap = {
        "bids": [[float(p), float(s)] for p, s in dc.snapshot_bids],
        "asks": [[float(p), float(s)] for p, s in dc.snapshot_asks],
        "nonce": dc.snapshot_id,
    }
    return ex.order_book(snap)


def run_ccxt(ex, book, frames) -> int:
    ex.orderbooks["BTC/USDT"] = book
    client = FakeClient()
    handle, loads = ex.handle_message, json.loads
    for f in frames:
        handle(client, loads(f))
        book["bids"][0]
        book["asks"][0]
    return len(frames)


def run_calls(book, frame: bytes, n: int) -> int:
    apply = kucoin.apply_depth
    for _ in range(n):
        apply(frame, book)
    return n


def run_bbo(book, n: int) -> int:
    bbo = book.bbo
    for _ in range(n):
        bbo()
    return n


def run_orjson_only(frames) -> int:
    loads = orjson.loads
    for f in frames:
        loads(f)
    return len(frames)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer messages and repetitions")
    ap.add_argument(
        "--dump",
        action="store_true",
        help="write the stream to target/kucoin_bench/ for benches/rust/kucoin_depth.rs and exit",
    )
    args = ap.parse_args()
    n, repeat = (4_000, 3) if args.quick else (20_000, 7)
    dc = C.depth_corpus(n)
    frames = frames_of(dc)
    first = dc.snapshot_id
    if args.dump:
        out = Path(__file__).resolve().parent.parent / "target" / "kucoin_bench"
        out.mkdir(parents=True, exist_ok=True)
        (out / "kucoin_frames.txt").write_bytes(b"\n".join(frames))
        lines = [f"b {p} {s}" for p, s in dc.snapshot_bids]
        lines += [f"a {p} {s}" for p, s in dc.snapshot_asks]
        (out / "kucoin_snapshot.txt").write_text(f"id {first}\n" + "\n".join(lines))
        print(f"wrote {len(frames):,} frames to {out}")
        return

    # Correctness first: every pipeline ends with the corpus's book.
    book = hftws_book(dc)
    run_hftws(book, frames)
    C.check_hftws("hftws json", book, dc)
    for name, fn in (("orjson", run_orjson_sorted), ("msgspec", run_msgspec_sorted)):
        books = sorted_books(dc)
        fn(books, frames, first)
        C.check_book(name, dict(books[0]), dict(books[1]), dc)
    ex = ccxt_exchange()
    # ccxt is slow: a quarter of the stream keeps the run short (ns/msg is per message).
    ccxt_frames = frames[: max(n // 4, 500)]
    if ex is not None:
        cb = ccxt_book(ex, dc)
        run_ccxt(ex, cb, frames)
        if (cb["bids"][0][0], cb["asks"][0][0]) != (
            float(book.best_bid()[0]),
            float(book.best_ask()[0]),
        ):
            raise AssertionError("ccxt: final best levels differ from hftws's")

    # Each repetition starts from a fresh book, built before the clock starts.
    def case(make, run, data):
        books = [make(dc) for _ in range(repeat)]
        return lambda: run(books.pop(), data)

    timed = {
        HFTWS: case(hftws_book, run_hftws, frames),
        "orjson.loads + SortedDict": case(
            sorted_books, lambda b, f: run_orjson_sorted(b, f, first), frames
        ),
        "msgspec typed + SortedDict": case(
            sorted_books, lambda b, f: run_msgspec_sorted(b, f, first), frames
        ),
    }
    if ex is not None:
        timed[CCXT] = case(lambda d: ccxt_book(ex, d), lambda b, f: run_ccxt(ex, b, f), ccxt_frames)
    timed["orjson.loads only (parse, no book)"] = lambda: run_orjson_only(frames)
    # Profile: the final book takes every push again as stale (read and judged, not written).
    timed[STALE] = lambda: run_hftws(book, frames)
    pong = b'{"id":"1545910590801","type":"pong"}'
    timed[CALL] = lambda: run_calls(book, pong, n)
    timed[BBO] = lambda: run_bbo(book, n)
    timings = measure(timed, repeat=repeat)
    print(table(f"KuCoin level2: parse + apply + best level ({n:,} messages)", timings))
    base = timings[HFTWS].median
    for other in (CCXT, "orjson.loads + SortedDict", "msgspec typed + SortedDict"):
        if other in timings:
            print(f"hftws vs {other}: {timings[other].median / base:.1f}x")
    call, bbo, stale = (timings[k].median for k in (CALL, BBO, STALE))
    print(
        f"profile per message: {base:,.0f} ns = {call:,.0f} ns call + {bbo:,.0f} ns bbo() + "
        f"{stale - call - bbo:,.0f} ns reading and judging the push (stale replay) + "
        f"{base - stale:,.0f} ns book writes"
    )
    save("bench_kucoin_quick" if args.quick else "bench_kucoin", {"depth": timings, "messages": n})


if __name__ == "__main__":
    main()
