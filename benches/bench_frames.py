"""WebSocket frame decoding: hftws vs websockets' sans-I/O parser vs picows.

A stream of small binary server frames (60-400 bytes, as exchanges push them) is fed in
64 KiB chunks, the size of one socket read. Every parser runs on the same bytes in the same
process. Also times the encoder (masking) against websockets' serializer.

    .venv/bin/python benches/bench_frames.py [--quick]

picows has no public sans-I/O parser; its parser lives in ``WSProtocol``, an
``asyncio.BufferedProtocol``. We drive it exactly as the event loop does: a stand-in
transport (an unconnected TCP socket only provides the fileno picows asks for), the HTTP 101
answer fed through ``get_buffer``/``buffer_updated``, then each chunk copied into the buffer
picows hands out (the copy the kernel makes on a real read) and ``buffer_updated`` called.
Frames arrive at a ``WSListener.on_ws_frame`` that counts them (and, in the like-for-like
row, copies the payload to ``bytes`` as ``WebSocketDecoder.feed`` does).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import logging
import random
import socket
from collections.abc import Callable
from typing import Any

import picows
from picows.picows import WSProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol, Side, State

from _harness import measure, save, table
from hftws.ws import WebSocketDecoder, WebSocketEncoder

CHUNK = 64 * 1024
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def make_stream(frames: int, seed: int = 42) -> bytes:
    rng = random.Random(seed)
    out = bytearray()
    for _ in range(frames):
        payload = rng.randbytes(rng.randint(60, 400))
        out += Frame(Opcode.BINARY, payload).serialize(mask=False)
    return bytes(out)


def chunked(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


class _StandInTransport(asyncio.Transport):
    """Just enough transport for picows' ``connection_made``; records writes."""

    def __init__(self) -> None:
        super().__init__()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.written = bytearray()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {
            "socket": self.sock,
            "peername": ("127.0.0.1", 1),
            "sockname": ("127.0.0.1", 2),
        }.get(name, default)

    def write(self, data: Any) -> None:
        self.written += data

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        self.sock.close()

    def abort(self) -> None:
        self.sock.close()


class _Counter(picows.WSListener):  # type: ignore[misc]
    def __init__(self, copy: bool) -> None:
        self.frames = 0
        self.copy = copy

    def on_ws_frame(self, transport: picows.WSTransport, frame: picows.WSFrame) -> None:
        self.frames += 1
        if self.copy:
            frame.get_payload_as_bytes()


def _feed_picows(proto: WSProtocol, data: bytes) -> None:
    view = memoryview(data)
    while view:
        buf = proto.get_buffer(-1)
        n = min(len(buf), len(view))
        buf[:n] = view[:n]
        proto.buffer_updated(n)
        view = view[n:]


def open_picows(copy: bool) -> tuple[WSProtocol, _Counter, _StandInTransport]:
    """A client-side picows protocol past its handshake, ready for frames."""
    listener = _Counter(copy)
    proto = WSProtocol(
        "127.0.0.1:1",
        "/",
        True,
        lambda: listener,
        logging.getLogger("bench.picows"),
        True,  # disconnect_on_exception
        None,  # handshake timeout
        False,  # auto ping
        10.0,
        10.0,
        picows.WSAutoPingStrategy.PING_WHEN_IDLE,
        False,  # auto pong
        1 << 20,  # max frame size
        None,  # extra headers
        CHUNK * 2,
    )
    tr = _StandInTransport()
    proto.connection_made(tr)
    key = next(
        line.split(b": ", 1)[1]
        for line in bytes(tr.written).split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key")
    )
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    _feed_picows(
        proto,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n",
    )
    return proto, listener, tr


def decode_cases(chunks: list[bytes], frames: int, repeat: int) -> dict[str, Callable[[], int]]:
    def hftws_feed() -> int:
        dec = WebSocketDecoder()
        n = 0
        for c in chunks:
            n += len(dec.feed(c))
        assert n == frames
        return n

    def hftws_count() -> int:
        dec = WebSocketDecoder()
        n = 0
        for c in chunks:
            n += dec.feed_count(c)
        assert n == frames
        return n

    def websockets_sansio() -> int:
        p = Protocol(Side.CLIENT, state=State.OPEN, max_size=None)
        n = 0
        for c in chunks:
            p.receive_data(c)
            n += len(p.events_received())
        assert n == frames
        return n

    # picows protocols are built (and handshaken) ahead, one per timed pass.
    ready = {copy: [open_picows(copy) for _ in range(repeat)] for copy in (False, True)}

    def picows_case(copy: bool) -> Callable[[], int]:
        def run() -> int:
            proto, listener, tr = ready[copy].pop()
            for c in chunks:
                _feed_picows(proto, c)
            tr.close()
            assert listener.frames == frames, listener.frames
            return listener.frames

        return run

    return {
        "hftws feed() -> [(opcode, bytes)]": hftws_feed,
        "hftws feed_count() (Rust-side consumer)": hftws_count,
        "websockets 17.4 Protocol (sans-I/O)": websockets_sansio,
        "picows 2.3.1 + get_payload_as_bytes()": picows_case(True),
        "picows 2.3.1 on_ws_frame count": picows_case(False),
    }


def encode_cases(payloads: list[bytes]) -> dict[str, Callable[[], int]]:
    enc = WebSocketEncoder()

    def hftws_encode() -> int:
        for p in payloads:
            enc.encode_binary(p)
        return len(payloads)

    def websockets_encode() -> int:
        for p in payloads:
            Frame(Opcode.BINARY, p).serialize(mask=True)
        return len(payloads)

    return {
        "hftws encode_binary (masked)": hftws_encode,
        "websockets Frame.serialize(mask=True)": websockets_encode,
    }


def decode_table(title: str, frames: int, repeat: int) -> tuple[dict[str, Any], dict[str, float]]:
    data = make_stream(frames)
    chunks = chunked(data)
    bytes_per_frame = len(data) / frames
    mb = len(data) / 1e6
    print(f"\n{frames:,} binary frames of 60-400 bytes, {mb:.1f} MB in {len(chunks)} chunks")
    timings = measure(decode_cases(chunks, frames, repeat), repeat=repeat)
    print()
    print(table(title, timings))
    print("| pipeline | MB/s (median) |\n|---|---:|")
    rates = {k: bytes_per_frame / t.median * 1e3 for k, t in timings.items()}
    for t in sorted(timings.values(), key=lambda t: t.median):
        print(f"| {t.name} | {rates[t.name]:,.0f} |")
    return timings, rates


async def main(quick: bool) -> None:
    repeat = 5 if quick else 25
    # 4.7 MB stays in the last-level cache, as a just-received read does.
    dec, rates = decode_table("Decode small frames, 64 KiB chunks (ns/frame)", 20_000, repeat)
    results: dict[str, Any] = {"decode": dec, "decode_mb_per_s": rates}
    if not quick:
        # 47 MB does not: every parser also pays for memory latency.
        cold, cold_rates = decode_table(
            "Decode small frames, cache-cold 47 MB stream (ns/frame)", 200_000, 7
        )
        results |= {"decode_cold": cold, "decode_cold_mb_per_s": cold_rates}

    rng = random.Random(1)
    small = [rng.randbytes(rng.randint(60, 400)) for _ in range(5_000 if quick else 50_000)]
    enc = measure(encode_cases(small), repeat=repeat)
    print()
    print(table("Encode + mask small frames (ns/frame)", enc))

    big = [rng.randbytes(1 << 20)] * (20 if quick else 100)
    big_t = measure(encode_cases(big), repeat=3)
    print(table("Encode + mask 1 MiB frames (ns/frame)", big_t))
    for t in big_t.values():
        print(f"- {t.name}: {(1 << 20) / t.median:.2f} GB/s")

    path = save(
        "bench_frames",
        {**results, "chunk": CHUNK, "encode_small": enc, "encode_1mib": big_t},
    )
    print(f"\nsaved {path}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small run (< 30 s)")
    asyncio.run(main(ap.parse_args().quick))
