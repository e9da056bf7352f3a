"""The WebSocket codec (RFC 6455 + permessage-deflate), for code that drives frames itself.

Re-exports the Rust codec of ``hftws._core`` (those names stay there too) and the sans-I/O
client protocol built on it. Most programs never need this module: connections
(``create_websocket_manager``) use it internally.
"""

from hftws._core import (
    DeflateOffer,
    DeflateParams,
    HandshakeError,
    Opcode,
    ProtocolError,
    StreamDecoder,
    WebSocketDecoder,
    WebSocketEncoder,
    build_handshake_request,
    validate_handshake_response,
)
from hftws.protocol import ClientProtocol
from hftws.transport import WebSocketConnection, connect

__all__ = [
    "ClientProtocol",
    "DeflateOffer",
    "DeflateParams",
    "HandshakeError",
    "Opcode",
    "ProtocolError",
    "StreamDecoder",
    "WebSocketConnection",
    "WebSocketDecoder",
    "WebSocketEncoder",
    "build_handshake_request",
    "connect",
    "validate_handshake_response",
]
