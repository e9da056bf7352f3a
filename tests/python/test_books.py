"""Order books synced from snapshot + deltas against the local exchanges' truth."""

from __future__ import annotations

import asyncio
import itertools
import json
from decimal import Decimal
from typing import Any

import pytest
from client_helpers import own_tasks, wait_for
from hypothesis import given, settings
from hypothesis import strategies as st

from hftws import OrderBook
from hftws.books import LocalBook, OrderBookManager
from hftws.testing.gate_server import GateFuturesServer, GateSpotServer
from hftws.testing.market import Market, SymbolSpec
from hftws.testing.mexc_server import MexcServer
from hftws.ws import StreamDecoder

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 2.0}
SERVERS = {"mexc": MexcServer, "gateio": GateSpotServer, "gateio_futures": GateFuturesServer}
SYMBOL = {"mexc": "BTCUSDT", "gateio": "BTC_USDT", "gateio_futures": "BTC_USDT"}


def exact(levels: Any) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(str(p)), Decimal(str(s))) for p, s in levels]


async def assert_matches_truth(book: LocalBook, server: Any, depth: int | None = None) -> None:
    """Freeze the market, let the book catch up, compare every level exactly."""
    server.pause()
    last = server.market.last_id(book.symbol)
    await wait_for(lambda: book.sequence == last and book.in_sync, timeout=5)
    truth = server.market.snapshot_at(book.symbol, book.sequence, 100_000)
    bids, asks = book.depth()
    depth = depth or book.exact_depth
    n = depth or max(len(truth.bids), len(truth.asks))
    if depth is not None:
        assert len(bids) == min(depth, len(truth.bids)), "the book is exact to its depth"
        assert len(asks) == min(depth, len(truth.asks))
    assert exact(bids) == exact(truth.bids[:n])
    assert exact(asks) == exact(truth.asks[:n])
    server.resume()


def manager_for(exchange: str, server: Any) -> OrderBookManager:
    return OrderBookManager(
        urls={exchange: server.url}, rest_urls={exchange: server.rest_url}, **FAST
    )


@pytest.mark.parametrize("exchange", ["mexc", "gateio", "gateio_futures"])
async def test_book_equals_the_truth_after_thousands_of_pushes(exchange: Any) -> None:
    async with SERVERS[exchange](rate=None) as server, manager_for(exchange, server) as books:
        book = await books.watch(exchange, SYMBOL[exchange], depth=None)
        await wait_for(lambda: book.updates >= 2000, timeout=20)
        await assert_matches_truth(book, server)
        assert book.gaps == 0 and book.resyncs == 1
    assert not own_tasks()


async def test_gate_obu_book_equals_the_truth_top_50() -> None:
    async with GateSpotServer(rate=None) as server, manager_for("gateio", server) as books:
        book = await books.watch("gateio", "ETH_USDT", mode="obu", depth=50)
        await wait_for(lambda: book.updates >= 1000, timeout=20)
        await assert_matches_truth(book, server, depth=50)
        # A gap in an obu stream: unsubscribe, resubscribe, re-seed from the next full push.
        server.faults.gap(3)
        await wait_for(lambda: book.gaps >= 1 and book.in_sync, timeout=10)
        await assert_matches_truth(book, server, depth=50)
        assert book.resyncs == 2


@pytest.mark.parametrize("exchange", ["mexc", "gateio"])
async def test_gap_mid_stream_opens_and_closes_an_out_of_sync_window(exchange: Any) -> None:
    async with SERVERS[exchange](rate=500) as server, manager_for(exchange, server) as books:
        book = await books.watch(exchange, SYMBOL[exchange], depth=None)
        flips: list[bool] = []
        book.on_update(lambda b: flips.append(b.in_sync))
        server.faults.gap(5)
        await wait_for(lambda: book.gaps >= 1, timeout=5)
        assert not book.in_sync or book.resyncs >= 2
        await wait_for(lambda: book.in_sync and book.resyncs >= 2, timeout=10)
        closed = [w for w in book.out_of_sync_windows if w[1] is not None]
        assert len(closed) == 2  # the initial sync and the gap
        assert all(flips)  # no update is delivered while out of sync
        await assert_matches_truth(book, server)


@pytest.mark.parametrize(
    ("fault", "args"),
    [
        ("rest_stale", (50,)),  # snapshot older than the first buffered push
        ("rest_ahead", (3,)),  # snapshot ahead of the stream
        ("rest_delay", (0.5,)),  # slow snapshot: the buffer grows meanwhile
        ("rest_malformed", ()),
        ("rest_status", (503,)),
    ],
)
async def test_snapshot_alignment_cases_end_in_a_correct_book(fault: Any, args: Any) -> None:
    async with MexcServer(rate=500) as server, manager_for("mexc", server) as books:
        getattr(server.faults, fault)(*args)
        book = await books.watch("mexc", "BTCUSDT", timeout=10)
        await wait_for(lambda: book.updates >= 50, timeout=5)
        await assert_matches_truth(book, server)
        if fault in ("rest_malformed", "rest_status"):
            assert book.snapshot_failures == 1


async def test_rate_limited_snapshot_waits_for_retry_after() -> None:
    async with GateSpotServer(rate=500) as server, manager_for("gateio", server) as books:
        server.faults.rest_status(429, retry_after=0.4)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        book = await books.watch("gateio", "BTC_USDT", depth=None, timeout=10)
        assert loop.time() - t0 >= 0.4
        assert book.snapshot_failures == 1
        await assert_matches_truth(book, server)


async def test_reconnect_mid_stream_resyncs_every_book_on_the_connection() -> None:
    async with MexcServer(rate=500) as server, manager_for("mexc", server) as books:
        a = await books.watch("mexc", "BTCUSDT")
        b = await books.watch("mexc", "ETHUSDT")
        server.faults.close_with(1006)
        await wait_for(lambda: a.resyncs >= 2 and b.resyncs >= 2, timeout=10)
        await wait_for(lambda: a.in_sync and b.in_sync, timeout=10)
        await assert_matches_truth(a, server)
        await assert_matches_truth(b, server)


async def test_many_books_resync_independently() -> None:
    specs = [
        SymbolSpec(f"S{i:03d}USDT", Decimal("0.01"), Decimal("0.001"), Decimal(100 + i), depth=60)
        for i in range(40)
    ]
    async with MexcServer(specs, rate=None, idle_timeout=10) as server:
        async with manager_for("mexc", server) as books:
            watched = await asyncio.gather(
                *(books.watch("mexc", s.symbol, limit=200, timeout=20) for s in specs)
            )
            assert len(books.managers["mexc"].handlers) == 2  # 40 streams > 30 per socket
            await books.resync("mexc", specs[0].symbol)
            await wait_for(lambda: watched[0].resyncs == 2 and watched[0].in_sync, timeout=10)
            assert all(b.resyncs == 1 for b in watched[1:])
            await assert_matches_truth(watched[0], server)
            await assert_matches_truth(watched[-1], server)


# -- hypothesis: random interleavings against the truth, no sockets ---------------------------

SPEC = SymbolSpec("BTC_USDT", Decimal("0.1"), Decimal("0.001"), Decimal("100"), depth=40)


def gate_frame(change: Any) -> str:
    def side(levels: Any) -> list[list[str]]:
        return [[str(p), str(s)] for p, s in levels]

    result = {
        "s": "BTC_USDT",
        "U": change.first_id,
        "u": change.last_id,
        "b": side(change.bids),
        "a": side(change.asks),
        "t": 1,
    }
    return json.dumps({"channel": "spot.order_book_update", "event": "update", "result": result})


class FakeVenue:
    """Stands in for OrderBookManager: serves snapshots of a Market at chosen moments."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.pending: list[int] = []

    def _metrics_note(self, what: str) -> None:
        pass

    async def _snapshot(self, book: LocalBook) -> tuple[list[Any], list[Any], int]:
        snap = self.market.snapshot_at("BTC_USDT", self.pending.pop(0), 1000)
        return list(snap.bids), list(snap.asks), snap.last_id


@settings(max_examples=40)
@given(
    seed=st.integers(0, 10_000),
    plan=st.lists(
        st.sampled_from(["push", "push", "push", "drop", "dup", "swap"]), min_size=5, max_size=60
    ),
    snap_lag=st.integers(-3, 3),
)
def test_book_is_never_in_sync_while_it_differs_from_the_truth(
    seed: Any, plan: Any, snap_lag: Any
) -> None:
    async def run() -> None:
        market = Market([SPEC], seed=seed)
        venue = FakeVenue(market)
        book = LocalBook(venue, "gateio", "BTC_USDT", "classic", 1000)  # type: ignore[arg-type]
        book._on_link(True, "subscribed")
        # The one pipeline: frames go through the Rust decoder the connection would use.
        decoder = StreamDecoder("gateio")
        assert isinstance(book.book, OrderBook)  # io="asyncio": the book is Python's
        decoder.register_book("BTC_USDT", book.book, emit=False)

        def on_frame(frame: str) -> None:
            for item in decoder.feed_message(1, frame.encode()):
                book._on_status(item.status)

        changes = [market.step("BTC_USDT") for _ in range(len(plan) + 5)]
        frames = [gate_frame(c) for c in changes]
        task = None
        for i, (action, frame) in enumerate(zip(plan, frames, strict=False)):
            if i == 2:
                # Snapshot taken around the third push, possibly behind or ahead of it.
                at = min(
                    max(changes[0].first_id - 1, changes[2].last_id + snap_lag), changes[-1].last_id
                )
                venue.pending.append(at)
                task = asyncio.ensure_future(book._sync_classic())
            if action == "push":
                on_frame(frame)
            elif action == "dup":
                on_frame(frame)
                on_frame(frame)
            elif action == "swap" and i + 1 < len(frames):
                on_frame(frames[i + 1])
                on_frame(frame)
            await asyncio.sleep(0)
            if book.in_sync:
                truth = market.snapshot_at("BTC_USDT", book.sequence, 1000)
                bids, asks = book.depth()
                assert exact(bids) == exact(truth.bids) and exact(asks) == exact(truth.asks)
            if task is not None and task.done() and not book.in_sync:
                venue.pending.append(changes[min(i, len(changes) - 1)].last_id)
                task = asyncio.ensure_future(book._sync_classic())
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())


def test_unknown_exchange_and_bad_mode_are_clear_errors() -> None:
    async def run() -> None:
        books = OrderBookManager()
        with pytest.raises(ValueError, match=r"valid: .*gateio, gateio_futures, .*mexc"):
            await books.watch("kraken", "BTCUSDT")
        with pytest.raises(ValueError, match="obu"):
            await books.watch("mexc", "BTCUSDT", mode="obu")
        await books.close()

    asyncio.run(run())


def test_pairwise_helper_is_exact() -> None:
    # exact() compares numerically: "1.50" and "1.5" are the same level size.
    assert exact([("1.50", "2")]) == exact([(Decimal("1.5"), 2)])
    assert list(itertools.pairwise([1, 2, 3])) == [(1, 2), (2, 3)]


async def test_connection_age_rollover_keeps_books_in_sync_without_a_resync() -> None:
    async with MexcServer(rate=500) as server:
        books = OrderBookManager(
            urls={"mexc": server.url},
            rest_urls={"mexc": server.rest_url},
            ping_interval=0.2,
            idle_timeout=2.0,
            max_connection_age=0.6,
        )
        async with books:
            book = await books.watch("mexc", "BTCUSDT")
            handler = books.managers["mexc"].handler
            await wait_for(lambda: handler.metrics.rollovers >= 2, timeout=10)
            # Make-before-break: the stream never stopped, so the book never resynced.
            assert book.resyncs == 1 and book.gaps == 0 and book.in_sync
            assert handler.metrics.reconnects == 0
            await assert_matches_truth(book, server)
