"""Authentication mixins.

An auth mixin runs once per connection, after the upgrade and before subscriptions are
(re)sent, and may sign each subscription request. Public streams use ``NoAuthMixin``.
Credentials never appear in reprs, logs or exception messages.
"""

from __future__ import annotations

from typing import Any


class AuthMixin:
    """Interface of every auth mixin."""

    #: True when the streams need credentials.
    requires_auth: bool = False

    async def _authenticate(self) -> None:
        """Per-connection login step (after the upgrade, before subscribing)."""

    def _sign_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """Adds per-request auth to a subscription request (Gate.io private channels)."""
        return request


class NoAuthMixin(AuthMixin):
    """Public streams: no credentials, nothing to sign."""


class _UnsupportedAuthMixin(AuthMixin):
    exchange_name = ""
    missing = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            f"{self.exchange_name} authentication is not implemented: {self.missing}"
        )


class BinanceAuthMixin(_UnsupportedAuthMixin):
    """Placeholder for Binance user-data streams (not supported yet)."""

    exchange_name = "Binance"
    missing = (
        "needs the listenKey REST calls (POST/PUT/DELETE /api/v3/userDataStream) and a "
        "Binance connection mixin and message handler"
    )


class KucoinAuthMixin(_UnsupportedAuthMixin):
    """Placeholder for KuCoin private channels (not supported yet)."""

    exchange_name = "KuCoin"
    missing = (
        "needs the bullet-private token request (POST /api/v1/bullet-private), the "
        "token-in-URL connection and a KuCoin connection mixin and message handler"
    )
