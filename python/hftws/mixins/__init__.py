"""Mixins that give ``BaseWebSocketInterface`` its per-exchange policy."""

from hftws.mixins.auth import AuthMixin, BinanceAuthMixin, KucoinAuthMixin, NoAuthMixin
from hftws.mixins.connection import (
    ConnectionMixin,
    GateioConnectionMixin,
    GateioFuturesConnectionMixin,
    MexcConnectionMixin,
)
from hftws.mixins.subscription import Subscription, SubscriptionError, SubscriptionMixin

__all__ = [
    "AuthMixin",
    "BinanceAuthMixin",
    "ConnectionMixin",
    "GateioConnectionMixin",
    "GateioFuturesConnectionMixin",
    "KucoinAuthMixin",
    "MexcConnectionMixin",
    "NoAuthMixin",
    "Subscription",
    "SubscriptionError",
    "SubscriptionMixin",
]
