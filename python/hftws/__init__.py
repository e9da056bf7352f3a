"""hftws: exchange WebSockets for high-frequency trading, with a Rust core.

The native module ``hftws._core`` does the byte work (decimals, order books, frames,
exchange decoders); this package re-exports its public names and adds the asyncio layer.
"""

from hftws._core import (
    BinanceDecodeError,
    BookStatus,
    BookUpdate,
    DecimalParseError,
    DecodeError,
    DeflateOffer,
    DeflateParams,
    GateDecodeError,
    HandshakeError,
    HftwsError,
    LatencyHistogram,
    MexcDecodeError,
    Opcode,
    OrderBook,
    ProtocolError,
    StreamDecoder,
    WebSocketDecoder,
    WebSocketEncoder,
    build_handshake_request,
    normalize_decimal,
    parse_decimal,
    validate_handshake_response,
)
from hftws.credentials import AuthenticationError, Credentials, MissingCredentials

__all__ = [
    "AuthenticationError",
    "BinanceDecodeError",
    "BookStatus",
    "BookUpdate",
    "Credentials",
    "DecimalParseError",
    "DecodeError",
    "DeflateOffer",
    "DeflateParams",
    "GateDecodeError",
    "HandshakeError",
    "HftwsError",
    "LatencyHistogram",
    "MexcDecodeError",
    "MissingCredentials",
    "Opcode",
    "OrderBook",
    "ProtocolError",
    "StreamDecoder",
    "WebSocketDecoder",
    "WebSocketEncoder",
    "build_handshake_request",
    "normalize_decimal",
    "parse_decimal",
    "validate_handshake_response",
]

__version__ = "0.1.0"
