"""KuCoin private streams (spot and futures) end to end against the local private servers:
the token flow, welcome, pings, acks, typed events, bad credentials and expired tokens."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from client_helpers import own_tasks, wait_for

from hftws import AuthenticationError, Credentials, MissingCredentials
from hftws.errors import ConnectError, SubscriptionError
from hftws.exchanges import KucoinFuturesPrivateHandler, KucoinSpotPrivateHandler
from hftws.exchanges.kucoin_private import KucoinPrivateMessage
from hftws.interface import ConnectionState
from hftws.manager import create_websocket_handler_direct, create_websocket_manager
from hftws.mixins.subscription import Subscription
from hftws.private_events import BalanceUpdate, Execution, OrderUpdate, PositionUpdate
from hftws.testing.kucoin_private import (
    DEFAULT_KUCOIN_ACCOUNT as ACCOUNT,
)
from hftws.testing.kucoin_private import (
    KucoinFuturesPrivateServer,
    KucoinSpotPrivateServer,
)

FAST: dict[str, Any] = {"ping_interval": 0.3, "idle_timeout": 3.0, "welcome_timeout": 2.0}
CREDS = Credentials(ACCOUNT.api_key, ACCOUNT.api_secret, passphrase=ACCOUNT.passphrase)


@pytest_asyncio.fixture
async def spot_server() -> AsyncIterator[KucoinSpotPrivateServer]:
    async with KucoinSpotPrivateServer() as server:
        yield server


@pytest_asyncio.fixture
async def futures_server() -> AsyncIterator[KucoinFuturesPrivateServer]:
    async with KucoinFuturesPrivateServer() as server:
        yield server


def spot(server: Any, creds: Credentials = CREDS, **kw: Any) -> KucoinSpotPrivateHandler:
    return KucoinSpotPrivateHandler(rest_url=server.rest_url, credentials=creds, **(FAST | kw))


def collect(ws: KucoinSpotPrivateHandler | KucoinFuturesPrivateHandler) -> list[Any]:
    got: list[Any] = []
    ws.handler.on_order(got.append)
    ws.handler.on_execution(got.append)
    ws.handler.on_balance(got.append)
    ws.handler.on_position(got.append)
    return got


async def test_spot_token_welcome_acks_and_typed_events(
    spot_server: KucoinSpotPrivateServer,
) -> None:
    private = spot_server.private
    ws = spot(spot_server)
    got = collect(ws)
    async with ws:
        assert ws.token_stats == {"tokens": 1, "welcomes": 1, "rejected": 0}
        assert private.auth_log == [("POST /api/v1/bullet-private", "ok")]
        assert ws.connect_id in [cid for _, cid in private._sockets.values()]
        await ws.subscribe_private()
        assert ws.state is ConnectionState.SUBSCRIBED
        assert ws.subscriptions == {ws.ORDERS, ws.BALANCES}
        await private.push_order(
            orderId="6720da3fa30a360007f5f832",
            clientOid="mine-1",
            type="received",
            status="new",
            orderType="limit",
            side="sell",
            price="67993.30000000000000001",
            size="0.30000000000000001",
            originSize="0.30000000000000001",
        )
        await private.push_order(
            orderId="6720da3fa30a360007f5f832",
            clientOid="mine-1",
            type="match",
            status="match",
            side="sell",
            price="67993.3",
            size="0.3",
            filledSize="0.2",
            remainSize="0.1",
            matchPrice="67993.4",
            matchSize="0.2",
            tradeId="5efab07a4ee4c7000a82d6d9",
            liquidity="taker",
            feeType="takerFee",
            ts=1730206271616000000,
        )
        await private.push_order(type="filled", status="done", filledSize="0.3", remainSize="0")
        await private.push_balance(
            total="21.133773386762",
            available="20.132773386762",
            hold="1.001",
            availableChange="-0.5005",
            holdChange="0.5005",
            relationEvent="trade.hold",
            time="1730269283892",
        )
        await wait_for(lambda: len(got) == 5)
        # Keep-alive: JSON pings at the configured (faster) interval, answered by pongs.
        await wait_for(lambda: len(private.pings) >= 2)
    new, matched, fill, done, bal = got
    assert isinstance(new, OrderUpdate) and isinstance(new.raw, KucoinPrivateMessage)
    assert new.raw.topic == "/spotMarket/tradeOrdersV2" and new.raw.user_id == ACCOUNT.uid
    assert (new.exchange, new.status, new.side, new.client_order_id) == (
        "kucoin",
        "new",
        "sell",
        "mine-1",
    )
    assert new.price == Decimal("67993.30000000000000001")
    assert new.quantity == Decimal("0.30000000000000001")
    assert isinstance(matched, OrderUpdate) and matched.status == "partially_filled"
    assert (matched.filled_quantity, matched.remaining_quantity) == (Decimal("0.2"), Decimal("0.1"))
    assert matched.time_ms == 1730206271616
    assert isinstance(fill, Execution) and fill.raw is matched.raw
    assert (fill.trade_id, fill.price, fill.quantity, fill.is_maker) == (
        "5efab07a4ee4c7000a82d6d9",
        Decimal("67993.4"),
        Decimal("0.2"),
        False,
    )
    assert isinstance(done, OrderUpdate) and done.status == "filled"
    assert isinstance(bal, BalanceUpdate) and bal.raw.subject == "account.balance"
    assert (bal.asset, bal.total, bal.available, bal.frozen, bal.change) == (
        "USDT",
        Decimal("21.133773386762"),
        Decimal("20.132773386762"),
        Decimal("1.001"),
        Decimal("-0.5005"),
    )
    assert (bal.change_type, bal.time_ms) == ("trade.hold", 1730269283892)
    assert ws.state.value == "closed" and not own_tasks()


async def test_futures_orders_wallet_positions_exact(
    futures_server: KucoinFuturesPrivateServer,
) -> None:
    private = futures_server.private
    ws = create_websocket_handler_direct(
        "kucoin_futures_private",
        credentials=CREDS,
        rest_url=futures_server.rest_url,
        **FAST,
    )
    assert isinstance(ws, KucoinFuturesPrivateHandler)
    got = collect(ws)
    async with ws:
        await ws.subscribe_orders("XBTUSDTM")
        await ws.subscribe_wallet()
        await ws.subscribe_positions("XBTUSDTM")
        assert Subscription("/contract/position", ("XBTUSDTM",)) in ws.subscriptions
        await private.push_order(
            "XBTUSDTM",
            orderId="247899236673269761",
            type="open",
            status="open",
            side="buy",
            price="91670",
            size="3",
            filledSize="0",
            remainSize="3",
            marginMode="ISOLATED",
            liquidity="maker",
            ts=1731916985789000000,
        )
        await private.push_order(
            "XBTUSDTM",
            type="match",
            status="open",
            side="buy",
            size="3",
            filledSize="1",
            remainSize="2",
            matchPrice="91670",
            matchSize="1",
            tradeId="1794100537695",
            liquidity="maker",
        )
        await private.push_wallet(
            walletBalance="1000.123456789012345678",
            availableBalance="900.5",
            holdBalance="99.623456789012345678",
            equity="1001",
        )
        await private.push_position(
            currentQty=-3,
            avgEntryPrice=Decimal("66000.10000000000000001"),
            liquidationPrice=Decimal("70000.5"),
            realLeverage=Decimal("10.01"),
            posMargin=Decimal("19.8"),
            realisedPnl=Decimal("-0.00000001"),
        )
        # Other subjects of the topic stay raw (no common event).
        assert await private.push_position(subject="position.settlement", fundingFee=1) == 1
        await wait_for(lambda: len(got) == 5)
    opened, matched, fill, wallet, pos = got
    assert isinstance(opened, OrderUpdate) and opened.exchange == "kucoin_futures"
    assert opened.raw.subject == "symbolOrderChange" and opened.raw.symbol == "XBTUSDTM"
    assert (opened.status, opened.quantity, opened.price) == ("new", Decimal(3), Decimal(91670))
    assert isinstance(matched, OrderUpdate) and matched.status == "partially_filled"
    assert isinstance(fill, Execution) and (fill.quantity, fill.is_maker) == (Decimal(1), True)
    assert isinstance(wallet, BalanceUpdate)
    assert wallet.total == Decimal("1000.123456789012345678")
    assert wallet.frozen == Decimal("99.623456789012345678")
    assert isinstance(pos, PositionUpdate) and pos.raw.topic == "/contract/position:XBTUSDTM"
    assert (pos.size, pos.side, pos.entry_price) == (
        Decimal(-3),
        "short",
        Decimal("66000.10000000000000001"),
    )
    assert (pos.leverage, pos.liquidation_price, pos.margin, pos.realised_pnl) == (
        Decimal("10.01"),
        Decimal("70000.5"),
        Decimal("19.8"),
        Decimal("-0.00000001"),
    )


@pytest.mark.parametrize(
    ("creds", "code"),
    [
        (Credentials(ACCOUNT.api_key, "wrong-s3cret", passphrase=ACCOUNT.passphrase), "400005"),
        (Credentials(ACCOUNT.api_key, ACCOUNT.api_secret, passphrase="wr0ng-phrase"), "400004"),
        (Credentials("unknown-key", ACCOUNT.api_secret, passphrase=ACCOUNT.passphrase), "400003"),
    ],
)
async def test_bad_credentials_are_a_clear_authentication_error(
    spot_server: KucoinSpotPrivateServer,
    creds: Credentials,
    code: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="hftws")
    ws = spot(spot_server, creds)
    with pytest.raises(AuthenticationError) as info:
        await ws.connect()
    text = str(info.value)
    assert info.value.reason == code
    assert text.startswith("kucoin: POST /api/v1/bullet-private refused: " + code)
    for secret in (creds.api_secret, creds.passphrase or "-", ACCOUNT.api_secret):
        assert secret not in text and secret not in caplog.text
    assert ws.state is ConnectionState.CLOSED and spot_server.private.private_connections == 0
    assert not own_tasks()


async def test_expired_token_at_reconnect_gets_a_fresh_one(
    spot_server: KucoinSpotPrivateServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hftws")
    private = spot_server.private
    ws = spot(spot_server)
    got = collect(ws)
    async with ws:
        await ws.subscribe_orders()
        assert await private.push_order(type="open") == 1
        await wait_for(lambda: len(got) == 1)
        # Every token dies; the sockets get "401 token is expired" and a close. The first
        # reconnect is handed a token that is already expired too: it must be refused and a
        # fresh one fetched, not retried.
        private.expire_next_tokens = 1
        assert private.expire_tokens() == 1
        await wait_for(lambda: ws.token_stats["tokens"] == 3, timeout=10.0)
        await wait_for(
            lambda: ws.state is ConnectionState.SUBSCRIBED and private.private_connections == 1,
            timeout=10.0,
        )
        assert await private.push_order(type="canceled", status="done") == 1
        await wait_for(lambda: len(got) == 2)
    assert [e.status for e in got] == ["new", "cancelled"]
    assert ws.token_stats["rejected"] >= 1
    # Three tokens, each presented once: never a reused one.
    assert len(set(private.issued)) == 3
    tokens = [t for t, _ in private.socket_log]
    assert len(tokens) == len(set(tokens)) == 3
    assert [o for _, o in private.socket_log] == ["welcome", "rejected", "welcome"]
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("hftws"))
    assert "token rejected" in ours  # the reconnect said why, without the token
    for token in private.issued:
        assert token not in ours


async def test_no_welcome_fails_the_connect(spot_server: KucoinSpotPrivateServer) -> None:
    spot_server.private.send_welcome = False
    ws = spot(spot_server, welcome_timeout=0.3)
    with pytest.raises(ConnectError, match=r"kucoin: no welcome within 0\.3s"):
        await ws.connect()
    assert not own_tasks()


async def test_ping_rules_come_from_the_token(spot_server: KucoinSpotPrivateServer) -> None:
    private = spot_server.private
    private.ping_interval_ms, private.ping_timeout_ms = 200, 800
    ws = spot(spot_server, ping_interval=None, idle_timeout=30.0)
    async with ws:
        assert (ws.policy.ping_interval, ws.policy.idle_timeout) == (0.2, 1.0)
        assert (ws.configured_policy.idle_timeout, ws.pong_timeout) == (30.0, 0.8)
        # The server drops a socket silent for 1 s; the pings keep this one.
        await asyncio.sleep(1.5)
        assert ws.state is ConnectionState.CONNECTED and ws.token_stats["tokens"] == 1
        assert len(private.pings) >= 3


async def test_no_pong_within_the_timeout_drops_and_reconnects(
    spot_server: KucoinSpotPrivateServer,
) -> None:
    private = spot_server.private
    private.ping_interval_ms, private.ping_timeout_ms = 100, 300
    ws = spot(spot_server, ping_interval=30.0)
    got = collect(ws)
    async with ws:
        # The token's interval wins over a slower configured one.
        assert (ws.policy.ping_interval, ws.policy.idle_timeout) == (0.1, 0.4)
        await ws.subscribe_orders()
        spot_server.faults.stall()  # pings go unanswered from now on
        await wait_for(lambda: ws.metrics.reconnects >= 1, timeout=5.0)
        await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED, timeout=5.0)
        assert ws.token_stats["tokens"] >= 2
        assert await private.push_order(type="open") == 1
        await wait_for(lambda: len(got) == 1)


async def test_refused_topic_names_the_code(spot_server: KucoinSpotPrivateServer) -> None:
    ws = spot(spot_server)
    async with ws:
        with pytest.raises(SubscriptionError, match="code 404: topic /spotMarket/nope does"):
            await ws.subscribe(Subscription("/spotMarket/nope"))
        assert not ws.subscriptions
        spot_server.faults.refuse("/account/balance", code=509, message="exceed max")
        with pytest.raises(SubscriptionError, match="509"):
            await ws.subscribe_balances()


@pytest.mark.parametrize("version", ["1", "3"])
async def test_key_versions(spot_server: KucoinSpotPrivateServer, version: str) -> None:
    ws = spot(spot_server, key_version=version)
    async with ws:
        await ws.subscribe_balances()
    assert spot_server.private.auth_log == [("POST /api/v1/bullet-private", "ok")]
    with pytest.raises(ValueError, match="key version"):
        spot(spot_server, key_version="9")


async def test_faults_drop_garbage_and_recover(spot_server: KucoinSpotPrivateServer) -> None:
    private, faults = spot_server.private, spot_server.faults
    ws = spot(spot_server)
    got = collect(ws)
    async with ws:
        await ws.subscribe_private()
        faults.send_garbage(3)
        assert await private.push_balance(total="1") == 1
        await wait_for(lambda: len(got) == 1)
        assert sum(ws.metrics.errors.values()) >= 3  # counted, the stream went on
        for code in (1006, 1005, 1011):
            before = ws.token_stats["tokens"]
            faults.close_with(code)
            await wait_for(lambda: ws.token_stats["tokens"] > before, timeout=10.0)  # noqa: B023
            await wait_for(
                lambda: ws.state is ConnectionState.SUBSCRIBED and private.private_connections == 1,
                timeout=10.0,
            )
            assert await private.push_balance(total=str(code)) == 1
        await wait_for(lambda: len(got) == 4)
    assert [e.total for e in got] == [Decimal(x) for x in ("1", "1006", "1005", "1011")]
    assert len(set(private.issued)) == len(private.issued) == 4


async def test_manager_and_async_iteration(spot_server: KucoinSpotPrivateServer) -> None:
    manager = create_websocket_manager(
        "kucoin_private", credentials=CREDS, rest_url=spot_server.rest_url, **FAST
    )
    assert isinstance(manager.handler, KucoinSpotPrivateHandler)
    async with manager:
        await manager.subscribe(KucoinSpotPrivateHandler.ORDERS)
        events = manager.__aiter__()
        assert await spot_server.private.push_order(type="open", price="1.5") == 1
        async with asyncio.timeout(5):
            event = await anext(events)
    assert isinstance(event, OrderUpdate) and event.price == Decimal("1.5")


async def test_a_refused_upgrade_never_shows_the_token(
    spot_server: KucoinSpotPrivateServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hftws")
    spot_server.faults.refuse_upgrades(1, status=401)
    ws = spot(spot_server)
    with pytest.raises(ConnectError) as info:
        await ws.connect()
    (token,) = spot_server.private.issued
    assert token not in str(info.value) and str(info.value).startswith("kucoin: ")
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("hftws"))
    assert token not in ours
    # The next attempt asks for a new token (the refused one is never presented again).
    async with ws:
        assert len(set(spot_server.private.issued)) == 2


async def test_unanswered_pings_drop_the_socket_while_data_flows(
    spot_server: KucoinSpotPrivateServer,
) -> None:
    private = spot_server.private
    private.ping_interval_ms, private.ping_timeout_ms = 100, 300
    private.enforce_ping = False
    ws = spot(spot_server)
    got = collect(ws)
    async with ws:
        assert ws.pong_timeout == 0.3
        await ws.subscribe_balances()
        private.answer_pings = False
        # Data every 50 ms: the idle watchdog stays quiet, only the missing pongs count.
        for i in range(40):
            await private.push_balance(total=str(i))
            await asyncio.sleep(0.05)
            if ws.metrics.errors["pong_timeout"]:
                break
        assert ws.metrics.errors["pong_timeout"] >= 1
        private.answer_pings = True
        await wait_for(
            lambda: ws.state is ConnectionState.SUBSCRIBED and ws.token_stats["tokens"] >= 2
        )
        n = len(got)
        assert await private.push_balance(total="99") == 1
        await wait_for(lambda: len(got) == n + 1)


async def test_unsubscribe_stops_the_pushes(spot_server: KucoinSpotPrivateServer) -> None:
    private = spot_server.private
    ws = spot(spot_server)
    got = collect(ws)
    async with ws:
        await ws.subscribe_private()
        await ws.unsubscribe(ws.BALANCES)
        await asyncio.sleep(0.2)  # unsubscribe does not wait for its ack
        assert await private.push_balance(total="1") == 0
        assert await private.push_order(type="open") == 1
        await wait_for(lambda: len(got) == 1)
    assert ws.subscriptions == {ws.ORDERS}


def test_missing_credentials_are_named_before_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("KEY", "SECRET", "PASSPHRASE"):
        monkeypatch.delenv(f"HFTWS_KUCOIN_API_{var}", raising=False)
    with pytest.raises(MissingCredentials) as info:
        create_websocket_handler_direct("kucoin_futures_private")
    assert "HFTWS_KUCOIN_API_PASSPHRASE" in str(info.value)
    monkeypatch.setenv("HFTWS_KUCOIN_API_KEY", "k")
    monkeypatch.setenv("HFTWS_KUCOIN_API_SECRET", "s3cr3t-kc")
    monkeypatch.setenv("HFTWS_KUCOIN_API_PASSPHRASE", "phr4se-kc")
    ws = create_websocket_handler_direct("kucoin_private")
    assert isinstance(ws, KucoinSpotPrivateHandler)
    assert ws.rest_url == "https://api.kucoin.com"
    assert "s3cr3t-kc" not in repr(ws) and "phr4se-kc" not in repr(ws.auth)
