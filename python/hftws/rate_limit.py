"""A token bucket for what a client may send per second (MEXC: 100 messages/s per socket)."""

from __future__ import annotations

import asyncio
import time


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
