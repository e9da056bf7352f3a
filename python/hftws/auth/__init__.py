"""Authenticators: how a connection proves who it is.

An :class:`Authenticator` decides the URL of the next socket, runs the steps after the
upgrade, signs requests, says what an auth error means, and may own a keep-alive task. It
talks to its connection only through :class:`AuthHost`. Public streams use :class:`NoAuth`.
Credentials (and tokens such as a listenKey) never appear in reprs, logs or exceptions.
"""

from hftws.auth.base import Authenticator, AuthHost, NoAuth, UnsupportedAuth
from hftws.auth.gateio import GateioAuthenticator
from hftws.auth.kucoin import KucoinTokenAuthenticator
from hftws.auth.mexc import ListenKeyRejected, MexcListenKeyAuthenticator

__all__ = [
    "AuthHost",
    "Authenticator",
    "GateioAuthenticator",
    "KucoinTokenAuthenticator",
    "ListenKeyRejected",
    "MexcListenKeyAuthenticator",
    "NoAuth",
    "UnsupportedAuth",
]
