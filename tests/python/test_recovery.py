"""Private streams that recover and backoff that fits HFT, against the local servers.

One test per defect found against an independent simulator: a listenKey expiry answered with a
code and text we never saw, the Gate clock sync with the default ``rest_url`` meaning (host
root), an auth failure inside ``async with`` (nothing may leak), and a reconnect delay that
kept growing across drops that each recovered.
"""

from __future__ import annotations

import asyncio
import gc
import time
from functools import partial
from typing import Any

import aiohttp
import pytest
from client_helpers import own_tasks, wait_for

from hftws import (
    AuthenticationError,
    ConnectionState,
    Credentials,
    ReconnectPolicy,
    create_websocket_handler_direct,
)
from hftws.auth import GateioAuthenticator
from hftws.exchanges import GateioSpotPrivateHandler, MexcPrivateHandler
from hftws.testing.gate_server import GateSpotServer
from hftws.testing.mexc_server import MexcServer
from hftws.testing.private import DEFAULT_ACCOUNT as ACCOUNT

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 3.0}
CREDS = Credentials(ACCOUNT.api_key, ACCOUNT.api_secret, uid=ACCOUNT.uid)


def open_sessions() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, aiohttp.ClientSession) and not o.closed)


def mexc(server: Any, creds: Any = CREDS, **kw: Any) -> MexcPrivateHandler:
    return MexcPrivateHandler(
        url=server.url, rest_url=server.rest_url, credentials=creds, **FAST, **kw
    )


@pytest.mark.parametrize("close_sockets", [True, False], ids=["socket-closed", "keepalive"])
async def test_listen_key_expiry_with_an_unknown_answer_makes_a_new_key(
    mexc_server: MexcServer, close_sockets: Any
) -> None:
    private = mexc_server.private
    # Neither the code nor the wording the library used to look for.
    private.invalid_key_answer = (400, 10001, "Key does not exist for this account")
    private.invalid_key_text = "session gone"
    ws = mexc(mexc_server, keepalive_interval=0.2)
    orders: list[str] = []
    ws.handler.on_order(lambda e: orders.append(e.order_id))
    async with ws:
        await ws.subscribe_orders()
        (old,) = private.listen_keys
        private.expire(old, close_sockets=close_sockets)
        await wait_for(lambda: ws.listen_key_stats["created"] == 2, 10.0)
        await wait_for(lambda: private.listen_keys and old not in private.listen_keys, 10.0)
        await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED, 10.0)
        await wait_for(lambda: private.private_connections == 1 and ws.connected, 10.0)
        assert ("PUT", "invalid_key") in private.calls
        assert await private.push_order(id="after") == 1
        await wait_for(lambda: "after" in orders)
        # One new key, not a loop of failed reconnects.
        assert ws.listen_key_stats["created"] == 2
        assert ws.metrics.errors["reconnect_failed"] <= 1


async def test_gate_clock_sync_works_with_the_default_rest_url_meaning(
    gate_spot_server: GateSpotServer,
) -> None:
    # The defaults: rest_url is the host root for books and private streams alike.
    ws = GateioSpotPrivateHandler(credentials=CREDS)
    assert ws.rest_url == "https://api.gateio.ws"
    assert ws.rest_url + GateioAuthenticator.TIME_PATH == "https://api.gateio.ws/api/v4/spot/time"
    legacy = GateioSpotPrivateHandler(credentials=CREDS, rest_url="https://api.gateio.ws/api/v4/")
    assert legacy.rest_url == ws.rest_url
    # Against the local server with its root as rest_url (what OrderBookManager takes too):
    # the clock is read, so a skewed local clock does not make the first request expire.
    private = gate_spot_server.private
    private.clock_skew = 120.0
    live = GateioSpotPrivateHandler(
        url=gate_spot_server.url, rest_url=gate_spot_server.rest_url, credentials=CREDS, **FAST
    )
    async with live:
        await live.subscribe_balances()
    assert private.auth_log == [("spot.balances", "ok")]
    assert live.metrics.errors["time_sync_failed"] == 0


async def test_auth_failure_inside_async_with_leaks_nothing(
    mexc_server: MexcServer, gate_spot_server: GateSpotServer
) -> None:
    before = open_sessions()
    bad = mexc(mexc_server, Credentials(ACCOUNT.api_key, "wrong-secret"))
    with pytest.raises(AuthenticationError):
        async with bad:
            pytest.fail("connect must fail")
    assert bad.state is ConnectionState.CLOSED
    assert open_sessions() == before
    assert not own_tasks()
    gate_bad = GateioSpotPrivateHandler(
        url=gate_spot_server.url,
        rest_url=gate_spot_server.rest_url,
        credentials=Credentials(ACCOUNT.api_key, "wrong-secret", uid=ACCOUNT.uid),
        **FAST,
    )
    with pytest.raises(AuthenticationError):
        async with gate_bad:
            await gate_bad.subscribe_orders()
    assert open_sessions() == before
    assert not own_tasks()


def flowing(trades: list[object], seen: int) -> bool:
    return len(trades) > seen + 2


async def drops_and_gaps(server: Any, reset_after_reads: int | None) -> list[float]:
    """Drop a subscribed, flowing connection 4 times; seconds from each drop to resubscribed."""
    policy = ReconnectPolicy(
        initial_delay=0.2, max_delay=5.0, jitter=0.0, reset_after=60.0,
        reset_after_reads=reset_after_reads,
    )  # fmt: skip
    ws = create_websocket_handler_direct("gateio", url=server.url, reconnect=policy, **FAST)
    trades: list[object] = []
    ws.handler.on_trade(trades.append)
    gaps = []
    async with ws:
        await ws.subscribe_trades("BTC_USDT")
        for i in range(4):
            await wait_for(partial(flowing, trades, len(trades)))  # subscribed, data flowing
            start = time.monotonic()
            server.faults.close_with(1011)  # not an "immediate" code for Gate
            await wait_for(lambda: ws.metrics.reconnects == i + 1, 10.0)  # noqa: B023
            await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED, 10.0)
            gaps.append(time.monotonic() - start)
    return gaps


async def test_backoff_resets_after_each_healthy_reconnect(
    gate_spot_server: GateSpotServer,
) -> None:
    gaps = await drops_and_gaps(gate_spot_server, reset_after_reads=1)
    # Every drop waits the first delay (0.2 s), not 0.2, 0.4, 0.8, 1.6 s.
    assert max(gaps) < 1.0, gaps
    # The same drops with the reset switched off (only 60 s of age counts): delays grow.
    grown = await drops_and_gaps(gate_spot_server, reset_after_reads=None)
    assert grown[-1] >= 1.6, grown


async def test_storm_against_a_dead_server_stays_throttled(
    gate_spot_server: GateSpotServer,
) -> None:
    policy = ReconnectPolicy(initial_delay=0.05, max_delay=5.0)
    ws = create_websocket_handler_direct(
        "gateio", url=gate_spot_server.url, reconnect=policy, **FAST
    )
    trades: list[object] = []
    ws.handler.on_trade(trades.append)
    try:
        await ws.connect()
        await ws.subscribe_trades("BTC_USDT")
        await wait_for(lambda: len(trades) > 2)
        await gate_spot_server.stop()
        await asyncio.sleep(2.0)
        # The healthy connection reset the backoff once; failures never do: 0.05 s doubling.
        assert 2 <= ws.metrics.errors["reconnect_failed"] <= 8
    finally:
        await ws.close()
