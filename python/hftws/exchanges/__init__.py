"""Exchange handlers: the interface composed with each exchange's mixins and handler."""

from hftws.exchanges.gateio import (  # noqa: I001
    GateioFuturesPublicHandler,
    GateioFuturesPublicMessageHandler,
    GateioSpotPublicHandler,
    GateioSpotPublicMessageHandler,
)
from hftws.exchanges.mexc import MexcPublicHandler, MexcPublicMessageHandler

__all__ = [
    "GateioFuturesPublicHandler",
    "GateioFuturesPublicMessageHandler",
    "GateioSpotPublicHandler",
    "GateioSpotPublicMessageHandler",
    "MexcPublicHandler",
    "MexcPublicMessageHandler",
]
