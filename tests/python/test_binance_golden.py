"""Every example payload of the Binance reference (binance.md §2.1, §12, §8.2) through
``binance.parse``: kinds, typed accessors in their three views, and ``to_dict() == json.loads``
of the payload; control replies and the combined-stream wrapper."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TypeVar

import pytest

import hftws
from hftws import binance

DIFF = (
    '{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,'
    '"b":[["0.0024","10"]],"a":[["0.0026","100"]]}'
)
PARTIAL = '{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}'
BOOK_TICKER = (
    '{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000",'
    '"a":"25.36520000","A":"40.66000000"}'
)
REST_SNAPSHOT = (
    '{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],'
    '"asks":[["4.00000200","12.00000000"]]}'
)
AGG_TRADE = (
    '{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100",'
    '"f":100,"l":105,"T":1672515782136,"m":true,"M":true}'
)
TRADE = (
    '{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100",'
    '"T":1672515782136,"m":true,"M":true}'
)
FUT_DIFF = (
    '{"e":"depthUpdate","E":123456789,"T":123456788,"s":"BTCUSDT","U":157,"u":160,"pu":149,'
    '"b":[["0.0024","10"]],"a":[["0.0026","100"]]}'
)
FUT_SNAPSHOT = (
    '{"lastUpdateId":1027024,"E":1589436922972,"T":1589436922959,'
    '"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]}'
)
SHUTDOWN = '{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}}'
KLINE = (
    '{"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,'
    '"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025",'
    '"l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}'
)
MINI = (
    '{"e":"24hrMiniTicker","E":1672515782136,"s":"BNBBTC","c":"0.0025","o":"0.0010",'
    '"h":"0.0025","l":"0.0010","v":"10000","q":"18"}'
)
MARK = (
    '{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000",'
    '"i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}'
)
FORCE = (
    '{"e":"forceOrder","E":1568014460893,"o":{"s":"BTCUSDT","S":"SELL","o":"LIMIT","f":"IOC",'
    '"q":"0.014","p":"9910","ap":"9910","X":"FILLED","l":"0.014","z":"0.014","T":1568014460893}}'
)
FUT_BOOK_TICKER = (
    '{"e":"bookTicker","u":400900217,"E":1568014460893,"T":1568014460891,"s":"BNBUSDT",'
    '"b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}'
)
CONTROL_ERRORS = [
    '{"code": 0, "msg": "Unknown property","id": 5}',
    '{"code": 1, "msg": "Invalid value type: expected Boolean"}',
    '{"code": 2, "msg": "Invalid request: property name must be a string"}',
    '{"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"}',
    '{"code": 2, "msg": "Invalid request: unknown variant %s, expected one of `SUBSCRIBE`, '
    '`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` at line 1 column 28"}',
    '{"code": 2, "msg": "Invalid request: too many parameters"}',
    '{"code": 2, "msg": "Invalid request: missing field `method` at line 1 column 73"}',
    '{"code":3,"msg":"Invalid JSON: expected value at line %s column %s"}',
    '{"id":"fc93a61a","status":418,"error":{"code":-1003,"msg":"Way too much request weight '
    'used; IP banned until 1659146400000.","data":{"serverTime":1659142907531,'
    '"retryAfter":1659146400000}}}',
]
ALL = [
    DIFF,
    PARTIAL,
    BOOK_TICKER,
    REST_SNAPSHOT,
    AGG_TRADE,
    TRADE,
    FUT_DIFF,
    FUT_SNAPSHOT,
    SHUTDOWN,
    KLINE,
    MINI,
    MARK,
    FORCE,
    FUT_BOOK_TICKER,
    '{"result":null,"id":1}',
    '{"result":["btcusdt@aggTrade"],"id":3}',
    '{"result":true,"id":2}',
    *CONTROL_ERRORS,
]


def wrap(stream: str, data: str) -> str:
    return f'{{"stream":"{stream}","data":{data}}}'


E = TypeVar("E")


def parse_one(frame: str | bytes | bytearray) -> binance.BinanceEvent:
    """``binance.parse`` of a frame whose payload is an object: one event, not a tuple."""
    ev = binance.parse(frame)
    assert not isinstance(ev, tuple), frame
    return ev


def parse_as(frame: str | bytes | bytearray, cls: type[E]) -> E:
    """``binance.parse`` asserting the concrete event type."""
    ev = binance.parse(frame)
    assert isinstance(ev, cls), (frame, ev)
    return ev


def records_of(evs: tuple[object, ...], cls: type[E]) -> list[E]:
    """The events of an array payload, each asserted to be ``cls``."""
    out = []
    for ev in evs:
        assert isinstance(ev, cls), ev
        out.append(ev)
    return out


@pytest.mark.parametrize("frame", ALL)
def test_to_dict_is_json_loads_of_the_payload(frame: str) -> None:
    ev = parse_one(frame)
    want = json.loads(frame)
    if "stream" in want:
        assert ev.stream == want["stream"]
        want = want["data"]
    else:
        assert ev.stream is None
    assert ev.to_dict() == want
    assert ev.kind != "other"
    assert repr(ev)
    # bytes and bytearray give the same event.
    assert parse_one(frame.encode()).to_dict() == want
    assert parse_one(bytearray(frame.encode())).to_dict() == want


def test_diff_depth() -> None:
    ev = binance.parse(DIFF)
    assert isinstance(ev, binance.BinanceDepthUpdate)
    assert ev.kind == "depth" and not ev.snapshot
    assert (ev.first_id, ev.last_id, ev.prev_id) == (157, 160, None)
    assert ev.symbol == "BNBBTC" and ev.event_time == 1672515782136
    assert ev.bids == [(0.0024, 10.0)] and ev.asks == [(0.0026, 100.0)]
    assert ev.bids_decimal == [(Decimal("0.0024"), Decimal("10"))]
    assert ev.asks_str == [("0.0026", "100")]
    fut = parse_as(FUT_DIFF, binance.BinanceDepthUpdate)
    assert (fut.first_id, fut.last_id, fut.prev_id) == (157, 160, 149)
    assert fut.transaction_time == 123456788


def test_partial_depth_and_snapshots() -> None:
    for frame, last in [(PARTIAL, 160), (REST_SNAPSHOT, 1027024), (FUT_SNAPSHOT, 1027024)]:
        ev = parse_as(frame, binance.BinanceDepthUpdate)
        assert ev.kind == "partial_depth" and ev.snapshot and ev.last_id == last
        assert ev.symbol is None and ev.first_id is None
    ev = parse_as(REST_SNAPSHOT, binance.BinanceDepthUpdate)
    assert ev.bids_str == [("4.00000000", "431.00000000")]
    assert ev.asks_decimal == [(Decimal("4.000002"), Decimal("12"))]
    # A futures @depth<N> push is a depthUpdate body; its stream name makes it partial.
    ev = parse_as(
        wrap("btcusdt@depth5@100ms", FUT_DIFF.replace("BTCUSDT", "BTCUSDT")),
        binance.BinanceDepthUpdate,
    )
    assert ev.kind == "partial_depth" and ev.snapshot and ev.last_id == 160
    assert parse_one(wrap("btcusdt@depth@100ms", FUT_DIFF)).kind == "depth"


def test_trades() -> None:
    t = binance.parse(TRADE)
    assert isinstance(t, binance.BinanceTrade)
    assert (t.kind, t.symbol, t.trade_id, t.event_type) == ("trade", "BNBBTC", 12345, "trade")
    assert (t.price, t.price_decimal, t.price_str) == (0.001, Decimal("0.001"), "0.001")
    assert t.quantity_decimal == Decimal(100) and t.buyer_is_maker is True
    assert t.trade_time == 1672515782136
    a = binance.parse(AGG_TRADE)
    assert isinstance(a, binance.BinanceAggTrade)
    assert (a.agg_trade_id, a.first_trade_id, a.last_trade_id) == (12345, 100, 105)
    assert a.normal_quantity is None
    fut_agg = AGG_TRADE.replace('"q":"100",', '"q":"100","nq":"90",')
    fut = parse_as(fut_agg, binance.BinanceAggTrade)
    assert fut.normal_quantity_decimal == Decimal(90)


def test_book_tickers() -> None:
    for frame in [BOOK_TICKER, FUT_BOOK_TICKER, wrap("bnbusdt@bookTicker", BOOK_TICKER)]:
        b = binance.parse(frame)
        assert isinstance(b, binance.BinanceBookTicker)
        assert b.update_id == 400900217 and b.symbol == "BNBUSDT"
        assert b.bid_price_decimal == Decimal("25.3519")
        assert b.ask_size_str == "40.66000000"
        assert b.ask_price == 25.3652
    assert parse_as(BOOK_TICKER, binance.BinanceBookTicker).event_type is None
    assert parse_as(FUT_BOOK_TICKER, binance.BinanceBookTicker).transaction_time == 1568014460891


def test_kline_mini_ticker_mark_price_force_order() -> None:
    k = binance.parse(KLINE)
    assert isinstance(k, binance.BinanceKline)
    assert (k.interval, k.closed, k.trade_count, k.start_time) == ("1m", False, 100, 1672515780000)
    assert (k.open_decimal, k.close_str, k.high) == (Decimal("0.001"), "0.0020", 0.0025)
    assert k.taker_buy_quote_volume_decimal == Decimal("0.5")
    m = binance.parse(MINI)
    assert isinstance(m, binance.BinanceMiniTicker)
    assert (m.close_decimal, m.quote_volume) == (Decimal("0.0025"), 18.0)
    p = binance.parse(MARK)
    assert isinstance(p, binance.BinanceMarkPrice)
    assert p.mark_price_decimal == Decimal("11794.15") and p.funding_rate_str == "0.00038167"
    assert p.next_funding_time == 1562306400000
    delivery = parse_as(MARK.replace('"r":"0.00038167"', '"r":""'), binance.BinanceMarkPrice)
    assert delivery.funding_rate is None and delivery.funding_rate_str is None
    f = binance.parse(FORCE)
    assert isinstance(f, binance.BinanceForceOrder)
    assert (f.symbol, f.side, f.status, f.order_type) == ("BTCUSDT", "SELL", "FILLED", "LIMIT")
    assert (f.price_decimal, f.filled_quantity_str) == (Decimal(9910), "0.014")


def test_server_shutdown_raw_and_combined() -> None:
    for frame in [SHUTDOWN, '{"e":"serverShutdown","E":1770123456789}']:
        ev = binance.parse(frame)
        assert isinstance(ev, binance.BinanceServerShutdown)
        assert ev.event_time == 1770123456789
    assert parse_one(SHUTDOWN).stream == "!serverShutdown"


def test_control_replies() -> None:
    ok = binance.parse('{"result":null,"id":1}')
    assert isinstance(ok, binance.BinanceReply)
    assert (ok.result, ok.id) == (None, 1)
    ls = parse_as('{"result":["btcusdt@aggTrade"],"id":3}', binance.BinanceReply)
    assert ls.result == ["btcusdt@aggTrade"]
    assert parse_as('{"result":true,"id":"abc"}', binance.BinanceReply).id == "abc"
    for frame in CONTROL_ERRORS:
        e = binance.parse(frame)
        assert isinstance(e, binance.BinanceError)
        want = json.loads(frame)
        want = want.get("error", want)
        assert (e.code, e.msg) == (want["code"], want["msg"])
    assert parse_as(CONTROL_ERRORS[0], binance.BinanceError).id == 5
    assert parse_as(CONTROL_ERRORS[1], binance.BinanceError).id is None


def test_unmodelled_payloads_are_other() -> None:
    for frame in [
        '[{"e":"24hrMiniTicker","E":1,"s":"A","c":"1"},{"e":"trade","E":1}]',
        "[1, 2]",
        '{"e":"24hrTicker","E":1,"s":"BNBBTC","p":"1"}',
        wrap("btcusdt@avgPrice", '{"e":"avgPrice","E":1,"s":"BTCUSDT","w":"5m","p":"1"}'),
        '{"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1}}',
    ]:
        ev = binance.parse(frame)
        assert isinstance(ev, binance.BinanceOther) and ev.kind == "other"
        want = json.loads(frame)
        assert ev.to_dict() == (want["data"] if "stream" in want else want)


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ('{"e":"trade","p":"1","e":"aggTrade"}', "e"),
        ('{"stream":"btcusdt@trade","data":{"e":"aggTrade"}}', "data.e"),
        ('{"e":"trade","p":[1]}', "p"),
        ('{"e":"depthUpdate","U":1,"u":2,"b":[],"b":[]}', "b"),
        ('{"e":"depthUpdate","U":1}', "u"),
        ('{"stream":"x@trade"}', "data"),
        ('{"e":"trade","p":"abc"}', "p"),
    ],
)
def test_bad_frames_raise_typed_errors(frame: str, field: str) -> None:
    with pytest.raises(binance.BinanceDecodeError) as info:
        binance.parse(frame)
    err = info.value
    assert isinstance(err, hftws.DecodeError) and isinstance(err, hftws.HftwsError)
    assert err.field == field and isinstance(err.pos, int)
    assert str(err).startswith("binance ")


def test_wrong_input_type() -> None:
    with pytest.raises(TypeError):
        binance.parse(123)  # type: ignore[arg-type]


def test_array_payloads_give_one_event_per_element() -> None:
    mini = (
        '{"e":"24hrMiniTicker","E":1,"s":"%s","c":"%s","o":"1","h":"2","l":"0.5","v":"9","q":"7"}'
    )
    arr = "[" + ",".join(mini % (s, c) for s, c in [("BNBBTC", "0.0025"), ("ETHBTC", "0.05")]) + "]"
    for frame in [arr, wrap("!miniTicker@arr", arr)]:
        evs = binance.parse(frame)
        assert isinstance(evs, tuple) and len(evs) == 2
        minis = records_of(evs, binance.BinanceMiniTicker)
        assert [e.symbol for e in minis] == ["BNBBTC", "ETHBTC"]
        assert minis[1].close_decimal == Decimal("0.05")
        assert [e.to_dict() for e in evs] == json.loads(arr)
    marks = "[" + ",".join([MARK, MARK.replace("BTCUSDT", "ETHUSDT")]) + "]"
    evs = binance.parse(wrap("!markPrice@arr@1s", marks))
    assert isinstance(evs, tuple)
    marks_evs = records_of(evs, binance.BinanceMarkPrice)
    assert [e.symbol for e in marks_evs] == ["BTCUSDT", "ETHUSDT"]
    assert all(e.stream == "!markPrice@arr@1s" for e in marks_evs)
    with pytest.raises(binance.BinanceDecodeError) as info:
        binance.parse(wrap("!markPrice@arr", "[" + MARK + ',{"e":"markPriceUpdate","p":"x"}]'))
    assert info.value.field == "data[1].p"
