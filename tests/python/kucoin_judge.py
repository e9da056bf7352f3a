"""The judge for KuCoin events: ``json.loads`` (decimals read exactly) and the field rules of
``kucoin.md``, written independently of the Rust decoder."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hftws import kucoin


def _dec(v: Any) -> Decimal | None:
    return None if v is None or v == "" else Decimal(str(v))


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


def check_event(ev: kucoin.KucoinEvent, data: bytes | str) -> None:
    """Every typed view of ``ev`` agrees with the judge's reading of ``data``."""
    assert ev.to_dict() == json.loads(data)
    d = json.loads(data, parse_float=Decimal)
    assert ev.type == d["type"]
    assert ev.topic == d.get("topic")
    assert ev.subject == d.get("subject")
    body = d.get("data")
    if isinstance(ev, kucoin.KucoinControl):
        assert ev.id == d.get("id")
        assert ev.code == d.get("code")
        assert ev.message == (body if ev.kind == "error" else None)
    elif isinstance(ev, kucoin.KucoinLevel2):
        assert ev.sequence_start == body["sequenceStart"]
        assert ev.sequence_end == body["sequenceEnd"]
        for side, got in (("asks", ev.asks), ("bids", ev.bids)):
            want = [(Decimal(p), Decimal(s), int(q)) for p, s, q in body["changes"].get(side) or []]
            assert got == want
    elif isinstance(ev, kucoin.KucoinFuturesLevel2):
        price, side, size = body["change"].split(",")
        assert (ev.price, ev.side, ev.size) == (Decimal(price), side, Decimal(size))
        assert ev.sequence == body["sequence"]
    elif isinstance(ev, kucoin.KucoinDepthSnapshot):
        for side, pairs in (("asks", ev.asks), ("bids", ev.bids)):
            assert pairs == [(Decimal(str(p)), Decimal(str(s))) for p, s in body.get(side) or []]
        if ev.kind == "futures_depth_snapshot":
            assert ev.sequence == body["sequence"]
    elif isinstance(ev, kucoin.KucoinTrade):
        assert (ev.price_decimal, ev.size_decimal) == (
            _dec(body.get("price")),
            _dec(body.get("size")),
        )
        assert ev.amount_decimal == ev.size_decimal
        assert ev.price == (None if ev.price_decimal is None else float(ev.price_decimal))
        assert ev.side == body.get("side")
        assert ev.sequence == _int(body.get("sequence"))
        assert ev.trade_id == body.get("tradeId")
        key = "ts" if ev.kind == "execution" else "time"
        assert ev.time_ns == _int(body.get(key))
    elif isinstance(ev, kucoin.KucoinTicker):
        assert ev.sequence == _int(body.get("sequence"))
        assert ev.bid_size_decimal == _dec(body.get("bestBidSize"))
        assert ev.ask_size_decimal == _dec(body.get("bestAskSize"))
        bid = "bestBidPrice" if ev.kind == "futures_ticker" else "bestBid"
        assert ev.bid_price_decimal == _dec(body.get(bid))
