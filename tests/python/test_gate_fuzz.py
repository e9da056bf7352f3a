"""Hostile input never crashes: random bytes, random JSON values and mutated real frames give
either an event or a ``GateDecodeError`` (for ``apply_depth``: a status, None, or that error)."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import hftws
from hftws import gateio

REAL = [
    b'{"time":1727000006,"time_ms":1727000006118,"channel":"spot.order_book_update","event":"update",'
    b'"result":{"t":1727000006101,"l":"100","e":"depthUpdate","E":1727000006,"s":"BTC_USDT",'
    b'"U":41886300,"u":41886309,"b":[["63250.1","0.41230"],["63249.8","0"]],"a":[["63250.2","0.00870"]]}}',
    b'{"channel":"spot.obu","result":{"t":1727000010233,"full":true,"s":"ob.ETH_USDT.50","u":9120044512,'
    b'"b":[["2631.55","12.4410"]],"a":[["2631.56","0.8820"]]},"time_ms":1727000010240}',
    b'{"time":1727000030,"time_ms":1727000030377,"channel":"futures.order_book_update","event":"update",'
    b'"result":{"t":1727000030360,"s":"BTC_USDT","U":88410233101,"u":88410233140,'
    b'"b":[{"p":"63240.3","s":0},{"p":"63240.1","s":"1520"}],"a":[{"p":"63240.4","s":37}],"l":"100"}}',
    b'{"time":1727000012,"time_ms":1727000012090,"channel":"spot.trades","event":"update","result":'
    b'{"id":9834412201,"id_market":512993347,"create_time":1727000012,"create_time_ms":"1727000012085.3310",'
    b'"side":"buy","currency_pair":"BTC_USDT","amount":"0.0153","price":"63251.1","range":"1-1"}}',
    b'{"time":1,"channel":"futures.positions","event":"update","result":[{"contract":"BTC_USDT","size":-3,'
    b'"entry_price":40000.3,"mode":"single","time":1,"time_ms":2,"user":"1"}]}',
    b'{"time":1,"id":18,"channel":"spot.orders","event":"subscribe","error":{"code":4,"message":'
    b'"{\\"label\\":\\"INVALID_KEY\\"}"},"result":{"status":"fail"}}',
]
CHANNELS = [
    "spot.order_book_update",
    "spot.obu",
    "spot.order_book",
    "spot.book_ticker",
    "spot.trades",
    "spot.tickers",
    "spot.candlesticks",
    "spot.orders",
    "spot.usertrades",
    "spot.balances",
    "spot.pong",
    "futures.order_book_update",
    "futures.obu",
    "futures.order_book",
    "futures.trades",
    "futures.positions",
    "futures.balances",
    "futures.pong",
    "futures.system",
]

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = [
    "t",
    "s",
    "U",
    "u",
    "b",
    "a",
    "full",
    "price",
    "size",
    "p",
    "id",
    "status",
    "code",
    "message",
]


def outcome(data: bytes | str) -> Any:
    try:
        return gateio.parse(data)
    except gateio.GateDecodeError as e:
        assert isinstance(e, hftws.DecodeError)
        assert isinstance(e.field, str) and isinstance(e.channel, str) and isinstance(e.pos, int)
        return e


def apply(data: bytes | str) -> None:
    book = hftws.OrderBook("gate")
    book.load_snapshot([("1", "1")], [("2", "1")], 10)
    try:
        st_ = gateio.apply_depth(data, book)
    except gateio.GateDecodeError:
        return
    assert st_ is None or isinstance(st_, hftws.BookStatus)


@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    agrees_with_json(data, outcome(data))
    apply(data)


@given(json_values)
def test_random_json_values(value: Any) -> None:
    frame = json.dumps(value)
    got = outcome(frame)
    apply(frame)
    if not isinstance(got, Exception) and not isinstance(got, tuple) and isinstance(value, dict):
        assert got.to_dict() == json.loads(frame)


@st.composite
def envelopes(draw: st.DrawFn) -> dict[str, Any]:
    result = draw(
        st.one_of(
            json_values,
            st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6),
            st.lists(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=4), max_size=3),
        )
    )
    env = {"channel": draw(st.sampled_from(CHANNELS)), "result": result}
    if draw(st.booleans()):
        env["event"] = draw(st.sampled_from(["update", "all", "subscribe", "unsubscribe", ""]))
    if draw(st.booleans()):
        env["error"] = draw(
            st.one_of(st.none(), st.dictionaries(st.sampled_from(KEYS), json_values, max_size=3))
        )
    return env


@given(envelopes())
def test_random_envelopes_of_known_channels(env: dict[str, Any]) -> None:
    frame = json.dumps(env)
    got = outcome(frame)
    apply(frame)
    if isinstance(got, tuple):
        assert [e.to_dict()["result"] for e in got] == env["result"]
    elif not isinstance(got, Exception):
        assert got.to_dict() == json.loads(frame)


@given(st.sampled_from(REAL), st.data())
def test_mutated_real_frames(frame: bytes, data: st.DataObject) -> None:
    buf = bytearray(frame)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "dup", "del"]))
        i = data.draw(st.integers(0, max(len(buf) - 1, 0)))
        if op == "flip" and buf:
            buf[i] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del buf[i:]
        elif op == "dup":
            buf[i:i] = buf[i : i + data.draw(st.integers(1, 8))]
        elif op == "del" and buf:
            del buf[i]
    got = outcome(bytes(buf))
    apply(bytes(buf))
    agrees_with_json(bytes(buf), got)


def _refuse(name: str) -> None:
    raise ValueError(name)


def agrees_with_json(data: bytes, got: object) -> None:
    """Differential check of the scanner against Python's json: the same bytes are judged valid
    JSON or not alike (NaN/Infinity and lone surrogates are refused on purpose)."""
    try:
        text = data.decode("utf-8")
        json.loads(text, parse_constant=_refuse)
        valid = True
    except ValueError:
        valid = False
    if not valid:
        assert isinstance(got, gateio.GateDecodeError)
    elif isinstance(got, gateio.GateDecodeError) and not re.search(r"\\u[dD][89abAB]", text):
        assert "malformed JSON" not in str(got), (text, got)


def test_real_frames_all_parse() -> None:
    for frame in REAL:
        assert not isinstance(outcome(frame), Exception)
