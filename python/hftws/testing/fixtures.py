"""pytest plugin: started local exchange servers, stopped cleanly after each test.

Enable it in a ``conftest.py`` with ``pytest_plugins = ["hftws.testing.fixtures"]``; then::

    async def test_book(mexc_server):
        async with websockets.connect(mexc_server.url) as ws: ...
        # REST: f"{mexc_server.rest_url}/api/v3/depth?symbol=BTCUSDT&limit=5000"

Each fixture yields a started server (function scope, fresh market with seed 0, 500 steps/s,
MEXC idle timeout 2 s); faults set by the test die with the server. Build your own with
``async with MexcServer(rate=..., seed=...) as server:`` when a test needs other settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from hftws.testing.binance_server import BinanceFuturesServer, BinanceSpotServer
from hftws.testing.gate_server import GateFuturesServer, GateSpotServer
from hftws.testing.kucoin_server import KucoinFuturesServer, KucoinServer
from hftws.testing.mexc_server import MexcServer

__all__ = [
    "binance_futures_server",
    "binance_spot_server",
    "gate_futures_server",
    "gate_spot_server",
    "kucoin_futures_server",
    "kucoin_server",
    "mexc_server",
]

#: Steps per second used by the fixtures (fast enough for short tests, light on 2 cores).
FIXTURE_RATE = 500.0


@pytest_asyncio.fixture
async def mexc_server() -> AsyncIterator[MexcServer]:
    """A started :class:`MexcServer` (idle timeout 2 s)."""
    async with MexcServer(rate=FIXTURE_RATE, idle_timeout=2.0) as server:
        yield server


@pytest_asyncio.fixture
async def gate_spot_server() -> AsyncIterator[GateSpotServer]:
    """A started :class:`GateSpotServer`."""
    async with GateSpotServer(rate=FIXTURE_RATE) as server:
        yield server


@pytest_asyncio.fixture
async def gate_futures_server() -> AsyncIterator[GateFuturesServer]:
    """A started :class:`GateFuturesServer`."""
    async with GateFuturesServer(rate=FIXTURE_RATE) as server:
        yield server


@pytest_asyncio.fixture
async def binance_spot_server() -> AsyncIterator[BinanceSpotServer]:
    """A started :class:`BinanceSpotServer`."""
    async with BinanceSpotServer(rate=FIXTURE_RATE) as server:
        yield server


@pytest_asyncio.fixture
async def binance_futures_server() -> AsyncIterator[BinanceFuturesServer]:
    """A started :class:`BinanceFuturesServer`."""
    async with BinanceFuturesServer(rate=FIXTURE_RATE) as server:
        yield server


@pytest_asyncio.fixture
async def kucoin_server() -> AsyncIterator[KucoinServer]:
    """A started :class:`KucoinServer` (pings announced every 0.5 s, 1 s timeout)."""
    async with KucoinServer(
        rate=FIXTURE_RATE, ping_interval_ms=500, ping_timeout_ms=1000
    ) as server:
        yield server


@pytest_asyncio.fixture
async def kucoin_futures_server() -> AsyncIterator[KucoinFuturesServer]:
    """A started :class:`KucoinFuturesServer` (pings every 0.5 s, 1 s timeout)."""
    async with KucoinFuturesServer(
        rate=FIXTURE_RATE, ping_interval_ms=500, ping_timeout_ms=1000
    ) as server:
        yield server
