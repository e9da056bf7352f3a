"""A pure-Python reader of the bus encoding, written from docs/bus.md alone: the tests check
the Rust codec against it (what a consumer in another language would write)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from decimal import Decimal

KINDS = {1: "delta", 2: "snapshot", 3: "out_of_sync", 4: "heartbeat"}


class ReferenceError_(ValueError):
    """Bytes the reference refuses."""


@dataclass(frozen=True)
class RefMessage:
    version: int
    kind: str
    flags: int
    sequence: int
    first_id: int
    last_id: int
    recv_ns: int
    publish_ns: int
    exchange: str
    symbol: str
    levels: list[tuple[str, Decimal, Decimal]]


def _name(b: bytes, at: int) -> tuple[str, int]:
    if at >= len(b):
        raise ReferenceError_("truncated name length")
    n = b[at]
    raw = b[at + 1 : at + 1 + n]
    if len(raw) != n:
        raise ReferenceError_("truncated name")
    return raw.decode("utf-8"), at + 1 + n


def decode(b: bytes) -> RefMessage:
    if len(b) < 44 or b[0] != 1:
        raise ReferenceError_("bad header")
    version, kind, flags, scale = b[0], b[1], b[2], b[3]
    if kind not in KINDS or scale != 18 or flags & ~(1 if kind == 2 else 0):
        raise ReferenceError_("bad kind/flags/scale")
    seq, first, last, recv, pub = struct.unpack_from("<5Q", b, 4)
    exchange, at = _name(b, 44)
    symbol, at = _name(b, at)
    if at + 4 > len(b):
        raise ReferenceError_("truncated count")
    (count,) = struct.unpack_from("<I", b, at)
    at += 4
    if len(b) - at != 33 * count or (count and kind in (3, 4)):
        raise ReferenceError_("bad level bytes")
    levels = []
    one = Decimal(10) ** 18
    for i in range(count):
        off = at + 33 * i
        side = b[off]
        price = int.from_bytes(b[off + 1 : off + 17], "little", signed=True)
        size = int.from_bytes(b[off + 17 : off + 33], "little", signed=True)
        if side > 1 or size < 0:
            raise ReferenceError_("bad level")
        levels.append(("bid" if side == 0 else "ask", Decimal(price) / one, Decimal(size) / one))
    return RefMessage(
        version, KINDS[kind], flags, seq, first, last, recv, pub, exchange, symbol, levels
    )
