"""A sans-I/O WebSocket client: bytes in, messages and events out, bytes to send.

Modelled on websockets' ``protocol.py`` and h11: :class:`ClientProtocol` never touches a
socket, a clock or the event loop. Whoever owns the socket (``hftws.transport``, a replay, a
test) feeds it what arrives with :meth:`~ClientProtocol.receive_data` /
:meth:`~ClientProtocol.receive_eof` and writes what :meth:`~ClientProtocol.data_to_send`
returns. The rules of the connection live here and only here:

- the upgrade request is queued at construction; the answer is checked in Rust;
- a ping is answered with a pong carrying the same payload (RFC 6455 §5.5.2);
- a close frame is echoed with its code, an empty close with an empty close (§5.5.1), then
  the transport should end (``close_transport``);
- a protocol violation (Rust ``ProtocolError``) sends a close with its code (1002/1007/1009);
- the close code reported at the end is the peer's, 1005 for a close frame without a code,
  1006 when TCP ended without any close frame (§7.1.5), or the code we failed with.

State changes go through :data:`hftws.lifecycle.PROTOCOL_TRANSITIONS` only.

Hot path: data messages are *returned* by ``receive_data`` (the Rust decoder's own list,
untouched when the read held no control frame); rare things (upgrade done or refused, pong,
close) are appended to ``events``. A read therefore costs one Python call here, whatever the
number of messages in it.

Faster still, an owner that routes the events with a native ``Router`` can call ``fast(data,
recv_ns, router)`` instead while it is not None (set when the upgrade completes with a
``StreamDecoder`` and no recorder; cleared on close and failure): the read is decoded and
routed in one Rust call that returns None. When the read held a control frame the decoder's
items come back undelivered and go through :meth:`~ClientProtocol.finish_read` (a
``ProtocolError`` through :meth:`~ClientProtocol.read_failed`), exactly the handling
``receive_data`` gives them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hftws._core import (
    BookStatus,
    DeflateParams,
    HandshakeError,
    OrderBook,
    ProtocolError,
    Router,
    StreamDecoder,
    WebSocketDecoder,
    WebSocketEncoder,
    build_handshake_request,
    validate_handshake_response,
)
from hftws.lifecycle import PROTOCOL_TRANSITIONS, ProtocolState, StateMachine

OP_TEXT: Final = 1
OP_BINARY: Final = 2
OP_CLOSE: Final = 8
OP_PING: Final = 9
OP_PONG: Final = 10
NO_STATUS: Final = 1005
ABNORMAL: Final = 1006
#: An upgrade answer larger than this is refused (no server needs it; a stream would).
MAX_HANDSHAKE: Final = 64 * 1024
#: Exchanges the fused Rust decoder knows.
STREAM_EXCHANGES: Final = frozenset(
    {
        "mexc",
        "gateio",
        "gateio_futures",
        "kucoin",
        "kucoin_futures",
        "binance",
        "binance_futures",
    }
)


#: A book registered with a decoder: ``(book, emit, top_only, notify)`` (see
#: ``StreamDecoder.register_book``).
BookRegistration = tuple[OrderBook, bool, bool, Callable[[BookStatus], object] | None]


@dataclass(frozen=True, slots=True)
class Recorder:
    """Where a connection's decoder sends its recording: ``write(records)`` receives the
    records of one socket read in the recording format (``hftws.cli.record``), tagged with
    ``source``."""

    write: Callable[[bytes], Any]
    source: int


@dataclass(frozen=True, slots=True)
class Opened:
    """The upgrade completed; ``deflate`` is the negotiated permessage-deflate, if any."""

    deflate: DeflateParams | None


@dataclass(frozen=True, slots=True)
class HandshakeFailed:
    """The server refused the upgrade (or answered garbage); the transport should end."""

    reason: str


@dataclass(frozen=True, slots=True)
class PongReceived:
    payload: bytes


@dataclass(frozen=True, slots=True)
class CloseReceived:
    """The peer's close frame (``code`` 1005 when it carried none); the echo is queued."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class Failed:
    """We detected a protocol violation and are closing with ``code`` (1002/1007/1009)."""

    code: int
    reason: str


Event = Opened | HandshakeFailed | PongReceived | CloseReceived | Failed
Decoder = WebSocketDecoder | StreamDecoder


class ClientProtocol:
    """One client WebSocket connection, without I/O.

    Args:
        host: the ``Host`` header value (``host`` or ``host:port``).
        target: the request target (path and query).
        exchange: ``"mexc"``, ``"gateio"``, ``"gateio_futures"``, ``"binance"`` or
            ``"binance_futures"`` to decode payloads in the same Rust call as the frames (items
            are typed events; Binance binary frames are SBE); None for ``(opcode, payload)``
            pairs.
        key: a fixed ``Sec-WebSocket-Key`` (tests); random by default.
    """

    def __init__(
        self,
        host: str,
        target: str = "/",
        *,
        headers: Iterable[tuple[str, str]] = (),
        compression: bool = False,
        max_message_size: int = 16 * 1024 * 1024,
        exchange: str | None = None,
        key: str | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        if recorder is not None and exchange is None:
            raise ValueError("recording needs a protocol created with exchange=")
        if exchange is not None and exchange not in STREAM_EXCHANGES:
            from hftws.errors import UnknownExchange

            raise UnknownExchange(
                f"no stream decoder for exchange {exchange!r}; "
                f"valid: {', '.join(sorted(STREAM_EXCHANGES))}"
            )
        self.host = host
        self.exchange = exchange
        self._machine: StateMachine[ProtocolState] = StateMachine(
            ProtocolState.CONNECTING, PROTOCOL_TRANSITIONS
        )
        self._compression = compression
        self._max_message_size = max_message_size
        #: symbol -> (book, emit, top_only, notify): kept here so registrations survive until
        #: the decoder exists.
        self._books: dict[str, BookRegistration] = {}
        self._recorder = recorder
        self._decoder: Decoder | None = None
        #: ``decoder.feed`` while the socket may carry frames (open or closing), else None: the
        #: one check a read needs.
        self._feed: Callable[[bytes], list[Any]] | None = None
        #: The same object as ``_decoder`` when it is a StreamDecoder (typed access, no check).
        self._stream: StreamDecoder | None = None
        #: ``StreamDecoder.feed_routed`` while the common read may skip this object entirely
        #: (see the module doc), else None.
        self.fast: Callable[[bytes, int, Router], list[Any] | None] | None = None
        self._encoder = WebSocketEncoder()
        self._head = b""
        #: Encoded bytes waiting for the socket; ``data_to_send()`` takes them (the owner may
        #: test this list's truthiness per read: cheaper than a call).
        self.outgoing: list[bytes] = []
        #: Rare events since the last look (the owner clears it).
        self.events: list[Event] = []
        #: True when a read left something for the owner (events, bytes to send, a transport to
        #: end): one flag to test per read instead of three.
        self.attention = False
        #: True once the owner should end the TCP connection (after a close or a failure).
        self.close_transport = False
        self.close_code: int | None = None
        self.close_reason = ""
        self._close_sent = False
        #: Pings and pongs queued so far (pongs answer the server at once): exchanges that
        #: count every client frame (Binance) charge them to the connection's send limit.
        self.controls_sent = 0
        self.deflate: DeflateParams | None = None
        request, self._key = build_handshake_request(
            host, target, deflate=compression, headers=tuple(headers), key=key
        )
        self.outgoing.append(request)

    # -- state ----------------------------------------------------------------------------------

    @property
    def state(self) -> ProtocolState:
        return self._machine.state

    @property
    def pending_output(self) -> bool:
        return bool(self.outgoing)

    def data_to_send(self) -> bytes:
        """Everything queued for the socket since the last call (may be empty)."""
        out = self.outgoing
        if not out:
            return b""
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        return data

    # -- input ----------------------------------------------------------------------------------

    def receive_data(self, data: bytes, recv_ns: int = 0) -> list[Any]:
        """Feed one socket read; returns the data messages it completed (maybe none).

        With a recorder, the decoder appends every data message with ``recv_ns`` to the
        recording before decoding it, and the records go to the recorder after the read.
        """
        feed = self._feed
        if feed is None:  # upgrade not done yet, or closed
            return self._receive_outside_open(data, recv_ns)
        if self._recorder is not None:
            return self._receive_recorded(data, recv_ns)
        try:
            items = feed(data)
        except ProtocolError as exc:
            return self.read_failed(exc)
        stream = self._stream
        # The common read (typed events, no control frame) returns here: one call per read.
        if stream is not None and not stream.controls:
            return items
        return self._items(items)

    def finish_read(self, items: list[Any]) -> list[Any]:
        """The items ``fast`` handed back (a read with a control frame): handle the controls,
        return the data items to deliver, as ``receive_data`` does."""
        return self._items(items)

    def read_failed(self, exc: ProtocolError) -> list[Any]:
        """A read violated the protocol: close with its code; return the data items decoded
        before the violation (still to deliver)."""
        self.fail(exc.close_code, str(exc))
        return self._split(exc.messages)

    def _receive_recorded(self, data: bytes, recv_ns: int) -> list[Any]:
        stream, recorder = self._stream, self._recorder
        assert stream is not None and recorder is not None
        try:
            items = stream.feed(data, recv_ns)
        except ProtocolError as exc:
            recorder.write(stream.take_recording())
            self.fail(exc.close_code, str(exc))
            return self._split(exc.messages)
        chunk = stream.take_recording()
        if chunk:
            recorder.write(chunk)
        return self._items(items)

    def _items(self, items: list[Any]) -> list[Any]:
        stream = self._stream
        if stream is None:
            # Raw pairs: scan for control opcodes (they are rare; no copy without one).
            for opcode, _payload in items:
                if opcode >= OP_CLOSE:
                    return self._split(items)
            return items
        if stream.controls:
            return self._split(items)
        return items

    def _receive_outside_open(self, data: bytes, recv_ns: int) -> list[Any]:
        if self._machine.state is not ProtocolState.CONNECTING:
            return []  # closed: late bytes are dropped
        rest = self._handshake(data)
        return self.receive_data(rest, recv_ns) if rest and self._feed is not None else []

    def receive_eof(self) -> tuple[int, str]:
        """TCP ended; returns the close code and reason to report (1006 without a close)."""
        if self.close_code is None:
            self.close_code = ABNORMAL
        self._feed = self.fast = None
        self._machine.move(ProtocolState.CLOSED)
        return self.close_code, self.close_reason

    # -- output ---------------------------------------------------------------------------------

    def send_text(self, text: str) -> None:
        """Queue a text message (dropped once closing, as the peer would not read it)."""
        if self._machine.state is ProtocolState.OPEN:
            self.outgoing.append(self._encoder.encode_text(text))

    def send_binary(self, data: bytes) -> None:
        if self._machine.state is ProtocolState.OPEN:
            self.outgoing.append(self._encoder.encode_binary(data))

    def send_ping(self, payload: bytes = b"") -> None:
        if self._machine.state is ProtocolState.OPEN:
            self.outgoing.append(self._encoder.encode_ping(payload))
            self.controls_sent += 1

    def send_close(self, code: int | None = 1000, reason: str = "") -> None:
        """Start the closing handshake (no-op when a close already went out)."""
        if self._close_sent or self._machine.state is not ProtocolState.OPEN:
            return
        self.outgoing.append(self._encoder.encode_close(code, reason[:120]))
        self._close_sent = True
        if self.close_code is None:
            self.close_code = NO_STATUS if code is None else code
            self.close_reason = reason
        self._machine.move(ProtocolState.CLOSING)

    def fail(self, code: int, reason: str) -> None:
        """Close because of a violation we detected: send ``code`` and end the transport."""
        self.close_code, self.close_reason = code, reason
        self.send_close(code, reason[:100])
        self.close_transport = True
        self.fast = None
        self.events.append(Failed(code, reason))
        self.attention = True

    # -- books (fused decoding) -----------------------------------------------------------------

    def register_book(
        self,
        symbol: str,
        book: OrderBook,
        *,
        emit: bool = True,
        top_only: bool = False,
        notify: Callable[[BookStatus], object] | None = None,
    ) -> None:
        """Offer ``symbol``'s depth pushes to ``book`` inside the decoder (see
        ``StreamDecoder.register_book`` for the emit policy)."""
        if self.exchange is None:
            raise ValueError("register_book needs a protocol created with exchange=")
        self._books[symbol] = (book, emit, top_only, notify)
        if isinstance(self._decoder, StreamDecoder):
            self._decoder.register_book(symbol, book, emit=emit, top_only=top_only, notify=notify)

    def unregister_book(self, symbol: str) -> bool:
        found = self._books.pop(symbol, None) is not None
        if isinstance(self._decoder, StreamDecoder):
            self._decoder.unregister_book(symbol)
        return found

    # -- internals ------------------------------------------------------------------------------

    def _new_decoder(self, deflate: DeflateParams | None) -> Decoder:
        """The one place a decoder is built (raw frames, or frames + exchange payloads)."""
        if self.exchange is None:
            return WebSocketDecoder(max_message_size=self._max_message_size, deflate=deflate)
        stream = StreamDecoder(
            self.exchange,
            max_message_size=self._max_message_size,
            deflate=deflate,
            record_source=None if self._recorder is None else self._recorder.source,
        )
        for symbol, (book, emit, top_only, notify) in self._books.items():
            stream.register_book(symbol, book, emit=emit, top_only=top_only, notify=notify)
        return stream

    def _handshake(self, data: bytes) -> bytes:
        self._head += data
        try:
            answer = validate_handshake_response(self._head, self._key, self._compression)
        except HandshakeError as exc:
            return self._refuse(f"handshake with {self.host} refused: {exc}")
        if answer is None:
            if len(self._head) > MAX_HANDSHAKE:
                return self._refuse(f"{self.host}: oversized HTTP response")
            return b""
        consumed, params = answer
        self.deflate = params
        decoder = self._decoder = self._new_decoder(params)
        self._stream = decoder if isinstance(decoder, StreamDecoder) else None
        self._feed = decoder.feed
        if self._stream is not None and self._recorder is None:
            # Recorded connections keep receive_data: the records go out after each read.
            self.fast = self._stream.feed_routed
        self._encoder = WebSocketEncoder(deflate=params)
        rest = self._head[consumed:]
        self._head = b""
        self._machine.move(ProtocolState.OPEN)
        self.events.append(Opened(params))
        self.attention = True
        return rest

    def _refuse(self, reason: str) -> bytes:
        self._head = b""
        self._machine.move(ProtocolState.CLOSED)
        self.events.append(HandshakeFailed(reason))
        self.close_transport = True
        self.attention = True
        return b""

    def _split(self, items: Sequence[Any]) -> list[Any]:
        """Handle the control items of a read; return the data items in order."""
        self.attention = True
        data = []
        for item in items:
            if type(item) is tuple and len(item) == 2 and type(item[0]) is int:
                if item[0] >= OP_CLOSE:
                    self._control(item[0], item[1])
                else:
                    data.append(item)
            else:
                data.append(item)
        return data

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_PING:
            if self._machine.state is ProtocolState.OPEN:
                self.outgoing.append(self._encoder.encode_pong(payload))
                self.controls_sent += 1
        elif opcode == OP_PONG:
            self.events.append(PongReceived(payload))
        elif opcode == OP_CLOSE:
            decoder = self._decoder
            assert decoder is not None
            code = decoder.close_code
            reason = decoder.close_reason or ""
            if self.close_code is None or not self._close_sent:
                self.close_code = NO_STATUS if code is None else code
                self.close_reason = reason
            if not self._close_sent:
                # Echo the code (RFC 6455 §5.5.1); an empty close gets an empty close.
                self.outgoing.append(self._encoder.encode_close(code, ""))
                self._close_sent = True
                self._machine.move(ProtocolState.CLOSING)
            self.events.append(CloseReceived(self.close_code, self.close_reason))
            self.close_transport = True
            self.fast = None
