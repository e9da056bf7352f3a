"""Local MEXC server speaks mexc.md: control acks, refusals, pong, protobuf pushes, REST depth."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from sim_helpers import DictBook, quiet_for, recv, recv_json, truth
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hftws.testing import mexc_proto
from hftws.testing.market import SymbolSpec
from hftws.testing.mexc_server import MexcServer

pb = mexc_proto.load()
DEPTH = "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"
DEALS = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"
TICKER = "spot@public.aggre.bookTicker.v3.api.pb@10ms@BTCUSDT"
LIMIT = "spot@public.limit.depth.v3.api.pb@BTCUSDT@5"
REASON = "  Reason\uff1a Blocked! "


def sub(*channels: str, **extra: object) -> str:
    return json.dumps({"method": "SUBSCRIPTION", "params": list(channels), **extra})


async def pushes(ws: Any, count: int, timeout: float = 5.0) -> list[Any]:
    """The next ``count`` binary pushes, decoded with Google's protobuf runtime."""
    out: list[Any] = []
    async with asyncio.timeout(timeout):
        while len(out) < count:
            frame = await ws.recv()
            if isinstance(frame, bytes):
                out.append(pb.PushDataV3ApiWrapper.FromString(frame))
    return out


async def test_subscription_ack_lists_every_channel_and_echoes_the_id(
    mexc_server: MexcServer,
) -> None:
    async with connect(mexc_server.url) as ws:
        await ws.send(sub(TICKER, DEPTH))
        assert await recv_json(ws) == {"id": 0, "code": 0, "msg": f"{TICKER},{DEPTH}"}
        await ws.send(sub(DEALS, id=7))
        assert await recv_json(ws) == {"id": 7, "code": 0, "msg": DEALS}


@pytest.mark.parametrize(
    "channel",
    [
        "spot@public.increase.depth.v3.api@BTCUSDT",  # JSON-era name
        "spot@public.aggre.depth.v3.api.pb@10ms@btcusdt",  # lower-case symbol
        "spot@public.aggre.depth.v3.api.pb@5ms@BTCUSDT",  # bad interval
        "spot@public.limit.depth.v3.api.pb@BTCUSDT@7",  # bad level
        "spot@public.aggre.depth.v3.api.pb@10ms@FOOUSDT",  # unknown symbol
    ],
)
async def test_bad_channels_get_the_blocked_refusal_verbatim(
    mexc_server: MexcServer, channel: str
) -> None:
    async with connect(mexc_server.url) as ws:
        await ws.send(sub(channel))
        raw = await recv(ws)
        assert raw == (
            '{"id":0,"code":0,"msg":"Not Subscribed successfully! ['
            + channel
            + "]."
            + REASON
            + '"}'
        )
        assert await quiet_for(ws, 0.1) == []  # nothing is pushed for a refused channel


async def test_partly_refused_request_names_both_lists(mexc_server: MexcServer) -> None:
    async with connect(mexc_server.url) as ws:
        await ws.send(sub(DEPTH, "bad1", "bad2"))
        msg = (await recv_json(ws))["msg"]
        refused = f"Not Subscribed successfully! [bad1, bad2].{REASON}"
        assert msg == f"Subscribed successful! [{DEPTH}]. {refused}"
        assert (await pushes(ws, 1))[0].channel == DEPTH


async def test_thirty_subscriptions_per_connection_then_blocked() -> None:
    specs = [
        SymbolSpec(f"S{i}USDT", Decimal("0.01"), Decimal("0.01"), Decimal(100), depth=200)
        for i in range(4)
    ]
    channels = [
        f"spot@public.aggre.{kind}.v3.api.pb@{iv}@S{i}USDT"
        for i in range(4)
        for kind in ("depth", "deals", "bookTicker")
        for iv in ("10ms", "100ms")
    ] + [f"spot@public.limit.depth.v3.api.pb@S{i}USDT@{n}" for i in range(4) for n in (5, 10, 20)]
    assert len(channels) == 36
    # max_queue=None: this client reads only acks, so it must not push back on the server.
    async with MexcServer(specs, rate=50) as server, connect(server.url, max_queue=None) as ws:
        await ws.send(sub(*channels[:29]))
        assert (await recv_json(ws))["msg"] == ",".join(channels[:29])
        await ws.send(sub(channels[0], channels[29], channels[30]))  # a repeat does not count
        msg = (await recv_json(ws))["msg"]
        assert msg == (
            f"Subscribed successful! [{channels[0]},{channels[29]}]. "
            f"Not Subscribed successfully! [{channels[30]}].{REASON}"
        )


@pytest.mark.parametrize("method", ["PING", "ping"])
async def test_ping_gets_pong(mexc_server: MexcServer, method: str) -> None:
    async with connect(mexc_server.url) as ws:
        await ws.send(json.dumps({"method": method}))
        assert await recv(ws) == '{"id":0,"code":0,"msg":"PONG"}'


async def test_unsubscription_is_acked_and_stops_the_stream(mexc_server: MexcServer) -> None:
    async with connect(mexc_server.url) as ws:
        await ws.send(sub(DEPTH, LIMIT))
        await recv_json(ws)
        await pushes(ws, 4)
        await ws.send(json.dumps({"method": "UNSUBSCRIPTION", "params": [DEPTH]}))
        assert await recv_json(ws) == {"id": 0, "code": 0, "msg": DEPTH}
        later = [pb.PushDataV3ApiWrapper.FromString(f) for f in await quiet_for(ws, 0.2)]
        assert later and {p.channel for p in later} == {LIMIT}


async def test_push_shapes_follow_the_schema(mexc_server: MexcServer) -> None:
    async with connect(mexc_server.url) as ws:
        await ws.send(sub(DEPTH, DEALS, TICKER, LIMIT))
        await recv_json(ws)
        seen: dict[str, Any] = {}
        async with asyncio.timeout(5):
            while len(seen) < 4:
                for push in await pushes(ws, 1):
                    seen.setdefault(push.WhichOneof("body"), push)
    depth = seen["publicAggreDepths"]
    assert depth.channel == DEPTH and depth.symbol == "BTCUSDT" and depth.sendTime > 1.7e12
    body = depth.publicAggreDepths
    assert body.eventType == "spot@public.aggre.depth.v3.api.pb@10ms"
    assert int(body.toVersion) >= int(body.fromVersion) > 0
    assert body.bids or body.asks
    for level in [*body.bids, *body.asks]:
        assert Decimal(level.price) > 0 and Decimal(level.quantity) >= 0
    deals = seen["publicAggreDeals"].publicAggreDeals
    assert deals.eventType == "spot@public.aggre.deals.v3.api.pb@100ms"
    assert all(d.tradeType in (1, 2) and Decimal(d.quantity) > 0 and d.tradeId for d in deals.deals)
    ticker = seen["publicAggreBookTicker"].publicAggreBookTicker
    assert Decimal(ticker.bidPrice) < Decimal(ticker.askPrice) and int(ticker.version) > 0
    limit = seen["publicLimitDepths"].publicLimitDepths
    assert limit.eventType == "spot@public.limit.depth.v3.api.pb"
    assert len(limit.bids) == len(limit.asks) == 5 and int(limit.version) > 0
    # The wire carries field 313 (key bytes CA 13) as in mexc.md §4.1.
    assert b"\xca\x13" in depth.SerializeToString()


async def test_versions_are_contiguous_and_side_streams_agree_with_the_truth(
    mexc_server: MexcServer,
) -> None:
    async with connect(mexc_server.url) as ws:
        await ws.send(sub(DEPTH, TICKER, LIMIT))
        await recv_json(ws)
        last = None
        checked = 0
        for push in await pushes(ws, 240):
            kind = push.WhichOneof("body")
            if kind == "publicAggreDepths":
                body = push.publicAggreDepths
                if last is not None:
                    assert int(body.fromVersion) == last + 1
                last = int(body.toVersion)
            elif kind == "publicAggreBookTicker":
                t = push.publicAggreBookTicker
                snap = mexc_server.market.snapshot_at("BTCUSDT", int(t.version), 1)
                assert (Decimal(t.bidPrice), Decimal(t.bidQuantity)) == snap.bids[0]
                assert (Decimal(t.askPrice), Decimal(t.askQuantity)) == snap.asks[0]
                checked += 1
            else:
                lim = push.publicLimitDepths
                snap = mexc_server.market.snapshot_at("BTCUSDT", int(lim.version), 5)
                assert [(Decimal(x.price), Decimal(x.quantity)) for x in lim.bids] == list(
                    snap.bids
                )
                assert [(Decimal(x.price), Decimal(x.quantity)) for x in lim.asks] == list(
                    snap.asks
                )
        assert checked > 5


async def test_rest_snapshot_plus_buffered_pushes_rebuilds_the_truth(
    mexc_server: MexcServer,
) -> None:
    """mexc.md §6.2: buffer, snapshot, drop toVersion <= S, then fromVersion == V + 1."""
    async with connect(mexc_server.url) as ws, aiohttp.ClientSession() as http:
        await ws.send(sub(DEPTH))
        await recv_json(ws)
        buffered = await pushes(ws, 5)
        url = f"{mexc_server.rest_url}/api/v3/depth?symbol=BTCUSDT&limit=5000"
        async with http.get(url) as resp:
            assert resp.status == 200
            snap = await resp.json()
        assert set(snap) == {"lastUpdateId", "bids", "asks"}
        s = snap["lastUpdateId"]
        assert s >= int(buffered[0].publicAggreDepths.fromVersion)
        book = DictBook()
        book.load(snap["bids"], snap["asks"])
        version = s
        applied = 0
        for push in buffered + await pushes(ws, 150):
            body = push.publicAggreDepths
            if int(body.toVersion) <= s:
                continue
            if version == s:
                assert int(body.fromVersion) <= s + 1 <= int(body.toVersion)
            else:
                assert int(body.fromVersion) == version + 1
            book.apply(
                [(x.price, x.quantity) for x in body.bids],
                [(x.price, x.quantity) for x in body.asks],
            )
            version = int(body.toVersion)
            applied += 1
        assert applied > 100
        assert book.top() == truth(mexc_server.market.snapshot_at("BTCUSDT", version, 10**6))


async def test_every_client_gets_the_same_stream(mexc_server: MexcServer) -> None:
    async with connect(mexc_server.url) as a, connect(mexc_server.url) as b:
        for ws in (a, b):
            await ws.send(sub(DEPTH))
            await recv_json(ws)
        got_a = {p.publicAggreDepths.toVersion: p for p in await pushes(a, 60)}
        got_b = {p.publicAggreDepths.toVersion: p for p in await pushes(b, 60)}
        common = set(got_a) & set(got_b)
        assert len(common) > 30
        for version in common:
            assert got_a[version].publicAggreDepths == got_b[version].publicAggreDepths


async def test_idle_connection_without_subscription_is_dropped() -> None:
    async with MexcServer(idle_timeout=0.3, rate=100) as server:
        async with connect(server.url) as idle, connect(server.url) as busy:
            await busy.send(sub(DEPTH))
            await recv_json(busy)
            with pytest.raises(ConnectionClosed):
                await recv(idle, timeout=2.0)
            assert len(await quiet_for(busy, 0.5)) > 5  # a subscribed client stays
            # Unsubscribing everything restarts the idle timer.
            await busy.send(json.dumps({"method": "UNSUBSCRIPTION", "params": [DEPTH]}))
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(2.0):
                    while True:
                        await busy.recv()


async def test_rest_time_ping_and_bad_symbol(mexc_server: MexcServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{mexc_server.rest_url}/api/v3/time") as resp:
            assert abs((await resp.json())["serverTime"] / 1000 - time.time()) < 5
        async with http.get(f"{mexc_server.rest_url}/api/v3/ping") as resp:
            assert await resp.json() == {}
        async with http.get(f"{mexc_server.rest_url}/api/v3/depth?symbol=NOPE") as resp:
            assert resp.status == 400 and (await resp.json())["code"] == -1121
        async with http.get(f"{mexc_server.rest_url}/api/v3/depth?symbol=ETHUSDT") as resp:
            body = await resp.json()
            assert len(body["bids"]) == len(body["asks"]) == 100  # MEXC's default limit
