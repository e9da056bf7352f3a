"""What a depth push costs on the path ``OrderBookManager`` users run, against the bare decoder.

Same corpus, same run, one process, no socket (CPU per push, not loopback latency):

- **floor**: ``StreamDecoder.feed`` with the book registered (``register_book(emit=False)``):
  WebSocket frames, JSON/protobuf parsing and the book update in one Rust call per read, and
  nothing else. This is the bare decoder cost every other row is compared with.
- **user, no listener**: the chain a watched book runs on a live connection, built from the
  library's own parts: the sans-I/O ``ClientProtocol`` the transport calls per socket read (its
  decoder holds the ``LocalBook``'s ``OrderBook``, registered with the emit policy
  ``OrderBookManager`` uses), read by ``ClientProtocol.fast`` with the handler's ``Router`` as
  the transport does (decoding, the book and the routing of the items in one Rust call).
- **user, on_update**: the same with a ``book.on_update`` listener (every applied push is
  delivered to Python and the listener is called).
- **user, on_update(top_only)**: only pushes that moved the best bid or ask reach Python.

Every book is checked against the corpus's expected book. The issue's target is user / floor
<= 1.2 per depth push without listeners (``benches/RESULTS.md`` and the README quote these rows).

Run: ``.venv/bin/python benches/bench_user_path.py [--quick]``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus as C
from _harness import measure, save, table
from hftws import OrderBookManager, create_websocket_handler_direct
from hftws.books import LocalBook
from hftws.protocol import ClientProtocol
from hftws.ws import StreamDecoder

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = base64.b64encode(
    hashlib.sha1((KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
).decode()
UPGRADED = (
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
).encode()

#: exchange -> (corpus format, symbol, opcode)
VENUES = {
    "gateio": ("gate", C.GATE_PAIR, 1),
    "mexc": ("mexc", C.MEXC_SYMBOL, 2),
}


def floor(c: C.Corpus, exchange: str, wire: list[bytes]) -> tuple[Callable[[], int], Any]:
    fmt, symbol, _ = VENUES[exchange]
    holder: list[Any] = []

    def run() -> int:
        book = C.hftws_book(c, fmt)
        dec = StreamDecoder(exchange)
        dec.register_book(symbol, book, emit=False)
        feed = dec.feed
        for w in wire:
            feed(w)
        holder[:] = [book]
        return len(wire)

    return run, holder


def user(
    c: C.Corpus, exchange: str, wire: list[bytes], listener: str | None
) -> tuple[Callable[[], int], Any]:
    _fmt, symbol, _ = VENUES[exchange]
    holder: list[Any] = []
    calls = [0]

    def on_update(_book: LocalBook) -> None:
        calls[0] += 1

    def run() -> int:
        books = OrderBookManager()
        shard = create_websocket_handler_direct(exchange)
        books._attach(exchange, shard)
        book = LocalBook(books, exchange, symbol, "classic", 5000)
        books.books[(exchange, symbol)] = book
        book._shard = shard
        if listener is not None:
            book.on_update(on_update, top_only=listener == "top")
        book.book.load_snapshot(c.snapshot_bids, c.snapshot_asks, c.snapshot_id)
        book._on_link(True, "bench")
        proto = ClientProtocol("bench", exchange=exchange, key=KEY)
        proto.receive_data(UPGRADED)
        emit, top_only = book._emit_policy()
        # As OrderBookManager registers it: statuses go straight to the book's owner.
        proto.register_book(symbol, book.book, emit=emit, top_only=top_only, notify=book._on_status)
        # As WebSocketConnection.data_received does once the upgrade is attended: the
        # handler's router gets each read in the same Rust call that decodes it.
        fast, router = proto.fast, shard.handler.native_router
        assert fast is not None and router is not None
        proto.attention = False
        proto.events.clear()
        for w in wire:
            recv_ns = time.monotonic_ns()
            if fast(w, recv_ns, router) is not None:
                raise AssertionError("a depth push read took the control-frame path")
        holder[:] = [book.book]
        return len(wire)

    return run, holder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n = 4_000 if args.quick else 20_000
    repeat = 3 if args.quick else 7
    c = C.corpus(n)
    report: dict[str, object] = {"n": n}
    lines = []
    for exchange, (fmt, _symbol, opcode) in VENUES.items():
        frames = c.gate if fmt == "gate" else c.mexc
        wire = [C.server_frame(f, opcode) for f in frames]
        cases: dict[str, tuple[Callable[[], int], Any]] = {
            "floor: StreamDecoder.feed + registered book": floor(c, exchange, wire),
            "user: OrderBookManager book, no listener": user(c, exchange, wire, None),
            "user: + on_update listener": user(c, exchange, wire, "all"),
            "user: + on_update(top_only) listener": user(c, exchange, wire, "top"),
        }
        for name, (run, holder) in cases.items():
            run()
            C.check_hftws(f"{exchange} {name}", holder[0], c)
        timings = measure({k: v[0] for k, v in cases.items()}, repeat=repeat)
        base = "floor: StreamDecoder.feed + registered book"
        ratios = {k: t.median / timings[base].median for k, t in timings.items()}
        report[exchange] = {"timings": timings, "user_over_floor": ratios}
        lines.append(table(f"{exchange}: ns per depth push, one push per read", timings, base))
        lines.append(
            "user / floor: "
            + ", ".join(f"{k.split(': ', 1)[1]} {r:.2f}x" for k, r in ratios.items() if k != base)
            + "\n"
        )
    print("\n".join(lines))
    flat: dict[str, object] = {"n": n}
    for exchange in VENUES:
        entry = report[exchange]
        assert isinstance(entry, dict)
        flat[f"{exchange}_timings"] = entry["timings"]
        flat[f"{exchange}_user_over_floor"] = entry["user_over_floor"]
    path = save("bench_user_path_quick" if args.quick else "bench_user_path", flat)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
