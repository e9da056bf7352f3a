"""The template-method message handler.

``_handle_message(raw)`` is the one entry point for every message of a connection: it asks
the exchange hook ``_detect_message_type`` what the message is, hands it to
``_route_message``, records the routing latency, and turns decoder errors into counted,
exchange-classified errors instead of exceptions that would kill the connection. Exchange
handlers fill in the two hooks; when the Rust core has already decoded a message (it carries a
``kind``), detection is a dictionary lookup and nothing is decoded twice.

User callbacks run synchronously on the event loop, picows-style: a callback that raises is
counted and logged and the stream goes on; a callback that returns a coroutine has it
scheduled as a task, whose failure is counted the same way.

Routing in Rust: a handler that keeps the default hooks owns a native ``hftws.Router``; every
registration is mirrored into it (per message type: library listeners, then user callbacks and
``async for``), and ``deliver(events, recv_ns)`` (the router's ``dispatch``) routes a whole
socket read natively: type from the event's kind, callbacks, counts and the per-read stage
timings, with no Python frame of the library per message. Handlers that override
``_detect_message_type``, ``_route_message`` or ``_handle_message`` keep the Python path.

Per read, where asked: ``on_batch(callback)`` gets the list of events one read produced
(after the per-event callbacks), and ``async for events in handler.reads():`` yields the same
lists through a bounded queue that drops (oldest by default) and counts the drops in
``metrics.dropped``: the socket is never paused for a slow consumer.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any, ClassVar

from hftws._core import HftwsError, Router
from hftws.event_queue import EventQueue, Overflow
from hftws.events import KIND_TO_TYPE, MessageType, message_type_of
from hftws.metrics import Metrics

log = logging.getLogger("hftws.handler")

Callback = Callable[[Any], Any]
#: ``callback(events)``: the events one socket read produced, in order.
BatchCallback = Callable[[list[Any]], Any]
#: Route order of the native router (a route index per message type).
_TYPES: tuple[MessageType, ...] = tuple(MessageType)
_INDEX = {t: i for i, t in enumerate(_TYPES)}
_KIND_INDEX = {kind: _INDEX[t] for kind, t in KIND_TO_TYPE.items()}


class BaseMessageHandler(ABC):
    """Routes decoded messages of one exchange connection to callbacks."""

    #: Exchange name, for logs and error classification.
    exchange: ClassVar[str] = ""
    #: Message types this handler delivers to user callbacks.
    ROUTES: ClassVar[frozenset[MessageType]] = frozenset()
    #: Event classes that carry several items (MEXC trade and ticker batches): delivered one
    #: item per callback call, like a list result.
    BATCHES: ClassVar[tuple[type[Iterable[Any]], ...]] = ()

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics or Metrics()
        self._callbacks: dict[MessageType, list[Callback]] = defaultdict(list)
        self._internal: dict[MessageType, list[Callback]] = defaultdict(list)
        self._any: list[Callback] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        #: The frame being handled, for internal listeners that need the bytes (books).
        self.current_raw: Any = None
        #: The event ``_detect_message_type`` decoded, handed to ``_route_message``.
        self._event: Any = None
        cls = type(self)
        base = BaseMessageHandler
        #: Whether ``_handle_events`` may route a read's events in one loop: only when the
        #: template hooks are the defaults (their per-message behaviour is then known).
        self._one_loop = (
            cls._handle_message is base._handle_message
            and cls._detect_message_type is base._detect_message_type
            and cls._route_message is base._route_message
        )
        self._converts = cls._convert is not base._convert
        self._fan_out: tuple[type[Iterable[Any]], ...] = (tuple, *self.BATCHES)
        self._batch: list[BatchCallback] = []
        #: Events of the read being handled on the Python path, when batches are wanted.
        self._batch_buf: list[Any] | None = None
        self._read_queues: list[EventQueue] = []
        #: The native router (default hooks only), and what hands it a read: the transport
        #: calls ``deliver(events, recv_ns)`` directly.
        self._router: Router | None = None
        self.deliver: Callable[[Sequence[Any], int], None] = self._handle_events
        #: The router when ``deliver`` is its ``dispatch``: a transport may then decode and
        #: route a read in one Rust call (``StreamDecoder.feed_routed``).
        self.native_router: Router | None = None
        if self._one_loop:
            latency = self.metrics.latency
            router = Router(
                list(_TYPES),
                _KIND_INDEX,
                _INDEX[MessageType.UNKNOWN],
                [t for t in self.BATCHES if isinstance(t, type)],
                self._fallback,
                self._callback_failed,
                self._record_error,
                self._schedule,
                latency["decode"],
                latency["dispatch"],
                latency["callback"],
            )
            self.metrics.attach(router)
            self._router = router
            if cls._handle_events is base._handle_events:
                # Straight to Rust: no Python frame of the library per read.
                self.deliver = router.dispatch
                self.native_router = router

    # -- registration ------------------------------------------------------------------------

    def on(self, mtype: MessageType, callback: Callback) -> Callback:
        """Call ``callback(event)`` for every message of type ``mtype``."""
        if mtype not in self.ROUTES:
            allowed = ", ".join(sorted(t.name for t in self.ROUTES))
            raise ValueError(
                f"{type(self).__name__} does not route {mtype.name}; use one of {allowed}"
            )
        self._callbacks[mtype].append(callback)
        self._sync()
        return callback

    def on_any(self, callback: Callback) -> Callback:
        """Call ``callback(event)`` for every routed message (used by ``async for``)."""
        self._any.append(callback)
        self._sync()
        return callback

    def on_batch(self, callback: BatchCallback) -> BatchCallback:
        """Call ``callback(events)`` once per socket read with the routed events it produced
        (in order, MEXC batches as their items, after the per-event callbacks); reads that
        produced none make no call. Raises and coroutine results are handled as for
        ``on``."""
        self._batch.append(callback)
        self._sync()
        return callback

    def remove(self, callback: Callable[..., Any]) -> None:
        """Unregister ``callback`` wherever it was registered."""
        for lst in (*self._callbacks.values(), self._any, self._batch):
            while callback in lst:
                lst.remove(callback)
        self._sync()

    async def reads(
        self, size: int = 1024, overflow: Overflow = "drop_oldest"
    ) -> AsyncIterator[list[Any]]:
        """``async for events in handler.reads():`` the events of one socket read per item.

        Bounded: at most ``size`` reads wait; beyond that the oldest (or newest) is dropped
        and counted in ``metrics.dropped`` (reading the socket never waits for the consumer).
        Ends after :meth:`end_reads` (the connection's close) once the queue is drained.
        """
        queue = EventQueue(size, overflow, self._count_drop)
        self._read_queues.append(queue)
        self.on_batch(queue.put)
        try:
            async for events in queue.iterate():
                yield events
        finally:
            self.remove(queue.put)
            self._read_queues.remove(queue)

    def end_reads(self) -> None:
        """End every ``reads()`` iteration once what is queued has been read."""
        for queue in self._read_queues:
            queue.close()

    def _count_drop(self) -> None:
        self.metrics.dropped += 1

    def _on_internal(self, mtype: MessageType, callback: Callback) -> None:
        """Library-internal listener (acks, pongs, errors), called before user callbacks."""
        self._internal[mtype].append(callback)
        self._sync()

    def _sync(self) -> None:
        """Mirror the registrations into the native router (a new table; a read being
        dispatched finishes with the one it started with)."""
        router = self._router
        if router is None:
            return
        routes = self.ROUTES
        table = [
            (
                list(self._internal.get(t, ())),
                [*self._callbacks.get(t, ()), *(self._any if t in routes else ())],
                t in routes,
            )
            for t in _TYPES
        ]
        batch = self._batch
        router.configure(
            table,
            self._convert if self._converts else None,
            None if not batch else batch[0] if len(batch) == 1 else self._call_batches,
        )

    def _call_batches(self, events: list[Any]) -> None:
        for cb in self._batch:
            self._call(cb, events)

    # -- the template method -----------------------------------------------------------------

    def _handle_message(self, raw: Any, recv_ns: int | None = None) -> MessageType:
        """Detect, route and time one message; never raises for bad input."""
        start = recv_ns if recv_ns is not None else time.monotonic_ns()
        self.current_raw = raw
        try:
            mtype = self._detect_message_type(raw)
        except HftwsError as exc:
            self._record_error(exc)
            return MessageType.ERROR
        metrics = self.metrics
        # MessageType is a StrEnum: the member itself is the string key, no .value lookup.
        metrics.count(mtype)
        metrics.latency["dispatch"].record(time.monotonic_ns() - start)
        try:
            self._route_message(mtype, raw)
        except HftwsError as exc:
            self._record_error(exc)
            return MessageType.ERROR
        return mtype

    def _handle_events(self, events: Sequence[Any], recv_ns: int) -> None:
        """Handle the events one socket read produced (the fused decoder's items, or a batch
        the native I/O mode drained).

        With the default hooks the native router does it all (see the module doc); handlers
        with their own hooks take ``_handle_message`` per event, timed per message. Either
        way the read is counted and its ``decode`` stage (receive -> here) recorded.
        """
        router = self._router
        if router is not None:
            router.dispatch(events, recv_ns)
            return
        metrics = self.metrics
        metrics.reads += 1
        metrics.latency["decode"].record(time.monotonic_ns() - recv_ns)
        self._handle_read(events, recv_ns)

    def _handle_payloads(self, raws: Sequence[Any], recv_ns: int) -> None:
        """Handle the payloads one socket read carried, not yet decoded (connections without
        the fused decoder: private streams, raw taps).

        With the native router each payload is decoded here (``_parse``; an undecodable one is
        counted and skipped) and the read's events are routed like a fused read's; otherwise
        ``_handle_message`` takes each payload.
        """
        router = self._router
        if router is None:
            metrics = self.metrics
            metrics.reads += 1
            metrics.latency["decode"].record(time.monotonic_ns() - recv_ns)
            self._handle_read(raws, recv_ns)
            return
        parse, events = self._parse, []
        for raw in raws:
            try:
                events.append(parse(raw))
            except HftwsError as exc:
                self._record_error(exc)
        router.dispatch(events, recv_ns)

    def _handle_read(self, raws: Iterable[Any], recv_ns: int) -> None:
        """The Python path for one read: ``_handle_message`` per item, then the batch."""
        callback_hist = self.metrics.latency["callback"]
        batch = self._batch_buf = [] if self._batch else None
        try:
            for raw in raws:
                self._handle_message(raw, recv_ns)
                callback_hist.record(time.monotonic_ns() - recv_ns)
        finally:
            self._batch_buf = None
        if batch:
            for cb in self._batch:
                self._call(cb, batch)

    def _fallback(self, item: Any, recv_ns: int) -> None:
        """The native router's way out for items without a kind (raw payloads the decoder
        refused, list results): the template method, then their share of the batch."""
        if not self._batch:
            self._handle_message(item, recv_ns)
            return
        batch = self._batch_buf = []
        try:
            self._handle_message(item, recv_ns)
        finally:
            self._batch_buf = None
        for cb in self._batch:
            self._call(cb, batch)

    def _detect_message_type(self, raw: Any) -> MessageType:
        """Exchange hook: what is ``raw``? (Raises HftwsError for undecodable input.)

        The default decodes once with ``_parse`` (unless the Rust pipeline already did: the
        event then carries a ``kind``, or a list result arrives as a tuple of records) and
        keeps the event for ``_route_message``.
        """
        known = self._kind_type(raw)
        if known is not None:
            self._event = raw
            return known
        event = raw if isinstance(raw, tuple) else self._parse(raw)
        self._event = event
        first = (event[0] if event else None) if isinstance(event, tuple) else event
        return MessageType.UNKNOWN if first is None else message_type_of(first.kind)

    def _route_message(self, mtype: MessageType, raw: Any) -> None:
        """Exchange hook: deliver the decoded event to the callbacks of ``mtype``.

        A list result (a tuple of records) fans out to one call per record; ``_convert``
        may turn each into a common event first.
        """
        event, self._event = self._event, None
        if isinstance(event, self._fan_out):
            for item in event:
                self._emit(mtype, self._convert(item))
        else:
            self._emit(mtype, self._convert(event))

    @abstractmethod
    def _parse(self, raw: Any) -> Any:
        """Exchange hook: decode one frame's payload (bytes, or str for text) in Rust."""

    def _convert(self, event: Any) -> Any:
        """Exchange hook: the object callbacks receive for ``event`` (default: itself)."""
        return event

    def _classify_error(self, exc: BaseException) -> str:
        """Exchange hook: a short error class for metrics (default: the exception type)."""
        return type(exc).__name__

    # -- helpers for subclasses --------------------------------------------------------------

    @staticmethod
    def _kind_type(raw: Any) -> MessageType | None:
        """The routing type of an event the Rust core already decoded, else None."""
        kind = getattr(raw, "kind", None)
        return message_type_of(kind) if isinstance(kind, str) else None

    def _record_error(self, exc: BaseException) -> None:
        self.metrics.errors[self._classify_error(exc)] += 1
        log.warning("%s: undecodable message: %s", self.exchange or type(self).__name__, exc)

    def _emit(self, mtype: MessageType, event: Any) -> None:
        """Deliver ``event`` to internal listeners, then user callbacks of ``mtype``."""
        for cb in self._internal.get(mtype, ()):
            cb(event)
        callbacks = self._callbacks.get(mtype)
        if callbacks:
            for cb in callbacks:
                self._call(cb, event)
        if mtype in self.ROUTES:
            for cb in self._any:
                self._call(cb, event)
            if self._batch_buf is not None:
                self._batch_buf.append(event)

    def _call(self, cb: Callable[..., Any], event: Any) -> None:
        try:
            result = cb(event)
        except Exception:
            self._callback_raised(cb)
            return
        # Most callbacks return None: skip the awaitable check for them.
        if result is not None:
            self._schedule(result)

    def _callback_raised(self, cb: Callable[..., Any]) -> None:
        """Called from the ``except`` of a callback call: count, log, go on."""
        self.metrics.callback_errors += 1
        log.exception("%s: callback %r raised; the stream goes on", self.exchange, cb)

    def _callback_failed(self, cb: Callable[..., Any], exc: BaseException) -> None:
        """The native router's report of a callback that raised ``exc``: count, log, go on."""
        self.metrics.callback_errors += 1
        log.error("%s: callback %r raised; the stream goes on", self.exchange, cb, exc_info=exc)

    def _schedule(self, result: object) -> None:
        """A callback's result: a coroutine (or other awaitable) runs as a task."""
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.metrics.callback_errors += 1
            log.error("%s: async callback failed", self.exchange, exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for the tasks of async callbacks still running."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
