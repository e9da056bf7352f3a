"""KuCoin spot and futures public streams (classic JSON text frames, ``kucoin.md`` §2-§4, §7)."""

from __future__ import annotations

from typing import Any, ClassVar

from hftws import kucoin
from hftws._core import (
    BookUpdate,
    KucoinDepthSnapshot,
    KucoinFuturesLevel2,
    KucoinLevel2,
    KucoinTicker,
    KucoinTrade,
)
from hftws.handlers.public import PublicMessageHandler
from hftws.interface import BaseWebSocketInterface
from hftws.mixins.auth import NoAuthMixin
from hftws.mixins.connection import KucoinConnectionMixin, KucoinFuturesConnectionMixin
from hftws.mixins.subscription import SubscriptionMixin

#: What callbacks and ``async for`` of a KuCoin public connection receive, all routes together.
KucoinPublicEvent = kucoin.KucoinEvent | BookUpdate
#: ... and per route (``on_orderbook``, ``on_trade``, ``on_ticker``).
KucoinBookEvent = KucoinLevel2 | KucoinFuturesLevel2 | KucoinDepthSnapshot | BookUpdate
KucoinTradeEvent = KucoinTrade
KucoinTickerEvent = KucoinTicker


class KucoinSpotPublicMessageHandler(
    PublicMessageHandler[KucoinBookEvent, KucoinTradeEvent, KucoinTickerEvent, Any]
):
    """Parses KuCoin frames in Rust (or takes the fused decoder's events) and routes them."""

    exchange: ClassVar[str] = "kucoin"

    def _parse(self, raw: Any) -> Any:
        return kucoin.parse(raw)


class KucoinFuturesPublicMessageHandler(KucoinSpotPublicMessageHandler):
    """The same parser serves futures frames (``sn``, ``"price,side,size"`` changes)."""

    exchange: ClassVar[str] = "kucoin_futures"


class KucoinSpotPublicHandler(
    KucoinConnectionMixin,
    NoAuthMixin,
    SubscriptionMixin,
    BaseWebSocketInterface[KucoinPublicEvent],
):
    """A KuCoin spot public connection (a bullet-public token per socket)."""

    handler_class = KucoinSpotPublicMessageHandler
    handler: KucoinSpotPublicMessageHandler
    stream_decoder: ClassVar[str | None] = "kucoin"


class KucoinFuturesPublicHandler(
    KucoinFuturesConnectionMixin,
    NoAuthMixin,
    SubscriptionMixin,
    BaseWebSocketInterface[KucoinPublicEvent],
):
    """A KuCoin futures public connection (a futures bullet-public token per socket)."""

    handler_class = KucoinFuturesPublicMessageHandler
    handler: KucoinFuturesPublicMessageHandler
    stream_decoder: ClassVar[str | None] = "kucoin_futures"
