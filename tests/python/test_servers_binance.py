"""Local Binance spot and USDⓈ-M servers speak binance.md: control, pushes, REST, limits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hftws.testing.binance_server import BinanceFuturesServer, BinanceSpotServer

Server = BinanceSpotServer | BinanceFuturesServer


@pytest_asyncio.fixture(params=["spot", "futures"])
async def bn(request: pytest.FixtureRequest) -> AsyncIterator[Server]:
    cls = BinanceSpotServer if request.param == "spot" else BinanceFuturesServer
    async with cls(rate=400) as server:
        yield server


def sub(streams: list[str], rid: int = 1, method: str = "SUBSCRIBE") -> str:
    return json.dumps({"method": method, "params": streams, "id": rid})


async def recv(ws: Any, timeout: float = 5.0) -> Any:
    async with asyncio.timeout(timeout):
        return json.loads(await ws.recv())


async def pushes(ws: Any, stream: str, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while len(out) < count:
            msg = json.loads(await ws.recv())
            if msg.get("stream") == stream:
                out.append(msg["data"])
    return out


def dec(levels: list[list[str]]) -> dict[Decimal, Decimal]:
    return {Decimal(p): Decimal(q) for p, q in levels}


async def test_subscribe_ack_and_combined_depth_chain_matches_the_snapshot(bn: Server) -> None:
    stream = "btcusdt@depth@100ms"
    async with connect(bn.url) as ws:
        await ws.send(sub([stream], rid=7))
        assert await recv(ws) == {"result": None, "id": 7}
        first = (await pushes(ws, stream, 1))[0]
        async with aiohttp.ClientSession() as http:
            path = "/fapi/v1/depth" if bn.FUTURES else "/api/v3/depth"
            async with http.get(
                bn.rest_url + path, params={"symbol": "BTCUSDT", "limit": "1000"}
            ) as r:
                assert r.status == 200 and "X-MBX-USED-WEIGHT-1M" in r.headers
                snap = await r.json()
        book = {"b": dec(snap["bids"]), "a": dec(snap["asks"])}
        last = snap["lastUpdateId"]
        assert first["U"] <= last + 1 or first["u"] <= last  # the snapshot is at or after it
        applied = 0
        prev_u = None
        for data in await pushes(ws, stream, 40):
            assert data["e"] == "depthUpdate" and data["s"] == "BTCUSDT"
            if bn.FUTURES:
                assert "T" in data
                if prev_u is not None:
                    assert data["pu"] == prev_u  # futures continuity
            elif prev_u is not None:
                assert data["U"] == prev_u + 1  # spot continuity
            prev_u = data["u"]
            if data["u"] <= last:
                continue
            assert data["U"] <= last + 1
            for side in ("b", "a"):
                for p, q in dec(data[side]).items():
                    if q:
                        book[side][p] = q
                    else:
                        book[side].pop(p, None)
            last = data["u"]
            applied += 1
        truth = bn.market.snapshot_at("BTCUSDT", last, 100_000)
        assert applied > 0
        assert sorted(book["b"].items(), reverse=True) == list(truth.bids)
        assert sorted(book["a"].items()) == list(truth.asks)


async def test_trades_and_book_ticker_shapes(bn: Server) -> None:
    trade = "btcusdt@aggTrade" if bn.FUTURES else "btcusdt@trade"
    url = bn.market_url if isinstance(bn, BinanceFuturesServer) else bn.url
    async with connect(url) as ws:
        await ws.send(sub([trade]))
        assert await recv(ws) == {"result": None, "id": 1}
        data = (await pushes(ws, trade, 1))[0]
        assert data["e"] == ("aggTrade" if bn.FUTURES else "trade")
        assert isinstance(data["m"], bool) and Decimal(data["q"]) > 0
        assert ("nq" in data) == bn.FUTURES and ("M" in data) != bn.FUTURES
    async with connect(bn.url) as ws:
        await ws.send(sub(["btcusdt@bookTicker"]))
        await recv(ws)
        data = (await pushes(ws, "btcusdt@bookTicker", 1))[0]
        assert isinstance(data["u"], int) and Decimal(data["b"]) < Decimal(data["a"])
        assert ("e" in data) == bn.FUTURES


async def test_raw_ws_path_and_streams_in_the_url() -> None:
    async with BinanceSpotServer(rate=400) as bn:
        base = bn.url.removesuffix("/stream")
        async with connect(base + "/ws/btcusdt@depth") as ws:
            data = await recv(ws)
            assert data["e"] == "depthUpdate" and "stream" not in data
        async with connect(bn.url + "?streams=ethusdt@depth@100ms/ethusdt@bookTicker") as ws:
            names = {(await recv(ws))["stream"] for _ in range(6)}
            assert names <= {"ethusdt@depth@100ms", "ethusdt@bookTicker"}


async def test_control_errors_refusals_and_silent_streams(bn: Server) -> None:
    bn.faults.refuse("ethusdt@*", message="refused by test")
    async with connect(bn.url) as ws:
        await ws.send("{nope")
        assert (await recv(ws))["code"] == 3
        await ws.send(json.dumps({"method": "SUBSCRIB", "params": [], "id": 4}))
        err = await recv(ws)
        assert err["code"] == 2 and err["id"] == 4 and "unknown variant" in err["msg"]
        await ws.send(sub(["ethusdt@depth@100ms"], rid=5))
        assert await recv(ws) == {"code": 2, "msg": "refused by test", "id": 5}
        # An unknown stream is acknowledged and stays silent (Binance reports nothing).
        await ws.send(sub(["nosuch@depth"], rid=6))
        assert await recv(ws) == {"result": None, "id": 6}
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 8}))
        assert await recv(ws) == {"result": [], "id": 8}
        with pytest.raises(TimeoutError):
            await recv(ws, timeout=0.3)


async def test_futures_market_streams_are_silent_on_the_public_path() -> None:
    async with BinanceFuturesServer(rate=400) as bn:
        async with connect(bn.url) as ws:  # /public
            await ws.send(sub(["btcusdt@aggTrade"]))
            assert await recv(ws) == {"result": None, "id": 1}
            with pytest.raises(TimeoutError):
                await recv(ws, timeout=0.4)


async def test_too_many_frames_per_second_close_1008() -> None:
    async with BinanceSpotServer(rate=50) as bn:
        async with connect(bn.url) as ws:
            for i in range(6):
                await ws.send(sub([f"btcusdt@depth{5 + 5 * (i % 2)}"], rid=i))
            with pytest.raises(ConnectionClosed) as closed:
                async with asyncio.timeout(3):
                    while True:
                        await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert bn.rate_closes == 1


async def test_too_many_streams_is_an_error() -> None:
    async with BinanceSpotServer(rate=50, max_streams=2) as bn:
        async with connect(bn.url) as ws:
            await ws.send(sub(["btcusdt@trade", "btcusdt@bookTicker", "ethusdt@trade"], rid=3))
            err = await recv(ws)
            assert err["code"] == 2 and err["id"] == 3


async def test_request_weight_429_then_418_with_retry_after() -> None:
    async with BinanceSpotServer(rate=50, weight_limit=300, ban_after=1, ban_seconds=30) as bn:
        url = bn.rest_url + "/api/v3/depth"
        statuses = []
        async with aiohttp.ClientSession() as http:
            for _ in range(4):
                params = {"symbol": "BTCUSDT", "limit": "5000"}  # weight 250
                async with http.get(url, params=params) as r:
                    statuses.append((r.status, r.headers.get("Retry-After")))
                    if r.status != 200:
                        assert (await r.json())["code"] == -1003
            async with http.get(url, params={"symbol": "BTCUSDT", "limit": "7"}) as r:
                assert r.status == 418  # still banned, whatever the weight
        assert [s for s, _ in statuses] == [200, 429, 418, 418]
        assert all(int(ra) >= 1 for s, ra in statuses if s != 200 and ra is not None)
        assert statuses[2][1] == "30"


async def test_futures_depth_limits_weights_and_body() -> None:
    async with BinanceFuturesServer(rate=50) as bn, aiohttp.ClientSession() as http:
        url = bn.rest_url + "/fapi/v1/depth"
        async with http.get(url, params={"symbol": "BTCUSDT", "limit": "7"}) as r:
            assert r.status == 400 and (await r.json())["code"] == -1130
        async with http.get(url, params={"symbol": "XXX", "limit": "5"}) as r:
            assert r.status == 400 and (await r.json())["code"] == -1121
        async with http.get(url, params={"symbol": "BTCUSDT", "limit": "1000"}) as r:
            body = await r.json()
            assert set(body) == {"lastUpdateId", "E", "T", "bids", "asks"}
            assert r.headers["X-MBX-USED-WEIGHT-1M"] == "20"


async def test_server_shutdown_then_close_and_duplicates() -> None:
    async with BinanceSpotServer(rate=400) as bn:
        async with connect(bn.url) as ws:
            await ws.send(sub(["btcusdt@depth@100ms"]))
            await recv(ws)
            bn.faults.duplicate(1)
            seen: list[tuple[int, int]] = []
            for data in await pushes(ws, "btcusdt@depth@100ms", 8):
                seen.append((data["U"], data["u"]))
            assert len(set(seen)) < len(seen)  # a duplicate and a replay of the one before
            bn.server_shutdown(close_after=0.2)
            async with asyncio.timeout(3):
                while True:
                    msg = json.loads(await ws.recv())
                    if msg.get("stream") == "!serverShutdown":
                        assert msg["data"]["e"] == "serverShutdown"
                        break
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(3):
                    while True:
                        await ws.recv()
