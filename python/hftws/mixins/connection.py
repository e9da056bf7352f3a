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
    """Base of the connection mixins: names the exchange protocol class."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = ExchangeProtocol
    exchange_protocol: ExchangeProtocol
    exchange: ClassVar[str] = ""
    DEFAULT_URL: ClassVar[str] = ""
    DEFAULT_REST_URL: ClassVar[str] = ""

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
    exchange: ClassVar[str] = MexcProtocol.name
    DEFAULT_URL: ClassVar[str] = MexcProtocol.default_url
    DEFAULT_REST_URL: ClassVar[str] = MexcProtocol.default_rest_url
    MAX_SUBSCRIPTIONS: ClassVar[int] = MexcProtocol.MAX_SUBSCRIPTIONS


class GateioConnectionMixin(ConnectionMixin):
    """Gate.io spot: standard headers, steady reconnects, optional permessage-deflate."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = GateioProtocol
    exchange: ClassVar[str] = GateioProtocol.name
    DEFAULT_URL: ClassVar[str] = GateioProtocol.default_url
    DEFAULT_REST_URL: ClassVar[str] = GateioProtocol.default_rest_url
    PING_CHANNEL: ClassVar[str] = GateioProtocol.PING_CHANNEL


class GateioFuturesConnectionMixin(GateioConnectionMixin):
    """Gate.io USDT perpetual futures: the futures endpoint and ping channel."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = GateioFuturesProtocol
    exchange: ClassVar[str] = GateioFuturesProtocol.name
    DEFAULT_URL: ClassVar[str] = GateioFuturesProtocol.default_url
    DEFAULT_REST_URL: ClassVar[str] = GateioFuturesProtocol.default_rest_url
    PING_CHANNEL: ClassVar[str] = GateioFuturesProtocol.PING_CHANNEL


class BinanceConnectionMixin(ConnectionMixin):
    """Binance spot market streams: server pings answered with their payload, at most 4
    client frames in any second (5 allowed; one slot kept for pongs), 1024 streams per
    connection, rolled over before 24 h and on ``serverShutdown``."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = BinanceProtocol
    exchange: ClassVar[str] = BinanceProtocol.name
    DEFAULT_URL: ClassVar[str] = BinanceProtocol.default_url
    DEFAULT_REST_URL: ClassVar[str] = BinanceProtocol.default_rest_url
    MAX_SUBSCRIPTIONS: ClassVar[int] = BinanceProtocol.MAX_STREAMS


class BinanceFuturesConnectionMixin(BinanceConnectionMixin):
    """Binance USDⓈ-M market streams: 9 client frames in any second (10 allowed), one
    connection per path (``/public`` depth and bookTicker, ``/market`` the rest)."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = BinanceFuturesProtocol
    exchange: ClassVar[str] = BinanceFuturesProtocol.name
    DEFAULT_URL: ClassVar[str] = BinanceFuturesProtocol.default_url
    DEFAULT_REST_URL: ClassVar[str] = BinanceFuturesProtocol.default_rest_url


class BinanceSbeConnectionMixin(BinanceConnectionMixin):
    """Binance spot SBE market streams: the spot limits, binary SBE data frames."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = BinanceSbeProtocol
    exchange: ClassVar[str] = BinanceSbeProtocol.name
    DEFAULT_URL: ClassVar[str] = BinanceSbeProtocol.default_url
    DEFAULT_REST_URL: ClassVar[str] = BinanceSbeProtocol.default_rest_url


class KucoinConnectionMixin(ConnectionMixin):
    """KuCoin spot: a bullet token and instance server per socket, welcome, JSON pings at the
    announced interval, acked subscriptions, 350 topics and 9 messages/s per socket."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = KucoinProtocol
    exchange: ClassVar[str] = KucoinProtocol.name
    DEFAULT_URL: ClassVar[str] = KucoinProtocol.default_url
    DEFAULT_REST_URL: ClassVar[str] = KucoinProtocol.default_rest_url
    MAX_SUBSCRIPTIONS: ClassVar[int] = KucoinProtocol.MAX_TOPICS


class KucoinFuturesConnectionMixin(KucoinConnectionMixin):
    """KuCoin futures: the futures REST host (its own bullet) and ``/contractMarket`` topics."""

    protocol_class: ClassVar[type[ExchangeProtocol]] = KucoinFuturesProtocol
    exchange: ClassVar[str] = KucoinFuturesProtocol.name
    DEFAULT_URL: ClassVar[str] = KucoinFuturesProtocol.default_url
    DEFAULT_REST_URL: ClassVar[str] = KucoinFuturesProtocol.default_rest_url
