"""Hostile input never crashes the Binance decoders: random bytes, random JSON values and
mutated real frames give either a ``BinanceDecodeError`` or an event that the judge
(``json.loads``) agrees with; ``apply_depth`` gives a status, None, or that error."""

from __future__ import annotations

import json
from typing import Any

from binance_judge import check_event
from fuzz_tools import agrees_with_json, mutate
from fuzz_tools import json_values as fuzz_json_values
from hypothesis import given
from hypothesis import strategies as st
from test_binance_golden import ALL

import hftws
from hftws import binance

REAL = [f.encode() for f in ALL] + [
    b'{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT",'
    b'"U":157,"u":160,"b":[["0.0024","10"],["0.0023","0"]],"a":[["0.0026","100"]]}}',
    b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1.5",'
    b'"q":"2","T":1,"m":false,"M":true}}',
]
KEYS = [
    "e",
    "E",
    "s",
    "U",
    "u",
    "pu",
    "b",
    "a",
    "B",
    "A",
    "p",
    "q",
    "lastUpdateId",
    "bids",
    "asks",
    "result",
    "id",
    "code",
    "msg",
    "error",
    "k",
    "o",
    "stream",
    "data",
]
EVENTS = [
    "depthUpdate",
    "trade",
    "aggTrade",
    "bookTicker",
    "kline",
    "24hrMiniTicker",
    "markPriceUpdate",
    "forceOrder",
    "serverShutdown",
    "24hrTicker",
]

json_values = fuzz_json_values(KEYS, EVENTS)

# What ``binance.parse`` gives for a frame: an event, a tuple (array payload) or the error.
Parsed = binance.BinanceEvent | tuple[binance.BinanceEvent, ...]
Outcome = Parsed | binance.BinanceDecodeError


def outcome(data: bytes | str) -> Outcome:
    try:
        ev = binance.parse(data)
    except binance.BinanceDecodeError as e:
        assert isinstance(e, hftws.DecodeError)
        assert isinstance(e.field, str) and isinstance(e.stream, str) and isinstance(e.pos, int)
        return e
    check_event(ev, data)
    return ev


def apply(data: bytes | str, parsed: Outcome) -> None:
    book = hftws.OrderBook("binance")
    book.load_snapshot([("1", "1")], [("2", "1")], 10)
    try:
        st_ = binance.apply_depth(data, book)
    except binance.BinanceDecodeError:
        # The depth path reads less than parse (never the fields of other kinds), so it may
        # only refuse what parse refused too, or a depth frame the book cannot take.
        assert isinstance(parsed, Exception) or is_depth(parsed)
        return
    assert st_ is None or isinstance(st_, hftws.BookStatus)
    if st_ is not None:
        assert not isinstance(parsed, Exception)
        assert is_depth(parsed)


def is_depth(ev: Parsed) -> bool:
    return not isinstance(ev, tuple) and ev.kind in ("depth", "partial_depth")


@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    got = outcome(data)
    agrees_with_json(data, got, binance.BinanceDecodeError)
    apply(data, got)


@given(json_values)
def test_random_json_values(value: Any) -> None:
    frame = json.dumps(value)
    got = outcome(frame)
    apply(frame, got)


@given(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=7), st.booleans())
def test_random_objects_with_binance_keys(obj: dict[str, Any], wrap: bool) -> None:
    if wrap:
        obj = {"stream": "btcusdt@depth", "data": obj}
    frame = json.dumps(obj)
    apply(frame, outcome(frame))


@given(st.sampled_from(REAL), st.data())
def test_mutated_real_frames(frame: bytes, data: st.DataObject) -> None:
    buf = mutate(frame, data)
    got = outcome(buf)
    agrees_with_json(buf, got, binance.BinanceDecodeError)
    apply(buf, got)


def test_duplicate_keys_are_never_read_differently() -> None:
    # json.loads keeps the last value: either that is what parse returns, or it refuses.
    for frame in [
        '{"e":"trade","p":"1","p":"2"}',
        '{"e":"depthUpdate","U":1,"u":2,"u":3,"b":[],"a":[]}',
        '{"stream":"a@trade","data":{"e":"trade"},"data":{"e":"aggTrade"}}',
        '{"e":"trade","zz":1,"zz":2,"p":"1"}',
        '{"result":1,"result":2}',
    ]:
        got = outcome(frame)
        if not isinstance(got, Exception):
            assert not isinstance(got, tuple)
            assert got.to_dict() == json.loads(frame)


def test_real_frames_all_parse() -> None:
    for frame in REAL:
        assert not isinstance(outcome(frame), Exception)
