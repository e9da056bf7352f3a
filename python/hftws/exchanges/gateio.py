"""Gate.io spot and USDT-futures public streams (JSON text frames)."""

from __future__ import annotations

from typing import Any, ClassVar

from hftws import gateio
from hftws._core import (
    BookUpdate,
    GateBookTicker,
    GateCandle,
    GateDepthUpdate,
    GateTicker,
    GateTrade,
)
from hftws.handlers.public import PublicMessageHandler
from hftws.interface import BaseWebSocketInterface
from hftws.mixins.auth import NoAuthMixin
from hftws.mixins.connection import GateioConnectionMixin, GateioFuturesConnectionMixin
from hftws.mixins.subscription import SubscriptionMixin

#: What callbacks and ``async for`` of a Gate.io public connection receive, all routes together.
GateEvent = gateio.GateEvent | BookUpdate
#: ... and per route (``on_orderbook``, ``on_trade``, ``on_ticker``, ``on_kline``); list
#: results arrive one record per call.
GateBookEvent = GateDepthUpdate | BookUpdate
GateTradeEvent = GateTrade
GateTickerEvent = GateBookTicker | GateTicker
GateKlineEvent = GateCandle


class GateioSpotPublicMessageHandler(
    PublicMessageHandler[GateBookEvent, GateTradeEvent, GateTickerEvent, GateKlineEvent]
):
    """Parses Gate.io frames in Rust; list results fan out to one callback call per record."""

    exchange: ClassVar[str] = "gateio"

    def _parse(self, raw: Any) -> Any:
        return gateio.parse(raw)


class GateioFuturesPublicMessageHandler(GateioSpotPublicMessageHandler):
    """The same parser serves the futures envelope (sizes are contracts)."""

    exchange: ClassVar[str] = "gateio_futures"


class GateioSpotPublicHandler(
    GateioConnectionMixin, NoAuthMixin, SubscriptionMixin, BaseWebSocketInterface[GateEvent]
):
    """A Gate.io spot public connection."""

    handler_class = GateioSpotPublicMessageHandler
    handler: GateioSpotPublicMessageHandler
    stream_decoder: ClassVar[str | None] = "gateio"


class GateioFuturesPublicHandler(
    GateioFuturesConnectionMixin, NoAuthMixin, SubscriptionMixin, BaseWebSocketInterface[GateEvent]
):
    """A Gate.io USDT perpetual futures public connection."""

    handler_class = GateioFuturesPublicMessageHandler
    handler: GateioFuturesPublicMessageHandler
    stream_decoder: ClassVar[str | None] = "gateio_futures"
