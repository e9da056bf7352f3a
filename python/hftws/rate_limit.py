"""Limits on what a client may send per second (MEXC: 100 messages/s; Binance: 5 or 10).

Two shapes: :class:`RateLimiter`, a token bucket with a one-second burst, and
:class:`SlidingWindowLimiter`, never more than ``rate`` frames in any one-second window (what a
server that counts strictly, like Binance, needs: a bucket lets ``2 * rate`` through in just
over a second). Both count frames that went out without asking (:meth:`note`): pongs the
WebSocket layer answered at once and protocol pings.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque


class RateLimiter:
    """At most ``rate`` sends per second (a token bucket with a one-second burst)."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self._tokens = rate or 0.0
        self._stamp = time.monotonic()

    async def acquire(self) -> None:
        rate = self.rate
        if not rate:
            return
        # Bounded: each pass sleeps until a token is due, so it returns on the next pass.
        while True:
            now = time.monotonic()
            self._tokens = min(rate, self._tokens + (now - self._stamp) * rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            await asyncio.sleep((1 - self._tokens) / rate)

    def note(self, count: int = 1) -> None:
        """``count`` frames were sent without waiting (pongs, pings): take their tokens."""
        if self.rate and count > 0:
            self._tokens -= count


class SlidingWindowLimiter(RateLimiter):
    """At most ``floor(rate)`` sends in any ``window`` seconds (strict, no burst beyond)."""

    def __init__(self, rate: float | None, window: float = 1.0) -> None:
        super().__init__(rate)
        self.window = window
        self.limit = max(1, math.floor(rate)) if rate else 0
        #: Monotonic times of the sends still inside the window.
        self._sent: deque[float] = deque()

    def _expire(self, now: float) -> None:
        sent, edge = self._sent, now - self.window
        while sent and sent[0] <= edge:
            sent.popleft()

    async def acquire(self) -> None:
        if not self.limit:
            return
        # Bounded: each pass sleeps until the oldest send leaves the window.
        while True:
            now = time.monotonic()
            self._expire(now)
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return
            await asyncio.sleep(max(self._sent[0] + self.window - now, 0.001))

    def note(self, count: int = 1) -> None:
        """``count`` frames went out now without waiting: they fill the window too."""
        if not self.limit:
            return
        now = time.monotonic()
        self._expire(now)
        self._sent.extend([now] * count)

    def in_window(self) -> int:
        """Sends counted in the current window."""
        self._expire(time.monotonic())
        return len(self._sent)
