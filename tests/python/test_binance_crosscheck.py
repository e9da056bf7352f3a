"""Hypothesis cross-checks of every Binance JSON parser against ``json.loads``: generated
payloads of every kind (raw and combined, any key order, extra keys, escapes, whitespace,
odd but valid number spellings, unicode symbols) must decode to exactly what the judge
(``binance_judge.check_event``) reads from the same text; ``apply_depth`` must leave a book
equal to the levels the judge sees."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from binance_judge import check_event
from hypothesis import given
from hypothesis import strategies as st

import hftws
from hftws import binance

symbols = st.one_of(
    st.sampled_from(["BTCUSDT", "BNBBTC", "这是测试币456", "测试USDT"]),
    st.text(min_size=1, max_size=8),
)
ids = st.integers(0, 2**63 - 1)
times = st.integers(0, 2**53)


@st.composite
def decimals(draw: st.DrawFn) -> str:
    """Decimal strings as Binance sends them, and other spellings Decimal() reads exactly."""
    whole = draw(st.integers(0, 10**12))
    frac_digits = draw(st.integers(0, 12))
    frac = draw(st.integers(0, 10**frac_digits - 1)) if frac_digits else 0
    text = f"{whole}.{frac:0{frac_digits}d}" if frac_digits else str(whole)
    if draw(st.integers(0, 9)) == 0:
        text = f"{Decimal(text).normalize():E}"
    return text


def levels(max_size: int = 6) -> st.SearchStrategy[list[list[str]]]:
    return st.lists(st.lists(decimals(), min_size=2, max_size=2), max_size=max_size)


def record(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    common = {"E": times, "s": symbols}
    if kind == "trade":
        fields = {
            "t": ids,
            "p": decimals(),
            "q": decimals(),
            "T": times,
            "m": st.booleans(),
            "M": st.booleans(),
        }
        e = "trade"
    elif kind == "aggTrade":
        fields = {
            "a": ids,
            "p": decimals(),
            "q": decimals(),
            "nq": decimals(),
            "f": ids,
            "l": ids,
            "T": times,
            "m": st.booleans(),
            "M": st.booleans(),
        }
        e = "aggTrade"
    elif kind == "bookTicker":
        fields = {
            "u": ids,
            "b": decimals(),
            "B": decimals(),
            "a": decimals(),
            "A": decimals(),
            "T": times,
        }
        e = "bookTicker"
    elif kind == "kline":
        k = st.fixed_dictionaries(
            {
                "t": times,
                "T": times,
                "s": symbols,
                "i": st.sampled_from(["1s", "1m", "1M"]),
                "f": ids,
                "L": ids,
                "o": decimals(),
                "c": decimals(),
                "h": decimals(),
                "l": decimals(),
                "v": decimals(),
                "n": ids,
                "x": st.booleans(),
                "q": decimals(),
                "V": decimals(),
                "Q": decimals(),
                "B": st.just("0"),
            }
        )
        fields = {"k": k}
        e = "kline"
    elif kind == "miniTicker":
        fields = {x: decimals() for x in "cohlvq"}
        e = "24hrMiniTicker"
    elif kind == "markPrice":
        fields = {
            "p": decimals(),
            "i": decimals(),
            "P": decimals(),
            "r": st.one_of(decimals(), st.just("")),
            "T": times,
        }
        e = "markPriceUpdate"
    elif kind == "forceOrder":
        o = st.fixed_dictionaries(
            {
                "s": symbols,
                "S": st.sampled_from(["BUY", "SELL"]),
                "o": st.just("LIMIT"),
                "f": st.just("IOC"),
                "q": decimals(),
                "p": decimals(),
                "ap": decimals(),
                "X": st.just("FILLED"),
                "l": decimals(),
                "z": decimals(),
                "T": times,
            }
        )
        fields = {"o": o}
        common = {"E": times}
        e = "forceOrder"
    else:
        fields, common, e = {}, {"E": times}, "serverShutdown"
    return st.fixed_dictionaries({"e": st.just(e), **common, **fields})


def depth(futures: bool) -> st.SearchStrategy[dict[str, Any]]:
    body = {
        "e": st.just("depthUpdate"),
        "E": times,
        "s": symbols,
        "U": ids,
        "u": ids,
        "b": levels(),
        "a": levels(),
    }
    if futures:
        body.update(T=times, pu=ids)
    return st.fixed_dictionaries(body)


partial = st.fixed_dictionaries(
    {"lastUpdateId": ids, "bids": levels(), "asks": levels()},
    optional={"E": times, "T": times},
)
control = st.one_of(
    st.fixed_dictionaries(
        {
            "result": st.one_of(
                st.none(), st.booleans(), st.lists(st.text(max_size=12), max_size=3)
            ),
            "id": st.one_of(ids, st.text(max_size=36), st.none()),
        }
    ),
    st.fixed_dictionaries(
        {"code": st.integers(-3000, 3), "msg": st.text(max_size=40)},
        optional={"id": st.one_of(ids, st.none())},
    ),
    st.fixed_dictionaries(
        {
            "id": st.text(max_size=36),
            "status": st.integers(400, 599),
            "error": st.fixed_dictionaries(
                {"code": st.integers(-3000, 0), "msg": st.text(max_size=40)}
            ),
        }
    ),
)
KINDS = [
    "trade",
    "aggTrade",
    "bookTicker",
    "kline",
    "miniTicker",
    "markPrice",
    "forceOrder",
    "serverShutdown",
]
STREAMS = {
    "trade": "@trade",
    "aggTrade": "@aggTrade",
    "bookTicker": "@bookTicker",
    "kline": "@kline_1m",
    "miniTicker": "@miniTicker",
    "markPrice": "@markPrice@1s",
    "forceOrder": "@forceOrder",
    "serverShutdown": "",
}


@st.composite
def frames(draw: st.DrawFn) -> str:
    which = draw(st.sampled_from([*KINDS, "depth", "fdepth", "partial", "control", "arrays"]))
    if which in KINDS:
        data = draw(record(which))
        stream = "!serverShutdown" if which == "serverShutdown" else "btcusdt" + STREAMS[which]
        if which == "bookTicker" and draw(st.booleans()):
            del data["e"], data["E"], data["T"]  # the spot shape
    elif which in ("depth", "fdepth"):
        data = draw(depth(which == "fdepth"))
        stream = "btcusdt@depth@100ms"
    elif which == "partial":
        data = draw(partial)
        stream = "btcusdt@depth20@100ms"
    elif which == "arrays":
        kind = draw(st.sampled_from(["miniTicker", "markPrice", "forceOrder"]))
        records = draw(st.lists(record(kind), min_size=1, max_size=4))
        stream = {
            "miniTicker": "!miniTicker@arr",
            "markPrice": "!markPrice@arr@1s",
            "forceOrder": "!forceOrder@arr",
        }[kind]
        doc_a: Any = {"stream": stream, "data": records} if draw(st.booleans()) else records
        return json.dumps(doc_a, ensure_ascii=draw(st.booleans()))
    else:
        data = draw(control)
        stream = None
    extra = draw(
        st.dictionaries(
            st.sampled_from(["x", "zz", "ignore", "M2"]),
            st.one_of(st.integers(), st.text(max_size=4)),
            max_size=2,
        )
    )
    items = list(data.items()) + list(extra.items())
    first = items[:1] if draw(st.booleans()) else []  # `e` first (as Binance sends) or not
    rest = items[len(first) :]
    rest = draw(st.permutations(rest))
    data = dict(first + list(rest))
    if stream is not None and draw(st.booleans()):
        wrapper = [("stream", stream), ("data", data)]
        if draw(st.booleans()):
            wrapper.reverse()
        doc: Any = dict(wrapper)
    else:
        doc = data
    indent = draw(st.sampled_from([None, None, 1]))
    return json.dumps(doc, ensure_ascii=draw(st.booleans()), indent=indent)


@given(frames())
def test_parse_agrees_with_json_loads(frame: str) -> None:
    ev = binance.parse(frame)
    assert isinstance(ev, tuple) or ev.kind != "other", frame
    check_event(ev, frame)
    check_event(binance.parse(frame.encode()), frame)


@given(frames())
def test_apply_depth_agrees_with_parse(frame: str) -> None:
    ev = binance.parse(frame)
    book = hftws.OrderBook("binance")
    book.load_snapshot([], [], 0)
    if isinstance(ev, tuple) or ev.kind not in ("depth", "partial_depth"):
        assert binance.apply_depth(frame, book) is None
        return
    if ev.kind == "partial_depth":
        st_ = binance.apply_depth(frame, book)
        want_b: dict[Decimal, Decimal] = {}
        want_a: dict[Decimal, Decimal] = {}
        for p, s in ev.bids_decimal:
            want_b[p] = s
        for p, s in ev.asks_decimal:
            want_a[p] = s
        bids, asks = book.depth()
        got_b = {Decimal(p): Decimal(s) for p, s in bids}
        got_a = {Decimal(p): Decimal(s) for p, s in asks}
        assert got_b == {p: s for p, s in want_b.items() if s}
        assert got_a == {p: s for p, s in want_a.items() if s}
        assert book.sequence == ev.last_id
        crossed = got_b and got_a and max(got_b) >= min(got_a)
        doc = json.loads(frame)
        # Named by its stream, partial depth is the stream's own book (confirmed); a bare body
        # may be a REST snapshot, loaded but unconfirmed (STALE) until a push bridges it.
        on_stream = isinstance(doc, dict) and "stream" in doc
        confirmed = hftws.BookStatus.APPLIED if on_stream else hftws.BookStatus.STALE
        assert st_ == (hftws.BookStatus.CROSSED if crossed else confirmed)
        return
    # A diff straddling the snapshot id applies; levels land exactly as parsed.
    start = hftws.OrderBook("binance")
    first = ev.first_id
    assert first is not None, "a diff has U"
    if first > ev.last_id:
        assert binance.apply_depth(frame, book) == hftws.BookStatus.GAP
        return
    start.load_snapshot([], [], max(first - 1, 0))
    st_ = binance.apply_depth(frame, start)
    if ev.last_id <= max(first - 1, 0):
        assert st_ == hftws.BookStatus.STALE
        return
    model_b: dict[Decimal, Decimal] = {}
    model_a: dict[Decimal, Decimal] = {}
    for side, lv in ((model_b, ev.bids_decimal), (model_a, ev.asks_decimal)):
        for p, s in lv:
            if s:
                side[p] = s
            else:
                side.pop(p, None)
    bids, asks = start.depth()
    assert {Decimal(p): Decimal(s) for p, s in bids} == model_b
    assert {Decimal(p): Decimal(s) for p, s in asks} == model_a
    assert start.sequence == ev.last_id
    assert st_ in (hftws.BookStatus.APPLIED, hftws.BookStatus.CROSSED)
