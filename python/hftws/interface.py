"""``BaseWebSocketInterface``: one exchange connection, composed of four parts.

- the **policy** (:class:`~hftws.policy.ConnectionPolicy`): endpoints, heartbeat, limits,
  backoff; plain data;
- the **exchange protocol** (:class:`~hftws.venues.ExchangeProtocol`): request formats, ack
  matching, the application ping (in the policy it builds);
- the **authenticator** (:class:`~hftws.auth.Authenticator`): the URL, the steps after
  connecting, request signing, what an auth error means, its own keep-alive task;
- the **subscription set** (:class:`~hftws.subscriptions.SubscriptionSet`): active, pending
  and refused streams, as data.

The connection itself owns the socket and the tasks:

- reader: the transport (``hftws.transport``, an asyncio shell over the sans-I/O
  ``hftws.protocol.ClientProtocol``) hands every socket read to the Rust codec and calls back
  with whole messages;
- processor: runs synchronously in that callback: each message goes through the handler's
  template method to the user's callbacks and, for ``async for`` consumers, into a bounded
  queue whose overflow policy is explicit and counted;
- heartbeat task: application pings on the policy's interval, an idle watchdog (no byte for
  ``idle_timeout`` aborts the socket) and the connection-age limit (make-before-break);
- supervisor task: after any close it reconnects with backoff (immediately for the close
  codes the policy names), re-authenticates and re-subscribes. The backoff resets once a
  connection is subscribed and data flows (``ReconnectPolicy.reset_after_reads``).

States (``hftws.lifecycle.CONNECTION_TRANSITIONS``, nothing else changes them): idle ->
connecting -> connected -> subscribed -> reconnecting -> ... -> closed.

The parts are consulted on connect, subscribe, ack and ping, never per data message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, ClassVar, Generic, TypeVar

from hftws._core import BookStatus, OrderBook, StreamDecoder
from hftws.auth.base import Authenticator, NoAuth
from hftws.errors import ConnectError, HftwsError, SubscriptionError, WelcomeTimeout
from hftws.event_queue import EventQueue, Overflow
from hftws.events import MessageType
from hftws.handlers.base import BaseMessageHandler
from hftws.lifecycle import CONNECTION_TRANSITIONS, ConnectionState, StateMachine
from hftws.policy import Backoff, ConnectionPolicy
from hftws.protocol import BookRegistration, Recorder
from hftws.rate_limit import RateLimiter, SlidingWindowLimiter
from hftws.rest import RestClient
from hftws.subscriptions import (
    AckOutcome,
    ResultCallback,
    Subscription,
    SubscriptionSet,
)
from hftws.transport import WebSocketConnection, connect
from hftws.venues.base import Endpoint, ExchangeProtocol

__all__ = ["ACK_TIMEOUT", "BaseWebSocketInterface", "ConnectionState", "rest_root"]

log = logging.getLogger("hftws.interface")

ACK_TIMEOUT = 5.0
E = TypeVar("E")


def rest_root(url: str) -> str:
    """The REST host root: ``rest_url`` means the same everywhere (books, private streams).

    A trailing ``/api/v4`` (what Gate private handlers used to expect) is dropped, so old
    configurations keep working; every REST path is absolute from the root.
    """
    url = url.rstrip("/")
    return url.removesuffix("/api/v4")


class BaseWebSocketInterface(Generic[E]):
    """One exchange connection: connect, subscribe, read, process, heartbeat, reconnect, close.

    ``E`` is the type of the events its callbacks and ``async for`` receive. The parts come
    from the class (``protocol_class``, ``_make_authenticator``: the connection and auth mixins
    provide them) or are passed in (``exchange_protocol=``, ``authenticator=``).
    """

    #: Message handler built when none is given.
    handler_class: ClassVar[type[BaseMessageHandler]]
    #: The exchange protocol built when none is given (connection mixins set it).
    protocol_class: ClassVar[type[ExchangeProtocol]] = ExchangeProtocol
    exchange: ClassVar[str] = ""
    #: Exchange of the fused Rust decoder (``hftws.ws.StreamDecoder``): when set, payloads are
    #: decoded in the transport's call and the handler receives typed events, not bytes.
    stream_decoder: ClassVar[str | None] = None
    DEFAULT_URL: ClassVar[str] = ""
    DEFAULT_REST_URL: ClassVar[str] = ""

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
        exchange_protocol: ExchangeProtocol | None = None,
        authenticator: Authenticator | None = None,
        **policy_overrides: Any,
    ) -> None:
        self.exchange_protocol = exchange_protocol or self.protocol_class()
        proto = self.exchange_protocol
        base = policy or proto.default_policy(url or self.DEFAULT_URL or proto.default_url)
        if url is not None and policy is not None:
            base = dataclasses.replace(base, url=url)
        base = base.with_overrides(**policy_overrides)
        EventQueue(queue_size, overflow, lambda: None)  # validates the options up front
        self.policy: ConnectionPolicy = base
        #: Policy fields the caller set: a server-announced value (``Endpoint.policy``) never
        #: overrides them.
        self._explicit_policy = frozenset(policy_overrides) | (
            frozenset(f.name for f in dataclasses.fields(ConnectionPolicy))
            if policy
            else frozenset()
        )
        #: The endpoint of the current (or next) socket, as resolved before connecting.
        self._endpoint_info = Endpoint(self.policy.url)
        #: Resolved when the server's greeting arrives (exchanges that greet, e.g. KuCoin).
        self._greeting: asyncio.Future[None] | None = None
        #: monotonic deadline for the answer to the last application ping (None: none due).
        self._pong_due: float | None = None
        self._rest_client: RestClient | None = None
        self._rest_url = rest_root(rest_url or self.DEFAULT_REST_URL or proto.default_rest_url)
        self.handler = handler or self.handler_class()
        self.metrics = self.handler.metrics
        self.subscription_set = SubscriptionSet(self.policy.max_subscriptions)
        self.auth: Authenticator = authenticator or self._make_authenticator()
        self.auth.bind(self)
        self._lifecycle: StateMachine[ConnectionState] = StateMachine(
            ConnectionState.IDLE, CONNECTION_TRANSITIONS
        )
        self.close_code: int | None = None
        self._ssl = ssl_context
        self._conn: WebSocketConnection | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._lost = asyncio.Event()
        self._backoff = Backoff(self.policy.reconnect)
        #: (connection, its data-read count) when it became SUBSCRIBED: data since then resets
        #: the backoff when it drops.
        self._subscribed_mark: tuple[WebSocketConnection, int] | None = None
        self._events: EventQueue | None = None
        self._queue_size = queue_size
        self._overflow = overflow
        self._raw_listeners: list[Callable[[int, bytes, int], Any]] = []
        self._last_ping = 0.0
        self._books: dict[str, BookRegistration] = {}
        self._recorder: Recorder | None = None
        #: The decoder a replay feeds (built on first use, with the registered books).
        self._replay_decoder: StreamDecoder | None = None
        self._waiters: dict[object, asyncio.Future[AckOutcome]] = {}
        rate = self.policy.max_messages_per_second
        self._limiter = SlidingWindowLimiter(rate) if self.policy.strict_rate else RateLimiter(rate)
        #: (connection, its pings and pongs already charged to the limiter).
        self._controls_charged: tuple[WebSocketConnection | None, int] = (None, 0)
        # The authenticator sees errors first (a rejected token fails the pending requests);
        # refusals arrive as acks (MEXC) or as error objects echoing the request id (Gate).
        self.handler._on_internal(MessageType.ERROR, self.auth.on_server_error)
        self.handler._on_internal(MessageType.SUBSCRIBE, self._on_ack)
        self.handler._on_internal(MessageType.ERROR, self._on_ack)
        # Application pongs (and greetings) answer the heartbeat and the connect step.
        self.handler._on_internal(MessageType.PING, self._on_keepalive)
        self.handler._on_internal(MessageType.ERROR, self._on_greeting_error)

    def _make_authenticator(self) -> Authenticator:
        """The authenticator built when none is given (auth mixins override; default public)."""
        return NoAuth()

    # -- parts, as the authenticator sees them (hftws.auth.AuthHost) ------------------------------

    @property
    def rest_url(self) -> str:
        """REST host root of this exchange (``https://api.gateio.ws``)."""
        return self._rest_url

    @property
    def rest(self) -> RestClient:
        """This connection's REST client (endpoint tokens), created on first use."""
        if self._rest_client is None:
            self._rest_client = RestClient()
        return self._rest_client

    async def _close_rest(self) -> None:
        rest, self._rest_client = self._rest_client, None
        if rest is not None:
            await rest.close()

    @property
    def closing(self) -> bool:
        return self._closing

    @property
    def state(self) -> ConnectionState:
        return self._lifecycle.state

    # -- lifecycle ------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the connection, authenticate and subscribe; then keep it alive.

        Raises a :class:`~hftws.errors.ConnectError` (an ``HftwsError``) or another
        ``HftwsError`` (``AuthenticationError``...) if the first attempt fails; everything
        acquired for it (REST sessions, tokens) is released. Later drops reconnect.
        """
        if self.state not in (ConnectionState.IDLE, ConnectionState.CLOSED):
            return
        self._closing = False
        try:
            await self._open_checked()
        except BaseException:
            self._set_state(ConnectionState.CLOSED)
            await self.auth.close()
            await self._close_rest()
            raise
        self._spawn(self._supervise(), "supervisor")
        self._spawn(self._heartbeat(), "heartbeat")
        keepalive = self.auth.keepalive()
        if keepalive is not None:
            self._spawn(keepalive, "auth")

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
        await self.auth.close()
        await self._close_rest()
        self._set_state(ConnectionState.CLOSED)
        self._end_queue()

    async def __aenter__(self) -> BaseWebSocketInterface[E]:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def on_state_change(self, callback: Callable[[ConnectionState], Any]) -> None:
        """Call ``callback(state)`` on every state change (books use it to resync)."""
        self._lifecycle.listen(callback)

    def on_subscription_result(self, callback: ResultCallback) -> None:
        """Call ``callback(subscription, ok, reason)`` whenever the exchange confirms or refuses
        a subscription (first subscribe and every re-subscribe after a reconnect)."""
        self.subscription_set.on_result(callback)

    def on_raw(self, callback: Callable[[int, bytes, int], Any]) -> None:
        """Call ``callback(opcode, payload, recv_ns)`` for every message before it is handled
        (recording taps; ``_on_messages`` replays such frames through the same pipeline)."""
        self._raw_listeners.append(callback)

    @property
    def connected(self) -> bool:
        return self._conn is not None and self._conn.is_open

    # -- callbacks and async iteration ----------------------------------------------------------

    def on(self, mtype: MessageType, callback: Callable[[E], Any]) -> Callable[[E], Any]:
        """Call ``callback(event)`` for every message of type ``mtype``."""
        self.handler.on(mtype, callback)
        return callback

    def __aiter__(self) -> AsyncIterator[E]:
        if self._events is None:
            self._events = EventQueue(self._queue_size, self._overflow, self._count_drop)
            self.handler.on_any(self._events.put)
        return self._events.iterate()

    def _count_drop(self) -> None:
        self.metrics.dropped += 1

    def _end_queue(self) -> None:
        if self._events is not None:
            self._events.close()
        self.handler.end_reads()

    # -- subscriptions --------------------------------------------------------------------------

    @property
    def subscriptions(self) -> frozenset[Subscription]:
        """Streams this connection keeps (re)subscribed."""
        return frozenset(self.subscription_set.active)

    @property
    def refused(self) -> set[Subscription]:
        """Streams the exchange refused (never retried)."""
        return self.subscription_set.refused

    @property
    def capacity(self) -> int | None:
        """How many more subscriptions this connection takes (None: unlimited)."""
        return self.subscription_set.capacity

    @property
    def route(self) -> str:
        """The endpoint path this connection serves (``""`` unless the exchange splits its
        streams over paths, like Binance USDⓈ-M ``/public`` and ``/market``)."""
        return self.exchange_protocol.route_of_url(self.policy.url)

    def accepts(self, sub: Subscription) -> bool:
        """Can this connection carry ``sub``? (False: it belongs on another route.)"""
        needed = self.exchange_protocol.route_of(sub)
        return not needed or needed == self.route

    def set_route(self, route: str) -> None:
        """Point a connection that has not connected yet at ``route`` (managers do this for
        the shards they open per route)."""
        if self.state is not ConnectionState.IDLE:
            raise HftwsError(f"{self.exchange}: cannot change the route of a used connection")
        url = self.exchange_protocol.url_for_route(self.policy.url, route)
        self.policy = dataclasses.replace(self.policy, url=url)

    async def subscribe(self, *subs: Subscription, timeout: float = ACK_TIMEOUT) -> None:
        """Subscribe (or remember, when not connected yet) and wait for the acks.

        Raises SubscriptionError naming refused or unconfirmed streams (the others stay), or
        ``AuthenticationError`` when the refusal was about our credentials.
        """
        misrouted = [s for s in subs if not self.accepts(s)]
        if misrouted:
            # The exchange would accept them and deliver nothing (Binance USDⓈ-M paths).
            names = ", ".join(sorted(map(str, misrouted)))
            raise SubscriptionError(
                f"{self.exchange}: {names} not served on /{self.route} ({self._endpoint()}); "
                "subscribe through a WebSocketManager, which opens a connection per route",
                misrouted,
            )
        new = self.subscription_set.add(subs)
        if not new or not self._connection_ready():
            return
        try:
            for attempt in (0, 1):
                self.auth.begin_request()
                try:
                    await self._send_and_confirm(new, timeout=timeout, raise_on_refusal=True)
                    return
                except SubscriptionError as exc:
                    if not await self.auth.judge_refusal(exc, attempt):
                        raise
                    new = sorted(exc.refused)
                    self.subscription_set.restore(new)
        finally:
            self._subscriptions_changed()

    async def unsubscribe(self, *subs: Subscription, timeout: float = ACK_TIMEOUT) -> None:
        """Stop streams; they are not re-sent after a reconnect."""
        gone = self.subscription_set.remove(subs)
        if gone and self._connection_ready():
            sign = self.auth.sign
            for request in self.exchange_protocol.subscription_requests(gone, True, sign):
                await self._send_text(request.text)
        self._subscriptions_changed()

    @classmethod
    def depth_subscription(cls, symbol: str, **options: str) -> Subscription:
        """The incremental depth stream of ``symbol`` (exchange options: interval...)."""
        return cls.protocol_class.depth_subscription(symbol, **options)

    @classmethod
    def trades_subscription(cls, symbol: str, **options: str) -> Subscription:
        """The public trade stream of ``symbol``."""
        return cls.protocol_class.trades_subscription(symbol, **options)

    @classmethod
    def ticker_subscription(cls, symbol: str, **options: str) -> Subscription:
        """The best bid/ask stream of ``symbol``."""
        return cls.protocol_class.ticker_subscription(symbol, **options)

    async def subscribe_depth(self, symbol: str, **options: str) -> None:
        """Incremental depth of ``symbol`` (exchange options such as the interval)."""
        await self.subscribe(self.depth_subscription(symbol, **options))

    async def subscribe_trades(self, symbol: str, **options: str) -> None:
        """Public trades of ``symbol``."""
        await self.subscribe(self.trades_subscription(symbol, **options))

    async def subscribe_ticker(self, symbol: str, **options: str) -> None:
        """Best bid/ask of ``symbol``."""
        await self.subscribe(self.ticker_subscription(symbol, **options))

    async def _resubscribe(self) -> None:
        """Send the whole set again (after a (re)connect); refusals are reported, not raised."""
        subs = self.subscription_set
        wanted = subs.snapshot()
        if wanted and self.auth.session_valid:
            await self._send_and_confirm(wanted, timeout=ACK_TIMEOUT, raise_on_refusal=False)
        if not self.auth.session_valid:
            # The socket's credentials died (a stale listenKey): keep the wanted streams for
            # the next attempt and fail this one.
            subs.restore(wanted)
            raise self.auth.session_error()

    async def _send_and_confirm(
        self, subs: list[Subscription], *, timeout: float, raise_on_refusal: bool
    ) -> None:
        loop = asyncio.get_running_loop()
        subset = self.subscription_set
        waits: list[tuple[object, list[Subscription], asyncio.Future[AckOutcome]]] = []
        requests = self.exchange_protocol.subscription_requests(subs, False, self.auth.sign)
        confirmed: set[Subscription] = set()
        refused: set[Subscription] = set()
        reasons: list[str] = []
        try:
            for request in requests:
                fut: asyncio.Future[AckOutcome] = loop.create_future()
                subset.track(request.key, request.covered)
                self._waiters[request.key] = fut
                waits.append((request.key, request.covered, fut))
                await self._send_text(request.text)
            async with asyncio.timeout(timeout):
                for _key, _covered, fut in waits:
                    _, ok, bad, reason = await asyncio.shield(fut)
                    confirmed.update(ok)
                    if bad:
                        refused.update(bad)
                        reasons.append(reason)
        except TimeoutError:
            for _key, covered, fut in waits:
                if not fut.done():
                    refused.update(covered)
                    reasons.append(f"no ack within {timeout:g}s")
        finally:
            for key, _covered, _fut in waits:
                subset.untrack(key)
                self._waiters.pop(key, None)
        subset.confirm(sorted(confirmed - refused))
        if refused:
            reason = "; ".join(dict.fromkeys(reasons))
            subset.refuse(refused, reason)
            self.metrics.errors["subscription_refused"] += len(refused)
            names = ", ".join(sorted(map(str, refused)))
            log.warning("%s: subscription refused: %s (%s)", self.exchange, names, reason)
            if raise_on_refusal:
                raise SubscriptionError(
                    f"{self.exchange}: refused by {self._endpoint()}: {names} ({reason})",
                    refused,
                )

    def _on_ack(self, event: Any) -> None:
        """Internal SUBSCRIBE/ERROR listener: resolve the request an ack answers."""
        outcomes = self.exchange_protocol.ack_outcome(event, self.subscription_set.pending)
        for outcome in outcomes:
            fut = self._waiters.get(outcome[0])
            if fut is not None and not fut.done():
                fut.set_result(outcome)

    def fail_pending(self, reason: str) -> None:
        """Refuse every pending request now (the socket will never answer them)."""
        for key, covered in list(self.subscription_set.pending.items()):
            fut = self._waiters.get(key)
            if fut is not None and not fut.done():
                fut.set_result((key, frozenset(), frozenset(covered), reason))

    # -- connection internals -------------------------------------------------------------------

    def _set_state(self, state: ConnectionState) -> None:
        self._lifecycle.move(state)

    def _endpoint(self) -> str:
        """host:port of the WebSocket endpoint (never the query: it may carry a token)."""
        from urllib.parse import urlsplit

        url = self._endpoint_info.url or self.policy.url
        parts = urlsplit(url)
        return parts.netloc or urlsplit(self.policy.url).netloc or self.policy.url

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        full = f"hftws-{self.exchange}-{name}"
        if any(t.get_name() == full and not t.done() for t in self._tasks):
            coro.close()  # already running (a reconnect after close + connect)
            return
        task = asyncio.create_task(coro, name=full)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open_checked(self) -> WebSocketConnection:
        """``_open`` with ConnectError texts naming the exchange and holding no token of the
        authenticator's (a URL in the text may carry a listenKey)."""
        try:
            return await self._open()
        except ConnectError as exc:
            text = str(exc)
            clean = self.auth.redact(text)
            prefix = f"{self.exchange}: "
            if not clean.startswith(prefix):
                clean = prefix + clean
            if clean == text:
                raise
            raise type(exc)(clean) from None

    async def _connection_url(self) -> str:
        """URL of the next connection: the exchange protocol resolves the endpoint (KuCoin
        asks for a token), then the authenticator may add a token (a listenKey)."""
        endpoint = await self.exchange_protocol.resolve_endpoint(self.policy.url, self)
        self._endpoint_info = endpoint
        announced = {k: v for k, v in endpoint.policy if k not in self._explicit_policy}
        if announced:
            self.policy = dataclasses.replace(self.policy, **announced)
        return await self.auth.connection_url(endpoint.url)

    def _on_greeting_error(self, event: Any) -> None:
        """Internal ERROR listener: an error frame before the greeting fails the connect."""
        greeting = self._greeting
        if greeting is not None and not greeting.done():
            code = getattr(event, "code", None)
            text = getattr(event, "message", None) or ""
            greeting.set_exception(
                ConnectError(
                    f"{self.exchange}: {self._endpoint()} answered error {code} {text}".rstrip()
                )
            )

    def _on_keepalive(self, event: Any) -> None:
        """Internal PING listener: an application pong (or greeting) arrived."""
        self._pong_due = None
        greeting = self._greeting
        if (
            greeting is not None
            and not greeting.done()
            and self.exchange_protocol.is_greeting(event, self._endpoint_info)
        ):
            greeting.set_result(None)

    async def _await_greeting(self, conn: WebSocketConnection) -> None:
        """Wait for the server's greeting (sent right after the upgrade, §2.2 for KuCoin)."""
        timeout = self.exchange_protocol.greeting_timeout
        greeting = self._greeting
        if timeout is None or greeting is None:
            return
        try:
            async with asyncio.timeout(timeout):
                # A socket the server closes instead (an expired token) fails at once.
                await asyncio.wait((greeting, conn.closed), return_when=asyncio.FIRST_COMPLETED)
            if not greeting.done():
                code, reason = conn.closed.result()
                raise ConnectError(
                    f"{self.exchange}: {self._endpoint()} closed before the welcome "
                    f"({code} {reason})".rstrip()
                )
            greeting.result()  # an error frame instead of the welcome raises here
        except ConnectError:
            conn.abort()
            raise
        except TimeoutError:
            self.metrics.errors["welcome_timeout"] += 1
            conn.abort()
            raise WelcomeTimeout(
                f"{self.exchange}: no welcome from {self._endpoint()} within {timeout:g}s"
            ) from None
        finally:
            self._greeting = None
            if greeting.done() and not greeting.cancelled():
                greeting.exception()  # retrieved: never reported as "never retrieved"

    async def _open(self) -> WebSocketConnection:
        # A rollover (make-before-break) keeps serving on the old socket while the new one
        # opens: the connection stays in its state (books on it stay in sync).
        old_conn = self._conn
        rolling = (
            old_conn is not None
            and old_conn.is_open
            and self.state in (ConnectionState.CONNECTED, ConnectionState.SUBSCRIBED)
        )
        if not rolling:
            self._set_state(ConnectionState.CONNECTING)
        holder: list[WebSocketConnection] = []

        def closed(code: int, reason: str) -> None:
            # A failed handshake closes before `connect` returns: nothing to report then.
            if holder:
                self._on_closed(holder[0], code, reason)

        # Raw taps (recording) need the payload bytes, so such connections decode in Python.
        fused = self.stream_decoder if not self._raw_listeners else None
        url = await self._connection_url()
        if self.exchange_protocol.greeting_timeout is not None:
            # Made before the upgrade: the greeting may come in the upgrade's own read.
            self._greeting = asyncio.get_running_loop().create_future()
        conn = await connect(
            url,
            on_messages=self.handler.deliver if fused else self._on_messages,
            on_closed=closed,
            headers=self._connection_headers(),
            compression=self.policy.compression,
            max_message_size=self.policy.max_message_size,
            open_timeout=self.policy.open_timeout,
            ssl_context=self._ssl,
            exchange=fused,
            books=self._books if fused else None,
            recorder=self._recorder if fused else None,
            router=self.handler.native_router if fused else None,
        )
        # Before `holder` knows it: a socket that never greets is not reported as a drop.
        await self._await_greeting(conn)
        holder.append(conn)
        old, self._conn = self._conn, conn
        if fused:
            # Books registered while the upgrade was in flight went only into self._books.
            for symbol, (book, emit, top_only, notify) in self._books.items():
                conn.register_book(symbol, book, emit=emit, top_only=top_only, notify=notify)
        self._lost.clear()
        self._last_ping = time.monotonic()
        self._pong_due = None
        self.close_code = None
        if not rolling:
            self._set_state(ConnectionState.CONNECTED)
        try:
            await self.auth.after_connect()
            await self._resubscribe()
        except BaseException:
            self._conn = old
            conn.abort()
            raise
        if old is not None and old is not conn:
            await old.close(timeout=self.policy.close_timeout)
        self._subscriptions_changed()
        return conn

    def _connection_headers(self) -> tuple[tuple[str, str], ...]:
        """Upgrade request headers: the policy's, plus any a connection adds that must stay
        out of the policy's repr (an API key)."""
        return self.policy.headers

    def _message_raw(self, opcode: int, payload: bytes) -> Any:
        """What the handler receives for one message (exchanges may wrap text frames)."""
        return payload

    def register_book(
        self,
        symbol: str,
        book: OrderBook,
        *,
        emit: bool = True,
        top_only: bool = False,
        notify: Callable[[BookStatus], object] | None = None,
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
        self._books[symbol] = (book, emit, top_only, notify)
        if self._conn is not None and self._conn.exchange is not None:
            self._conn.register_book(symbol, book, emit=emit, top_only=top_only, notify=notify)
        if self._replay_decoder is not None:
            self._replay_decoder.register_book(
                symbol, book, emit=emit, top_only=top_only, notify=notify
            )

    def unregister_book(self, symbol: str) -> bool:
        """Stop applying pushes for ``symbol`` in the decoder; True if it was registered."""
        found = self._books.pop(symbol, None) is not None
        if self._conn is not None and self._conn.exchange is not None:
            self._conn.unregister_book(symbol)
        if self._replay_decoder is not None:
            self._replay_decoder.unregister_book(symbol)
        return found

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
            for symbol, (book, emit, top_only, notify) in self._books.items():
                decoder.register_book(symbol, book, emit=emit, top_only=top_only, notify=notify)
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
            self.subscription_set.confirm(self.subscription_set.snapshot())

    def _on_events(self, events: list[Any], recv_ns: int) -> None:
        """Items of one socket read already decoded by the transport's ``StreamDecoder``
        (the handler counts the read and times it; live sockets call ``handler.deliver``
        directly)."""
        self.handler.deliver(events, recv_ns)

    def _on_messages(self, messages: list[tuple[int, bytes]], recv_ns: int) -> None:
        """Payloads of one socket read (no fused decoder): the handler decodes, routes,
        counts the read and times it."""
        raw_of = self._message_raw
        if self._raw_listeners:
            for opcode, payload in messages:
                for tap in self._raw_listeners:
                    tap(opcode, payload, recv_ns)
        self.handler._handle_payloads(
            [raw_of(opcode, payload) for opcode, payload in messages], recv_ns
        )

    def _on_closed(self, conn: WebSocketConnection, code: int, reason: str) -> None:
        metrics = self.metrics
        metrics.bytes_received += conn.bytes_received
        if conn is not self._conn:
            return  # an old connection retired by a rollover
        self.close_code = code
        if not self._closing:
            log.warning("%s connection closed (%s %s); reconnecting", self.exchange, code, reason)
        self._lost.set()

    def _data_reads(self, conn: WebSocketConnection) -> int:
        """Reads of ``conn`` that carried data: not only control frames, not an app pong
        (a server that only answers pings is not healthy)."""
        pongs = self.metrics.messages.get(MessageType.PING, 0)
        return conn.reads - conn.control_reads - pongs

    def _healthy(self, conn: WebSocketConnection) -> bool:
        """Did ``conn`` get subscribed and then receive data? (Resets the backoff.)"""
        needed = self.policy.reconnect.reset_after_reads
        mark = self._subscribed_mark
        if needed is None or mark is None or mark[0] is not conn:
            return False
        return self._data_reads(conn) - mark[1] >= needed

    async def _supervise(self) -> None:
        while not self._closing:
            await self._lost.wait()
            if self._closing:
                return
            conn = self._conn
            if conn is not None:
                self._backoff.connection_lasted(time.monotonic() - conn.opened_at)
                if self._healthy(conn):
                    self._backoff.reset()
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
                    await self._open_checked()
                    break
                except (OSError, HftwsError) as exc:
                    self._set_state(ConnectionState.RECONNECTING)
                    self.metrics.errors["reconnect_failed"] += 1
                    log.warning("%s: reconnect failed: %s", self.exchange, exc)

    async def _heartbeat(self) -> None:
        while not self._closing:
            # Re-read each round: a resolved endpoint may announce its own ping cadence.
            p = self.policy
            tick = min(p.idle_timeout / 4, p.ping_interval or p.idle_timeout, 1.0)
            if p.pong_timeout is not None:
                tick = min(tick, p.pong_timeout / 4)
            await asyncio.sleep(tick)
            conn = self._conn
            if conn is None or not conn.is_open:
                continue
            now = time.monotonic()
            due = self._pong_due
            if due is not None and now > due:
                # A ping went unanswered: the link is dead even if bytes still trickle in.
                self._pong_due = None
                self.metrics.errors["pong_timeout"] += 1
                log.warning(
                    "%s: no pong within %.1fs; dropping the connection",
                    self.exchange,
                    p.pong_timeout or 0.0,
                )
                conn.abort()
                continue
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
                    if p.pong_timeout is not None and self._pong_due is None:
                        self._pong_due = time.monotonic() + p.pong_timeout
                await self._send_ping(conn)
            if p.max_connection_age is not None and now - conn.opened_at >= p.max_connection_age:
                await self.rollover()

    async def rollover(self) -> None:
        """Make-before-break: open and subscribe a new connection, then retire the old one."""
        try:
            await self._open_checked()
            self.metrics.rollovers += 1
        except (OSError, HftwsError) as exc:
            log.warning("%s: rollover failed (%s); keeping the old connection", self.exchange, exc)
            self.metrics.errors["rollover_failed"] += 1
            live = (
                ConnectionState.CONNECTING,
                ConnectionState.CONNECTED,
                ConnectionState.SUBSCRIBED,
            )
            if self._conn is not None and self.state in live:
                self._set_state(
                    ConnectionState.SUBSCRIBED if self.subscriptions else ConnectionState.CONNECTED
                )

    _rollover = rollover

    def _subscriptions_changed(self) -> None:
        if self.state in (ConnectionState.CONNECTED, ConnectionState.SUBSCRIBED):
            has = bool(self.subscription_set.active)
            target = ConnectionState.SUBSCRIBED if has else ConnectionState.CONNECTED
            conn = self._conn
            if target is ConnectionState.SUBSCRIBED and conn is not None:
                mark = self._subscribed_mark
                if mark is None or mark[0] is not conn:
                    self._subscribed_mark = (conn, self._data_reads(conn))
            self._set_state(target)

    def _connection_ready(self) -> bool:
        return self._conn is not None and self._conn.is_open

    def _charge_controls(self) -> None:
        """Count the pings and pongs sent since the last request against the send limit."""
        conn = self._conn
        if conn is None:
            return
        seen_conn, seen = self._controls_charged
        if seen_conn is not conn:
            seen = 0
        sent = conn.protocol.controls_sent
        if sent > seen:
            self._limiter.note(sent - seen)
        self._controls_charged = (conn, sent)

    async def _send_ping(self, conn: WebSocketConnection) -> None:
        """A protocol ping, within the send limit (only the pongs that answer the server go
        out unthrottled: they cannot wait)."""
        self._charge_controls()
        await self._limiter.acquire()
        if not conn.is_open:
            return
        conn.ping()
        seen_conn, seen = self._controls_charged
        if seen_conn is conn:
            # Counted by acquire() already: not again as a control frame.
            self._controls_charged = (conn, seen + 1)

    async def _send_text(self, text: str) -> None:
        self._charge_controls()
        await self._limiter.acquire()
        conn = self._conn
        if conn is None:
            raise ConnectError(f"{self.exchange}: not connected to {self._endpoint()}")
        conn.send_text(text)

    def stats(self) -> dict[str, object]:
        """Metrics and state as plain data."""
        snap = self.metrics.snapshot()
        snap["state"] = self.state.value
        snap["subscriptions"] = sorted(map(str, self.subscriptions))
        return snap
