"""Local Gate.io spot and futures servers speak gateio.md: envelopes, acks, pushes, REST."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sim_helpers import DictBook, quiet_for, recv_event, recv_json, truth
from websockets.asyncio.client import connect

from hftws.testing.gate_server import GateFuturesServer, GateSpotServer

Server = GateSpotServer | GateFuturesServer


@pytest_asyncio.fixture(params=["spot", "futures"])
async def gate(request: pytest.FixtureRequest) -> AsyncIterator[Server]:
    cls = GateSpotServer if request.param == "spot" else GateFuturesServer
    async with cls(rate=500) as server:
        yield server


def req(
    server: Server, channel: str, payload: list[str], event: str = "subscribe", **kw: Any
) -> str:
    return json.dumps(
        {
            "time": int(time.time()),
            "channel": f"{server.PREFIX}.{channel}",
            "event": event,
            "payload": payload,
            **kw,
        }
    )


def book_payload(server: Server, pair: str = "BTC_USDT") -> list[str]:
    return [pair, "100ms", "100"] if server.FUTURES else [pair, "100ms"]


def levels(server: Server, raw: list[Any]) -> list[tuple[Decimal, Decimal]]:
    """Push/REST levels in (price, size) form for either market."""
    if server.FUTURES:
        return [(Decimal(x["p"]), Decimal(x["s"])) for x in raw]
    return [(Decimal(p), Decimal(s)) for p, s in raw]


async def updates(ws: Any, channel: str, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The next ``count`` pushes of ``channel``."""
    out: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while len(out) < count:
            msg = json.loads(await ws.recv())
            if msg.get("channel") == channel and msg.get("event", "update") == "update":
                out.append(msg)
    return out


async def test_subscribe_ack_echoes_id_payload_and_connection(gate: Server) -> None:
    async with connect(gate.url) as ws:
        await ws.send(req(gate, "order_book_update", book_payload(gate), id=17))
        ack = await recv_json(ws)
        assert ack.keys() == {
            "time",
            "time_ms",
            "id",
            "conn_id",
            "trace_id",
            "channel",
            "event",
            "payload",
            "result",
        }
        assert ack["id"] == 17 and ack["event"] == "subscribe"
        assert ack["channel"] == f"{gate.PREFIX}.order_book_update"
        assert ack["payload"] == book_payload(gate) and ack["result"] == {"status": "success"}
        assert (
            abs(ack["time_ms"] / 1000 - time.time()) < 5 and ack["time"] == ack["time_ms"] // 1000
        )


async def test_unknown_pair_bad_json_and_unknown_channel_are_refused(gate: Server) -> None:
    async with connect(gate.url) as ws:
        await ws.send(req(gate, "order_book_update", book_payload(gate, "FOO_BAR"), id=18))
        ack = await recv_json(ws)
        what = "contract" if gate.FUTURES else "currency pair"
        assert ack["error"] == {"code": 2, "message": f"unknown {what} FOO_BAR"}
        assert ack["result"] == {"status": "fail"} and ack["id"] == 18
        await ws.send("{not json")
        assert (await recv_json(ws))["error"]["code"] == 1
        await ws.send(req(gate, "nonsense", ["BTC_USDT"]))
        assert (await recv_json(ws))["error"]["code"] == 2
        await ws.send(
            req(
                gate, "order_book_update", ["BTC_USDT", "1000ms", "100"][: 3 if gate.FUTURES else 2]
            )
        )
        assert (await recv_json(ws))["result"] == {"status": "fail"}
        assert await quiet_for(ws, 0.1) == []


async def test_app_ping_gets_pong(gate: Server) -> None:
    async with connect(gate.url) as ws:
        await ws.send(json.dumps({"time": 1727000005, "channel": f"{gate.PREFIX}.ping"}))
        pong = await recv_json(ws)
        assert pong["channel"] == f"{gate.PREFIX}.pong"
        assert pong["event"] == "" and pong["error"] is None and pong["result"] is None
        assert isinstance(pong["time_ms"], int)


async def test_book_updates_have_the_documented_shape(gate: Server) -> None:
    async with connect(gate.url) as ws:
        await ws.send(req(gate, "order_book_update", book_payload(gate)))
        await recv_json(ws)
        (push,) = await updates(ws, f"{gate.PREFIX}.order_book_update", 1)
    assert push.keys() == {"time", "time_ms", "channel", "event", "result"}
    result = push["result"]
    if gate.FUTURES:
        assert result.keys() == {"t", "s", "U", "u", "b", "a", "l"}
        for level in result["b"] + result["a"]:
            assert level.keys() == {"p", "s"} and isinstance(level["s"], int)
            assert isinstance(level["p"], str)
    else:
        assert result.keys() == {"t", "l", "e", "E", "s", "U", "u", "b", "a"}
        assert result["e"] == "depthUpdate" and result["E"] == result["t"] // 1000
        assert all(isinstance(p, str) and isinstance(s, str) for p, s in result["b"] + result["a"])
    assert result["s"] == "BTC_USDT" and result["l"] == "100" and result["u"] >= result["U"]


async def test_rest_snapshot_plus_updates_rebuilds_the_truth(gate: Server) -> None:
    """gateio.md §4.2: first push with U <= B+1 <= u, then U == L+1; ids are contiguous; the
    stream describes the top 100 levels (a level entering the window is sent), so a book cut
    to 100 levels is exact."""
    channel = f"{gate.PREFIX}.order_book_update"
    path = "futures/usdt/order_book?contract" if gate.FUTURES else "spot/order_book?currency_pair"
    async with connect(gate.url) as ws, aiohttp.ClientSession() as http:
        await ws.send(req(gate, "order_book_update", book_payload(gate)))
        await recv_json(ws)
        buffered = await updates(ws, channel, 5)
        async with http.get(f"{gate.rest_url}/api/v4/{path}=BTC_USDT&limit=100&with_id=true") as r:
            snap = await r.json()
        assert snap.keys() == {"id", "current", "update", "asks", "bids"}
        if gate.FUTURES:
            assert isinstance(snap["current"], float) and snap["current"] < 1e11
            assert all(isinstance(x["s"], int) for x in snap["bids"])
        else:
            assert isinstance(snap["current"], int) and snap["current"] > 1e12
        book = DictBook()
        book.load(levels(gate, snap["bids"]), levels(gate, snap["asks"]))
        local = snap["id"]
        assert buffered[0]["result"]["U"] <= local + 1
        applied, prev_u = 0, None
        for push in buffered + await updates(ws, channel, 150):
            res = push["result"]
            if prev_u is not None:
                assert res["U"] == prev_u + 1
            prev_u = res["u"]
            if res["u"] <= local:
                continue
            assert res["U"] <= local + 1
            book.apply(levels(gate, res["b"]), levels(gate, res["a"]))
            local = res["u"]
            applied += 1
        assert applied > 100
        assert book.top(100) == truth(gate.market.snapshot_at("BTC_USDT", local, 100))


async def test_obu_sends_a_full_window_then_window_diffs(gate: Server) -> None:
    channel = f"{gate.PREFIX}.obu"
    async with connect(gate.url) as ws:
        await ws.send(req(gate, "obu", ["ob.BTC_USDT.50"]))
        assert (await recv_json(ws))["result"] == {"status": "success"}
        full, *rest = await updates(ws, channel, 120)
        assert full.keys() == {"channel", "result", "time_ms"}  # no event, no time
        res = full["result"]
        assert res["full"] is True and res["s"] == "ob.BTC_USDT.50" and "U" not in res
        assert len(res["b"]) == len(res["a"]) == 50
        book = DictBook()
        book.load(res["b"], res["a"])
        local = res["u"]
        assert truth(gate.market.snapshot_at("BTC_USDT", local, 50)) == book.top()
        for push in rest:
            inc = push["result"]
            assert "full" not in inc and inc["U"] == local + 1
            book.apply(inc.get("b", []), inc.get("a", []))
            local = inc["u"]
            assert book.top() == truth(gate.market.snapshot_at("BTC_USDT", local, 50))
            assert len(book.bids) == len(book.asks) == 50
        # A second subscription to the same stream is refused (gateio.md §3.7).
        await ws.send(req(gate, "obu", ["ob.BTC_USDT.50"]))
        dup = await recv_event(ws, "subscribe")
        assert dup["error"] == {"code": 2, "message": "Alert sub ob.BTC_USDT.50"}


async def test_book_ticker_is_the_truth_bbo(gate: Server) -> None:
    channel = f"{gate.PREFIX}.book_ticker"
    async with connect(gate.url) as ws:
        await ws.send(req(gate, "book_ticker", ["BTC_USDT", "ETH_USDT"]))
        await recv_json(ws)
        pushes = await updates(ws, channel, 40)
    assert {p["result"]["s"] for p in pushes} == {"BTC_USDT", "ETH_USDT"}
    for push in pushes:
        r = push["result"]
        assert r.keys() == {"t", "u", "s", "b", "B", "a", "A"}
        assert isinstance(r["B"], int if gate.FUTURES else str)
        snap = gate.market.snapshot_at(r["s"], r["u"], 1)
        assert (Decimal(r["b"]), Decimal(r["B"])) == snap.bids[0]
        assert (Decimal(r["a"]), Decimal(r["A"])) == snap.asks[0]


async def test_spot_trades_one_push_per_trade(gate_spot_server: GateSpotServer) -> None:
    async with connect(gate_spot_server.url) as ws:
        await ws.send(req(gate_spot_server, "trades", ["BTC_USDT"]))
        await recv_json(ws)
        pushes = await updates(ws, "spot.trades", 20)
    ids = [p["result"]["id_market"] for p in pushes]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # contiguous within one market
    for push in pushes:
        r = push["result"]
        assert r["side"] in ("buy", "sell") and r["currency_pair"] == "BTC_USDT"
        assert Decimal(r["amount"]) > 0 and Decimal(r["create_time_ms"]) // 1000 == r["create_time"]
        assert r["range"] == f"{r['id_market']}-{r['id_market']}"


async def test_futures_trades_are_arrays_with_signed_contract_sizes(
    gate_futures_server: GateFuturesServer,
) -> None:
    async with connect(gate_futures_server.url) as ws:
        await ws.send(req(gate_futures_server, "trades", ["BTC_USDT"]))
        await recv_json(ws)
        pushes = await updates(ws, "futures.trades", 30)
    trades = [t for p in pushes for t in p["result"]]
    assert all(isinstance(p["result"], list) for p in pushes)
    assert all(isinstance(t["size"], int) and t["size"] != 0 for t in trades)
    assert any(t["size"] > 0 for t in trades) and any(t["size"] < 0 for t in trades)
    assert all(t["contract"] == "BTC_USDT" and isinstance(t["create_time_ms"], int) for t in trades)


async def test_futures_decimal_size_header_switches_sizes_to_strings(
    gate_futures_server: GateFuturesServer,
) -> None:
    server = gate_futures_server
    async with connect(server.url, additional_headers={"X-Gate-Size-Decimal": "1"}) as ws:
        await ws.send(req(server, "order_book_update", ["BTC_USDT", "20ms", "20"]))
        await recv_json(ws)
        (push,) = await updates(ws, "futures.order_book_update", 1)
    assert push["result"]["l"] == "20"
    assert all(isinstance(x["s"], str) for x in push["result"]["b"] + push["result"]["a"])


async def test_unsubscribe_stops_only_that_stream(gate_spot_server: GateSpotServer) -> None:
    server = gate_spot_server
    async with connect(server.url) as ws:
        await ws.send(req(server, "order_book_update", ["BTC_USDT", "100ms"]))
        await ws.send(req(server, "order_book_update", ["ETH_USDT", "20ms"]))
        await recv_json(ws)
        await updates(ws, "spot.order_book_update", 4)
        await ws.send(req(server, "order_book_update", ["BTC_USDT", "100ms"], event="unsubscribe"))
        msg = await recv_event(ws, "unsubscribe")
        assert msg["result"] == {"status": "success"}
        later = [json.loads(f) for f in await quiet_for(ws, 0.2)]
        assert later and {m["result"]["s"] for m in later} == {"ETH_USDT"}
        assert {m["result"]["l"] for m in later} == {"20"}


async def test_rest_time_contract_and_unknown_instrument(gate: Server) -> None:
    async with aiohttp.ClientSession() as http:
        if gate.FUTURES:
            async with http.get(f"{gate.rest_url}/api/v4/futures/usdt/contracts/BTC_USDT") as r:
                assert (await r.json())["quanto_multiplier"] == "0.0001"
            url = f"{gate.rest_url}/api/v4/futures/usdt/order_book?contract=NOPE"
        else:
            async with http.get(f"{gate.rest_url}/api/v4/spot/time") as r:
                assert abs((await r.json())["server_time"] / 1000 - time.time()) < 5
            url = f"{gate.rest_url}/api/v4/spot/order_book?currency_pair=NOPE"
        async with http.get(url) as r:
            assert r.status == 400 and "label" in await r.json()
        ok = url.replace("NOPE", "ETH_USDT")
        async with http.get(ok) as r:
            body = await r.json()
            assert "id" not in body and len(body["bids"]) == 10  # Gate's defaults
