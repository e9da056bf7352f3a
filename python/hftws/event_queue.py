"""The bounded queue behind ``async for`` on connections and managers.

Callbacks run synchronously on the event loop; an ``async for`` consumer reads from this queue
instead. It never grows past ``size``: when the consumer falls behind, the oldest (or the
newest) event is dropped and ``on_drop`` is told, so slowness is counted, not hidden.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

Overflow = Literal["drop_oldest", "drop_newest"]
_END = object()


class EventQueue:
    """A bounded event queue with an explicit overflow policy."""

    def __init__(self, size: int, overflow: Overflow, on_drop: Callable[[], None]) -> None:
        if size < 1:
            raise ValueError("queue_size must be at least 1")
        if overflow not in ("drop_oldest", "drop_newest"):
            raise ValueError("overflow must be 'drop_oldest' or 'drop_newest'")
        self._queue: asyncio.Queue[Any] = asyncio.Queue(size)
        self._overflow = overflow
        self._on_drop = on_drop

    def put(self, event: Any) -> None:
        """Queue ``event`` now (a callback: never waits)."""
        queue = self._queue
        if queue.full():
            self._on_drop()
            if self._overflow == "drop_newest":
                return
            queue.get_nowait()
        queue.put_nowait(event)

    def close(self) -> None:
        """End every iteration once the queued events are read."""
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(_END)

    def qsize(self) -> int:
        return self._queue.qsize()

    async def iterate(self) -> AsyncIterator[Any]:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            yield item
