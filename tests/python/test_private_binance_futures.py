"""Binance USDⓈ-M user data end to end against the local listenKey server: typed events,
unknown API key, listenKey expiry (event, refused keep-alive, closed socket) with
make-before-break, keep-alive timer, and the listenKey never shown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
import websockets
from binance_keys import ED25519_PEM, RSA_PEM
from client_helpers import own_tasks, wait_for

from hftws import AuthenticationError, Credentials
from hftws.binance_user_data import BinanceUserEvent
from hftws.exchanges import BinanceFuturesPrivateHandler
from hftws.interface import ConnectionState
from hftws.manager import create_websocket_handler_direct
from hftws.private_events import BalanceUpdate, Execution, OrderUpdate, PositionUpdate
from hftws.testing.binance_private import DEFAULT_BINANCE_ACCOUNT as ACCOUNT
from hftws.testing.binance_private import BinanceAccount, BinanceFuturesUserDataServer

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 3.0}
CREDS = Credentials(ACCOUNT.api_key, ACCOUNT.secret)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[BinanceFuturesUserDataServer]:
    async with BinanceFuturesUserDataServer() as srv:
        yield srv


def make(server: Any, creds: Credentials = CREDS, **kw: Any) -> BinanceFuturesPrivateHandler:
    return BinanceFuturesPrivateHandler(
        url=server.url, rest_url=server.rest_url, credentials=creds, **FAST, **kw
    )


def collect(ws: Any) -> list[Any]:
    got: list[Any] = []
    ws.handler.on_order(got.append)
    ws.handler.on_execution(got.append)
    ws.handler.on_balance(got.append)
    ws.handler.on_position(got.append)
    return got


async def test_typed_events_for_orders_fills_balances_and_positions(
    server: BinanceFuturesUserDataServer,
) -> None:
    ws = create_websocket_handler_direct(
        "binance_futures_private",
        credentials=CREDS,
        url=server.url,
        rest_url=server.rest_url,
        **FAST,
    )
    got = collect(ws)
    async with ws:
        await ws.subscribe_private()
        assert ws.state is ConnectionState.SUBSCRIBED and server.private_connections == 1
        assert server.calls == [("POST", "ok")]
        await server.push_order_trade_update()  # NEW
        await server.push_trade_lite(t=5, i=8886774, L="7103.04", l="0.0004", S="SELL")
        await server.push_order_trade_update(
            x="TRADE", X="PARTIALLY_FILLED", t=5, l="0.0004", L="7103.04", z="0.0004",
            ap="7103.04", n="0.00113648", N="USDT", m=True,
        )  # fmt: skip
        await server.push_account_update(
            balances=[{"a": "USDT", "wb": "122624.12345678", "cw": "100.12345678", "bc": "-1.5"}],
            positions=[
                {"s": "BTCUSDT", "pa": "-0.0004", "ep": "7103.04", "bep": "0", "cr": "200",
                 "up": "0", "mt": "isolated", "iw": "2.5", "ps": "BOTH"},
                {"s": "ETHUSDT", "pa": "3", "ep": "200.1", "bep": "0", "cr": "0", "up": "0",
                 "mt": "cross", "iw": "0", "ps": "LONG"},
            ],
        )  # fmt: skip
        await wait_for(lambda: len(got) == 6)
    new, lite, partial, balance, short, long_ = got
    assert isinstance(new, OrderUpdate) and new.exchange == "binance_futures"
    assert (new.status, new.side, new.order_type, new.price) == (
        "new",
        "sell",
        "limit",
        Decimal("7103.04"),
    )
    assert new.avg_price is None and new.remaining_quantity == Decimal("0.001")
    # TRADE_LITE first (lower latency); the ORDER_TRADE_UPDATE of the same trade is only an
    # order update, its fill is not reported twice.
    assert isinstance(lite, Execution) and (lite.trade_id, lite.order_id) == ("5", "8886774")
    assert (lite.price, lite.quantity, lite.side) == (Decimal("7103.04"), Decimal("0.0004"), "sell")
    assert isinstance(partial, OrderUpdate) and partial.status == "partially_filled"
    assert partial.avg_price == Decimal("7103.04") and partial.remaining_quantity == Decimal(
        "0.0006"
    )
    assert isinstance(balance, BalanceUpdate) and balance.total == Decimal("122624.12345678")
    assert (balance.available, balance.change, balance.change_type) == (
        None,
        Decimal("-1.5"),
        "order",
    )
    assert isinstance(short, PositionUpdate) and (short.size, short.side) == (
        Decimal("-0.0004"),
        "short",
    )
    assert (short.margin, short.mode, short.realised_pnl) == (
        Decimal("2.5"),
        "isolated",
        Decimal(200),
    )
    assert isinstance(long_, PositionUpdate) and (long_.side, long_.margin) == ("long", None)
    assert isinstance(short.raw, BinanceUserEvent) and short.raw.event_type == "ACCOUNT_UPDATE"
    assert ("DELETE", "ok") in server.calls and not server.listen_keys  # closed on close()
    assert not own_tasks()


async def test_fill_without_trade_lite_comes_from_the_order_update(
    server: BinanceFuturesUserDataServer,
) -> None:
    ws = make(server)
    fills: list[Execution] = []
    ws.handler.on_execution(fills.append)
    async with ws:
        await ws.subscribe_private()
        await server.push_order_trade_update(x="TRADE", X="FILLED", t=9, l="0.001", L="1.5")
        await wait_for(lambda: len(fills) == 1)
    assert (fills[0].trade_id, fills[0].fee_currency, fills[0].quantity) == (
        "9",
        "USDT",
        Decimal("0.001"),
    )


async def test_unknown_api_key_is_an_auth_error_before_any_socket(
    server: BinanceFuturesUserDataServer,
) -> None:
    ws = make(server, Credentials("nobody", "secret-of-nobody"))
    with pytest.raises(AuthenticationError) as info:
        await ws.connect()
    assert info.value.reason == "-2015" and "REJECTED_MBX_KEY" in str(info.value)
    assert server.calls == [("POST", "-2015")] and server.connections == 0
    assert "nobody" not in str(info.value) and "secret-of-nobody" not in str(info.value)
    await ws.close()
    assert not own_tasks()


async def test_listen_key_expired_event_gives_a_new_key_make_before_break(
    server: BinanceFuturesUserDataServer,
) -> None:
    ws = make(server)
    got = collect(ws)
    notices: list[Any] = []
    ws.handler.on_error(notices.append)
    async with ws:
        await ws.subscribe_private()
        await server.push_trade_lite(t=1)
        await wait_for(lambda: len(got) == 1)
        (old_key,) = server.listen_keys
        assert server.expire() == 1  # listenKeyExpired; the socket stays open, silent
        await wait_for(lambda: ws.metrics.rollovers == 1 and server.private_connections == 1)
        await wait_for(lambda: server.connections == 1)  # the old socket was closed after
        (new_key,) = server.listen_keys
        assert new_key != old_key and ws.listen_key_stats["created"] == 2
        assert ws.metrics.reconnects == 0 and ws.state is ConnectionState.SUBSCRIBED
        assert await server.push_trade_lite(t=2) == 1
        await wait_for(lambda: len(got) == 2)
    assert [e.trade_id for e in got] == ["1", "2"]
    assert [n.event_type for n in notices] == ["listenKeyExpired"]
    assert notices[0].get("listenKey") == "<listenKey>"  # redacted in the record
    assert ws.listen_key_stats["expired"] == 1


async def test_closed_socket_with_a_dead_key_reconnects_with_a_new_key(
    server: BinanceFuturesUserDataServer,
) -> None:
    ws = make(server)
    got = collect(ws)
    async with ws:
        await ws.subscribe_private()
        server.expire(notify=False, close_sockets=True)
        await wait_for(lambda: ws.metrics.reconnects == 1)
        await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED)
        await wait_for(lambda: server.private_connections == 1)
        # The reconnect checked the old key (PUT refused with -1125), then created a new one.
        assert ("PUT", "-1125") in server.calls
        assert [c for c in server.calls if c[0] == "POST"] == [("POST", "ok")] * 2
        assert await server.push_trade_lite(t=3) == 1
        await wait_for(lambda: len(got) == 1)


async def test_keepalive_timer_keeps_the_key(server: BinanceFuturesUserDataServer) -> None:
    server.listen_key_ttl = 0.6
    ws = make(server, keepalive_interval=0.2)
    async with ws:
        await ws.subscribe_private()
        await wait_for(lambda: ws.listen_key_stats["kept_alive"] >= 5, 3.0)
        assert ws.listen_key_stats["created"] == 1 and ws.metrics.reconnects == 0
        assert server.private_connections == 1


@pytest.mark.parametrize("status_code", [(400, -1125), (404, None), (410, 0)])
async def test_any_4xx_to_the_keepalive_moves_to_a_new_key_and_socket(
    server: BinanceFuturesUserDataServer, status_code: tuple[int, int | None]
) -> None:
    status, code = status_code
    server.put_answer = (status, {} if code is None else {"code": code, "msg": "any text"})
    ws = make(server, keepalive_interval=0.2)
    got = collect(ws)
    async with ws:
        await ws.subscribe_private()
        await wait_for(lambda: ws.listen_key_stats["rejected"] >= 1, 5.0)
        await wait_for(lambda: ws.metrics.rollovers >= 1, 5.0)
        assert ws.metrics.reconnects == 0 and ws.listen_key_stats["created"] >= 2
        server.put_answer = None
        await wait_for(lambda: server.connections == 1, 5.0)
        assert await server.push_trade_lite(t=4) == 1
        await wait_for(lambda: len(got) == 1)


async def test_socket_with_unknown_key_is_closed(server: BinanceFuturesUserDataServer) -> None:
    async with websockets.connect(f"{server.url}/nope") as raw:
        with pytest.raises(websockets.ConnectionClosed) as info:
            await raw.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == 1008


async def test_listen_key_never_in_logs_reprs_or_errors(
    server: BinanceFuturesUserDataServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG, logger="hftws")
    ws = make(server)
    keys: list[str] = []
    async with ws:
        await ws.subscribe_private()
        keys += server.listen_keys
        server.expire()
        await wait_for(lambda: ws.listen_key_stats["created"] == 2)
        keys += server.listen_keys
        texts = [repr(ws), repr(ws.auth), str(ws.stats()), repr(ws.handler)]
    # A connect error quoting the URL is redacted.
    from hftws.errors import ConnectError
    from hftws.interface import BaseWebSocketInterface

    async def failing_open(self: BaseWebSocketInterface[Any]) -> None:
        url = await self._connection_url()
        keys.append(url.rpartition("/")[2])
        raise ConnectError(f"timed out connecting to {url}")

    monkeypatch.setattr(BaseWebSocketInterface, "_open", failing_open)
    failing = make(server)
    with pytest.raises(ConnectError) as info:
        await failing.connect()
    await failing.close()
    texts += [str(info.value), caplog.text]
    assert "<listenKey>" in str(info.value) and len(keys) == 3
    for text in texts:
        for secret in (*keys, ACCOUNT.secret, ACCOUNT.api_key):
            assert secret not in text
    await asyncio.sleep(0)


async def test_verify_secret_catches_a_wrong_secret_at_connect() -> None:
    ed = BinanceAccount.from_private_key("ed-key", "ed25519", ED25519_PEM)
    rsa = BinanceAccount.from_private_key("rsa-key", "rsa", RSA_PEM)
    async with BinanceFuturesUserDataServer((ACCOUNT, ed, rsa), clock_skew=20.0) as server:
        for creds in (
            CREDS,
            Credentials("ed-key", ED25519_PEM, key_type="ed25519"),
            Credentials("rsa-key", RSA_PEM, key_type="rsa"),
        ):
            ws = make(server, creds, verify_secret=True)
            async with ws:  # the clock is 20 s off: the signed call uses the server's
                await ws.subscribe_private()
                assert ws.state is ConnectionState.SUBSCRIBED
                assert abs(ws.server_clock.offset_ms - 20_000) < 1000
                # Escapes that HTTP clients like to normalise (%2C, %3A, %2F) reach the server
                # as signed.
                params: list[tuple[str, object]] = [("symbols", '["测试USDT","A:B/C"]')]
                assert await ws.binance_auth.signed_request("GET", "/fapi/v3/balance", params) == []
        assert [c for c in server.calls if c[0] == "GET balance"] == [("GET balance", "ok")] * 6
        server.calls.clear()
        bad = make(server, Credentials(ACCOUNT.api_key, "wrong-secret"), verify_secret=True)
        with pytest.raises(AuthenticationError) as info:
            await bad.connect()
        await bad.close()
        assert info.value.reason == "-1022" and "wrong secret" in str(info.value)
        assert "wrong-secret" not in str(info.value).replace("wrong secret", "")
        assert server.calls == [("GET balance", "-1022")] and not server.listen_keys
        plain = make(server, Credentials(ACCOUNT.api_key, "wrong-secret"))
        async with plain:  # without the check the listenKey (API key only) still works
            await plain.subscribe_private()
            assert plain.has_listen_key


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda q: q, None),
        (lambda q: q.replace("symbol=%E6%B5%8B", "symbol=%E6%B5%8C"), -1022),
        (lambda q: q.replace("recvWindow=5000", "recvWindow=6000"), -1022),
        (lambda q: q.rpartition("&signature=")[0], -1022),
        (lambda q: q.replace("timestamp=", "timestamp=1"), -1021),
    ],
)
async def test_server_checks_rest_signatures_of_every_key_type(
    mutate: Any, code: int | None
) -> None:
    import aiohttp
    from yarl import URL

    from hftws.auth.binance_signing import BinanceSigner, signed_rest_query

    keys = [
        (ACCOUNT, BinanceSigner("hmac", ACCOUNT.secret)),
        (
            BinanceAccount.from_private_key("ed-key", "ed25519", ED25519_PEM),
            BinanceSigner("ed25519", ED25519_PEM),
        ),
        (
            BinanceAccount.from_private_key("rsa-key", "rsa", RSA_PEM),
            BinanceSigner("rsa", RSA_PEM),
        ),
    ]
    async with (
        BinanceFuturesUserDataServer(tuple(a for a, _ in keys)) as server,
        aiohttp.ClientSession() as http,
    ):
        for account, signer in keys:
            params = [("symbol", "测试USDT"), ("symbols", '["A:B","C/D"]')]
            query = signed_rest_query(signer, params, server.now_ms(), 5000)
            # Sent as signed: an HTTP client that normalises %2C to "," breaks the signature.
            url = URL(f"{server.rest_url}/fapi/v3/balance?{mutate(query)}", encoded=True)
            async with http.get(url, headers={"X-MBX-APIKEY": account.api_key}) as r:
                body = await r.json()
            if code is None:
                assert (r.status, body) == (200, []), account
            else:
                assert (r.status, body["code"]) == (400, code), account


async def test_manager_async_iteration_and_faults(server: BinanceFuturesUserDataServer) -> None:
    from hftws.manager import create_websocket_manager
    from hftws.venues.binance_private import USER_DATA

    manager = create_websocket_manager(
        "binance_futures_private",
        credentials=CREDS,
        url=server.url,
        rest_url=server.rest_url,
        **FAST,
    )
    async with manager:
        await manager.subscribe(USER_DATA)
        server.faults.send_garbage(2)  # counted decode errors, the stream goes on
        await wait_for(lambda: manager.metrics.errors["DecodeError"] == 2)
        server.faults.refuse_upgrades(2)  # the next two reconnect attempts are refused
        server.faults.close_with(1006)
        await wait_for(lambda: manager.metrics.reconnects == 1)
        await wait_for(lambda: server.private_connections == 1 and manager.subscriptions)
        await wait_for(lambda: manager.handler.state is ConnectionState.SUBSCRIBED, 10.0)
        await server.push_account_update(positions=[{"s": "BTCUSDT", "pa": "1", "ep": "2"}])
        async with asyncio.timeout(5):
            async for event in manager:
                assert isinstance(event, PositionUpdate) and event.size == Decimal(1)
                break
        assert manager.metrics.errors["reconnect_failed"] == 2
