"""The five ways books used to report ``in_sync`` while wrong, frozen or disconnected.

Each test runs a real local exchange and a :class:`Sentinel` that samples the book on every
update it is told about and every few milliseconds: whenever the book says ``in_sync`` it must
equal the server's truth at the book's sequence, and its connection must be up with the
book's subscription active.
"""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal
from typing import Any, Literal

import pytest
from client_helpers import own_tasks, wait_for
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from hftws.books import LocalBook, OrderBookManager
from hftws.errors import HftwsTimeoutError
from hftws.interface import ConnectionState
from hftws.mixins.subscription import SubscriptionError
from hftws.testing.gate_server import GateSpotServer
from hftws.testing.mexc_server import MexcServer

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 2.0}


def exact(levels: Any) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(str(p)), Decimal(str(s))) for p, s in levels]


class Sentinel:
    """Checks a book against the truth whenever it claims to be in sync."""

    def __init__(self, book: LocalBook, server: Any, depth: int | None = None) -> None:
        self.book, self.server, self.depth = book, server, depth
        self.checks = 0
        self.violations: list[str] = []
        book.on_state_change(lambda b: self.check())
        self._task = asyncio.create_task(self._poll())

    def check(self) -> None:
        book = self.book
        if not book.in_sync:
            return
        self.checks += 1
        shard = book._shard
        if shard.state not in (ConnectionState.CONNECTED, ConnectionState.SUBSCRIBED):
            self.violations.append(f"in sync while the connection is {shard.state}")
        if book._manager._subscription(book) not in shard.subscriptions:
            self.violations.append("in sync without an active subscription")
        try:
            truth = self.server.market.snapshot_at(book.symbol, book.sequence, 100_000)
        except LookupError as exc:
            self.violations.append(f"in sync at an id the exchange never had: {exc}")
            return
        n = self.depth or max(len(truth.bids), len(truth.asks), 1)
        bids, asks = book.depth()
        if exact(bids) != exact(truth.bids[:n]) or exact(asks) != exact(truth.asks[:n]):
            self.violations.append(f"in sync at {book.sequence} but differs from the truth")

    async def _poll(self) -> None:
        for _ in range(100_000):  # bounded: ~10 minutes at most
            self.check()
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.check()
        assert not self.violations, self.violations[:5]


def books_for(exchange: str, server: Any, **kw: Any) -> OrderBookManager:
    return OrderBookManager(
        urls={exchange: server.url}, rest_urls={exchange: server.rest_url}, **FAST, **kw
    )


# 1. obu depth is one parameter: stream depth and book depth cannot disagree.
async def test_obu_default_book_is_exact_to_the_stream_depth() -> None:
    async with GateSpotServer(rate=None) as server, books_for("gateio", server) as books:
        book = await books.watch("gateio", "BTC_USDT", mode="obu")
        assert book.exact_depth == 400
        sub = books._subscription(book)
        assert sub.params == ("ob.BTC_USDT.400",)
        sentinel = Sentinel(book, server, depth=400)
        await wait_for(lambda: book.updates >= 500, timeout=20)
        await sentinel.stop()
        assert sentinel.checks > 0
        with pytest.raises(ValueError, match="50 or 400"):
            await books.watch("gateio", "ETH_USDT", mode="obu", depth=100)
        with pytest.raises(ValueError, match="20 or 100"):
            await books.watch("gateio", "ETH_USDT", depth=5000)


# 2. A snapshot ahead of the stream is not in sync until the stream confirms one.
@pytest.mark.parametrize("ahead", [3, 500])
async def test_snapshot_ahead_of_the_stream_never_reports_in_sync(ahead: int) -> None:
    async with MexcServer(rate=300) as server, books_for("mexc", server) as books:
        server.faults.rest_ahead(ahead, times=2)
        book = await books.watch("mexc", "BTCUSDT", timeout=None)
        sentinel = Sentinel(book, server)
        await book.wait_in_sync(15)
        start = book.updates
        await wait_for(lambda: book.updates >= start + 50, timeout=10)
        await sentinel.stop()
        assert book.unconfirmed_snapshots >= 1
        assert sentinel.checks > 0


# 3. A reconnect during the snapshot fetch (and refused upgrades) is never in sync.
async def test_reconnect_during_the_snapshot_fetch_is_never_in_sync() -> None:
    async with MexcServer(rate=300) as server, books_for("mexc", server) as books:
        server.faults.rest_delay(0.6, times=1)
        book = await books.watch("mexc", "BTCUSDT", timeout=None)
        sentinel = Sentinel(book, server)
        await asyncio.sleep(0.2)  # the snapshot request is in flight
        server.faults.close_with(1006)
        await wait_for(lambda: book._shard.metrics.reconnects >= 1, 5)
        await book.wait_in_sync(15)
        await wait_for(lambda: book.updates >= 50, timeout=10)
        await sentinel.stop()
        assert sentinel.checks > 0


# 4. A subscription refused on re-subscribe takes the book out of sync, visibly.
async def test_refused_resubscribe_takes_the_book_out_of_sync_and_watch_recovers() -> None:
    async with GateSpotServer(rate=300) as server, books_for("gateio", server) as books:
        book = await books.watch("gateio", "BTC_USDT")
        sentinel = Sentinel(book, server, depth=100)
        seen: list[str] = []
        book.on_state_change(lambda b: seen.append(b.state))
        server.faults.refuse("spot.order_book_update:BTC_USDT*")
        server.faults.close_with(1006)
        await wait_for(lambda: book.state == "refused", timeout=10)
        await asyncio.sleep(0.5)  # REST alone must not bring it back
        assert not book.in_sync and book.refused
        assert "refused" in seen or "out_of_sync" in seen
        with pytest.raises(SubscriptionError):
            await book.wait_in_sync(1)
        server.faults.allow("spot.order_book_update:BTC_USDT*")
        again = await books.watch("gateio", "BTC_USDT")
        assert again is book and book.in_sync and book.refused is None
        await sentinel.stop()


# 5. A refused watch() leaves nothing behind: the next one is answered at once.
async def test_refused_watch_leaves_nothing_behind() -> None:
    async with MexcServer(rate=300) as server, books_for("mexc", server) as books:
        server.faults.refuse("*ETHUSDT")
        for _ in range(2):
            async with asyncio.timeout(3):
                with pytest.raises(SubscriptionError):
                    await books.watch("mexc", "ETHUSDT")
            assert ("mexc", "ETHUSDT") not in books.books
        server.faults.allow("*ETHUSDT")
        book = await books.watch("mexc", "ETHUSDT")
        assert book.in_sync
    assert not own_tasks()


# -- property: random interleavings of faults against the local exchanges ----------------------

ACTIONS = [
    "gap",
    "drop_1006",
    "drop_1005",
    "refuse_upgrades",
    "snapshot_behind",
    "snapshot_ahead",
    "slow_snapshot_and_drop",
    "refuse_resubscribe",
    "stall",
    "snapshot_503",
]
CASES: dict[str, tuple[Any, str, Literal["classic", "obu"], int | None]] = {
    "mexc": (MexcServer, "BTCUSDT", "classic", None),
    "gateio": (GateSpotServer, "BTC_USDT", "classic", 100),
    "gateio_obu": (GateSpotServer, "ETH_USDT", "obu", 50),
}


async def _act(action: str, server: Any, book: LocalBook) -> None:
    f = server.faults
    if action == "gap":
        f.gap(3)
    elif action == "drop_1006":
        f.close_with(1006)
    elif action == "drop_1005":
        f.close_with(1005)
    elif action == "refuse_upgrades":
        f.refuse_upgrades(2)
        f.close_with(1006)
    elif action == "snapshot_behind":
        f.rest_stale(5)
        await book._manager.resync(book.exchange, book.symbol)
    elif action == "snapshot_ahead":
        f.rest_ahead(4)
        await book._manager.resync(book.exchange, book.symbol)
    elif action == "slow_snapshot_and_drop":
        f.rest_delay(0.3)
        await book._manager.resync(book.exchange, book.symbol)
        await asyncio.sleep(0.1)
        f.close_with(1006)
    elif action == "refuse_resubscribe":
        pattern = "*" + book.symbol + "*"
        f.refuse(pattern)
        f.close_with(1006)
        await asyncio.sleep(0.3)
        f.allow(pattern)
        if book.refused is not None:
            await book._manager.watch(
                book.exchange, book.symbol, mode=book.mode, depth=book.limit, timeout=None
            )
    elif action == "stall":
        f.stall()
        await asyncio.sleep(0.3)
        f.unstall()
    elif action == "snapshot_503":
        f.rest_status(503)
        await book._manager.resync(book.exchange, book.symbol)


# Each example runs a live exchange for seconds: no shrinking (it would take minutes); the
# failing example is reported as generated.
@settings(
    max_examples=10 if os.environ.get("CI") else 3,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(
    case=st.sampled_from(sorted(CASES)),
    actions=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=4),
    pause=st.sampled_from([0.05, 0.2, 0.4]),
)
def test_books_never_report_in_sync_while_wrong_under_random_faults(
    case: str, actions: list[str], pause: float
) -> None:
    server_cls, symbol, mode, depth = CASES[case]
    exchange = "mexc" if case == "mexc" else "gateio"

    async def run() -> None:
        async with server_cls(rate=300) as server:
            books = OrderBookManager(
                urls={exchange: server.url},
                rest_urls={exchange: server.rest_url},
                ping_interval=0.2,
                idle_timeout=0.6,
            )
            async with books:
                book = await books.watch(exchange, symbol, mode=mode, depth=depth, timeout=15)
                sentinel = Sentinel(book, server, depth=depth)
                for action in actions:
                    await _act(action, server, book)
                    await asyncio.sleep(pause)
                server.faults.reset()
                if book.refused is not None:
                    await books.watch(exchange, symbol, mode=mode, depth=depth, timeout=None)
                await book.wait_in_sync(20)
                start = book.updates
                await wait_for(lambda: book.updates >= start + 20, timeout=10)
                await sentinel.stop()
                assert sentinel.checks > 0

    asyncio.run(run())


async def test_a_dead_snapshot_url_is_a_typed_timeout_naming_the_book() -> None:
    async with MexcServer(rate=300) as server:
        books = OrderBookManager(
            urls={"mexc": server.url}, rest_urls={"mexc": "http://127.0.0.1:9"}, **FAST
        )
        async with books:
            with pytest.raises(HftwsTimeoutError, match="mexc BTCUSDT: not in sync") as err:
                await books.watch("mexc", "BTCUSDT", timeout=1.5)
            assert isinstance(err.value, TimeoutError)
            assert "last sync failure" in str(err.value)
