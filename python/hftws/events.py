"""Message types that handlers route on.

Rust decoders tag every event with a ``kind`` string; :func:`message_type_of` maps those kinds
to the :class:`MessageType` the handlers route on, so no Python code re-inspects a message the
core has already classified.
"""

from __future__ import annotations

from enum import StrEnum


class MessageType(StrEnum):
    """What a message is, as far as routing is concerned."""

    ORDERBOOK = "orderbook"
    TRADE = "trade"
    TICKER = "ticker"
    KLINE = "kline"
    PING = "ping"
    SUBSCRIBE = "subscribe"
    ERROR = "error"
    ORDER_UPDATE = "order_update"
    EXECUTION_REPORT = "execution_report"
    BALANCE_UPDATE = "balance_update"
    POSITION_UPDATE = "position_update"
    UNKNOWN = "unknown"


#: Event ``kind`` (as set by the Rust decoders of both exchanges) -> routing type.
KIND_TO_TYPE: dict[str, MessageType] = {
    "depth": MessageType.ORDERBOOK,
    "book": MessageType.ORDERBOOK,
    "order_book": MessageType.ORDERBOOK,
    "trade": MessageType.TRADE,
    "trades": MessageType.TRADE,
    "depth_batch": MessageType.ORDERBOOK,  # MEXC 312
    "book_ticker": MessageType.TICKER,
    "book_tickers": MessageType.TICKER,  # MEXC 311
    "ticker": MessageType.TICKER,
    "mini_ticker": MessageType.TICKER,
    "mini_tickers": MessageType.TICKER,
    "kline": MessageType.KLINE,
    "candle": MessageType.KLINE,
    "pong": MessageType.PING,
    "ping": MessageType.PING,
    "ack": MessageType.SUBSCRIBE,
    "refused": MessageType.SUBSCRIBE,
    "text": MessageType.ERROR,
    "subscribe": MessageType.SUBSCRIBE,
    "error": MessageType.ERROR,
    "order": MessageType.ORDER_UPDATE,
    "deal": MessageType.EXECUTION_REPORT,
    "user_trade": MessageType.EXECUTION_REPORT,
    "account": MessageType.BALANCE_UPDATE,
    "balance": MessageType.BALANCE_UPDATE,
    "position": MessageType.POSITION_UPDATE,
}


def message_type_of(kind: str) -> MessageType:
    """Routing type for a decoder's ``kind`` string."""
    return KIND_TO_TYPE.get(kind, MessageType.UNKNOWN)
