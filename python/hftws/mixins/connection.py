"""Connection mixins: each gives a connection its exchange protocol (``hftws.venues``).

They are thin on purpose: the endpoints, policy, request formats and ack matching live in
the exchange protocol object (``connection.exchange_protocol``); the mixin only says which one
to build, and keeps the old hook names for code written against them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hftws.policy import ConnectionPolicy
from hftws.subscriptions import AckOutcome, Subscription
from hftws.venues import (
    USER_AGENT,
    BinanceFuturesProtocol,
    BinanceProtocol,
    BinanceSbeProtocol,
    ExchangeProtocol,
    GateioFuturesProtocol,
    GateioProtocol,
    KucoinFuturesProtocol,
    KucoinProtocol,
    MexcProtocol,
)

__all__ = [
    "USER_AGENT",
    "BinanceConnectionMixin",
    "BinanceFuturesConnectionMixin",
    "BinanceSbeConnectionMixin",
    "ConnectionMixin",
    "GateioConnectionMixin",
    "GateioFuturesConnectionMixin",
    "KucoinConnectionMixin",
    "KucoinFuturesConnectionMixin",
    "MexcConnectionMixin",
]


class ConnectionMixin:
    """Base of the connection mixins: names the exchange protocol class.

    A mixin sets only ``protocol_class``; its ``exchange``, ``DEFAULT_URL`` and
    ``DEFAULT_REST_URL`` (the names older code reads) are taken from that protocol.
    """

    protocol_class: ClassVar[type[ExchangeProtocol]] = ExchangeProtocol
    exchange_protocol: ExchangeProtocol
    exchange: ClassVar[str] = ""
    DEFAULT_URL: ClassVar[str] = ""
    DEFAULT_REST_URL: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        proto = cls.__dict__.get("protocol_class")
        if proto is not None:
            cls.exchange = proto.name
            cls.DEFAULT_URL = proto.default_url
            cls.DEFAULT_REST_URL = proto.default_rest_url

    def _default_policy(self, url: str) -> ConnectionPolicy:
        return self.protocol_class().default_policy(url)

    def _subscription_requests(
        self, subs: list[Subscription], unsubscribe: bool
    ) -> list[tuple[str, object, list[Subscription]]]:
        """``(text, ack key, covered)`` per wire message (unsigned; kept for old callers)."""
        auth = getattr(self, "auth", None)
        sign = auth.sign if auth is not None else None
        proto = self.exchange_protocol
        requests = (
            proto.subscription_requests(subs, unsubscribe)
            if sign is None
            else proto.subscription_requests(subs, unsubscribe, sign)
        )
        return [(r.text, r.key, r.covered) for r in requests]

    def _ack_outcome(
        self, event: Any, pending: dict[object, list[Subscription]]
    ) -> list[AckOutcome]:
        return self.exchange_protocol.ack_outcome(event, pending)


class MexcConnectionMixin(ConnectionMixin):
    """MEXC spot: minimal headers, aggressive reconnects, 30 streams and 100 msg/s per socket."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = MexcProtocol
    MAX_SUBSCRIPTIONS: ClassVar[int] = MexcProtocol.MAX_SUBSCRIPTIONS


class GateioConnectionMixin(ConnectionMixin):
    """Gate.io spot: standard headers, steady reconnects, optional permessage-deflate."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = GateioProtocol
    PING_CHANNEL: ClassVar[str] = GateioProtocol.PING_CHANNEL


class GateioFuturesConnectionMixin(GateioConnectionMixin):
    """Gate.io USDT perpetual futures: the futures endpoint and ping channel."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = GateioFuturesProtocol
    PING_CHANNEL: ClassVar[str] = GateioFuturesProtocol.PING_CHANNEL


class BinanceConnectionMixin(ConnectionMixin):
    """Binance spot market streams: server pings answered with their payload, at most 4
    client frames in any second (5 allowed; one slot kept for pongs), 1024 streams per
    connection, rolled over before 24 h and on ``serverShutdown``."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = BinanceProtocol
    MAX_SUBSCRIPTIONS: ClassVar[int] = BinanceProtocol.MAX_STREAMS


class BinanceFuturesConnectionMixin(BinanceConnectionMixin):
    """Binance USDⓈ-M market streams: 9 client frames in any second (10 allowed), one
    connection per path (``/public`` depth and bookTicker, ``/market`` the rest)."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = BinanceFuturesProtocol


class BinanceSbeConnectionMixin(BinanceConnectionMixin):
    """Binance spot SBE market streams: the spot limits, binary SBE data frames."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = BinanceSbeProtocol


class KucoinConnectionMixin(ConnectionMixin):
    """KuCoin spot: a bullet token and instance server per socket, welcome, JSON pings at the
    announced interval, acked subscriptions, 350 topics and 9 messages/s per socket."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = KucoinProtocol
    MAX_SUBSCRIPTIONS: ClassVar[int] = KucoinProtocol.MAX_TOPICS


class KucoinFuturesConnectionMixin(KucoinConnectionMixin):
    """KuCoin futures: the futures REST host (its own bullet) and ``/contractMarket`` topics."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = KucoinFuturesProtocol
