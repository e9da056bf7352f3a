"""Message types that handlers route on, and the shapes events share across exchanges.

Rust decoders tag every event with a ``kind`` string; :func:`message_type_of` maps those kinds
to the :class:`MessageType` the handlers route on, so no Python code re-inspects a message the
core has already classified.

:class:`Trade` and :class:`BookTicker` are the one shape of a public trade and of a best
bid/ask on every exchange: ``GateTrade``, ``MexcTrade``, ``BinanceTrade``,
``BinanceAggTrade`` and ``KucoinTrade`` are all a ``Trade``; ``GateBookTicker``,
``MexcBookTicker``, ``BinanceBookTicker`` and ``KucoinTicker`` are all a ``BookTicker``. A
strategy typed against them runs unchanged on the next exchange; the exchange's own fields
stay on the same object (``to_dict()`` gives the message as sent).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable


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
    #: An exchange notice about the connection itself (Binance ``serverShutdown``): for the
    #: library's listeners, not user data.
    NOTICE = "notice"
    UNKNOWN = "unknown"


#: Event ``kind`` (as set by the Rust decoders of both exchanges) -> routing type.
KIND_TO_TYPE: dict[str, MessageType] = {
    "depth": MessageType.ORDERBOOK,
    "book": MessageType.ORDERBOOK,
    "order_book": MessageType.ORDERBOOK,
    "trade": MessageType.TRADE,
    "trades": MessageType.TRADE,
    "agg_trade": MessageType.TRADE,  # Binance
    "match": MessageType.TRADE,  # KuCoin spot
    "execution": MessageType.TRADE,  # KuCoin futures
    "depth_batch": MessageType.ORDERBOOK,  # MEXC 312
    "partial_depth": MessageType.ORDERBOOK,  # Binance
    "level2": MessageType.ORDERBOOK,  # KuCoin
    "futures_level2": MessageType.ORDERBOOK,
    "depth_snapshot": MessageType.ORDERBOOK,
    "futures_depth_snapshot": MessageType.ORDERBOOK,
    "book_ticker": MessageType.TICKER,
    "book_tickers": MessageType.TICKER,  # MEXC 311
    "ticker": MessageType.TICKER,
    "futures_ticker": MessageType.TICKER,  # KuCoin futures
    "mini_ticker": MessageType.TICKER,
    "mini_tickers": MessageType.TICKER,
    "mark_price": MessageType.TICKER,  # Binance futures
    "kline": MessageType.KLINE,
    "candle": MessageType.KLINE,
    "pong": MessageType.PING,
    # KuCoin's welcome answers the connect step, like a pong answers a ping: not data.
    "welcome": MessageType.PING,
    "ping": MessageType.PING,
    "ack": MessageType.SUBSCRIBE,
    "reply": MessageType.SUBSCRIBE,  # Binance {"result": null, "id": N}
    "server_shutdown": MessageType.NOTICE,
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


@runtime_checkable
class Trade(Protocol):
    """A public trade, on any exchange. Every price and amount has three views: a float, an
    exact ``decimal.Decimal`` (``_decimal``) and the exchange's text (``_str``); None when the
    message does not carry it.
    """

    @property
    def symbol(self) -> str | None:
        """The exchange's symbol (``BTC_USDT``, ``BTCUSDT``, ``BTC-USDT``)."""

    @property
    def price(self) -> float | None: ...
    @property
    def price_decimal(self) -> Decimal | None: ...
    @property
    def price_str(self) -> str | None: ...
    @property
    def amount(self) -> float | None:
        """Traded quantity, unsigned (base currency; contracts on futures)."""

    @property
    def amount_decimal(self) -> Decimal | None: ...
    @property
    def amount_str(self) -> str | None: ...
    @property
    def side(self) -> str | None:
        """The taker's side, ``"buy"`` or ``"sell"``."""

    @property
    def trade_id(self) -> int | str | None:
        """The exchange's trade id (MEXC's non-aggregated trades have none)."""

    @property
    def trade_time(self) -> int | None:
        """Trade time, Unix ms."""


@runtime_checkable
class BookTicker(Protocol):
    """A best bid/ask, on any exchange (three views per price and size, as :class:`Trade`)."""

    @property
    def symbol(self) -> str | None: ...
    @property
    def bid_price(self) -> float | None: ...
    @property
    def bid_price_decimal(self) -> Decimal | None: ...
    @property
    def bid_price_str(self) -> str | None: ...
    @property
    def bid_size(self) -> float | None: ...
    @property
    def bid_size_decimal(self) -> Decimal | None: ...
    @property
    def bid_size_str(self) -> str | None: ...
    @property
    def ask_price(self) -> float | None: ...
    @property
    def ask_price_decimal(self) -> Decimal | None: ...
    @property
    def ask_price_str(self) -> str | None: ...
    @property
    def ask_size(self) -> float | None: ...
    @property
    def ask_size_decimal(self) -> Decimal | None: ...
    @property
    def ask_size_str(self) -> str | None: ...
    @property
    def update_id(self) -> int | None:
        """The exchange's id of the quote (Gate ``u``, MEXC ``version``, Binance ``u``, KuCoin
        ``sequence``), None when not sent."""

    @property
    def time_ms(self) -> int | None:
        """Quote time, Unix ms, None when not sent."""
