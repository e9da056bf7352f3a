"""Local KuCoin servers speak kucoin.md: bullet tokens, welcome, ping rules, acks and errors,
pushes in the REST snapshot's id space, futures snapshots with JSON-number prices."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from hftws.testing.kucoin_server import KucoinFuturesServer, KucoinServer


async def bullet(server: Any) -> tuple[str, dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        async with http.post(server.rest_url + "/api/v1/bullet-public") as resp:
            body = await resp.json()
    assert body["code"] == "200000"
    inst = body["data"]["instanceServers"][0]
    return body["data"]["token"], inst


async def get(server: Any, path: str) -> Any:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.rest_url + path) as resp:
            return await resp.text()


async def recv(ws: ClientConnection, timeout: float = 3.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        msg: dict[str, Any] = json.loads(await ws.recv())
        return msg


async def request(ws: ClientConnection, rid: str, topic: str, kind: str = "subscribe") -> None:
    await ws.send(
        json.dumps(
            {"id": rid, "type": kind, "topic": topic, "privateChannel": False, "response": True}
        )
    )


async def answer(ws: ClientConnection, rid: str) -> dict[str, Any]:
    """The ack or error for request ``rid`` (pushes in between skipped)."""
    for _ in range(10_000):
        msg = await recv(ws)
        if msg.get("id") == rid:
            return msg
    raise AssertionError("no answer")


async def test_token_welcome_ping_and_single_use() -> None:
    async with KucoinServer(rate=100) as server:
        token, inst = await bullet(server)
        assert inst["endpoint"] == server.url and inst["pingInterval"] == 18000
        url = f"{server.url}?token={token}&connectId=abc"
        async with connect(url) as ws:
            assert await recv(ws) == {"id": "abc", "type": "welcome"}
            await ws.send('{"id":"77","type":"ping"}')
            pong = await recv(ws)
            assert pong["id"] == "77" and pong["type"] == "pong"
        # The token served one connection; no token at all is refused the same way.
        for bad in (url, server.url):
            with pytest.raises(InvalidStatus) as info:
                async with connect(bad):
                    pass
            assert info.value.response.status_code == 401
        assert server.tokens_refused == 2


async def test_silent_client_is_dropped() -> None:
    async with KucoinServer(rate=100, ping_interval_ms=100, ping_timeout_ms=100) as server:
        token, _ = await bullet(server)
        async with connect(f"{server.url}?token={token}&connectId=x") as ws:
            await recv(ws)  # welcome
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(3):
                    while True:
                        await ws.recv()
            assert ws.close_code == 1000


async def test_acks_errors_and_limits() -> None:
    async with KucoinServer(rate=100, max_topics=3) as server:
        token, _ = await bullet(server)
        async with connect(f"{server.url}?token={token}&connectId=x") as ws:
            await recv(ws)
            await request(ws, "1", "/market/level2:BTC-USDT,ETH-USDT")
            assert await answer(ws, "1") == {"id": "1", "type": "ack"}
            await request(ws, "2", "/market/level2:BSV-BTC")
            err = await answer(ws, "2")
            assert err["type"] == "error" and err["code"] == 404
            assert err["data"] == "topic /market/level2:BSV-BTC is not found"
            many = ",".join(["BTC-USDT"] * 101)
            await request(ws, "3", f"/market/match:{many}")
            assert (await answer(ws, "3"))["code"] == 509
            await request(ws, "4", "/market/match:BTC-USDT,ETH-USDT")
            err = await answer(ws, "4")
            assert err["code"] == 509 and "of 3 per session" in err["data"]
            await request(ws, "5", "/market/nothing:BTC-USDT")
            assert (await answer(ws, "5"))["code"] == 404
            await request(ws, "6", "/market/level2:ETH-USDT", kind="unsubscribe")
            assert (await answer(ws, "6"))["type"] == "ack"


async def test_spot_pushes_follow_the_rest_snapshot() -> None:
    async with KucoinServer(rate=300) as server:
        token, _ = await bullet(server)
        async with connect(f"{server.url}?token={token}&connectId=x") as ws:
            await recv(ws)
            await request(ws, "1", "/market/level2:BTC-USDT")
            await answer(ws, "1")
            server.pause()
            await asyncio.sleep(0.05)
            body = json.loads(
                await get(server, "/api/v1/market/orderbook/level2_100?symbol=BTC-USDT")
            )
            data = body["data"]
            assert body["code"] == "200000" and isinstance(data["sequence"], str)
            book = {("b", Decimal(p)): Decimal(s) for p, s in data["bids"]}
            book |= {("a", Decimal(p)): Decimal(s) for p, s in data["asks"]}
            last = int(data["sequence"])
            server.resume()
            pushes = 0
            for _ in range(10_000):
                msg = await recv(ws)
                if msg.get("subject") != "trade.l2update":
                    continue
                d = msg["data"]
                if d["sequenceEnd"] <= last:
                    continue
                assert d["sequenceStart"] <= last + 1 <= d["sequenceEnd"]
                for side, key in (("bids", "b"), ("asks", "a")):
                    for p, s, seq in d["changes"][side]:
                        assert isinstance(seq, str) and int(seq) <= d["sequenceEnd"]
                        if p == "0" or int(seq) <= last:
                            continue
                        if Decimal(s) == 0:
                            book.pop((key, Decimal(p)), None)
                        else:
                            book[(key, Decimal(p))] = Decimal(s)
                last = d["sequenceEnd"]
                pushes += 1
                if pushes >= 30:
                    break
            server.pause()
            truth = server.market.snapshot_at("BTC-USDT", last, 1000)
            mine_bids = sorted(((p, s) for (k, p), s in book.items() if k == "b"), reverse=True)
            mine_asks = sorted((p, s) for (k, p), s in book.items() if k == "a")
            assert mine_bids == list(truth.bids) and mine_asks == list(truth.asks)


async def test_futures_snapshot_numbers_and_strict_sequence() -> None:
    async with KucoinFuturesServer(rate=300) as server:
        token, _ = await bullet(server)
        async with connect(f"{server.url}?token={token}&connectId=x") as ws:
            await recv(ws)
            await request(ws, "1", "/contractMarket/level2:XBTUSDTM")
            await answer(ws, "1")
            text = await get(server, "/api/v1/level2/snapshot?symbol=XBTUSDTM")
            body = json.loads(text, parse_float=Decimal)
            data = body["data"]
            assert isinstance(data["sequence"], int) and isinstance(data["ts"], int)
            assert isinstance(data["bids"][0][0], Decimal) and isinstance(data["bids"][0][1], int)
            seqs: list[int] = []
            for _ in range(10_000):
                msg = await recv(ws)
                if msg.get("subject") == "level2":
                    price, side, size = msg["data"]["change"].split(",")
                    assert side in ("buy", "sell") and int(size) >= 0 and Decimal(price) > 0
                    assert msg["sn"] == msg["data"]["sequence"]
                    seqs.append(msg["data"]["sequence"])
                    if len(seqs) >= 50:
                        break
            assert seqs == list(range(seqs[0], seqs[0] + 50))
        # Unknown symbols are refused with KuCoin's REST code.
        assert json.loads(await get(server, "/api/v1/level2/snapshot?symbol=NOPE"))["code"] == (
            "900001"
        )
