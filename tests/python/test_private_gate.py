"""Gate.io private channels (spot and futures) end to end against the local servers."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from client_helpers import own_tasks, wait_for

from hftws import AuthenticationError, Credentials
from hftws.exchanges import GateioFuturesPrivateHandler, GateioSpotPrivateHandler
from hftws.gateio import GateBalance, GateOrder, GatePosition, GateUserTrade
from hftws.interface import ConnectionState
from hftws.manager import create_websocket_handler_direct
from hftws.mixins.subscription import Subscription
from hftws.private_events import BalanceUpdate, Execution, OrderUpdate, PositionUpdate
from hftws.testing.gate_server import GateFuturesServer, GateSpotServer
from hftws.testing.private import DEFAULT_ACCOUNT as ACCOUNT

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 3.0}
CREDS = Credentials(ACCOUNT.api_key, ACCOUNT.api_secret, uid=ACCOUNT.uid)


def spot(server: Any, creds: Any = CREDS, **kw: Any) -> GateioSpotPrivateHandler:
    return GateioSpotPrivateHandler(
        url=server.url, rest_url=server.rest_url, credentials=creds, **FAST, **kw
    )


def collect(ws: Any) -> list[Any]:
    got: list[Any] = []
    for register in (ws.handler.on_order, ws.handler.on_execution, ws.handler.on_balance):
        register(got.append)
    ws.handler.on_position(got.append)
    return got


async def test_spot_login_and_typed_events(gate_spot_server: GateSpotServer) -> None:
    private = gate_spot_server.private
    ws = spot(gate_spot_server)
    got = collect(ws)
    async with ws:
        await ws.subscribe_private()
        assert ws.state is ConnectionState.SUBSCRIBED
        assert sorted(private.auth_log) == [
            ("spot.balances", "ok"),
            ("spot.orders", "ok"),
            ("spot.usertrades", "ok"),
        ]
        await private.push_order(
            id="123",
            text="t-mine",
            event="update",
            side="sell",
            amount="0.30000000000000001",
            left="0.1",
            filled_amount="0.20000000000000001",
            price="63250.1",
            avg_deal_price="63250.1",
        )
        await private.push_order(id="124", event="finish", left="0", amount="1", finish_as="filled")
        await private.push_user_trade(
            id=5,
            order_id="123",
            side="sell",
            amount="0.2",
            price="0.1",
            fee="0.0001",
            fee_currency="USDT",
            role="maker",
            text="t-mine",
        )
        await private.push_balance(total="100.5", available="90.25", freeze="10.25", change="-1")
        await wait_for(lambda: len(got) == 4)
    order, done, fill, bal = got
    assert isinstance(order, OrderUpdate) and isinstance(order.raw, GateOrder)
    assert order.quantity == Decimal("0.30000000000000001")
    assert order.filled_quantity == Decimal("0.20000000000000001")
    assert (order.status, order.side, order.client_order_id) == (
        "partially_filled",
        "sell",
        "t-mine",
    )
    assert (done.status, done.order_id) == ("filled", "124")
    assert isinstance(fill, Execution) and isinstance(fill.raw, GateUserTrade)
    assert fill.quantity is not None and fill.price is not None
    assert fill.quantity + fill.price == Decimal("0.3") and fill.is_maker is True
    assert isinstance(bal, BalanceUpdate) and isinstance(bal.raw, GateBalance)
    assert (bal.total, bal.available, bal.frozen) == (
        Decimal("100.5"),
        Decimal("90.25"),
        Decimal("10.25"),
    )
    assert not own_tasks()


async def test_futures_uid_first_and_positions(gate_futures_server: GateFuturesServer) -> None:
    private = gate_futures_server.private
    ws = create_websocket_handler_direct(
        "gateio_futures_private",
        credentials=CREDS,
        url=gate_futures_server.url,
        rest_url=gate_futures_server.rest_url,
        **FAST,
    )
    assert isinstance(ws, GateioFuturesPrivateHandler)
    got = collect(ws)
    async with ws:
        await ws.subscribe_private()
        assert Subscription("futures.orders", (ACCOUNT.uid, "!all")) in ws.subscriptions
        assert {outcome for _, outcome in private.auth_log} == {"ok"}
        await private.push_order(id=7, size=-5, left=-2, price=63240.3, status="open")
        await private.push_user_trade(id="9", order_id="7", size=-3, price="63240.3", fee=0.01)
        await private.push_position(size=-3, entry_price="63240.3", leverage="10")
        await private.push_balance(balance="1000.123", change="-0.01", type="fee")
        await wait_for(lambda: len(got) == 4)
    order, fill, pos, bal = got
    assert isinstance(order.raw, GateOrder)
    assert (order.side, order.quantity, order.filled_quantity) == ("sell", Decimal(5), Decimal(3))
    assert order.status == "partially_filled" and order.price == Decimal("63240.3")
    assert (fill.side, fill.quantity, fill.fee) == ("sell", Decimal(3), Decimal("0.01"))
    assert isinstance(pos, PositionUpdate) and isinstance(pos.raw, GatePosition)
    assert (pos.side, pos.size, pos.leverage) == ("short", Decimal(-3), Decimal(10))
    assert bal.total == Decimal("1000.123") and bal.change_type == "fee"


async def test_futures_wrong_uid_is_refused(gate_futures_server: GateFuturesServer) -> None:
    creds = Credentials(ACCOUNT.api_key, ACCOUNT.api_secret, uid="999")
    ws = GateioFuturesPrivateHandler(
        url=gate_futures_server.url,
        rest_url=gate_futures_server.rest_url,
        credentials=creds,
        **FAST,
    )
    async with ws:
        with pytest.raises(Exception) as info:
            await ws.subscribe_orders()
        assert not isinstance(info.value, AuthenticationError)  # a payload error, not auth
        assert not ws.subscriptions


@pytest.mark.parametrize(
    ("creds", "label"),
    [
        (Credentials("unknown-key", ACCOUNT.api_secret), "INVALID_KEY"),
        (Credentials(ACCOUNT.api_key, "wrong-secret"), "INVALID_SIGNATURE"),
    ],
)
async def test_login_failure_is_reported_once_and_not_retried(
    gate_spot_server: GateSpotServer, creds: Any, label: Any
) -> None:
    private = gate_spot_server.private
    ws = spot(gate_spot_server, creds)
    errors: list[Any] = []
    ws.handler.on_error(errors.append)
    async with ws:
        with pytest.raises(AuthenticationError) as info:
            await ws.subscribe_orders()
        assert info.value.reason == label
        assert errors and errors[0].is_auth and ws.metrics.errors["auth"] == 1
        assert ws.last_auth_error.label == label
        assert not ws.subscriptions
        # A reconnect does not resend the refused channel.
        gate_spot_server.faults.close_with(1006)
        await wait_for(lambda: ws.metrics.reconnects == 1)
        await wait_for(lambda: ws.state is ConnectionState.CONNECTED)
    assert private.auth_log == [("spot.orders", label)]
    for text in (str(info.value), repr(info.value)):
        assert creds.api_secret not in text and creds.api_key not in text


async def test_clock_skew_server_time_and_expired_requests(
    gate_spot_server: GateSpotServer,
) -> None:
    private = gate_spot_server.private
    private.clock_skew = 120.0  # local clock two minutes behind the server
    ws = spot(gate_spot_server)
    async with ws:
        await ws.subscribe_balances()
    assert private.auth_log == [("spot.balances", "ok")]
    private.auth_log.clear()
    # Without the connect-time sync the first request is expired; the mixin re-reads the server
    # time and re-signs once.
    unsynced = spot(gate_spot_server, sync_time=False)
    async with unsynced:
        await unsynced.subscribe_balances()
    assert private.auth_log == [("spot.balances", "REQUEST_EXPIRED"), ("spot.balances", "ok")]


async def test_expired_with_no_server_time_is_an_auth_error(
    gate_spot_server: GateSpotServer,
) -> None:
    gate_spot_server.private.clock_skew = 120.0
    # REST unreachable: the clock cannot be fixed, so the refusal stands after one retry.
    ws = GateioSpotPrivateHandler(
        url=gate_spot_server.url, rest_url="http://127.0.0.1:9", credentials=CREDS, **FAST
    )
    async with ws:
        with pytest.raises(AuthenticationError) as info:
            await ws.subscribe_orders()
    assert info.value.reason == "REQUEST_EXPIRED"
    assert [o for _, o in gate_spot_server.private.auth_log] == ["REQUEST_EXPIRED"] * 2
    assert ws.metrics.errors["time_sync_failed"] >= 1


async def test_reconnect_resigns_with_fresh_time(gate_spot_server: GateSpotServer) -> None:
    private = gate_spot_server.private
    ws = spot(gate_spot_server)
    got = collect(ws)
    async with ws:
        await ws.subscribe_orders("BTC_USDT")
        gate_spot_server.faults.close_with(1011)
        await wait_for(lambda: ws.metrics.reconnects == 1)
        await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED)
        assert private.auth_log == [("spot.orders", "ok"), ("spot.orders", "ok")]
        await wait_for(lambda: gate_spot_server.connections == 1)
        assert await private.push_order("BTC_USDT", id="after") == 1
        assert await private.push_order("ETH_USDT", id="other") == 0  # not subscribed
        await wait_for(lambda: len(got) == 1)
    assert got[0].order_id == "after"


async def test_no_secret_in_logs(
    gate_spot_server: GateSpotServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hftws")
    bad = spot(gate_spot_server, Credentials(ACCOUNT.api_key, "wrong-secret-abc"))
    async with bad:
        with pytest.raises(AuthenticationError):
            await bad.subscribe_orders()
    ws = spot(gate_spot_server)
    async with ws:
        await ws.subscribe_private()
        gate_spot_server.faults.close_with(1006)
        await wait_for(lambda: ws.metrics.reconnects == 1)
        await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED)
        texts = [repr(ws), str(ws.stats()), repr(bad), caplog.text]
    assert any("authentication refused" in r.getMessage() for r in caplog.records)
    for text in texts:
        for secret in (ACCOUNT.api_secret, "wrong-secret-abc", ACCOUNT.api_key):
            assert secret not in text


async def test_unsubscribe_is_signed_too(gate_spot_server: GateSpotServer) -> None:
    private = gate_spot_server.private
    ws = spot(gate_spot_server)
    got = collect(ws)
    async with ws:
        await ws.subscribe_orders("BTC_USDT")
        await ws.unsubscribe(Subscription("spot.orders", ("BTC_USDT",)))
        await wait_for(lambda: len(private.auth_log) == 2)
        assert private.auth_log == [("spot.orders", "ok"), ("spot.orders", "ok")]
        await wait_for(lambda: gate_spot_server.private.server.connections == 1)
        assert await private.push_order("BTC_USDT") == 0
    assert got == []


async def test_key_revoked_while_connected_drops_the_channel_once(
    gate_spot_server: GateSpotServer,
) -> None:
    private = gate_spot_server.private
    ws = spot(gate_spot_server)
    async with ws:
        await ws.subscribe_orders()
        private.accounts.clear()
        gate_spot_server.faults.close_with(1006)
        await wait_for(lambda: ws.metrics.errors["auth"] == 1)
        # The refusal is judged by the resubscribe task after the error is counted.
        await wait_for(lambda: not ws.subscriptions)
        gate_spot_server.faults.close_with(1006)
        await wait_for(lambda: ws.metrics.reconnects == 2)
        await wait_for(lambda: ws.state is ConnectionState.CONNECTED)
    assert private.auth_log == [("spot.orders", "ok"), ("spot.orders", "INVALID_KEY")]


async def test_server_refuses_unsigned_and_stale_requests(gate_spot_server: GateSpotServer) -> None:
    import json
    import time

    import websockets

    from hftws import gateio

    async with websockets.connect(gate_spot_server.url) as raw:
        await raw.send(gateio.subscribe_message("spot.orders", ["!all"], id=1))
        unsigned = json.loads(await raw.recv())
        assert unsigned["error"]["code"] == 4 and unsigned["result"] == {"status": "fail"}
        stale = int(time.time()) - 61
        await raw.send(
            gateio.subscribe_message(
                "spot.orders",
                ["!all"],
                id=2,
                time=stale,
                key=ACCOUNT.api_key,
                secret=ACCOUNT.api_secret,
            )
        )
        expired = gateio.parse(await raw.recv())
        assert isinstance(expired, gateio.GateError)
        assert (expired.code, expired.label, expired.is_auth) == (2, "REQUEST_EXPIRED", True)
        await raw.send(
            gateio.subscribe_message(
                "spot.orders", ["!all"], id=3, key=ACCOUNT.api_key, secret=ACCOUNT.api_secret
            )
        )
        ok = json.loads(await raw.recv())
        assert ok["id"] == 3 and ok["result"] == {"status": "success"}
    assert [o for _, o in gate_spot_server.private.auth_log] == ["code 4", "REQUEST_EXPIRED", "ok"]
