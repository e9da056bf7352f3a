"""The simulator's driver: pace, burst mode, pause/resume, several clients, clean shutdown."""

from __future__ import annotations

import asyncio
import json

from sim_helpers import quiet_for, recv_json
from websockets.asyncio.client import connect

from hftws.testing.gate_server import GateSpotServer

SUB = json.dumps(
    {
        "time": 0,
        "channel": "spot.order_book_update",
        "event": "subscribe",
        "payload": ["BTC_USDT", "100ms"],
    }
)


async def test_rate_sets_the_pace_and_none_runs_flat_out() -> None:
    async with GateSpotServer(rate=40) as server, connect(server.url) as ws:
        await ws.send(SUB)
        await recv_json(ws)
        slow = len(await quiet_for(ws, 0.5))
        assert 8 <= slow <= 30  # ~20 at 40 steps/s
        server.rate = None
        fast = len(await quiet_for(ws, 0.5))
        assert fast > 10 * slow


async def test_pause_freezes_market_and_stream_then_resume_continues() -> None:
    async with GateSpotServer(rate=300) as server, connect(server.url) as ws:
        await ws.send(SUB)
        await recv_json(ws)
        await quiet_for(ws, 0.1)
        server.pause()
        await quiet_for(ws, 0.05)  # in flight
        frozen = server.market.last_id("BTC_USDT")
        assert await quiet_for(ws, 0.2) == []
        assert server.market.last_id("BTC_USDT") == frozen
        server.resume()
        first = json.loads((await quiet_for(ws, 0.2))[0])["result"]
        assert first["U"] == frozen + 1


async def test_market_only_moves_for_subscribed_symbols() -> None:
    async with GateSpotServer(rate=300) as server, connect(server.url) as ws:
        btc, eth = server.market.last_id("BTC_USDT"), server.market.last_id("ETH_USDT")
        await ws.send(SUB)
        await recv_json(ws)
        await quiet_for(ws, 0.2)
        assert server.market.last_id("BTC_USDT") > btc + 20
        assert server.market.last_id("ETH_USDT") == eth


async def test_many_clients_connect_and_leave_without_leaks() -> None:
    async with GateSpotServer(rate=300) as server:
        for _ in range(3):
            clients = [await connect(server.url) for _ in range(5)]
            for ws in clients:
                await ws.send(SUB)
            for ws in clients:
                await recv_json(ws)
            assert server.connections == 5
            for ws in clients:
                await ws.close()
            async with asyncio.timeout(2):
                while server.connections:
                    await asyncio.sleep(0.01)
    assert server.connections == 0
