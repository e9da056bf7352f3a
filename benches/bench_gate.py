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

Also: ``spot.trades`` and ``spot.tickers`` frames to typed events, hftws ``gateio.parse`` vs
``msgspec.json.decode`` into typed structs (and ``orjson.loads`` to dicts).

Run: ``.venv/bin/python benches/bench_gate.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec
import orjson
from order_book import OrderBook as COrderBook
from sortedcontainers import SortedDict

import hftws
from _harness import measure, save, table
from hftws import gateio

TICK = 0.1
LEVELS = 1_000
BATCH = 10
PAIR = "BTC_USDT"
FIRST_ID = 1_000_000


def fmt_price(ticks: int) -> str:
    return f"{ticks * TICK:.1f}"


def make_stream(
    n: int, seed: int = 7
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[bytes]]:
    """A snapshot (bids, asks as strings) and ``n`` update frames that never cross the book."""
    rng = random.Random(seed)
    mid = 600_000  # in ticks; bids are < mid, asks are >= mid + 1
    bids = {mid - 1 - i: round(rng.uniform(0.01, 5), 4) for i in range(LEVELS)}
    asks = {mid + 1 + i: round(rng.uniform(0.01, 5), 4) for i in range(LEVELS)}
    snap_b = [(fmt_price(p), f"{s:.4f}") for p, s in sorted(bids.items(), reverse=True)]
    snap_a = [(fmt_price(p), f"{s:.4f}") for p, s in sorted(asks.items())]
    frames = []
    uid = FIRST_ID
    t = 1_727_000_000_000
    for _ in range(n):
        step = rng.choice((-1, 0, 0, 0, 1))
        mid += step
        b_out: list[list[str]] = []
        a_out: list[list[str]] = []
        # Levels the new mid would cross are deleted first, as the exchange would.
        for p in [p for p in bids if p >= mid]:
            del bids[p]
            b_out.append([fmt_price(p), "0"])
        for p in [p for p in asks if p <= mid]:
            del asks[p]
            a_out.append([fmt_price(p), "0"])
        k = rng.randint(1, 20)
        while len(b_out) + len(a_out) < k:
            off = min(int(rng.expovariate(0.15)), 400)
            if rng.random() < 0.5:
                p = mid - 1 - off
                if rng.random() < 0.25 and bids:
                    bids.pop(p, None)
                    b_out.append([fmt_price(p), "0"])
                else:
                    s = round(rng.uniform(0.001, 5), 4)
                    bids[p] = s
                    b_out.append([fmt_price(p), f"{s:.4f}"])
            else:
                p = mid + 1 + off
                if rng.random() < 0.25 and asks:
                    asks.pop(p, None)
                    a_out.append([fmt_price(p), "0"])
                else:
                    s = round(rng.uniform(0.001, 5), 4)
                    asks[p] = s
                    a_out.append([fmt_price(p), f"{s:.4f}"])
        first = uid + 1
        uid += rng.randint(1, 5)
        t += rng.randint(5, 100)
        msg = {
            "time": t // 1000,
            "time_ms": t + 3,
            "channel": "spot.order_book_update",
            "event": "update",
            "result": {
                "t": t,
                "l": "100",
                "e": "depthUpdate",
                "E": t // 1000,
                "s": PAIR,
                "U": first,
                "u": uid,
                "b": b_out,
                "a": a_out,
            },
        }
        frames.append(json.dumps(msg, separators=(",", ":")).encode())
    return snap_b, snap_a, frames


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


def run_orjson_only(frames) -> int:
    loads = orjson.loads
    for f in frames:
        loads(f)
    return len(frames)


# --- trades and tickers -------------------------------------------------------------------


class MTrade(msgspec.Struct):
    id: int
    id_market: int
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
    currency_pair: str
    last: str
    lowest_ask: str
    highest_bid: str
    change_percentage: str
    base_volume: str
    quote_volume: str
    high_24h: str
    low_24h: str


class MTickerMsg(msgspec.Struct):
    time: int
    time_ms: int
    channel: str
    event: str
    result: MTicker


def make_trades(n: int, seed: int = 3) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        t = 1_727_000_012 + i
        msg = {
            "time": t,
            "time_ms": t * 1000 + 90,
            "channel": "spot.trades",
            "event": "update",
            "result": {
                "id": 9834412201 + i,
                "id_market": 512993347 + i,
                "create_time": t,
                "create_time_ms": f"{t * 1000 + 85}.{rng.randint(0, 9999):04d}",
                "side": rng.choice(("buy", "sell")),
                "currency_pair": PAIR,
                "amount": f"{rng.uniform(0.0001, 2):.4f}",
                "price": f"{rng.uniform(60000, 65000):.1f}",
                "range": f"{512993347 + i}-{512993347 + i}",
            },
        }
        out.append(json.dumps(msg, separators=(",", ":")).encode())
    return out


def make_tickers(n: int, seed: int = 4) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        t = 1_727_000_012 + i
        last = rng.uniform(60000, 65000)
        msg = {
            "time": t,
            "time_ms": t * 1000 + 12,
            "channel": "spot.tickers",
            "event": "update",
            "result": {
                "currency_pair": PAIR,
                "last": f"{last:.1f}",
                "lowest_ask": f"{last + 0.1:.1f}",
                "highest_bid": f"{last - 0.1:.1f}",
                "change_percentage": f"{rng.uniform(-5, 5):.4f}",
                "base_volume": f"{rng.uniform(1000, 9000):.8f}",
                "quote_volume": f"{rng.uniform(1e7, 9e7):.8f}",
                "high_24h": f"{last + 900:.1f}",
                "low_24h": f"{last - 900:.1f}",
            },
        }
        out.append(json.dumps(msg, separators=(",", ":")).encode())
    return out


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
    mean_levels = (
        sum(len(json.loads(f)["result"]["b"]) + len(json.loads(f)["result"]["a"]) for f in frames)
        / n
    )

    # The books are built before timing: one fresh book per pass and pipeline.
    check = hftws_book(snap_b, snap_a)
    assert gateio.apply_depth_many(frames, check) == hftws.BookStatus.APPLIED
    ex = ccxt_exchange()
    pools: dict[str, list[object]] = {
        "hftws": [hftws_book(snap_b, snap_a) for _ in range(repeat)],
        "hftws_b": [hftws_book(snap_b, snap_a) for _ in range(repeat)],
        "cbook": [cbook(snap_b, snap_a) for _ in range(repeat)],
        "sorted": [sorted_books(snap_b, snap_a) for _ in range(repeat)],
    }
    cases = {
        "hftws apply_depth (1 call/msg)": lambda: run_hftws(pools["hftws"].pop(), frames),
        f"hftws apply_depth_many ({BATCH} msgs/call)": lambda: run_hftws_batched(
            pools["hftws_b"].pop(), batches
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
        f"book of {LEVELS:,} levels per side; ns/message\n"
    )
    print(table("Parse + apply + best bid/ask", depth, baseline="orjson + order_book C ext"))

    trades, tickers = make_trades(n), make_tickers(n)
    typed = measure(
        {
            "hftws gateio.parse (trade)": lambda: run_parse(trades, False),
            "hftws gateio.parse + .price (trade)": lambda: run_parse(trades, True),
            "msgspec typed struct (trade)": lambda: run_msgspec(trades, MTradeMsg),
            "orjson.loads dict (trade)": lambda: run_orjson_only(trades),
            "hftws gateio.parse (ticker)": lambda: run_parse(tickers, False),
            "msgspec typed struct (ticker)": lambda: run_msgspec(tickers, MTickerMsg),
            "orjson.loads dict (ticker)": lambda: run_orjson_only(tickers),
        },
        repeat=repeat,
    )
    print(
        table("Trades and tickers to typed events", typed, baseline="msgspec typed struct (trade)")
    )
    path = save(
        "bench_gate_quick" if args.quick else "bench_gate",
        {"n": n, "mean_levels": mean_levels, "depth": depth, "typed": typed},
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()
