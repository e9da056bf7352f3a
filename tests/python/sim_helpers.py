"""Helpers for the local exchange server tests: a reference dict book and bounded receive loops."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from websockets.asyncio.client import ClientConnection

from hftws.testing.market import Snapshot


class DictBook:
    """Reference L2 book: absolute sizes, zero deletes (the rules of mexc.md §6 / gateio.md §4)."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}

    def load(self, bids: Iterable[tuple[Any, Any]], asks: Iterable[tuple[Any, Any]]) -> None:
        self.bids = {Decimal(p): Decimal(s) for p, s in bids}
        self.asks = {Decimal(p): Decimal(s) for p, s in asks}

    def apply(self, bids: Iterable[tuple[Any, Any]], asks: Iterable[tuple[Any, Any]]) -> None:
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for p, s in levels:
                size = Decimal(s)
                if size == 0:
                    side.pop(Decimal(p), None)
                else:
                    side[Decimal(p)] = size

    def top(self, limit: int | None = None) -> tuple[list[tuple[Decimal, Decimal]], ...]:
        bids = sorted(self.bids.items(), reverse=True)[:limit]
        asks = sorted(self.asks.items())[:limit]
        return bids, asks


def truth(snap: Snapshot) -> tuple[list[tuple[Decimal, Decimal]], ...]:
    """A market snapshot in :meth:`DictBook.top` shape."""
    return list(snap.bids), list(snap.asks)


async def recv(ws: ClientConnection, timeout: float = 2.0) -> str | bytes:
    """One frame within ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        return await ws.recv()


async def recv_json(ws: ClientConnection, timeout: float = 2.0) -> dict[str, Any]:
    """One text frame decoded as JSON, skipping binary frames."""
    async with asyncio.timeout(timeout):
        while True:
            frame = await ws.recv()
            if isinstance(frame, str):
                decoded: dict[str, Any] = json.loads(frame)
                return decoded


async def quiet_for(ws: ClientConnection, seconds: float) -> list[str | bytes]:
    """Every frame received during ``seconds`` (the connection must stay open)."""
    frames: list[str | bytes] = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                frames.append(await ws.recv())
    except TimeoutError:
        pass
    return frames


async def recv_event(ws: ClientConnection, event: str, timeout: float = 2.0) -> dict[str, Any]:
    """The next Gate message whose ``event`` is ``event``, skipping pushes."""
    async with asyncio.timeout(timeout):
        while True:
            msg: dict[str, Any] = json.loads(await ws.recv())
            if msg.get("event") == event:
                return msg
