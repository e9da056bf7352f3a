"""Exchange protocols: what one exchange's WebSocket API looks like, as data and pure functions.

An :class:`ExchangeProtocol` knows the endpoints and the connection policy, how to ask for
streams (request formats), how to read the answers (ack matching) and the application-level
ping. It does no I/O. Adding an exchange = an exchange protocol here + an authenticator in
``hftws.auth`` + a message handler; the connection (``hftws.interface``) composes them.
"""

from hftws.venues.base import USER_AGENT, Endpoint, ExchangeProtocol, SubscriptionRequest
from hftws.venues.binance import BinanceFuturesProtocol, BinanceProtocol, BinanceSbeProtocol
from hftws.venues.gateio import GateioFuturesProtocol, GateioProtocol
from hftws.venues.kucoin import KucoinFuturesProtocol, KucoinProtocol, KucoinTokenSource
from hftws.venues.mexc import MexcProtocol

__all__ = [
    "USER_AGENT",
    "BinanceFuturesProtocol",
    "BinanceProtocol",
    "BinanceSbeProtocol",
    "Endpoint",
    "ExchangeProtocol",
    "GateioFuturesProtocol",
    "GateioProtocol",
    "KucoinFuturesProtocol",
    "KucoinProtocol",
    "KucoinTokenSource",
    "MexcProtocol",
    "SubscriptionRequest",
]
