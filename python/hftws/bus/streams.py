"""Trades and tickers on the bus: their encoding (``docs/bus.md``, kinds 5 and 6) and readers.

The gateway publishes every public trade of a configured symbol on
``hftws.<exchange>.<symbol>.trades`` and every best bid/ask on ``.ticker``, one message per
trade or quote, each with its own gateway sequence per subject (+1 per message, no gaps).
Prices and sizes travel as the exchange's own decimal text (never a float), so a reader gets
exactly what the exchange sent. The encoding is built here in Python with ``struct`` (a fixed
44-byte header, then length-prefixed UTF-8 strings): unlike book deltas there are no levels to
serialize, one trade is a handful of fields, and the Python encoder costs a few microseconds.

Readers (:class:`StreamReader`, made by ``RemoteBookManager.on_trade`` / ``on_ticker``) decode
each message into a :class:`RemoteTrade` / :class:`RemoteTicker` carrying the attribute names
of :class:`hftws.Trade` / :class:`hftws.BookTicker`, count gaps in the sequence and count
malformed messages (skipped, never raised into the client's callback loop).
"""

from __future__ import annotations

import logging
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hftws._core import BusDecodeError

log = logging.getLogger("hftws.bus.streams")

__all__ = [
    "KIND_TICKER",
    "KIND_TRADE",
    "VERSION",
    "RemoteTicker",
    "RemoteTrade",
    "StreamReader",
    "decode_stream_message",
    "encode_ticker",
    "encode_trade",
    "items_of",
]

VERSION = 1
KIND_TRADE = 5
KIND_TICKER = 6

#: flags: bit 0 the time field is present, bit 1 the id field is present.
HAS_TIME = 0x01
HAS_ID = 0x02
_FLAGS = HAS_TIME | HAS_ID

_SIDES = {None: 0, "buy": 1, "sell": 2}
_SIDE_NAMES = (None, "buy", "sell")

# version, kind, flags, side, gateway_seq, recv_ns, publish_ns, time_ms, id
_HEADER = struct.Struct("<BBBBQQQqQ")
HEADER_SIZE = _HEADER.size  # 44
_ABSENT = 0xFF
_U64 = (1 << 64) - 1
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def _text(out: bytearray, value: str | None) -> None:
    if value is None:
        out.append(_ABSENT)
        return
    raw = value.encode()
    if len(raw) >= _ABSENT:
        raise ValueError(f"bus field too long ({len(raw)} bytes): {value[:40]!r}")
    out.append(len(raw))
    out += raw


def _int_field(value: int | None) -> tuple[int, int]:
    """(flag, field) for an optional integer that fits the u64 / i64 field."""
    if value is None:
        return 0, 0
    return HAS_ID, value


def encode_trade(
    exchange: str,
    symbol: str,
    sequence: int,
    recv_ns: int,
    publish_ns: int,
    trade: Any,
) -> bytes:
    """One trade (any object with :class:`hftws.Trade`'s attributes) as a kind-5 message.

    An integer ``trade_id`` below 2**64 goes in the id field; any other id (MEXC's text ids)
    as the trailing text field."""
    side = trade.side
    if side not in _SIDES:
        raise ValueError(f"trade side {side!r}")
    t = trade.trade_time
    tid = trade.trade_id
    flags = 0 if t is None else HAS_TIME
    id_field, id_text = 0, None
    if isinstance(tid, int) and 0 <= tid <= _U64:
        flags |= HAS_ID
        id_field = tid
    elif tid is not None:
        id_text = str(tid)
    out = bytearray(
        _HEADER.pack(
            VERSION,
            KIND_TRADE,
            flags,
            _SIDES[side],
            sequence,
            recv_ns,
            publish_ns,
            0 if t is None else t,
            id_field,
        )
    )
    for value in (exchange, symbol, trade.price_str, trade.amount_str, id_text):
        _text(out, value)
    return bytes(out)


def encode_ticker(
    exchange: str,
    symbol: str,
    sequence: int,
    recv_ns: int,
    publish_ns: int,
    ticker: Any,
) -> bytes:
    """One best bid/ask (any object with :class:`hftws.BookTicker`'s attributes), kind 6."""
    t = ticker.time_ms
    flag, uid = _int_field(ticker.update_id)
    flags = flag | (0 if t is None else HAS_TIME)
    out = bytearray(
        _HEADER.pack(VERSION, KIND_TICKER, flags, 0, sequence, recv_ns, publish_ns, t or 0, uid)
    )
    for value in (
        exchange,
        symbol,
        ticker.bid_price_str,
        ticker.bid_size_str,
        ticker.ask_price_str,
        ticker.ask_size_str,
    ):
        _text(out, value)
    return bytes(out)


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _flt(text: str | None) -> float | None:
    # A convenience view for readers that want floats; the message itself carries text.
    return None if text is None else float(text)


@dataclass(frozen=True, slots=True)
class _Meta:
    exchange: str
    symbol: str
    #: The gateway sequence of the message (per subject, +1 per message).
    sequence: int
    #: Gateway wall clock (ns) when it received the exchange's push / encoded the message.
    recv_ns: int
    publish_ns: int


@dataclass(frozen=True, slots=True)
class RemoteTrade(_Meta):
    """A trade read from the bus, with :class:`hftws.Trade`'s attribute names."""

    price_str: str | None
    amount_str: str | None
    side: str | None
    trade_id: int | str | None
    trade_time: int | None

    @property
    def price_decimal(self) -> Decimal | None:
        return _dec(self.price_str)

    @property
    def amount_decimal(self) -> Decimal | None:
        return _dec(self.amount_str)

    @property
    def price(self) -> float | None:
        return _flt(self.price_str)

    @property
    def amount(self) -> float | None:
        return _flt(self.amount_str)


@dataclass(frozen=True, slots=True)
class RemoteTicker(_Meta):
    """A best bid/ask read from the bus, with :class:`hftws.BookTicker`'s attribute names."""

    bid_price_str: str | None
    bid_size_str: str | None
    ask_price_str: str | None
    ask_size_str: str | None
    update_id: int | None
    time_ms: int | None

    @property
    def bid_price_decimal(self) -> Decimal | None:
        return _dec(self.bid_price_str)

    @property
    def bid_size_decimal(self) -> Decimal | None:
        return _dec(self.bid_size_str)

    @property
    def ask_price_decimal(self) -> Decimal | None:
        return _dec(self.ask_price_str)

    @property
    def ask_size_decimal(self) -> Decimal | None:
        return _dec(self.ask_size_str)

    @property
    def bid_price(self) -> float | None:
        return _flt(self.bid_price_str)

    @property
    def bid_size(self) -> float | None:
        return _flt(self.bid_size_str)

    @property
    def ask_price(self) -> float | None:
        return _flt(self.ask_price_str)

    @property
    def ask_size(self) -> float | None:
        return _flt(self.ask_size_str)


def _texts(data: bytes, pos: int, n: int) -> list[str | None]:
    out: list[str | None] = []
    for _ in range(n):
        if pos >= len(data):
            raise BusDecodeError("truncated: a text field is missing")
        size = data[pos]
        pos += 1
        if size == _ABSENT:
            out.append(None)
            continue
        if pos + size > len(data):
            raise BusDecodeError("truncated text field")
        try:
            out.append(data[pos : pos + size].decode())
        except UnicodeDecodeError:
            raise BusDecodeError("a text field is not UTF-8") from None
        pos += size
    if pos != len(data):
        raise BusDecodeError(f"{len(data) - pos} bytes after the last field")
    return out


def _check_decimals(values: Iterable[str | None]) -> None:
    for v in values:
        if v is not None and not _DECIMAL.fullmatch(v):
            raise BusDecodeError(f"not a decimal: {v[:40]!r}")


def decode_stream_message(data: bytes) -> RemoteTrade | RemoteTicker:
    """A kind-5 or kind-6 message; raises ``BusDecodeError`` for anything else."""
    if len(data) < HEADER_SIZE:
        raise BusDecodeError(f"message of {len(data)} bytes: shorter than the header")
    version, kind, flags, side, seq, recv_ns, pub_ns, t, ident = _HEADER.unpack_from(data)
    if version != VERSION:
        raise BusDecodeError(f"version {version}: this reader knows {VERSION}")
    if flags & ~_FLAGS:
        raise BusDecodeError(f"unknown flags {flags:#x}")
    time_ = t if flags & HAS_TIME else None
    if kind == KIND_TRADE:
        if side >= len(_SIDE_NAMES):
            raise BusDecodeError(f"side {side}")
        ex, sym, price, amount, id_text = _texts(data, HEADER_SIZE, 5)
        _check_decimals((price, amount))
        if flags & HAS_ID and id_text is not None:
            raise BusDecodeError("trade id both as integer and as text")
        tid: int | str | None = ident if flags & HAS_ID else id_text
        if ex is None or sym is None:
            raise BusDecodeError("exchange and symbol are required")
        return RemoteTrade(
            ex, sym, seq, recv_ns, pub_ns, price, amount, _SIDE_NAMES[side], tid, time_
        )
    if kind == KIND_TICKER:
        if side:
            raise BusDecodeError("a ticker has no side")
        ex, sym, bp, bs, ap, as_ = _texts(data, HEADER_SIZE, 6)
        _check_decimals((bp, bs, ap, as_))
        if ex is None or sym is None:
            raise BusDecodeError("exchange and symbol are required")
        uid = ident if flags & HAS_ID else None
        return RemoteTicker(ex, sym, seq, recv_ns, pub_ns, bp, bs, ap, as_, uid, time_)
    raise BusDecodeError(f"kind {kind} is not a trade (5) or ticker (6)")


def items_of(event: Any, attr: str) -> list[Any]:
    """The single events in ``event``: itself when it has ``attr``, else its items (batch
    events such as ``MexcTrades`` / ``MexcBookTickers`` iterate their items)."""
    if hasattr(event, attr):
        return [event]
    try:
        return [e for e in event if hasattr(e, attr)]
    except TypeError:
        return []


StreamCallback = Callable[[Any], Any]


class StreamReader:
    """One trades or ticker subject read from the bus: decodes, checks the sequence, calls
    back. A malformed message or one of the other kind is counted and skipped."""

    def __init__(self, exchange: str, symbol: str, kind: int, callback: StreamCallback) -> None:
        self.exchange = exchange
        self.symbol = symbol
        self.kind = kind
        self.callback = callback
        self.received = 0
        self.malformed = 0
        #: Breaks in the sequence (a lost message, or a new gateway taking over: its
        #: sequence starts at its wall clock in microseconds).
        self.gaps = 0
        self.last_sequence: int | None = None
        self.last_error: str | None = None

    def feed(self, data: bytes) -> RemoteTrade | RemoteTicker | None:
        try:
            msg = decode_stream_message(data)
            want = RemoteTrade if self.kind == KIND_TRADE else RemoteTicker
            if not isinstance(msg, want):
                raise BusDecodeError(f"a {type(msg).__name__} on a {want.__name__} subject")
            if msg.exchange != self.exchange or msg.symbol != self.symbol:
                raise BusDecodeError(f"message for {msg.exchange}:{msg.symbol}")
        except BusDecodeError as exc:
            self.malformed += 1
            self.last_error = str(exc)
            log.warning("%s %s: malformed message: %s", self.exchange, self.symbol, exc)
            return None
        last = self.last_sequence
        if last is not None:
            if msg.sequence <= last:
                return None  # a duplicate (redelivery): already handed over
            if msg.sequence != last + 1:
                self.gaps += 1
        self.last_sequence = msg.sequence
        self.received += 1
        try:
            self.callback(msg)
        except Exception:
            log.exception(
                "bus %s listener failed", "trade" if self.kind == KIND_TRADE else "ticker"
            )
        return msg
