"""The judge for Binance decoding tests: what ``json.loads`` says a frame means.

``check_event(ev, frame)`` asserts that an event returned by ``binance.parse`` agrees with
``json.loads`` of the same frame on every typed accessor and on ``to_dict()``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

# (accessor, key, type) per kind; nested keys are "k.o" / "o.p".
FIELDS: dict[str, list[tuple[str, str, str]]] = {
    "trade": [
        ("price", "p", "dec"),
        ("quantity", "q", "dec"),
        ("trade_id", "t", "int"),
        ("event_time", "E", "int"),
        ("trade_time", "T", "int"),
        ("symbol", "s", "str"),
        ("buyer_is_maker", "m", "bool"),
        ("event_type", "e", "str"),
    ],
    "agg_trade": [
        ("price", "p", "dec"),
        ("quantity", "q", "dec"),
        ("normal_quantity", "nq", "dec"),
        ("agg_trade_id", "a", "int"),
        ("first_trade_id", "f", "int"),
        ("last_trade_id", "l", "int"),
        ("trade_time", "T", "int"),
        ("symbol", "s", "str"),
        ("buyer_is_maker", "m", "bool"),
    ],
    "book_ticker": [
        ("bid_price", "b", "dec"),
        ("bid_size", "B", "dec"),
        ("ask_price", "a", "dec"),
        ("ask_size", "A", "dec"),
        ("update_id", "u", "int"),
        ("transaction_time", "T", "int"),
        ("symbol", "s", "str"),
    ],
    "kline": [
        ("symbol", "s", "str"),
        ("event_time", "E", "int"),
        ("open", "k.o", "dec"),
        ("close", "k.c", "dec"),
        ("high", "k.h", "dec"),
        ("low", "k.l", "dec"),
        ("volume", "k.v", "dec"),
        ("quote_volume", "k.q", "dec"),
        ("taker_buy_volume", "k.V", "dec"),
        ("taker_buy_quote_volume", "k.Q", "dec"),
        ("start_time", "k.t", "int"),
        ("close_time", "k.T", "int"),
        ("trade_count", "k.n", "int"),
        ("interval", "k.i", "str"),
        ("closed", "k.x", "bool"),
    ],
    "mini_ticker": [
        ("close", "c", "dec"),
        ("open", "o", "dec"),
        ("high", "h", "dec"),
        ("low", "l", "dec"),
        ("volume", "v", "dec"),
        ("quote_volume", "q", "dec"),
        ("symbol", "s", "str"),
    ],
    "mark_price": [
        ("mark_price", "p", "dec"),
        ("index_price", "i", "dec"),
        ("estimated_settle_price", "P", "dec"),
        ("funding_rate", "r", "dec"),
        ("next_funding_time", "T", "int"),
        ("symbol", "s", "str"),
    ],
    "force_order": [
        ("event_time", "E", "int"),
        ("symbol", "o.s", "str"),
        ("side", "o.S", "str"),
        ("status", "o.X", "str"),
        ("quantity", "o.q", "dec"),
        ("price", "o.p", "dec"),
        ("average_price", "o.ap", "dec"),
        ("filled_quantity", "o.z", "dec"),
        ("trade_time", "o.T", "int"),
    ],
    "server_shutdown": [("event_time", "E", "int")],
}


def lookup(data: dict[str, Any], key: str) -> Any:
    if "." in key:
        outer, inner = key.split(".")
        sub = data.get(outer)
        return sub.get(inner) if isinstance(sub, dict) else None
    return data.get(key)


def payload_of(frame: str | bytes, exact: bool = False) -> tuple[str | None, Any]:
    """The stream name and payload; with ``exact``, JSON fractions come back as Decimal."""
    doc = json.loads(frame, parse_float=Decimal) if exact else json.loads(frame)
    if isinstance(doc, dict) and doc and next(iter(doc)) in ("stream", "data"):
        return doc["stream"], doc["data"]
    return None, doc


def dec(v: Any) -> Decimal | None:
    if v is None or v == "":
        return None
    return Decimal(str(v)) if not isinstance(v, str) else Decimal(v)


def pair(x: Any) -> tuple[Any, Any]:
    # The shared level reader also takes Gate's {"p","s"} objects and ignores extra elements.
    return (x["p"], x["s"]) if isinstance(x, dict) else (x[0], x[1])


def check_levels(
    got: list[tuple[Decimal, Decimal]], got_str: list[tuple[str, str]], raw: Any
) -> None:
    pairs = [pair(x) for x in raw or []]
    assert got == [(Decimal(str(p)), Decimal(str(s))) for p, s in pairs]
    for (p, s), (tp, ts) in zip(pairs, got_str, strict=True):
        # Text views are the exchange's text; for JSON numbers only the value is comparable.
        assert tp == p if isinstance(p, str) else Decimal(tp) == Decimal(str(p))
        assert ts == s if isinstance(s, str) else Decimal(ts) == Decimal(str(s))


def as_id(v: Any) -> int | None:
    return None if v is None else int(v)


def check_event(ev: Any, frame: str | bytes) -> None:
    """``ev`` (from ``binance.parse(frame)``) agrees with ``json.loads(frame)``; a tuple of
    events (an array payload) agrees element by element."""
    stream, plain = payload_of(frame)
    _, exact = payload_of(frame, exact=True)
    if isinstance(ev, tuple):
        assert isinstance(plain, list) and len(ev) == len(plain) > 0
        for item_ev, item, item_exact in zip(ev, plain, exact, strict=True):
            check_payload(item_ev, stream, item, item_exact)
    else:
        check_payload(ev, stream, plain, exact)


def check_payload(ev: Any, stream: str | None, plain: Any, data: Any) -> None:
    """One event against its payload (``plain``: as json.loads; ``data``: fractions exact)."""
    assert ev.stream == stream
    assert ev.to_dict() == plain
    kind = ev.kind
    if kind in ("depth", "partial_depth"):
        bids = data["b"] if "b" in data else data.get("bids")
        asks = data["a"] if "a" in data else data.get("asks")
        check_levels(ev.bids_decimal, ev.bids_str, bids)
        check_levels(ev.asks_decimal, ev.asks_str, asks)
        assert ev.first_id == as_id(data.get("U"))
        assert ev.prev_id == as_id(data.get("pu"))
        assert ev.last_id == as_id(data["u"] if "u" in data else data.get("lastUpdateId"))
        assert ev.symbol == data.get("s")
        assert ev.snapshot == (kind == "partial_depth")
        return
    if kind == "reply":
        assert ev.result == plain["result"] and ev.id == plain.get("id")
        return
    if kind == "error":
        src = data["error"] if "error" in data else data
        assert ev.code == as_id(src.get("code")) and ev.msg == src.get("msg")
        return
    for attr, key, ty in FIELDS.get(kind, []):
        want = lookup(data, key)
        got = getattr(ev, attr + ("_decimal" if ty == "dec" else ""))
        if ty == "dec":
            assert got == dec(want), (attr, got, want)
            text = getattr(ev, attr + "_str")
            if isinstance(want, str) and want:
                assert text == want
        elif ty == "int":
            assert got == as_id(want), (attr, got, want)
        else:
            assert got == want, (attr, got, want)
