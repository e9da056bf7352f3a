"""The asyncio shell around the sans-I/O :class:`~hftws.protocol.ClientProtocol`.

``WebSocketConnection`` is an ``asyncio.Protocol`` that moves bytes and nothing else: every
socket read goes to ``ClientProtocol.receive_data`` (one Rust call decodes all the frames in
it), whatever the protocol queued is written, and the data messages go to ``on_messages`` in
the same loop iteration. Pings, close echo and the 1005/1006 codes are the protocol's rules,
not this module's.

With ``exchange=`` the payloads are decoded by the fused Rust ``StreamDecoder`` and
``on_messages`` receives typed events (and ``BookUpdate`` items for registered books);
without it, ``(opcode, payload)`` pairs.

With a ``router`` as well (``on_messages`` being its ``dispatch``: the message handler's native
router), a read without control frames skips both Python frames: ``ClientProtocol.fast`` decodes
it, applies the books and routes the events to their callbacks in one Rust call; reads with a
control frame, a protocol error or a recorder take ``receive_data`` as above.

Close codes seen by ``on_closed``: the server's code, 1005 for a close frame without a code,
1006 when the TCP connection ended without a close frame, or the code of a protocol violation
we detected (1002/1007/1009), which we also send to the server.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any, cast
from urllib.parse import urlsplit

from hftws._core import BookStatus, OrderBook, ProtocolError, Router
from hftws.errors import ConnectError, ConnectTimeout
from hftws.lifecycle import ProtocolState
from hftws.protocol import (
    ABNORMAL,
    NO_STATUS,
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    BookRegistration,
    ClientProtocol,
    Failed,
    HandshakeFailed,
    Opened,
    PongReceived,
    Recorder,
)

__all__ = [
    "ABNORMAL",
    "NO_STATUS",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "ConnectError",
    "WebSocketConnection",
    "connect",
]

log = logging.getLogger("hftws.transport")

#: ``on_messages(items, recv_ns)``: ``(opcode, payload)`` pairs, or events with ``exchange=``.
MessagesCallback = Callable[[list[Any], int], None]
ClosedCallback = Callable[[int, str], object]


class WebSocketConnection(asyncio.Protocol):
    """One client WebSocket connection: a socket feeding a :class:`ClientProtocol`."""

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
        router: Router | None = None,
    ) -> None:
        self.protocol = ClientProtocol(
            host,
            target,
            headers=headers,
            compression=compression,
            max_message_size=max_message_size,
            exchange=exchange,
            recorder=recorder,
        )
        self._host = host
        self._on_messages = on_messages
        #: ``router`` (``on_messages`` must be its ``dispatch``): lets a read be decoded and
        #: routed in one Rust call (``ClientProtocol.fast``).
        self._router = router
        self._on_closed = on_closed
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[tuple[int, str]] = loop.create_future()
        self._transport: asyncio.Transport | None = None
        #: Monotonic ns of the last byte received (for idle detection).
        self.last_rx_ns = time.monotonic_ns()
        self.last_pong_ns = 0
        self.opened_at = time.monotonic()
        self.bytes_received = 0
        self.reads = 0
        #: Reads that held only control frames (pings, pongs, close): not data.
        self.control_reads = 0

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        self._flush()  # the upgrade request

    def data_received(self, data: bytes) -> None:
        recv_ns = time.monotonic_ns()
        self.last_rx_ns = recv_ns
        self.bytes_received += len(data)
        self.reads += 1
        proto = self.protocol
        fast, router = proto.fast, self._router
        # Attention left by something outside a read (a failure) is attended before data.
        if fast is None or router is None or proto.attention:
            items = proto.receive_data(data, recv_ns)
        else:
            try:
                back = fast(data, recv_ns, router)
            except ProtocolError as exc:
                # Raised by the decoding (before any dispatch): its items are undelivered.
                items = proto.read_failed(exc)
            else:
                if back is None:
                    return  # the common read: decoded and routed in that one call
                items = proto.finish_read(back)
        if proto.attention:
            self._attend(control_only=not items)
        if items:
            self._on_messages(items, recv_ns)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(
                ConnectError(f"connection to {self._host} closed during the handshake: {exc}")
            )
        code, reason = self.protocol.receive_eof()
        if not self.closed.done():
            self.closed.set_result((code, reason))
            if self._on_closed is not None:
                self._on_closed(code, reason)

    # -- internals ----------------------------------------------------------------------------

    def _attend(self, control_only: bool) -> None:
        """What a read left besides messages: events, bytes to send, a transport to end."""
        proto = self.protocol
        proto.attention = False
        if control_only:
            self.control_reads += 1
        if proto.events:
            self._events()
        if proto.outgoing:
            self._flush()
        if proto.close_transport and self._transport is not None:
            self._transport.close()

    def _events(self) -> None:
        events = self.protocol.events
        for event in events:
            if isinstance(event, PongReceived):
                self.last_pong_ns = time.monotonic_ns()
            elif isinstance(event, Opened):
                if not self.opened.done():
                    self.opened.set_result(None)
            elif isinstance(event, HandshakeFailed):
                if not self.opened.done():
                    self.opened.set_exception(ConnectError(event.reason))
                self.abort()
            elif isinstance(event, Failed):
                log.warning("protocol violation from %s: %s", self._host, event.reason)
        events.clear()

    def _flush(self) -> None:
        transport = self._transport
        data = self.protocol.data_to_send()
        if data and transport is not None and not transport.is_closing():
            transport.write(data)

    # -- API ------------------------------------------------------------------------------------

    @property
    def exchange(self) -> str | None:
        """The fused decoder's exchange, or None for raw ``(opcode, payload)`` delivery."""
        return self.protocol.exchange

    @property
    def deflate(self) -> Any:
        return self.protocol.deflate

    def register_book(
        self,
        symbol: str,
        book: OrderBook,
        *,
        emit: bool = True,
        top_only: bool = False,
        notify: Callable[[BookStatus], object] | None = None,
    ) -> None:
        """Offer depth pushes for ``symbol`` to ``book`` inside the decoder (``exchange=``
        only): applied, or held while the book waits for a snapshot. Such pushes arrive as
        ``BookUpdate(symbol, status)`` items per the emit policy of
        ``StreamDecoder.register_book``. Registrations made before the upgrade are kept.
        """
        self.protocol.register_book(symbol, book, emit=emit, top_only=top_only, notify=notify)

    def unregister_book(self, symbol: str) -> bool:
        """Stop applying pushes for ``symbol``; True if it was registered."""
        return self.protocol.unregister_book(symbol)

    @property
    def is_open(self) -> bool:
        return self.protocol.state is ProtocolState.OPEN and not self.closed.done()

    def send_text(self, text: str) -> None:
        """Send a text message (dropped silently once closing)."""
        self.protocol.send_text(text)
        self._flush()

    def send_binary(self, data: bytes) -> None:
        self.protocol.send_binary(data)
        self._flush()

    def ping(self, payload: bytes = b"") -> None:
        """Send a protocol-level ping."""
        self.protocol.send_ping(payload)
        self._flush()

    async def close(self, code: int = 1000, reason: str = "", timeout: float = 2.0) -> None:
        """Close handshake: send a close frame and wait for the server (then drop TCP)."""
        if self._transport is None:
            return
        self.protocol.send_close(code, reason)
        self._flush()
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
    books: Mapping[str, OrderBook | tuple[OrderBook, bool] | BookRegistration] | None = None,
    recorder: Recorder | None = None,
    router: Router | None = None,
) -> WebSocketConnection:
    """Open a WebSocket to ``url`` (``ws://`` or ``wss://``) and complete the upgrade.

    With ``exchange`` ("mexc", "gateio", "gateio_futures", "binance", "binance_futures")
    payloads are decoded in the same Rust call as the frames and ``on_messages`` receives
    typed events; ``books`` (symbol -> ``OrderBook``, ``(OrderBook, emit)`` or ``(OrderBook,
    emit, top_only, notify)``) are registered before the first byte is decoded. With a
    ``recorder``, the decoder appends every data message (with its receive time) to the
    recording before decoding it. With a ``router`` (``on_messages`` being its ``dispatch``),
    the common read is decoded and routed in one Rust call.

    Raises :class:`~hftws.errors.ConnectError` (an ``HftwsError`` and an ``OSError``) with a
    one-line cause: DNS, refused, TLS, timeout (:class:`~hftws.errors.ConnectTimeout`) or a
    refused upgrade. Messages name host:port, never the query (it may carry a listenKey).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        # Only the scheme and host: the query may carry a secret.
        raise ConnectError(f"not a WebSocket URL: {parts.scheme}://{parts.netloc}{parts.path}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    where = f"{host}:{port}"
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
        router=router,
    )
    for symbol, entry in (books or {}).items():
        if not isinstance(entry, tuple):
            conn.register_book(symbol, entry)
        elif len(entry) == 2:
            conn.register_book(symbol, entry[0], emit=entry[1])
        else:
            book, emit, top_only, notify = entry
            conn.register_book(symbol, book, emit=emit, top_only=top_only, notify=notify)
    ctx = _ssl_context(parts.scheme, ssl_context)
    try:
        async with asyncio.timeout(open_timeout):
            await loop.create_connection(
                lambda: conn, host, port, ssl=ctx, server_hostname=host if ctx else None
            )
            await conn.opened
    except TimeoutError:
        conn.abort()
        raise ConnectTimeout(f"timed out after {open_timeout:g}s connecting to {where}") from None
    except ssl.SSLError as exc:
        raise ConnectError(f"TLS error with {where}: {exc.reason or exc}") from None
    except ConnectionRefusedError:
        raise ConnectError(f"connection refused by {where}") from None
    except ConnectError:
        raise
    except OSError as exc:
        if isinstance(exc, socket.gaierror):
            raise ConnectError(f"DNS lookup failed for {host}: {exc.strerror}") from None
        raise ConnectError(f"cannot connect to {where}: {exc.strerror or exc}") from None
    return conn
