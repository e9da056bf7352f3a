"""A thin asyncio transport around the Rust WebSocket codec.

``WebSocketConnection`` is an ``asyncio.Protocol``: the HTTP upgrade is built and checked by
Rust helpers, and every socket read goes to the Rust decoder in one call, which returns whole
messages. Control frames are answered here (pong for ping, close for close); data messages go
to ``on_messages`` together with the monotonic time the read arrived, synchronously, so a
strategy sees a message in the same loop iteration the bytes arrived in.

With ``exchange=`` ("mexc", "gateio", "gateio_futures") the connection uses the fused Rust
``StreamDecoder``: the same single call per read also decodes every payload, so
``on_messages`` receives typed events (``gateio.parse`` / ``mexc.decode`` results,
``MexcControl`` for MEXC text, ``BookUpdate`` for books registered with
:meth:`WebSocketConnection.register_book`) instead of ``(opcode, payload)`` pairs.

Close codes seen by ``on_closed``: the server's code, 1005 for a close frame without a code,
1006 when the TCP connection ended without a close frame, or the code of a protocol violation
we detected (1002/1007/1009), which we also send to the server.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from hftws._core import (
    HandshakeError,
    OrderBook,
    ProtocolError,
    StreamDecoder,
    WebSocketDecoder,
    WebSocketEncoder,
    build_handshake_request,
    validate_handshake_response,
)

log = logging.getLogger("hftws.transport")

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 1, 2, 8, 9, 10
NO_STATUS, ABNORMAL = 1005, 1006
MAX_HANDSHAKE = 64 * 1024

#: ``on_messages(items, recv_ns)``: ``(opcode, payload)`` pairs, or events with ``exchange=``.
MessagesCallback = Callable[[list[Any], int], None]
ClosedCallback = Callable[[int, str], None]


class ConnectError(OSError):
    """The connection or the HTTP upgrade failed; the message names the cause."""


@dataclass(frozen=True)
class Recorder:
    """Where a connection's decoder sends its recording: ``write(records)`` receives the
    records of one socket read in the recording format (``hftws.cli.record``), tagged with
    ``source``."""

    write: Callable[[bytes], Any]
    source: int


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
        exchange: str | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        if exchange is not None:
            StreamDecoder(exchange)  # raises ValueError for an unknown exchange, here
        elif recorder is not None:
            raise ValueError("recording needs a connection created with exchange=")
        self._host = host
        self._exchange = exchange
        self._recorder = recorder
        #: symbol -> (book, emit, top_only) registered before the decoder exists.
        self._books: dict[str, tuple[OrderBook, bool, bool]] = {}
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
        self._decoder: WebSocketDecoder | StreamDecoder | None = None
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
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        request, self._key = build_handshake_request(
            self._host, self._target, deflate=self._compression, headers=self._headers
        )
        self._transport.write(request)

    def data_received(self, data: bytes) -> None:
        recv_ns = time.monotonic_ns()
        self.last_rx_ns = recv_ns
        self.bytes_received += len(data)
        self.reads += 1
        if self._decoder is None:
            data = self._handshake(data)
            if not data or self._decoder is None:
                return
        decoder = self._decoder
        try:
            messages = decoder.feed(data, recv_ns) if self._recorder else decoder.feed(data)
        except ProtocolError as exc:
            self._drain_recording()
            self._deliver(exc.messages, recv_ns)
            log.warning("protocol violation from %s: %s", self._host, exc)
            self._fail(exc.close_code, str(exc))
            return
        if self._recorder is not None:
            self._drain_recording()
        if self._exchange is None:
            self._dispatch(messages, recv_ns)
        elif decoder.controls:  # type: ignore[union-attr]
            self._dispatch_events(messages, recv_ns)
        elif messages:
            self._on_messages(messages, recv_ns)

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
        if self._exchange is None:
            self._decoder = WebSocketDecoder(
                max_message_size=self._max_message_size, deflate=params
            )
        else:
            stream = StreamDecoder(
                self._exchange,
                max_message_size=self._max_message_size,
                deflate=params,
                record_source=None if self._recorder is None else self._recorder.source,
            )
            for symbol, (book, emit, top_only) in self._books.items():
                stream.register_book(symbol, book, emit=emit, top_only=top_only)
            self._decoder = stream
        self._encoder = WebSocketEncoder(deflate=params)
        rest = self._head[consumed:]
        self._head = b""
        self.opened.set_result(None)
        return rest

    def _drain_recording(self) -> None:
        """Hand the records the decoder appended (before decoding) to the recorder."""
        assert self._recorder is not None and isinstance(self._decoder, StreamDecoder)
        chunk = self._decoder.take_recording()
        if chunk:
            self._recorder.write(chunk)

    def _deliver(self, messages: list[Any], recv_ns: int) -> None:
        """Items decoded before a protocol violation, in either mode."""
        if self._exchange is None:
            self._dispatch(messages, recv_ns)
        elif messages:
            self._dispatch_events(messages, recv_ns)

    def _dispatch_events(self, items: list[Any], recv_ns: int) -> None:
        # Control items are `(int opcode, bytes)`; a Gate list result is a tuple of events.
        data = []
        for item in items:
            if type(item) is tuple and len(item) == 2 and type(item[0]) is int:
                self._control(item[0], item[1])
            else:
                data.append(item)
        if data:
            self._on_messages(data, recv_ns)

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
    def exchange(self) -> str | None:
        """The fused decoder's exchange, or None for raw ``(opcode, payload)`` delivery."""
        return self._exchange

    def register_book(
        self, symbol: str, book: OrderBook, *, emit: bool = True, top_only: bool = False
    ) -> None:
        """Offer depth pushes for ``symbol`` to ``book`` inside the decoder (``exchange=``
        only): applied, or held while the book waits for a snapshot.

        Such pushes arrive as ``BookUpdate(symbol, status)`` items per the emit policy of
        ``StreamDecoder.register_book``. Registrations made before the upgrade are kept.
        """
        if self._exchange is None:
            raise ValueError("register_book needs a connection created with exchange=")
        self._books[symbol] = (book, emit, top_only)
        if isinstance(self._decoder, StreamDecoder):
            self._decoder.register_book(symbol, book, emit=emit, top_only=top_only)

    def unregister_book(self, symbol: str) -> bool:
        """Stop applying pushes for ``symbol``; True if it was registered."""
        found = self._books.pop(symbol, None) is not None
        if isinstance(self._decoder, StreamDecoder):
            self._decoder.unregister_book(symbol)
        return found

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
    exchange: str | None = None,
    books: Mapping[str, OrderBook | tuple[OrderBook, bool] | tuple[OrderBook, bool, bool]]
    | None = None,
    recorder: Recorder | None = None,
) -> WebSocketConnection:
    """Open a WebSocket to ``url`` (``ws://`` or ``wss://``) and complete the upgrade.

    With ``exchange`` ("mexc", "gateio", "gateio_futures") payloads are decoded in the same
    Rust call as the frames and ``on_messages`` receives typed events; ``books`` (symbol ->
    ``OrderBook``, ``(OrderBook, emit)`` or ``(OrderBook, emit, top_only)``) are registered
    before the first byte is decoded. With a ``recorder``, the decoder appends every data
    message (with its receive time) to the recording before decoding it.

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
        exchange=exchange,
        recorder=recorder,
    )
    for symbol, entry in (books or {}).items():
        book, emit, top_only = (
            (entry, True, False) if not isinstance(entry, tuple) else (*entry, False)[:3]
        )
        conn.register_book(symbol, book, emit=emit, top_only=top_only)
    ctx = _ssl_context(parts.scheme, ssl_context)
    try:
        async with asyncio.timeout(open_timeout):
            await loop.create_connection(
                lambda: conn, host, port, ssl=ctx, server_hostname=host if ctx else None
            )
            await conn.opened
    except TimeoutError:
        conn.abort()
        # host:port only: the query string may carry a listenKey.
        where = f"{host}:{port}"
        raise ConnectError(f"timed out after {open_timeout:g}s connecting to {where}") from None
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
