"""Handler for public market-data streams."""

from __future__ import annotations

from typing import ClassVar

from hftws.events import MessageType
from hftws.handlers.base import BaseMessageHandler, Callback


class PublicMessageHandler(BaseMessageHandler):
    """Routes ORDERBOOK, TRADE, TICKER, KLINE, PING, SUBSCRIBE and ERROR messages."""

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

    def on_orderbook(self, callback: Callback) -> Callback:
        """Depth updates (and book states when books are kept in Rust)."""
        return self.on(MessageType.ORDERBOOK, callback)

    def on_trade(self, callback: Callback) -> Callback:
        """Public trades."""
        return self.on(MessageType.TRADE, callback)

    def on_ticker(self, callback: Callback) -> Callback:
        """Best bid/ask and ticker updates."""
        return self.on(MessageType.TICKER, callback)

    def on_kline(self, callback: Callback) -> Callback:
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
