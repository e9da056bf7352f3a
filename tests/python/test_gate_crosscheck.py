"""Cross-check against Python's ``json``: hypothesis builds random valid messages for every
channel as dicts (random key order, extra keys, numbers as strings or JSON numbers where Gate
sends both), ``json.dumps`` them, and the parsed event must hold exactly the dict's values."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hftws
import hftws.ws
from hftws import gateio

# (wire name, attribute, kind) per record kind; kinds: dec, int, str, bool, any.
TRADE = [
    ("id", "id", "int"),
    ("id_market", "id_market", "int"),
    ("create_time", "create_time", "int"),
    ("create_time_ms", "create_time_ms", "dec"),
    ("side", "side", "str"),
    ("currency_pair", "currency_pair", "str"),
    ("amount", "amount", "dec"),
    ("price", "price", "dec"),
    ("range", "range", "str"),
]
FUT_TRADE = [
    ("id", "id", "int"),
    ("contract", "contract", "str"),
    ("size", "size", "dec"),
    ("price", "price", "dec"),
    ("create_time", "create_time", "int"),
    ("create_time_ms", "create_time_ms", "dec"),
    ("is_internal", "is_internal", "bool"),
]
BOOK_TICKER = [
    ("t", "book_time_ms", "int"),
    ("u", "update_id", "int"),
    ("s", "symbol", "str"),
    ("b", "bid_price", "dec"),
    ("B", "bid_size", "dec"),
    ("a", "ask_price", "dec"),
    ("A", "ask_size", "dec"),
]
TICKER = [("currency_pair", "currency_pair", "str")] + [
    (n, n, "dec")
    for n in (
        "last",
        "lowest_ask",
        "highest_bid",
        "change_percentage",
        "base_volume",
        "quote_volume",
        "high_24h",
    )
]
FUT_TICKER = [("contract", "contract", "str")] + [
    (n, n, "dec")
    for n in ("last", "funding_rate", "mark_price", "index_price", "total_size", "volume_24h_quote")
]
CANDLE = [
    ("t", "start", "int"),
    ("v", "volume", "dec"),
    ("c", "close", "dec"),
    ("h", "high", "dec"),
    ("l", "low", "dec"),
    ("o", "open", "dec"),
    ("n", "name", "str"),
    ("a", "amount", "dec"),
    ("w", "closed", "bool"),
]
ORDER = [
    ("id", "id", "any"),
    ("user", "user", "any"),
    ("text", "text", "str"),
    ("create_time", "create_time", "dec"),
    ("update_time_ms", "update_time_ms", "dec"),
    ("event", "order_event", "str"),
    ("currency_pair", "currency_pair", "str"),
    ("type", "type_", "str"),
    ("side", "side", "str"),
    ("amount", "amount", "dec"),
    ("price", "price", "dec"),
    ("left", "left", "dec"),
    ("fee", "fee", "dec"),
    ("gt_discount", "gt_discount", "bool"),
    ("finish_as", "finish_as", "str"),
]
FUT_ORDER = [
    ("id", "id", "any"),
    ("contract", "contract", "str"),
    ("size", "size", "dec"),
    ("left", "left", "dec"),
    ("price", "price", "dec"),
    ("is_reduce_only", "is_reduce_only", "bool"),
    ("tif", "tif", "str"),
    ("status", "status", "str"),
    ("mkfr", "mkfr", "dec"),
    ("update_id", "update_id", "any"),
]
USER_TRADE = [
    ("id", "id", "any"),
    ("order_id", "order_id", "any"),
    ("currency_pair", "currency_pair", "str"),
    ("create_time_ms", "create_time_ms", "dec"),
    ("side", "side", "str"),
    ("amount", "amount", "dec"),
    ("role", "role", "str"),
    ("price", "price", "dec"),
    ("fee", "fee", "dec"),
]
POSITION = [
    ("contract", "contract", "str"),
    ("size", "size", "dec"),
    ("entry_price", "entry_price", "dec"),
    ("leverage", "leverage", "dec"),
    ("realised_pnl", "realised_pnl", "dec"),
    ("mode", "mode", "str"),
    ("time", "record_time", "int"),
    ("time_ms", "record_time_ms", "int"),
    ("user", "user", "any"),
]
BALANCE = [
    ("timestamp", "timestamp", "int"),
    ("timestamp_ms", "timestamp_ms", "dec"),
    ("user", "user", "any"),
    ("currency", "currency", "str"),
    ("change", "change", "dec"),
    ("total", "total", "dec"),
    ("available", "available", "dec"),
    ("change_type", "change_type", "str"),
]
FUT_BALANCE = [
    ("balance", "balance", "dec"),
    ("change", "change", "dec"),
    ("text", "text", "str"),
    ("time", "record_time", "int"),
    ("type", "type_", "str"),
    ("currency", "currency", "str"),
]

CHANNELS: list[tuple[str, list[tuple[str, str, str]], bool, type]] = [
    ("spot.trades", TRADE, False, gateio.GateTrade),
    ("futures.trades", FUT_TRADE, True, gateio.GateTrade),
    ("spot.book_ticker", BOOK_TICKER, False, gateio.GateBookTicker),
    ("futures.book_ticker", BOOK_TICKER, False, gateio.GateBookTicker),
    ("spot.tickers", TICKER, False, gateio.GateTicker),
    ("futures.tickers", FUT_TICKER, True, gateio.GateTicker),
    ("spot.candlesticks", CANDLE, False, gateio.GateCandle),
    ("futures.candlesticks", CANDLE, True, gateio.GateCandle),
    ("spot.orders", ORDER, True, gateio.GateOrder),
    ("futures.orders", FUT_ORDER, True, gateio.GateOrder),
    ("spot.usertrades", USER_TRADE, True, gateio.GateUserTrade),
    ("futures.usertrades", USER_TRADE, True, gateio.GateUserTrade),
    ("futures.positions", POSITION, True, gateio.GatePosition),
    ("spot.balances", BALANCE, True, gateio.GateBalance),
    ("futures.balances", FUT_BALANCE, True, gateio.GateBalance),
]

text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
plain_decimals = st.decimals(
    min_value=Decimal("-1e12"),
    max_value=Decimal("1e12"),
    places=8,
    allow_nan=False,
    allow_infinity=False,
)
dec_values = st.one_of(
    plain_decimals.map(lambda d: format(d, "f")),
    st.integers(-(10**15), 10**15),
    st.integers(-(10**15), 10**15).map(str),
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False),
)
int_values = st.one_of(st.integers(-(2**62), 2**62), st.integers(0, 2**62).map(str))
VALUES = {
    "dec": dec_values,
    "int": int_values,
    "str": text,
    "bool": st.booleans(),
    "any": st.one_of(text, st.integers(-(2**62), 2**62)),
}
extra_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        text,
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=6,
)


@st.composite
def shuffled(draw: st.DrawFn, items: dict[str, Any], allow_extra: bool = True) -> dict[str, Any]:
    pairs = list(items.items())
    if allow_extra:
        for key, value in draw(
            st.dictionaries(
                st.text(min_size=1, max_size=6).map(lambda k: "x_" + k), extra_values, max_size=3
            )
        ).items():
            pairs.append((key, value))
    return dict(draw(st.permutations(pairs)))


@st.composite
def record(draw: st.DrawFn, spec: list[tuple[str, str, str]]) -> dict[str, Any]:
    fields = {}
    for wire, _attr, kind in spec:
        if draw(st.integers(0, 9)) == 0:
            continue  # absent fields read as None
        fields[wire] = draw(VALUES[kind])
    return draw(shuffled(fields))


def expect_field(ev: Any, attr: str, kind: str, value: Any, present: bool) -> None:
    got = getattr(ev, attr)
    if not present:
        assert got is None, attr
        return
    if kind == "dec":
        text = repr(value) if isinstance(value, float) else str(value)
        assert getattr(ev, attr + "_decimal") == Decimal(text), attr
        assert getattr(ev, attr + "_str") == text, attr
        assert got == float(text), attr
    elif kind == "int":
        assert got == int(value), attr
    else:
        assert got == value, attr


def expect_common_trade(ev: Any, rec: dict[str, Any], futures: bool) -> None:
    """The common trade names (``hftws.Trade``): futures amounts are the unsigned size."""
    assert ev.trade_id == ev.id
    qty = rec.get("size" if futures else "amount")
    if qty is None:
        assert ev.amount_decimal is None
    else:
        text = repr(qty) if isinstance(qty, float) else str(qty)
        exact = abs(Decimal(text)) if futures else Decimal(text)
        assert ev.amount_decimal == exact
        assert ev.amount_str == (text.removeprefix("-") if futures else text)
    ms = ev.create_time_ms_decimal
    if ms is None or abs(ms) >= 2**63:
        assert ev.trade_time is None
    else:
        assert ev.trade_time == int(ms)


@pytest.mark.parametrize("case", CHANNELS, ids=[f"{c[0]}" for c in CHANNELS])
@given(data=st.data())
def test_record_channels_match_json(
    case: tuple[str, list[Any], bool, type[Any]], data: st.DataObject
) -> None:
    channel, spec, as_list, cls = case
    n = data.draw(st.integers(1, 3)) if as_list else 1
    records = [data.draw(record(spec)) for _ in range(n)]
    env: dict[str, Any] = {
        "time": data.draw(st.integers(0, 2**40)),
        "time_ms": data.draw(st.integers(0, 2**50)),
    }
    env |= {"channel": channel, "event": "update", "result": records if as_list else records[0]}
    msg: Any = data.draw(shuffled(env))
    frame = json.dumps(msg, ensure_ascii=data.draw(st.booleans()))
    got: Any = gateio.parse(frame.encode() if data.draw(st.booleans()) else frame)
    events = got if as_list else (got,)
    assert len(events) == n
    for ev, rec in zip(events, records, strict=True):
        assert isinstance(ev, cls)
        assert ev.channel == channel
        assert ev.time_ms == msg["time_ms"]
        for wire, attr, kind in spec:
            expect_field(ev, attr, kind, rec.get(wire), wire in rec)
        if cls is gateio.GateTrade:
            expect_common_trade(ev, rec, futures=channel.startswith("futures"))
        if as_list:
            assert ev.to_dict()["result"] == rec
        else:
            assert ev.to_dict() == msg


price = st.decimals(
    min_value=Decimal("0.00000001"), max_value=Decimal("1e9"), places=8, allow_nan=False
)
spot_size = st.decimals(min_value=Decimal(0), max_value=Decimal("1e9"), places=8, allow_nan=False)


@st.composite
def depth_frame(
    draw: st.DrawFn,
) -> tuple[dict[str, Any], list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    futures = draw(st.booleans())
    kind = draw(st.sampled_from(["order_book_update", "obu"]))
    n_b, n_a = draw(st.integers(0, 6)), draw(st.integers(0, 6))

    def level(p: Decimal, s: Decimal) -> Any:
        ptxt = format(p, "f")
        if futures and kind == "order_book_update":
            size: Any = int(s) if draw(st.booleans()) else str(int(s))
            return draw(shuffled({"p": ptxt, "s": size}, allow_extra=False))
        return [ptxt, format(s, "f")]

    def side(n: int) -> tuple[list[Any], list[tuple[Decimal, Decimal]]]:
        wire, want = [], []
        for _ in range(n):
            p = draw(price)
            s = (
                Decimal(draw(st.integers(0, 10**6)))
                if futures and kind == "order_book_update"
                else draw(spot_size)
            )
            wire.append(level(p, s))
            want.append((p, s))
        return wire, want

    b, want_b = side(n_b)
    a, want_a = side(n_a)
    pair = draw(st.sampled_from(["BTC_USDT", "ETH_USDT", "1000PEPE_USDT"]))
    first = draw(st.integers(1, 2**50))
    result: dict[str, Any] = {
        "t": draw(st.integers(0, 2**45)),
        "s": f"ob.{pair}.{draw(st.sampled_from([50, 400]))}" if kind == "obu" else pair,
        "u": first + draw(st.integers(0, 50)),
        "b": b,
        "a": a,
    }
    if draw(st.booleans()):
        result["full"] = True
    else:
        result["U"] = first
    market = "futures" if futures else "spot"
    env = {
        "channel": f"{market}.{kind}",
        "event": "update",
        "time_ms": 1,
        "result": draw(shuffled(result)),
    }
    return draw(shuffled(env)), want_b, want_a


@given(depth_frame())
def test_depth_channels_match_json(case: tuple[dict[str, Any], list[Any], list[Any]]) -> None:
    msg, want_b, want_a = case
    frame = json.dumps(msg)
    ev = gateio.parse(frame)
    assert isinstance(ev, gateio.GateDepthUpdate)
    r = msg["result"]
    assert ev.last_id == r["u"]
    assert ev.first_id == r.get("U")
    assert ev.full is bool(r.get("full"))
    assert ev.bids_decimal == want_b
    assert ev.asks_decimal == want_a
    assert ev.bids == [(float(p), float(s)) for p, s in want_b]
    pair = r["s"].split(".")[1] if msg["channel"].endswith("obu") else r["s"]
    assert ev.symbol == pair
    assert ev.to_dict() == msg
    # The book path sees the same levels: a full push loads them, an increment applies them.
    book = hftws.OrderBook("gate", symbol=pair)
    if not r.get("full"):
        book.load_snapshot([], [], r["U"] - 1)
    status = gateio.apply_depth(frame, book)
    # Absolute sizes: for a repeated price the last level wins; zero deletes.
    bids_left = {p: s for p, s in dict(want_b).items() if s}
    asks_left = {p: s for p, s in dict(want_a).items() if s}
    if bids_left and asks_left and max(bids_left) >= min(asks_left):
        assert status == hftws.BookStatus.CROSSED
    else:
        assert status == hftws.BookStatus.APPLIED
        bids, asks = book.depth()
        assert {Decimal(p): Decimal(s) for p, s in bids} == bids_left
        assert {Decimal(p): Decimal(s) for p, s in asks} == asks_left


# --- Issue 13: strict envelopes. The judge is json.loads (a repeated key keeps its last
# value); hftws either refuses a frame with GateDecodeError or means what the judge says. ---


def obj(pairs: list[tuple[str, Any]]) -> str:
    """A JSON object text that may repeat keys (a dict cannot); values are dumped unless they
    are already JSON text (``Raw``)."""
    return (
        "{"
        + ",".join(
            f"{json.dumps(k)}:{v if isinstance(v, Raw) else json.dumps(v)}" for k, v in pairs
        )
        + "}"
    )


class Raw(str):
    """JSON text to embed as is."""


def seeded_book(symbol: str = "BTC_USDT", last: int = 100) -> hftws.OrderBook:
    book = hftws.OrderBook("gate", symbol=symbol)
    book.load_snapshot([("10", "1")], [("20", "1")], last)
    return book


def book_state(book: hftws.OrderBook) -> tuple[Any, ...]:
    return (book.depth(), book.sequence, book.in_sync)


PUSH_RESULT = Raw(obj([("s", "BTC_USDT"), ("U", 101), ("u", 102), ("b", [["11", "5"]]), ("a", [])]))


@pytest.mark.parametrize(
    "tail",
    [
        [("error", {"code": 2, "message": "x"})],
        [("event", "subscribe")],
        [("event", "unsubscribe")],
    ],
)
def test_a_key_after_result_that_makes_an_error_or_ack_is_not_applied(tail: list[Any]) -> None:
    # Finding 1: the in-place path applied the push before it saw these keys.
    frame = obj([("channel", "spot.order_book_update"), ("result", PUSH_RESULT), *tail])
    judged = json.loads(frame)
    assert judged.get("error") or judged["event"] != "update"  # not a push, for the judge
    book = seeded_book()
    before = book_state(book)
    try:
        status = gateio.apply_depth(frame, book)
    except gateio.GateDecodeError:
        assert not book.in_sync or book_state(book) == before
    else:
        assert status is None
        assert book_state(book) == before
    assert book.sequence == 100
    assert not isinstance(gateio.parse(frame), gateio.GateDepthUpdate)


DUPLICATE_FRAMES = {
    "b twice": obj([
        ("channel", "spot.order_book_update"), ("event", "update"),
        ("result", Raw(obj([("s", "BTC_USDT"), ("U", 101), ("u", 102), ("b", [["11", "5"]]),
                            ("b", [["12", "5"]]), ("a", [])]))),
    ]),
    "u twice": obj([
        ("channel", "spot.order_book_update"), ("event", "update"),
        ("result", Raw(obj([("s", "BTC_USDT"), ("U", 101), ("u", 102), ("b", []), ("a", []),
                            ("u", 500)]))),
    ]),
    "U twice": obj([
        ("channel", "spot.order_book_update"), ("event", "update"),
        ("result", Raw(obj([("s", "BTC_USDT"), ("U", 101), ("u", 102), ("a", []), ("U", 5)]))),
    ]),
    "s twice": obj([
        ("channel", "spot.order_book_update"), ("event", "update"),
        ("result", Raw(obj([("s", "BTC_USDT"), ("U", 101), ("u", 102), ("a", []),
                            ("s", "ETH_USDT")]))),
    ]),
    "result twice": obj([
        ("channel", "spot.order_book_update"), ("event", "update"), ("result", PUSH_RESULT),
        ("result", Raw(obj([("s", "BTC_USDT"), ("U", 103), ("u", 104), ("b", [["13", "1"]])]))),
    ]),
    "channel twice": obj([
        ("channel", "spot.order_book_update"), ("event", "update"), ("result", PUSH_RESULT),
        ("channel", "spot.trades"),
    ]),
}  # fmt: skip


@pytest.mark.parametrize("frame", DUPLICATE_FRAMES.values(), ids=DUPLICATE_FRAMES.keys())
def test_repeated_keys_are_refused(frame: str) -> None:
    # Finding 2: hftws applied every b, skipped later u/U/s, applied a second result, ignored a
    # later channel; json.loads keeps the last of each. Refusing is the strict answer.
    book = seeded_book()
    before = book_state(book)
    with pytest.raises(gateio.GateDecodeError, match="duplicate key"):
        gateio.apply_depth(frame, book)
    assert book.sequence == 100
    assert not book.in_sync or book_state(book) == before
    with pytest.raises(gateio.GateDecodeError, match="duplicate key"):
        gateio.parse(frame)
    dec = hftws.ws.StreamDecoder("gateio")
    plain = seeded_book()
    dec.register_book("BTC_USDT", plain)
    [item] = dec.feed(ws_text(frame))
    assert not isinstance(item, hftws.BookUpdate)
    assert plain.sequence == 100


def ws_text(payload: str) -> bytes:
    """One unmasked server text frame."""
    data = payload.encode()
    n = len(data)
    head = bytes([0x81, n]) if n < 126 else bytes([0x81, 126]) + n.to_bytes(2, "big")
    return head + data


@pytest.mark.parametrize(
    "frame",
    [
        obj([("channel", "spot.order_book_update"), ("event", "update"),
             ("result", {"U": 101, "u": 102, "b": [["11", "5"]], "a": []})]),
        obj([("result", {"U": 101, "u": 102, "b": [["11", "5"]], "a": []}),
             ("channel", "spot.order_book_update"), ("event", "update")]),
        obj([("channel", "spot.obu"), ("result", {"full": True, "u": 102, "b": [["11", "5"]]})]),
    ],
)  # fmt: skip
def test_a_push_without_a_symbol_does_not_match_a_named_book(frame: str) -> None:
    # Finding 3: a push with no "s" was applied to whatever book it was offered to.
    book = seeded_book()
    before = book_state(book)
    with pytest.raises(gateio.GateDecodeError) as err:
        gateio.apply_depth(frame, book)
    assert err.value.field == "result.s"
    assert book_state(book) == before
    dec = hftws.ws.StreamDecoder("gateio")
    registered = seeded_book()
    dec.register_book("BTC_USDT", registered)
    [item] = dec.feed(ws_text(frame))
    assert not isinstance(item, hftws.BookUpdate)
    assert book_state(registered) == before


PLAIN_EVENTS = (None, "update", "all")


@st.composite
def hostile_depth_frame(draw: st.DrawFn) -> str:
    """A depth push rebuilt as text with what dicts cannot hold: repeated keys (result and
    envelope), error/event keys after the result, and events that are not updates."""
    msg, _, _ = draw(depth_frame())
    result = list(msg["result"].items())
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(["b", "a", "u", "U", "s", "full", "t", "bids", "lastUpdateId"]))
        value = draw(
            st.sampled_from([[["1", "2"]], [], 7, msg["result"].get("u", 1) + 1, "ETH_USDT", True])
        )
        result.insert(draw(st.integers(0, len(result))), (key, value))
    env = [(k, v) for k, v in msg.items() if k != "result"]
    env.insert(draw(st.integers(0, len(env))), ("result", Raw(obj(result))))
    extras = draw(
        st.lists(
            st.sampled_from([
                ("error", {"code": 2, "message": "x"}), ("error", None), ("event", "subscribe"),
                ("event", "update"), ("event", "unsubscribe"), ("event", ""),
                ("channel", "spot.trades"), ("result", {"u": 5}), ("time", 1),
            ]),
            max_size=2,
        )
    )  # fmt: skip
    for pair in extras:
        env.insert(draw(st.integers(0, len(env))), pair)
    return obj(env)


def judged_levels(levels: list[Any]) -> dict[Decimal, Decimal]:
    out = {}
    for lvl in levels or []:
        p, s = (lvl["p"], lvl["s"]) if isinstance(lvl, dict) else lvl
        out[Decimal(str(p))] = Decimal(str(s))
    return out


@given(hostile_depth_frame())
def test_hostile_depth_frames_are_refused_or_mean_what_json_says(frame: str) -> None:
    judged = json.loads(frame)
    is_push = judged.get("error") is None and judged.get("event") in PLAIN_EVENTS
    r = judged["result"]
    try:
        ev = gateio.parse(frame)
    except gateio.GateDecodeError:
        pass
    else:
        if judged.get("error") is not None:
            assert isinstance(ev, gateio.GateError)
        elif judged.get("event") in ("subscribe", "unsubscribe"):
            assert isinstance(ev, gateio.GateAck)
        elif judged["channel"].endswith(("order_book_update", "obu")) and is_push:
            assert isinstance(ev, gateio.GateDepthUpdate)
            assert ev.last_id == r.get("u", r.get("lastUpdateId"))
            assert dict(ev.bids_decimal) == judged_levels(r.get("b", r.get("bids")))
            assert dict(ev.asks_decimal) == judged_levels(r.get("a", r.get("asks")))
    s_val = r.get("s")
    pair: Any = s_val
    if judged["channel"].endswith("obu"):
        # An obu `s` is a stream name `ob.PAIR.LEVEL`; any other value names no pair.
        parts = s_val.split(".") if isinstance(s_val, str) else []
        pair = parts[1] if len(parts) == 3 else None
    book = hftws.OrderBook("gate", symbol=pair if isinstance(pair, str) else "BTC_USDT")
    first = r.get("U")
    # The generator may put any JSON value in U: only a positive integer gives a snapshot id.
    ok_first = isinstance(first, int) and not isinstance(first, bool) and first > 0
    book.load_snapshot([], [], first - 1 if ok_first else 0)
    before = book_state(book)
    try:
        status = gateio.apply_depth(frame, book)
    except (gateio.GateDecodeError, ValueError):
        return
    if status is None:
        assert book_state(book) == before
        return
    # Applied: the judge must see a plain push of a depth channel, with these levels.
    assert is_push and judged["channel"].endswith(("order_book_update", "obu"))
    if status == hftws.BookStatus.APPLIED:
        assert book.sequence == r.get("u", r.get("lastUpdateId"))
        bids, asks = book.depth()
        want_b = {p: s for p, s in judged_levels(r.get("b", r.get("bids"))).items() if s}
        want_a = {p: s for p, s in judged_levels(r.get("a", r.get("asks"))).items() if s}
        assert {Decimal(p): Decimal(s) for p, s in bids} == want_b
        assert {Decimal(p): Decimal(s) for p, s in asks} == want_a
