"""Books while Python is busy: a strategy that busy-waits 1 ms every 10 ms on the event loop.

A server process sends the Gate.io mixed stream (depth, trades and book tickers interleaved,
``bench_mixed``'s corpus) at a steady 50,000 messages/s and writes the ``CLOCK_MONOTONIC``
time of every send into shared memory, so the client can tell, at any moment, what is on
the wire. The client keeps the BTC_USDT book and runs a strategy task that busy-waits 1 ms,
then reads the book, then sleeps 9 ms; trade and ticker callbacks read their fields.

Measured per I/O mode (same corpus, same server, same run):

- **send -> applied**: from the server's send of a depth push to the moment the book holds it
  (p50 / p99 / p99.9 / max over every depth push after a 2% warm-up);
- **receive -> applied**: from the socket read that carried the push to its apply;
- **book freshness** when the strategy reads the book (right after its busy millisecond, when
  a strategy acts): how long the oldest push that was sent but not yet applied has been
  waiting (0 when the book holds everything sent);
- drops (events the native queue refused), disconnects, and the final book checked against
  the corpus's expected book.

Modes: ``asyncio`` (the default: ``GateioSpotPublicHandler`` with the book registered, the
fused decoder applying pushes inside the loop's read callback) and ``native`` (the socket,
codec, decoder and book on a Rust thread outside the GIL, ``hftws.native``), each with and
without the busy strategy.

Run: ``.venv/bin/python benches/bench_busy.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import multiprocessing as mp
import os
import socket
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus as C
from _harness import save
from bench_e2e import handshake
from bench_mixed import mixed_corpus
from hftws.exchanges import GateioSpotPublicHandler

RATE = 50_000.0
BUSY_S, PERIOD_S = 0.001, 0.010


# --- server: paced frames, send times in shared memory ----------------------------------------


def _serve(sock: socket.socket, frames: list[bytes], rate: float, sent: Any, go: Any) -> None:
    """One client per connection: ``frames`` on a fixed schedule, ``sent[i]`` = send time."""
    step_ns = int(1e9 / rate)
    while True:
        conn, _ = sock.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if not handshake(conn):
                conn.close()
                continue
            # Every mode registers its book before it connects; a short pause lets the
            # client finish its connect before the clock starts.
            time.sleep(0.1)
            for i in range(len(frames)):
                sent[i] = 0
            # Message i is due at start + i * step: the server spins (yielding the core, so
            # the client's threads still run) until it is due and writes it alone. A server
            # that falls behind (the machine is busy) writes everything due in one write, as
            # exchanges batch, so the rate over the run stays the target; each message's send
            # time is its write's.
            n, i = len(frames), 0
            start = time.monotonic_ns()
            while i < n:
                now = time.monotonic_ns()
                due = min(n, (now - start) // step_ns + 1)
                if due <= i:
                    os.sched_yield()
                    continue
                for k in range(i, due):
                    sent[k] = now
                conn.sendall(b"".join(frames[i:due]))
                i = due
            go.value = 1
            conn.settimeout(30)
            while chunk := conn.recv(65536):
                if b"\x88" in chunk:
                    conn.sendall(b"\x88\x02\x03\xe8")
                    break
        except OSError:
            pass
        conn.close()


@dataclass
class Server:
    proc: Any
    url: str
    sent: Any
    done: Any

    def close(self) -> None:
        self.proc.kill()
        self.proc.join(5)


def server(frames: list[bytes], rate: float) -> Server:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    port = sock.getsockname()[1]
    ctx = mp.get_context("fork")
    sent = ctx.RawArray("q", len(frames))
    done = ctx.RawValue("i", 0)
    proc = ctx.Process(target=_serve, args=(sock, frames, rate, sent, done), daemon=True)
    proc.start()
    sock.close()
    return Server(proc, f"ws://127.0.0.1:{port}/ws/v4/", sent, done)


# --- the strategy -----------------------------------------------------------------------------


@dataclass
class Measure:
    """What one client run collects."""

    depth_index: dict[int, int]  # update id -> message index
    depth_order: list[int]  # message indexes of depth pushes, in order
    applied: list[tuple[int, int, int]] = field(default_factory=list)  # (u, read ns, applied ns)
    freshness_ns: list[int] = field(default_factory=list)
    trades: int = 0
    tickers: int = 0
    drops: int = 0
    disconnects: int = 0
    sink: float = 0.0

    def strategy_callbacks(self, handler: Any) -> None:
        """The strategy's trade and ticker callbacks (they read the fields), on ``handler``."""

        def on_trade(ev: Any) -> None:
            self.trades += 1
            self.sink += ev.price + ev.amount

        def on_ticker(ev: Any) -> None:
            self.tickers += 1
            self.sink += ev.bid_price + ev.ask_price

        handler.on_trade(on_trade)
        handler.on_ticker(on_ticker)


def busy_wait(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def strategy(
    m: Measure, busy: bool, sent: Any, applied_id: Callable[[], int], stop: asyncio.Event
) -> None:
    """Busy-wait ``BUSY_S`` every ``PERIOD_S`` and then read the book's freshness."""
    order = m.depth_order
    while not stop.is_set():
        if busy:
            busy_wait(BUSY_S)
        u = applied_id()
        now = time.monotonic_ns()
        # The first depth push after the book's last applied one: if it has been sent, the
        # book is stale by how long it has been waiting.
        k = bisect.bisect_right(order, m.depth_index.get(u, -1))
        if k < len(order) and (t := sent[order[k]]) != 0:
            m.freshness_ns.append(max(0, now - t))
        elif m.applied:
            m.freshness_ns.append(0)
        await asyncio.sleep(PERIOD_S - BUSY_S if busy else PERIOD_S)


# --- the two I/O modes --------------------------------------------------------------------------


async def asyncio_mode(url: str, c: C.Corpus, m: Measure, busy: bool, srv: Server) -> Any:
    book = C.hftws_book(c, "gate")
    iface = GateioSpotPublicHandler(url=url, ping_interval=3600, idle_timeout=3600)
    iface.register_book(C.GATE_PAIR, book)
    applied = m.applied
    monotonic_ns = time.monotonic_ns

    def on_book(_update: object) -> None:
        # The connection's receive time of the read being handled (set before decoding).
        conn = iface._conn
        applied.append((book.sequence, conn.last_rx_ns if conn else 0, monotonic_ns()))

    iface.handler.on_orderbook(on_book)
    m.strategy_callbacks(iface.handler)
    await iface.connect()
    stop = asyncio.Event()
    task = asyncio.create_task(strategy(m, busy, srv.sent, lambda: book.sequence, stop))
    await until(lambda: len(applied) >= len(m.depth_order) or srv.done.value == 1, 60)
    await until(lambda: len(applied) >= len(m.depth_order), 10)
    stop.set()
    await task
    await iface.close()
    return book


async def native_mode(url: str, c: C.Corpus, m: Measure, busy: bool, srv: Server) -> Any:
    from hftws.native import NativeConnection

    conn = NativeConnection(
        "gateio", url=url, trace=len(m.depth_order) + 1024, ping_interval=3600, idle_timeout=3600
    )
    await conn.start()
    book = conn.feed.add_book(C.GATE_PAIR, "gate")
    book.load_snapshot(c.snapshot_bids, c.snapshot_asks, c.snapshot_id)
    # No subscription to ack here (the bench server streams at once): the book is linked
    # when the worker reports the connection up, as an ack would.
    conn.on_link(lambda up, _why: book.set_linked(up))

    m.strategy_callbacks(conn.handler)
    last_u = max(m.depth_index)
    stop = asyncio.Event()
    task = asyncio.create_task(strategy(m, busy, srv.sent, lambda: book.sequence, stop))
    await until(lambda: book.sequence >= last_u or srv.done.value == 1, 60)
    await until(lambda: book.sequence >= last_u, 10)
    stop.set()
    await task
    stats = conn.stats()
    m.drops = stats["dropped"]
    m.disconnects = stats["disconnects"]
    m.applied = [(u, r, a) for _sym, u, r, a in conn.feed.trace()]
    await conn.close()
    return book


async def until(cond: Callable[[], bool], timeout: float) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError("the stream did not complete")
        await asyncio.sleep(0.005)


MODES: dict[str, Callable[..., Awaitable[Any]]] = {"asyncio": asyncio_mode, "native": native_mode}


# --- reporting ----------------------------------------------------------------------------------


def pct(values: list[int], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q / 100))] / 1000 if s else float("nan")


def summarise(m: Measure, sent: Any) -> dict[str, float]:
    warm = len(m.applied) // 50
    rows = m.applied[warm:]
    send_applied = [a - sent[m.depth_index[u]] for u, _r, a in rows if u in m.depth_index]
    read_applied = [a - r for _u, r, a in rows if r]
    out: dict[str, float] = {"depth_pushes": len(m.applied)}
    for name, vals in (("send_applied", send_applied), ("read_applied", read_applied)):
        for q in (50, 99, 99.9):
            out[f"{name}_p{q}_us"] = pct(vals, q)
        out[f"{name}_max_us"] = max(vals) / 1000 if vals else float("nan")
    fr = m.freshness_ns[len(m.freshness_ns) // 50 :]
    for q in (50, 99):
        out[f"fresh_p{q}_us"] = pct(fr, q)
    out["fresh_max_us"] = max(fr) / 1000 if fr else float("nan")
    times = [t for t in sent if t]
    out["sent_per_s"] = (len(times) - 1) / ((times[-1] - times[0]) / 1e9) if len(times) > 1 else 0
    out["drops"] = m.drops
    out["disconnects"] = m.disconnects
    out["trades"] = m.trades
    out["tickers"] = m.tickers
    return out


def check_top(name: str, book: Any, c: C.Corpus, n: int = 20) -> None:
    """Raise unless the book's top ``n`` levels per side are the corpus's expected ones (a
    native book publishes its top levels; the asyncio book is checked the same way)."""
    bids, asks = book.top_decimal(n)
    want_b = sorted(c.expected_bids.items(), reverse=True)[:n]
    want_a = sorted(c.expected_asks.items())[:n]
    if [(p.normalize(), q.normalize()) for p, q in bids] != [
        (p.normalize(), q.normalize()) for p, q in want_b
    ] or [(p.normalize(), q.normalize()) for p, q in asks] != [
        (p.normalize(), q.normalize()) for p, q in want_a
    ]:
        raise AssertionError(f"{name}: the book's top {n} levels differ from the corpus's")


def run_one(
    mode: str, busy: bool, c: C.Corpus, wire: list[bytes], index: dict[int, int]
) -> dict[str, float]:
    srv = server(wire, RATE)
    try:
        m = Measure(index, sorted(index.values()))

        async def go() -> Any:
            return await MODES[mode](srv.url, c, m, busy, srv)

        book = asyncio.run(go())
        check_top(f"{mode} busy={busy}", book, c)
        return summarise(m, srv.sent)
    finally:
        srv.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n, repeat = (30_000, 1) if args.quick else (150_000, 3)
    c = mixed_corpus(n)
    wire = [C.server_frame(f) for f in c.gate]
    index = {json.loads(c.gate[i])["result"]["u"]: i for i in c.by_kind["depth"]}
    runs: dict[str, list[dict[str, float]]] = {}
    cases = [(mode, busy) for mode in MODES for busy in (False, True)]
    for _ in range(repeat):
        for mode, busy in cases:
            key = f"{mode}{' + busy strategy' if busy else ''}"
            runs.setdefault(key, []).append(run_one(mode, busy, c, wire, index))
    summary = {k: {f: statistics.median(r[f] for r in rs) for f in rs[0]} for k, rs in runs.items()}
    lines = [
        f"### Books while Python is busy: Gate.io mixed stream at {RATE:,.0f} msg/s "
        f"({n:,} messages, {len(index):,} depth pushes), strategy busy-waits "
        f"{BUSY_S * 1e3:.0f} ms every {PERIOD_S * 1e3:.0f} ms",
        "",
        f"Medians over {repeat} run(s); the first 2% of each run is warm-up. send = the server "
        "process's send (CLOCK_MONOTONIC, shared memory); read = the socket read that carried "
        "the push; applied = the book holds it; freshness = at each strategy read of the book "
        "(right after its busy millisecond), how long the oldest sent-but-unapplied push has "
        "waited. sent msg/s = the rate the server achieved (below 50,000 the machine could not "
        "keep the schedule and every latency includes the server's lag).",
        "",
        "| mode | send→applied p50 µs | p99 µs | p99.9 µs | max µs | read→applied p50 µs | "
        "p99 µs | p99.9 µs | freshness p50 µs | p99 µs | max µs | drops | disconnects | "
        "sent msg/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k, d in summary.items():
        lines.append(
            f"| {k} | {d['send_applied_p50_us']:.1f} | {d['send_applied_p99_us']:.1f} | "
            f"{d['send_applied_p99.9_us']:.1f} | {d['send_applied_max_us']:.0f} | "
            f"{d['read_applied_p50_us']:.1f} | {d['read_applied_p99_us']:.1f} | "
            f"{d['read_applied_p99.9_us']:.1f} | {d['fresh_p50_us']:.0f} | "
            f"{d['fresh_p99_us']:.0f} | {d['fresh_max_us']:.0f} | {d['drops']:.0f} | "
            f"{d['disconnects']:.0f} | {d['sent_per_s']:,.0f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    path = save(
        "bench_busy_quick" if args.quick else "bench_busy",
        {"n": n, "repeat": repeat, "rate": RATE, "summary": summary, "markdown": text},
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()
