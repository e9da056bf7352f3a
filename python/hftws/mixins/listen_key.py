"""``MexcListenKeyAuthMixin``: gives a MEXC connection the listenKey authenticator.

The listenKey lifecycle is :class:`hftws.auth.mexc.MexcListenKeyAuthenticator`; this mixin
only exposes its counters on the connection.
"""

from __future__ import annotations

from typing import ClassVar

from hftws.auth.mexc import (
    AUTH_CODES,
    INVALID_LISTEN_KEY,
    ListenKeyRejected,
    MexcListenKeyAuthenticator,
)
from hftws.credentials import Credentials
from hftws.mixins.auth import AuthMixin

__all__ = [
    "AUTH_CODES",
    "INVALID_LISTEN_KEY",
    "ListenKeyRejected",
    "MexcListenKeyAuthMixin",
]


class MexcListenKeyAuthMixin(AuthMixin):
    """listenKey create / keepalive / recreate / delete around a MEXC private connection."""

    requires_auth: ClassVar[bool] = True

    @property
    def listen_key_auth(self) -> MexcListenKeyAuthenticator:
        return self._auth_as(MexcListenKeyAuthenticator)

    @property
    def listen_key_stats(self) -> dict[str, int]:
        """listenKey lifecycle counters: created, kept_alive, rejected, deleted."""
        return self.listen_key_auth.stats

    @property
    def has_listen_key(self) -> bool:
        """True while a listenKey is held (the key itself is not exposed)."""
        return self.listen_key_auth.has_listen_key

    @property
    def _credentials(self) -> Credentials:
        return self.listen_key_auth.credentials
