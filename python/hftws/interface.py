"""``BaseWebSocketInterface``: the lifecycle of one exchange connection.

The interface owns the connection and its tasks and obeys the policy its connection mixin
supplies; messages go to its handler. Its parts:

- reader: the transport protocol (``hftws.transport``), which hands every socket read to the
  Rust codec and calls back with whole messages;
- processor: runs synchronously in that callback: each message goes through the handler's
  template method to the user's callbacks, and, for ``async for`` consumers, into a bounded
  queue whose overflow policy is explicit and counted;
- heartbeat task: application pings on the policy's interval, an idle watchdog (no byte for
  ``idle_timeout`` aborts the socket) and the connection-age limit (make-before-break);
- supervisor task: after any close it reconnects with backoff (immediately for the close
  codes the policy names), re-authenticates and re-subscribes.

States: idle -> connecting -> connected -> subscribed -> reconnecting -> ... -> closed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable
from enum import StrEnum
from typing import Any, ClassVar

from hftws._core import HftwsError, StreamDecoder
from hftws.event_queue import EventQueue, Overflow
from hftws.events import MessageType
from hftws.handlers.base import BaseMessageHandler
from hftws.policy import Backoff, ConnectionPolicy
from hftws.transport import Recorder, WebSocketConnection, connect

log = logging.getLogger("hftws.interface")


class ConnectionState(StrEnum):
    """Where a connection is in its lifecycle."""

    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    SUBSCRIBED = "subscribed"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


class BaseWebSocketInterface:
    """One exchange connection: connect, subscribe, read, process, heartbeat, reconnect, close.

    Compose it with a connection mixin, an auth mixin and the subscription mixin; see
    ``hftws.exchanges``.
    """

    #: Message handler built when none is given.
    handler_class: ClassVar[type[BaseMessageHandler]]
    exchange: ClassVar[str]
    #: Exchange of the fused Rust decoder (``hftws.StreamDecoder``): when set, payloads are
    #: decoded in the transport's call and the handler receives typed events, not bytes.
    stream_decoder: ClassVar[str | None] = None
    DEFAULT_URL: ClassVar[str]
    DEFAULT_REST_URL: ClassVar[str]

    def __init__(
        self,
        *,
        url: str | None = None,
        rest_url: str | None = None,
        handler: BaseMessageHandler | None = None,
        policy: ConnectionPolicy | None = None,
        queue_size: int = 10_000,
        overflow: Overflow = "drop_oldest",
        ssl_context: ssl.SSLContext | None = None,
        **policy_overrides: Any,
    ) -> None:
        base = policy or self._default_policy(url or self.DEFAULT_URL)  # type: ignore[attr-defined]
        if url is not None and policy is not None:
            base = dataclasses.replace(base, url=url)
        if policy_overrides:
            valid = {f.name for f in dataclasses.fields(ConnectionPolicy)} - {"url"}
            unknown = set(policy_overrides) - valid
            if unknown:
                raise TypeError(
                    f"unknown option(s) {', '.join(sorted(unknown))}; "
                    f"valid: {', '.join(sorted(valid))}"
                )
            base = dataclasses.replace(base, **policy_overrides)
        EventQueue(queue_size, overflow, lambda: None)  # validates the options up front
        self.policy: ConnectionPolicy = base
        self.rest_url = (rest_url or self.DEFAULT_REST_URL).rstrip("/")
        self.handler = handler or self.handler_class()
        self.metrics = self.handler.metrics
        self.state = ConnectionState.IDLE
        self.close_code: int | None = None
        self._ssl = ssl_context
        self._conn: WebSocketConnection | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._lost = asyncio.Event()
        self._backoff = Backoff(self.policy.reconnect)
        self._events: EventQueue | None = None
        self._queue_size = queue_size
        self._overflow = overflow
        self._state_listeners: list[Callable[[ConnectionState], Any]] = []
        self._raw_listeners: list[Callable[[int, bytes, int], Any]] = []
        self._last_ping = 0.0
        self._books: dict[str, tuple[Any, bool, bool]] = {}
        self._recorder: Recorder | None = None
        #: The decoder a replay feeds (built on first use, with the registered books).
        self._replay_decoder: StreamDecoder | None = None
        self._init_subscriptions()  # type: ignore[attr-defined]
        # Refusals arrive as acks (MEXC) or as error objects echoing the request id (Gate).
        self.handler._on_internal(MessageType.SUBSCRIBE, self._on_ack)  # type: ignore[attr-defined]
        self.handler._on_internal(MessageType.ERROR, self._on_ack)  # type: ignore[attr-defined]

    # -- lifecycle ------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the connection, authenticate and subscribe; then keep it alive.

        Raises ``hftws.transport.ConnectError`` (an ``OSError``) if the first attempt fails;
        later drops are handled by reconnecting.
        """
        if self.state not in (ConnectionState.IDLE, ConnectionState.CLOSED):
            return
        self._closing = False
        try:
            await self._open()
        except BaseException:
            self._set_state(ConnectionState.CLOSED)
            raise
        self._spawn(self._supervise(), "supervisor")
        self._spawn(self._heartbeat(), "heartbeat")

    async def close(self) -> None:
        """Close the connection and stop every task (idempotent)."""
        self._closing = True
        self._lost.set()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close(timeout=self.policy.close_timeout)
        await self.handler.drain()
        self._set_state(ConnectionState.CLOSED)
        self._end_queue()

    async def __aenter__(self) -> BaseWebSocketInterface:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def on_state_change(self, callback: Callable[[ConnectionState], Any]) -> None:
        """Call ``callback(state)`` on every state change (books use it to resync)."""
        self._state_listeners.append(callback)

    def on_raw(self, callback: Callable[[int, bytes, int], Any]) -> None:
        """Call ``callback(opcode, payload, recv_ns)`` for every message before it is handled
        (recording taps; ``_on_messages`` replays such frames through the same pipeline)."""
        self._raw_listeners.append(callback)

    @property
    def connected(self) -> bool:
        return self._conn is not None and self._conn.is_open

    # -- async iteration ------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Any]:
        if self._events is None:
            self._events = EventQueue(self._queue_size, self._overflow, self._count_drop)
            self.handler.on_any(self._events.put)
        return self._events.iterate()

    def _count_drop(self) -> None:
        self.metrics.dropped += 1

    def _end_queue(self) -> None:
        if self._events is not None:
            self._events.close()

    # -- connection internals -------------------------------------------------------------------

    def _set_state(self, state: ConnectionState) -> None:
        if state is self.state:
            return
        self.state = state
        for cb in self._state_listeners:
            try:
                cb(state)
            except Exception:
                log.exception("state listener failed")

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=f"hftws-{self.exchange}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open(self) -> WebSocketConnection:
        self._set_state(ConnectionState.CONNECTING)
        holder: list[WebSocketConnection] = []
        # Raw taps (recording) need the payload bytes, so such connections decode in Python.
        fused = self.stream_decoder if not self._raw_listeners else None
        conn = await connect(
            await self._connection_url(),
            on_messages=self._on_events if fused else self._on_messages,
            # A failed handshake closes before `connect` returns: nothing to report then.
            on_closed=lambda code, reason: holder and self._on_closed(holder[0], code, reason),
            headers=self.policy.headers,
            compression=self.policy.compression,
            max_message_size=self.policy.max_message_size,
            open_timeout=self.policy.open_timeout,
            ssl_context=self._ssl,
            exchange=fused,
            books=self._books if fused else None,
            recorder=self._recorder if fused else None,
        )
        holder.append(conn)
        old, self._conn = self._conn, conn
        if fused:
            # Books registered while the upgrade was in flight went only into self._books.
            for symbol, (book, emit, top_only) in self._books.items():
                conn.register_book(symbol, book, emit=emit, top_only=top_only)
        self._lost.clear()
        self._last_ping = time.monotonic()
        self.close_code = None
        self._set_state(ConnectionState.CONNECTED)
        try:
            await self._authenticate()  # type: ignore[attr-defined]
            await self._resubscribe()  # type: ignore[attr-defined]
        except BaseException:
            self._conn = old
            conn.abort()
            raise
        if old is not None and old is not conn:
            await old.close(timeout=self.policy.close_timeout)
        self._subscriptions_changed()
        return conn

    async def _connection_url(self) -> str:
        """URL of the next connection (auth mixins may add a token, e.g. a listenKey)."""
        return self.policy.url

    def _message_raw(self, opcode: int, payload: bytes) -> Any:
        """What the handler receives for one message (exchanges may wrap text frames)."""
        return payload

    def register_book(
        self, symbol: str, book: Any, *, emit: bool = True, top_only: bool = False
    ) -> None:
        """Keep ``book`` (an ``OrderBook``) for ``symbol`` inside the Rust decoder.

        Depth pushes for ``symbol`` go into the book (or are held while it waits for its
        snapshot) before Python sees them; the ORDERBOOK callbacks receive
        ``BookUpdate(symbol, status)`` items per the emit policy (``StreamDecoder
        .register_book``). Kept across reconnects and used by replays. Not with raw taps
        (``on_raw``): those connections decode in Python and never touch the book.
        """
        if self.stream_decoder is None or self._raw_listeners:
            raise ValueError(f"{type(self).__name__} has no fused decoder for books")
        self._books[symbol] = (book, emit, top_only)
        if self._conn is not None and self._conn.exchange is not None:
            self._conn.register_book(symbol, book, emit=emit, top_only=top_only)
        if self._replay_decoder is not None:
            self._replay_decoder.register_book(symbol, book, emit=emit, top_only=top_only)

    def unregister_book(self, symbol: str) -> None:
        """Stop feeding ``symbol``'s book."""
        self._books.pop(symbol, None)
        if self._conn is not None and self._conn.exchange is not None:
            self._conn.unregister_book(symbol)
        if self._replay_decoder is not None:
            self._replay_decoder.unregister_book(symbol)

    def record(self, write: Callable[[bytes], Any], source: int) -> None:
        """Record every data message of this connection's next sockets: the Rust decoder
        appends ``(opcode, recv_ns, payload)`` records (``hftws.cli.record`` format, tagged
        ``source``) before decoding, and ``write`` receives them once per socket read."""
        if self.stream_decoder is None:
            raise ValueError(f"{type(self).__name__} has no fused decoder to record from")
        self._recorder = Recorder(write, source)

    # -- replay: the same decoder, fed recorded messages instead of a socket ---------------------

    def replay_message(self, opcode: int, payload: bytes, recv_ns: int) -> None:
        """Feed one recorded message through this connection's decoding, books and handlers,
        exactly as a socket read carrying it would have."""
        decoder = self._replay_decoder
        if decoder is None:
            if self.stream_decoder is None:
                raise ValueError(f"{type(self).__name__} has no fused decoder to replay into")
            decoder = self._replay_decoder = StreamDecoder(self.stream_decoder)
            for symbol, (book, emit, top_only) in self._books.items():
                decoder.register_book(symbol, book, emit=emit, top_only=top_only)
        items = decoder.feed_message(opcode, payload)
        if items:
            self._on_events(items, recv_ns)

    def replay_state(self, state: ConnectionState) -> None:
        """Apply a recorded lifecycle change (a reconnect takes the books out of sync)."""
        if state is ConnectionState.RECONNECTING:
            self.metrics.reconnects += 1  # counted by the supervisor when live
        self._set_state(state)
        if state is ConnectionState.SUBSCRIBED:
            # Live, this state follows the exchange's acks: the recorded streams were confirmed.
            self._report(sorted(self._active), True, "")  # type: ignore[attr-defined]

    def _on_events(self, events: list[Any], recv_ns: int) -> None:
        """Items of one socket read already decoded by the transport's ``StreamDecoder``."""
        metrics = self.metrics
        metrics.reads += 1
        metrics.latency["decode"].record(time.monotonic_ns() - recv_ns)
        handle = self.handler._handle_message
        callback_hist = metrics.latency["callback"]
        for event in events:
            handle(event, recv_ns)
            callback_hist.record(time.monotonic_ns() - recv_ns)

    def _on_messages(self, messages: list[tuple[int, bytes]], recv_ns: int) -> None:
        metrics = self.metrics
        metrics.reads += 1
        metrics.latency["decode"].record(time.monotonic_ns() - recv_ns)
        handle = self.handler._handle_message
        callback_hist = metrics.latency["callback"]
        raw_of = self._message_raw
        if self._raw_listeners:
            for opcode, payload in messages:
                for tap in self._raw_listeners:
                    tap(opcode, payload, recv_ns)
        for opcode, payload in messages:
            handle(raw_of(opcode, payload), recv_ns)
            callback_hist.record(time.monotonic_ns() - recv_ns)

    def _on_closed(self, conn: WebSocketConnection, code: int, reason: str) -> None:
        metrics = self.metrics
        metrics.bytes_received += conn.bytes_received
        if conn is not self._conn:
            return  # an old connection retired by a rollover
        self.close_code = code
        if not self._closing:
            log.warning("%s connection closed (%s %s); reconnecting", self.exchange, code, reason)
        self._lost.set()

    async def _supervise(self) -> None:
        while not self._closing:
            await self._lost.wait()
            if self._closing:
                return
            conn = self._conn
            if conn is not None:
                self._backoff.connection_lasted(time.monotonic() - conn.opened_at)
            self.metrics.reconnects += 1
            self._set_state(ConnectionState.RECONNECTING)
            code = self.close_code
            while not self._closing:
                if self._backoff.exhausted():
                    log.error(
                        "%s: giving up after %d attempts", self.exchange, self._backoff.attempts
                    )
                    self._set_state(ConnectionState.CLOSED)
                    self._end_queue()
                    return
                await asyncio.sleep(self._backoff.next_delay(code))
                code = None
                try:
                    await self._open()
                    break
                except (OSError, HftwsError) as exc:
                    self._set_state(ConnectionState.RECONNECTING)
                    self.metrics.errors["reconnect_failed"] += 1
                    log.warning("%s: reconnect failed: %s", self.exchange, exc)

    async def _heartbeat(self) -> None:
        p = self.policy
        tick = min(p.idle_timeout / 4, p.ping_interval or p.idle_timeout, 1.0)
        while not self._closing:
            await asyncio.sleep(tick)
            conn = self._conn
            if conn is None or not conn.is_open:
                continue
            now = time.monotonic()
            if (time.monotonic_ns() - conn.last_rx_ns) / 1e9 > p.idle_timeout:
                # Silence: the server or the path is gone even if TCP has not noticed.
                self.metrics.errors["idle_timeout"] += 1
                log.warning(
                    "%s: no data for %.1fs; dropping the connection", self.exchange, p.idle_timeout
                )
                conn.abort()
                continue
            if p.ping_interval is not None and now - self._last_ping >= p.ping_interval:
                self._last_ping = now
                if p.ping_message is not None:
                    await self._send_text(p.ping_message())
                conn.ping()
            if p.max_connection_age is not None and now - conn.opened_at >= p.max_connection_age:
                await self._rollover()

    async def _rollover(self) -> None:
        """Make-before-break: open and subscribe a new connection, then retire the old one."""
        try:
            await self._open()
            self.metrics.rollovers += 1
        except (OSError, HftwsError) as exc:
            log.warning("%s: rollover failed (%s); keeping the old connection", self.exchange, exc)
            self.metrics.errors["rollover_failed"] += 1
            if self._conn is not None:
                self._set_state(
                    ConnectionState.SUBSCRIBED if self.subscriptions else ConnectionState.CONNECTED
                )  # type: ignore[attr-defined]

    # -- hooks used by the mixins ---------------------------------------------------------------

    def _subscriptions_changed(self) -> None:
        if self.state in (ConnectionState.CONNECTED, ConnectionState.SUBSCRIBED):
            has = bool(self.subscriptions)  # type: ignore[attr-defined]
            self._set_state(ConnectionState.SUBSCRIBED if has else ConnectionState.CONNECTED)

    def _connection_ready(self) -> bool:
        return self._conn is not None and self._conn.is_open

    async def _send_text(self, text: str) -> None:
        await self._limiter.acquire()  # type: ignore[attr-defined]
        conn = self._conn
        if conn is None:
            raise HftwsError("not connected")
        conn.send_text(text)

    def stats(self) -> dict[str, object]:
        """Metrics and state as plain data."""
        snap = self.metrics.snapshot()
        snap["state"] = self.state.value
        snap["subscriptions"] = sorted(map(str, self.subscriptions))  # type: ignore[attr-defined]
        return snap
