"""Binance public connections: requests and acks, limits, routes, pings, rollovers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from client_helpers import own_tasks, wait_for
from hypothesis import given
from hypothesis import strategies as st

from hftws import binance, create_websocket_handler_direct, create_websocket_manager
from hftws.errors import SubscriptionError
from hftws.exchanges.binance import BinanceFuturesPublicHandler, BinanceSpotPublicHandler
from hftws.mixins import BinanceConnectionMixin, BinanceFuturesConnectionMixin
from hftws.rate_limit import SlidingWindowLimiter
from hftws.subscriptions import Subscription
from hftws.testing.binance_server import BinanceFuturesServer, BinanceSpotServer
from hftws.venues import BinanceFuturesProtocol, BinanceProtocol

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 3.0}

# -- the protocol object (no I/O) ------------------------------------------------------------


def test_requests_ack_and_error_matching() -> None:
    proto = BinanceProtocol()
    subs = [Subscription(f"s{i}usdt@depth@100ms") for i in range(120)]
    requests = proto.subscription_requests(subs, False)
    assert [len(r.covered) for r in requests] == [50, 50, 20]
    first = json.loads(requests[0].text)
    assert first["method"] == "SUBSCRIBE" and first["params"][0] == "s0usdt@depth@100ms"
    assert first["id"] == requests[0].key and len({r.key for r in requests}) == 3
    pending = {r.key: r.covered for r in requests}
    ack = binance.parse(json.dumps({"result": None, "id": requests[1].key}))
    [(key, ok, bad, _)] = proto.ack_outcome(ack, pending)
    assert key == requests[1].key and ok == frozenset(requests[1].covered) and not bad
    err = binance.parse(json.dumps({"code": 2, "msg": "Invalid request", "id": requests[2].key}))
    [(key, ok, bad, reason)] = proto.ack_outcome(err, pending)
    assert not ok and bad == frozenset(requests[2].covered) and reason == "code 2: Invalid request"
    # Errors without an id, or for another request, match nothing (the ack timeout decides).
    assert proto.ack_outcome(binance.parse('{"code":3,"msg":"Invalid JSON"}'), pending) == []
    assert proto.ack_outcome(binance.parse('{"result":null,"id":999999999}'), pending) == []
    unsub = json.loads(proto.subscription_requests(subs[:1], True)[0].text)
    assert unsub["method"] == "UNSUBSCRIBE"


def test_stream_names_and_futures_routes() -> None:
    assert BinanceProtocol.depth_subscription("BTCUSDT").channel == "btcusdt@depth@100ms"
    assert BinanceProtocol.depth_subscription("BTCUSDT", interval="1000ms").channel == (
        "btcusdt@depth"
    )
    assert BinanceProtocol.trades_subscription("BTCUSDT").channel == "btcusdt@trade"
    assert BinanceFuturesProtocol.trades_subscription("BTCUSDT").channel == "btcusdt@aggTrade"
    assert BinanceProtocol.ticker_subscription("ETHUSDT").channel == "ethusdt@bookTicker"
    assert BinanceProtocol.kline_subscription("ETHUSDT", "5m").channel == "ethusdt@kline_5m"
    with pytest.raises(ValueError):
        BinanceProtocol.trades_subscription("BTCUSDT", kind="bogus")
    fut = BinanceFuturesProtocol()
    routes = {
        "btcusdt@depth@100ms": "public",
        "btcusdt@depth20@100ms": "public",
        "btcusdt@bookTicker": "public",
        "!bookTicker": "public",
        "btcusdt@aggTrade": "market",
        "btcusdt@kline_1m": "market",
        "!markPrice@arr": "market",
        "btcusdt@forceOrder": "market",
    }
    for name, route in routes.items():
        assert fut.route_of(Subscription(name)) == route, name
    assert BinanceProtocol().route_of(Subscription("btcusdt@aggTrade")) == ""
    base = "wss://fstream.binance.com/public/stream"
    assert fut.url_for_route(base, "market") == "wss://fstream.binance.com/market/stream"
    assert fut.url_for_route("wss://fstream.binance.com", "public").endswith("/public/stream")
    assert fut.url_for_route("ws://h:1/ws?x=1", "market") == "ws://h:1/market/ws?x=1"
    assert fut.route_of_url("ws://h:1/market/stream") == "market"
    assert fut.route_of_url("ws://h:1/ws") == "public"


def test_policies_and_mixins() -> None:
    spot = BinanceProtocol().default_policy(BinanceProtocol.default_url)
    fut = BinanceFuturesProtocol().default_policy(BinanceFuturesProtocol.default_url)
    assert (spot.max_messages_per_second, fut.max_messages_per_second) == (4.0, 9.0)
    assert spot.strict_rate and fut.strict_rate
    assert spot.max_subscriptions == fut.max_subscriptions == 1024
    assert spot.max_connection_age is not None and spot.max_connection_age < 24 * 3600
    assert spot.ping_message is None  # protocol pings only; the server's pings get pongs
    assert BinanceConnectionMixin.protocol_class is BinanceProtocol
    assert BinanceFuturesConnectionMixin.protocol_class is BinanceFuturesProtocol
    assert issubclass(BinanceSpotPublicHandler, BinanceConnectionMixin)
    assert issubclass(BinanceFuturesPublicHandler, BinanceFuturesConnectionMixin)


@given(
    gaps=st.lists(st.floats(min_value=0.0, max_value=0.3), min_size=1, max_size=25),
    limit=st.integers(min_value=1, max_value=6),
)
def test_sliding_window_never_allows_more_than_the_limit(gaps: list[float], limit: int) -> None:
    """A fake clock: whatever the call pattern, no one-second window holds more sends."""
    now = [0.0]
    sent: list[float] = []

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    async def run() -> None:
        limiter = SlidingWindowLimiter(limit)
        for i, gap in enumerate(gaps):
            now[0] += gap
            if i % 4 == 3:
                limiter.note()  # a pong the WebSocket layer sent at once
                sent.append(now[0])
            else:
                await limiter.acquire()
                sent.append(now[0])

    mp = pytest.MonkeyPatch()
    mp.setattr(time, "monotonic", lambda: now[0])
    mp.setattr(asyncio, "sleep", sleep)
    try:
        coro = run()
        with pytest.raises(StopIteration):
            coro.send(None)
    finally:
        mp.undo()
    for t in sent:
        in_window = [s for s in sent if t - 1.0 < s <= t]
        # A noted pong can overflow the window by itself; requests never push past the limit.
        assert len(in_window) <= limit + 1


# -- live, against the local servers -----------------------------------------------------------


async def test_subscribe_refusal_and_typed_events() -> None:
    async with BinanceSpotServer(rate=300) as server:
        server.faults.refuse("ethusdt@*", message="refused")
        ws = create_websocket_handler_direct("binance", url=server.url, **FAST)
        results: list[tuple[str, bool, str]] = []
        ws.on_subscription_result(lambda s, ok, why: results.append((s.channel, ok, why)))
        async with ws:
            await ws.subscribe_trades("BTCUSDT")
            await ws.subscribe_ticker("BTCUSDT")
            with pytest.raises(SubscriptionError, match="ethusdt@depth@100ms"):
                await ws.subscribe_depth("ETHUSDT")
            assert ws.refused == {Subscription("ethusdt@depth@100ms")}
            trades: list[binance.BinanceTrade] = []
            tickers: list[Any] = []
            ws.handler.on_trade(lambda t: trades.append(t))
            ws.handler.on_ticker(lambda t: tickers.append(t))
            await wait_for(lambda: trades and tickers, timeout=5)
            assert trades[0].symbol == "BTCUSDT" and trades[0].price_decimal is not None
            assert tickers[0].kind == "book_ticker" and tickers[0].update_id is not None
        assert ("ethusdt@depth@100ms", False, "code 2: refused") in results
        assert ("btcusdt@trade", True, "") in results
    assert not own_tasks()


async def test_requests_are_throttled_below_the_server_limit_and_pongs_counted() -> None:
    # The server closes with 1008 at the 6th frame within a second; the client sends 4 at most.
    async with BinanceSpotServer(rate=50, ping_interval=0.2) as server:
        ws = create_websocket_handler_direct("binance", url=server.url, **FAST)
        async with ws:
            start = time.monotonic()
            for i in range(9):
                await ws.subscribe(Subscription(f"btcusdt@depth{(5, 10, 20)[i % 3]}@{i}"))
            elapsed = time.monotonic() - start
            assert elapsed >= 1.0  # 9 requests at 4 per second
            conn = ws._conn
            assert conn is not None
            await wait_for(lambda: conn.protocol.controls_sent >= 2, timeout=3)
            await ws.subscribe(Subscription("btcusdt@depth5"))
            # The pongs and pings sent so far were charged to the limiter before that request.
            charged_conn, charged = ws._controls_charged
            assert charged_conn is conn and 2 <= charged <= conn.protocol.controls_sent
            assert ws.connected and ws.metrics.reconnects == 0
        assert server.rate_closes == 0


async def test_futures_manager_opens_one_connection_per_route() -> None:
    async with BinanceFuturesServer(rate=300) as server:
        direct = create_websocket_handler_direct("binance_futures", url=server.url, **FAST)
        async with direct:
            with pytest.raises(SubscriptionError, match="not served on /public"):
                await direct.subscribe_trades("BTCUSDT")
        manager = create_websocket_manager("binance_futures", url=server.url, **FAST)
        kinds: set[str] = set()
        manager.on_trade(lambda t: kinds.add(t.kind))
        manager.on_ticker(lambda t: kinds.add(t.kind))
        async with manager:
            await manager.subscribe_trades("BTCUSDT")
            await manager.subscribe_ticker("BTCUSDT")
            await manager.subscribe_ticker("ETHUSDT")
            await wait_for(lambda: kinds >= {"agg_trade", "book_ticker"}, timeout=5)
            routes = sorted(h.route for h in manager.handlers)
            assert routes == ["market", "public"]
    assert not own_tasks()


async def test_streams_beyond_the_per_connection_limit_open_shards() -> None:
    async with BinanceSpotServer(rate=100) as server:
        manager = create_websocket_manager("binance", url=server.url, max_subscriptions=2, **FAST)
        async with manager:
            await manager.subscribe(
                *(Subscription(f"btcusdt@depth{n}") for n in (5, 10, 20)),
                Subscription("btcusdt@trade"),
                Subscription("ethusdt@trade"),
            )
            assert len(manager.handlers) == 3
            assert len(manager.subscriptions) == 5


async def test_server_shutdown_rolls_over_make_before_break() -> None:
    async with BinanceSpotServer(rate=200) as server:
        ws = create_websocket_handler_direct("binance", url=server.url, **FAST)
        async with ws:
            await ws.subscribe_depth("BTCUSDT")
            first = ws._conn
            server.server_shutdown(close_after=1.0)
            await wait_for(lambda: ws.metrics.rollovers >= 1, timeout=5)
            assert ws._conn is not first and ws.connected
            assert ws.metrics.reconnects == 0  # never without a connection
            assert ws.server_shutdowns == 1
            seen = ws.metrics.messages.get("orderbook", 0)
            await wait_for(lambda: ws.metrics.messages.get("orderbook", 0) > seen + 5, 5)
    assert not own_tasks()


async def test_age_limit_is_rolled_over_before_the_server_cuts() -> None:
    # The server cuts at 1.5 s; the client rolls over at 0.6 s: no reconnect is ever needed.
    async with BinanceSpotServer(rate=200, max_age=1.5) as server:
        ws = create_websocket_handler_direct(
            "binance", url=server.url, max_connection_age=0.6, **FAST
        )
        async with ws:
            await ws.subscribe_trades("BTCUSDT")
            await wait_for(lambda: ws.metrics.rollovers >= 3, timeout=10)
            assert ws.metrics.reconnects == 0 and ws.connected


def test_message_handler_routes_every_kind() -> None:
    from hftws.events import MessageType
    from hftws.exchanges.binance import BinanceSpotPublicMessageHandler

    handler = BinanceSpotPublicMessageHandler()
    seen: dict[MessageType, list[str]] = {}
    for mtype in (
        MessageType.ORDERBOOK,
        MessageType.TRADE,
        MessageType.TICKER,
        MessageType.KLINE,
        MessageType.SUBSCRIBE,
        MessageType.ERROR,
    ):
        handler.on(mtype, _collector(seen.setdefault(mtype, [])))
    shutdowns: list[Any] = []
    handler.shutdown_listeners.append(shutdowns.append)
    kline = {
        "e": "kline", "E": 1, "s": "BNBBTC",
        "k": {"t": 1, "T": 2, "s": "BNBBTC", "i": "1m", "f": 1, "L": 2, "o": "0.1", "c": "0.2",
              "h": "0.3", "l": "0.05", "v": "10", "n": 2, "x": False, "q": "1", "V": "5",
              "Q": "0.5", "B": "0"},
    }  # fmt: skip
    frames = [
        '{"e":"depthUpdate","E":1,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[]}',
        '{"e":"trade","E":1,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1,"m":true,"M":true}',
        '{"stream":"bnbbtc@aggTrade","data":{"e":"aggTrade","E":1,"s":"BNBBTC","a":1,"p":"0.001",'
        '"q":"1","f":1,"l":1,"T":1,"m":true,"M":true}}',
        '{"stream":"bnbusdt@bookTicker","data":{"u":400900217,"s":"BNBUSDT","b":"25.35",'
        '"B":"31.21","a":"25.36","A":"40.66"}}',
        json.dumps(kline),
        '{"result":null,"id":1}',
        '{"code":2,"msg":"Invalid request","id":2}',
        '{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}}',
    ]
    for frame in frames:
        handler._handle_message(binance.parse(frame))
    assert {m: kinds for m, kinds in seen.items() if kinds} == {
        MessageType.ORDERBOOK: ["depth"],
        MessageType.TRADE: ["trade", "agg_trade"],
        MessageType.TICKER: ["book_ticker"],
        MessageType.KLINE: ["kline"],
        MessageType.SUBSCRIBE: ["reply"],
        MessageType.ERROR: ["error"],
    }
    assert [s.kind for s in shutdowns] == ["server_shutdown"]
    # Raw bytes (recording taps) take the same routes.
    handler._handle_message(frames[1].encode())
    assert seen[MessageType.TRADE][-1] == "trade"


def _collector(into: list[str]) -> Callable[[Any], None]:
    def collect(event: Any) -> None:
        into.append(event.kind)

    return collect


async def test_pings_and_pongs_are_counted_once_in_the_send_window() -> None:
    class Proto:
        controls_sent = 0

    class Conn:
        is_open = True
        protocol = Proto()

        def ping(self) -> None:
            self.protocol.controls_sent += 1

    ws = create_websocket_handler_direct("binance", url="ws://127.0.0.1:9/stream")
    conn: Any = Conn()
    ws._conn = conn
    await ws._send_ping(conn)
    conn.protocol.controls_sent += 1  # a pong the protocol answered by itself
    await ws._send_ping(conn)
    limiter = ws._limiter
    assert isinstance(limiter, SlidingWindowLimiter)
    assert limiter.in_window() == 3  # two pings, one pong: each once
    start = time.monotonic()
    for _ in range(3):
        await ws._send_ping(conn)  # the 5th frame in the window waits (4 allowed)
    assert time.monotonic() - start >= 0.5
    assert limiter.in_window() <= 4
    ws._conn = None
