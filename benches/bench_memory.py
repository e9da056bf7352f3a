"""Memory: books and idle connections.

Books: 100 books of 5,000 levels per side (1,000,000 levels) built in a fresh subprocess per
kind, resident set size (``VmRSS``) before and after, from the same level strings:

- hftws ``OrderBook`` (exact decimals in Rust, ``load_snapshot``);
- ``sortedcontainers.SortedDict`` per side with float keys and values;
- ``SortedDict`` per side with ``Decimal`` keys and values (exact, like hftws).

Idle connections: ``CONNS`` ``GateioSpotPublicHandler`` / ``MexcPublicHandler`` connected to a
local server that completes the upgrade and then sends nothing, in a fresh subprocess: RSS and
``tracemalloc`` (Python allocations only) before and after, divided by the count.

Run: ``.venv/bin/python benches/bench_memory.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import hashlib
import json
import multiprocessing as mp
import socket
import subprocess
import sys
import threading
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus as C
from _harness import save

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
BOOKS, LEVELS = 100, 5_000
CONNS = 50
KINDS = ("hftws OrderBook", "SortedDict (float)", "SortedDict (Decimal)")


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def levels(n: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``n`` levels per side around 30,000.00, sizes with 8 decimals (the corpus's shapes)."""
    dc = C.depth_corpus(n_updates=0, depth=n)
    return dc.snapshot_bids, dc.snapshot_asks


def build(kind: str, books: int, n: int) -> dict[str, float]:
    """In this (fresh) process: RSS growth for ``books`` books of ``n`` levels per side."""
    from sortedcontainers import SortedDict

    import hftws

    bids, asks = levels(n)
    held: list[Any] = []
    gc.collect()
    before = rss_bytes()
    for i in range(books):
        if kind == "hftws OrderBook":
            book = hftws.OrderBook("gate", symbol=f"S{i}_USDT")
            book.load_snapshot(bids, asks, 1)
            assert len(book.depth()[0]) == n
            held.append(book)
        elif kind == "SortedDict (float)":
            held.append(
                (
                    SortedDict({float(p): float(s) for p, s in bids}),
                    SortedDict({float(p): float(s) for p, s in asks}),
                )
            )
        else:
            held.append(
                (
                    SortedDict({Decimal(p): Decimal(s) for p, s in bids}),
                    SortedDict({Decimal(p): Decimal(s) for p, s in asks}),
                )
            )
    gc.collect()
    grown = rss_bytes() - before
    return {"rss_bytes": grown, "bytes_per_level": grown / (books * n * 2)}


# --- idle connections ----------------------------------------------------------------------------


def _hold(conn: socket.socket) -> None:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        if not chunk:
            return
        head += chunk
    key = next(
        (
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        ),
        b"",
    )
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    conn.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )
    try:
        while chunk := conn.recv(65536):
            if b"\x88" in chunk:  # the client's close frame: answer it and drop TCP
                conn.sendall(b"\x88\x02\x03\xe8")
                break
    except OSError:
        pass
    conn.close()


def _idle_serve(sock: socket.socket) -> None:
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=_hold, args=(conn,), daemon=True).start()


def idle_server() -> tuple[Any, str]:
    """A server process that upgrades every connection and then stays silent."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    proc = mp.get_context("fork").Process(target=_idle_serve, args=(sock,), daemon=True)
    proc.start()
    sock.close()
    return proc, f"ws://127.0.0.1:{port}/"


async def _connections(exchange: str, url: str, count: int) -> dict[str, float]:
    from hftws.exchanges import GateioSpotPublicHandler, MexcPublicHandler

    cls = GateioSpotPublicHandler if exchange == "gateio" else MexcPublicHandler
    # One connection first, so imports, code objects and first-use caches are not counted.
    warm = cls(url=url, ping_interval=3600, idle_timeout=3600)
    await asyncio.wait_for(warm.connect(), 10)
    ifaces = [warm]

    async def open_many() -> None:
        for _ in range(count):
            iface = cls(url=url, ping_interval=3600, idle_timeout=3600)
            await asyncio.wait_for(iface.connect(), 10)
            ifaces.append(iface)
        await asyncio.sleep(0.2)  # let every connection settle into its idle read
        gc.collect()

    # RSS first, without tracemalloc (its own bookkeeping would count), then the Python heap
    # over another batch.
    gc.collect()
    before_rss = rss_bytes()
    await open_many()
    after_rss = rss_bytes()
    tracemalloc.start()
    before_py = tracemalloc.get_traced_memory()[0]
    await open_many()
    after_py = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    for iface in ifaces:
        await asyncio.wait_for(iface.close(), 10)
    return {
        "rss_bytes_per_conn": (after_rss - before_rss) / count,
        "python_bytes_per_conn": (after_py - before_py) / count,
        "connections": count,
    }


def connections(exchange: str, count: int) -> dict[str, float]:
    proc, url = idle_server()
    try:
        return asyncio.run(_connections(exchange, url, count))
    finally:
        proc.kill()


def child(what: str, arg: str, books: int, n: int, count: int) -> None:
    out = build(arg, books, n) if what == "book" else connections(arg, count)
    print(json.dumps(out))


def fresh(what: str, arg: str, books: int, n: int, count: int) -> dict[str, float]:
    """Run one measurement in a fresh interpreter (no memory left over from another)."""
    cmd = [sys.executable, __file__, "--child", what, arg, str(books), str(n), str(count)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} {arg} failed:\n{proc.stdout}{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        what, arg, books, n, count = sys.argv[2:7]
        child(what, arg, int(books), int(n), int(count))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a tenth of the books")
    args = ap.parse_args()
    books = BOOKS // 10 if args.quick else BOOKS
    book_rows = {kind: fresh("book", kind, books, LEVELS, 0) for kind in KINDS}
    conn_rows = {ex: fresh("conn", ex, 0, 0, CONNS) for ex in ("gateio", "mexc")}
    ours = book_rows["hftws OrderBook"]["rss_bytes"]
    lines = [
        f"### Books: {books} books x {LEVELS:,} levels per side "
        f"({books * LEVELS * 2:,} levels), RSS growth, fresh process each",
        "",
        "| book | RSS MB | bytes/level | vs hftws |",
        "|---|---:|---:|---:|",
    ]
    for kind, r in book_rows.items():
        lines.append(
            f"| {kind} | {r['rss_bytes'] / 1e6:,.1f} | {r['bytes_per_level']:.0f} | "
            f"{r['rss_bytes'] / ours:.2f}x |"
        )
    lines += [
        "",
        f"### One idle connection (mean of {CONNS} connected handlers, fresh process)",
        "",
        "| handler | RSS KB/connection | Python heap KB/connection (tracemalloc) |",
        "|---|---:|---:|",
    ]
    for ex, r in conn_rows.items():
        name = "GateioSpotPublicHandler" if ex == "gateio" else "MexcPublicHandler"
        lines.append(
            f"| {name} | {r['rss_bytes_per_conn'] / 1024:,.1f} | "
            f"{r['python_bytes_per_conn'] / 1024:,.1f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    path = save(
        "bench_memory_quick" if args.quick else "bench_memory",
        {"books": book_rows, "connections": conn_rows, "markdown": text},
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()
