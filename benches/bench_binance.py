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
- ``orjson.loads`` alone (parse only, for reference);
- profile rows: the hftws pushes replayed stale to the final book (read and judged, no
  writes), a control reply (the call floor) and ``bbo()`` alone.

End to end over loopback (issue 16's target: at least 4x ``picows`` + ``orjson`` + book): the
same corpus as ``bench_mixed`` restricted to diff depth and trades (7 and 3 per 10 messages), as
combined-stream JSON (``corpus.binance_frames``) from ``bench_e2e``'s server process, a book kept
and a strategy callback per message (best bid/ask after depth; price, amount, side of trades):

- hftws transport: ``transport.connect(exchange="binance")`` + registered book + callbacks;
- hftws full stack: ``BinanceSpotPublicHandler`` + ``register_book`` + ``on_orderbook`` /
  ``on_trade`` (when the package has it);
- ``picows`` + ``orjson`` + ``SortedDict``; ``picows`` + msgspec typed (one pass, a tagged union
  on ``e``, prices decoded to floats) + ``SortedDict``; raw-frame floors of hftws and picows.

Run: ``.venv/bin/python benches/bench_binance.py [--quick] [--only depth e2e]`` (``run.py``
runs it).
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec
import orjson
from sortedcontainers import SortedDict

import corpus as C
import hftws
from _harness import Callbacks, apply_float, e2e_table, float_book, measure, save, summarize, table
from bench_e2e import Run, run_clients
from bench_mixed import (
    handler_layers,
    hftws_client,
    hftws_raw,
    hftws_transport_client,
    picows_client,
    sorted_top,
)
from hftws import binance
from hftws.protocol import STREAM_EXCHANGES

try:
    from hftws.exchanges.binance import BinanceSpotPublicHandler
except ImportError:  # the public handler is merged separately: transport rows only until then
    BinanceSpotPublicHandler = None

SYMBOL = "BTCUSDT"
HFTWS = "hftws binance.apply_depth + bbo()"
HFTWS_SBE = "hftws binance.apply_sbe_depth + bbo() (SBE)"
STALE = "profile: hftws apply_depth + bbo() of stale pushes (read + judge, no writes)"
STALE_SBE = "profile: hftws apply_sbe_depth + bbo() of stale pushes (decode + judge, no writes)"
CALL = "profile: hftws apply_depth of a reply frame (call floor)"
BBO = "profile: bbo() alone"
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


def run_calls(book, frame: bytes, n: int) -> int:
    apply = binance.apply_depth
    for _ in range(n):
        apply(frame, book)
    return n


def run_bbo(book, n: int) -> int:
    bbo = book.bbo
    for _ in range(n):
        bbo()
    return n


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


# --- end to end -------------------------------------------------------------------------------


class BDepth(msgspec.Struct, tag_field="e", tag="depthUpdate"):
    U: int
    u: int
    b: list[tuple[float, float]]
    a: list[tuple[float, float]]


class BTrade(msgspec.Struct, tag_field="e", tag="trade"):
    p: float
    q: float
    m: bool


class BFrame(msgspec.Struct):
    data: BDepth | BTrade


def picows_orjson(c: C.Corpus):
    async def client(url: str, run: Run) -> Any:
        books = float_book(c.snapshot_bids, c.snapshot_asks)
        bids, asks = books
        cb = Callbacks(run.tick, sorted_top(books))
        loads = orjson.loads
        last = [C.SNAPSHOT_ID]

        def on_payload(payload: bytes) -> None:
            d = loads(payload)["data"]
            if d["e"] == "depthUpdate":
                if d["u"] <= last[0]:
                    return
                if d["U"] > last[0] + 1:
                    raise RuntimeError("gap")
                apply_float(bids, d["b"])
                apply_float(asks, d["a"])
                last[0] = d["u"]
                cb.on_book()
            else:
                cb.on_trade(float(d["p"]), float(d["q"]), "sell" if d["m"] else "buy")

        await picows_client(url, run, on_payload, False)
        return books

    return client


def picows_msgspec(c: C.Corpus):
    async def client(url: str, run: Run) -> Any:
        books = float_book(c.snapshot_bids, c.snapshot_asks)
        bids, asks = books
        cb = Callbacks(run.tick, sorted_top(books))
        decode = msgspec.json.Decoder(BFrame, strict=False).decode
        last = [C.SNAPSHOT_ID]

        def on_payload(payload: bytes) -> None:
            d = decode(payload).data
            if type(d) is BDepth:
                if d.u <= last[0]:
                    return
                if d.U > last[0] + 1:
                    raise RuntimeError("gap")
                for p, q in d.b:
                    if q == 0.0:
                        bids.pop(p, None)
                    else:
                        bids[p] = q
                for p, q in d.a:
                    if q == 0.0:
                        asks.pop(p, None)
                    else:
                        asks[p] = q
                last[0] = d.u
                cb.on_book()
            else:
                cb.on_trade(d.p, d.q, "sell" if d.m else "buy")

        await picows_client(url, run, on_payload, False)
        return books

    return client


E2E_BASE = "picows + orjson + SortedDict"


def e2e(n: int, repeat: int) -> tuple[dict[str, Any], str]:
    c = C.corpus(n, depth_share=0.7, trade_share=0.3, seed=16)
    wire = [C.server_frame(f) for f in C.binance_frames(c)]
    clients = {
        "hftws raw frames (no decoding)": hftws_raw(c),
        E2E_BASE: picows_orjson(c),
        "picows + msgspec typed union + SortedDict": picows_msgspec(c),
    }
    notes = []
    if "binance" in STREAM_EXCHANGES:
        clients["hftws transport + StreamDecoder + book + callbacks"] = hftws_transport_client(
            "binance", "binance", C.BINANCE_SYMBOL, c
        )
    else:
        notes.append("no transport row: this build's transport has no fused Binance decoder")
    if BinanceSpotPublicHandler is not None:
        clients["hftws full stack (BinanceSpotPublicHandler + book + callbacks)"] = hftws_client(
            BinanceSpotPublicHandler, "binance", C.BINANCE_SYMBOL, c
        )
    summary = summarize(run_clients(clients, wire, c, repeat))
    counts = {k: len(v) for k, v in c.by_kind.items()}
    text = e2e_table(
        f"Binance spot end to end over loopback ({n:,} messages: {counts['depth']:,} diff depth, "
        f"{counts['trade']:,} trades), book + strategy callbacks",
        summary,
        E2E_BASE,
    )
    if BinanceSpotPublicHandler is None:
        notes.append("no full-stack row: `hftws.exchanges.binance` is not in this build")
    text += "".join(f"\n({note})\n" for note in notes)
    layers: dict[str, Any] = {}
    if BinanceSpotPublicHandler is not None:
        # The same events through Binance's and Gate.io's handler layers, in-process.
        from hftws.exchanges import GateioSpotPublicHandler

        frames = C.binance_frames(c)
        layers = measure(
            {
                "BinanceSpotPublicHandler": handler_layers(
                    BinanceSpotPublicHandler, "binance", "binance", C.BINANCE_SYMBOL, c, frames, 1
                ),
                "GateioSpotPublicHandler": handler_layers(
                    GateioSpotPublicHandler, "gateio", "gate", C.GATE_PAIR, c, c.gate, 1
                ),
            },
            repeat=repeat,
            clock=time.thread_time_ns,
        )
        text += "\n" + table(
            "Profile: handler layers per message, pre-decoded events through `_on_events` with "
            "the strategy callbacks, one read per message (CPU ns)",
            layers,
            "BinanceSpotPublicHandler",
        )
    return {"rate": summary, "handler_layers": layers}, text


def dump(dc: C.DepthCorpus) -> None:
    """The JSON and SBE streams and the seed snapshot, for the Rust-side profile."""
    out = Path(__file__).resolve().parent.parent / "target" / "binance_bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "binance_frames.txt").write_bytes(b"\n".join(json_frames(dc)))
    (out / "binance_sbe.txt").write_text("\n".join(f.hex() for f in sbe_frames(dc)))
    lines = [f"b {p} {s}" for p, s in dc.snapshot_bids]
    lines += [f"a {p} {s}" for p, s in dc.snapshot_asks]
    (out / "binance_snapshot.txt").write_text(f"id {dc.snapshot_id}\n" + "\n".join(lines))
    print(f"wrote {len(dc.updates):,} frames to {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer messages and repetitions")
    ap.add_argument("--only", choices=("depth", "e2e"), nargs="*")
    ap.add_argument(
        "--dump",
        action="store_true",
        help="write the stream to target/binance_bench/ for benches/rust/binance_depth.rs and exit",
    )
    args = ap.parse_args()
    n, repeat = (4_000, 3) if args.quick else (20_000, 7)
    if args.dump:
        dump(C.depth_corpus(n))
        return
    parts = args.only or ["depth", "e2e"]
    payload: dict[str, Any] = {"messages": n}
    if "e2e" in parts:
        n_e2e, rep_e2e = (10_000, 2) if args.quick else (40_000, 5)
        data, e2e_text = e2e(n_e2e, rep_e2e)
        payload |= {
            "e2e": data["rate"],
            "handler_layers": data["handler_layers"],
            "e2e_messages": n_e2e,
            "e2e_markdown": e2e_text,
        }
        print(e2e_text)
    if "depth" not in parts:
        save("bench_binance_quick" if args.quick else "bench_binance", payload)
        return
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
        HFTWS: case(hftws_book, run_hftws, frames),
        HFTWS_SBE: case(hftws_book, run_hftws_sbe, sbe),
        "orjson.loads + SortedDict": case(
            sorted_books, lambda b, f: run_orjson_sorted(b, f, first), frames
        ),
        "msgspec typed + SortedDict": case(
            sorted_books, lambda b, f: run_msgspec_sorted(b, f, first), frames
        ),
    }
    timed["orjson.loads only (parse, no book)"] = lambda: run_orjson_only(frames)
    # Profile rows: the same pushes replayed to the final book (stale: read and judged, no
    # writes), a control reply (the call floor) and bbo() alone; the differences are the
    # per-message parts.
    done, done_sbe = hftws_book(dc), hftws_book(dc)
    run_hftws(done, frames)
    run_hftws_sbe(done_sbe, sbe)
    timed[STALE] = lambda: run_hftws(done, frames)
    timed[STALE_SBE] = lambda: run_hftws_sbe(done_sbe, sbe)
    reply = b'{"result":null,"id":1}'
    timed[CALL] = lambda: run_calls(done, reply, n)
    timed[BBO] = lambda: run_bbo(done, n)
    # CPU time of this thread: other processes on a shared machine do not inflate it.
    timings = measure(timed, repeat=repeat, clock=time.thread_time_ns)
    print(table(f"Binance depth: parse + apply + best level, CPU ns ({n:,} messages)", timings))
    base = timings["hftws binance.apply_depth + bbo()"].median
    for other in ("orjson.loads + SortedDict", "msgspec typed + SortedDict"):
        print(f"hftws JSON vs {other}: {timings[other].median / base:.1f}x")
    sbe_t = timings["hftws binance.apply_sbe_depth + bbo() (SBE)"].median
    msgspec_t = timings["msgspec typed + SortedDict"].median
    print(f"hftws SBE vs msgspec typed + SortedDict: {msgspec_t / sbe_t:.1f}x")
    call, bbo, stale, stale_sbe = (timings[k].median for k in (CALL, BBO, STALE, STALE_SBE))
    print(
        f"profile per JSON push: {base:,.0f} ns = {call:,.0f} ns call + {bbo:,.0f} ns bbo() + "
        f"{stale - call - bbo:,.0f} ns reading and judging (stale replay) + "
        f"{base - stale:,.0f} ns book writes; per SBE push: {sbe_t:,.0f} ns = "
        f"{stale_sbe - bbo:,.0f} ns call, decode and judge + "
        f"{sbe_t - stale_sbe:,.0f} ns book writes"
    )
    path = save(
        "bench_binance_quick" if args.quick else "bench_binance", payload | {"depth": timings}
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()
