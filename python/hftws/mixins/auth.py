"""Auth mixins: each gives a connection its authenticator (``hftws.auth``).

Thin on purpose: the behaviour lives in the authenticator object (``connection.auth``); the
mixin says which one to build and keeps a few old names readable on the connection.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from hftws.auth.base import Authenticator, NoAuth
from hftws.auth.binance import BinanceAuthenticator, BinanceListenKeyAuthenticator
from hftws.auth.binance_signing import ServerClock
from hftws.auth.gateio import GateioAuthenticator
from hftws.auth.kucoin import KucoinTokenAuthenticator
from hftws.credentials import Credentials
from hftws.errors import HftwsError

__all__ = [
    "AuthMixin",
    "BinanceAuthMixin",
    "GateioAuthMixin",
    "KucoinAuthMixin",
    "NoAuthMixin",
]


A = TypeVar("A", bound=Authenticator)


class AuthMixin:
    """Base of the auth mixins: builds the connection's authenticator."""

    #: True when the streams need credentials.
    requires_auth: ClassVar[bool] = False
    auth: Authenticator

    def _make_authenticator(self) -> Authenticator:
        return NoAuth()

    def _auth_as(self, kind: type[A]) -> A:
        """The authenticator, checked to be a ``kind`` (what this mixin's class builds)."""
        auth = self.auth
        if not isinstance(auth, kind):
            raise HftwsError(f"{type(self).__name__} was built with {type(auth).__name__}")
        return auth


class NoAuthMixin(AuthMixin):
    """Public streams: no credentials, nothing to sign."""


class BinanceAuthMixin(AuthMixin):
    """Binance user data (``hftws.auth.binance``): spot through the WebSocket API (signed
    subscription, or ``session.logon`` with an Ed25519 key), USDⓈ-M through a listenKey.

    The behaviour lives in the authenticator (``connection.auth``, a
    :class:`~hftws.auth.binance.BinanceWsApiAuthenticator` or
    :class:`~hftws.auth.binance.BinanceListenKeyAuthenticator`); this mixin shows its parts.
    """

    requires_auth: ClassVar[bool] = True

    @property
    def binance_auth(self) -> BinanceAuthenticator:
        return self._auth_as(BinanceAuthenticator)

    @property
    def _credentials(self) -> Credentials:
        return self.binance_auth.credentials

    @property
    def key_type(self) -> str:
        """``"hmac"``, ``"ed25519"`` or ``"rsa"``."""
        return self.binance_auth.key_type

    @property
    def server_clock(self) -> ServerClock:
        """The server clock the signatures use (``offset_ms``)."""
        return self.binance_auth.clock

    @property
    def listen_key_stats(self) -> dict[str, int]:
        """USDⓈ-M listenKey counters: created, kept_alive, rejected, expired, deleted."""
        return self._auth_as(BinanceListenKeyAuthenticator).stats

    @property
    def has_listen_key(self) -> bool:
        """USDⓈ-M: True while a listenKey is held (the key itself is not exposed)."""
        return self._auth_as(BinanceListenKeyAuthenticator).has_listen_key


class KucoinAuthMixin(AuthMixin):
    """KuCoin private streams (``hftws.auth.kucoin``): a signed ``bullet-private`` token for
    every socket, the welcome awaited before subscribing.

    The behaviour is the composed :class:`~hftws.auth.kucoin.KucoinTokenAuthenticator`
    (``connection.auth``); this mixin names it and shows its counters.
    """

    requires_auth: ClassVar[bool] = True
    TOKEN_PATH: ClassVar[str] = KucoinTokenAuthenticator.TOKEN_PATH

    @property
    def token_auth(self) -> KucoinTokenAuthenticator:
        return self._auth_as(KucoinTokenAuthenticator)

    @property
    def token_stats(self) -> dict[str, int]:
        """Tokens fetched, welcomes received, tokens the server rejected."""
        return self.token_auth.stats

    @property
    def connect_id(self) -> str | None:
        """The ``connectId`` of the current socket."""
        return self.token_auth.connect_id

    @property
    def _credentials(self) -> Credentials:
        return self.token_auth.credentials


class GateioAuthMixin(AuthMixin):
    """Gate.io v4 channel auth (``hftws.auth.gateio``): every private request is signed."""

    requires_auth: ClassVar[bool] = True
    PRIVATE_CHANNELS: ClassVar[frozenset[str]] = GateioAuthenticator.PRIVATE_CHANNELS
    TIME_PATH: ClassVar[str] = GateioAuthenticator.TIME_PATH

    @property
    def gate_auth(self) -> GateioAuthenticator:
        return self._auth_as(GateioAuthenticator)

    @property
    def _credentials(self) -> Credentials:
        return self.gate_auth.credentials

    @property
    def last_auth_error(self) -> Any:
        """The last auth refusal (a ``GateError``), for inspection."""
        return self.gate_auth.last_auth_error

    def _sign_request(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.gate_auth.sign(request)

    def _server_now(self) -> int:
        return self.gate_auth.server_now()
