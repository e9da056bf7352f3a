"""Gate.io JSON: parse + apply + best level, against Python pipelines, in one run.

Stream: ``spot.order_book_update`` frames (1-20 levels each, random-walk mid, ~25% deletions,
consecutive ``U``/``u`` ids) applied to a book seeded with 1,000 levels per side; the best bid
and ask are read after every message (batched: after every socket read of ``BATCH`` frames).

Pipelines:
- hftws ``gateio.apply_depth`` + ``OrderBook.bbo()`` (one Python call per frame), and
  ``gateio.apply_depth_many`` (one call per socket read);
- ``orjson.loads`` + the ``order_book`` C extension (float keys);
- ``msgspec`` typed structs + ``sortedcontainers.SortedDict`` (float keys);
- ccxt.pro Gate ``handle_message`` (``json.loads`` as its client does, a fake client and a
  pre-seeded book);
- ``orjson.loads`` alone (parse only, for reference).

Also: ``spot.trades`` and ``spot.book_ticker`` frames to typed events, hftws ``gateio.parse`` vs
``msgspec.json.decode`` into typed structs (and ``orjson.loads`` to dicts).

Run: ``.venv/bin/python benches/bench_gate.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec
import orjson
from order_book import OrderBook as COrderBook
from sortedcontainers import SortedDict

import corpus as C
import hftws
import hftws.ws
from _harness import measure, save, table
from hftws import gateio

BATCH = 10
PAIR = C.GATE_PAIR
FIRST_ID = C.SNAPSHOT_ID


def make_stream(n: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[bytes]]:
    """The shared corpus's snapshot and depth-only Gate.io stream."""
    c = C.corpus(n)
    return c.snapshot_bids, c.snapshot_asks, c.gate


# --- competitors -------------------------------------------------------------------------


def hftws_book(snap_b, snap_a) -> hftws.OrderBook:
    book = hftws.OrderBook("gate", symbol=PAIR)
    book.load_snapshot(snap_b, snap_a, FIRST_ID)
    return book


def run_hftws(book, frames) -> int:
    apply, bbo = gateio.apply_depth, book.bbo
    for f in frames:
        apply(f, book)
        bbo()
    return len(frames)


def run_hftws_batched(book, batches) -> int:
    apply_many, bbo = gateio.apply_depth_many, book.bbo
    n = 0
    for batch in batches:
        apply_many(batch, book)
        bbo()
        n += len(batch)
    return n


def cbook(snap_b, snap_a) -> COrderBook:
    ob = COrderBook()
    for p, s in snap_b:
        ob.bids[float(p)] = float(s)
    for p, s in snap_a:
        ob.asks[float(p)] = float(s)
    return ob


def run_orjson_cbook(ob, frames) -> int:
    bids, asks = ob.bids, ob.asks
    last = FIRST_ID
    loads = orjson.loads
    for f in frames:
        r = loads(f)["result"]
        if r["u"] <= last:
            continue
        if r["U"] > last + 1:
            raise RuntimeError("gap")
        for p, s in r["b"]:
            fs = float(s)
            if fs == 0.0:
                fp = float(p)
                if fp in bids:
                    del bids[fp]
            else:
                bids[float(p)] = fs
        for p, s in r["a"]:
            fs = float(s)
            if fs == 0.0:
                fp = float(p)
                if fp in asks:
                    del asks[fp]
            else:
                asks[float(p)] = fs
        last = r["u"]
        bids.index(0)
        asks.index(0)
    return len(frames)


class MResult(msgspec.Struct):
    t: int
    s: str
    U: int
    u: int
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]


class MDepth(msgspec.Struct):
    channel: str
    event: str
    result: MResult


def sorted_books(snap_b, snap_a) -> tuple[SortedDict, SortedDict]:
    bids = SortedDict({float(p): float(s) for p, s in snap_b})
    asks = SortedDict({float(p): float(s) for p, s in snap_a})
    return bids, asks


def run_msgspec_sorted(books, frames) -> int:
    bids, asks = books
    dec = msgspec.json.Decoder(MDepth)
    last = FIRST_ID
    for f in frames:
        r = dec.decode(f).result
        if r.u <= last:
            continue
        if r.U > last + 1:
            raise RuntimeError("gap")
        for p, s in r.b:
            fs = float(s)
            if fs == 0.0:
                bids.pop(float(p), None)
            else:
                bids[float(p)] = fs
        for p, s in r.a:
            fs = float(s)
            if fs == 0.0:
                asks.pop(float(p), None)
            else:
                asks[float(p)] = fs
        last = r.u
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
    return ccxtpro.gate({"enableRateLimit": False})


def ccxt_book(ex, snap_b, snap_a):
    snap = {
        "bids": [[float(p), float(s)] for p, s in snap_b],
        "asks": [[float(p), float(s)] for p, s in snap_a],
        "nonce": FIRST_ID,
    }
    return ex.order_book(snap)


def run_ccxt(ex, book, frames) -> int:
    ex.orderbooks["BTC/USDT"] = book
    client = FakeClient()
    handle, loads = ex.handle_message, json.loads
    ob = ex.orderbooks["BTC/USDT"]
    for f in frames:
        handle(client, loads(f))
        ob["bids"][0]
        ob["asks"][0]
    return len(frames)


def stream_decoder(book) -> hftws.ws.StreamDecoder:
    dec = hftws.ws.StreamDecoder("gateio")
    dec.register_book(PAIR, book)
    return dec


def run_stream(book, wire: list[bytes]) -> int:
    """``StreamDecoder.feed``: WebSocket frames + parse + apply, one call per socket read."""
    feed, bbo = stream_decoder(book).feed, book.bbo
    n = 0
    for chunk in wire:
        n += len(feed(chunk))
        bbo()
    return n


def run_orjson_only(frames) -> int:
    loads = orjson.loads
    for f in frames:
        loads(f)
    return len(frames)


# --- trades and tickers -------------------------------------------------------------------


class MTrade(msgspec.Struct):
    id: int
    create_time: int
    create_time_ms: str
    side: str
    currency_pair: str
    amount: str
    price: str
    range: str


class MTradeMsg(msgspec.Struct):
    time: int
    time_ms: int
    channel: str
    event: str
    result: MTrade


class MTicker(msgspec.Struct):
    t: int
    u: int
    s: str
    b: str
    B: str
    a: str
    A: str


class MTickerMsg(msgspec.Struct):
    time: int
    time_ms: int
    channel: str
    event: str
    result: MTicker


def run_parse(frames, read_price: bool) -> int:
    parse = gateio.parse
    if read_price:
        for f in frames:
            _ = parse(f).price
    else:
        for f in frames:
            parse(f)
    return len(frames)


def run_msgspec(frames, typ) -> int:
    dec = msgspec.json.Decoder(typ)
    for f in frames:
        dec.decode(f)
    return len(frames)


# --- mixed stream: depth, trades and book tickers on one socket ------------------------------


class MEnvelope(msgspec.Struct):
    channel: str
    result: msgspec.Raw


def run_mixed_msgspec(books, frames) -> int:
    """Envelope first (result kept raw), then the typed result for its channel."""
    bids, asks = books
    env = msgspec.json.Decoder(MEnvelope)
    dec = {
        "spot.order_book_update": msgspec.json.Decoder(MResult),
        "spot.trades": msgspec.json.Decoder(MTrade),
        "spot.book_ticker": msgspec.json.Decoder(MTicker),
    }
    depth_dec = dec["spot.order_book_update"]
    last = FIRST_ID
    for f in frames:
        e = env.decode(f)
        if e.channel != "spot.order_book_update":
            dec[e.channel].decode(e.result)
            continue
        r = depth_dec.decode(e.result)
        if r.u <= last:
            continue
        for p, sz in r.b:
            fs = float(sz)
            if fs == 0.0:
                bids.pop(float(p), None)
            else:
                bids[float(p)] = fs
        for p, sz in r.a:
            fs = float(sz)
            if fs == 0.0:
                asks.pop(float(p), None)
            else:
                asks[float(p)] = fs
        last = r.u
        bids.peekitem(-1)
        asks.peekitem(0)
    return len(frames)


def run_mixed_hftws(book, frames) -> int:
    """One call per message: the book takes depth pushes, anything else is parsed."""
    apply, parse, bbo = gateio.apply_depth, gateio.parse, book.bbo
    for f in frames:
        if apply(f, book) is None:
            parse(f)
        else:
            bbo()
    return len(frames)


def mixed_cases(n: int, repeat: int) -> tuple[dict, int]:
    c = C.corpus(n, depth_share=0.7, seed=11)
    frames = c.gate
    wire = [b"".join(C.server_frame(f) for f in b) for b in C.batches(frames, BATCH)]
    snap = (c.snapshot_bids, c.snapshot_asks)
    pools = {k: [hftws_book(*snap) for _ in range(repeat)] for k in ("one", "stream")} | {
        "sorted": [sorted_books(*snap) for _ in range(repeat)]
    }
    check = hftws_book(*snap)
    run_stream(check, wire)
    C.check_hftws("mixed StreamDecoder", check, c)
    sb = sorted_books(*snap)
    run_mixed_msgspec(sb, frames)
    C.check_book("mixed msgspec", dict(sb[0]), dict(sb[1]), c)
    cases = {
        "hftws apply_depth or parse (1 call/msg)": lambda: run_mixed_hftws(
            pools["one"].pop(), frames
        ),
        f"hftws StreamDecoder.feed ({BATCH} frames/read)": lambda: run_stream(
            pools["stream"].pop(), wire
        ),
        "msgspec envelope + typed result + SortedDict": lambda: run_mixed_msgspec(
            pools["sorted"].pop(), frames
        ),
    }
    return cases, len(c.by_kind["depth"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small run (< 30 s)")
    ap.add_argument(
        "--dump",
        action="store_true",
        help="write the stream to target/gate_bench/ for benches/rust/gate_depth.rs and exit",
    )
    args = ap.parse_args()
    n, repeat = (3_000, 3) if args.quick else (20_000, 7)
    snap_b, snap_a, frames = make_stream(n)
    if args.dump:
        out = Path(__file__).resolve().parent.parent / "target" / "gate_bench"
        out.mkdir(exist_ok=True)
        (out / "gate_frames.txt").write_bytes(b"\n".join(frames))
        lines = [f"b {p} {s}" for p, s in snap_b] + [f"a {p} {s}" for p, s in snap_a]
        (out / "gate_snapshot.txt").write_text("\n".join(lines))
        print(f"wrote {len(frames):,} frames to {out}")
        return
    batches = [frames[i : i + BATCH] for i in range(0, len(frames), BATCH)]
    one_wire = [C.server_frame(f) for f in frames]
    batch_wire = [b"".join(C.server_frame(f) for f in b) for b in batches]
    mean_levels = (
        sum(len(json.loads(f)["result"]["b"]) + len(json.loads(f)["result"]["a"]) for f in frames)
        / n
    )

    # The books are built before timing: one fresh book per pass and pipeline.
    check = hftws_book(snap_b, snap_a)
    assert gateio.apply_depth_many(frames, check) == hftws.BookStatus.APPLIED
    C.check_hftws("hftws", check, C.corpus(n))
    fused = hftws_book(snap_b, snap_a)
    assert run_stream(fused, batch_wire) == n
    C.check_hftws("hftws StreamDecoder", fused, C.corpus(n))
    sb = sorted_books(snap_b, snap_a)
    run_msgspec_sorted(sb, frames)
    C.check_book("msgspec + SortedDict", dict(sb[0]), dict(sb[1]), C.corpus(n))
    ex = ccxt_exchange()
    pools: dict[str, list[object]] = {
        "hftws": [hftws_book(snap_b, snap_a) for _ in range(repeat)],
        "hftws_b": [hftws_book(snap_b, snap_a) for _ in range(repeat)],
        "stream1": [hftws_book(snap_b, snap_a) for _ in range(repeat)],
        "streamb": [hftws_book(snap_b, snap_a) for _ in range(repeat)],
        "cbook": [cbook(snap_b, snap_a) for _ in range(repeat)],
        "sorted": [sorted_books(snap_b, snap_a) for _ in range(repeat)],
    }
    cases = {
        "hftws apply_depth (1 call/msg)": lambda: run_hftws(pools["hftws"].pop(), frames),
        f"hftws apply_depth_many ({BATCH} msgs/call)": lambda: run_hftws_batched(
            pools["hftws_b"].pop(), batches
        ),
        "hftws StreamDecoder.feed (1 frame/call)": lambda: run_stream(
            pools["stream1"].pop(), one_wire
        ),
        f"hftws StreamDecoder.feed ({BATCH} frames/read)": lambda: run_stream(
            pools["streamb"].pop(), batch_wire
        ),
        "profile: hftws apply_depth of stale pushes (scan + id check, no writes)": lambda: (
            run_hftws(check, frames)
        ),
        "orjson + order_book C ext": lambda: run_orjson_cbook(pools["cbook"].pop(), frames),
        "msgspec structs + SortedDict": lambda: run_msgspec_sorted(pools["sorted"].pop(), frames),
        "orjson.loads only (no book)": lambda: run_orjson_only(frames),
    }
    if ex is not None:
        # ccxt is slow: a quarter of the stream keeps the run short (ns/msg is per message).
        ccxt_frames = frames[: max(n // 4, 500)]
        pools["ccxt"] = [ccxt_book(ex, snap_b, snap_a) for _ in range(repeat)]
        cases["ccxt.pro gate handle_message"] = lambda: run_ccxt(
            ex, pools["ccxt"].pop(), ccxt_frames
        )
    depth = measure(cases, repeat=repeat)
    # Same final best levels everywhere, or the comparison would be meaningless.
    final_c = cbook(snap_b, snap_a)
    run_orjson_cbook(final_c, frames)
    assert check.best_bid()[0] == final_c.bids.index(0)[0]
    assert check.best_ask()[0] == final_c.asks.index(0)[0]
    print(
        f"{n:,} spot.order_book_update frames, {mean_levels:.1f} levels/msg on average, "
        f"book of 1,000 levels per side; ns/message\n"
    )
    print(table("Parse + apply + best bid/ask", depth, baseline="orjson + order_book C ext"))

    other = C.corpus(n, depth_share=0.0)
    trades, tickers = other.select("gate", "trade"), other.select("gate", "ticker")
    typed = measure(
        {
            "hftws gateio.parse (trade)": lambda: run_parse(trades, False),
            "hftws gateio.parse + .price (trade)": lambda: run_parse(trades, True),
            "msgspec typed struct (trade)": lambda: run_msgspec(trades, MTradeMsg),
            "orjson.loads dict (trade)": lambda: run_orjson_only(trades),
            "hftws gateio.parse (book_ticker)": lambda: run_parse(tickers, False),
            "msgspec typed struct (book_ticker)": lambda: run_msgspec(tickers, MTickerMsg),
            "orjson.loads dict (book_ticker)": lambda: run_orjson_only(tickers),
        },
        repeat=repeat,
    )
    print(
        table("Trades and tickers to typed events", typed, baseline="msgspec typed struct (trade)")
    )
    cases, n_depth = mixed_cases(n, repeat)
    mixed = measure(cases, repeat=repeat)
    print(
        table(
            f"Mixed stream ({n_depth:,} depth pushes, the rest trades and book tickers): "
            "every message decoded, depth applied, best read (ns/message)",
            mixed,
            baseline="msgspec envelope + typed result + SortedDict",
        )
    )
    path = save(
        "bench_gate_quick" if args.quick else "bench_gate",
        {"n": n, "mean_levels": mean_levels, "depth": depth, "typed": typed, "mixed": mixed},
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()
