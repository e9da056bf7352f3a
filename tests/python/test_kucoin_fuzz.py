"""Hostile and generated input for the KuCoin decoders: random bytes, random JSON, mutated
example frames and generated valid frames of every kind give either a ``KucoinDecodeError``
or an event the judge (``json.loads``) agrees with; ``apply_depth`` gives a status, None, or
that error. Repeated keys are refused rather than read differently from ``json.loads``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import kucoin_frames as F
from fuzz_tools import agrees_with_json, mutate
from fuzz_tools import json_values as fuzz_json_values
from hypothesis import given
from hypothesis import strategies as st
from kucoin_judge import check_event

import hftws
from hftws import kucoin

REAL = [f.encode() for f in F.ALL]
KEYS = [
    "type",
    "topic",
    "subject",
    "data",
    "id",
    "code",
    "sn",
    "changes",
    "asks",
    "bids",
    "sequenceStart",
    "sequenceEnd",
    "sequence",
    "change",
    "symbol",
    "price",
    "size",
    "side",
    "timestamp",
]
TOPICS = [
    "/market/level2:BTC-USDT",
    "/market/match:BTC-USDT",
    "/market/ticker:BTC-USDT",
    "/spotMarket/level2Depth5:BTC-USDT",
    "/contractMarket/level2:XBTUSDTM",
    "/contractMarket/execution:XBTUSDTM",
    "/contractMarket/tickerV2:XBTUSDTM",
    "message",
    "welcome",
    "error",
]

json_values = fuzz_json_values(KEYS, TOPICS)

Outcome = kucoin.KucoinEvent | kucoin.KucoinDecodeError


def outcome(data: bytes | str) -> Outcome:
    try:
        ev = kucoin.parse(data)
    except kucoin.KucoinDecodeError as e:
        assert isinstance(e, hftws.DecodeError)
        assert isinstance(e.field, str) and isinstance(e.topic, str) and isinstance(e.pos, int)
        return e
    check_event(ev, data)
    return ev


DEPTH_KINDS = ("level2", "futures_level2", "depth_snapshot", "futures_depth_snapshot")


def apply(data: bytes | str, parsed: Outcome) -> None:
    for rule in ("kucoin", "kucoin_futures"):
        book = hftws.OrderBook(rule)
        book.load_snapshot([("1", "1")], [("2", "1")], 10)
        try:
            st_ = kucoin.apply_depth(data, book)
        except kucoin.KucoinDecodeError:
            # Only what parse refused, or a depth push of the other market.
            assert isinstance(parsed, Exception) or parsed.kind in DEPTH_KINDS
            continue
        assert st_ is None or isinstance(st_, hftws.BookStatus)
        if st_ is not None:
            assert not isinstance(parsed, Exception) and parsed.kind in DEPTH_KINDS


@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    got = outcome(data)
    agrees_with_json(data, got, kucoin.KucoinDecodeError)
    apply(data, got)


@given(json_values)
def test_random_json_values(value: Any) -> None:
    frame = json.dumps(value)
    apply(frame, outcome(frame))


@given(
    st.sampled_from(["message", "welcome", "error", "ack"]),
    st.sampled_from(TOPICS),
    st.dictionaries(st.sampled_from(KEYS), json_values, max_size=7),
)
def test_random_objects_with_kucoin_keys(ty: str, topic: str, data: dict[str, Any]) -> None:
    frame = json.dumps({"type": ty, "topic": topic, "data": data})
    apply(frame, outcome(frame))


@given(st.sampled_from(REAL), st.data())
def test_mutated_real_frames(frame: bytes, data: st.DataObject) -> None:
    buf = mutate(frame, data)
    got = outcome(buf)
    agrees_with_json(buf, got, kucoin.KucoinDecodeError)
    apply(buf, got)


def test_duplicate_keys_are_refused() -> None:
    for frame in [
        '{"type":"message","type":"message","topic":"/market/match:A","data":{}}',
        '{"type":"message","topic":"/market/match:A","data":{"price":"1","price":"2"}}',
        '{"type":"message","topic":"/market/level2:A","data":{"sequenceStart":1,'
        '"sequenceEnd":2,"sequenceEnd":3,"changes":{}}}',
        '{"type":"message","topic":"/market/level2:A","data":{"sequenceStart":1,'
        '"sequenceEnd":2,"changes":{"bids":[],"bids":[["1","1","2"]]}}}',
        '{"type":"message","topic":"/contractMarket/level2:A","data":{"sequence":1,'
        '"change":"1,buy,1","change":"2,buy,1"}}',
        '{"type":"message","topic":"/market/level2:A","topic":"/market/match:A","data":{}}',
    ]:
        assert isinstance(outcome(frame), kucoin.KucoinDecodeError), frame
    # A repeated key the decoder never reads is read as json.loads reads it.
    frame = '{"type":"ack","id":"1","zz":1,"zz":2}'
    got = outcome(frame)
    assert not isinstance(got, Exception) and got.to_dict() == {"type": "ack", "id": "1", "zz": 2}


decimals = st.decimals(min_value=0, max_value=10**9, places=8, allow_nan=False).map(
    lambda d: format(d, "f")
)
seqs = st.integers(0, 2**63 - 1)


@given(
    st.lists(st.tuples(decimals, decimals, seqs), max_size=5),
    st.lists(st.tuples(decimals, decimals, seqs), max_size=5),
    seqs,
    seqs,
    st.booleans(),
)
def test_generated_spot_level2(
    asks: list[tuple[str, str, int]],
    bids: list[tuple[str, str, int]],
    start: int,
    end: int,
    str_seq: bool,
) -> None:
    def entry(p: str, s: str, q: int) -> list[Any]:
        return [p, s, str(q) if str_seq else q]

    frame = json.dumps(
        {
            "topic": "/market/level2:BTC-USDT",
            "type": "message",
            "subject": "trade.l2update",
            "data": {
                "changes": {"asks": [entry(*a) for a in asks], "bids": [entry(*b) for b in bids]},
                "sequenceEnd": end,
                "sequenceStart": start,
                "symbol": "BTC-USDT",
                "time": 1,
            },
        }
    )
    ev = kucoin.parse(frame)
    assert isinstance(ev, kucoin.KucoinLevel2)
    check_event(ev, frame)


@given(decimals, st.sampled_from(["buy", "sell"]), st.integers(0, 10**9), seqs)
def test_generated_futures_level2(price: str, side: str, size: int, seq: int) -> None:
    frame = json.dumps(
        {
            "topic": "/contractMarket/level2:XBTUSDTM",
            "type": "message",
            "subject": "level2",
            "sn": seq,
            "data": {"sequence": seq, "change": f"{price},{side},{size}", "timestamp": 1},
        }
    )
    ev = kucoin.parse(frame)
    assert isinstance(ev, kucoin.KucoinFuturesLevel2)
    check_event(ev, frame)


@given(
    st.lists(st.tuples(decimals, decimals), max_size=6),
    st.lists(st.tuples(decimals, st.integers(0, 10**6)), max_size=6),
    seqs,
)
def test_generated_depth_snapshots(
    spot: list[tuple[str, str]], fut: list[tuple[str, int]], seq: int
) -> None:
    frames = [
        json.dumps(
            {
                "topic": "/spotMarket/level2Depth50:BTC-USDT",
                "type": "message",
                "subject": "level2",
                "data": {"asks": spot, "bids": spot[::-1], "timestamp": seq},
            }
        ),
        json.dumps(
            {
                "topic": "/contractMarket/level2Depth5:XBTUSDTM",
                "type": "message",
                "subject": "level2",
                "data": {"bids": fut, "asks": fut, "sequence": seq, "timestamp": 1, "ts": 1},
            }
        ),
    ]
    for frame in frames:
        ev = kucoin.parse(frame)
        assert isinstance(ev, kucoin.KucoinDepthSnapshot)
        check_event(ev, frame)


@given(
    decimals,
    decimals,
    st.sampled_from(["buy", "sell"]),
    seqs,
    st.integers(0, 2**63 - 1),
    st.booleans(),
)
def test_generated_trades_and_tickers(
    price: str, size: str, side: str, seq: int, ns: int, futures: bool
) -> None:
    if futures:
        trade: dict[str, Any] = {
            "symbol": "XBTUSDTM",
            "sequence": seq,
            "side": side,
            "size": int(Decimal(size)),
            "price": price,
            "tradeId": str(seq),
            "ts": ns,
        }
        ticker: dict[str, Any] = {
            "symbol": "XBTUSDTM",
            "sequence": seq,
            "bestBidPrice": price,
            "bestAskPrice": price,
            "bestBidSize": int(Decimal(size)),
            "bestAskSize": 3,
            "ts": ns,
        }
        topics = ("/contractMarket/execution:XBTUSDTM", "/contractMarket/tickerV2:XBTUSDTM")
    else:
        trade = {
            "price": price,
            "size": size,
            "side": side,
            "sequence": str(seq),
            "symbol": "BTC-USDT",
            "time": str(ns),
            "tradeId": str(seq),
            "type": "match",
        }
        ticker = {
            "sequence": str(seq),
            "price": price,
            "size": size,
            "bestAsk": price,
            "bestAskSize": size,
            "bestBid": price,
            "bestBidSize": size,
            "time": ns,
        }
        topics = ("/market/match:BTC-USDT", "/market/ticker:BTC-USDT")
    for topic, body in zip(topics, (trade, ticker), strict=True):
        frame = json.dumps({"type": "message", "topic": topic, "subject": "s", "data": body})
        ev = kucoin.parse(frame)
        assert isinstance(ev, (kucoin.KucoinTrade, kucoin.KucoinTicker))
        check_event(ev, frame)


def test_real_frames_all_parse() -> None:
    for frame in REAL:
        assert not isinstance(outcome(frame), Exception)
