"""Helpers of the bus tests: a NATS server per test, a gateway on the local exchange, and a
sentinel that checks remote books against the exchange's truth whenever they claim sync."""

from __future__ import annotations

import asyncio
import sys
from asyncio.subprocess import Process
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest_asyncio

from hftws.bus.gateway import Gateway
from hftws.bus.remote import RemoteBook
from hftws.testing.nats import NatsServer

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 2.0}


@pytest_asyncio.fixture
async def nats_server() -> AsyncIterator[NatsServer]:
    async with NatsServer() as server:
        yield server


def gateway(
    books: list[str], nats_url: str | list[str], servers: dict[str, Any], **kw: Any
) -> Gateway:
    """A gateway on the local exchanges ``servers`` (exchange -> server)."""
    kw.setdefault("snapshot_interval", 0.5)
    kw.setdefault("heartbeat_interval", 0.1)
    return Gateway(
        books,
        servers=nats_url,
        urls={ex: s.url for ex, s in servers.items()},
        rest_urls={ex: s.rest_url for ex, s in servers.items()},
        **FAST,
        **kw,
    )


def exact(levels: Any) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(str(p)), Decimal(str(s))) for p, s in levels]


def differs(book_depth: Any, server: Any, symbol: str, last_id: int, depth: int | None) -> str:
    """Why the book differs from the exchange's truth at ``last_id`` ('' when equal)."""
    try:
        truth = server.market.snapshot_at(symbol, last_id, 100_000)
    except LookupError as exc:
        return f"id the exchange never had: {exc}"
    n = depth or max(len(truth.bids), len(truth.asks), 1)
    bids, asks = book_depth
    if exact(bids) != exact(truth.bids[:n]) or exact(asks) != exact(truth.asks[:n]):
        return f"differs from the truth at {last_id}"
    return ""


class RemoteSentinel:
    """Whenever the remote book says in sync it must equal the truth at its exchange id."""

    def __init__(self, book: RemoteBook, server: Any, depth: int | None = None) -> None:
        self.book, self.server, self.depth = book, server, depth
        self.checks = 0
        self.violations: list[str] = []
        book.on_state_change(lambda b: self.check())
        self._task = asyncio.create_task(self._poll())

    def check(self) -> None:
        b = self.book
        if not b.in_sync:
            return
        self.checks += 1
        why = differs(b.depth(), self.server, b.symbol, b.exchange_sequence, self.depth)
        if why:
            self.violations.append(f"{b.exchange}:{b.symbol} in sync but {why}")

    async def _poll(self) -> None:
        for _ in range(20_000):  # bounded: ~2 minutes at most
            self.check()
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.check()
        assert not self.violations, self.violations[:5]


async def gateway_process(nats_url: str, server: Any, gateway_id: str, *extra: str) -> Process:
    """``hftws gateway`` in its own process (so that it can be killed outright)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hftws",
        "gateway",
        "gateio:BTC_USDT",
        "--nats",
        nats_url,
        "--id",
        gateway_id,
        "--url",
        f"gateio={server.url}",
        "--rest-url",
        f"gateio={server.rest_url}",
        "--heartbeat-interval",
        "0.1",
        "--snapshot-interval",
        "0.5",
        "--interval",
        "0.5",
        *extra,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
