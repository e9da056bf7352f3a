"""Every misbehaviour knob of hftws.testing.faults, seen from a plain client."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from sim_helpers import quiet_for, recv, recv_json
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedError

from hftws.testing import mexc_proto
from hftws.testing.gate_server import GateSpotServer
from hftws.testing.mexc_server import MexcServer

pb = mexc_proto.load()
DEPTH = "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"
SNAPSHOT = "/api/v3/depth?symbol=BTCUSDT&limit=5000"


def sub(*channels: str) -> str:
    return json.dumps({"method": "SUBSCRIPTION", "params": list(channels)})


def gate_sub(pair: str = "BTC_USDT") -> str:
    return json.dumps(
        {
            "time": int(time.time()),
            "channel": "spot.order_book_update",
            "event": "subscribe",
            "payload": [pair, "100ms"],
        }
    )


async def subscribed(server: MexcServer, ws: Any) -> None:
    await ws.send(sub(DEPTH))
    await recv_json(ws)
    await recv(ws)  # the stream is flowing


async def closed_by_server(ws: Any, timeout: float = 2.0) -> ConnectionClosed:
    """Read until the server closes; return the exception the client saw."""
    with pytest.raises(ConnectionClosed) as info:
        async with asyncio.timeout(timeout):
            for _ in range(100_000):
                await ws.recv()
    return info.value


# --------------------------------------------------------------------------- closes


async def test_close_1005_sends_an_empty_close_frame(mexc_server: MexcServer) -> None:
    async with connect(mexc_server.url) as ws:
        await subscribed(mexc_server, ws)
        mexc_server.faults.close_with(1005)
        exc = await closed_by_server(ws)
        # websockets decodes a close frame with an empty payload as code 1005, empty reason
        # (a frame carrying the code 1005 itself would be a protocol error).
        assert exc.rcvd is not None and exc.rcvd.code == 1005 and exc.rcvd.reason == ""


async def test_close_1006_aborts_without_a_close_frame(mexc_server: MexcServer) -> None:
    async with connect(mexc_server.url) as ws:
        await subscribed(mexc_server, ws)
        mexc_server.faults.close_with(1006)
        exc = await closed_by_server(ws)
        assert isinstance(exc, ConnectionClosedError) and exc.rcvd is None


async def test_close_1011_is_a_normal_close_handshake(gate_spot_server: GateSpotServer) -> None:
    async with connect(gate_spot_server.url) as ws:
        await ws.send(gate_sub())
        await recv_json(ws)
        gate_spot_server.faults.close_with(1011)
        exc = await closed_by_server(ws)
        assert exc.rcvd is not None and exc.rcvd.code == 1011
        assert exc.sent is not None and exc.sent.code == 1011  # the client completed it


@pytest.mark.parametrize(
    ("code", "wire"),
    [(1005, b"\x88\x00"), (1006, b""), (1011, b"\x88\x16\x03\xf3simulated close 1011")],
)
async def test_close_bytes_on_the_wire(mexc_server: MexcServer, code: int, wire: bytes) -> None:
    """A raw TCP client sees exactly the close frame (or nothing) the knob promises."""
    reader, writer = await asyncio.open_connection("127.0.0.1", urlsplit(mexc_server.url).port)
    writer.write(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    try:
        async with asyncio.timeout(2):
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
            while mexc_server.connections == 0:
                await asyncio.sleep(0.01)
            mexc_server.faults.close_with(code)
            tail = await reader.read(1024) if code == 1011 else await reader.read()
        assert tail == wire
    finally:
        writer.close()
        await writer.wait_closed()


async def test_close_hits_only_connections_open_at_the_call(mexc_server: MexcServer) -> None:
    async with connect(mexc_server.url) as old:
        await subscribed(mexc_server, old)
        mexc_server.faults.close_with(1011)
        await closed_by_server(old)
    async with connect(mexc_server.url) as new:
        await subscribed(mexc_server, new)
        assert len(await quiet_for(new, 0.2)) > 5


# --------------------------------------------------------------------------- stall


async def test_stall_goes_silent_keeps_tcp_and_ignores_both_pings(mexc_server: MexcServer) -> None:
    async with connect(mexc_server.url, ping_interval=None) as ws:
        await subscribed(mexc_server, ws)
        mexc_server.faults.stall()
        await quiet_for(ws, 0.05)  # frames already in flight
        await ws.send(json.dumps({"method": "PING"}))
        pong_waiter: Any = await ws.ping()
        assert await quiet_for(ws, 0.4) == []
        assert not pong_waiter.done()
        assert mexc_server.connections == 1  # TCP still open
        mexc_server.faults.unstall()
        frames = await quiet_for(ws, 0.3)
        assert any(isinstance(f, bytes) for f in frames)  # the stream resumes
        async with asyncio.timeout(1):
            await pong_waiter  # RFC 6455 pings are answered again


async def test_stalled_connections_do_not_slow_down_server_stop() -> None:
    started = time.monotonic()
    async with MexcServer(rate=100) as server, connect(server.url, close_timeout=0.2) as ws:
        await subscribed(server, ws)
        server.faults.stall()
    assert time.monotonic() - started < 3


# --------------------------------------------------------------------------- garbage, gap


async def test_garbage_is_a_binary_frame_that_is_no_push_on_mexc(mexc_server: MexcServer) -> None:
    async with connect(mexc_server.url) as ws:
        await subscribed(mexc_server, ws)
        mexc_server.faults.send_garbage(3)
        bad = 0
        async with asyncio.timeout(3):
            while bad < 3:
                frame = await ws.recv()
                assert isinstance(frame, bytes)
                try:
                    push = pb.PushDataV3ApiWrapper.FromString(frame)
                except Exception:
                    bad += 1
                    continue
                if push.channel != DEPTH:
                    bad += 1
        assert bad == 3


async def test_garbage_is_invalid_json_on_gate(gate_spot_server: GateSpotServer) -> None:
    async with connect(gate_spot_server.url) as ws:
        await ws.send(gate_sub())
        await recv_json(ws)
        gate_spot_server.faults.send_garbage()
        async with asyncio.timeout(3):
            while True:
                frame = await ws.recv()
                assert isinstance(frame, str)
                try:
                    json.loads(frame)
                except ValueError:
                    break


@pytest.mark.parametrize("ids", [1, 40])
async def test_gap_skips_ids_once_then_the_stream_is_contiguous(
    mexc_server: MexcServer, ids: int
) -> None:
    async with connect(mexc_server.url) as ws:
        await subscribed(mexc_server, ws)
        jumps: list[int] = []
        last = None
        async with asyncio.timeout(5):
            for n in range(120):
                frame = await ws.recv()
                body = pb.PushDataV3ApiWrapper.FromString(frame).publicAggreDepths
                if last is not None and int(body.fromVersion) != last + 1:
                    jumps.append(int(body.fromVersion) - last - 1)
                last = int(body.toVersion)
                if n == 20:
                    mexc_server.faults.gap(ids)
        assert len(jumps) == 1 and jumps[0] >= ids


# --------------------------------------------------------------------------- refuse, drop


async def test_refuse_pattern_blocks_mexc_channels_until_allowed(mexc_server: MexcServer) -> None:
    mexc_server.faults.refuse("spot@public.aggre.depth.*@BTCUSDT")
    async with connect(mexc_server.url) as ws:
        await ws.send(sub(DEPTH))
        assert (await recv_json(ws))["msg"].startswith("Not Subscribed successfully! [")
        other = "spot@public.aggre.depth.v3.api.pb@10ms@ETHUSDT"
        await ws.send(sub(other))
        assert (await recv_json(ws))["msg"] == other
        mexc_server.faults.allow("spot@public.aggre.depth.*@BTCUSDT")
        await ws.send(sub(DEPTH))
        assert (await recv_json(ws))["msg"] == DEPTH


async def test_refuse_pattern_on_gate_uses_the_error_envelope(
    gate_spot_server: GateSpotServer,
) -> None:
    gate_spot_server.faults.refuse("spot.order_book_update:BTC_*", code=3, message="busy")
    async with connect(gate_spot_server.url) as ws:
        await ws.send(gate_sub("BTC_USDT"))
        ack = await recv_json(ws)
        assert ack["error"] == {"code": 3, "message": "busy"}
        assert ack["result"] == {"status": "fail"}
        await ws.send(gate_sub("ETH_USDT"))
        assert (await recv_json(ws))["result"] == {"status": "success"}


async def count_until_closed(ws: Any, timeout: float = 3.0) -> tuple[int, ConnectionClosed]:
    """Frames received before the server closed, and how it closed."""
    n = 0
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
                n += 1
    except ConnectionClosed as exc:
        return n, exc
    raise AssertionError("unreachable")


async def test_drop_after_n_messages_counts_acks_and_pushes(mexc_server: MexcServer) -> None:
    mexc_server.faults.drop_after(5)
    async with connect(mexc_server.url) as ws:
        await ws.send(sub(DEPTH))
        n, exc = await count_until_closed(ws)
        assert n == 5
        assert isinstance(exc, ConnectionClosedError) and exc.rcvd is None  # dropped like 1006


async def test_drop_after_random_stays_within_bounds_and_can_be_disarmed() -> None:
    async with MexcServer(rate=500, seed=3) as server:
        server.faults.drop_after(12, random=True, code=1011)
        counts = []
        for _ in range(5):
            async with connect(server.url) as ws:
                await ws.send(sub(DEPTH))
                n, exc = await count_until_closed(ws)
                assert exc.rcvd is not None and exc.rcvd.code == 1011
                counts.append(n)
        assert all(1 <= n <= 12 for n in counts) and len(set(counts)) > 1
        server.faults.drop_after(None)
        async with connect(server.url) as ws:
            await subscribed(server, ws)
            assert len(await quiet_for(ws, 0.2)) > 12


# --------------------------------------------------------------------------- REST


async def get(
    server: MexcServer | GateSpotServer, path: str = SNAPSHOT
) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as http, http.get(server.rest_url + path) as resp:
        return resp.status, dict(resp.headers), await resp.read()


async def test_rest_stale_snapshot_is_the_exact_past_book(mexc_server: MexcServer) -> None:
    async with connect(mexc_server.url) as ws:
        await subscribed(mexc_server, ws)
        await quiet_for(ws, 0.2)  # let the market move past the stale window
        mexc_server.pause()
        now = mexc_server.market.last_id("BTCUSDT")
        mexc_server.faults.rest_stale(30)
        _, _, body = await get(mexc_server)
        stale = json.loads(body)
        assert now - 30 - 60 < stale["lastUpdateId"] <= now - 30  # a change boundary
        past = mexc_server.market.snapshot_at("BTCUSDT", stale["lastUpdateId"], 5000)
        assert stale["bids"][:3] == [[str(p), str(q)] for p, q in past.bids[:3]]
        _, _, body = await get(mexc_server)  # times=1: back to normal
        assert json.loads(body)["lastUpdateId"] == now
        mexc_server.resume()


async def test_rest_snapshot_far_ahead_of_the_stream(mexc_server: MexcServer) -> None:
    mexc_server.faults.rest_ahead(1_000_000, times=2)
    mexc_server.pause()
    now = mexc_server.market.last_id("BTCUSDT")
    for _ in range(2):
        assert json.loads((await get(mexc_server))[2])["lastUpdateId"] == now + 1_000_000
    assert json.loads((await get(mexc_server))[2])["lastUpdateId"] == now


async def test_rest_delay(mexc_server: MexcServer) -> None:
    mexc_server.faults.rest_delay(0.3)
    started = time.monotonic()
    status, _, _ = await get(mexc_server)
    assert status == 200 and time.monotonic() - started >= 0.3
    started = time.monotonic()
    await get(mexc_server)
    assert time.monotonic() - started < 0.3


async def test_rest_429_with_retry_after_then_5xx_then_ok(mexc_server: MexcServer) -> None:
    mexc_server.faults.rest_status(429, retry_after=2)
    status, headers, _ = await get(mexc_server)
    assert status == 429 and headers["Retry-After"] == "2"
    mexc_server.faults.rest_status(503)
    status, headers, _ = await get(mexc_server)
    assert status == 503 and "Retry-After" not in headers
    assert (await get(mexc_server))[0] == 200
    # Non-snapshot endpoints never misbehave.
    mexc_server.faults.rest_status(500)
    assert (await get(mexc_server, "/api/v3/ping"))[0] == 200
    assert (await get(mexc_server))[0] == 500


async def test_rest_malformed_body_until_reset(gate_spot_server: GateSpotServer) -> None:
    gate_spot_server.faults.rest_malformed(times=None)
    path = "/api/v4/spot/order_book?currency_pair=BTC_USDT&limit=50&with_id=true"
    for _ in range(2):
        status, headers, body = await get(gate_spot_server, path)
        assert status == 200 and headers["Content-Type"].startswith("application/json")
        with pytest.raises(ValueError):
            json.loads(body)
    gate_spot_server.faults.reset()
    assert json.loads((await get(gate_spot_server, path))[2])["id"] > 0
