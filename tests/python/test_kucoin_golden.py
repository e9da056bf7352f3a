"""Every example frame of ``kucoin.md`` §12 through ``kucoin.parse``: kinds, typed fields
(exact decimals, big ns integers) and ``to_dict()`` equal to ``json.loads``."""

from __future__ import annotations

import json
from decimal import Decimal

import kucoin_frames as F
import pytest

import hftws
from hftws import kucoin


@pytest.mark.parametrize("frame", F.ALL)
def test_every_example_parses_and_round_trips(frame: str) -> None:
    ev = kucoin.parse(frame)
    assert ev.to_dict() == json.loads(frame)
    assert kucoin.parse(frame.encode()).to_dict() == json.loads(frame)
    assert kucoin.parse(bytearray(frame.encode())).kind == ev.kind


def test_control_frames() -> None:
    w = kucoin.parse(F.WELCOME)
    assert isinstance(w, kucoin.KucoinControl)
    assert (w.kind, w.type, w.id, w.topic, w.code) == (
        "welcome",
        "welcome",
        "hQvf8jkno",
        None,
        None,
    )
    p = kucoin.parse(F.PONG)
    assert isinstance(p, kucoin.KucoinControl) and (p.kind, p.id) == ("pong", "1545910590801")
    a = kucoin.parse(F.ACK)
    assert isinstance(a, kucoin.KucoinControl) and a.kind == "ack"
    e = kucoin.parse(F.ERROR_509)
    assert isinstance(e, kucoin.KucoinControl)
    assert (e.kind, e.code, e.id) == ("error", 509, "1")
    assert e.message == "exceed max subscription count limitation of 100 per time"
    e = kucoin.parse(F.ERROR_404)
    assert isinstance(e, kucoin.KucoinControl) and e.code == 404 and e.topic is None


def test_spot_level2() -> None:
    ev = kucoin.parse(F.SPOT_L2)
    assert isinstance(ev, kucoin.KucoinLevel2)
    assert (ev.kind, ev.symbol, ev.subject) == ("level2", "BTC-USDT", "trade.l2update")
    assert (ev.sequence_start, ev.sequence_end, ev.time) == (
        14701689783,
        14701689783,
        1729816425625,
    )
    assert ev.asks == [(Decimal("67993.3"), Decimal("1.21427407"), 14701689783)]
    assert ev.bids == []


def test_spot_ticker_match_and_depth5() -> None:
    t = kucoin.parse(F.TICKER)
    assert isinstance(t, kucoin.KucoinTicker)
    assert (t.kind, t.symbol, t.sequence) == ("ticker", "BTC-USDT", 1545896668986)
    assert (t.price_decimal, t.size_decimal) == (Decimal("0.08"), Decimal("0.011"))
    assert (t.price, t.size_str) == (0.08, "0.011")
    assert (t.bid_price_decimal, t.bid_size_decimal) == (Decimal("0.049"), Decimal("0.036"))
    assert (t.ask_price_decimal, t.ask_size_decimal) == (Decimal("0.08"), Decimal("0.18"))
    assert t.time == 1704873323416, "the SDK example spells it Time"
    m = kucoin.parse(F.MATCH)
    assert isinstance(m, kucoin.KucoinTrade)
    assert (m.kind, m.side, m.price_decimal, m.size_decimal) == (
        "match",
        "buy",
        Decimal("67523"),
        Decimal("0.003"),
    )
    assert m.sequence == 11067996711960577 and m.trade_id == "11067996711960577"
    assert m.time_ns == 1729843222921000000
    assert m.maker_order_id == "671b5007389355000701b1d3"
    assert m.taker_order_id == "671b50161777ff00074c168d"
    d = kucoin.parse(F.DEPTH5)
    assert isinstance(d, kucoin.KucoinDepthSnapshot)
    assert (d.kind, d.sequence, d.timestamp) == ("depth_snapshot", None, 1729822226746)
    assert d.asks[0] == (Decimal("67996.7"), Decimal("1.14213262")) and len(d.bids) == 5


def test_futures_frames() -> None:
    f = kucoin.parse(F.FUT_L2)
    assert isinstance(f, kucoin.KucoinFuturesLevel2)
    assert (f.kind, f.symbol, f.sequence, f.sn) == (
        "futures_level2",
        "XBTUSDTM",
        1709400450243,
        1709400450243,
    )
    assert (f.price, f.side, f.size, f.timestamp) == (
        Decimal("90631.2"),
        "sell",
        Decimal("2"),
        1731897467182,
    )
    d = kucoin.parse(F.FUT_DEPTH5)
    assert isinstance(d, kucoin.KucoinDepthSnapshot)
    assert (d.kind, d.sequence) == ("futures_depth_snapshot", 1709294294670)
    assert d.bids[0] == (Decimal("89720.9"), Decimal("513"))
    x = kucoin.parse(F.EXECUTION)
    assert isinstance(x, kucoin.KucoinTrade)
    assert (x.kind, x.side, x.size_decimal, x.price_decimal) == (
        "execution",
        "buy",
        Decimal(2),
        Decimal("90503.9"),
    )
    assert (x.size_str, x.amount, x.trade_time) == ("2", 2.0, 1731898619520)
    assert x.time_ns == 1731898619520000000
    t = kucoin.parse(F.FUT_TICKER)
    assert isinstance(t, kucoin.KucoinTicker)
    assert (t.kind, t.bid_price_decimal, t.ask_size_decimal, t.price) == (
        "futures_ticker",
        Decimal("90631.1"),
        Decimal(2),
        None,
    )


def test_ticker_all_names_the_symbol_in_subject() -> None:
    frame = F.TICKER.replace("/market/ticker:BTC-USDT", "/market/ticker:all").replace(
        '"subject":"trade.ticker"', '"subject":"ETH-USDT"'
    )
    t = kucoin.parse(frame)
    assert isinstance(t, kucoin.KucoinTicker) and t.symbol == "ETH-USDT"


def test_private_and_unknown_topics_are_other() -> None:
    for frame in (F.PRIVATE_ORDER, F.BALANCE):
        ev = kucoin.parse(frame)
        assert isinstance(ev, kucoin.KucoinOther) and ev.kind == "other"


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ('{"type":1}', "type"),
        ('{"id":"1"}', "type"),
        ('{"type":"message","topic":"/market/level2:X"}', "data"),
        (
            '{"type":"message","topic":"/market/level2:X","data":{"changes":{"asks":'
            '[["1","2"]]},"sequenceStart":1,"sequenceEnd":1}}',
            "data.changes.asks[0][2]",
        ),
        (
            '{"type":"message","topic":"/contractMarket/level2:X","data":{"sequence":1,'
            '"change":"1,up,2"}}',
            "data.change",
        ),
    ],
)
def test_errors_are_typed_and_located(frame: str, field: str) -> None:
    with pytest.raises(kucoin.KucoinDecodeError) as info:
        kucoin.parse(frame)
    assert info.value.field == field
    assert isinstance(info.value, hftws.HftwsError)
    assert kucoin.KucoinDecodeError is hftws.KucoinDecodeError
