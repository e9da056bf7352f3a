"""The native I/O mode (issue 19): books kept by a Rust worker thread outside the GIL,
against the local exchange servers (``hftws.testing``)."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from client_helpers import own_tasks, wait_for

from hftws import HftwsError, NativeBook, NativeFeed
from hftws.books import LocalBook, OrderBookManager
from hftws.errors import SubscriptionError
from hftws.events import MessageType
from hftws.testing.binance_server import BinanceFuturesServer, BinanceSpotServer
from hftws.testing.gate_server import GateFuturesServer, GateSpotServer
from hftws.testing.kucoin_server import KucoinFuturesServer, KucoinServer
from hftws.testing.mexc_server import MexcServer

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 2.0}
SERVERS: dict[str, Any] = {
    "gateio": GateSpotServer,
    "gateio_futures": GateFuturesServer,
    "mexc": MexcServer,
    "binance": BinanceSpotServer,
    "binance_futures": BinanceFuturesServer,
}
SYMBOL = {
    "gateio": "BTC_USDT",
    "gateio_futures": "BTC_USDT",
    "mexc": "BTCUSDT",
    "binance": "BTCUSDT",
    "binance_futures": "BTCUSDT",
}
LEVELS = 20


def exact(levels: Any) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(str(p)), Decimal(str(s))) for p, s in levels]


def native_manager(exchange: str, server: Any, **options: Any) -> OrderBookManager:
    return OrderBookManager(
        io="native",
        urls={exchange: server.url},
        rest_urls={exchange: server.rest_url},
        **(FAST | options),
    )


KUCOIN: dict[str, Any] = {"ping_interval_ms": 500, "ping_timeout_ms": 1000}


@pytest.mark.parametrize(
    ("exchange", "cls", "symbol"),
    [("kucoin", KucoinServer, "BTC-USDT"), ("kucoin_futures", KucoinFuturesServer, "XBTUSDTM")],
)
async def test_kucoin_books_resolve_a_fresh_endpoint_per_connection(
    exchange: str, cls: Any, symbol: str
) -> None:
    async with cls(rate=300, **KUCOIN) as server:
        plain = OrderBookManager(rest_urls={exchange: server.rest_url}, **FAST)
        native = OrderBookManager(io="native", rest_urls={exchange: server.rest_url}, **FAST)
        async with plain, native:
            a = await plain.watch(exchange, symbol)
            n = await native.watch(exchange, symbol)
            await wait_for(lambda: n.updates >= 100, timeout=10)
            server.pause()
            # Futures books count the stream's own sequence: compare with the asyncio book.
            await asyncio.sleep(0.2)
            await wait_for(lambda: a.sequence == n.sequence, timeout=5)
            assert n.depth() == a.depth(LEVELS)
            server.resume()
            # A token serves one connection: the reconnect needs (and gets) a new one.
            issued = server.tokens_issued
            server.faults.close_with(1006)
            await wait_for(lambda: not n.in_sync, timeout=3)
            await wait_for(lambda: n.in_sync and n.resyncs >= 2, timeout=10)
            assert server.tokens_issued > issued and server.tokens_refused == 0


async def assert_matches_truth(book: LocalBook, server: Any) -> None:
    """Freeze the market, let the worker catch up, compare the published levels exactly."""
    server.pause()
    last = server.market.last_id(book.symbol)
    await wait_for(lambda: book.sequence == last and book.in_sync, timeout=5)
    truth = server.market.snapshot_at(book.symbol, book.sequence, 100_000)
    bids, asks = book.depth()
    assert exact(bids) == exact(truth.bids[:LEVELS])
    assert exact(asks) == exact(truth.asks[:LEVELS])
    server.resume()


@pytest.mark.parametrize("exchange", list(SERVERS))
async def test_native_book_equals_the_asyncio_book_and_the_truth(exchange: str) -> None:
    async with SERVERS[exchange](rate=None) as server:
        plain = OrderBookManager(
            urls={exchange: server.url}, rest_urls={exchange: server.rest_url}, **FAST
        )
        async with plain, native_manager(exchange, server) as native:
            a = await plain.watch(exchange, SYMBOL[exchange])
            n = await native.watch(exchange, SYMBOL[exchange])
            assert n.state == "in_sync" and n.in_sync
            await wait_for(lambda: n.updates >= 300, timeout=10)
            server.pause()
            last = server.market.last_id(n.symbol)
            await wait_for(lambda: a.sequence == last == n.sequence, timeout=5)
            assert n.depth() == a.depth(LEVELS)
            assert n.top(5) == a.top(5)
            assert n.bbo() == a.bbo()
            assert n.best_bid() == a.best_bid() and n.mid() == a.mid()
            server.resume()
            await assert_matches_truth(n, server)
            stats = native.native[exchange].stats()
            lat = stats["read_to_applied_ns"]
            # Pushes replayed after the snapshot are applied by the command, not a read.
            assert stats["depth"] >= 300 and lat["count"] >= 200
            assert 0 < lat["p50"] <= lat["p99"] <= lat["max"]
            assert n.gaps == 0 and n.resyncs == 1
    assert not own_tasks()


async def test_gate_obu_book_equals_the_truth_and_reseeds_after_a_gap() -> None:
    async with GateSpotServer(rate=None) as server:
        async with native_manager("gateio", server, native_levels=50) as books:
            book = await books.watch("gateio", "ETH_USDT", mode="obu", depth=50)
            await wait_for(lambda: book.updates >= 300, timeout=10)
            server.pause()
            last = server.market.last_id(book.symbol)
            await wait_for(lambda: book.sequence == last and book.in_sync, timeout=5)
            truth = server.market.snapshot_at(book.symbol, book.sequence, 100_000)
            bids, asks = book.depth()
            assert exact(bids) == exact(truth.bids[:50]) and exact(asks) == exact(truth.asks[:50])
            server.resume()
            # A gap: unsubscribe, subscribe again, re-seed from the next full push.
            server.faults.gap(3)
            await wait_for(lambda: book.gaps >= 1 and book.in_sync, timeout=10)
            assert book.resyncs == 2


async def test_on_update_listeners_are_woken_once_per_batch() -> None:
    with ServerThread(GateSpotServer, rate=2000) as server:
        async with native_manager("gateio", server) as books:
            book = await books.watch("gateio", "BTC_USDT")
            calls: list[int] = []
            tops: list[int] = []
            book.on_update(lambda b: calls.append(b.sequence))
            await wait_for(lambda: len(calls) >= 20, timeout=5)
            assert calls == sorted(calls) and all(c > 0 for c in calls)
            book.on_update(lambda b: tops.append(b.sequence), top_only=True)
            await wait_for(lambda: len(tops) >= 5, timeout=5)
            before = book.updates
            time.sleep(0.2)  # busy: the worker coalesces into one pending notification
            assert book.updates - before > 50, "the worker kept applying"
            waiting = books.native["gateio"].stats()["waiting"]
            assert waiting <= 2, "one pending notification per book, not one per update"
            n = len(calls)
            await wait_for(lambda: len(calls) > n, timeout=2)


async def test_books_share_a_connection_and_unwatch_leaves_the_others() -> None:
    async with GateSpotServer(rate=500) as server, native_manager("gateio", server) as books:
        btc = await books.watch("gateio", "BTC_USDT")
        eth = await books.watch("gateio", "ETH_USDT")
        assert len(books.native) == 1 and btc.in_sync and eth.in_sync
        await books.unwatch("gateio", "ETH_USDT")
        assert not eth.in_sync and btc.in_sync
        start = btc.updates
        await wait_for(lambda: btc.updates > start + 20, timeout=5)
        again = await books.watch("gateio", "ETH_USDT")
        assert again is not eth and again.in_sync
        await assert_matches_truth(again, server)


class ServerThread:
    """A local server on its own thread and loop, so that a blocked test loop does not
    stop it sending."""

    def __init__(self, cls: Any, **kwargs: Any) -> None:
        self._cls, self._kwargs = cls, kwargs
        self.server: Any = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with self._cls(**self._kwargs) as server:
            self.server = server
            self._ready.set()
            await self._stop.wait()

    def call(self, fn: Any, *args: Any) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(fn, *args)

    def __enter__(self) -> Any:
        self._thread.start()
        assert self._ready.wait(10), "server thread did not start"
        return self.server

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive()


async def test_a_busy_python_loop_does_not_stop_the_worker() -> None:
    with ServerThread(GateSpotServer, rate=2000) as server:
        async with native_manager("gateio", server, idle_timeout=5.0) as books:
            book = await books.watch("gateio", "BTC_USDT")
            native = book.book
            assert isinstance(native, NativeBook)
            before, read_before = book.sequence, native.read_ns
            t0 = time.monotonic_ns()
            time.sleep(0.2)  # a slow strategy callback: the loop runs nothing meanwhile
            after, read_after = book.sequence, native.read_ns
            assert after > before, "the worker kept applying while Python was busy"
            assert read_after > t0 > read_before
            assert book.in_sync
            applied_ns = native.applied_ns
            assert read_after <= applied_ns <= time.monotonic_ns()


@pytest.mark.parametrize("fault", ["close_code", "drop", "silence"])
async def test_connection_loss_takes_the_book_out_of_sync_at_once_then_back(fault: str) -> None:
    async with GateSpotServer(rate=500) as server:
        async with native_manager("gateio", server, idle_timeout=0.6) as books:
            book = await books.watch("gateio", "BTC_USDT")
            flips: list[bool] = []
            book.on_state_change(lambda b: flips.append(b.in_sync))
            if fault == "close_code":
                server.faults.close_with(1011)
            elif fault == "drop":
                server.faults.drop_after(20)
            else:
                server.faults.stall()
            # The worker unlinks the book before Python hears of it.
            await wait_for(lambda: not book.book.linked, timeout=3)
            assert not book.in_sync
            if fault == "drop":
                server.faults.drop_after(None)
            elif fault == "silence":
                server.faults.unstall()
            await wait_for(lambda: book.in_sync and book.resyncs >= 2, timeout=10)
            assert flips[:2] == [False, True]
            await assert_matches_truth(book, server)
            stats = books.native["gateio"].stats()
            assert "native" in books.stats()
            assert stats["reconnects"] >= 1 and stats["disconnects"] >= 1


async def test_refused_subscription() -> None:
    async with GateSpotServer(rate=200) as server, native_manager("gateio", server) as books:
        server.faults.refuse("spot.order_book_update:ETH_USDT*")
        with pytest.raises(SubscriptionError):
            await books.watch("gateio", "ETH_USDT")
        assert ("gateio", "ETH_USDT") not in books.books
        # Refused on the resubscription after a reconnect: out of sync, state "refused".
        book = await books.watch("gateio", "BTC_USDT")
        server.faults.refuse("spot.order_book_update:BTC_USDT*")
        server.faults.close_with(1006)
        await wait_for(lambda: book.state == "refused", timeout=10)
        assert not book.in_sync
        with pytest.raises(SubscriptionError):
            await book.wait_in_sync(timeout=1)


async def test_other_events_reach_the_handler_and_overflow_is_counted() -> None:
    with ServerThread(GateSpotServer, rate=2000) as server:
        async with native_manager("gateio", server, native_queue=8) as books:
            await books.watch("gateio", "BTC_USDT")
            conn = books.native["gateio"]
            trades: list[Any] = []
            conn.handler.on(MessageType.TRADE, trades.append)
            await conn.subscribe(conn.protocol.trades_subscription("BTC_USDT"))
            await wait_for(lambda: len(trades) >= 3, timeout=5)
            assert trades[0].kind == "trade"
            time.sleep(0.3)  # Python does not drain: the bounded queue fills, then drops
            stats = conn.stats()
            assert stats["dropped"] > 0
            assert stats["waiting"] <= 8 + 4  # data capped; a few control items may wait
            await wait_for(lambda: conn.stats()["waiting"] == 0, timeout=5)
            assert books.books[("gateio", "BTC_USDT")].in_sync


@pytest.mark.parametrize("exchange", ["mexc", "gateio"])
@pytest.mark.parametrize(("fault", "args"), [("rest_stale", (50,)), ("rest_ahead", (3,))])
async def test_stale_and_future_snapshots_end_in_a_correct_book(
    exchange: str, fault: str, args: Any
) -> None:
    async with SERVERS[exchange](rate=500) as server, native_manager(exchange, server) as books:
        getattr(server.faults, fault)(*args)
        book = await books.watch(exchange, SYMBOL[exchange], timeout=10)
        await wait_for(lambda: book.updates >= 50, timeout=5)
        await assert_matches_truth(book, server)
        assert book.gaps == 0 and book.resyncs == 1


async def test_trace_and_close_join_quickly() -> None:
    async with GateSpotServer(rate=None) as server:
        books = native_manager("gateio", server, native_trace=64)
        async with books:
            book = await books.watch("gateio", "BTC_USDT")
            await wait_for(lambda: book.updates >= 100, timeout=5)
            trace = books.trace("gateio")
            assert len(trace) == 64
            ids = [t[1] for t in trace]
            assert ids == sorted(ids) and all(t[0] == "BTC_USDT" for t in trace)
            assert all(0 < read <= applied for _s, _u, read, applied in trace)
            feed = books.native["gateio"].feed
            t0 = time.monotonic()
        assert time.monotonic() - t0 < 1.0
        assert not feed.running and not feed.connected
        assert not book.in_sync, "a closed feed's books are out of sync"


async def test_dropping_a_feed_does_not_hang_or_leak_the_thread() -> None:
    async with GateSpotServer(rate=100) as server:
        # OS threads (the worker is not a Python thread).
        before = len(os.listdir("/proc/self/task"))
        feeds = [NativeFeed("gateio", server.url, idle_timeout=2.0)]
        assert len(os.listdir("/proc/self/task")) == before + 1
        feeds[0].add_book("BTC_USDT", "gate")
        await wait_for(lambda: feeds[0].connected, timeout=5)
        t0 = time.monotonic()
        feeds.clear()  # the last reference: Drop stops and joins the worker
        gc.collect()
        assert time.monotonic() - t0 < 2.0
        assert len(os.listdir("/proc/self/task")) == before, "joined by the drop"


async def test_a_worker_stuck_in_a_handshake_does_not_block_python() -> None:
    # A server that accepts the TCP connection and never answers the upgrade.
    held: list[asyncio.StreamWriter] = []

    async def hold(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        held.append(w)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    feed = NativeFeed("gateio", f"ws://127.0.0.1:{port}/", connect_timeout=3.0)
    try:
        book = feed.add_book("BTC_USDT", "gate")
        await wait_for(lambda: bool(held), timeout=5)
        t0 = time.monotonic()
        assert book.set_linked(True) is False, "no connection to link the book to"
        book.set_linked(False)
        book.mark_out_of_sync()
        assert time.monotonic() - t0 < 0.5
        assert not book.in_sync
    finally:
        t0 = time.monotonic()
        assert feed.close(5.0)
        assert time.monotonic() - t0 < 1.0, "a stop does not wait out the handshake timeout"
        for w in held:
            w.close()
        server.close()
        await server.wait_closed()


def test_other_schemes_are_refused() -> None:
    # wss:// is accepted (tests/python/test_native_tls.py).
    with pytest.raises(HftwsError, match="ws://"):
        NativeFeed("gateio", "https://api.gateio.ws/ws/v4/")
    with pytest.raises(ValueError, match="unknown exchange"):
        NativeFeed("nope", "ws://127.0.0.1:1/")


async def test_a_feed_that_cannot_connect_keeps_retrying_and_says_why() -> None:
    feed = NativeFeed("gateio", "ws://127.0.0.1:9/", reconnect_initial=0.01, reconnect_max=0.05)
    try:
        book = feed.add_book("BTC_USDT", "gate")
        await wait_for(lambda: feed.last_error is not None, timeout=5)
        assert "connect" in (feed.last_error or "")
        assert not book.in_sync and book.state in ("empty", "out_of_sync")
    finally:
        assert feed.close(1.0)
