"""Routing in Rust: a handler with the default hooks hands a whole socket read to its native
``hftws.Router`` (``handler.deliver``), which types each event by its kind, calls the
callbacks in order, counts, and times the read once; per-read delivery (``on_batch``,
``reads()``); handlers that override the template hooks keep the Python path."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hftws import binance, gateio, kucoin, mexc
from hftws._core import Router
from hftws.events import MessageType
from hftws.exchanges.binance import BinanceSpotPublicMessageHandler
from hftws.exchanges.gateio import GateioSpotPublicMessageHandler
from hftws.exchanges.gateio_private import GateioSpotPrivateMessageHandler
from hftws.exchanges.kucoin import KucoinSpotPublicMessageHandler
from hftws.exchanges.mexc import MexcPublicMessageHandler
from hftws.private_events import OrderUpdate
from hftws.testing import mexc_proto

RECV = 1  # a receive time far in the past: every stage latency is positive


def gate(channel: str, result: Any, event: str = "update", **extra: Any) -> Any:
    msg = {"time": 1, "time_ms": 1, "channel": channel, "event": event, "result": result}
    return gateio.parse(json.dumps(msg | extra))


DEPTH = gate(
    "spot.order_book_update",
    {"t": 1, "s": "BTC_USDT", "U": 5, "u": 6, "b": [["1", "2"]], "a": [["3", "4"]]},
)
TRADE = gate(
    "spot.trades",
    {"id": 1, "create_time_ms": "1.5", "side": "buy", "currency_pair": "BTC_USDT"}
    | {"amount": "1", "price": "2"},
)
TICKER = gate(
    "spot.book_ticker",
    {"t": 1, "u": 7, "s": "BTC_USDT", "b": "1", "B": "2", "a": "3", "A": "4"},
)
CANDLE = gate(
    "spot.candlesticks",
    {"t": "1", "v": "1", "c": "1", "h": "1", "l": "1", "o": "1", "n": "1m_BTC_USDT", "a": "1"},
)
ACK = gate("spot.trades", {"status": "success"}, event="subscribe")
PONG = gate("spot.pong", None, event="")
ERROR = gate("spot.trades", None, event="subscribe", error={"code": 2, "message": "bad pair"})
OTHER = gate("spot.weird", {})

#: Each Gate event and the route it must reach.
GATE_EVENTS: list[tuple[Any, MessageType]] = [
    (DEPTH, MessageType.ORDERBOOK),
    (TRADE, MessageType.TRADE),
    (TICKER, MessageType.TICKER),
    (CANDLE, MessageType.KLINE),
    (ACK, MessageType.SUBSCRIBE),
    (PONG, MessageType.PING),
    (ERROR, MessageType.ERROR),
]


Log = list[tuple[MessageType, Any]]


def log_every_route(handler: GateioSpotPublicMessageHandler, log: Log) -> None:
    """One callback per route, appending ``(route, event)`` to ``log``."""

    def logger(mtype: MessageType) -> Callable[[Any], None]:
        return lambda ev: log.append((mtype, ev))

    for mtype in sorted(handler.ROUTES):
        handler.on(mtype, logger(mtype))


def logging_handler() -> tuple[GateioSpotPublicMessageHandler, Log]:
    handler = GateioSpotPublicMessageHandler()
    log: Log = []
    log_every_route(handler, log)
    return handler, log


def mexc_trades() -> mexc.MexcTrades:
    deal = {"price": "1.5", "quantity": "2", "tradeType": 1, "time": 1, "tradeId": "1"}
    deals = [deal, {**deal, "tradeId": "2"}, {**deal, "tradeId": "3"}]
    frame = mexc_proto.encode(
        {
            "channel": "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT",
            "symbol": "BTCUSDT",
            "publicAggreDeals": {"deals": deals, "eventType": "x"},
        }
    )
    ev = mexc.decode(frame)
    assert isinstance(ev, mexc.MexcTrades)
    return ev


def test_default_handlers_route_in_rust_and_hook_overrides_do_not() -> None:
    for cls in (
        GateioSpotPublicMessageHandler,
        MexcPublicMessageHandler,
        BinanceSpotPublicMessageHandler,
        KucoinSpotPublicMessageHandler,
        GateioSpotPrivateMessageHandler,
    ):
        handler = cls()
        assert isinstance(handler._router, Router), cls.__name__
        assert handler.deliver == handler._router.dispatch

    class Custom(GateioSpotPublicMessageHandler):
        def _detect_message_type(self, raw: Any) -> MessageType:
            return super()._detect_message_type(raw)

    assert Custom()._router is None

    class Wrapped(GateioSpotPublicMessageHandler):
        def _handle_events(self, events: Any, recv_ns: int) -> None:
            self.wrapped = True
            super()._handle_events(events, recv_ns)

    wrapped = Wrapped()
    got: list[Any] = []
    wrapped.on_trade(got.append)
    wrapped.deliver([TRADE], RECV)  # the override is kept, the router still routes
    assert wrapped.wrapped and got == [TRADE] and wrapped.metrics.reads == 1


def test_every_type_reaches_its_callbacks_in_order_with_counts_and_timings() -> None:
    handler, log = logging_handler()
    events = [ev for ev, _ in GATE_EVENTS] + [OTHER, TRADE]
    handler.deliver(events, RECV)
    assert log == [(t, ev) for ev, t in GATE_EVENTS] + [(MessageType.TRADE, TRADE)]
    m = handler.metrics
    assert m.reads == 1
    assert m.messages == {t: 1 for _, t in GATE_EVENTS} | {"trade": 2, "unknown": 1}
    # Once per read, not per message.
    assert {s: h.count for s, h in m.latency.items()} == {"decode": 1, "dispatch": 1, "callback": 1}
    decode, dispatch, callback = (m.latency[s].max for s in ("decode", "dispatch", "callback"))
    assert 0 < decode <= dispatch <= callback
    handler.deliver([TRADE], RECV)
    assert m.reads == 2 and m.messages["trade"] == 3 and m.latency["callback"].count == 2


@given(st.lists(st.integers(0, len(GATE_EVENTS) - 1), max_size=30))
def test_order_within_a_read_is_arrival_order(picks: list[int]) -> None:
    handler, log = logging_handler()
    seen: list[Any] = []
    handler.on_any(seen.append)
    events = [GATE_EVENTS[i][0] for i in picks]
    handler.deliver(events, RECV)
    assert [ev for _, ev in log] == events == seen
    assert [t for t, _ in log] == [GATE_EVENTS[i][1] for i in picks]


def test_library_listeners_come_first_and_the_python_path_agrees() -> None:
    handler, log = logging_handler()
    handler._on_internal(MessageType.SUBSCRIBE, lambda ev: log.append((MessageType.UNKNOWN, ev)))
    handler.deliver([ACK], RECV)
    assert log == [(MessageType.UNKNOWN, ACK), (MessageType.SUBSCRIBE, ACK)]

    class Custom(GateioSpotPublicMessageHandler):
        def _route_message(self, mtype: MessageType, raw: Any) -> None:
            super()._route_message(mtype, raw)

    custom = Custom()
    python_log: Log = []
    log_every_route(custom, python_log)
    events = [ev for ev, _ in GATE_EVENTS] + [OTHER]
    custom.deliver(events, RECV)
    fused, fused_log = logging_handler()
    fused.deliver(events, RECV)
    assert python_log == fused_log
    assert custom.metrics.messages == fused.metrics.messages
    assert custom.metrics.reads == fused.metrics.reads == 1


def test_mexc_batches_reach_callbacks_one_item_per_call() -> None:
    handler = MexcPublicMessageHandler()
    trades: list[Any] = []
    batches: list[list[Any]] = []
    handler.on_trade(trades.append)
    handler.on_batch(batches.append)
    batch = mexc_trades()
    handler.deliver([batch], RECV)
    assert [t.trade_id for t in trades] == ["1", "2", "3"]
    assert [[t.trade_id for t in b] for b in batches] == [["1", "2", "3"]]
    assert handler.metrics.messages["trade"] == 1  # per message, as on the Python path


def test_a_raising_callback_is_counted_and_logged_and_the_read_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = GateioSpotPublicMessageHandler()
    got: list[Any] = []

    def boom(ev: Any) -> None:
        raise RuntimeError("strategy bug")

    handler.on_trade(boom)
    handler.on_trade(got.append)
    handler.on_ticker(got.append)
    with caplog.at_level(logging.ERROR, logger="hftws.handler"):
        handler.deliver([TRADE, TICKER, TRADE], RECV)
    assert got == [TRADE, TICKER, TRADE]
    assert handler.metrics.callback_errors == 2
    assert "strategy bug" in caplog.text and "the stream goes on" in caplog.text


def test_base_exceptions_stop_the_read_as_with_except_exception() -> None:
    handler = GateioSpotPublicMessageHandler()
    got: list[Any] = []

    def leave(ev: Any) -> None:
        raise SystemExit(3)

    handler.on_trade(leave)
    handler.on_ticker(got.append)
    with pytest.raises(SystemExit):
        handler.deliver([TRADE, TICKER], RECV)
    assert got == [] and handler.metrics.callback_errors == 0
    assert handler.metrics.messages == {"trade": 1}  # counted before it stopped


def test_undecodable_items_take_the_template_method_and_the_read_goes_on() -> None:
    handler, log = logging_handler()
    handler.deliver([TRADE, b"not json", TICKER], RECV)
    assert log == [(MessageType.TRADE, TRADE), (MessageType.TICKER, TICKER)]
    assert sum(handler.metrics.errors.values()) == 1
    assert handler.metrics.reads == 1


def test_list_results_fan_out_and_private_events_are_converted() -> None:
    handler = GateioSpotPrivateMessageHandler()
    orders: list[Any] = []
    batches: list[list[Any]] = []
    handler.on_order(orders.append)
    handler.on_batch(batches.append)
    order = {
        "id": "1",
        "text": "t-1",
        "create_time_ms": "1",
        "update_time_ms": "2",
        "currency_pair": "BTC_USDT",
        "type": "limit",
        "side": "buy",
        "amount": "1",
        "price": "2",
        "left": "1",
        "filled_total": "0",
        "event": "put",
    }
    records = gate("spot.orders", [order, {**order, "id": "2"}])
    assert isinstance(records, tuple)
    handler.deliver([records], RECV)
    assert [type(o) for o in orders] == [OrderUpdate, OrderUpdate]
    assert [o.order_id for o in orders] == ["1", "2"]
    assert batches == [orders]
    assert handler.metrics.messages["order_update"] == 1  # per message


def test_undecoded_payloads_are_parsed_then_routed_natively() -> None:
    """Connections without the fused decoder (private streams, raw taps) hand payloads."""
    handler = GateioSpotPrivateMessageHandler()
    got: list[Any] = []
    handler.on_order(got.append)
    handler.on(MessageType.PING, got.append)
    order = {"id": "7", "currency_pair": "BTC_USDT", "side": "sell", "event": "update"}
    frame = {"time": 1, "time_ms": 1, "channel": "spot.orders", "event": "update"}
    pong = {"time": 1, "channel": "spot.pong", "event": "", "result": None}
    payloads = [json.dumps(frame | {"result": [order]}), b"{broken", json.dumps(pong)]
    handler._handle_payloads(payloads, RECV)
    assert [type(e).__name__ for e in got] == ["OrderUpdate", "GatePong"]
    m = handler.metrics
    assert sum(m.errors.values()) == 1 and m.reads == 1
    assert m.messages == {"order_update": 1, "ping": 1}
    assert m.latency["decode"].count == m.latency["callback"].count == 1


async def test_coroutine_results_are_scheduled_and_their_failures_counted() -> None:
    handler = GateioSpotPublicMessageHandler()
    done: list[Any] = []

    async def slow(ev: Any) -> None:
        await asyncio.sleep(0)
        done.append(ev)

    async def failing(ev: Any) -> None:
        raise ValueError("async bug")

    handler.on_trade(slow)
    handler.on_ticker(failing)
    handler.deliver([TRADE, TICKER], RECV)
    assert done == []  # scheduled, not awaited inside the read
    async with asyncio.timeout(5):
        await handler.drain()
    assert done == [TRADE]
    assert handler.metrics.callback_errors == 1


def test_registrations_made_during_a_read_apply_from_the_next_read() -> None:
    handler = GateioSpotPublicMessageHandler()
    late: list[Any] = []

    def register(ev: Any) -> None:
        handler.on_ticker(late.append)
        handler.remove(register)

    handler.on_trade(register)
    handler.deliver([TRADE, TICKER], RECV)
    assert late == []  # the read finishes with the table it started with
    handler.deliver([TRADE, TICKER], RECV)
    assert late == [TICKER]


def test_batch_callback_gets_one_list_per_read_with_routed_events_only() -> None:
    handler = GateioSpotPublicMessageHandler()
    batches: list[list[Any]] = []
    cb = handler.on_batch(batches.append)
    handler.deliver([DEPTH, OTHER, TRADE], RECV)
    handler.deliver([OTHER], RECV)  # nothing routed: no call
    handler.deliver([TICKER], RECV)
    assert batches == [[DEPTH, TRADE], [TICKER]]
    handler.remove(cb)
    handler.deliver([TICKER], RECV)
    assert len(batches) == 2


async def test_async_for_reads_yields_per_read_and_counts_drops() -> None:
    handler = GateioSpotPublicMessageHandler()
    reads = handler.reads(size=2)
    first = asyncio.ensure_future(anext(reads))
    await asyncio.sleep(0)  # the iterator registers its queue
    handler.deliver([DEPTH, TRADE], RECV)
    async with asyncio.timeout(5):
        assert await first == [DEPTH, TRADE]
    for ev in (TICKER, TRADE, DEPTH):  # one more than the queue holds: the oldest goes
        handler.deliver([ev], RECV)
    assert handler.metrics.dropped == 1
    async with asyncio.timeout(5):
        assert [await anext(reads), await anext(reads)] == [[TRADE], [DEPTH]]
    handler.end_reads()
    async with asyncio.timeout(5):
        assert [events async for events in reads] == []
    assert handler._batch == []  # the iterator unregistered itself


def test_metrics_merge_and_snapshot_include_the_routers_counts() -> None:
    a, _ = logging_handler()
    b, _ = logging_handler()
    a.deliver([TRADE, TRADE], RECV)
    b.deliver([TICKER], RECV)
    merged = type(a.metrics)()
    merged.merge(a.metrics)
    merged.merge(b.metrics)
    assert merged.messages == {"trade": 2, "ticker": 1}
    assert merged.reads == 2
    snap = a.metrics.snapshot()
    assert snap["messages"] == {"trade": 2} and snap["reads"] == 1
    a.metrics.reads = 10  # the setter keeps the router's share
    a.deliver([TRADE], RECV)
    assert a.metrics.reads == 11


def test_binance_and_kucoin_kinds_are_interned_strings() -> None:
    """The router's kind lookup (and ``ev.kind == ...`` in user code) builds no string."""
    common = {"E": 1, "s": "BTCUSDT", "p": "1", "q": "1", "T": 1, "m": True}
    trade = binance.parse(json.dumps({"e": "trade", "t": 1, **common}))
    other = binance.parse(json.dumps({"e": "trade", "t": 2, **common}))
    match = kucoin.parse(
        json.dumps(
            {
                "type": "message",
                "topic": "/market/match:BTC-USDT",
                "subject": "trade.l3match",
                "data": {"price": "1", "size": "1", "side": "buy", "symbol": "BTC-USDT"}
                | {"tradeId": "1", "sequence": "1", "time": "1"},
            }
        )
    )
    assert isinstance(trade, binance.BinanceTrade) and isinstance(other, binance.BinanceTrade)
    assert trade.kind == "trade" and trade.kind is other.kind is sys.intern("trade")
    assert match.kind == "match" and match.kind is match.kind is sys.intern("match")


def test_the_router_clock_is_time_monotonic_ns() -> None:
    """Stage latencies subtract the transport's ``time.monotonic_ns()`` receive stamp."""
    router = GateioSpotPublicMessageHandler()._router
    assert router is not None
    for _ in range(100):
        before = time.monotonic_ns()
        now = router.now_ns()
        after = time.monotonic_ns()
        # The pairing at construction is good to well under a microsecond.
        assert before - 5_000 <= now <= after + 5_000
