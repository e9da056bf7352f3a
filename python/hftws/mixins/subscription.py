"""``SubscriptionMixin``: the name code written against the mixin design lists in its bases.

The subscription set itself is data (:class:`hftws.subscriptions.SubscriptionSet`, one per
connection as ``connection.subscription_set``) and the subscribe/unsubscribe operations live on
the connection (``BaseWebSocketInterface``), which can therefore run without this class.
"""

from __future__ import annotations

from hftws.errors import SubscriptionError
from hftws.interface import ACK_TIMEOUT
from hftws.rate_limit import RateLimiter
from hftws.subscriptions import AckOutcome, Subscription, SubscriptionSet

__all__ = [
    "ACK_TIMEOUT",
    "AckOutcome",
    "RateLimiter",
    "Subscription",
    "SubscriptionError",
    "SubscriptionMixin",
    "SubscriptionSet",
]


class SubscriptionMixin:
    """Marks a connection class as keeping a subscription set (every connection does)."""
