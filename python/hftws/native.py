"""The native I/O mode: one exchange connection read by a Rust thread outside the GIL.

``NativeConnection`` wraps ``hftws.NativeFeed`` (``rust/py/native.rs``): the worker thread
owns the socket, the frame codec, the exchange decoder and the books, so a busy strategy
callback no longer delays the books. What stays in Python is what the asyncio mode keeps in
Python too, from the same parts:

- the exchange protocol (``hftws.venues``) builds the subscribe/unsubscribe frames and the
  application pings, and matches acks (``ack_outcome``);
- the exchange's message handler routes the other events (trades, tickers, acks) to the
  strategy callbacks, one ``_handle_events`` call per batch the worker queued;
- REST snapshots are fetched by ``OrderBookManager`` and loaded on the worker
  (``NativeBook.load_snapshot``).

Connection state is the worker's: it unlinks every book the moment the connection is lost,
reconnects with jittered backoff, re-sends the subscriptions and queues ``("up", epoch)``;
links are confirmed here from the acks, for that connection only.

``ws://`` and ``wss://`` URLs. TLS runs on the worker too (rustls with the ``ring`` provider):
certificates and host names are always verified, against the Mozilla CA set compiled into
the extension (``webpki-roots``; the system store is not read) or, with ``ca_file``, against
that PEM bundle only (it replaces the built-in roots, as ``ssl.create_default_context(
cafile=...)`` does; concatenate bundles to trust both). An ``ssl.SSLContext`` cannot be
handed to the worker: Python does not expose a context's trust store in full (the default
paths load lazily) and a context may turn verification off, which the native mode never
does; so ``ssl_context`` is refused here with a pointer to ``ca_file``. A refused
certificate, a hostname mismatch or a TLS alert fails that connect attempt with the reason
(``feed.last_error``, the ``("down", reason)`` item) and the worker retries with its backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from typing import Any

from hftws._core import BookStatus, NativeBook, NativeFeed
from hftws.auth.base import NoAuth
from hftws.errors import HftwsError, SubscriptionError
from hftws.events import MessageType
from hftws.handlers.base import BaseMessageHandler
from hftws.interface import ACK_TIMEOUT, rest_root
from hftws.manager import _handler_class
from hftws.rest import RestClient
from hftws.subscriptions import Subscription
from hftws.venues.base import ExchangeProtocol

__all__ = ["NativeBook", "NativeConnection", "NativeFeed"]

log = logging.getLogger("hftws.native")

#: Exchanges the native mode reads (KuCoin's URL, with its one-use token, is resolved here
#: before each connection and handed to the worker).
NATIVE_EXCHANGES = frozenset(
    {"gateio", "gateio_futures", "mexc", "binance", "binance_futures", "kucoin", "kucoin_futures"}
)

StatusListener = Callable[[NativeBook, BookStatus], None]
LinkListener = Callable[[bool, str], None]


class NativeConnection:
    """One exchange connection in the native I/O mode (see the module doc); ``await
    start()`` opens it."""

    feed: NativeFeed

    def __init__(
        self,
        exchange: str,
        *,
        url: str | None = None,
        rest_url: str | None = None,
        queue_capacity: int = 65_536,
        trace: int = 0,
        rest: RestClient | None = None,
        ca_file: str | os.PathLike[str] | None = None,
        **policy_overrides: Any,
    ) -> None:
        """``ca_file``: a PEM bundle trusted for ``wss://`` instead of the built-in public
        roots (a private CA; see the module doc)."""
        if policy_overrides.pop("ssl_context", None) is not None:
            raise HftwsError(
                f"{exchange}: the native I/O mode verifies TLS itself (rustls) and cannot use "
                "an ssl.SSLContext; pass the CA bundle as ca_file (native_ca_file= on "
                "OrderBookManager), or use io='asyncio'"
            )
        if exchange not in NATIVE_EXCHANGES:
            raise HftwsError(
                f"{exchange}: the native I/O mode supports "
                f"{', '.join(sorted(NATIVE_EXCHANGES))}; use io='asyncio'"
            )
        iface = _handler_class(exchange)
        decoder = iface.stream_decoder
        if decoder is None:
            raise HftwsError(f"{exchange}: no Rust stream decoder; use io='asyncio'")
        self.exchange = exchange
        self.protocol: ExchangeProtocol = iface.protocol_class()
        self.handler: BaseMessageHandler = iface.handler_class()
        policy = self.protocol.default_policy(url or iface.DEFAULT_URL or self.protocol.default_url)
        policy = policy.with_overrides(**policy_overrides)
        self.policy = policy
        self.rest_url = rest_root(
            rest_url or iface.DEFAULT_REST_URL or self.protocol.default_rest_url
        )
        self._decoder = decoder
        self._options: dict[str, Any] = {"queue_capacity": queue_capacity, "trace": trace}
        if ca_file is not None:
            self._options["ca_file"] = os.fspath(ca_file)
        self._rest = rest
        self._own_rest = rest is None
        self.auth = NoAuth()
        #: The endpoint is resolved before each connection (KuCoin's token).
        self._resolves = (
            type(self.protocol).resolve_endpoint is not ExchangeProtocol.resolve_endpoint
        )
        self._endpoint_task: asyncio.Task[None] | None = None
        #: Request key -> the subscriptions it covers, kept while subscribed: the worker
        #: re-sends the same frames after a reconnect, so their acks carry the same keys.
        self._requests: dict[object, list[Subscription]] = {}
        self._frames: dict[Subscription, list[tuple[str, str]]] = {}
        self._waiters: dict[Subscription, asyncio.Future[tuple[bool, str]]] = {}
        self._status_listeners: list[StatusListener] = []
        self._link_listeners: list[LinkListener] = []
        self._sub_listeners: list[Callable[[Subscription, bool, str], None]] = []
        self.dead: str | None = None
        self._loop = asyncio.get_running_loop()
        self._ping: asyncio.Task[None] | None = None
        self.handler._on_internal(MessageType.SUBSCRIBE, self._on_ack)
        self.handler._on_internal(MessageType.ERROR, self._on_ack)
        self._closed = False
        self._started = False

    async def start(self) -> None:
        """Start the worker (it connects at once and reconnects by itself)."""
        if self._started:
            return
        url = self.policy.url
        if self._resolves:
            url = (await self.protocol.resolve_endpoint(self.policy.url, self)).url
        policy, reconnect = self.policy, self.policy.reconnect
        self.feed = NativeFeed(
            self._decoder,
            url,
            headers=list(policy.headers),
            compression=policy.compression,
            max_message_size=policy.max_message_size,
            connect_timeout=policy.open_timeout,
            idle_timeout=policy.idle_timeout,
            reconnect_initial=reconnect.initial_delay,
            reconnect_max=reconnect.max_delay,
            reconnect_reset_after=reconnect.reset_after,
            fresh_url=self._resolves,
            # KuCoin: nothing is sent before the welcome (kucoin.md §2).
            greeting_timeout=self.protocol.greeting_timeout,
            **self._options,
        )
        self._started = True
        self._loop.add_reader(self.feed.fileno(), self._on_wake)
        if policy.ping_message is not None and policy.ping_interval:
            name = f"hftws-native-ping-{self.exchange}"
            self._ping = asyncio.create_task(self._pinger(), name=name)

    # -- what resolve_endpoint may use (hftws.venues.base.EndpointHost) ------------------------

    @property
    def rest(self) -> RestClient:
        if self._rest is None:
            self._rest = RestClient()
        return self._rest

    async def _next_endpoint(self) -> None:
        """Resolve the URL of the next connection (a fresh token), retrying with backoff."""
        delay = self.policy.reconnect.initial_delay
        while True:
            try:
                endpoint = await self.protocol.resolve_endpoint(self.policy.url, self)
            except (HftwsError, OSError, TimeoutError) as exc:
                log.warning("%s: endpoint for the next connection: %s", self.exchange, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.policy.reconnect.max_delay)
                continue
            self.feed.set_url(endpoint.url)
            return

    # -- listeners ---------------------------------------------------------------------------

    def on_book_status(self, callback: StatusListener) -> None:
        """``callback(book, status)`` for every status the worker reports for a book."""
        self._status_listeners.append(callback)

    def on_link(self, callback: LinkListener) -> None:
        """``callback(up, reason)`` when the connection comes up or goes down."""
        self._link_listeners.append(callback)

    def on_subscription_result(self, callback: Callable[[Subscription, bool, str], None]) -> None:
        """``callback(subscription, ok, reason)`` for every ack or refusal (resubscriptions
        after a reconnect included)."""
        self._sub_listeners.append(callback)

    # -- subscriptions -----------------------------------------------------------------------

    def depth_subscription(self, symbol: str, **options: str) -> Subscription:
        return self.protocol.depth_subscription(symbol, **options)

    async def subscribe(self, sub: Subscription, timeout: float = ACK_TIMEOUT) -> None:
        """Subscribe (re-sent by the worker after every reconnect) and wait for the ack;
        SubscriptionError when the exchange refuses it."""
        fut: asyncio.Future[tuple[bool, str]] = self._loop.create_future()
        self._waiters[sub] = fut
        frames = []
        for request in self.protocol.subscription_requests([sub], False):
            self._requests[request.key] = request.covered
            key = f"{sub.channel}|{','.join(sub.params)}|{request.key!r}"
            frames.append((key, request.text))
            self.feed.subscribe(key, request.text)
        self._frames[sub] = frames
        try:
            ok, reason = await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            # Never connected (a refused certificate, a refused connection): say why.
            down = "" if self.feed.connected else f" (not connected: {self.feed.last_error})"
            raise SubscriptionError(
                f"{self.exchange}: no answer to the subscription {sub} within {timeout:g}s"
                + (down if self.feed.last_error else "")
            ) from None
        finally:
            self._waiters.pop(sub, None)
        if not ok:
            await self.unsubscribe(sub)
            raise SubscriptionError(f"{self.exchange}: subscription {sub} refused ({reason})")

    async def unsubscribe(self, sub: Subscription) -> None:
        """Forget the subscription (no longer re-sent) and send its unsubscribe frame."""
        frames = self._frames.pop(sub, [])
        requests = self.protocol.subscription_requests([sub], True)
        texts = [r.text for r in requests]
        for i, (key, _text) in enumerate(frames):
            self.feed.unsubscribe(key, texts[i] if i < len(texts) else "")
        for request_key, covered in list(self._requests.items()):
            if sub in covered:
                del self._requests[request_key]

    def _on_ack(self, event: Any) -> None:
        for _key, ok_subs, bad_subs, reason in self.protocol.ack_outcome(event, self._requests):
            for sub in ok_subs:
                self._resolve(sub, True, "")
            for sub in bad_subs:
                self._resolve(sub, False, reason or "refused")

    def _resolve(self, sub: Subscription, ok: bool, reason: str) -> None:
        fut = self._waiters.get(sub)
        if fut is not None and not fut.done():
            fut.set_result((ok, reason))
        for cb in self._sub_listeners:
            try:
                cb(sub, ok, reason)
            except Exception:
                log.exception("subscription listener failed")

    # -- the worker's items ------------------------------------------------------------------

    def _on_wake(self) -> None:
        """The worker queued items: take them all in one call and dispatch them in order."""
        try:
            items = self.feed.drain()
        except Exception:
            log.exception("%s: native drain failed", self.exchange)
            return
        for tag, a, b in items:
            if tag == "events":
                self.handler._handle_events(a, b)
            elif tag == "book":
                for cb in self._status_listeners:
                    cb(a, b)
            elif tag == "up":
                # Links confirmed from now on are for this connection.
                self.feed.confirm_epoch(a)
                self._tell_link(True, "connected")
            elif tag == "down":
                if self._resolves and (self._endpoint_task is None or self._endpoint_task.done()):
                    name = f"hftws-native-endpoint-{self.exchange}"
                    self._endpoint_task = asyncio.create_task(self._next_endpoint(), name=name)
                self._tell_link(False, a)
            elif tag == "dead":
                self.dead = a
                log.error("%s: native worker died: %s", self.exchange, a)
                self._tell_link(False, a)

    def _tell_link(self, up: bool, reason: str) -> None:
        for cb in self._link_listeners:
            try:
                cb(up, reason)
            except Exception:
                log.exception("link listener failed")

    async def _pinger(self) -> None:
        """Application pings at the policy interval, built by the venue protocol."""
        make, interval = self.policy.ping_message, self.policy.ping_interval
        assert make is not None and interval  # checked before the task was made
        while True:
            await asyncio.sleep(interval)
            if self.feed.connected:
                self.feed.send_text(make())

    # -- lifecycle ---------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        return self.feed.stats()

    async def close(self, timeout: float = 2.0) -> None:
        """Stop the worker and join it (bounded); the books stay readable, out of sync."""
        if self._closed:
            return
        self._closed = True
        for task in (self._ping, self._endpoint_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._own_rest and self._rest is not None:
            await self._rest.close()
        if not self._started:
            return
        self._loop.remove_reader(self.feed.fileno())
        for fut in self._waiters.values():
            if not fut.done():
                fut.cancel()
        joined = self.feed.close(timeout)
        if not joined:
            log.warning("%s: native worker did not stop within %gs", self.exchange, timeout)
