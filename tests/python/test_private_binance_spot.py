"""Binance spot user data end to end against the local WebSocket API server: HMAC, RSA and
Ed25519 (session.logon) keys, typed events with exact decimals, wrong secret, wrong timestamp,
terminated subscriptions, reconnects, revoked keys, and no secret anywhere."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from binance_keys import ED25519_PEM, RSA_PEM
from client_helpers import own_tasks, wait_for

from hftws import AuthenticationError, Credentials
from hftws.auth.binance_signing import ServerClock
from hftws.binance_user_data import BinanceUserEvent, BinanceWsApiResponse
from hftws.exchanges import BinanceSpotPrivateHandler
from hftws.interface import ConnectionState
from hftws.manager import create_websocket_handler_direct
from hftws.private_events import BalanceUpdate, Execution, OrderUpdate
from hftws.rest import RestClient
from hftws.testing.binance_private import (
    DEFAULT_BINANCE_ACCOUNT as ACCOUNT,
)
from hftws.testing.binance_private import (
    BinanceAccount,
    BinanceFuturesUserDataServer,
    BinanceSpotUserDataServer,
)
from hftws.venues.binance_private import USER_DATA

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 3.0}
CREDS = Credentials(ACCOUNT.api_key, ACCOUNT.secret)
ED_ACCOUNT = BinanceAccount.from_private_key("ed-key", "ed25519", ED25519_PEM)
RSA_ACCOUNT = BinanceAccount.from_private_key("rsa-key", "rsa", RSA_PEM)
ED_CREDS = Credentials("ed-key", ED25519_PEM, key_type="ed25519")
RSA_CREDS = Credentials("rsa-key", RSA_PEM, key_type="rsa")


@pytest_asyncio.fixture
async def server() -> AsyncIterator[BinanceSpotUserDataServer]:
    async with BinanceSpotUserDataServer((ACCOUNT, ED_ACCOUNT, RSA_ACCOUNT)) as srv:
        yield srv


def make(server: Any, creds: Credentials = CREDS, **kw: Any) -> BinanceSpotPrivateHandler:
    return BinanceSpotPrivateHandler(
        url=server.url, rest_url=server.rest_url, credentials=creds, **FAST, **kw
    )


def collect(ws: Any) -> list[Any]:
    got: list[Any] = []
    ws.handler.on_order(got.append)
    ws.handler.on_execution(got.append)
    ws.handler.on_balance(got.append)
    return got


async def test_hmac_subscription_and_typed_events_with_exact_decimals(
    server: BinanceSpotUserDataServer,
) -> None:
    ws = make(server)
    got = collect(ws)
    async with ws:
        await ws.subscribe_private()
        assert ws.state is ConnectionState.SUBSCRIBED and server.subscriptions == 1
        assert server.calls == [("userDataStream.subscribe.signature", "ok")]
        await server.push_execution_report()  # the doc sample: a NEW limit order
        await server.push_execution_report(
            x="TRADE",
            X="PARTIALLY_FILLED",
            l="0.40000000",
            z="0.40000000",
            L="0.10264410",
            Z="0.04105764",
            n="0.00000001",
            N="BNB",
            t=77,
            m=True,
        )
        await server.push_account_position([("BTC", "11818.00000000", "182.00000000")])
        await server.push_balance_update("USDT", "-100.00000001")
        await server.push_list_status()
        await wait_for(lambda: len(got) == 6)
    new, part, fill, balance, delta, oco = got
    assert isinstance(new, OrderUpdate) and new.exchange == "binance"
    assert (new.symbol, new.order_id, new.side, new.order_type, new.status) == (
        "ETHBTC",
        "4293153",
        "buy",
        "limit",
        "new",
    )
    assert new.price == Decimal("0.10264410") and new.remaining_quantity == Decimal("1")
    assert new.client_order_id == "mUvoqJxFIILMdfAW5iGSOW" and new.avg_price is None
    assert isinstance(new.raw, BinanceUserEvent) and new.raw.get("V") == "NONE"
    assert isinstance(part, OrderUpdate) and part.status == "partially_filled"
    assert part.avg_price == Decimal("0.1026441") and part.filled_quantity == Decimal("0.4")
    assert isinstance(fill, Execution) and (fill.trade_id, fill.is_maker) == ("77", True)
    assert (fill.price, fill.quantity, fill.fee, fill.fee_currency) == (
        Decimal("0.10264410"),
        Decimal("0.40000000"),
        Decimal("0.00000001"),
        "BNB",
    )
    assert isinstance(balance, BalanceUpdate) and balance.total == Decimal("12000")
    assert (balance.asset, balance.available, balance.frozen) == (
        "BTC",
        Decimal("11818"),
        Decimal("182"),
    )
    assert isinstance(delta, BalanceUpdate) and delta.change == Decimal("-100.00000001")
    assert isinstance(oco, OrderUpdate) and (oco.order_id, oco.order_type, oco.status) == (
        "list:2",
        "oco",
        "new",
    )
    assert not own_tasks()


@pytest.mark.parametrize(
    ("creds", "logon", "calls"),
    [
        (ED_CREDS, None, [("session.logon", "ok"), ("userDataStream.subscribe", "ok")]),
        (ED_CREDS, False, [("userDataStream.subscribe.signature", "ok")]),
        (RSA_CREDS, None, [("userDataStream.subscribe.signature", "ok")]),
    ],
)
async def test_ed25519_logs_on_and_rsa_signs_the_subscription(
    server: BinanceSpotUserDataServer, creds: Credentials, logon: Any, calls: Any
) -> None:
    ws = make(server, creds, logon=logon)
    got = collect(ws)
    async with ws:
        await ws.subscribe_private()
        assert server.calls == calls and ws.key_type == creds.key_type
        assert await server.push_balance_update("BTC", "1") == 0  # the default account's
        assert await server.push({"e": "balanceUpdate", "a": "BTC", "d": "1"}, creds.api_key)
        await wait_for(lambda: len(got) == 1)
    assert got[0].change == Decimal(1)


async def test_wrong_secret_is_an_auth_error_without_the_secret(
    server: BinanceSpotUserDataServer,
) -> None:
    bad = Credentials(ACCOUNT.api_key, "wrong-secret-value")
    ws = make(server, bad)
    async with ws:
        with pytest.raises(AuthenticationError) as info:
            await ws.subscribe_private()
        assert info.value.reason == "-1022"
        assert "INVALID_SIGNATURE" in str(info.value) and "binance" in str(info.value)
        assert server.calls == [("userDataStream.subscribe.signature", "-1022")]  # no retry
        assert ws.metrics.errors["auth"] == 1 and USER_DATA in ws.refused
        for secret in ("wrong-secret-value", ACCOUNT.api_key):
            assert secret not in str(info.value) and secret not in repr(info.value)


async def test_unknown_key_and_wrong_ed25519_key_fail_at_logon(
    server: BinanceSpotUserDataServer,
) -> None:
    ws = make(server, Credentials("nobody", "s"))
    async with ws:
        with pytest.raises(AuthenticationError) as info:
            await ws.subscribe_private()
    assert info.value.reason == "-2015"
    server.add_account(BinanceAccount.from_private_key("ed-key", "ed25519", _other_ed25519()))
    logon = make(server, ED_CREDS)
    with pytest.raises(AuthenticationError) as info:
        await logon.connect()  # session.logon is part of connecting
    assert info.value.reason == "-1022" and logon.state is ConnectionState.CLOSED
    await logon.close()
    assert not own_tasks()


def _other_ed25519() -> str:
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


async def test_wrong_timestamp_is_an_auth_error_unless_the_clock_is_synced(
    server: BinanceSpotUserDataServer,
) -> None:
    server.clock_skew = 30.0  # server 30 s ahead: our timestamps are outside recvWindow
    unsynced = make(server, sync_time=False)
    async with unsynced:
        with pytest.raises(AuthenticationError) as info:
            await unsynced.subscribe_private()
    assert info.value.reason == "-1021" and "recvWindow" in str(info.value)
    assert server.calls == [("userDataStream.subscribe.signature", "-1021")]
    server.calls.clear()
    synced = make(server)
    async with synced:
        await synced.subscribe_private()
        assert abs(synced.server_clock.offset_ms - 30_000) < 1000
    assert server.calls == [("userDataStream.subscribe.signature", "ok")]


async def test_clock_drift_after_connect_is_resynced_and_retried_once(
    server: BinanceSpotUserDataServer,
) -> None:
    ws = make(server, recv_window=2000)
    async with ws:
        assert ws.server_clock.synced
        server.clock_skew = -10.0  # the server clock moved: our timestamps are 10 s ahead
        await ws.subscribe_private()
        assert server.calls == [
            ("userDataStream.subscribe.signature", "-1021"),
            ("userDataStream.subscribe.signature", "ok"),
        ]
        assert ws.state is ConnectionState.SUBSCRIBED


async def test_terminated_stream_moves_to_a_new_subscribed_socket(
    server: BinanceSpotUserDataServer,
) -> None:
    ws = make(server, ED_CREDS)
    got = collect(ws)
    notices: list[Any] = []
    ws.handler.on_error(notices.append)
    async with ws:
        await ws.subscribe_private()
        assert await server.terminate() == 1
        await wait_for(lambda: ws.metrics.rollovers == 1 and server.subscriptions == 1)
        await wait_for(lambda: server.connections == 1)
        assert ws.state is ConnectionState.SUBSCRIBED and ws.metrics.reconnects == 0
        assert await server.push_balance_update("BTC", "0.5") == 0  # default account: HMAC
        assert await server.push({"e": "balanceUpdate", "a": "BTC", "d": "0.5"}, "ed-key") == 1
        await wait_for(lambda: len(got) == 1)
    assert [n.event_type for n in notices] == ["eventStreamTerminated"]
    assert [c for c, _ in server.calls].count("session.logon") == 2


async def test_reconnect_resubscribes_and_server_shutdown_rolls_over(
    server: BinanceSpotUserDataServer,
) -> None:
    ws = create_websocket_handler_direct(
        "binance_private", credentials=CREDS, url=server.url, rest_url=server.rest_url, **FAST
    )
    got = collect(ws)
    async with ws:
        await ws.subscribe_private()
        server.faults.close_with(1006)
        await wait_for(lambda: ws.metrics.reconnects == 1)
        await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED and server.subscriptions)
        assert await server.push_balance_update("USDT", "1") == 1
        await server.shutdown_notice()
        await wait_for(lambda: ws.metrics.rollovers == 1 and server.connections == 1)
        assert await server.push_balance_update("USDT", "2") == 1
        await wait_for(lambda: len(got) == 2)
    assert [b.change for b in got] == [Decimal(1), Decimal(2)]


async def test_revoked_key_mid_session_is_counted_and_not_retried_in_a_loop(
    server: BinanceSpotUserDataServer,
) -> None:
    ws = make(server)
    results: list[tuple[Any, bool, str]] = []
    ws.on_subscription_result(lambda s, ok, why: results.append((s, ok, why)))
    errors: list[Any] = []
    ws.handler.on_error(errors.append)
    async with ws:
        await ws.subscribe_private()
        assert await server.revoke(ACCOUNT.api_key) == 1
        await wait_for(lambda: ws.metrics.rollovers == 1 and USER_DATA in ws.refused)
        await asyncio.sleep(0.2)
        assert ws.metrics.errors["auth"] >= 1
        assert [c for c in server.calls if c[1] != "ok"] == [
            ("userDataStream.subscribe.signature", "-2015")
        ]
    assert isinstance(errors[0], BinanceWsApiResponse) and errors[0].error_code == -2015
    assert results[-1][1] is False and "-2015" in results[-1][2]


async def test_no_secret_in_logs_reprs_or_stats(
    server: BinanceSpotUserDataServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hftws")
    bad = make(server, Credentials(ACCOUNT.api_key, "wrong-secret-xyz"))
    async with bad:
        with pytest.raises(AuthenticationError) as info:
            await bad.subscribe_private()
    ws = make(server, ED_CREDS)
    async with ws:
        await ws.subscribe_private()
        await server.terminate()
        await wait_for(lambda: ws.metrics.rollovers == 1)
        texts = [repr(ws), repr(ws.auth), str(ws.stats()), repr(ws.handler), repr(ED_CREDS)]
    texts += [str(info.value), repr(info.value), caplog.text]
    assert caplog.records
    for text in texts:
        for secret in (ACCOUNT.secret, "wrong-secret-xyz", ACCOUNT.api_key, "ed-key"):
            assert secret not in text
        assert "PRIVATE KEY" not in text and ED25519_PEM.splitlines()[1] not in text


async def test_server_clock_from_both_time_endpoints() -> None:
    async with (
        BinanceSpotUserDataServer(clock_skew=-42.0) as spot,
        BinanceFuturesUserDataServer(clock_skew=7.0) as futures,
        RestClient(timeout=2.0) as rest,
    ):
        clock = ServerClock("/api/v3/time")
        assert await clock.sync(rest, spot.rest_url)
        assert abs(clock.offset_ms + 42_000) < 500 and abs(clock.now_ms() - spot.now_ms()) < 500
        fclock = ServerClock("/fapi/v1/time")
        assert await fclock.sync(rest, futures.rest_url)
        assert abs(fclock.offset_ms - 7_000) < 500
        missing = ServerClock("/fapi/v1/time")
        assert not await missing.sync(rest, spot.rest_url)  # the spot server has no such path
        assert missing.offset_ms == 0 and not missing.synced


def test_handler_built_from_env_and_bad_keys_fail_early(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFTWS_BINANCE_API_KEY", "k")
    monkeypatch.setenv("HFTWS_BINANCE_API_SECRET", RSA_PEM)
    monkeypatch.setenv("HFTWS_BINANCE_KEY_TYPE", "rsa")
    ws = create_websocket_handler_direct("binance_private")
    assert ws.key_type == "rsa" and ws.policy.url.endswith("/ws-api/v3")
    monkeypatch.setenv("HFTWS_BINANCE_KEY_TYPE", "ed25519")  # an RSA PEM is not Ed25519
    from hftws.credentials import MissingCredentials

    with pytest.raises(MissingCredentials, match="not an ed25519 key"):
        create_websocket_handler_direct("binance_private")
    with pytest.raises(ValueError, match=r"session\.logon needs an Ed25519 key"):
        BinanceSpotPrivateHandler(credentials=CREDS, logon=True)


@pytest.mark.parametrize("delay", [0.0, 0.003, 0.02])
async def test_close_during_a_move_leaves_no_socket_or_task(
    server: BinanceSpotUserDataServer, delay: float
) -> None:
    ws = make(server, ED_CREDS)
    async with ws:
        await ws.subscribe_private()
        await server.terminate()
        await asyncio.sleep(delay)  # close before, during or after the new socket's logon
    assert ws.state is ConnectionState.CLOSED and not own_tasks()
    await wait_for(lambda: server.connections == 0)


async def test_faults_garbage_stall_and_refused_upgrades(server: BinanceSpotUserDataServer) -> None:
    ws = make(server, RSA_CREDS)
    got = collect(ws)
    async with ws:
        await ws.subscribe_private()
        server.faults.send_garbage(3)
        await wait_for(lambda: ws.metrics.errors["DecodeError"] == 3)
        server.faults.stall()  # silence: the idle watchdog (3 s here) drops the socket
        server.faults.refuse_upgrades(1)
        await wait_for(lambda: ws.metrics.reconnects == 1, 8.0)
        server.faults.unstall()
        await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED and server.subscriptions, 8.0)
        assert await server.push({"e": "balanceUpdate", "a": "BTC", "d": "2"}, "rsa-key") == 1
        await wait_for(lambda: len(got) == 1)
    assert ws.metrics.errors["idle_timeout"] == 1
    assert ws.metrics.errors["reconnect_failed"] == 1


async def test_ed25519_logon_with_a_wrong_timestamp_fails_the_connect(
    server: BinanceSpotUserDataServer,
) -> None:
    server.clock_skew = -30.0  # server behind: our timestamps are in its future
    ws = make(server, ED_CREDS, sync_time=False)
    with pytest.raises(AuthenticationError) as info:
        await ws.connect()
    await ws.close()
    assert info.value.reason == "-1021" and "session.logon" in str(info.value)
    assert server.calls == [("session.logon", "-1021")] and not own_tasks()
    synced = make(server, ED_CREDS)
    async with synced:
        await synced.subscribe_private()
    assert server.calls[-2:] == [("session.logon", "ok"), ("userDataStream.subscribe", "ok")]


async def test_unsubscribe_ends_the_subscription_and_is_not_resent(
    server: BinanceSpotUserDataServer,
) -> None:
    ws = make(server)
    async with ws:
        await ws.subscribe_private()
        await ws.unsubscribe(USER_DATA)
        await wait_for(lambda: server.subscriptions == 0)
        assert ws.state is ConnectionState.CONNECTED and not ws.subscriptions
        server.faults.close_with(1006)
        await wait_for(lambda: ws.metrics.reconnects == 1 and ws.state is ConnectionState.CONNECTED)
        assert server.subscriptions == 0
    assert [c for c, _ in server.calls] == [
        "userDataStream.subscribe.signature",
        "userDataStream.unsubscribe",
    ]
