"""Helpers shared by the client tests (bounded waits, task leak checks)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_for(
    predicate: Callable[[], object], timeout: float = 5.0, step: float = 0.01
) -> None:
    """Poll ``predicate`` until true, at most ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(step)


def own_tasks() -> set[asyncio.Task[object]]:
    """hftws tasks still alive (there must be none after a close)."""
    return {t for t in asyncio.all_tasks() if t.get_name().startswith("hftws-")}
