"""Trades and book tickers through the one-pass record reader (rust/gate/compact_records.rs)
against the general path and Python's ``json``.

A frame written the way Gate writes it (no whitespace, plain keys) takes the one-pass reader;
the same message with whitespace, escaped strings, reordered envelope keys or repeated keys
takes the general path. Both must give the same event, and what ``json.loads`` says. Also:
``apply_depth`` declines such frames without touching the book, and a later ``channel`` key
(which ``json`` would honour) is never declined from the first one.
"""

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

PAIRS = ["BTC_USDT", "ÉTH_USDT", "币_USDT", "A\\B_USDT", 'Q"X_USDT']
PLAIN = st.from_regex(r"\A-?(0|[1-9][0-9]{0,8})(\.[0-9]{1,8})?\Z")


def decimal_value(draw: st.DrawFn, signed: bool) -> Any:
    """A price or size as a decimal string or a JSON number (int or float), as sent."""
    text = draw(PLAIN)
    if not signed:
        text = text.lstrip("-")
    kind = draw(st.sampled_from(["str", "str", "num"]))
    if kind == "str":
        return text
    return Decimal(text) if "." in text else int(text)


def dumps(msg: dict[str, Any], compact: bool, ascii_only: bool) -> str:
    """JSON text; Decimal values are written as JSON numbers with their exact digits."""
    text = json.dumps(
        msg,
        separators=(",", ":") if compact else (", ", ": "),
        ensure_ascii=ascii_only,
        default=lambda d: f"@@{d}@@",
    )
    # Decimals as bare number literals (json has no hook for that).
    return text.replace('"@@', "").replace('@@"', "")


@st.composite
def trade_frames(draw: st.DrawFn) -> tuple[str, dict[str, Any], bool]:
    futures = draw(st.booleans())
    rec: dict[str, Any] = {"id": draw(st.integers(0, 10**15))}
    if futures:
        rec["contract"] = draw(st.sampled_from(PAIRS))
        rec["size"] = decimal_value(draw, signed=True)
        rec["create_time_ms"] = draw(st.integers(10**12, 2 * 10**12))
        if draw(st.booleans()):
            rec["is_internal"] = True
    else:
        rec["create_time_ms"] = (
            f"{draw(st.integers(10**12, 2 * 10**12))}.{draw(st.integers(0, 9999)):04d}"
        )
        rec["side"] = draw(st.sampled_from(["buy", "sell"]))
        rec["currency_pair"] = draw(st.sampled_from(PAIRS))
        rec["amount"] = decimal_value(draw, signed=False)
        rec["range"] = "1-2"
    rec["price"] = decimal_value(draw, signed=False)
    if draw(st.booleans()):
        # Gate's field order, or any other: the table lookup must not depend on it.
        keys = draw(st.permutations(list(rec)))
        rec = {k: rec[k] for k in keys}
    if draw(st.integers(0, 3)) == 0:
        rec["extra"] = draw(st.sampled_from(["x", 1, None, True, -2.5]))
    market = "futures" if futures else "spot"
    msg = {
        "time": 1_727_000_012,
        "time_ms": 1_727_000_012_090,
        "channel": f"{market}.trades",
        "event": "update",
        "result": [rec] if futures else rec,
    }
    return dumps(msg, compact=True, ascii_only=draw(st.booleans())), msg, futures


def expect_trade(ev: Any, rec: dict[str, Any], futures: bool) -> None:
    """The event's fields, from what ``json.loads`` gives."""
    price = rec["price"]
    assert ev.price == float(price)
    assert ev.price_decimal == Decimal(str(price))
    if futures:
        size = Decimal(str(rec["size"]))
        assert ev.amount == abs(float(size))
        assert ev.side == ("sell" if size < 0 else "buy")
        assert ev.symbol == rec["contract"]
        assert ev.is_internal == rec.get("is_internal")
    else:
        assert ev.amount == float(rec["amount"])
        assert ev.amount_str == str(rec["amount"])
        assert ev.side == rec["side"]
        assert ev.symbol == rec["currency_pair"]
        assert ev.create_time_ms_decimal == Decimal(rec["create_time_ms"])
    assert ev.trade_id == rec["id"]
    assert ev.kind == "trade"


def parse(frame: str | bytes) -> Any:
    """``gateio.parse``, typed loosely: these tests check the event classes at runtime."""
    return gateio.parse(frame)


def one(got: Any) -> Any:
    if isinstance(got, tuple):
        assert len(got) == 1
        return got[0]
    return got


def same_event(a: Any, b: Any, names: list[str]) -> None:
    for name in names:
        assert getattr(a, name) == getattr(b, name), name


TRADE_FIELDS = [
    "kind", "channel", "event", "time", "time_ms", "market", "price", "price_str",
    "price_decimal", "amount", "amount_str", "amount_decimal", "side", "size", "size_str",
    "id", "trade_id", "id_market", "create_time", "create_time_ms_str", "trade_time",
    "currency_pair", "contract", "range", "is_internal", "symbol",
]  # fmt: skip
TICKER_FIELDS = [
    "kind", "channel", "event", "time", "time_ms", "market", "bid_price", "bid_price_str",
    "bid_price_decimal", "bid_size", "bid_size_str", "ask_price", "ask_price_decimal",
    "ask_size", "ask_size_str", "book_time_ms", "update_id", "symbol",
]  # fmt: skip


@given(trade_frames())
def test_trades_match_json_and_the_general_path(case: tuple[str, dict[str, Any], bool]) -> None:
    frame, msg, futures = case
    loaded = json.loads(frame)
    ev = one(parse(frame))
    # Expectations from the values as written (json.loads would round long decimals).
    expect_trade(ev, msg["result"][0] if futures else msg["result"], futures)
    rec = loaded["result"][0] if futures else loaded["result"]
    assert ev.to_dict() == (dict(loaded, result=rec) if futures else loaded)
    # The same message with whitespace takes the general path: every field agrees.
    spaced = one(parse(dumps(msg, compact=False, ascii_only=True)))
    same_event(ev, spaced, TRADE_FIELDS)
    # Bytes and str frames read alike, and apply_depth declines without touching the book.
    same_event(ev, one(parse(frame.encode())), TRADE_FIELDS)
    book = seeded_book()
    assert gateio.apply_depth(frame, book) is None
    assert gateio.apply_depth(frame.encode(), book) is None
    assert book.sequence == 101 and book.in_sync


@st.composite
def ticker_frames(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    futures = draw(st.booleans())
    rec: dict[str, Any] = {
        "t": draw(st.integers(0, 2 * 10**12)),
        "u": draw(st.integers(0, 10**15)),
        "s": draw(st.sampled_from(PAIRS)),
    }
    for price, size in (("b", "B"), ("a", "A")):
        # Futures send "" for an empty side's price and 0 for its size.
        empty = futures and draw(st.integers(0, 4)) == 0
        rec[price] = "" if empty else decimal_value(draw, signed=False)
        rec[size] = 0 if empty else decimal_value(draw, signed=False)
    if draw(st.booleans()):
        keys = draw(st.permutations(list(rec)))
        rec = {k: rec[k] for k in keys}
    msg = {
        "time": 1_727_000_012,
        "time_ms": 1_727_000_012_034,
        "channel": f"{'futures' if futures else 'spot'}.book_ticker",
        "event": "update",
        "result": rec,
    }
    return dumps(msg, compact=True, ascii_only=draw(st.booleans())), msg


@given(ticker_frames())
def test_book_tickers_match_json_and_the_general_path(case: tuple[str, dict[str, Any]]) -> None:
    frame, msg = case
    loaded = json.loads(frame)
    ev = parse(frame)
    rec = msg["result"]

    def view(v: Any) -> float | None:
        return None if v == "" else float(v)

    assert (ev.bid_price, ev.bid_size, ev.ask_price, ev.ask_size) == tuple(
        view(rec[k]) for k in ("b", "B", "a", "A")
    )
    assert ev.update_id == rec["u"] and ev.book_time_ms == rec["t"] and ev.symbol == rec["s"]
    assert ev.to_dict() == loaded
    spaced = parse(dumps(msg, compact=False, ascii_only=True))
    same_event(ev, spaced, TICKER_FIELDS)
    book = seeded_book()
    assert gateio.apply_depth(frame, book) is None
    assert book.sequence == 101


def seeded_book() -> Any:
    book = hftws.OrderBook("gate", symbol="BTC_USDT")
    book.load_snapshot([("99", "1")], [("101", "1")], 100)
    assert gateio.apply_depth(update(101, 101), book) == hftws.BookStatus.APPLIED
    return book


def update(first: int, last: int) -> str:
    result = {"t": 1, "s": "BTC_USDT", "U": first, "u": last, "b": [["98", "1"]], "a": []}
    msg = {"time": 1, "channel": "spot.order_book_update", "event": "update", "result": result}
    return json.dumps(msg, separators=(",", ":"))


TRADE = (
    '{"time":1727000012,"time_ms":1727000012090,"channel":"spot.trades","event":"update",'
    '"result":{"id":9834412201,"create_time_ms":"1727000012085.3310","side":"buy",'
    '"currency_pair":"BTC_USDT","amount":"0.0153","price":"63251.1"}}'
)


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        (TRADE.replace('"63251.1"', '"63251.1x"'), "result.price"),
        (TRADE.replace('"0.0153"', "[1]"), "result.amount"),
        (TRADE.replace('"buy"', "1"), "result.side"),
        (TRADE.replace('"id":9834412201', '"id":1.5'), "result.id"),
        (TRADE.replace('"id":9834412201', '"id":"x"'), "result.id"),
    ],
)
def test_typed_errors_name_the_field(frame: str, field: str) -> None:
    with pytest.raises(gateio.GateDecodeError) as err:
        parse(frame)
    assert err.value.field == field and err.value.channel == "spot.trades"


def test_repeated_and_escaped_keys_mean_what_json_says() -> None:
    # A repeated record key: json keeps the last value (the one-pass reader leaves it to the
    # general path, which does the same).
    twice = TRADE.replace('"price":"63251.1"', '"price":"1","price":"63251.1"')
    assert parse(twice).price == 63251.1
    escaped = TRADE.replace('"price"', '"\\u0070rice"').replace('"BTC_USDT"', '"BTC\\u005fUSDT"')
    ev = parse(escaped)
    assert (ev.price, ev.symbol) == (63251.1, "BTC_USDT")
    assert ev.to_dict() == json.loads(escaped)


def test_a_later_channel_key_is_never_declined_from_the_first() -> None:
    # json.loads says this is a depth push for BTC_USDT (last channel wins); hftws refuses the
    # repeated envelope key rather than decline it as a trade.
    result = '{"t":1,"s":"BTC_USDT","U":102,"u":102,"b":[["98","2"]],"a":[]}'
    frame = (
        '{"time":1,"channel":"spot.trades","event":"update","result":'
        + result
        + ',"channel":"spot.order_book_update"}'
    )
    assert json.loads(frame)["channel"] == "spot.order_book_update"
    book = seeded_book()
    with pytest.raises(gateio.GateDecodeError, match="duplicate key"):
        gateio.apply_depth(frame, book)
    assert book.sequence == 101


def test_malformed_trades_are_declined_by_apply_depth_and_reported_by_parse() -> None:
    # apply_depth decides from the channel; the book is untouched and parse says what is wrong.
    broken = TRADE[:-30]
    book = seeded_book()
    assert gateio.apply_depth(broken, book) is None
    assert book.sequence == 101 and book.in_sync
    with pytest.raises(gateio.GateDecodeError, match="malformed JSON"):
        parse(broken)


def test_stream_decoder_gives_the_same_trade_events() -> None:
    dec = hftws.ws.StreamDecoder("gateio")
    dec.register_book("BTC_USDT", seeded_book())
    data = TRADE.encode()
    [item] = dec.feed(bytes([0x81, 126]) + len(data).to_bytes(2, "big") + data)
    same_event(item, parse(TRADE), TRADE_FIELDS)
    assert item.side is parse(TRADE).side  # interned
