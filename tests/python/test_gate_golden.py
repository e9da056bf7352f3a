"""Golden tests: the example messages of gateio.md §9 (and the field lists of §3, §5, §6),
one test per channel, with field-by-field assertions."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

import hftws
from hftws import gateio


def any_parse(data: Any) -> Any:
    """``gateio.parse`` typed loosely: each test asserts the concrete event type itself."""
    return gateio.parse(data)


D = Decimal


def check_roundtrip(frame: str, ev: object) -> None:
    """``to_dict()`` is the message as ``json.loads`` reads it."""
    assert ev.to_dict() == json.loads(frame)  # type: ignore[attr-defined]


def test_subscribe_ack_example_1() -> None:
    frame = (
        '{"time":1727000000,"time_ms":1727000000212,"id":17,"conn_id":"5c1f0e9a7b3d2a11",'
        '"trace_id":"9b7e2d41c0a84f3e8d1a6c5b4f3e2d10","channel":"spot.order_book_update",'
        '"event":"subscribe","payload":["BTC_USDT","100ms"],"result":{"status":"success"}}'
    )
    ev = any_parse(frame)
    assert isinstance(ev, gateio.GateAck)
    assert ev.kind == "ack"
    assert ev.channel == "spot.order_book_update"
    assert ev.event == "subscribe"
    assert ev.success is True
    assert ev.status == "success"
    assert ev.id == 17
    assert ev.time == 1727000000
    assert ev.time_ms == 1727000000212
    assert ev.market == "spot"
    check_roundtrip(frame, ev)


def test_refused_subscription_example_2() -> None:
    frame = (
        '{"time":1727000001,"time_ms":1727000001050,"id":18,"channel":"spot.order_book_update",'
        '"event":"subscribe","error":{"code":2,"message":"unknown currency pair FOO_BAR"},'
        '"result":{"status":"fail"}}'
    )
    ev = any_parse(frame)
    assert isinstance(ev, gateio.GateError)
    assert ev.kind == "error"
    assert (ev.code, ev.message) == (2, "unknown currency pair FOO_BAR")
    assert ev.is_auth is False
    assert ev.error_class == "permanent"
    assert ev.label is None
    assert ev.id == 18
    check_roundtrip(frame, ev)


@pytest.mark.parametrize(
    ("code", "message", "auth", "label"),
    [
        (4, '{"label":"INVALID_KEY","message":"Invalid key provided"}', True, "INVALID_KEY"),
        (6, "x", True, None),
        (11, "Authentication fail.", True, None),
        (2, '{"label":"REQUEST_EXPIRED","message":"gap exceeds 60"}', True, "REQUEST_EXPIRED"),
        (2, "INVALID_SIGNATURE", True, None),
        (2, "IP_FORBIDDEN", True, None),
        (2, "auth faild", True, None),
        (2, "Alert sub ob.BTC_USDT.400", False, None),
        (3, "service error", False, None),
    ],
)
def test_auth_failures_are_classified(
    code: int, message: str, auth: bool, label: str | None
) -> None:
    frame = json.dumps(
        {
            "time": 1,
            "channel": "spot.orders",
            "event": "subscribe",
            "error": {"code": code, "message": message},
            "result": {"status": "fail"},
        }
    )
    ev = any_parse(frame)
    assert isinstance(ev, gateio.GateError)
    assert ev.is_auth is auth
    assert ev.label == label
    assert ev.error_class == ("auth" if auth else "transient" if code == 3 else "permanent")


def test_pong_example_3() -> None:
    frame = (
        '{"time":1727000005,"time_ms":1727000005004,"channel":"spot.pong","event":"",'
        '"error":null,"result":null}'
    )
    ev = any_parse(frame)
    assert isinstance(ev, gateio.GatePong)
    assert ev.kind == "pong"
    assert ev.event == ""
    assert ev.time_ms == 1727000005004
    check_roundtrip(frame, ev)
    fut = any_parse('{"time":1,"channel":"futures.pong","event":"","result":null}')
    assert isinstance(fut, gateio.GatePong)
    assert fut.market == "futures"


SPOT_UPDATE = (
    '{"time":1727000006,"time_ms":1727000006118,"channel":"spot.order_book_update",'
    '"event":"update","result":{"t":1727000006101,"l":"100","e":"depthUpdate","E":1727000006,'
    '"s":"BTC_USDT","U":41886300,"u":41886309,"b":[["63250.1","0.41230"],["63249.8","0"]],'
    '"a":[["63250.2","0.00870"]]}}'
)


def test_spot_order_book_update_example_4() -> None:
    ev = any_parse(SPOT_UPDATE)
    assert isinstance(ev, gateio.GateDepthUpdate)
    assert ev.kind == "depth"
    assert ev.symbol == "BTC_USDT"
    assert ev.stream is None
    assert (ev.first_id, ev.last_id, ev.full) == (41886300, 41886309, False)
    assert ev.book_time_ms == 1727000006101
    assert ev.level == "100"
    assert ev.bids == [(63250.1, 0.4123), (63249.8, 0.0)]
    assert ev.asks == [(63250.2, 0.0087)]
    assert ev.bids_decimal == [(D("63250.1"), D("0.4123")), (D("63249.8"), D("0"))]
    assert ev.bids_str == [("63250.1", "0.41230"), ("63249.8", "0")]
    assert ev.asks_str == [("63250.2", "0.00870")]
    check_roundtrip(SPOT_UPDATE, ev)


def test_example_4_applies_onto_its_rest_snapshot() -> None:
    snap: dict[str, Any] = {
        "id": 41886301,
        "asks": [["63250.2", "0.00870"], ["63250.9", "1.20000"]],
        "bids": [["63250.1", "0.41230"], ["63248.0", "0.05000"]],
    }
    book = hftws.OrderBook("gate", max_depth=100, symbol="BTC_USDT")
    book.load_snapshot(snap["bids"], snap["asks"], snap["id"])
    assert gateio.apply_depth(SPOT_UPDATE, book) == hftws.BookStatus.APPLIED
    assert book.sequence == 41886309
    assert book.best_bid_decimal() == (D("63250.1"), D("0.4123"))
    assert book.best_ask_decimal() == (D("63250.2"), D("0.0087"))
    assert book.size_at("bid", "63249.8") == 0


OBU_FULL = (
    '{"channel":"spot.obu","result":{"t":1727000010233,"full":true,"s":"ob.ETH_USDT.50",'
    '"u":9120044512,"b":[["2631.55","12.4410"],["2631.54","3.0000"]],'
    '"a":[["2631.56","0.8820"],["2631.60","5.1200"]]},"time_ms":1727000010240}'
)
OBU_INC = (
    '{"channel":"spot.obu","result":{"t":1727000010251,"s":"ob.ETH_USDT.50","U":9120044513,'
    '"u":9120044530,"b":[["2631.55","11.9000"]],"a":[["2631.56","0"],["2631.58","2.2500"]]},'
    '"time_ms":1727000010256}'
)


def test_spot_obu_example_5() -> None:
    full = any_parse(OBU_FULL)
    assert isinstance(full, gateio.GateDepthUpdate)
    assert full.event is None
    assert full.channel == "spot.obu"
    assert full.symbol == "ETH_USDT"
    assert full.stream == "ob.ETH_USDT.50"
    assert (full.first_id, full.last_id, full.full) == (None, 9120044512, True)
    assert full.asks_decimal == [(D("2631.56"), D("0.882")), (D("2631.60"), D("5.12"))]
    check_roundtrip(OBU_FULL, full)
    inc = any_parse(OBU_INC)
    assert (inc.first_id, inc.last_id, inc.full) == (9120044513, 9120044530, False)
    book = hftws.OrderBook("gate", max_depth=50, symbol="ETH_USDT")
    assert gateio.apply_depth_many([OBU_FULL, OBU_INC], book) == hftws.BookStatus.APPLIED
    assert book.best_ask_decimal() == (D("2631.58"), D("2.25"))
    assert book.best_bid_decimal() == (D("2631.55"), D("11.9"))


def test_spot_book_ticker_example_6() -> None:
    frame = (
        '{"time":1727000012,"time_ms":1727000012034,"channel":"spot.book_ticker","event":"update",'
        '"result":{"t":1727000012030,"u":41886412,"s":"BTC_USDT","b":"63251.0","B":"0.2210",'
        '"a":"63251.1","A":"1.0345"}}'
    )
    ev = any_parse(frame)
    assert isinstance(ev, gateio.GateBookTicker)
    assert ev.kind == "book_ticker"
    assert ev.symbol == "BTC_USDT"
    assert (ev.book_time_ms, ev.update_id) == (1727000012030, 41886412)
    assert (ev.bid_price, ev.bid_size, ev.ask_price, ev.ask_size) == (
        63251.0,
        0.221,
        63251.1,
        1.0345,
    )
    assert ev.bid_price_decimal == D("63251.0")
    assert ev.bid_price_str == "63251.0"
    assert ev.bid_size_str == "0.2210"
    check_roundtrip(frame, ev)


def test_futures_book_ticker_empty_side() -> None:
    frame = (
        '{"time":1,"time_ms":2,"channel":"futures.book_ticker","event":"update","result":'
        '{"t":3,"u":4,"s":"BTC_USDT","b":"","B":0,"a":"63240.4","A":37}}'
    )
    ev = any_parse(frame)
    assert ev.bid_price is None and ev.bid_price_decimal is None
    assert ev.bid_size == 0.0
    assert ev.ask_size_decimal == D(37)
    assert ev.ask_size_str == "37"
    check_roundtrip(frame, ev)


def test_spot_trade_example_6() -> None:
    frame = (
        '{"time":1727000012,"time_ms":1727000012090,"channel":"spot.trades","event":"update",'
        '"result":{"id":9834412201,"id_market":512993347,"create_time":1727000012,'
        '"create_time_ms":"1727000012085.3310","side":"buy","currency_pair":"BTC_USDT",'
        '"amount":"0.0153","price":"63251.1","range":"512993347-512993347"}}'
    )
    ev = any_parse(frame)
    assert isinstance(ev, gateio.GateTrade)
    assert ev.kind == "trade"
    assert (ev.id, ev.id_market, ev.create_time) == (9834412201, 512993347, 1727000012)
    assert ev.create_time_ms_decimal == D("1727000012085.3310")
    assert ev.create_time_ms_str == "1727000012085.3310"
    assert (ev.side, ev.symbol, ev.currency_pair, ev.contract) == (
        "buy",
        "BTC_USDT",
        "BTC_USDT",
        None,
    )
    assert (ev.price, ev.amount) == (63251.1, 0.0153)
    assert ev.price_decimal == D("63251.1")
    assert ev.amount_str == "0.0153"
    assert ev.range == "512993347-512993347"
    assert ev.size is None and ev.is_internal is None
    check_roundtrip(frame, ev)


def test_futures_order_book_update_and_trade_example_9() -> None:
    frame = (
        '{"time":1727000030,"time_ms":1727000030377,"channel":"futures.order_book_update",'
        '"event":"update","result":{"t":1727000030360,"s":"BTC_USDT","U":88410233101,'
        '"u":88410233140,"b":[{"p":"63240.3","s":"0"},{"p":"63240.1","s":"1520"}],'
        '"a":[{"p":"63240.4","s":"37"}],"l":"100"}}'
    )
    ev = any_parse(frame)
    assert ev.market == "futures"
    assert ev.bids_decimal == [(D("63240.3"), D(0)), (D("63240.1"), D(1520))]
    assert ev.asks_str == [("63240.4", "37")]
    check_roundtrip(frame, ev)
    trades = (
        '{"time":1727000030,"time_ms":1727000030390,"channel":"futures.trades","event":"update",'
        '"result":[{"id":412093377,"contract":"BTC_USDT","size":"-250","price":"63240.3",'
        '"create_time":1727000030,"create_time_ms":1727000030386}]}'
    )
    got = any_parse(trades)
    assert isinstance(got, tuple) and len(got) == 1
    (t,) = got
    assert (t.symbol, t.contract, t.side) == ("BTC_USDT", "BTC_USDT", "sell")
    assert t.size_decimal == D(-250)
    assert t.create_time_ms_decimal == D(1727000030386)
    assert t.to_dict()["result"] == json.loads(trades)["result"][0]


def test_futures_integer_sizes_and_internal_trades() -> None:
    frame = (
        '{"time":1,"channel":"futures.trades","event":"update","result":[{"id":1,"contract":'
        '"ETH_USDT","size":3,"price":"2631.5","create_time":1,"create_time_ms":1000,'
        '"is_internal":true},{"id":2,"contract":"ETH_USDT","size":-7,"price":"2631.4"}]}'
    )
    a, b = any_parse(frame)
    assert (a.size, a.side, a.is_internal, a.size_str) == (3.0, "buy", True, "3")
    assert (b.size_decimal, b.side) == (D(-7), "sell")
    assert [e.to_dict()["result"] for e in (a, b)] == json.loads(frame)["result"]


def test_spot_order_example_7() -> None:
    frame = (
        '{"time":1727000020,"time_ms":1727000020411,"channel":"spot.orders","event":"update",'
        '"result":[{"id":"812233904412","user":3497082,"text":"t-lib-000123","create_time":'
        '"1727000019","create_time_ms":"1727000019876","update_time":"1727000020",'
        '"update_time_ms":"1727000020402","event":"update","currency_pair":"BTC_USDT",'
        '"type":"limit","account":"spot","side":"buy","amount":"0.0200","price":"63200",'
        '"time_in_force":"gtc","left":"0.0120","filled_total":"505.6","filled_amount":"0.0080",'
        '"avg_deal_price":"63200","fee":"0.000016","fee_currency":"BTC","point_fee":"0",'
        '"gt_fee":"0","finish_as":"open"}]}'
    )
    (o,) = any_parse(frame)
    assert isinstance(o, gateio.GateOrder)
    assert o.kind == "order"
    assert (o.id, o.user, o.text) == ("812233904412", 3497082, "t-lib-000123")
    assert o.event == "update" and o.order_event == "update"
    assert (o.symbol, o.type_, o.account, o.side, o.time_in_force) == (
        "BTC_USDT",
        "limit",
        "spot",
        "buy",
        "gtc",
    )
    assert (o.amount_decimal, o.price_decimal, o.left_decimal) == (D("0.02"), D(63200), D("0.012"))
    assert (o.filled_total_str, o.filled_amount_str, o.fee_str) == ("505.6", "0.0080", "0.000016")
    assert o.create_time_decimal == D(1727000019)
    assert o.update_time_ms_decimal == D(1727000020402)
    assert (o.fee_currency, o.finish_as) == ("BTC", "open")
    assert o.size is None and o.contract is None
    assert o.to_dict()["result"] == json.loads(frame)["result"][0]


def test_futures_order() -> None:
    frame = (
        '{"time":1,"time_ms":2,"channel":"futures.orders","event":"update","result":[{"id":'
        '93496,"contract":"BTC_USDT","user":"3497082","create_time_ms":1727000019876,'
        '"price":63200.5,"fill_price":0,"size":-20,"left":-20,"iceberg":0,"is_close":false,'
        '"is_liq":false,"is_reduce_only":true,"tif":"gtc","status":"open","finish_as":"",'
        '"finish_time":0,"mkfr":-0.00025,"tkfr":0.00075,"refu":0,"refr":0,"text":"web",'
        '"stp_id":0,"stp_act":"-","update_id":1,"update_time":1727000019876}]}'
    )
    (o,) = any_parse(frame)
    assert (o.id, o.user, o.symbol, o.status, o.tif) == (
        93496,
        "3497082",
        "BTC_USDT",
        "open",
        "gtc",
    )
    assert (o.size_decimal, o.left, o.price_str) == (D(-20), -20.0, "63200.5")
    assert o.mkfr_decimal == D("-0.00025")
    assert (o.is_close, o.is_reduce_only) == (False, True)
    assert (o.update_id, o.refu) == (1, 0)
    assert o.to_dict()["result"] == json.loads(frame)["result"][0]


def test_spot_and_futures_user_trades() -> None:
    spot = (
        '{"time":1,"channel":"spot.usertrades","event":"update","result":[{"id":5736713,'
        '"user_id":1000001,"order_id":"30784428","currency_pair":"BTC_USDT","create_time":'
        '1605176741,"create_time_ms":"1605176741123.456","side":"sell","amount":"1.00000000",'
        '"role":"taker","price":"10000.00000000","fee":"0.00200000000000","point_fee":"0",'
        '"gt_fee":"0","text":"apiv4","id_market":5736713}]}'
    )
    (u,) = any_parse(spot)
    assert isinstance(u, gateio.GateUserTrade) and u.kind == "user_trade"
    assert (u.id, u.user_id, u.order_id, u.role, u.side) == (
        5736713,
        1000001,
        "30784428",
        "taker",
        "sell",
    )
    assert (u.amount_decimal, u.price_decimal, u.fee_str) == (D(1), D(10000), "0.00200000000000")
    assert u.create_time_ms_decimal == D("1605176741123.456")
    fut = (
        '{"time":1,"channel":"futures.usertrades","event":"update","result":[{"id":"3335259",'
        '"create_time":1628736848,"create_time_ms":1628736848321,"contract":"BTC_USD",'
        '"order_id":"4872460","size":1,"price":"40000.4","role":"maker","text":"api",'
        '"fee":0.0009290592,"point_fee":0}]}'
    )
    (f,) = any_parse(fut)
    assert (f.id, f.symbol, f.size, f.fee_decimal) == ("3335259", "BTC_USD", 1.0, D("0.0009290592"))
    assert f.to_dict()["result"] == json.loads(fut)["result"][0]


def test_futures_position() -> None:
    frame = (
        '{"time":1,"time_ms":2,"channel":"futures.positions","event":"update","result":[{'
        '"contract":"BTC_USDT","cross_leverage_limit":0,"entry_price":40000.36666661111,'
        '"history_pnl":-0.000108569505,"history_point":0,"last_close_pnl":-0.000050123368,'
        '"leverage":0,"leverage_max":100,"liq_price":0.1,"maintenance_rate":0.005,"margin":'
        '49.999890611186,"mode":"single","realised_pnl":-1.25e-8,"realised_point":0,'
        '"risk_limit":100,"size":-3,"time":1628736848,"time_ms":1628736848321,"user":'
        '"110xxxxx","update_id":170919}]}'
    )
    (p,) = any_parse(frame)
    assert isinstance(p, gateio.GatePosition) and p.kind == "position"
    assert (p.symbol, p.mode, p.user, p.update_id) == ("BTC_USDT", "single", "110xxxxx", 170919)
    assert p.size_decimal == D(-3)
    assert p.entry_price_decimal == D("40000.36666661111")
    assert p.realised_pnl_decimal == D("-1.25e-8")
    assert p.realised_pnl_str == "-1.25e-8"
    assert (p.record_time, p.record_time_ms, p.time_ms) == (1628736848, 1628736848321, 2)
    assert p.to_dict()["result"] == json.loads(frame)["result"][0]


def test_spot_and_futures_balances() -> None:
    spot = (
        '{"time":1,"channel":"spot.balances","event":"update","result":[{"timestamp":'
        '"1667556323","timestamp_ms":"1667556323730","user":"1000001","currency":"USDT",'
        '"change":"0","total":"222244.3827652","available":"222244.3827","freeze":"0.00000055",'
        '"freeze_change":"0.000000","change_type":"order-create"}]}'
    )
    (b,) = any_parse(spot)
    assert isinstance(b, gateio.GateBalance) and b.kind == "balance"
    assert (b.timestamp, b.user, b.currency, b.change_type) == (
        1667556323,
        "1000001",
        "USDT",
        "order-create",
    )
    assert (b.total_decimal, b.freeze_str) == (D("222244.3827652"), "0.00000055")
    assert b.timestamp_ms_decimal == D(1667556323730)
    fut = (
        '{"time":1,"channel":"futures.balances","event":"update","result":[{"balance":'
        '9.998739899488,"change":-0.000002074115,"text":"BTC_USD:3914424","time":1547199246,'
        '"time_ms":1547199246123,"type":"fee","user":"211xxx","currency":"btc"}]}'
    )
    (f,) = any_parse(fut)
    assert (f.balance_decimal, f.change_decimal) == (D("9.998739899488"), D("-0.000002074115"))
    assert (f.text, f.type_, f.record_time, f.record_time_ms) == (
        "BTC_USD:3914424",
        "fee",
        1547199246,
        1547199246123,
    )


def test_tickers_spot_and_futures() -> None:
    spot = (
        '{"time":1,"time_ms":2,"channel":"spot.tickers","event":"update","result":{'
        '"currency_pair":"BTC_USDT","last":"19106.55","lowest_ask":"19108.71","highest_bid":'
        '"19106.55","change_percentage":"3.66","base_volume":"2811.3042155865","quote_volume":'
        '"53441606.52411221454674732293","high_24h":"19417.74","low_24h":"18434.21"}}'
    )
    t = any_parse(spot)
    assert isinstance(t, gateio.GateTicker) and t.kind == "ticker"
    assert (t.symbol, t.last, t.change_percentage) == ("BTC_USDT", 19106.55, 3.66)
    assert t.quote_volume_decimal == D("53441606.52411221454674732293")
    assert t.quote_volume_str == "53441606.52411221454674732293"
    fut = (
        '{"time":1,"channel":"futures.tickers","event":"update","result":[{"contract":"BTC_USDT",'
        '"last":"118.4","change_percentage":"0.77","funding_rate":"-0.000114","mark_price":'
        '"118.35","index_price":"118.36","total_size":"73648","volume_24h":"745487577",'
        '"volume_24h_base":"2526","volume_24h_quote":"283","volume_24h_settle":"283",'
        '"quanto_base_rate":"","low_24h":"99.2","high_24h":"132.5"}]}'
    )
    (f,) = any_parse(fut)
    assert (f.symbol, f.funding_rate_decimal, f.total_size) == ("BTC_USDT", D("-0.000114"), 73648.0)
    assert f.quanto_base_rate is None


def test_candlesticks_spot_and_mark() -> None:
    spot = (
        '{"time":1,"channel":"spot.candlesticks","event":"update","result":{"t":"1606292600",'
        '"v":"2362.32035","c":"19128.1","h":"19128.1","l":"19128.1","o":"19128.1","n":'
        '"1m_BTC_USDT","a":"3.8283","w":true}}'
    )
    c = any_parse(spot)
    assert isinstance(c, gateio.GateCandle) and c.kind == "candle"
    assert (c.start, c.interval, c.symbol, c.name, c.closed) == (
        1606292600,
        "1m",
        "BTC_USDT",
        "1m_BTC_USDT",
        True,
    )
    assert (c.open_decimal, c.volume_str, c.amount) == (D("19128.1"), "2362.32035", 3.8283)
    mark = (
        '{"time":1,"channel":"futures.candlesticks","event":"update","result":[{"t":1545129300,'
        '"v":27525555,"c":"95.4","h":"96.9","l":"89.5","o":"94.3","n":"mark_1m_BTC_USD"}]}'
    )
    (m,) = any_parse(mark)
    assert (m.interval, m.symbol, m.closed, m.volume_decimal) == (
        "mark_1m",
        "BTC_USD",
        None,
        D(27525555),
    )


def test_order_book_snapshot_channels() -> None:
    spot = (
        '{"time":1,"channel":"spot.order_book","event":"update","result":{"t":1606295412123,'
        '"lastUpdateId":48791820,"s":"BTC_USDT","l":"5","bids":[["19079.55","0.0195"]],'
        '"asks":[["19080.24","0.1638"]]}}'
    )
    ev = any_parse(spot)
    assert (ev.full, ev.last_id, ev.first_id, ev.symbol) == (True, 48791820, None, "BTC_USDT")
    book = hftws.OrderBook("gate")
    assert gateio.apply_depth(spot, book) == hftws.BookStatus.APPLIED
    assert book.bbo() == (19079.55, 0.0195, 19080.24, 0.1638)
    fut = (
        '{"time":1,"channel":"futures.order_book","event":"all","result":{"t":1,"contract":'
        '"BTC_USD","id":93973511,"asks":[{"p":"97.1","s":2245}],"bids":[{"p":"97.1","s":0},'
        '{"p":"97","s":7}],"l":"5"}}'
    )
    ev = any_parse(fut)
    assert (ev.full, ev.last_id, ev.symbol, ev.event) == (True, 93973511, "BTC_USD", "all")
    assert ev.bids_decimal == [(D("97.1"), D(0)), (D(97), D(7))]


def test_unknown_channels_and_other_envelopes_are_kept() -> None:
    frame = '{"channel":"futures.system","event":"update","result":{"type":"upgrade","msg":"x"}}'
    ev = any_parse(frame)
    assert isinstance(ev, gateio.GateOther) and ev.kind == "other"
    check_roundtrip(frame, ev)
    login = '{"request_id":"login-1","header":{"status":"200","channel":"spot.login"},"data":{}}'
    ev = any_parse(login)
    assert ev.kind == "other" and ev.channel is None
    check_roundtrip(login, ev)


def test_requests_are_built_and_signed_as_documented() -> None:
    msg = json.loads(
        gateio.subscribe_message(
            "spot.orders", ["!all"], time=1611541000, id=21, key="key", secret="secret"
        )
    )
    assert msg["auth"]["SIGN"] == (
        "833a44bb4cd083e47bc1fec22b5c12e8b98c30fc7a9f4a1e52800dcfdff9a57240d7c10f1e9553dee"
        "020011fa5d02cdc7d1155a380cc4dcbd45f8fb525e41f4b"
    )
    assert (msg["time"], msg["id"], msg["event"], msg["payload"]) == (
        1611541000,
        21,
        "subscribe",
        ["!all"],
    )
    assert gateio.sign_channel("secret", "futures.orders", "subscribe", 1611541000).startswith(
        "7c9b3c7deb4f"
    )
    assert (
        json.loads(gateio.unsubscribe_message("spot.trades", ["BTC_USDT"], time=5))["event"]
        == "unsubscribe"
    )
    assert json.loads(gateio.ping_message(True, time=5)) == {"time": 5, "channel": "futures.ping"}
    assert gateio.obu_stream("BTC_USDT", 400) == "ob.BTC_USDT.400"
    with pytest.raises(ValueError):
        gateio.obu_stream("BTC_USDT", 20)
    with pytest.raises(ValueError):
        gateio.subscribe_message("spot.orders", ["!all"], key="k")
    with pytest.raises(ValueError):
        gateio.subscribe_message("spot.trades", ["BTC_USDT"], id=2**31)
    assert gateio.SPOT_URL == "wss://api.gateio.ws/ws/v4/"
    assert gateio.FUTURES_USDT_URL == "wss://fx-ws.gateio.ws/v4/ws/usdt"


def test_events_are_immutable_and_bytes_work() -> None:
    ev = any_parse(SPOT_UPDATE.encode())
    with pytest.raises(AttributeError):
        ev.symbol = "x"
    assert "GateDepthUpdate" in repr(ev)
    assert any_parse(bytearray(SPOT_UPDATE.encode())).last_id == 41886309
    with pytest.raises(TypeError):
        any_parse(123)
