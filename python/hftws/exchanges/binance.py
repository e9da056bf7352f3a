"""Binance spot and USDⓈ-M futures public streams (JSON text frames, ``binance.md``).

Frames are decoded in Rust (``hftws.binance.parse``; fused into the socket read by the
``StreamDecoder``); depth pushes of watched books go into their Rust books before Python sees
them. Routes: depth -> ``on_orderbook``; trade and aggTrade -> ``on_trade``; bookTicker, mini
ticker and markPrice -> ``on_ticker``; kline -> ``on_kline``; ``{"result":null,"id":N}`` ->
``on_subscribe``; error objects -> ``on_error``. A ``serverShutdown`` event makes the
connection roll over at once: a new socket is opened and subscribed, then the old one closed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, ClassVar

from hftws import binance
from hftws._core import (
    BinanceAggTrade,
    BinanceBookTicker,
    BinanceDepthUpdate,
    BinanceKline,
    BinanceMarkPrice,
    BinanceMiniTicker,
    BinanceSbeBestBidAsk,
    BinanceSbeDepth,
    BinanceSbeTrades,
    BinanceTrade,
    BookUpdate,
)
from hftws.credentials import Credentials, MissingCredentials, env_names
from hftws.events import MessageType
from hftws.handlers.public import PublicMessageHandler
from hftws.interface import BaseWebSocketInterface
from hftws.mixins.auth import NoAuthMixin
from hftws.mixins.connection import (
    BinanceConnectionMixin,
    BinanceFuturesConnectionMixin,
    BinanceSbeConnectionMixin,
)
from hftws.mixins.subscription import SubscriptionMixin

__all__ = [
    "BinanceBookEvent",
    "BinanceFuturesPublicHandler",
    "BinanceFuturesPublicMessageHandler",
    "BinanceKlineEvent",
    "BinancePublicEvent",
    "BinanceSbeEvent",
    "BinanceSbePublicHandler",
    "BinanceSbePublicMessageHandler",
    "BinanceSpotPublicHandler",
    "BinanceSpotPublicMessageHandler",
    "BinanceTickerEvent",
    "BinanceTradeEvent",
]

log = logging.getLogger("hftws.binance")

#: What callbacks and ``async for`` of a Binance public connection receive, all routes together.
BinancePublicEvent = binance.BinanceEvent | BookUpdate
#: ... and per route.
BinanceBookEvent = BinanceDepthUpdate | BookUpdate
BinanceTradeEvent = BinanceTrade | BinanceAggTrade
BinanceTickerEvent = BinanceBookTicker | BinanceMiniTicker | BinanceMarkPrice
BinanceKlineEvent = BinanceKline
#: What an SBE connection delivers (binary data; control replies are JSON).
BinanceSbeEvent = (
    BinanceSbeDepth
    | BinanceSbeBestBidAsk
    | BinanceSbeTrades
    | binance.BinanceReply
    | binance.BinanceError
    | binance.BinanceServerShutdown
    | BookUpdate
)


class BinanceSpotPublicMessageHandler(
    PublicMessageHandler[BinanceBookEvent, BinanceTradeEvent, BinanceTickerEvent, BinanceKlineEvent]
):
    """Routes Binance events (decoded in Rust) by their ``kind``."""

    exchange: ClassVar[str] = "binance"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Called with every ``serverShutdown`` event (the connection rolls over).
        self.shutdown_listeners: list[Callable[[Any], Any]] = []
        # Through the shared kind table, so a read's events are routed in one loop.
        self._on_internal(MessageType.NOTICE, self._on_notice)

    def _on_notice(self, event: Any) -> None:
        if getattr(event, "kind", None) == "server_shutdown":
            for listener in self.shutdown_listeners:
                listener(event)

    def _parse(self, raw: Any) -> Any:
        return binance.parse(raw)


class BinanceFuturesPublicMessageHandler(BinanceSpotPublicMessageHandler):
    """The same parser reads the USDⓈ-M payloads (``pu`` on depth, ``T`` times)."""

    exchange: ClassVar[str] = "binance_futures"


class BinanceSbePublicMessageHandler(BinanceSpotPublicMessageHandler):
    """SBE binary frames (decoded in Rust) and JSON control frames on one socket."""

    exchange: ClassVar[str] = "binance_sbe"

    def _parse(self, raw: Any) -> Any:
        # Only taps (raw bytes) get here: binary is SBE, text JSON.
        if isinstance(raw, bytes | bytearray) and raw[:1] not in (b"{", b"["):
            return binance.decode_sbe(raw)
        return binance.parse(raw)


class _BinancePublic(BaseWebSocketInterface[BinancePublicEvent]):
    """What both Binance public connections add: rollover on ``serverShutdown``."""

    handler: BinanceSpotPublicMessageHandler

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: ``serverShutdown`` events received (each rolled the connection over).
        self.server_shutdowns = 0
        self.handler.shutdown_listeners.append(self._on_server_shutdown)

    def _on_server_shutdown(self, event: Any) -> None:
        """The server will close this socket soon (``binance.md`` §2.1): open a new one,
        subscribe it, then retire this one (make-before-break)."""
        if self.closing:
            return
        self.server_shutdowns += 1
        log.info("%s: serverShutdown from %s; rolling over", self.exchange, self._endpoint())
        # One rollover at a time: _spawn ignores a second while the first runs.
        self._spawn(self.rollover(), "shutdown-rollover")


class BinanceSpotPublicHandler(
    BinanceConnectionMixin, NoAuthMixin, SubscriptionMixin, _BinancePublic
):
    """A Binance spot public connection (up to 1024 streams; use a manager for more)."""

    handler_class = BinanceSpotPublicMessageHandler
    handler: BinanceSpotPublicMessageHandler
    stream_decoder: ClassVar[str | None] = "binance"


class BinanceFuturesPublicHandler(
    BinanceFuturesConnectionMixin, NoAuthMixin, SubscriptionMixin, _BinancePublic
):
    """A Binance USDⓈ-M futures public connection on one path (``/public`` by default)."""

    handler_class = BinanceFuturesPublicMessageHandler
    handler: BinanceFuturesPublicMessageHandler
    stream_decoder: ClassVar[str | None] = "binance_futures"


class BinanceSbePublicHandler(
    BinanceSbeConnectionMixin, NoAuthMixin, SubscriptionMixin, _BinancePublic
):
    """A Binance spot SBE market-data connection (``binance.md`` §5).

    Needs an Ed25519 API key (no signature): ``api_key=`` or ``credentials=`` (only the key is
    used), else ``HFTWS_BINANCE_API_KEY``. The key goes into the ``X-MBX-APIKEY`` upgrade
    header and nowhere else (not the policy, not a repr, not an error).
    """

    handler_class = BinanceSbePublicMessageHandler
    handler: BinanceSbePublicMessageHandler
    stream_decoder: ClassVar[str | None] = "binance"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        credentials: Credentials | None = None,
        **kwargs: Any,
    ) -> None:
        key = api_key or (credentials.api_key if credentials is not None else None)
        if not key:
            var = env_names("binance")[0]
            key = os.environ.get(var)
            if not key:
                raise MissingCredentials(
                    f"binance_sbe: SBE market streams need an Ed25519 API key: pass api_key= "
                    f"or set {var}"
                )
        # Held in a Credentials object: its repr never shows the key.
        self._sbe_key = Credentials(key, "-")
        super().__init__(**kwargs)

    def _connection_headers(self) -> tuple[tuple[str, str], ...]:
        return (*self.policy.headers, ("X-MBX-APIKEY", self._sbe_key.api_key))
