"""MEXC spot v3 WebSocket: protobuf pushes, JSON control frames and channel names.

Binary frames are decoded in Rust (``hftws._core``) straight from the ``bytes`` object:

    >>> from hftws import mexc
    >>> event = mexc.decode(frame)                 # MexcDepthUpdate, MexcTrades, ...
    >>> status = mexc.apply_depth(frame, book)     # no Python object per level
    >>> mexc.parse_control(text).is_success(["spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"])

Channel strings follow ``/work/shared/reference/mexc.md`` §3; control frames §2.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from hftws._core import (
    MexcAccountUpdate,
    MexcBookTicker,
    MexcBookTickers,
    MexcControl,
    MexcDeal,
    MexcDecodeError,
    MexcDepthBatch,
    MexcDepthUpdate,
    MexcKline,
    MexcMiniTicker,
    MexcMiniTickers,
    MexcOrder,
    MexcTrade,
    MexcTrades,
    apply_depth,
    apply_depth_many,
    decode,
    parse_control,
)

__all__ = [
    "KLINE_INTERVALS",
    "PING",
    "PRIVATE_ACCOUNT",
    "PRIVATE_DEALS",
    "PRIVATE_ORDERS",
    "STREAM_INTERVALS",
    "TIME_ZONES",
    "WS_URL",
    "MexcAccountUpdate",
    "MexcBookTicker",
    "MexcBookTickers",
    "MexcControl",
    "MexcDeal",
    "MexcDecodeError",
    "MexcDepthBatch",
    "MexcDepthUpdate",
    "MexcEvent",
    "MexcKline",
    "MexcMiniTicker",
    "MexcMiniTickers",
    "MexcOrder",
    "MexcTrade",
    "MexcTrades",
    "apply_depth",
    "apply_depth_many",
    "book_ticker_batch_channel",
    "book_ticker_channel",
    "deals_channel",
    "decode",
    "depth_channel",
    "kline_channel",
    "limit_depth_channel",
    "mini_ticker_channel",
    "mini_tickers_channel",
    "parse_control",
    "subscribe_message",
    "unsubscribe_message",
]

#: Any event ``decode`` returns.
MexcEvent = (
    MexcTrades
    | MexcDepthUpdate
    | MexcDepthBatch
    | MexcBookTicker
    | MexcBookTickers
    | MexcKline
    | MexcMiniTicker
    | MexcMiniTickers
    | MexcOrder
    | MexcDeal
    | MexcAccountUpdate
)

#: Public and private spot streams (private ones add ``?listenKey=...``).
WS_URL = "wss://wbs-api.mexc.com/ws"
#: Application-level ping; the server answers ``{"id":0,"code":0,"msg":"PONG"}``.
PING = '{"method":"PING"}'
#: Private channels (listenKey connections only).
PRIVATE_ORDERS = "spot@private.orders.v3.api.pb"
PRIVATE_DEALS = "spot@private.deals.v3.api.pb"
PRIVATE_ACCOUNT = "spot@private.account.v3.api.pb"

#: Aggregation windows of the aggregated streams.
STREAM_INTERVALS = frozenset({"10ms", "100ms"})
KLINE_INTERVALS = frozenset(
    {"Min1", "Min5", "Min15", "Min30", "Min60", "Hour4", "Hour8", "Day1", "Week1", "Month1"}
)
TIME_ZONES = frozenset(
    {"24H", "UTC-10", "UTC-8", "UTC-7", "UTC-6", "UTC-5", "UTC-4", "UTC-3", "UTC+0", "UTC+1"}
    | {"UTC+2", "UTC+3", "UTC+4", "UTC+4:30", "UTC+5", "UTC+5:30", "UTC+6", "UTC+7", "UTC+8"}
    | {"UTC+9", "UTC+10", "UTC+11", "UTC+12", "UTC+12:45", "UTC+13"}
)
_LIMIT_LEVELS = frozenset({5, 10, 20})


def _symbol(symbol: str) -> str:
    # The server refuses lower-case symbols with a "Blocked!" ack that still says code 0.
    if not symbol or not symbol.isalnum() or symbol != symbol.upper():
        raise ValueError(f"MEXC symbols are upper-case without separator, got {symbol!r}")
    return symbol


def _choice(value: str, allowed: frozenset[str], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {sorted(allowed)}, got {value!r}")
    return value


def _interval(interval: str) -> str:
    return _choice(interval, STREAM_INTERVALS, "interval")


def depth_channel(symbol: str, interval: str = "10ms") -> str:
    """Aggregated incremental depth (body 313)."""
    return f"spot@public.aggre.depth.v3.api.pb@{_interval(interval)}@{_symbol(symbol)}"


def deals_channel(symbol: str, interval: str = "10ms") -> str:
    """Aggregated trades (body 314)."""
    return f"spot@public.aggre.deals.v3.api.pb@{_interval(interval)}@{_symbol(symbol)}"


def book_ticker_channel(symbol: str, interval: str = "10ms") -> str:
    """Aggregated best bid/ask (body 315)."""
    return f"spot@public.aggre.bookTicker.v3.api.pb@{_interval(interval)}@{_symbol(symbol)}"


def book_ticker_batch_channel(symbol: str) -> str:
    """Best bid/ask, batched (body 311)."""
    return f"spot@public.bookTicker.batch.v3.api.pb@{_symbol(symbol)}"


def limit_depth_channel(symbol: str, levels: int = 5) -> str:
    """Top-N book snapshots, N in 5, 10, 20 (body 303)."""
    if levels not in _LIMIT_LEVELS:
        raise ValueError(f"levels must be 5, 10 or 20, got {levels!r}")
    return f"spot@public.limit.depth.v3.api.pb@{_symbol(symbol)}@{levels}"


def kline_channel(symbol: str, interval: str = "Min1") -> str:
    """Candles (body 308)."""
    kline = _choice(interval, KLINE_INTERVALS, "interval")
    return f"spot@public.kline.v3.api.pb@{_symbol(symbol)}@{kline}"


def mini_ticker_channel(symbol: str, time_zone: str = "24H") -> str:
    """Rolling ticker of one symbol (body 309)."""
    tz = _choice(time_zone, TIME_ZONES, "time_zone")
    return f"spot@public.miniTicker.v3.api.pb@{_symbol(symbol)}@{tz}"


def mini_tickers_channel(time_zone: str = "24H") -> str:
    """Rolling tickers of every symbol (body 310)."""
    return f"spot@public.miniTickers.v3.api.pb@{_choice(time_zone, TIME_ZONES, 'time_zone')}"


def _request(method: str, channels: Iterable[str], request_id: int | None) -> str:
    params = list(channels)
    if not params:
        raise ValueError("at least one channel is needed")
    msg: dict[str, object] = {"method": method, "params": params}
    if request_id is not None:
        msg["id"] = request_id
    return json.dumps(msg, separators=(",", ":"))


def subscribe_message(channels: Iterable[str], request_id: int | None = None) -> str:
    """``{"method":"SUBSCRIPTION","params":[...]}``; at most 30 channels per connection."""
    return _request("SUBSCRIPTION", channels, request_id)


def unsubscribe_message(channels: Iterable[str], request_id: int | None = None) -> str:
    """``{"method":"UNSUBSCRIPTION","params":[...]}``."""
    return _request("UNSUBSCRIPTION", channels, request_id)
