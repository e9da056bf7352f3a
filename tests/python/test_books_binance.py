"""Binance spot and USDⓈ-M books kept by OrderBookManager never lie under the servers' faults.

Each test watches a book on a local Binance server with the :class:`Sentinel` of
``test_books_never_lie``: whenever the book says ``in_sync`` it must equal the server's truth
at its sequence, with the connection up and the subscription active.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from client_helpers import own_tasks, wait_for
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from test_books_never_lie import Sentinel, _act

from hftws.books import VENUES, OrderBookManager
from hftws.errors import SubscriptionError
from hftws.testing.binance_server import BinanceFuturesServer, BinanceSpotServer

FAST: dict[str, Any] = {"ping_interval": 0.3, "idle_timeout": 1.5}
Server = BinanceSpotServer | BinanceFuturesServer


@pytest_asyncio.fixture(params=["binance", "binance_futures"])
async def venue(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, Server]]:
    cls = BinanceSpotServer if request.param == "binance" else BinanceFuturesServer
    async with cls(rate=300) as server:
        yield request.param, server


def books_for(exchange: str, server: Server, **kw: Any) -> OrderBookManager:
    return OrderBookManager(
        urls={exchange: server.url}, rest_urls={exchange: server.rest_url}, **FAST, **kw
    )


async def more_updates(book: Any, n: int = 30, timeout: float = 10.0) -> None:
    start = book.updates
    await wait_for(lambda: book.updates >= start + n, timeout=timeout)


def test_venues_use_the_documented_snapshot_calls() -> None:
    spot, fut = VENUES["binance"], VENUES["binance_futures"]
    assert (spot.snapshot_path, spot.default_depth) == ("/api/v3/depth", 5000)
    assert (fut.snapshot_path, fut.default_depth) == ("/fapi/v1/depth", 1000)


async def test_gaps_and_duplicates_never_lie(venue: tuple[str, Server]) -> None:
    exchange, server = venue
    async with books_for(exchange, server) as books:
        book = await books.watch(exchange, "BTCUSDT")
        assert book.limit == VENUES[exchange].default_depth
        sentinel = Sentinel(book, server)
        server.faults.duplicate(3)
        await more_updates(book)
        assert book.gaps == 0  # duplicates and the replayed older push are stale, not gaps
        server.faults.gap(5)
        await wait_for(lambda: book.gaps >= 1, timeout=5)
        await book.wait_in_sync(10)
        await more_updates(book)
        await sentinel.stop()
        assert sentinel.checks > 0 and book.resyncs >= 2


@pytest.mark.parametrize("fault", ["behind", "ahead"])
async def test_snapshots_behind_and_ahead_never_lie(venue: tuple[str, Server], fault: str) -> None:
    exchange, server = venue
    async with books_for(exchange, server) as books:
        book = await books.watch(exchange, "BTCUSDT")
        sentinel = Sentinel(book, server)
        await more_updates(book, 60)  # history for a snapshot older than the held pushes
        if fault == "behind":
            server.faults.rest_stale(40, times=2)
        else:
            server.faults.rest_ahead(500, times=2)
        await books.resync(exchange, "BTCUSDT")
        await wait_for(lambda: book.stale_snapshots + book.unconfirmed_snapshots >= 1, 10)
        await book.wait_in_sync(15)
        await more_updates(book)
        await sentinel.stop()
        if fault == "behind":
            assert book.stale_snapshots >= 1
        else:
            assert book.unconfirmed_snapshots >= 1


async def test_reconnects_and_refused_resubscribe(venue: tuple[str, Server]) -> None:
    exchange, server = venue
    async with books_for(exchange, server) as books:
        book = await books.watch(exchange, "BTCUSDT")
        sentinel = Sentinel(book, server)
        for code in (1006, 1005, 1011):
            server.faults.close_with(code)
            await wait_for(lambda: not book.in_sync, timeout=5)
            await book.wait_in_sync(10)
        await more_updates(book, 10)
        server.faults.refuse("btcusdt@depth*")
        server.faults.close_with(1006)
        await wait_for(lambda: book.state == "refused", timeout=10)
        await asyncio.sleep(0.3)
        assert not book.in_sync
        with pytest.raises(SubscriptionError):
            await book.wait_in_sync(0.5)
        server.faults.allow("btcusdt@depth*")
        again = await books.watch(exchange, "BTCUSDT")
        assert again is book and book.in_sync
        await more_updates(book, 10)
        await sentinel.stop()
        assert book._shard.metrics.reconnects >= 4


async def test_refused_watch_leaves_nothing_behind(venue: tuple[str, Server]) -> None:
    exchange, server = venue
    server.faults.refuse("ethusdt@*")
    async with books_for(exchange, server) as books:
        with pytest.raises(SubscriptionError):
            await books.watch(exchange, "ETHUSDT")
        assert (exchange, "ETHUSDT") not in books.books
        server.faults.allow("ethusdt@*")
        book = await books.watch(exchange, "ETHUSDT")
        assert book.in_sync
    assert not own_tasks()


async def test_rate_limited_snapshots_wait_for_retry_after() -> None:
    # Weight 250 per spot snapshot at limit 5000: the second one in the window is refused
    # with 429 and Retry-After; the book waits for it rather than hammering the server.
    async with BinanceSpotServer(rate=300, weight_limit=400, weight_window=1.0) as server:
        async with books_for("binance", server) as books:
            book = await books.watch("binance", "BTCUSDT")
            sentinel = Sentinel(book, server)
            await books.resync("binance", "BTCUSDT")
            await wait_for(lambda: book.snapshot_failures >= 1, timeout=5)
            assert book.last_error is not None and "429" in book.last_error
            await book.wait_in_sync(10)
            await more_updates(book, 10)
            await sentinel.stop()
        assert server.rest_statuses.get(429, 0) >= 1
        assert server.rest_statuses.get(418, 0) == 0  # never banned: it waited


async def test_simulated_429_and_418_are_honoured(venue: tuple[str, Server]) -> None:
    exchange, server = venue
    server.faults.rest_status(429, retry_after=0.3, times=1)
    server.faults.rest_status(418, retry_after=0.3, times=1)
    async with books_for(exchange, server) as books:
        book = await books.watch(exchange, "BTCUSDT", timeout=None)
        sentinel = Sentinel(book, server)
        await book.wait_in_sync(10)
        assert book.snapshot_failures >= 1
        await more_updates(book, 10)
        await sentinel.stop()


async def test_server_shutdown_keeps_books_true() -> None:
    async with BinanceSpotServer(rate=300) as server, books_for("binance", server) as books:
        book = await books.watch("binance", "BTCUSDT")
        sentinel = Sentinel(book, server)
        server.server_shutdown(close_after=1.0)
        await wait_for(lambda: book._shard.metrics.rollovers >= 1, timeout=5)
        await book.wait_in_sync(10)
        await more_updates(book)
        await sentinel.stop()
        assert book._shard.metrics.reconnects == 0


async def test_watch_rejects_futures_limits_binance_does_not_serve() -> None:
    async with BinanceFuturesServer(rate=50) as server, books_for("binance_futures", server) as b:
        with pytest.raises(ValueError, match="snapshot limits"):
            await b.watch("binance_futures", "BTCUSDT", depth=5000)
        with pytest.raises(ValueError, match="obu"):
            await b.watch("binance_futures", "BTCUSDT", mode="obu")


# -- property: random interleavings of faults ------------------------------------------------

ACTIONS = [
    "gap",
    "duplicate",
    "drop_1006",
    "drop_1005",
    "refuse_upgrades",
    "snapshot_behind",
    "snapshot_ahead",
    "slow_snapshot_and_drop",
    "refuse_resubscribe",
    "stall",
    "snapshot_429",
    "server_shutdown",
    "garbage",
]


async def _binance_act(action: str, server: Server, book: Any) -> None:
    f = server.faults
    if action == "duplicate":
        f.duplicate(2)
    elif action == "refuse_resubscribe":
        pattern = book.symbol.lower() + "@depth*"
        f.refuse(pattern)
        f.close_with(1006)
        await asyncio.sleep(0.3)
        f.allow(pattern)
        if book.refused is not None:
            await book._manager.watch(book.exchange, book.symbol, timeout=None)
    elif action == "snapshot_429":
        f.rest_status(429, retry_after=0.2)
        await book._manager.resync(book.exchange, book.symbol)
    elif action == "server_shutdown":
        server.server_shutdown(close_after=0.3)
    elif action == "garbage":
        f.send_garbage(2)  # truncated depth JSON: the book must not trust what follows
    else:
        await _act(action, server, book)


@settings(
    max_examples=8 if os.environ.get("CI") else 3,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(
    exchange=st.sampled_from(["binance", "binance_futures"]),
    actions=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=4),
    pause=st.sampled_from([0.05, 0.2]),
)
def test_books_never_report_in_sync_while_wrong_under_random_faults(
    exchange: str, actions: list[str], pause: float
) -> None:
    cls = BinanceSpotServer if exchange == "binance" else BinanceFuturesServer

    async def run() -> None:
        async with asyncio.timeout(60), cls(rate=300) as server:
            books = OrderBookManager(
                urls={exchange: server.url},
                rest_urls={exchange: server.rest_url},
                ping_interval=0.2,
                idle_timeout=0.6,
            )
            async with books:
                book = await books.watch(exchange, "BTCUSDT", timeout=15)
                sentinel = Sentinel(book, server)
                for action in actions:
                    await _binance_act(action, server, book)
                    await asyncio.sleep(pause)
                server.faults.reset()
                if book.refused is not None:
                    await books.watch(exchange, "BTCUSDT", timeout=None)
                await book.wait_in_sync(20)
                await more_updates(book, 20)
                await sentinel.stop()
                assert sentinel.checks > 0

    asyncio.run(run())
