"""Bus benchmark (issue 18): what publishing a book update costs, and how long it takes to
reach a consumer over loopback NATS JetStream. Not a timed test; run by hand:

    .venv/bin/python benches/bench_bus.py [--quick]

1. Publish cost per book update, same updates, same process, shuffled passes:
   - ``apply_nojournal`` / ``apply``: the Rust book applies the delta with its change journal
     off / on (what the journal costs), nothing published (baseline);
   - ``apply + BusEncoder.update``: plus the wire message from the journal (Rust);
   - ``apply + orjson``: plus ``orjson.dumps`` of the same update as a dict with string
     levels (what cryptofeed-style backends publish);
   and the same three with ``await nc.publish(...)`` to a local nats-server.
2. Latency gateway -> consumer: a publisher process encodes (BusEncoder) and publishes at a
   fixed rate into a JetStream stream; a consumer process reads it with an ordered consumer and
   applies every message to its book in Rust (``bus_apply``); latency = consumer wall clock
   after the apply minus the message's publish_ns. p50/p99/p99.9 per rate.
3. Consumer throughput: one gateway's book stream (a snapshot then N deltas from
   ``BusEncoder``) is in a JetStream stream; 1, 10 and 50 consumers read all of it at once,
   each an asyncio task with its own NATS connection, its own ordered consumer and its own
   Rust book (``bus_apply`` on every message, as ``RemoteBook`` does), all in one process
   beside the nats-server. messages/s per consumer (median, min) and in total; every consumer
   must end in sync having applied every message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import nats
import orjson
from nats.aio.msg import Msg
from nats.js import api

from hftws import OrderBook
from hftws.bus import BusEncoder, bus_apply, bus_decode
from hftws.testing.nats import NatsServer

SUBJECT = "hftws.bench.BTC_USDT.book"


def _updates(n: int, seed: int = 1) -> list[tuple[list[tuple[str, str]], list[tuple[str, str]]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        bids = [(f"{rng.randint(9800, 9999) / 100:.2f}", f"{rng.randint(0, 500) / 1000:.3f}")]
        asks = [(f"{rng.randint(10001, 10200) / 100:.2f}", f"{rng.randint(0, 500) / 1000:.3f}")]
        for _ in range(rng.randint(0, 4)):
            side = bids if rng.random() < 0.5 else asks
            lo, hi = (9800, 9999) if side is bids else (10001, 10200)
            side.append((f"{rng.randint(lo, hi) / 100:.2f}", f"{rng.randint(0, 500) / 1000:.3f}"))
        out.append((bids, asks))
    return out


def _book(journal: bool = True) -> OrderBook:
    book = OrderBook("gate", max_depth=100, symbol="BTC_USDT")
    book.set_journal(journal)
    bids = [(f"{p / 100:.2f}", "1") for p in range(9900, 10000)]
    asks = [(f"{p / 100:.2f}", "1") for p in range(10001, 10101)]
    book.load_snapshot(bids, asks, 1)
    book.apply([], [], 2, 2)
    return book


def _as_dict(
    seq: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]
) -> dict[str, object]:
    return {
        "exchange": "gateio",
        "symbol": "BTC_USDT",
        "seq": seq,
        "recv_ns": time.time_ns(),
        "bids": bids,
        "asks": asks,
    }


async def publish_cost(n: int, repeat: int) -> dict[str, float]:
    ups = _updates(n)
    async with NatsServer() as server:
        nc = await nats.connect(server.url)
        try:
            clock = time.perf_counter_ns
            # What reading the clock twice costs, taken off the encode-only figures.
            c0 = clock()
            for _ in range(10_000):
                clock()
            tick = (clock() - c0) / 10_000

            async def run(kind: str, publish: bool) -> float:
                book = _book(journal=kind != "apply_nojournal")
                enc = BusEncoder("gateio", "BTC_USDT")
                seq = 3
                encode = 0
                t0 = clock()
                for bids, asks in ups:
                    book.apply(bids, asks, seq, seq)
                    seq += 1
                    e0 = clock()
                    if kind == "rust":
                        msg = enc.update(book, 0)
                    elif kind == "orjson":
                        msg = orjson.dumps(_as_dict(seq, bids, asks))
                    else:
                        msg = None
                    encode += clock() - e0
                    if publish and msg is not None:
                        await nc.publish(SUBJECT, msg)
                if publish:
                    await nc.flush()
                total = (clock() - t0) / n
                if not publish:
                    encodes[kind].append(encode / n - tick)
                return total

            kinds = ("apply_nojournal", "apply", "rust", "orjson")
            encodes: dict[str, list[float]] = {k: [] for k in kinds}
            cases = [(k, p) for p in (False, True) for k in kinds]
            got: dict[str, list[float]] = {f"{k}{'+publish' if p else ''}": [] for k, p in cases}
            rng = random.Random(1)
            for _ in range(repeat):
                rng.shuffle(cases)
                for k, p in cases:
                    got[f"{k}{'+publish' if p else ''}"].append(await run(k, p))
        finally:
            await nc.close()
    out = {k: min(v) for k, v in got.items()}
    out["encode_only_rust"] = min(encodes["rust"])
    out["encode_only_orjson"] = min(encodes["orjson"])
    return out


CONSUMER = r"""
import asyncio, json, sys, time
import nats
from hftws import OrderBook
from hftws.bus import bus_apply
async def main(url, count):
    nc = await nats.connect(url)
    js = nc.jetstream()
    book = OrderBook("kucoin_futures", symbol="BTC_USDT")
    lat = []
    done = asyncio.Event()
    async def cb(msg):
        bus_apply(book, msg.data, "gateio", "BTC_USDT")
        lat.append(time.time_ns() - int.from_bytes(msg.data[36:44], "little"))
        if len(lat) >= count:
            done.set()
    await js.subscribe("hftws.bench.BTC_USDT.book", cb=cb, ordered_consumer=True,
                       deliver_policy=nats.js.api.DeliverPolicy.NEW)
    print("READY", flush=True)
    try:
        await asyncio.wait_for(done.wait(), count / 1000 + 60)
    except TimeoutError:
        pass
    print(json.dumps({"lat": lat, "in_sync": book.in_sync, "applied": book.applied}), flush=True)
    await nc.close()
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def latency(rate: int, seconds: float) -> dict[str, float]:
    count = int(rate * seconds)
    ups = _updates(count, seed=rate)
    async with NatsServer() as server:
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await js.add_stream(
            api.StreamConfig(name="HFTWS_BENCH", subjects=["hftws.bench.*.book"], max_age=60)
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CONSUMER,
            server.url,
            str(count),
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,
        )
        assert proc.stdout is not None
        assert (await asyncio.wait_for(proc.stdout.readline(), 30)).strip() == b"READY"
        book = _book()
        enc = BusEncoder("gateio", "BTC_USDT")
        # The first message a reader sees must be a snapshot: send one, then the deltas.
        await nc.publish(SUBJECT, enc.snapshot(book, 0))
        loop = asyncio.get_running_loop()
        start = loop.time()
        sent = 0
        seq = 3
        while sent < count:
            due = min(count, int((loop.time() - start) * rate) + 1)
            while sent < due:
                bids, asks = ups[sent]
                book.apply(bids, asks, seq, seq)
                seq += 1
                msg = enc.update(book, time.time_ns())
                if msg is not None:
                    await nc.publish(SUBJECT, msg)
                sent += 1
            await asyncio.sleep(0.0005)
        elapsed = loop.time() - start
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        await proc.wait()
        await nc.close()
    res = json.loads(line)
    lat = sorted(res["lat"])

    def q(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] / 1000

    return {
        "rate_target": rate,
        "rate_sent": round(count / elapsed),
        "received": len(lat),
        "consumer_in_sync": res["in_sync"],
        "p50_us": q(0.5),
        "p99_us": q(0.99),
        "p999_us": q(0.999),
        "mean_us": statistics.fmean(lat) / 1000 if lat else 0.0,
    }


async def _fill_stream(nc: nats.NATS, n: int) -> None:
    js = nc.jetstream()
    await js.add_stream(
        api.StreamConfig(name="HFTWS_BENCH", subjects=["hftws.bench.*.book"], max_age=600)
    )
    book = _book()
    enc = BusEncoder("gateio", "BTC_USDT")
    await js.publish(SUBJECT, enc.snapshot(book, time.time_ns()))
    seq = 3
    for i, (bids, asks) in enumerate(_updates(n, seed=7)):
        book.apply(bids, asks, seq, seq)
        seq += 1
        msg = enc.update(book, time.time_ns())
        assert msg is not None
        await nc.publish(SUBJECT, msg)
        if i % 1000 == 999:
            await nc.flush()
    await nc.flush()
    for _ in range(600):  # the server stores core publishes asynchronously: up to 60 s
        info = await js.stream_info("HFTWS_BENCH")
        if info.state.messages >= n + 1:
            break
        await asyncio.sleep(0.1)
    assert info.state.messages == n + 1, info.state


async def _consume_all(url: str, consumers: int, n: int) -> dict[str, float]:
    """``consumers`` tasks read the whole stream (n + 1 messages) at once."""
    total = n + 1
    conns = [await nats.connect(url, pending_size=1 << 26) for _ in range(consumers)]
    books = [OrderBook("kucoin_futures", symbol="BTC_USDT") for _ in range(consumers)]
    counts = [0] * consumers
    ends = [0.0] * consumers
    done = asyncio.Event()
    finished = 0
    subs = []

    def make_cb(i: int) -> Callable[[Msg], Awaitable[None]]:
        book = books[i]

        async def cb(msg: Msg) -> None:
            nonlocal finished
            bus_apply(book, msg.data, "gateio", "BTC_USDT")
            counts[i] += 1
            if counts[i] == total:
                ends[i] = time.perf_counter()
                finished += 1
                if finished == consumers:
                    done.set()

        return cb

    t0 = time.perf_counter()
    for i, nc in enumerate(conns):
        subs.append(
            await nc.jetstream().subscribe(
                SUBJECT,
                cb=make_cb(i),
                ordered_consumer=True,
                deliver_policy=api.DeliverPolicy.ALL,
                pending_msgs_limit=total + 10,
            )
        )
    try:
        await asyncio.wait_for(done.wait(), 120)
    finally:
        for nc in conns:
            await nc.close()
    assert all(c == total for c in counts), counts
    assert all(b.in_sync and b.applied >= n for b in books), [b.state for b in books]
    rates = sorted(total / (end - t0) for end in ends)
    wall = max(ends) - t0
    return {
        "consumers": consumers,
        "messages_each": total,
        "per_consumer_median": statistics.median(rates),
        "per_consumer_min": rates[0],
        "total_per_s": consumers * total / wall,
        "wall_s": wall,
    }


async def throughput(n: int, counts: tuple[int, ...]) -> list[dict[str, float]]:
    async with NatsServer() as server:
        nc = await nats.connect(server.url)
        try:
            await _fill_stream(nc, n)
        finally:
            await nc.close()
        return [await _consume_all(server.url, c, n) for c in counts]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    n, repeat, seconds = (5_000, 3, 2.0) if a.quick else (20_000, 5, 5.0)
    stream_n = 2_000 if a.quick else 20_000
    # RESULTS.md takes everything printed before "saved": one fenced block.
    print("```text")
    cost = await publish_cost(n, repeat)
    print("publish cost per book update (ns, best of passes):")
    for k, v in cost.items():
        print(f"  {k:<18} {v:10.0f}")
    print(
        f"  encode+publish beyond apply: Rust {cost['rust+publish'] - cost['apply']:.0f} ns, "
        f"orjson {cost['orjson+publish'] - cost['apply']:.0f} ns"
    )
    lats = []
    for rate in (10_000, 50_000):
        r = await latency(rate, seconds)
        lats.append(r)
        print(f"latency at {rate}/s: {r}")
    thr = await throughput(stream_n, (1, 10, 50))
    print(
        "consumer throughput (asyncio tasks in one process, one NATS connection and one "
        f"ordered consumer each, {stream_n + 1} book messages from JetStream, bus_apply each):"
    )
    for r in thr:
        print(
            f"  {r['consumers']:>3} consumer(s): {r['per_consumer_median']:>9,.0f} msg/s per "
            f"consumer (min {r['per_consumer_min']:,.0f}), {r['total_per_s']:>9,.0f} msg/s "
            f"total, {r['wall_s']:.2f} s"
        )
    # A sanity check that the messages are what they claim (not part of the timing).
    assert bus_decode(BusEncoder("x", "y").snapshot(_book())).kind == "snapshot"
    out = Path(__file__).resolve().parent / "results" / "bench_bus.json"
    out.write_text(
        json.dumps({"publish_cost_ns": cost, "latency": lats, "consumer_throughput": thr}, indent=2)
        + "\n"
    )
    print("```")
    print(f"saved {out}")


if __name__ == "__main__":
    asyncio.run(main())
