"""MEXC private streams end to end against the local server (listenKey, signing, events)."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

import pytest
import websockets
from client_helpers import own_tasks, wait_for

from hftws import AuthenticationError, Credentials
from hftws.exchanges import MexcPrivateHandler
from hftws.interface import ConnectionState
from hftws.manager import create_websocket_handler_direct
from hftws.mexc import MexcAccountUpdate, MexcDeal, MexcOrder
from hftws.private_events import BalanceUpdate, Execution, OrderUpdate
from hftws.testing.mexc_server import MexcServer
from hftws.testing.private import DEFAULT_ACCOUNT as ACCOUNT

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 3.0}
CREDS = Credentials(ACCOUNT.api_key, ACCOUNT.api_secret)


def make(server: Any, creds: Any = CREDS, **kw: Any) -> MexcPrivateHandler:
    return MexcPrivateHandler(
        url=server.url, rest_url=server.rest_url, credentials=creds, **FAST, **kw
    )


def collect(ws: Any) -> list[Any]:
    got: list[Any] = []
    ws.handler.on_order(got.append)
    ws.handler.on_execution(got.append)
    ws.handler.on_balance(got.append)
    return got


async def test_login_and_typed_events_with_exact_decimals(mexc_server: MexcServer) -> None:
    ws = make(mexc_server)
    got = collect(ws)
    async with ws:
        await ws.subscribe_private()
        assert ws.state is ConnectionState.SUBSCRIBED
        assert mexc_server.private.private_connections == 1
        await mexc_server.private.push_order(
            id="C02__1",
            clientId="my-1",
            price="117145.123456789012345678",
            quantity="0.000001",
            cumulativeQuantity="0.0000005",
            remainQuantity="0.0000005",
            avgPrice="117145.12",
            status=3,
            tradeType=2,
        )
        await mexc_server.private.push_deal(
            price="0.1",
            quantity="0.2",
            orderId="C02__1",
            tradeId="T9",
            feeAmount="0.00000001",
            feeCurrency="USDT",
            isMaker=True,
        )
        await mexc_server.private.push_account(
            vcoinName="USDT", balanceAmount="10.1", frozenAmount="0.2", balanceAmountChange="-0.3"
        )
        await wait_for(lambda: len(got) == 3)
    order, fill, balance = got
    assert isinstance(order, OrderUpdate) and isinstance(order.raw, MexcOrder)
    assert order.price == Decimal("117145.123456789012345678")
    assert (order.side, order.status, order.client_order_id) == ("sell", "partially_filled", "my-1")
    assert order.filled_quantity == Decimal("0.0000005") and order.symbol == "BTCUSDT"
    assert isinstance(fill, Execution) and isinstance(fill.raw, MexcDeal)
    assert fill.price is not None and fill.quantity is not None
    assert fill.price + fill.quantity == Decimal("0.3")  # exact, not float
    assert (fill.is_maker, fill.fee, fill.trade_id) == (True, Decimal("0.00000001"), "T9")
    assert isinstance(balance, BalanceUpdate) and isinstance(balance.raw, MexcAccountUpdate)
    assert balance.total == Decimal("10.3") and balance.change == Decimal("-0.3")
    # close() deleted the key
    assert ("DELETE", "ok") in mexc_server.private.calls
    assert not mexc_server.private.listen_keys
    assert not own_tasks()


@pytest.mark.parametrize(
    ("creds", "code"),
    [
        (Credentials("unknown-key", ACCOUNT.api_secret), "10072"),
        (Credentials(ACCOUNT.api_key, "wrong-secret"), "700002"),
    ],
)
async def test_login_failure_is_an_auth_error_before_any_socket(
    mexc_server: MexcServer, creds: Any, code: Any
) -> None:
    ws = make(mexc_server, creds)
    with pytest.raises(AuthenticationError) as info:
        await ws.connect()
    assert info.value.reason == code
    assert mexc_server.private.calls == [("POST", code)]  # no retry loop
    assert mexc_server.connections == 0
    assert ws.metrics.errors["auth"] == 1
    assert creds.api_secret not in str(info.value) and creds.api_key not in str(info.value)
    await ws.close()
    assert not own_tasks()


async def test_clock_skew_uses_server_time(mexc_server: MexcServer) -> None:
    mexc_server.private.clock_skew = 30.0  # server 30 s ahead: local timestamps are too old
    ws = make(mexc_server)
    async with ws:
        await ws.subscribe_orders()
    assert mexc_server.private.calls[0] == ("POST", "ok")
    unsynced = make(mexc_server, sync_time=False)
    with pytest.raises(AuthenticationError) as info:
        await unsynced.connect()
    assert info.value.reason == "700003"
    await unsynced.close()


async def test_listen_key_expiry_mid_stream_renews_and_reconnects(mexc_server: MexcServer) -> None:
    ws = make(mexc_server)
    got = collect(ws)
    async with ws:
        await ws.subscribe_orders()
        await mexc_server.private.push_order(id="A")
        await wait_for(lambda: len(got) == 1)
        (old_key,) = mexc_server.private.listen_keys
        assert mexc_server.private.expire() == 1  # the server closes the socket
        await wait_for(lambda: mexc_server.private.private_connections == 1 and ws.subscriptions)
        await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED)
        (new_key,) = mexc_server.private.listen_keys
        assert new_key != old_key
        # The reconnect first tried the old key (refused), then created a new one.
        assert ("PUT", "invalid_key") in mexc_server.private.calls
        assert [c for c in mexc_server.private.calls if c[0] == "POST"] == [("POST", "ok")] * 2
        assert await mexc_server.private.push_order(id="B") == 1
        await wait_for(lambda: len(got) == 2)
        assert ws.listen_key_stats["created"] == 2
    assert [e.order_id for e in got][:2] == ["A", "B"]


async def test_keepalive_timer_keeps_the_key(mexc_server: MexcServer) -> None:
    mexc_server.private.listen_key_ttl = 0.6
    ws = make(mexc_server, keepalive_interval=0.2)
    async with ws:
        await ws.subscribe_orders()
        await wait_for(lambda: ws.listen_key_stats["kept_alive"] >= 5, 3.0)
        assert ws.listen_key_stats["created"] == 1
        assert ws.metrics.reconnects == 0
        assert mexc_server.private.private_connections == 1


async def test_keepalive_rejected_moves_to_a_new_key_and_socket(mexc_server: MexcServer) -> None:
    ws = make(mexc_server, keepalive_interval=0.2)
    got = collect(ws)
    async with ws:
        await ws.subscribe_orders()
        (old_key,) = mexc_server.private.listen_keys
        mexc_server.private.expire(old_key, close_sockets=False)  # server forgets, socket stays
        await wait_for(lambda: ws.listen_key_stats["created"] == 2, 10.0)
        # Make-before-break: the new socket is subscribed, then the old one is closed (the old
        # socket alone also counts 1 while the new one opens: wait for the rollover first).
        await wait_for(lambda: ws.metrics.rollovers == 1, 10.0)
        await wait_for(lambda: mexc_server.private.private_connections == 1, 10.0)
        assert ws.state is ConnectionState.SUBSCRIBED and ws.metrics.reconnects == 0
        (new_key,) = mexc_server.private.listen_keys
        assert new_key != old_key
        assert await mexc_server.private.push_order(id="after") == 1
        await wait_for(lambda: any(e.order_id == "after" for e in got))


async def test_socket_with_unknown_key_gets_invalid_listen_key(mexc_server: MexcServer) -> None:
    async with websockets.connect(f"{mexc_server.url}?listenKey=nope") as raw:
        assert await raw.recv() == "Invalid listen key"
        with pytest.raises(websockets.ConnectionClosed):
            await raw.recv()


async def test_private_channels_refused_on_public_socket(mexc_server: MexcServer) -> None:
    async with websockets.connect(mexc_server.url) as raw:
        await raw.send('{"method":"SUBSCRIPTION","params":["spot@private.orders.v3.api.pb"]}')
        assert "Not Subscribed successfully" in await raw.recv()


async def test_reconnect_reauths_and_resubscribes(mexc_server: MexcServer) -> None:
    ws = create_websocket_handler_direct(
        "mexc_private",
        credentials=CREDS,
        url=mexc_server.url,
        rest_url=mexc_server.rest_url,
        **FAST,
    )
    got = collect(ws)
    async with ws:
        await ws.subscribe_private()
        mexc_server.faults.close_with(1006)
        await wait_for(lambda: ws.metrics.reconnects == 1)
        await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED)
        await wait_for(lambda: mexc_server.private.private_connections == 1)
        assert await mexc_server.private.push_account(balanceAmount="1") == 1
        await wait_for(lambda: len(got) == 1)
        # The key was still valid: checked with PUT, not recreated.
        assert ws.listen_key_stats["created"] == 1
        assert ("PUT", "ok") in mexc_server.private.calls


async def test_no_secret_or_listen_key_in_logs_or_reprs(
    mexc_server: MexcServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hftws")
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    bad = make(mexc_server, Credentials(ACCOUNT.api_key, "wrong-secret-xyz"))
    with pytest.raises(AuthenticationError) as info:
        await bad.connect()
    await bad.close()
    ws = make(mexc_server)
    async with ws:
        await ws.subscribe_private()
        (key,) = mexc_server.private.listen_keys
        mexc_server.private.expire()
        await wait_for(lambda: ws.listen_key_stats["created"] == 2)
        await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED)
        texts = [repr(ws), str(ws.stats()), repr(ws.handler), str(info.value), repr(info.value)]
    texts += [r.getMessage() for r in caplog.records if not r.name.startswith("websockets")]
    texts += [caplog.text]
    assert caplog.records  # the failures were logged
    for text in texts:
        for secret in (ACCOUNT.api_secret, "wrong-secret-xyz", ACCOUNT.api_key, key):
            assert secret not in text


async def test_revoked_key_mid_stream_backs_off_instead_of_looping(mexc_server: MexcServer) -> None:
    ws = make(mexc_server)
    async with ws:
        await ws.subscribe_orders()
        mexc_server.private.accounts.clear()  # the API key is revoked
        mexc_server.private.calls.clear()
        mexc_server.faults.close_with(1006)
        await wait_for(lambda: ws.metrics.errors["auth"] >= 2, 3.0)
        await asyncio.sleep(0.5)
        # Backoff (0.05 s doubling) bounds the attempts: no tight loop of signed calls.
        assert 2 <= len(mexc_server.private.calls) <= 8
        assert {code for _, code in mexc_server.private.calls} == {"10072"}
        assert ws.state is ConnectionState.RECONNECTING


async def test_connect_errors_do_not_quote_the_listen_key(
    mexc_server: MexcServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hftws.interface import BaseWebSocketInterface
    from hftws.transport import ConnectError

    keys: list[str] = []

    async def failing_open(self: BaseWebSocketInterface[Any]) -> None:
        url = await self._connection_url()
        keys.append(url.partition("listenKey=")[2])
        raise ConnectError(f"timed out after 1s connecting to {url}")

    monkeypatch.setattr(BaseWebSocketInterface, "_open", failing_open)
    ws = make(mexc_server)
    with pytest.raises(ConnectError) as info:
        await ws.connect()
    (key,) = keys
    assert key and key not in str(info.value) and "<listenKey>" in str(info.value)
    # The failed first connect released what it acquired: the key is deleted.
    assert mexc_server.private.listen_keys == frozenset()
    await ws.close()


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda q, t: q, None),  # the untouched request is accepted
        (lambda q, t: q.replace(f"timestamp={t}", f"timestamp={t - 1}"), 700002),
        (lambda q, t: q.replace("recvWindow=5000", "recvWindow=59999"), 700002),
        (lambda q, t: q.rpartition("&signature=")[0], 700002),
        (lambda q, t: q[:-1] + ("0" if q[-1] != "0" else "1"), 700002),
    ],
)
async def test_server_verifies_signatures_exactly(
    mexc_server: MexcServer, mutate: Any, code: Any
) -> None:
    import aiohttp

    from hftws.signing import mexc_signed_query

    t = int(mexc_server.private.now() * 1000)
    query = mutate(mexc_signed_query(ACCOUNT.api_secret, [], t), t)
    headers = {"X-MEXC-APIKEY": ACCOUNT.api_key}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{mexc_server.rest_url}/api/v3/userDataStream?{query}", headers=headers) as r,
    ):
        body = await r.json()
    if code is None:
        assert r.status == 200 and len(body["listenKey"]) == 64
    else:
        assert (r.status, body["code"]) == (400, code)


@pytest.mark.parametrize(
    ("offset_ms", "window", "code"),
    [
        (-4_000, 5000, None),  # 4 s old, inside the default window
        (-6_000, 5000, 700003),  # outside it
        (-6_000, 10_000, None),  # a wider recvWindow accepts it
        (2_000, 5000, 700003),  # more than 1 s in the server's future
        (0, 60_000, 700005),  # recvWindow must be < 60000
    ],
)
async def test_server_recv_window_rule(
    mexc_server: MexcServer, offset_ms: Any, window: Any, code: Any
) -> None:
    import aiohttp

    from hftws.signing import mexc_query, mexc_signature

    t = int(mexc_server.private.now() * 1000) + offset_ms
    query = mexc_query([("recvWindow", window), ("timestamp", t)])
    query += "&signature=" + mexc_signature(ACCOUNT.api_secret, query)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{mexc_server.rest_url}/api/v3/userDataStream?{query}",
            headers={"X-MEXC-APIKEY": ACCOUNT.api_key},
        ) as r,
    ):
        body = await r.json()
    assert (body.get("code"), r.status) == (code, 200 if code is None else 400)
