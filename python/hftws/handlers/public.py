"""Handler for public market-data streams."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from hftws.events import MessageType
from hftws.handlers.base import BaseMessageHandler, Callback

BookT = TypeVar("BookT")
TradeT = TypeVar("TradeT")
TickerT = TypeVar("TickerT")
KlineT = TypeVar("KlineT")


class PublicMessageHandler(BaseMessageHandler, Generic[BookT, TradeT, TickerT, KlineT]):
    """Routes ORDERBOOK, TRADE, TICKER, KLINE, PING, SUBSCRIBE and ERROR messages.

    Exchange handlers bind the event type of each route, so callbacks are type-checked
    against the events the exchange really delivers.
    """

    ROUTES: ClassVar[frozenset[MessageType]] = frozenset(
        {
            MessageType.ORDERBOOK,
            MessageType.TRADE,
            MessageType.TICKER,
            MessageType.KLINE,
            MessageType.PING,
            MessageType.SUBSCRIBE,
            MessageType.ERROR,
        }
    )

    def on_orderbook(self, callback: Callable[[BookT], Any]) -> Callable[[BookT], Any]:
        """Depth updates (and book states when books are kept in Rust)."""
        return self.on(MessageType.ORDERBOOK, callback)

    def on_trade(self, callback: Callable[[TradeT], Any]) -> Callable[[TradeT], Any]:
        """Public trades."""
        return self.on(MessageType.TRADE, callback)

    def on_ticker(self, callback: Callable[[TickerT], Any]) -> Callable[[TickerT], Any]:
        """Best bid/ask and ticker updates."""
        return self.on(MessageType.TICKER, callback)

    def on_kline(self, callback: Callable[[KlineT], Any]) -> Callable[[KlineT], Any]:
        """Candles."""
        return self.on(MessageType.KLINE, callback)

    def on_ping(self, callback: Callback) -> Callback:
        """Application pongs."""
        return self.on(MessageType.PING, callback)

    def on_subscribe(self, callback: Callback) -> Callback:
        """Subscription acknowledgements and refusals."""
        return self.on(MessageType.SUBSCRIBE, callback)

    def on_error(self, callback: Callback) -> Callback:
        """Error messages from the exchange."""
        return self.on(MessageType.ERROR, callback)
