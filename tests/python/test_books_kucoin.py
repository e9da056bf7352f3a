"""KuCoin books against the local exchanges' truth under faults: never in sync while wrong.

A :class:`Sentinel` samples the book on every state change and every few milliseconds; while
the book says ``in_sync`` it must equal the server's truth at the book's sequence (spot: the
whole book, which the public ``level2_100`` covers on these servers; futures: at step
boundaries, the only sequences at which the exchange's book existed as a whole).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from client_helpers import own_tasks, wait_for

from hftws.books import LocalBook, OrderBookManager
from hftws.interface import ConnectionState
from hftws.subscriptions import Subscription
from hftws.testing.kucoin_server import KucoinFuturesServer, KucoinServer
from hftws.testing.market import SymbolSpec

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 2.0}
SERVER: dict[str, Any] = {"ping_interval_ms": 500, "ping_timeout_ms": 1000}


def exact(levels: Any) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(str(p)), Decimal(str(s))) for p, s in levels]


class Sentinel:
    """Checks a book against the truth whenever it claims to be in sync."""

    def __init__(self, book: LocalBook, server: Any) -> None:
        self.book, self.server = book, server
        self.checks = 0
        self.violations: list[str] = []
        book.on_state_change(lambda b: self.check())
        self._task = asyncio.create_task(self._poll())

    def check(self) -> None:
        book, server = self.book, self.server
        if not book.in_sync:
            return
        shard = book._shard
        if shard.state not in (ConnectionState.CONNECTED, ConnectionState.SUBSCRIBED):
            self.violations.append(f"in sync while the connection is {shard.state}")
        if book._manager._subscription(book) not in shard.subscriptions:
            self.violations.append("in sync without an active subscription")
        market_id: int | None = book.sequence
        if isinstance(server, KucoinFuturesServer):
            market_id = server.market_id_at(book.symbol, book.sequence)
            if market_id is None:
                return  # inside a step: no whole book to compare with
        assert market_id is not None
        try:
            truth = server.market.snapshot_at(book.symbol, market_id, 100_000)
        except LookupError as exc:
            self.violations.append(f"in sync at an id the exchange never had: {exc}")
            return
        self.checks += 1
        bids, asks = book.exact_levels()
        # Only the prices the snapshot covered are known (a partial level2_100).
        low, high = book.bounds
        want_bids = [lv for lv in truth.bids if low is None or lv[0] >= low]
        want_asks = [lv for lv in truth.asks if high is None or lv[0] <= high]
        if exact(bids) != exact(want_bids) or exact(asks) != exact(want_asks):
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


def books_for(exchange: str, server: Any) -> OrderBookManager:
    return OrderBookManager(rest_urls={exchange: server.rest_url}, **FAST)


async def advance(book: LocalBook, n: int, timeout: float = 10.0) -> None:
    start = book.updates
    await book.wait_in_sync(timeout)
    await wait_for(lambda: book.in_sync and book.updates >= start + n, timeout=timeout)


async def test_spot_book_says_which_snapshot_and_how_deep() -> None:
    async with KucoinServer(rate=300, **SERVER) as server, books_for("kucoin", server) as books:
        book = await books.watch("kucoin", "BTC-USDT")
        assert book.exact_depth == 100
        assert book.snapshot_source == "public level2_100, exact to 100 levels"
        stats: Any = books.stats()
        assert stats["kucoin:BTC-USDT"]["snapshot"] == book.snapshot_source
        # These servers keep < 100 levels per side: the snapshot was the whole book.
        assert book.bounds == (None, None)
        sentinel = Sentinel(book, server)
        await advance(book, 200)
        await sentinel.stop()
        assert sentinel.checks > 0
        # Registered in Rust on the shard before subscribing: pushes went into the book.
        assert book.book.applied >= 200
    assert not own_tasks()


async def test_a_deep_book_is_exact_within_the_top_100_snapshot() -> None:
    spec = SymbolSpec("BTC-USDT", Decimal("0.1"), Decimal("0.0001"), Decimal("67993.3"))
    assert spec.depth > 100  # 200-500 levels per side: level2_100 is a partial book
    async with (
        KucoinServer([spec], rate=300, **SERVER) as server,
        books_for("kucoin", server) as books,
    ):
        book = await books.watch("kucoin", "BTC-USDT")
        low, high = book.bounds
        assert low is not None and high is not None
        sentinel = Sentinel(book, server)
        await advance(book, 200)
        server.faults.close_with(1006)  # a resync takes a new snapshot and new bounds
        resyncs = book.resyncs
        await wait_for(lambda: book.resyncs > resyncs, timeout=10)
        await advance(book, 100)
        await sentinel.stop()
        assert sentinel.checks > 0
        bids, asks = book.exact_levels()
        assert 0 < len(bids) <= book.book.bid_count and 0 < len(asks) <= book.book.ask_count


async def test_a_partial_snapshot_bounds_the_exact_levels() -> None:
    async with (
        KucoinServer(rate=300, max_topics=None, **SERVER) as server,
        books_for("kucoin", server) as books,
    ):
        book = await books.watch("kucoin", "BTC-USDT")
        full_bids, full_asks = book.book.depth()
        # Pretend the last snapshot stopped at the 10th level: only that part is exact.
        low, high = Decimal(full_bids[9][0]), Decimal(full_asks[9][0])
        book.bounds = (low, high)
        bids, asks = book.exact_levels()
        assert all(Decimal(p) >= low for p, _ in bids) and len(bids) <= len(full_bids)
        assert all(Decimal(p) <= high for p, _ in asks) and len(asks) <= len(full_asks)


FAULTS = [
    "gap",
    "duplicates",
    "stale",
    "ahead",
    "reconnect",
    "expired_token",
    "garbage",
    "stall",
    "drop_after",
    "refused_upgrade",
]
#: Faults after which the book must resync (the others leave it in sync).
RESYNCING = {"gap", "stale", "ahead", "reconnect", "expired_token", "stall", "drop_after"}


def inject(server: Any, fault: str) -> None:
    if fault == "gap":
        server.faults.gap(3)
    elif fault == "duplicates":
        server.duplicates = 5
    elif fault == "stale":
        server.faults.rest_stale(4, times=1)
        server.faults.close_with(1006)  # the resync after the reconnect gets it
    elif fault == "ahead":
        server.faults.rest_ahead(50, times=1)
        server.faults.close_with(1006)
    elif fault == "reconnect":
        server.faults.close_with(1006)
    elif fault == "expired_token":
        server.expire_tokens()
        server.token_ttl = -1.0  # the next token too: one failed attempt, then fresh ones
        server.faults.close_with(1000)
    elif fault == "garbage":
        server.faults.send_garbage(3)  # undecodable frames: counted, the book goes on
    elif fault == "stall":
        server.faults.stall()  # silent socket: no pong within pingTimeout drops it
    elif fault == "drop_after":
        server.faults.drop_after(150)
    elif fault == "refused_upgrade":
        server.faults.refuse_upgrades(2)  # armed for the next connects (none happen here)


@pytest.mark.parametrize("futures", [False, True], ids=["spot", "futures"])
@pytest.mark.parametrize("fault", FAULTS)
async def test_books_equal_the_truth_through_faults(fault: str, futures: bool) -> None:
    cls = KucoinFuturesServer if futures else KucoinServer
    exchange = "kucoin_futures" if futures else "kucoin"
    symbol = "XBTUSDTM" if futures else "BTC-USDT"
    async with cls(rate=300, **SERVER) as server, books_for(exchange, server) as books:
        book = await books.watch(exchange, symbol)
        sentinel = Sentinel(book, server)
        await advance(book, 30)
        resyncs = book.resyncs
        inject(server, fault)
        if fault == "expired_token":
            await wait_for(lambda: server.tokens_expired >= 1, timeout=10)
            server.token_ttl = 3600.0
        if fault in RESYNCING:
            await wait_for(lambda: book.resyncs > resyncs, timeout=15)
        if fault == "stall":
            server.faults.unstall()
        if fault == "drop_after":
            server.faults.drop_after(None)
        if fault == "refused_upgrade":
            # Two refused upgrades (HTTP 503), then a connect with a fresh token.
            server.faults.close_with(1006)
            await wait_for(lambda: book.resyncs > resyncs, timeout=15)
        await advance(book, 100, timeout=15)
        await sentinel.stop()
        assert sentinel.checks > 0
        # Every push sequence the servers send is a valid book at every message.
        assert book.crossed == 0
        if fault == "gap":
            assert book.gaps >= 1
        if fault == "ahead":
            assert book.unconfirmed_snapshots >= 1
        if fault == "garbage":
            assert sum(book._shard.metrics.errors.values()) >= 1
        if fault == "stall":
            # Dropped by our pong timeout or by the server's ping watchdog, whichever first.
            assert book._shard.metrics.reconnects >= 1
    assert not own_tasks()


@pytest.mark.parametrize("futures", [False, True], ids=["spot", "futures"])
async def test_refused_subscription_takes_the_book_out(futures: bool) -> None:
    cls = KucoinFuturesServer if futures else KucoinServer
    exchange = "kucoin_futures" if futures else "kucoin"
    symbol, other = ("XBTUSDTM", "ETHUSDTM") if futures else ("BTC-USDT", "ETH-USDT")
    topic = "/contractMarket/level2" if futures else "/market/level2"
    async with cls(rate=300, **SERVER) as server, books_for(exchange, server) as books:
        server.faults.refuse(f"{topic}:{other}", code=404, message="topic is not found")
        from hftws.errors import SubscriptionError

        with pytest.raises(SubscriptionError, match="topic is not found"):
            await books.watch(exchange, other)
        assert (exchange, other) not in books.books
        book = await books.watch(exchange, symbol)
        sentinel = Sentinel(book, server)
        # Refused on the re-subscribe after a reconnect: out of sync and says why.
        server.faults.refuse(f"{topic}:{symbol}", code=404, message="topic is not found")
        server.faults.close_with(1006)
        await wait_for(lambda: book.state == "refused", timeout=10)
        assert not book.in_sync and "not found" in (book.refused or "")
        assert Subscription(topic, (symbol,)) in book._shard.refused
        await sentinel.stop()
