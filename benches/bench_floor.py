"""The floor: what the cheapest possible pipeline steps cost on this machine.

- one Python→Rust call (``WebSocketDecoder.feed_count(b"")``: argument check, no work);
- one ``asyncio.Protocol.data_received`` callback (a no-op protocol fed by the loop over a
  loopback socket, per read);
- a memory copy of the same bytes as one Gate.io depth message (``bytes(memoryview)``);
- ``StreamDecoder.feed`` of one pre-framed message with a registered book (the fused path),
  for comparison;
- ``gateio.apply_depth`` / ``mexc.apply_depth`` of a push the book already holds (STALE):
  the whole parse and the sequence check without the level writes, so that
  ``bench_gate``/``bench_mexc``'s per-message cost splits into parse and book writes.

Run: ``.venv/bin/python benches/bench_floor.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus as C
import hftws
import hftws.ws
from _harness import measure, save, table
from hftws import gateio, mexc


class Sink(asyncio.Protocol):
    def __init__(self, n_bytes: int, done: asyncio.Future[int]) -> None:
        self.left, self.reads, self.done = n_bytes, 0, done

    def data_received(self, data: bytes) -> None:
        self.reads += 1
        self.left -= len(data)
        if self.left <= 0 and not self.done.done():
            self.done.set_result(self.reads)


async def callback_cost(chunk: bytes, count: int) -> float:
    """ns per ``data_received`` when each read is one ``chunk`` (socketpair, writer paced)."""
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    done: asyncio.Future[int] = loop.create_future()
    await loop.create_connection(lambda: Sink(len(chunk) * count, done), sock=a)
    b.setblocking(True)
    t0 = time.perf_counter_ns()
    for _ in range(count):
        b.send(chunk)
        await asyncio.sleep(0)  # one loop iteration: one read, one callback
    reads = await done
    elapsed = time.perf_counter_ns() - t0
    b.close()
    return elapsed / reads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n, repeat = (20_000, 3) if args.quick else (100_000, 7)
    c = C.corpus(2_000)
    msg = c.gate[len(c.gate) // 2]
    framed = C.server_frame(msg)
    book = C.hftws_book(c, "gate")
    mv = memoryview(msg * 1)
    nothing = hftws.ws.WebSocketDecoder().feed_count

    def rust_call() -> int:
        for _ in range(n):
            nothing(b"")
        return n

    def copy() -> int:
        for _ in range(n):
            bytes(mv)
        return n

    def empty_loop() -> int:
        for _ in range(n):
            pass
        return n

    dec = hftws.ws.WebSocketDecoder()
    count = dec.feed_count

    stream = hftws.ws.StreamDecoder("gateio")
    stream.register_book(C.GATE_PAIR, book)
    stream_feed = stream.feed

    def fused_one() -> int:
        # The same push again and again: after the first it is STALE (ids already applied),
        # so this is frame + parse + sequence check, without the level writes.
        for _ in range(n):
            stream_feed(framed)
        return n

    mexc_msg = c.mexc[len(c.mexc) // 2]
    g_book, m_book = C.hftws_book(c, "gate"), C.hftws_book(c, "mexc")
    g_apply, m_apply = gateio.apply_depth, mexc.apply_depth
    for frames, apply, b in ((c.gate, g_apply, g_book), (c.mexc, m_apply, m_book)):
        for f in frames:
            apply(f, b)
    if g_apply(msg, g_book) != hftws.BookStatus.STALE:
        raise SystemExit("expected a stale Gate push")
    if m_apply(mexc_msg, m_book) != hftws.BookStatus.STALE:
        raise SystemExit("expected a stale MEXC push")

    def gate_stale() -> int:
        for _ in range(n):
            g_apply(msg, g_book)
        return n

    def mexc_stale() -> int:
        for _ in range(n):
            m_apply(mexc_msg, m_book)
        return n

    def frame_only() -> int:
        for _ in range(n):
            count(framed)
        return n

    timings = measure(
        {
            "Python→Rust call (feed_count of b'')": rust_call,
            f"bytes copy of one message ({len(msg)} B)": copy,
            "empty Python loop iteration": empty_loop,
            "WebSocketDecoder.feed_count (frame, no objects)": frame_only,
            "StreamDecoder.feed (frame + Gate depth push, stale)": fused_one,
            "gateio.apply_depth, stale push (parse, no writes)": gate_stale,
            "mexc.apply_depth, stale push (decode, no writes)": mexc_stale,
        },
        repeat=repeat,
    )
    cb = [asyncio.run(callback_cost(framed, n // 10)) for _ in range(repeat)]
    from _harness import Timing

    timings["asyncio data_received callback (per read)"] = Timing(
        "asyncio data_received callback (per read)", n // 10, cb
    )
    text = table("The floor (ns per operation)", timings)
    print(text)
    path = save("bench_floor_quick" if args.quick else "bench_floor", {"floor": timings})
    print(f"saved {path}")


if __name__ == "__main__":
    main()
