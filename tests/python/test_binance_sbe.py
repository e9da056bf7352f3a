"""Binance spot SBE (binance.md §5) against a decoder written here, independently, from the
schema description (``stream_1_0.xml``: header, fixed blocks, groups, varString8) with
``struct``: the reference's test vector, hypothesis-generated messages of every template
(encoded here, decoded by Rust, compared field by field and exactly), truncations and
garbage, and SBE depth into a book against a dict model."""

from __future__ import annotations

import random
import struct
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hftws
from hftws import binance

VECTOR = bytes.fromhex(
    # binance.md §5, copied as printed.
    "1a 00 13 27 01 00 00 00 40 22 20 18 24 0a 06 00 64 00 00 00 00 00 00 00"
    "66 00 00 00 00 00 00 00 fe f8 10 00 01 00 ac 2e 63 00 00 00 00 00 80 d1"
    "f0 08 00 00 00 00 10 00 01 00 ad 2e 63 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 07 42 54 43 55 53 44 54"
)

TRADES, BBA, SNAPSHOT, DIFF = 10000, 10001, 10002, 10003
HEADER = struct.Struct("<HHHH")
GROUP16 = struct.Struct("<HH")  # groupSize16Encoding
GROUP32 = struct.Struct("<HI")  # groupSizeEncoding
FIXED = {
    TRADES: struct.Struct("<qqbb"),  # eventTime, transactTime, priceExponent, qtyExponent
    BBA: struct.Struct("<qqbbqqqq"),  # + bookUpdateId, bid/ask price/qty
    SNAPSHOT: struct.Struct("<qqbb"),  # eventTime, bookUpdateId, exponents
    DIFF: struct.Struct("<qqqbb"),  # eventTime, first/lastBookUpdateId, exponents
}
LEVEL = struct.Struct("<qq")
TRADE = struct.Struct("<qqqB")
# template, fixed-block fields, groups of entries, symbol, block padding, entry padding
Message = tuple[int, tuple[int, ...], list[list[tuple[int, ...]]], str, int, int]


def value(mantissa: int, exponent: int) -> Decimal:
    return Decimal(mantissa).scaleb(exponent)


def decode(buf: bytes) -> dict[str, Any]:
    """The independent decoder: plain struct reads following the schema."""
    block_len, template, schema, _version = HEADER.unpack_from(buf, 0)
    assert schema == 1
    fixed = FIXED[template]
    out: dict[str, Any] = {"template": template, "fields": fixed.unpack_from(buf, 8)}
    pos = 8 + block_len
    groups = []
    if template in (SNAPSHOT, DIFF):
        for _ in range(2):
            blk, n = GROUP16.unpack_from(buf, pos)
            pos += GROUP16.size
            groups.append([LEVEL.unpack_from(buf, pos + i * blk) for i in range(n)])
            pos += blk * n
    elif template == TRADES:
        blk, n = GROUP32.unpack_from(buf, pos)
        pos += GROUP32.size
        groups.append([TRADE.unpack_from(buf, pos + i * blk) for i in range(n)])
        pos += blk * n
    (length,) = struct.unpack_from("<B", buf, pos)
    out["symbol"] = buf[pos + 1 : pos + 1 + length].decode()
    assert pos + 1 + length == len(buf)
    out["groups"] = groups
    return out


def encode(
    template: int,
    fields: tuple[int, ...],
    groups: Sequence[Sequence[tuple[int, ...]]],
    symbol: str,
    pad_block: int = 0,
    pad_entry: int = 0,
) -> bytes:
    fixed = FIXED[template]
    body = fixed.pack(*fields) + b"\xee" * pad_block
    out = HEADER.pack(len(body), template, 1, 0) + body
    entry = TRADE if template == TRADES else LEVEL
    for g in groups:
        blk = entry.size + pad_entry
        head = GROUP32 if template == TRADES else GROUP16
        out += head.pack(blk, len(g))
        for e in g:
            out += entry.pack(*e) + b"\xdd" * pad_entry
    sym = symbol.encode()
    return out + bytes([len(sym)]) + sym


def test_golden_vector() -> None:
    assert len(VECTOR) == 82
    mine = decode(VECTOR)
    assert mine["fields"] == (1700000000123456, 100, 102, -2, -8)
    assert mine["groups"] == [[(6500012, 150000000)], [(6500013, 0)]]
    ev = binance.decode_sbe(VECTOR)
    assert isinstance(ev, binance.BinanceSbeDepth)
    assert (ev.kind, ev.snapshot, ev.first_id, ev.last_id) == ("depth", False, 100, 102)
    assert (ev.event_time, ev.price_exponent, ev.qty_exponent) == (1700000000123456, -2, -8)
    assert ev.symbol == "BTCUSDT"
    assert ev.bids_decimal == [(Decimal("65000.12"), Decimal("1.5"))]
    assert ev.asks_decimal == [(Decimal("65000.13"), Decimal(0))]
    assert ev.bids == [(65000.12, 1.5)]
    assert encode(DIFF, mine["fields"], mine["groups"], "BTCUSDT") == VECTOR
    book = hftws.OrderBook("binance", symbol="BTCUSDT")
    book.load_snapshot([], [("65000.13", "3"), ("65001", "1")], 99)
    assert binance.apply_sbe_depth(VECTOR, book) == hftws.BookStatus.APPLIED
    assert book.bbo() == (65000.12, 1.5, 65001.0, 1.0) and book.sequence == 102


i64 = st.integers(-(2**63), 2**63 - 1)
ids = st.integers(0, 2**63 - 1)
exps = st.one_of(st.integers(-10, 2), st.integers(-128, 127))
symbols = st.text(min_size=0, max_size=20).filter(lambda s: len(s.encode()) < 256)
levels: st.SearchStrategy[list[tuple[int, ...]]] = st.lists(st.tuples(i64, i64), max_size=6)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    template = draw(st.sampled_from([TRADES, BBA, SNAPSHOT, DIFF]))
    pe, qe = draw(exps), draw(exps)
    t = draw(i64)
    if template == DIFF:
        fields: tuple[int, ...] = (t, draw(ids), draw(ids), pe, qe)
        groups: list[list[tuple[int, ...]]] = [draw(levels), draw(levels)]
    elif template == SNAPSHOT:
        fields = (t, draw(ids), pe, qe)
        groups = [draw(levels), draw(levels)]
    elif template == BBA:
        fields = (t, draw(i64), pe, qe, draw(i64), draw(i64), draw(i64), draw(i64))
        groups = []
    else:
        fields = (t, draw(i64), pe, qe)
        groups = [draw(st.lists(st.tuples(i64, i64, i64, st.integers(0, 1)), max_size=5))]
    pads = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    return template, fields, groups, draw(symbols), *pads


def exact_or_none(m: int, e: int) -> Decimal | None:
    """The value if hftws's fixed point (an i128 count of 10^-18) holds it exactly."""
    k = 18 + e
    if k >= 0:
        raw = m * 10**k
    elif m % 10 ** (-k):
        return None
    else:
        raw = m // 10 ** (-k)
    if not -(2**127) <= raw < 2**127:
        return None
    return value(m, e)


@given(messages())
def test_rust_decodes_what_the_independent_encoder_wrote(msg: Message) -> None:
    template, fields, groups, symbol, pad_block, pad_entry = msg
    buf = encode(template, fields, groups, symbol, pad_block, pad_entry)
    mine = decode(buf)
    assert mine["symbol"] == symbol
    ev = binance.decode_sbe(buf)
    assert ev.symbol == symbol
    if template in (SNAPSHOT, DIFF):
        assert isinstance(ev, binance.BinanceSbeDepth)
        t = mine["fields"]
        pe, qe = t[-2], t[-1]
        assert (ev.price_exponent, ev.qty_exponent) == (pe, qe)
        assert ev.event_time == t[0]
        if template == DIFF:
            assert (ev.first_id, ev.last_id, ev.snapshot) == (t[1], t[2], False)
        else:
            assert (ev.first_id, ev.last_id, ev.snapshot) == (None, t[1], True)
        assert ev.bids_raw == mine["groups"][0] and ev.asks_raw == mine["groups"][1]
        for side, raw in (("bids", mine["groups"][0]), ("asks", mine["groups"][1])):
            want = [(exact_or_none(p, pe), exact_or_none(q, qe)) for p, q in raw]
            valid = all(p is not None and q is not None and p >= 0 and q >= 0 for p, q in want)
            if valid:
                assert getattr(ev, f"{side}_decimal") == want
            else:
                with pytest.raises(binance.BinanceDecodeError):
                    getattr(ev, f"{side}_decimal")
    elif template == BBA:
        assert isinstance(ev, binance.BinanceSbeBestBidAsk)
        t = mine["fields"]
        assert ev.raw == ((t[4], t[5], t[6], t[7]), (t[2], t[3]))
        assert (ev.event_time, ev.update_id) == (t[0], t[1])
        want_bid = exact_or_none(t[4], t[2])
        if want_bid is not None:
            assert ev.bid_price_decimal == want_bid
        else:
            with pytest.raises(hftws.DecimalParseError):
                _ = ev.bid_price_decimal
    else:
        assert isinstance(ev, binance.BinanceSbeTrades)
        t = mine["fields"]
        assert (ev.event_time, ev.transaction_time, ev.exponents) == (t[0], t[1], (t[2], t[3]))
        assert ev.raw == [(i, p, q, bool(m)) for i, p, q, m in mine["groups"][0]]
        assert len(ev) == len(mine["groups"][0])


@given(messages(), st.data())
def test_truncated_or_mutated_frames_never_crash(msg: Message, data: st.DataObject) -> None:
    template, fields, groups, symbol, pad_block, pad_entry = msg
    buf = encode(template, fields, groups, symbol, pad_block, pad_entry)
    cut = data.draw(st.integers(0, len(buf) - 1))
    with pytest.raises(binance.BinanceDecodeError):
        binance.decode_sbe(buf[:cut])
    mutated = bytearray(buf)
    for _ in range(data.draw(st.integers(1, 4))):
        mutated[data.draw(st.integers(0, len(buf) - 1))] = data.draw(st.integers(0, 255))
    book = hftws.OrderBook("binance")
    book.load_snapshot([], [], 0)
    try:
        binance.decode_sbe(bytes(mutated))
    except binance.BinanceDecodeError:
        pass
    try:
        binance.apply_sbe_depth(bytes(mutated), book)
    except binance.BinanceDecodeError:
        pass


@given(st.binary(max_size=120))
def test_random_bytes_are_typed_errors_or_messages(buf: bytes) -> None:
    try:
        ev = binance.decode_sbe(buf)
    except binance.BinanceDecodeError:
        return
    assert ev.kind in ("depth", "partial_depth", "book_ticker", "trades")


def test_schema_and_block_checks() -> None:
    bad_schema = bytearray(VECTOR)
    bad_schema[4] = 9
    with pytest.raises(binance.BinanceDecodeError, match="schema"):
        binance.decode_sbe(bytes(bad_schema))
    with pytest.raises(binance.BinanceDecodeError, match="bytes after"):
        binance.decode_sbe(VECTOR + b"\x00")
    unknown = bytearray(VECTOR)
    unknown[2:4] = (10099).to_bytes(2, "little")
    with pytest.raises(binance.BinanceDecodeError, match="template"):
        binance.decode_sbe(bytes(unknown))
    assert binance.apply_sbe_depth(bytes(unknown), hftws.OrderBook("binance")) is None


@given(seed=st.integers(0, 2**32 - 1))
def test_sbe_depth_stream_keeps_a_book_equal_to_a_dict_model(seed: int) -> None:
    rng = random.Random(seed)
    pe, qe = -2, -8
    snap_bids = [(100_00 - i, rng.randint(1, 10**9)) for i in range(1, 10)]
    snap_asks = [(100_00 + i, rng.randint(1, 10**9)) for i in range(1, 10)]
    snap = encode(SNAPSHOT, (1, 500, pe, qe), [snap_bids, snap_asks], "BTCUSDT")
    book = hftws.OrderBook("binance", symbol="BTCUSDT")
    assert binance.apply_sbe_depth(snap, book) == hftws.BookStatus.APPLIED
    model = [dict(snap_bids), dict(snap_asks)]
    last = 500
    for _ in range(60):
        groups: list[list[tuple[int, int]]] = [[], []]
        for _ in range(rng.randint(0, 5)):
            side = rng.randint(0, 1)
            tick = (
                rng.randint(100_00 - 30, 100_00 - 1)
                if side == 0
                else rng.randint(100_00 + 1, 100_00 + 30)
            )
            groups[side].append((tick, 0 if rng.random() < 0.3 else rng.randint(1, 10**9)))
        first, last = last + 1, last + 1 + rng.randint(0, 3)
        frame = encode(DIFF, (1, first, last, pe, qe), groups, "BTCUSDT")
        assert binance.apply_sbe_depth(frame, book) == hftws.BookStatus.APPLIED
        for side, lv in enumerate(groups):
            for p, q in lv:
                if q == 0:
                    model[side].pop(p, None)
                else:
                    model[side][p] = q
    bids, asks = book.depth()
    assert [(Decimal(p), Decimal(s)) for p, s in bids] == [
        (value(p, pe), value(q, qe)) for p, q in sorted(model[0].items(), reverse=True)
    ]
    assert [(Decimal(p), Decimal(s)) for p, s in asks] == [
        (value(p, pe), value(q, qe)) for p, q in sorted(model[1].items())
    ]
    with pytest.raises(ValueError):
        binance.apply_sbe_depth(encode(DIFF, (1, last + 1, last + 1, pe, qe), [[], []], "X"), book)
