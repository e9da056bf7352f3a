"""Gate.io spot and USDT-futures public streams (JSON text frames)."""

from __future__ import annotations

from typing import Any, ClassVar

from hftws import gateio
from hftws.handlers.public import PublicMessageHandler
from hftws.interface import BaseWebSocketInterface
from hftws.mixins.auth import NoAuthMixin
from hftws.mixins.connection import GateioConnectionMixin, GateioFuturesConnectionMixin
from hftws.mixins.subscription import Subscription, SubscriptionMixin


class GateioSpotPublicMessageHandler(PublicMessageHandler):
    """Parses Gate.io frames in Rust; list results fan out to one callback call per record."""

    exchange: ClassVar[str] = "gateio"

    def _parse(self, raw: Any) -> Any:
        return gateio.parse(raw)


class GateioFuturesPublicMessageHandler(GateioSpotPublicMessageHandler):
    """The same parser serves the futures envelope (sizes are contracts)."""

    exchange: ClassVar[str] = "gateio_futures"


class _GateioStreams:
    """Stream names shared by spot and futures (`gateio.md` §3, §6.2)."""

    CHANNEL_PREFIX: ClassVar[str] = "spot"

    @classmethod
    def depth_subscription(
        cls, symbol: str, interval: str = "100ms", level: str = "100"
    ) -> Subscription:
        """Incremental depth (`order_book_update`); futures also take a level."""
        if cls.CHANNEL_PREFIX == "spot":
            return Subscription("spot.order_book_update", (symbol, interval))
        return Subscription("futures.order_book_update", (symbol, interval, level))

    @classmethod
    def trades_subscription(cls, symbol: str) -> Subscription:
        return Subscription(f"{cls.CHANNEL_PREFIX}.trades", (symbol,))

    @classmethod
    def ticker_subscription(cls, symbol: str) -> Subscription:
        """Best bid/ask (`book_ticker`)."""
        return Subscription(f"{cls.CHANNEL_PREFIX}.book_ticker", (symbol,))


class GateioSpotPublicHandler(
    _GateioStreams, GateioConnectionMixin, NoAuthMixin, SubscriptionMixin, BaseWebSocketInterface
):
    """A Gate.io spot public connection."""

    handler_class = GateioSpotPublicMessageHandler
    stream_decoder: ClassVar[str | None] = "gateio"


class GateioFuturesPublicHandler(
    _GateioStreams,
    GateioFuturesConnectionMixin,
    NoAuthMixin,
    SubscriptionMixin,
    BaseWebSocketInterface,
):
    """A Gate.io USDT perpetual futures public connection."""

    handler_class = GateioFuturesPublicMessageHandler
    stream_decoder: ClassVar[str | None] = "gateio_futures"
    CHANNEL_PREFIX: ClassVar[str] = "futures"
