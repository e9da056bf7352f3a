"""The asyncio client against the local Gate.io spot and futures servers."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from client_helpers import own_tasks, wait_for

from hftws import gateio
from hftws.exchanges import GateioFuturesPublicHandler, GateioSpotPublicHandler
from hftws.interface import ConnectionState
from hftws.manager import create_websocket_handler_direct
from hftws.mixins.subscription import Subscription, SubscriptionError
from hftws.testing.gate_server import GateFuturesServer, GateSpotServer

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 2.0}


async def test_spot_streams_arrive_typed_and_continuous(gate_spot_server: GateSpotServer) -> None:
    ws = GateioSpotPublicHandler(url=gate_spot_server.url, **FAST)
    depth: list[Any] = []
    trades: list[Any] = []
    tickers: list[Any] = []
    pongs: list[Any] = []
    ws.handler.on_orderbook(depth.append)
    ws.handler.on_trade(trades.append)
    ws.handler.on_ticker(tickers.append)
    ws.handler.on_ping(pongs.append)
    async with ws:
        for sym in ("BTC_USDT", "ETH_USDT"):
            await ws.subscribe_depth(sym)
            await ws.subscribe_trades(sym)
            await ws.subscribe_ticker(sym)
        assert ws.state is ConnectionState.SUBSCRIBED
        await wait_for(lambda: len(depth) >= 40 and trades and len(tickers) >= 10 and pongs)
    assert all(isinstance(e, gateio.GateDepthUpdate) for e in depth)
    assert all(isinstance(e, gateio.GateTrade) for e in trades)
    assert all(isinstance(e, gateio.GateBookTicker) for e in tickers)
    for sym in ("BTC_USDT", "ETH_USDT"):
        mine = [e for e in depth if e.symbol == sym]
        assert mine
        for prev, cur in itertools.pairwise(mine):
            assert cur.first_id == prev.last_id + 1
    assert not own_tasks()


async def test_futures_streams_and_integer_contract_sizes(
    gate_futures_server: GateFuturesServer,
) -> None:
    ws = create_websocket_handler_direct("gateio_futures", url=gate_futures_server.url, **FAST)
    assert isinstance(ws, GateioFuturesPublicHandler)
    depth: list[Any] = []
    trades: list[Any] = []
    ws.handler.on_orderbook(depth.append)
    ws.handler.on_trade(trades.append)
    async with ws:
        await ws.subscribe_depth("BTC_USDT")
        await ws.subscribe_trades("BTC_USDT")
        await wait_for(lambda: len(depth) >= 10 and len(trades) >= 3)
    assert all(e.channel == "futures.order_book_update" for e in depth)
    # Futures list results fan out to one callback call per trade record.
    assert all(isinstance(t, gateio.GateTrade) for t in trades)
    assert all(t.size_decimal == t.size_decimal.to_integral_value() for t in trades)


async def test_refusal_by_error_object_is_reported(gate_spot_server: GateSpotServer) -> None:
    gate_spot_server.faults.refuse("spot.trades:ETH_USDT")
    ws = GateioSpotPublicHandler(url=gate_spot_server.url, **FAST)
    errors: list[Any] = []
    ws.handler.on_error(errors.append)
    async with ws:
        await ws.subscribe_trades("BTC_USDT")
        with pytest.raises(SubscriptionError) as info:
            await ws.subscribe_trades("ETH_USDT")
        assert info.value.refused == {Subscription("spot.trades", ("ETH_USDT",))}
        assert errors and errors[0].code == 2
        assert ws.subscriptions == {Subscription("spot.trades", ("BTC_USDT",))}


async def test_abnormal_close_reconnects_and_resubscribes(gate_spot_server: GateSpotServer) -> None:
    ws = GateioSpotPublicHandler(url=gate_spot_server.url, **FAST)
    depth: list[Any] = []
    ws.handler.on_orderbook(depth.append)
    async with ws:
        await ws.subscribe_depth("BTC_USDT")
        await wait_for(lambda: len(depth) >= 5)
        gate_spot_server.faults.close_with(1006)
        await wait_for(lambda: ws.metrics.reconnects == 1, timeout=5)
        n = len(depth)
        await wait_for(lambda: len(depth) >= n + 5 and ws.state is ConnectionState.SUBSCRIBED)
    assert not own_tasks()


async def test_invalid_json_is_counted_not_fatal(gate_spot_server: GateSpotServer) -> None:
    ws = GateioSpotPublicHandler(url=gate_spot_server.url, **FAST)
    depth: list[Any] = []
    ws.handler.on_orderbook(depth.append)
    async with ws:
        await ws.subscribe_depth("BTC_USDT")
        gate_spot_server.faults.send_garbage(2)
        await wait_for(lambda: ws.metrics.errors["GateDecodeError"] >= 2)
        n = len(depth)
        await wait_for(lambda: len(depth) >= n + 3)
        assert ws.metrics.reconnects == 0


def test_factories_reject_unknown_names_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"gateio, gateio_futures, .*mexc, mexc_private"):
        create_websocket_handler_direct("kraken")
    with pytest.raises(TypeError, match="valid:"):
        create_websocket_handler_direct("gateio", pingz=1)
