"""The asyncio client against the local MEXC server: streams, faults, heartbeat, limits."""

from __future__ import annotations

import asyncio
import itertools
import time
from decimal import Decimal
from typing import Any

import pytest
from client_helpers import own_tasks, wait_for

from hftws import mexc
from hftws.events import MessageType
from hftws.exchanges.mexc import MexcPublicHandler
from hftws.interface import ConnectionState
from hftws.manager import create_websocket_manager
from hftws.mixins.subscription import Subscription, SubscriptionError
from hftws.testing.market import SymbolSpec
from hftws.testing.mexc_server import MexcServer

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 2.0}


def subscribed(ws: MexcPublicHandler) -> bool:
    return ws.state is ConnectionState.SUBSCRIBED


def handler_for(server: MexcServer, **overrides: Any) -> MexcPublicHandler:
    opts = {**FAST, **overrides}
    return MexcPublicHandler(url=server.url, rest_url=server.rest_url, **opts)


def state_of(ws: Any) -> ConnectionState:
    """The state now (a call: the type checker keeps no narrowing from an earlier assert)."""
    state: ConnectionState = ws.state
    return state


async def test_streams_arrive_typed_and_in_order(mexc_server: MexcServer) -> None:
    ws = handler_for(mexc_server)
    depth: list[Any] = []
    trades: list[Any] = []
    tickers: list[Any] = []
    ws.handler.on_orderbook(depth.append)
    ws.handler.on_trade(trades.append)
    ws.handler.on_ticker(tickers.append)
    async with ws:
        assert ws.state is ConnectionState.CONNECTED
        for sym in ("BTCUSDT", "ETHUSDT"):
            await ws.subscribe_depth(sym)
            await ws.subscribe_trades(sym)
            await ws.subscribe_ticker(sym)
        assert state_of(ws) is ConnectionState.SUBSCRIBED
        await wait_for(lambda: len(depth) >= 40 and trades and len(tickers) >= 10)
    assert state_of(ws) is ConnectionState.CLOSED
    assert all(isinstance(e, mexc.MexcDepthUpdate) for e in depth)
    assert all(isinstance(e, mexc.MexcTrade) and e.symbol for e in trades)
    assert all(isinstance(e, mexc.MexcBookTicker) for e in tickers)
    assert {e.symbol for e in depth} == {"BTCUSDT", "ETHUSDT"}
    for sym in ("BTCUSDT", "ETHUSDT"):
        mine = [e for e in depth if e.symbol == sym]
        for prev, cur in itertools.pairwise(mine):
            assert cur.from_version == prev.to_version + 1
    m = ws.metrics
    assert m.messages["orderbook"] == len(depth)
    # Latencies are per socket read (one read may carry several messages), counts per message.
    assert m.latency["callback"].count == m.latency["decode"].count == m.reads > 0
    assert 0 < m.messages["trade"] <= len(trades)  # a push may carry several trades
    assert m.latency["decode"].quantile(0.5) > 0
    assert not own_tasks()


async def test_refused_channel_is_reported_and_not_retried(mexc_server: MexcServer) -> None:
    mexc_server.faults.refuse("*ETHUSDT*")
    ws = handler_for(mexc_server)
    acks: list[Any] = []
    ws.handler.on_subscribe(acks.append)
    async with ws:
        await ws.subscribe_depth("BTCUSDT")
        with pytest.raises(SubscriptionError) as info:
            await ws.subscribe_depth("ETHUSDT")
        bad = Subscription(mexc.depth_channel("ETHUSDT"))
        assert info.value.refused == {bad}
        assert bad not in ws.subscriptions and bad in ws.refused
        assert any(a.kind == "refused" for a in acks)
        # A reconnect re-sends only what was accepted.
        mexc_server.faults.close_with(1011)
        await wait_for(
            lambda: ws.metrics.reconnects == 1 and ws.state is ConnectionState.SUBSCRIBED
        )
        assert ws.subscriptions == {Subscription(mexc.depth_channel("BTCUSDT"))}
        assert ws.metrics.errors["subscription_refused"] == 1


@pytest.mark.parametrize("code", [1005, 1006, 1011])
async def test_reconnects_and_resubscribes_after_close(mexc_server: MexcServer, code: Any) -> None:
    ws = handler_for(mexc_server)
    seen: list[Any] = []
    ws.handler.on_orderbook(seen.append)
    states: list[ConnectionState] = []
    ws.on_state_change(states.append)
    async with ws:
        await ws.subscribe_depth("BTCUSDT")
        await wait_for(lambda: len(seen) >= 5)
        mexc_server.faults.close_with(code)
        await wait_for(lambda: ws.metrics.reconnects == 1)
        n = len(seen)
        await wait_for(lambda: len(seen) >= n + 5 and ws.state is ConnectionState.SUBSCRIBED)
        assert ws.close_code is None or ws.close_code == code
        assert mexc_server.connections == 1
    assert ConnectionState.RECONNECTING in states
    assert not own_tasks()


async def test_first_reconnect_after_1005_is_immediate(mexc_server: MexcServer) -> None:
    ws = handler_for(mexc_server)
    async with ws:
        await ws.subscribe_depth("BTCUSDT")
        t0 = time.monotonic()
        mexc_server.faults.close_with(1005)
        await wait_for(
            lambda: ws.metrics.reconnects == 1 and ws.state is ConnectionState.SUBSCRIBED
        )
        assert time.monotonic() - t0 < 1.0


async def test_silent_server_is_detected_within_the_idle_timeout(mexc_server: MexcServer) -> None:
    ws = handler_for(mexc_server, idle_timeout=1.0, ping_interval=0.25)
    async with ws:
        await ws.subscribe_depth("BTCUSDT")
        t0 = time.monotonic()
        mexc_server.faults.stall()
        await wait_for(lambda: ws.metrics.errors["idle_timeout"] >= 1, timeout=3.0)
        assert time.monotonic() - t0 < 2.0
        mexc_server.faults.unstall()
        await wait_for(
            lambda: ws.state is ConnectionState.SUBSCRIBED and ws.metrics.reconnects >= 1
        )


async def test_garbage_is_counted_and_the_stream_goes_on(mexc_server: MexcServer) -> None:
    ws = handler_for(mexc_server)
    seen: list[Any] = []
    ws.handler.on_orderbook(seen.append)
    async with ws:
        await ws.subscribe_depth("BTCUSDT")
        await wait_for(lambda: len(seen) >= 3)
        mexc_server.faults.send_garbage(3)
        await wait_for(lambda: sum(ws.metrics.errors.values()) >= 3)
        n = len(seen)
        await wait_for(lambda: len(seen) >= n + 5)
        assert ws.metrics.reconnects == 0
        assert ws.metrics.errors["MexcDecodeError"] >= 3


async def test_raising_callback_does_not_kill_the_connection(
    mexc_server: MexcServer, caplog: pytest.LogCaptureFixture
) -> None:
    ws = handler_for(mexc_server)
    seen: list[Any] = []

    def bad(event: Any) -> None:
        seen.append(event)
        raise RuntimeError("strategy bug")

    ws.handler.on_orderbook(bad)
    async with ws:
        await ws.subscribe_depth("BTCUSDT")
        await wait_for(lambda: len(seen) >= 10)
        assert ws.metrics.callback_errors >= 10
        assert ws.metrics.reconnects == 0 and ws.connected


async def test_async_for_with_a_slow_consumer_drops_and_counts(mexc_server: MexcServer) -> None:
    ws = handler_for(mexc_server, queue_size=5)
    got = []
    async with ws:
        await ws.subscribe_depth("BTCUSDT")
        await ws.subscribe_trades("BTCUSDT")
        async with asyncio.timeout(5):
            async for event in ws:
                got.append(event)
                await asyncio.sleep(0.05)  # a consumer slower than the feed
                if len(got) >= 10:
                    break
        assert ws.metrics.dropped > 0
        assert ws._events is not None and ws._events.qsize() <= 5


async def test_more_than_30_channels_spread_over_connections() -> None:
    symbols = ("AAAUSDT", "BBBUSDT", "CCCUSDT", "DDDUSDT")
    specs = [SymbolSpec(sym, Decimal("0.01"), Decimal("0.001"), Decimal("100")) for sym in symbols]
    async with MexcServer(specs, rate=50, idle_timeout=5) as server:
        manager = create_websocket_manager("mexc", url=server.url, **FAST)
        subs = [
            Subscription(f"spot@public.aggre.{kind}.v3.api.pb@{iv}@{sym}")
            for kind in ("depth", "deals", "bookTicker")
            for iv in ("10ms", "100ms")
            for sym in symbols
        ]
        subs += [Subscription(mexc.limit_depth_channel(s, n)) for s in symbols for n in (5, 10, 20)]
        assert len(subs) == 36
        books: list[Any] = []
        manager.on_orderbook(books.append)
        async with manager:
            await manager.subscribe(*subs[:20])
            await manager.subscribe(*subs[20:])
            assert len(manager.handlers) == 2
            assert manager.subscriptions == set(subs)
            assert sorted(len(h.subscriptions) for h in manager.handlers) == [6, 30]
            assert server.connections == 2
            await wait_for(lambda: len(books) >= 10)
        assert manager.stats()["connections"] == ["closed", "closed"]


async def test_reconnection_storm_is_throttled_by_backoff() -> None:
    server = MexcServer(rate=50, idle_timeout=5)
    await server.start()
    ws = MexcPublicHandler(url=server.url, **FAST)
    attempts: list[float] = []
    ws.on_state_change(
        lambda s: attempts.append(time.monotonic()) if s is ConnectionState.CONNECTING else None
    )
    try:
        await ws.connect()
        await ws.subscribe_depth("BTCUSDT")
        await server.stop()  # every reconnect attempt is now refused
        await asyncio.sleep(2.0)
        n_attempts = ws.metrics.errors["reconnect_failed"]
        # Backoff 0.05 s doubling to 5 s: a handful of attempts in 2 s, not hundreds.
        assert 2 <= n_attempts <= 8, n_attempts
        gaps = [b - a for a, b in itertools.pairwise(attempts[1:])]
        assert gaps and gaps[-1] > gaps[0]
    finally:
        await ws.close()
    assert not own_tasks()


async def test_message_type_routing_rejects_private_types(mexc_server: MexcServer) -> None:
    ws = handler_for(mexc_server)
    with pytest.raises(ValueError, match="ORDERBOOK"):
        ws.handler.on(MessageType.ORDER_UPDATE, print)
