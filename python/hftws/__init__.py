"""hftws: exchange WebSockets for high-frequency trading, with a Rust core.

The native module ``hftws._core`` does the byte work (decimals, order books, frames,
exchange decoders); this package is the public API over it and the asyncio layer. Start from
:func:`create_websocket_manager` (streams) and :class:`OrderBookManager` (synced books). The
frame codec is in :mod:`hftws.ws`, the exchange decoders in :mod:`hftws.mexc` and
:mod:`hftws.gateio`. Every error raised to users is an :class:`HftwsError`.
"""

from importlib import metadata as _metadata

from hftws._core import (
    BinanceDecodeError,
    BookStatus,
    BookUpdate,
    DecimalParseError,
    DecodeError,
    GateDecodeError,
    HandshakeError,
    HftwsError,
    KucoinDecodeError,
    LatencyHistogram,
    MexcDecodeError,
    NativeBook,
    NativeFeed,
    OrderBook,
    ProtocolError,
    normalize_decimal,
    parse_decimal,
)
from hftws.books import OrderBookManager, SnapshotError
from hftws.credentials import AuthenticationError, Credentials, MissingCredentials
from hftws.errors import (
    ConnectError,
    ConnectTimeout,
    HftwsTimeoutError,
    IllegalTransition,
    SubscriptionError,
    UnknownExchange,
)
from hftws.events import BookTicker, MessageType, Trade
from hftws.interface import BaseWebSocketInterface
from hftws.lifecycle import ConnectionState
from hftws.manager import (
    WebSocketConfig,
    WebSocketManager,
    create_websocket_handler_direct,
    create_websocket_manager,
)
from hftws.policy import ConnectionPolicy, ReconnectPolicy
from hftws.private_events import BalanceUpdate, Execution, OrderUpdate, PositionUpdate
from hftws.rest import RateLimited, RestError
from hftws.subscriptions import Subscription

__all__ = [
    "AuthenticationError",
    "BalanceUpdate",
    "BaseWebSocketInterface",
    "BinanceDecodeError",
    "BookStatus",
    "BookTicker",
    "BookUpdate",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionPolicy",
    "ConnectionState",
    "Credentials",
    "DecimalParseError",
    "DecodeError",
    "Execution",
    "GateDecodeError",
    "HandshakeError",
    "HftwsError",
    "HftwsTimeoutError",
    "IllegalTransition",
    "KucoinDecodeError",
    "LatencyHistogram",
    "MessageType",
    "MexcDecodeError",
    "MissingCredentials",
    "NativeBook",
    "NativeFeed",
    "OrderBook",
    "OrderBookManager",
    "OrderUpdate",
    "PositionUpdate",
    "ProtocolError",
    "RateLimited",
    "ReconnectPolicy",
    "RestError",
    "SnapshotError",
    "Subscription",
    "SubscriptionError",
    "Trade",
    "UnknownExchange",
    "WebSocketConfig",
    "WebSocketManager",
    "create_websocket_handler_direct",
    "create_websocket_manager",
    "normalize_decimal",
    "parse_decimal",
]

# Written once, in Cargo.toml; maturin copies it into the package metadata.
__version__ = _metadata.version("hftws")
