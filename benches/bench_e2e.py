"""End to end over loopback: a local server process sends the Gate.io depth stream, clients
decode it, keep a book and call a callback per update.

The server (its own process) answers the upgrade, then writes N pre-framed messages as fast as
the socket takes them ("rate" mode) or at a steady rate ("paced" mode, for latency). Clients:

- ``websockets``, ``aiohttp``, ``picows`` + ``orjson`` + a ``SortedDict`` book (float keys, the
  fastest Python book in ``bench_gate.py``) + a callback per update;
- ``picows`` raw: frames counted, nothing decoded (the floor of a Python WebSocket client);
- hftws full stack: ``GateioSpotPublicHandler`` (Rust codec + parse + book via the fused
  ``StreamDecoder`` + handler + ``on_orderbook`` callback);
- hftws transport: ``transport.connect(exchange="gateio")`` + registered book + callback;
- hftws unfused: ``transport.connect`` (``(opcode, payload)`` pairs) + ``gateio.apply_depth``
  per message: the path before the fused pipeline;
- hftws raw: ``transport.connect`` without decoding.

Each runs under ``asyncio`` and ``uvloop``. Reported: messages/s, client CPU µs per message
(``time.process_time``; the server is another process) and, in paced mode, receive→callback
latency percentiles (socket read to the end of the user callback). Every book is checked
against the corpus's expected book.

Run: ``.venv/bin/python benches/bench_e2e.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import multiprocessing as mp
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
import msgspec
import orjson
import websockets
from picows import WSListener, WSMsgType, ws_connect
from sortedcontainers import SortedDict

import corpus as C
from _harness import save
from hftws import gateio, transport
from hftws.exchanges import GateioSpotPublicHandler

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# --- server -----------------------------------------------------------------------------------


def handshake(conn: socket.socket) -> bool:
    """Answer one client's upgrade request (RFC 6455 §4.2.2); False if it hung up first."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        if not chunk:
            return False
        head += chunk
    key = b""
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"sec-websocket-key:"):
            key = line.split(b":", 1)[1].strip()
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    conn.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )
    return True


def _serve(sock: socket.socket, blob: bytes, frames: list[bytes] | None, rate: float) -> None:
    """Accept one client per connection; send ``blob`` at once or ``frames`` at ``rate``/s."""
    while True:
        conn, _ = sock.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        handshake(conn)
        try:
            if frames is None:
                conn.sendall(blob)
            else:
                # Steady stream: bursts of `per` frames on a fixed schedule (busy-wait pacing).
                per = 1
                step = per / rate
                t_next = time.perf_counter()
                for i in range(0, len(frames), per):
                    while (now := time.perf_counter()) < t_next:
                        os.sched_yield()  # spin, but let the client run on this core
                    conn.sendall(b"".join(frames[i : i + per]))
                    # A late server does not catch up in one burst: the schedule restarts.
                    t_next = max(t_next + step, now)
            # Drain client frames; answer its close frame (0x88 starts a masked close) and drop
            # TCP, as a server does, so no client sits in its close timeout.
            conn.settimeout(30)
            while chunk := conn.recv(65536):
                if b"\x88" in chunk:
                    conn.sendall(b"\x88\x02\x03\xe8")
                    break
        except OSError:
            pass
        conn.close()


def server(blob: bytes, frames: list[bytes] | None, rate: float = 0.0):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    port = sock.getsockname()[1]
    proc = mp.get_context("fork").Process(
        target=_serve, args=(sock, blob, frames, rate), daemon=True
    )
    proc.start()
    sock.close()
    return proc, f"ws://127.0.0.1:{port}/"


# --- the Python pipeline every competitor runs --------------------------------------------------


class PyBook:
    """orjson + SortedDict (float keys) + best level + a callback per update."""

    def __init__(self, c: C.Corpus, callback: Callable[[object], None]) -> None:
        self.bids = SortedDict({float(p): float(s) for p, s in c.snapshot_bids})
        self.asks = SortedDict({float(p): float(s) for p, s in c.snapshot_asks})
        self.last = c.snapshot_id
        self.callback = callback

    def on_message(self, payload: bytes) -> None:
        r = orjson.loads(payload)["result"]
        if r["u"] <= self.last:
            return
        if r["U"] > self.last + 1:
            raise RuntimeError("gap")
        bids, asks = self.bids, self.asks
        for p, s in r["b"]:
            fs = float(s)
            if fs == 0.0:
                bids.pop(float(p), None)
            else:
                bids[float(p)] = fs
        for p, s in r["a"]:
            fs = float(s)
            if fs == 0.0:
                asks.pop(float(p), None)
            else:
                asks[float(p)] = fs
        self.last = r["u"]
        self.callback((bids.peekitem(-1), asks.peekitem(0)))


class _Levels(msgspec.Struct):
    U: int
    u: int
    b: list[tuple[float, float]]
    a: list[tuple[float, float]]


class _Depth(msgspec.Struct):
    result: _Levels


class MsgspecBook(PyBook):
    """The strongest Python decoder: msgspec typed structs in one pass, the price and size
    strings turned into floats while decoding (``strict=False``); same SortedDict book."""

    decode = msgspec.json.Decoder(_Depth, strict=False).decode

    def on_message(self, payload: bytes) -> None:
        r = self.decode(payload).result
        if r.u <= self.last:
            return
        if r.U > self.last + 1:
            raise RuntimeError("gap")
        bids, asks = self.bids, self.asks
        for p, s in r.b:
            if s == 0.0:
                bids.pop(p, None)
            else:
                bids[p] = s
        for p, s in r.a:
            if s == 0.0:
                asks.pop(p, None)
            else:
                asks[p] = s
        self.last = r.u
        self.callback((bids.peekitem(-1), asks.peekitem(0)))


class Run:
    """Counts callbacks, finishes at ``n`` and records receive→callback latencies."""

    def __init__(self, n: int, lat: bool) -> None:
        self.n, self.count = n, 0
        self.done = asyncio.get_running_loop().create_future()
        self.lat: list[int] | None = [] if lat else None
        self.recv_ns = 0

    def tick(self, _event: object = None) -> None:
        self.count += 1
        if self.lat is not None:
            self.lat.append(time.monotonic_ns() - self.recv_ns)
        if self.count >= self.n and not self.done.done():
            self.done.set_result(None)


# --- clients ----------------------------------------------------------------------------------


async def client_websockets(url, c, run):
    book = PyBook(c, run.tick)
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        async for msg in ws:
            run.recv_ns = time.monotonic_ns()
            book.on_message(msg if isinstance(msg, bytes) else msg.encode())
            if run.done.done():
                break
    return book


async def client_aiohttp(url, c, run):
    book = PyBook(c, run.tick)
    async with aiohttp.ClientSession() as s, s.ws_connect(url, max_msg_size=0) as ws:
        async for msg in ws:
            run.recv_ns = time.monotonic_ns()
            book.on_message(msg.data.encode() if isinstance(msg.data, str) else msg.data)
            if run.done.done():
                break
    return book


def _picows_listener(on_payload):
    class Listener(WSListener):
        def on_ws_frame(self, transport, frame) -> None:
            if frame.msg_type == WSMsgType.TEXT:
                on_payload(frame)

    return Listener


async def client_picows(url, c, run, book_class=PyBook):
    book = book_class(c, run.tick)

    def on_frame(frame) -> None:
        run.recv_ns = time.monotonic_ns()
        book.on_message(frame.get_payload_as_bytes())

    tr, _ = await ws_connect(_picows_listener(on_frame), url)
    await run.done
    tr.disconnect()
    return book


async def client_picows_msgspec(url, c, run):
    return await client_picows(url, c, run, MsgspecBook)


async def client_picows_raw(url, c, run):
    def on_frame(frame) -> None:
        run.recv_ns = time.monotonic_ns()
        run.tick()

    tr, _ = await ws_connect(_picows_listener(on_frame), url)
    await run.done
    tr.disconnect()
    return None


async def client_hftws_full(url, c, run):
    book = C.hftws_book(c, "gate")
    iface = GateioSpotPublicHandler(url=url, ping_interval=3600, idle_timeout=3600)
    iface.register_book(C.GATE_PAIR, book)
    bbo = book.bbo

    def on_book(update) -> None:
        bbo()
        # The receive time of the read being handled (the connection sets it before
        # decoding; the read is decoded and routed in one Rust call, no Python hook between).
        run.recv_ns = iface._conn.last_rx_ns
        run.tick(update)

    iface.handler.on_orderbook(on_book)
    await iface.connect()
    await run.done
    await iface.close()
    return book


class _UnfusedGate(GateioSpotPublicHandler):
    """The full stack as it was before the fused decoder: bytes to the handler, which parses
    each message in its own call; the callback applies the event's levels to the book."""

    stream_decoder = None


async def client_hftws_full_unfused(url, c, run):
    book = C.hftws_book(c, "gate")
    iface = _UnfusedGate(url=url, ping_interval=3600, idle_timeout=3600)
    apply, bbo = book.apply, book.bbo

    def on_depth(ev) -> None:
        apply(ev.bids_str, ev.asks_str, ev.first_id, ev.last_id)
        bbo()
        run.tick(ev)

    iface.handler.on_orderbook(on_depth)
    orig = iface._on_messages

    def timed(items, recv_ns) -> None:
        run.recv_ns = recv_ns
        orig(items, recv_ns)

    iface._on_messages = timed  # type: ignore[method-assign]
    await iface.connect()
    await run.done
    await iface.close()
    return book


async def client_hftws_transport(url, c, run):
    book = C.hftws_book(c, "gate")
    bbo, tick = book.bbo, run.tick

    def on_messages(items, recv_ns) -> None:
        run.recv_ns = recv_ns
        for item in items:
            bbo()
            tick(item)

    conn = await transport.connect(
        url, on_messages=on_messages, exchange="gateio", books={C.GATE_PAIR: book}
    )
    await run.done
    await conn.close()
    return book


async def client_hftws_unfused(url, c, run):
    book = C.hftws_book(c, "gate")
    apply, bbo, tick = gateio.apply_depth, book.bbo, run.tick

    def on_messages(items, recv_ns) -> None:
        run.recv_ns = recv_ns
        for _op, payload in items:
            tick(apply(payload, book))
            bbo()

    conn = await transport.connect(url, on_messages=on_messages)
    await run.done
    await conn.close()
    return book


async def client_hftws_raw(url, c, run):
    tick = run.tick

    def on_messages(items, recv_ns) -> None:
        run.recv_ns = recv_ns
        for item in items:
            tick(item)

    conn = await transport.connect(url, on_messages=on_messages)
    await run.done
    await conn.close()
    return None


CLIENTS = {
    "hftws full stack (interface + handler + book)": client_hftws_full,
    "hftws full stack unfused (before: parse per call, book.apply)": client_hftws_full_unfused,
    "hftws transport + StreamDecoder + book": client_hftws_transport,
    "hftws transport unfused + gateio.apply_depth": client_hftws_unfused,
    "hftws raw frames (no decoding)": client_hftws_raw,
    "picows raw frames (no decoding)": client_picows_raw,
    "picows + orjson + SortedDict": client_picows,
    "picows + msgspec typed + SortedDict": client_picows_msgspec,
    "aiohttp + orjson + SortedDict": client_aiohttp,
    "websockets + orjson + SortedDict": client_websockets,
}


def check(name: str, book, c: C.Corpus) -> None:
    if book is None:
        return
    if isinstance(book, PyBook):
        C.check_book(name, dict(book.bids), dict(book.asks), c)
    else:
        C.check_hftws(name, book, c)


async def one(name: str, url: str, c: C.Corpus, n: int, lat: bool) -> dict[str, float]:
    run = Run(n, lat)
    cpu0, t0 = time.process_time(), time.perf_counter()
    task = asyncio.ensure_future(CLIENTS[name](url, c, run))
    await asyncio.wait({task, run.done}, timeout=120, return_when=asyncio.FIRST_COMPLETED)
    if not run.done.done():
        task.cancel()
        raise RuntimeError(f"{name}: {run.count}/{n} messages; client ended: {task}")
    t1, cpu1 = time.perf_counter(), time.process_time()
    book = await asyncio.wait_for(task, 30)
    check(name, book, c)
    out = {"msgs_per_s": n / (t1 - t0), "cpu_us_per_msg": (cpu1 - cpu0) / n * 1e6}
    if run.lat:
        # The first 2% (connection set-up, first reads) are warm-up, not the steady state.
        lat_s = sorted(run.lat[len(run.lat) // 50 :])
        for q in (50, 90, 99, 99.9):
            out[f"p{q}_us"] = lat_s[min(len(lat_s) - 1, int(len(lat_s) * q / 100))] / 1000
        out["max_us"] = lat_s[-1] / 1000
    return out


def run_loop(loop_name: str, coro_fn):
    if loop_name == "uvloop":
        import uvloop

        return uvloop.run(coro_fn())
    return asyncio.run(coro_fn())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n, repeat = (10_000, 2) if args.quick else (60_000, 3)
    c = C.corpus(n)
    wire = [C.server_frame(f) for f in c.gate]
    blob = b"".join(wire)
    loops = ["asyncio", "uvloop"]
    try:
        import uvloop  # noqa: F401
    except ImportError:
        loops = ["asyncio"]
    proc, url = server(blob, None)
    import random

    rng = random.Random(1)
    tasks = [(cl, lp) for cl in CLIENTS for lp in loops]
    results: dict[str, dict[str, list[float]]] = {}
    try:
        for _ in range(repeat):
            rng.shuffle(tasks)
            for cl, lp in tasks:
                r = run_loop(lp, lambda cl=cl, url=url: one(cl, url, c, n, False))
                key = f"{cl} [{lp}]"
                for k, v in r.items():
                    results.setdefault(key, {}).setdefault(k, []).append(v)
    finally:
        proc.kill()
    # Latency under a steady 50k msg/s stream, hftws and picows (best client) only.
    rate = 50_000.0
    n_lat = min(n, 10_000 if args.quick else 30_000)
    paced_wire = wire[:n_lat]
    lat_runs: dict[str, list[dict[str, float]]] = {}
    lat_c = C.corpus(n_lat)
    lat_tasks = [
        (cl, lp)
        for cl in (
            "hftws full stack (interface + handler + book)",
            "hftws transport + StreamDecoder + book",
            "picows + orjson + SortedDict",
        )
        for lp in loops
    ]
    for _ in range(repeat):
        rng.shuffle(lat_tasks)
        for cl, lp in lat_tasks:
            proc, url = server(b"", paced_wire, rate)
            try:
                lat_runs.setdefault(f"{cl} [{lp}]", []).append(
                    run_loop(lp, lambda cl=cl, url=url: one(cl, url, lat_c, n_lat, True))
                )
            finally:
                proc.kill()
    # Median over the repetitions of each percentile; p99 also as min/max over runs.
    latency = {
        k: {m: statistics.median(r[m] for r in runs) for m in runs[0]}
        | {
            "p99_min_us": min(r["p99_us"] for r in runs),
            "p99_max_us": max(r["p99_us"] for r in runs),
        }
        for k, runs in sorted(lat_runs.items())
    }
    summary = {
        k: {m: {"min": min(v), "median": statistics.median(v), "max": max(v)} for m, v in d.items()}
        for k, d in results.items()
    }
    lines = [
        f"### End to end over loopback: Gate.io depth stream ({n:,} messages, "
        f"{c.levels / n:.1f} levels/msg), book + callback per update",
        "",
        "| client | msgs/s (median) | min | max | CPU µs/msg | vs websockets |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    base = {
        lp: summary[f"websockets + orjson + SortedDict [{lp}]"]["msgs_per_s"]["median"]
        for lp in loops
    }
    for k, d in sorted(summary.items(), key=lambda kv: -kv[1]["msgs_per_s"]["median"]):
        lp = k.rsplit("[", 1)[1].rstrip("]")
        m = d["msgs_per_s"]
        lines.append(
            f"| {k} | {m['median']:,.0f} | {m['min']:,.0f} | {m['max']:,.0f} | "
            f"{d['cpu_us_per_msg']['median']:.2f} | {m['median'] / base[lp]:.1f}x |"
        )
    lines += [
        "",
        f"### Receive→callback latency at a steady {rate:,.0f} msg/s ({n_lat:,} messages)",
        "",
        f"One message every {1e6 / rate:.0f} µs; medians over {repeat} runs (p99 min-max "
        "over runs); the first 2% of each run is warm-up. Receive = entry of the socket read "
        "callback; callback = end of the user callback.",
        "",
        "| client | p50 µs | p90 µs | p99 µs | p99 range µs | p99.9 µs | max µs |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for k, d in latency.items():
        lines.append(
            f"| {k} | {d['p50_us']:.1f} | {d['p90_us']:.1f} | {d['p99_us']:.1f} | "
            f"{d['p99_min_us']:.1f}-{d['p99_max_us']:.1f} | {d['p99.9_us']:.1f} | "
            f"{d['max_us']:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    path = save(
        "bench_e2e_quick" if args.quick else "bench_e2e",
        {"n": n, "repeat": repeat, "rate": summary, "latency": latency, "markdown": text},
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()


# --- shared with bench_mixed and bench_binance -------------------------------------------------


def loops_available() -> list[str]:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return ["asyncio"]
    return ["asyncio", "uvloop"]


async def one_client(client, url: str, c: C.Corpus, n: int, name: str) -> dict[str, float]:
    """``client(url, run)`` until ``n`` callbacks; its book (or ``(bids, asks)`` float sides, or
    None) is checked against the corpus. Client CPU (``time.process_time``) per message."""
    run = Run(n, False)
    cpu0, t0 = time.process_time(), time.perf_counter()
    task = asyncio.ensure_future(client(url, run))
    await asyncio.wait({task, run.done}, timeout=120, return_when=asyncio.FIRST_COMPLETED)
    if not run.done.done():
        task.cancel()
        raise RuntimeError(f"{name}: {run.count}/{n} messages; client ended: {task}")
    t1, cpu1 = time.perf_counter(), time.process_time()
    book = await asyncio.wait_for(task, 30)
    if isinstance(book, tuple):
        C.check_book(name, dict(book[0]), dict(book[1]), c)
    elif book is not None:
        C.check_hftws(name, book, c)
    return {"msgs_per_s": n / (t1 - t0), "cpu_us_per_msg": (cpu1 - cpu0) / n * 1e6}


def run_clients(
    clients: dict[str, Callable], wire: list[bytes], c: C.Corpus, repeat: int, seed: int = 1
) -> dict[str, dict[str, list[float]]]:
    """Every client on every loop, ``repeat`` times in shuffled order, against one server
    process that sends ``wire`` (pre-framed) to each connection as fast as it takes it."""
    import random

    loops = loops_available()
    rng = random.Random(seed)
    proc, url = server(b"".join(wire), None)
    tasks = [(cl, lp) for cl in clients for lp in loops]
    results: dict[str, dict[str, list[float]]] = {}
    try:
        for _ in range(repeat):
            rng.shuffle(tasks)
            for cl, lp in tasks:
                key = f"{cl} [{lp}]"
                r = run_loop(
                    lp,
                    lambda cl=cl, key=key: one_client(clients[cl], url, c, len(wire), key),
                )
                for k, v in r.items():
                    results.setdefault(key, {}).setdefault(k, []).append(v)
    finally:
        proc.kill()
    return results
