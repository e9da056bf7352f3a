"""The one exception family: everything hftws raises to a user is an :class:`HftwsError`.

The Rust core defines the base and the codec/decoder errors (``hftws._core``); the asyncio
layer adds the ones below. Each message names the exchange and the endpoint (host:port or
path, never a query string: those can carry a listenKey or a signature) and the cause.
Where Python code used to catch a builtin (``OSError``, ``ValueError``, ``TimeoutError``) the
subclass keeps that base too, so existing ``except`` clauses still match.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from hftws._core import (
    DecimalParseError,
    DecodeError,
    GateDecodeError,
    HandshakeError,
    HftwsError,
    MexcDecodeError,
    ProtocolError,
)

if TYPE_CHECKING:
    from hftws.subscriptions import Subscription

__all__ = [
    "ConnectError",
    "ConnectTimeout",
    "DecimalParseError",
    "DecodeError",
    "GateDecodeError",
    "HandshakeError",
    "HftwsError",
    "HftwsTimeoutError",
    "IllegalTransition",
    "MexcDecodeError",
    "ProtocolError",
    "SubscriptionError",
    "UnknownExchange",
    "WelcomeTimeout",
]


class ConnectError(HftwsError, OSError):
    """The TCP/TLS connection or the HTTP upgrade failed; the message names the cause."""


class HftwsTimeoutError(HftwsError, TimeoutError):
    """An operation of ours ran out of time (connect, ack, REST call)."""


class ConnectTimeout(ConnectError, HftwsTimeoutError):
    """The connection or the upgrade did not complete within ``open_timeout``."""


class WelcomeTimeout(ConnectTimeout):
    """The upgrade completed but the server's greeting (KuCoin ``welcome``) never came."""


class UnknownExchange(HftwsError, ValueError):
    """An exchange name we do not support; the message lists the valid choices."""


class IllegalTransition(HftwsError, RuntimeError):
    """A lifecycle state change the transition table does not allow (a bug, not bad input)."""


class SubscriptionError(HftwsError):
    """The exchange refused, or did not confirm, some subscriptions."""

    def __init__(self, message: str, refused: Iterable[Subscription] = ()) -> None:
        super().__init__(message)
        self.refused: frozenset[Subscription] = frozenset(refused)
