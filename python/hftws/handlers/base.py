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
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from hftws._core import HftwsError
from hftws.events import KIND_TO_TYPE, MessageType, message_type_of
from hftws.metrics import Metrics

log = logging.getLogger("hftws.handler")

Callback = Callable[[Any], Any]


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

    # -- registration ------------------------------------------------------------------------

    def on(self, mtype: MessageType, callback: Callback) -> Callback:
        """Call ``callback(event)`` for every message of type ``mtype``."""
        if mtype not in self.ROUTES:
            allowed = ", ".join(sorted(t.name for t in self.ROUTES))
            raise ValueError(
                f"{type(self).__name__} does not route {mtype.name}; use one of {allowed}"
            )
        self._callbacks[mtype].append(callback)
        return callback

    def on_any(self, callback: Callback) -> Callback:
        """Call ``callback(event)`` for every routed message (used by ``async for``)."""
        self._any.append(callback)
        return callback

    def remove(self, callback: Callback) -> None:
        """Unregister ``callback`` wherever it was registered."""
        for lst in (*self._callbacks.values(), self._any):
            while callback in lst:
                lst.remove(callback)

    def _on_internal(self, mtype: MessageType, callback: Callback) -> None:
        """Library-internal listener (acks, pongs, errors), called before user callbacks."""
        self._internal[mtype].append(callback)

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
        messages = metrics.messages
        messages[mtype] = messages.get(mtype, 0) + 1
        metrics.latency["dispatch"].record(time.monotonic_ns() - start)
        try:
            self._route_message(mtype, raw)
        except HftwsError as exc:
            self._record_error(exc)
            return MessageType.ERROR
        return mtype

    def _handle_events(self, events: Sequence[Any], recv_ns: int) -> None:
        """Handle the events one socket read produced (the fused decoder's items).

        With the default hooks, one loop does per event what ``_handle_message`` does without
        its five Python frames: the type from the kind table, the count, internal listeners,
        user callbacks and ``async for``. The ``dispatch`` and ``callback`` latencies are then
        recorded once per read (receive -> first event typed, receive -> the read's last
        callback returned); counts stay per message. Batches, list results, raw payloads the
        decoder refused and handlers with their own hooks take ``_handle_message``.
        """
        metrics = self.metrics
        callback_hist = metrics.latency["callback"]
        if not self._one_loop:
            for event in events:
                self._handle_message(event, recv_ns)
                callback_hist.record(time.monotonic_ns() - recv_ns)
            return
        kinds, counts = KIND_TO_TYPE, metrics.messages
        internal, callbacks, any_cbs = self._internal, self._callbacks, self._any
        routes, fan_out = self.ROUTES, self._fan_out
        convert = self._convert if self._converts else None
        typed = False
        for event in events:
            kind = getattr(event, "kind", None)
            if kind.__class__ is not str or isinstance(event, fan_out):
                self._handle_message(event, recv_ns)
                continue
            mtype = kinds.get(kind, MessageType.UNKNOWN)
            self.current_raw = event
            counts[mtype] = counts.get(mtype, 0) + 1
            if not typed:
                metrics.latency["dispatch"].record(time.monotonic_ns() - recv_ns)
                typed = True
            if convert is not None:
                try:
                    event = convert(event)
                except HftwsError as exc:
                    self._record_error(exc)
                    continue
            for cb in internal.get(mtype, ()):
                cb(event)
            for cb in callbacks.get(mtype, ()):
                # _call inlined for the common case: a callback that returns None.
                try:
                    result = cb(event)
                except Exception:
                    self._callback_raised(cb)
                    continue
                if result is not None:
                    self._schedule(result)
            if any_cbs and mtype in routes:
                for cb in any_cbs:
                    self._call(cb, event)
        callback_hist.record(time.monotonic_ns() - recv_ns)

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

    def _call(self, cb: Callback, event: Any) -> None:
        try:
            result = cb(event)
        except Exception:
            self._callback_raised(cb)
            return
        # Most callbacks return None: skip the awaitable check for them.
        if result is not None:
            self._schedule(result)

    def _callback_raised(self, cb: Callback) -> None:
        """Called from the ``except`` of a callback call: count, log, go on."""
        self.metrics.callback_errors += 1
        log.exception("%s: callback %r raised; the stream goes on", self.exchange, cb)

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
