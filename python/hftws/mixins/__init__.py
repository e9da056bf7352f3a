"""Thin mixins that give ``BaseWebSocketInterface`` its parts (kept for code written against
them): a connection mixin names the exchange protocol, an auth mixin the authenticator."""

from hftws.mixins.auth import (
    AuthMixin,
    BinanceAuthMixin,
    GateioAuthMixin,
    KucoinAuthMixin,
    NoAuthMixin,
)
from hftws.mixins.connection import (
    BinanceConnectionMixin,
    BinanceFuturesConnectionMixin,
    BinanceSbeConnectionMixin,
    ConnectionMixin,
    GateioConnectionMixin,
    GateioFuturesConnectionMixin,
    KucoinConnectionMixin,
    KucoinFuturesConnectionMixin,
    MexcConnectionMixin,
)
from hftws.mixins.listen_key import MexcListenKeyAuthMixin
from hftws.mixins.subscription import Subscription, SubscriptionError, SubscriptionMixin

__all__ = [
    "AuthMixin",
    "BinanceAuthMixin",
    "BinanceConnectionMixin",
    "BinanceFuturesConnectionMixin",
    "BinanceSbeConnectionMixin",
    "ConnectionMixin",
    "GateioAuthMixin",
    "GateioConnectionMixin",
    "GateioFuturesConnectionMixin",
    "KucoinAuthMixin",
    "KucoinConnectionMixin",
    "KucoinFuturesConnectionMixin",
    "MexcConnectionMixin",
    "MexcListenKeyAuthMixin",
    "NoAuthMixin",
    "Subscription",
    "SubscriptionError",
    "SubscriptionMixin",
]
