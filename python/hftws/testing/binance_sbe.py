"""Encoder for Binance spot SBE market-data messages (schema ``stream_1_0.xml``, ``binance.md`` §5).

Written from the schema's layout, not from the Rust decoder: an 8-byte header (``blockLength``,
``templateId``, ``schemaId`` = 1, ``version`` = 0, little-endian u16 each), the fixed block,
the repeating groups (``groupSize16Encoding`` = u16 block length + u16 count; trades use
``groupSizeEncoding`` = u16 + u32) and the symbol as ``varString8``. Decimals are an int64
mantissa with a shared int8 exponent per message; times are microseconds.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from decimal import Decimal

__all__ = [
    "BEST_BID_ASK",
    "DEPTH_DIFF",
    "DEPTH_SNAPSHOT",
    "TRADES",
    "best_bid_ask",
    "depth_diff",
    "depth_snapshot",
    "mantissa",
    "trades",
]

TRADES = 10000
BEST_BID_ASK = 10001
DEPTH_SNAPSHOT = 10002
DEPTH_DIFF = 10003
SCHEMA_ID = 1
VERSION = 0

Level = tuple[Decimal, Decimal]


def mantissa(value: Decimal, exponent: int) -> int:
    """``value`` as an integer count of ``10**exponent`` (exact, or ValueError)."""
    scaled = value.scaleb(-exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} is not a multiple of 1e{exponent}")
    return int(scaled)


def _header(block_length: int, template: int) -> bytes:
    return struct.pack("<HHHH", block_length, template, SCHEMA_ID, VERSION)


def _symbol(symbol: str) -> bytes:
    raw = symbol.encode()
    return struct.pack("<B", len(raw)) + raw


def _levels(levels: Iterable[Level], price_exp: int, qty_exp: int) -> bytes:
    items = list(levels)
    out = [struct.pack("<HH", 16, len(items))]
    for price, qty in items:
        out.append(struct.pack("<qq", mantissa(price, price_exp), mantissa(qty, qty_exp)))
    return b"".join(out)


def depth_diff(
    symbol: str,
    event_us: int,
    first_id: int,
    last_id: int,
    bids: Iterable[Level],
    asks: Iterable[Level],
    price_exp: int,
    qty_exp: int,
) -> bytes:
    """``DepthDiffStreamEvent`` (``<s>@depth``)."""
    block = struct.pack("<qqqbb", event_us, first_id, last_id, price_exp, qty_exp)
    return b"".join(
        (
            _header(len(block), DEPTH_DIFF),
            block,
            _levels(bids, price_exp, qty_exp),
            _levels(asks, price_exp, qty_exp),
            _symbol(symbol),
        )
    )


def depth_snapshot(
    symbol: str,
    event_us: int,
    update_id: int,
    bids: Iterable[Level],
    asks: Iterable[Level],
    price_exp: int,
    qty_exp: int,
) -> bytes:
    """``DepthSnapshotStreamEvent`` (``<s>@depth20``)."""
    block = struct.pack("<qqbb", event_us, update_id, price_exp, qty_exp)
    return b"".join(
        (
            _header(len(block), DEPTH_SNAPSHOT),
            block,
            _levels(bids, price_exp, qty_exp),
            _levels(asks, price_exp, qty_exp),
            _symbol(symbol),
        )
    )


def best_bid_ask(
    symbol: str,
    event_us: int,
    update_id: int,
    bid: Level,
    ask: Level,
    price_exp: int,
    qty_exp: int,
) -> bytes:
    """``BestBidAskStreamEvent`` (``<s>@bestBidAsk``)."""
    block = struct.pack(
        "<qqbbqqqq",
        event_us,
        update_id,
        price_exp,
        qty_exp,
        mantissa(bid[0], price_exp),
        mantissa(bid[1], qty_exp),
        mantissa(ask[0], price_exp),
        mantissa(ask[1], qty_exp),
    )
    return _header(len(block), BEST_BID_ASK) + block + _symbol(symbol)


def trades(
    symbol: str,
    event_us: int,
    transact_us: int,
    fills: Iterable[tuple[int, Decimal, Decimal, bool]],
    price_exp: int,
    qty_exp: int,
) -> bytes:
    """``TradesStreamEvent`` (``<s>@trade``): ``(id, price, qty, is_buyer_maker)`` per fill."""
    block = struct.pack("<qqbb", event_us, transact_us, price_exp, qty_exp)
    items = list(fills)
    group = [struct.pack("<HI", 25, len(items))]
    for trade_id, price, qty, maker in items:
        group.append(
            struct.pack(
                "<qqqB", trade_id, mantissa(price, price_exp), mantissa(qty, qty_exp), maker
            )
        )
    return _header(len(block), TRADES) + block + b"".join(group) + _symbol(symbol)
