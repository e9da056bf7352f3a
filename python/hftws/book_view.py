"""What a strategy reads from a kept book, local (``LocalBook``) or across the bus
(``RemoteBook``): the readers, the state listeners and the out-of-sync bookkeeping.

Both keep a Rust ``OrderBook`` in ``self.book``; that book alone decides ``in_sync``. The
subclasses feed it (a socket, the bus) and resync it; this base only reads it and tells
listeners when its sync state changed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, Self

log = logging.getLogger("hftws.books")

#: What ``state`` shows for each Rust phase (``OrderBook.state``).
STATE_OF_PHASE = {
    "synced": "in_sync",
    "empty": "syncing",
    "unconfirmed": "syncing",
    "unlinked": "syncing",
    "out_of_sync": "out_of_sync",
}


class BookReader(Protocol):
    """What the view reads: an ``OrderBook``, or a ``NativeBook`` (the native I/O mode's
    published copy of a book kept on the worker thread)."""

    @property
    def in_sync(self) -> bool: ...
    @property
    def state(self) -> str: ...
    @property
    def sequence(self) -> int: ...
    @property
    def applied(self) -> int: ...
    def best_bid(self) -> tuple[float, float] | None: ...
    def best_ask(self) -> tuple[float, float] | None: ...
    def bbo(self) -> tuple[float, float, float, float]: ...
    def top(self, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]: ...
    def depth(
        self, n: int | None = None
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]: ...
    def mid(self) -> float | None: ...
    def spread(self) -> Any: ...


class BookView:
    """Readers and state listeners over ``self.book``; listeners receive the view itself."""

    exchange: str
    symbol: str
    book: BookReader
    # Each listener takes the concrete view (public signatures say so: ``on_state_change``
    # below, the subclasses' ``on_update``); stored loosely, called with ``self``.
    _listeners: list[tuple[Callable[[Any], Any], bool]]
    _state_listeners: list[Callable[[Any], Any]]

    def _init_view(self) -> None:
        #: Times the book came into sync (the first sync included).
        self.resyncs = 0
        #: (start_ns, end_ns or None while still out of sync).
        self.out_of_sync_windows: list[tuple[int, int | None]] = [(time.monotonic_ns(), None)]
        self._listeners = []
        self._state_listeners = []
        self._was_in_sync = False
        self._changed = asyncio.Event()

    # -- readers (no copy of the whole book) -----------------------------------------------

    @property
    def in_sync(self) -> bool:
        """True only when the Rust book says so: snapshot confirmed by the stream, continuous
        since, and its source (connection and subscription, or the bus) up."""
        return self.book.in_sync

    @property
    def state(self) -> str:
        """``in_sync``, ``syncing`` or ``out_of_sync`` (a view of the Rust state)."""
        return STATE_OF_PHASE[self.book.state]

    @property
    def sequence(self) -> int:
        return self.book.sequence

    @property
    def updates(self) -> int:
        """Updates applied to the book (counted in Rust, listeners or not)."""
        return self.book.applied

    def best_bid(self) -> tuple[float, float] | None:
        return self.book.best_bid()

    def best_ask(self) -> tuple[float, float] | None:
        return self.book.best_ask()

    def bbo(self) -> tuple[float, float, float, float]:
        return self.book.bbo()

    def top(self, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        return self.book.top(n)

    def depth(self, n: int | None = None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        return self.book.depth(n)

    def mid(self) -> float | None:
        return self.book.mid()

    def spread(self) -> Any:
        return self.book.spread()

    def on_state_change(self, callback: Callable[[Self], Any]) -> None:
        """Call ``callback(book)`` whenever ``in_sync`` or ``state`` changes."""
        self._state_listeners.append(callback)

    # -- state bookkeeping -------------------------------------------------------------------

    def _sync_changed(self) -> None:
        """The Rust book's sync state may have changed: count it and tell the listeners."""
        now = self.book.in_sync
        if now != self._was_in_sync:
            self._was_in_sync = now
            if now:
                self.resyncs += 1
                start, _ = self.out_of_sync_windows[-1]
                self.out_of_sync_windows[-1] = (start, time.monotonic_ns())
            else:
                self.out_of_sync_windows.append((time.monotonic_ns(), None))
            for cb in self._state_listeners:
                try:
                    cb(self)
                except Exception:
                    log.exception("book state listener failed")
        self._changed.set()

    async def _wait(self, until: Callable[[], bool], timeout: float | None) -> bool:
        """Wait for ``until()`` (re-checked on every change); False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                while not until():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            return until()
        return True
