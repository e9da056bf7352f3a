"""A thin asyncio transport around the Rust WebSocket codec.

``WebSocketConnection`` is an ``asyncio.Protocol``: the HTTP upgrade is built and checked by
Rust helpers, and every socket read goes to the Rust decoder in one call, which returns whole
messages. Control frames are answered here (pong for ping, close for close); data messages go
to ``on_messages`` together with the monotonic time the read arrived, synchronously, so a
strategy sees a message in the same loop iteration the bytes arrived in.

Close codes seen by ``on_closed``: the server's code, 1005 for a close frame without a code,
1006 when the TCP connection ended without a close frame, or the code of a protocol violation
we detected (1002/1007/1009), which we also send to the server.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from hftws._core import (
    HandshakeError,
    ProtocolError,
    WebSocketDecoder,
    WebSocketEncoder,
    build_handshake_request,
    validate_handshake_response,
)

log = logging.getLogger("hftws.transport")

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 1, 2, 8, 9, 10
NO_STATUS, ABNORMAL = 1005, 1006
MAX_HANDSHAKE = 64 * 1024

MessagesCallback = Callable[[list[tuple[int, bytes]], int], None]
ClosedCallback = Callable[[int, str], None]


class ConnectError(OSError):
    """The connection or the HTTP upgrade failed; the message names the cause."""


class WebSocketConnection(asyncio.Protocol):
    """One client WebSocket connection driven by the Rust codec."""

    def __init__(
        self,
        host: str,
        target: str,
        *,
        on_messages: MessagesCallback,
        on_closed: ClosedCallback | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        compression: bool = False,
        max_message_size: int = 16 * 1024 * 1024,
    ) -> None:
        self._host = host
        self._target = target
        self._headers = headers
        self._compression = compression
        self._max_message_size = max_message_size
        self._on_messages = on_messages
        self._on_closed = on_closed
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[tuple[int, str]] = loop.create_future()
        self._transport: asyncio.Transport | None = None
        self._key = ""
        self._head = b""
        self._decoder: WebSocketDecoder | None = None
        self._encoder = WebSocketEncoder()
        self._close_sent = False
        self._close_code: int | None = None
        self._close_reason = ""
        #: Monotonic ns of the last byte received (for idle detection).
        self.last_rx_ns = time.monotonic_ns()
        self.last_pong_ns = 0
        self.opened_at = time.monotonic()
        self.bytes_received = 0
        self.reads = 0
        self.deflate = None

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        request, self._key = build_handshake_request(
            self._host, self._target, deflate=self._compression, headers=self._headers
        )
        transport.write(request)

    def data_received(self, data: bytes) -> None:
        recv_ns = time.monotonic_ns()
        self.last_rx_ns = recv_ns
        self.bytes_received += len(data)
        self.reads += 1
        if self._decoder is None:
            data = self._handshake(data)
            if not data or self._decoder is None:
                return
        try:
            messages = self._decoder.feed(data)
        except ProtocolError as exc:
            self._dispatch(exc.messages, recv_ns)
            log.warning("protocol violation from %s: %s", self._host, exc)
            self._fail(exc.close_code, str(exc))
            return
        self._dispatch(messages, recv_ns)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(
                ConnectError(f"connection to {self._host} closed during the handshake: {exc}")
            )
        code = self._close_code if self._close_code is not None else ABNORMAL
        if not self.closed.done():
            self.closed.set_result((code, self._close_reason))
            if self._on_closed is not None:
                self._on_closed(code, self._close_reason)

    # -- internals ----------------------------------------------------------------------------

    def _handshake(self, data: bytes) -> bytes:
        self._head += data
        try:
            answer = validate_handshake_response(self._head, self._key, self._compression)
        except HandshakeError as exc:
            self.opened.set_exception(ConnectError(f"handshake with {self._host} refused: {exc}"))
            self.abort()
            return b""
        if answer is None:
            if len(self._head) > MAX_HANDSHAKE:
                self.opened.set_exception(ConnectError(f"{self._host}: oversized HTTP response"))
                self.abort()
            return b""
        consumed, params = answer
        self.deflate = params
        self._decoder = WebSocketDecoder(max_message_size=self._max_message_size, deflate=params)
        self._encoder = WebSocketEncoder(deflate=params)
        rest = self._head[consumed:]
        self._head = b""
        self.opened.set_result(None)
        return rest

    def _dispatch(self, messages: list[tuple[int, bytes]], recv_ns: int) -> None:
        data = messages
        for i, (opcode, _payload) in enumerate(messages):
            if opcode >= OP_CLOSE:
                # Control frames are rare: split them out only when one is present.
                data = [m for m in messages if m[0] < OP_CLOSE]
                for op, body in messages[i:]:
                    if op >= OP_CLOSE:
                        self._control(op, body)
                break
        if data:
            self._on_messages(data, recv_ns)

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_PING:
            self._write(self._encoder.encode_pong(payload))
        elif opcode == OP_PONG:
            self.last_pong_ns = time.monotonic_ns()
        elif opcode == OP_CLOSE:
            assert self._decoder is not None
            code = self._decoder.close_code
            self._close_code = NO_STATUS if code is None else code
            self._close_reason = self._decoder.close_reason or ""
            if not self._close_sent:
                # Echo the code (RFC 6455 §5.5.1); an empty close gets an empty close.
                self._write(self._encoder.encode_close(code, ""))
                self._close_sent = True
            if self._transport is not None:
                self._transport.close()

    def _fail(self, code: int, reason: str) -> None:
        self._close_code = code
        self._close_reason = reason
        if not self._close_sent:
            self._write(self._encoder.encode_close(code, reason[:100]))
            self._close_sent = True
        if self._transport is not None:
            self._transport.close()

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    # -- API ------------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return (
            self.opened.done()
            and not self.opened.cancelled()
            and self.opened.exception() is None
            and not self.closed.done()
            and not self._close_sent
        )

    def send_text(self, text: str) -> None:
        """Send a text message (dropped silently once closing)."""
        self._write(self._encoder.encode_text(text))

    def send_binary(self, data: bytes) -> None:
        self._write(self._encoder.encode_binary(data))

    def ping(self, payload: bytes = b"") -> None:
        """Send a protocol-level ping."""
        self._write(self._encoder.encode_ping(payload))

    async def close(self, code: int = 1000, reason: str = "", timeout: float = 2.0) -> None:
        """Close handshake: send a close frame and wait for the server (then drop TCP)."""
        if self._transport is None:
            return
        if not self._close_sent:
            self._write(self._encoder.encode_close(code, reason))
            self._close_sent = True
            if self._close_code is None:
                self._close_code, self._close_reason = code, reason
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(self.closed)
        except TimeoutError:
            self.abort()
            await asyncio.shield(self.closed)

    def abort(self) -> None:
        """Drop the TCP connection at once."""
        if self._transport is not None:
            self._transport.abort()

    def write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() if self._transport else 0


def _ssl_context(scheme: str, ssl_context: ssl.SSLContext | None) -> ssl.SSLContext | None:
    if scheme == "wss":
        return ssl_context or ssl.create_default_context()
    return None


async def connect(
    url: str,
    *,
    on_messages: MessagesCallback,
    on_closed: ClosedCallback | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    compression: bool = False,
    max_message_size: int = 16 * 1024 * 1024,
    open_timeout: float = 10.0,
    ssl_context: ssl.SSLContext | None = None,
) -> WebSocketConnection:
    """Open a WebSocket to ``url`` (``ws://`` or ``wss://``) and complete the upgrade.

    Raises :class:`ConnectError` (an ``OSError``) with a one-line cause: DNS, refused,
    TLS, timeout or a refused upgrade.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"not a WebSocket URL: {url!r}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    loop = asyncio.get_running_loop()
    conn = WebSocketConnection(
        host_header,
        target,
        on_messages=on_messages,
        on_closed=on_closed,
        headers=headers,
        compression=compression,
        max_message_size=max_message_size,
    )
    ctx = _ssl_context(parts.scheme, ssl_context)
    try:
        async with asyncio.timeout(open_timeout):
            await loop.create_connection(
                lambda: conn, host, port, ssl=ctx, server_hostname=host if ctx else None
            )
            await conn.opened
    except TimeoutError:
        conn.abort()
        raise ConnectError(f"timed out after {open_timeout:g}s connecting to {url}") from None
    except ssl.SSLError as exc:
        raise ConnectError(f"TLS error with {host}: {exc.reason or exc}") from None
    except ConnectionRefusedError:
        raise ConnectError(f"connection refused by {host}:{port}") from None
    except OSError as exc:
        if isinstance(exc, ConnectError):
            raise
        import socket

        if isinstance(exc, socket.gaierror):
            raise ConnectError(f"DNS lookup failed for {host}: {exc.strerror}") from None
        raise ConnectError(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
    return conn
