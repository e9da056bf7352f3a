"""The asyncio client against the local KuCoin spot and futures servers: token per socket,
welcome, JSON pings, acked subscriptions, refusals, reconnects with a fresh token."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import pytest
from client_helpers import own_tasks, wait_for

from hftws import kucoin
from hftws.errors import ConnectError, SubscriptionError, WelcomeTimeout
from hftws.exchanges import KucoinFuturesPublicHandler, KucoinSpotPublicHandler
from hftws.interface import ConnectionState
from hftws.manager import create_websocket_handler_direct, create_websocket_manager
from hftws.subscriptions import Subscription
from hftws.testing.kucoin_server import KucoinFuturesServer, KucoinServer
from hftws.venues.kucoin import KucoinFuturesProtocol, KucoinProtocol


def spot(server: KucoinServer, **kw: Any) -> KucoinSpotPublicHandler:
    return create_websocket_handler_direct("kucoin", rest_url=server.rest_url, **kw)


async def test_spot_streams_typed_and_continuous(kucoin_server: KucoinServer) -> None:
    ws = spot(kucoin_server)
    depth: list[Any] = []
    trades: list[Any] = []
    tickers: list[Any] = []
    pongs: list[Any] = []
    ws.handler.on_orderbook(depth.append)
    ws.handler.on_trade(trades.append)
    ws.handler.on_ticker(tickers.append)
    ws.handler.on_ping(pongs.append)
    async with ws:
        # The bullet answer set the cadence (0.5 s / 1 s), not the 18 s default.
        assert ws.policy.ping_interval == 0.5 and ws.policy.pong_timeout == 1.0
        for sym in ("BTC-USDT", "ETH-USDT"):
            await ws.subscribe_depth(sym)
            await ws.subscribe_trades(sym)
            await ws.subscribe_ticker(sym)
        assert ws.state is ConnectionState.SUBSCRIBED
        await wait_for(
            lambda: len(depth) >= 40 and trades and len(tickers) >= 5 and len(pongs) >= 3
        )
    assert all(isinstance(e, kucoin.KucoinLevel2) for e in depth)
    assert all(isinstance(e, kucoin.KucoinTrade) for e in trades)
    assert all(isinstance(e, kucoin.KucoinTicker) for e in tickers)
    assert pongs[0].kind == "welcome" and all(p.kind == "pong" for p in pongs[1:])
    for sym in ("BTC-USDT", "ETH-USDT"):
        mine = [e for e in depth if e.symbol == sym]
        assert mine
        for prev, cur in itertools.pairwise(mine):
            assert cur.sequence_start == prev.sequence_end + 1
    # One token per socket, and the socket pinged the server.
    assert kucoin_server.tokens_issued == 1 and kucoin_server.pings >= 2
    assert not own_tasks()


async def test_futures_streams(kucoin_futures_server: KucoinFuturesServer) -> None:
    ws = create_websocket_handler_direct("kucoin_futures", rest_url=kucoin_futures_server.rest_url)
    assert isinstance(ws, KucoinFuturesPublicHandler)
    depth: list[Any] = []
    trades: list[Any] = []
    tickers: list[Any] = []
    ws.handler.on_orderbook(depth.append)
    ws.handler.on_trade(trades.append)
    ws.handler.on_ticker(tickers.append)
    async with ws:
        await ws.subscribe_depth("XBTUSDTM")
        await ws.subscribe_trades("XBTUSDTM")
        await ws.subscribe_ticker("XBTUSDTM")
        await wait_for(lambda: len(depth) >= 30 and trades and tickers)
    assert all(isinstance(e, kucoin.KucoinFuturesLevel2) for e in depth)
    for prev, cur in itertools.pairwise(depth):
        assert cur.sequence == prev.sequence + 1  # strictly continuous
    assert all(t.kind == "execution" for t in trades)
    assert all(t.kind == "futures_ticker" for t in tickers)


async def test_refusals_are_reported_per_request(kucoin_server: KucoinServer) -> None:
    kucoin_server.faults.refuse("/market/match:ETH-USDT", code=404, message="topic gone")
    ws = spot(kucoin_server)
    errors: list[Any] = []
    ws.handler.on_error(errors.append)
    async with ws:
        await ws.subscribe_trades("BTC-USDT")
        with pytest.raises(SubscriptionError) as info:
            await ws.subscribe_trades("ETH-USDT")
        assert info.value.refused == {Subscription("/market/match", ("ETH-USDT",))}
        assert "code 404: topic gone" in str(info.value)
        with pytest.raises(SubscriptionError, match="is not found"):
            await ws.subscribe_depth("NOPE-USDT")
        assert errors and errors[0].code == 404
        assert ws.subscriptions == {Subscription("/market/match", ("BTC-USDT",))}


def test_requests_batch_topics_and_match_acks() -> None:
    proto = KucoinProtocol()
    subs = [Subscription("/market/level2", (f"S{i}-USDT",)) for i in range(95)]
    subs.append(Subscription("/market/match", ("BTC-USDT",)))
    reqs = proto.subscription_requests(subs, unsubscribe=False)
    assert [len(r.covered) for r in reqs] == [90, 5, 1]
    first = json.loads(reqs[0].text)
    assert first["type"] == "subscribe" and first["response"] is True
    assert first["privateChannel"] is False and first["id"] == reqs[0].key
    assert first["topic"].startswith("/market/level2:S0-USDT,S1-USDT,")
    pending = {r.key: r.covered for r in reqs}
    ack = kucoin.parse(json.dumps({"id": reqs[1].key, "type": "ack"}))
    assert proto.ack_outcome(ack, pending) == [
        (reqs[1].key, frozenset(subs[90:95]), frozenset(), "")
    ]
    err = kucoin.parse(
        json.dumps({"id": reqs[2].key, "type": "error", "code": 509, "data": "too many"})
    )
    ((key, ok, bad, reason),) = proto.ack_outcome(err, pending)
    assert key == reqs[2].key and not ok and bad == {subs[95]} and reason == "code 509: too many"
    unsub = json.loads(proto.subscription_requests(subs[:1], unsubscribe=True)[0].text)
    assert unsub["type"] == "unsubscribe"


def test_bullet_answers() -> None:
    proto = KucoinProtocol()
    body = {
        "code": "200000",
        "data": {
            "token": "tok/en=",
            "instanceServers": [
                {
                    "endpoint": "wss://ws-api-spot.kucoin.com/",
                    "pingInterval": 18000,
                    "pingTimeout": 10000,
                }
            ],
        },
    }
    ep = proto.endpoint_from_bullet(body)
    assert ep.url.startswith("wss://ws-api-spot.kucoin.com/?token=tok%2Fen%3D&connectId=")
    assert ep.greeting_id and ep.url.endswith(ep.greeting_id)
    assert dict(ep.policy)["ping_interval"] == 18.0 and dict(ep.policy)["pong_timeout"] == 10.0
    assert "tok" not in repr(ep)
    welcome = kucoin.parse(json.dumps({"id": ep.greeting_id, "type": "welcome"}))
    other = kucoin.parse(json.dumps({"id": "someone-else", "type": "welcome"}))
    assert proto.is_greeting(welcome, ep) and not proto.is_greeting(other, ep)
    with pytest.raises(ConnectError, match="code 400100 bad"):
        proto.endpoint_from_bullet({"code": "400100", "msg": "bad"})
    with pytest.raises(ConnectError, match="malformed"):
        proto.endpoint_from_bullet({"code": "200000", "data": {"token": "x"}})


async def test_reconnect_fetches_a_fresh_token(kucoin_server: KucoinServer) -> None:
    ws = spot(kucoin_server)
    states: list[ConnectionState] = []
    ws.on_state_change(states.append)
    depth: list[Any] = []
    ws.handler.on_orderbook(depth.append)
    async with ws:
        await ws.subscribe_depth("BTC-USDT")
        await wait_for(lambda: len(depth) >= 5)
        # Tokens are single use: a reconnect that reused one would get HTTP 401.
        kucoin_server.faults.close_with(1006)
        await wait_for(lambda: ConnectionState.RECONNECTING in states)
        await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED)
        n = len(depth)
        await wait_for(lambda: len(depth) >= n + 5)
        # An expired token is answered with 401 and closed: the next attempt gets a new one.
        kucoin_server.expire_tokens()
        kucoin_server.faults.close_with(1000)
        await wait_for(lambda: ws.metrics.reconnects >= 2)
        await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED)
    assert kucoin_server.tokens_issued >= 3
    assert kucoin_server.tokens_refused == 0


async def test_expired_token_then_recovery(kucoin_server: KucoinServer) -> None:
    ws = spot(kucoin_server)
    async with ws:
        await ws.subscribe_depth("BTC-USDT")
        kucoin_server.token_ttl = -1.0  # every token expires before its socket
        kucoin_server.faults.close_with(1006)
        await wait_for(lambda: kucoin_server.tokens_expired >= 1)
        kucoin_server.token_ttl = 3600.0
        await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED and ws.connected)
    assert ws.metrics.errors["reconnect_failed"] >= 1


async def test_no_welcome_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(KucoinProtocol, "greeting_timeout", 0.3)
    async with KucoinServer(rate=200.0) as server:
        server.welcome = False
        ws = spot(server)
        with pytest.raises(WelcomeTimeout, match=r"kucoin: no welcome from 127\.0\.0\.1"):
            await ws.connect()
        assert ws.state is ConnectionState.CLOSED
        # With the welcome back, the same object connects.
        server.welcome = True
        async with ws:
            await ws.subscribe_depth("BTC-USDT")
    assert not own_tasks()


async def test_missing_pongs_drop_the_connection() -> None:
    async with KucoinServer(rate=200.0, ping_interval_ms=200, ping_timeout_ms=300) as server:
        ws = spot(server)
        async with ws:
            await ws.subscribe_depth("BTC-USDT")
            server.answer_pings = False
            await wait_for(lambda: ws.metrics.errors["pong_timeout"] >= 1, timeout=5.0)
            server.answer_pings = True
            await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED and ws.connected)


async def test_a_client_that_does_not_ping_is_dropped() -> None:
    async with KucoinServer(rate=200.0, ping_interval_ms=200, ping_timeout_ms=200) as server:
        # The user turned application pings off: the server drops the socket, we reconnect.
        ws = spot(server, ping_interval=None, idle_timeout=30.0)
        async with ws:
            await ws.subscribe_depth("BTC-USDT")
            await wait_for(lambda: ws.metrics.reconnects >= 1, timeout=5.0)
        assert server.pings == 0


async def test_manager_shards_beyond_the_topic_cap() -> None:
    async with KucoinServer(rate=50.0) as server:
        manager = create_websocket_manager("kucoin", rest_url=server.rest_url, max_subscriptions=2)
        async with manager:
            await manager.subscribe_depth("BTC-USDT")
            await manager.subscribe_trades("BTC-USDT")
            await manager.subscribe_depth("ETH-USDT")
            assert len(manager.handlers) == 2
            assert server.connections == 2
        assert server.tokens_issued == 2
    await asyncio.sleep(0)


def test_policy_respects_the_documented_limits() -> None:
    for proto in (KucoinProtocol(), KucoinFuturesProtocol()):
        policy = proto.default_policy(proto.default_url)
        rate = policy.max_messages_per_second
        assert rate is not None
        # A bucket of `rate` tokens refilled at `rate`/s sends at most rate * 11 in 10 s.
        assert rate * 11 <= 100
        assert policy.max_subscriptions is not None and policy.max_subscriptions <= 400
        assert proto.MAX_TOPICS_PER_REQUEST <= 100
        assert policy.pong_timeout is not None and policy.ping_message is not None
        assert json.loads(policy.ping_message())["type"] == "ping"


async def test_token_request_failures_are_connect_errors() -> None:
    ws = create_websocket_handler_direct("kucoin", rest_url="http://127.0.0.1:9")
    with pytest.raises(ConnectError, match=r"^kucoin: token request to http://127\.0\.0\.1:9"):
        await ws.connect()
    assert ws.state is ConnectionState.CLOSED


async def test_tokens_never_reach_logs_or_errors(
    kucoin_server: KucoinServer, caplog: pytest.LogCaptureFixture
) -> None:
    ws = spot(kucoin_server)
    async with ws:
        await ws.subscribe_depth("BTC-USDT")
        kucoin_server.expire_tokens()
        kucoin_server.token_ttl = -1.0
        kucoin_server.faults.close_with(1006)
        await wait_for(lambda: ws.metrics.errors["reconnect_failed"] >= 1)
        kucoin_server.token_ttl = 3600.0
        await wait_for(lambda: ws.state is ConnectionState.SUBSCRIBED and ws.connected)
    assert "token is expired" in caplog.text  # the cause is named...
    assert kucoin_server.issued
    for token in kucoin_server.issued:  # ...the token never is
        assert token not in caplog.text and token not in repr(ws.stats())
