"""hftws: exchange WebSockets for high-frequency trading, with a Rust core.

The native module ``hftws._core`` does the byte work (decimals, order books, frames,
exchange decoders); this package re-exports its public names and adds the asyncio layer.
"""

from importlib import metadata as _metadata

from hftws._core import (
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

# Written once, in Cargo.toml; maturin copies it into the package metadata.
__version__ = _metadata.version("hftws")
