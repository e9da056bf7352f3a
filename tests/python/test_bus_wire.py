"""The bus encoding (rust/bus, docs/bus.md): round trips, the change journal, a reader's book
driven by messages, and garbage that must give a typed error, never a crash."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, NamedTuple

import pytest
from bus_reference import ReferenceError_
from bus_reference import decode as ref_decode
from hypothesis import given
from hypothesis import strategies as st

from hftws import BookStatus, OrderBook
from hftws.bus import (
    BusDecodeError,
    BusEncoder,
    book_subject,
    bus_apply,
    bus_decode,
    bus_encode,
    bus_heartbeat,
    bus_load_snapshot,
)

U64 = st.integers(0, 2**64 - 1)
NAME = st.text(st.characters(codec="utf-8"), max_size=20).filter(lambda s: len(s.encode()) <= 255)
# Any value the book holds: an i128 count of 10^-18, sizes not negative.
RAW = 2**127 - 1
PRICE = st.integers(-RAW, RAW).map(lambda r: Decimal(r).scaleb(-18))
SIZE = st.integers(0, RAW).map(lambda r: Decimal(r).scaleb(-18))
LEVEL = st.tuples(st.sampled_from(["bid", "ask"]), PRICE, SIZE)


def _norm(d: Decimal) -> Decimal:
    return d.normalize() if d else Decimal(0)


Kind = Literal["delta", "snapshot", "out_of_sync", "heartbeat"]


class Fields(NamedTuple):
    kind: Kind
    sequence: int
    first_id: int
    last_id: int
    recv_ns: int
    publish_ns: int
    exchange: str
    symbol: str
    levels: list[tuple[str, Decimal, Decimal]]
    flags: int

    def encode(self) -> bytes:
        return bus_encode(
            self.kind,
            self.sequence,
            self.first_id,
            self.last_id,
            self.recv_ns,
            self.publish_ns,
            self.exchange,
            self.symbol,
            [(s, str(p), str(z)) for s, p, z in self.levels],
            flags=self.flags,
        )


@st.composite
def messages(draw: st.DrawFn) -> Fields:
    kinds: list[Kind] = ["delta", "snapshot", "out_of_sync", "heartbeat"]
    kind = draw(st.sampled_from(kinds))
    levels = draw(st.lists(LEVEL, max_size=8)) if kind in ("delta", "snapshot") else []
    return Fields(
        kind,
        draw(U64),
        draw(U64),
        draw(U64),
        draw(U64),
        draw(U64),
        draw(NAME),
        draw(NAME),
        levels,
        draw(st.sampled_from([0, 1])) if kind == "snapshot" else 0,
    )


@given(messages())
def test_decode_of_encode_is_identity_and_the_reference_agrees(m: Fields) -> None:
    data = m.encode()
    got = bus_decode(data)
    ref = ref_decode(data)
    for k in ("kind", "sequence", "first_id", "last_id", "recv_ns", "publish_ns", "exchange"):
        assert getattr(got, k) == getattr(m, k) == getattr(ref, k)
    assert got.symbol == m.symbol == ref.symbol
    assert got.flags == m.flags == ref.flags
    want = [(s, _norm(p), _norm(z)) for s, p, z in m.levels]
    assert [(s, _norm(Decimal(p)), _norm(Decimal(z))) for s, p, z in got.levels] == want
    assert [(s, _norm(p), _norm(z)) for s, p, z in ref.levels] == want


@given(st.binary(max_size=200))
def test_random_bytes_give_a_typed_error_or_the_same_message_as_the_reference(
    data: bytes,
) -> None:
    try:
        got = bus_decode(data)
    except BusDecodeError as exc:
        assert exc.field and exc.pos >= 0
        with pytest.raises((ReferenceError_, UnicodeDecodeError)):
            ref_decode(data)
        return
    ref = ref_decode(data)
    assert (got.kind, got.sequence, got.symbol) == (ref.kind, ref.sequence, ref.symbol)


@given(messages(), st.integers(0, 400), st.integers(0, 255))
def test_corrupted_messages_never_crash_a_reader(m: Fields, pos: int, byte: int) -> None:
    data = bytearray(m._replace(exchange="gateio", symbol="BTC_USDT").encode())
    if pos < len(data):
        data[pos] = byte
    else:
        data.append(byte)
    book = OrderBook("kucoin_futures", symbol="BTC_USDT")
    try:
        bus_apply(book, bytes(data), "gateio", "BTC_USDT")
    except BusDecodeError:
        assert not book.in_sync


def _gate_book() -> OrderBook:
    book = OrderBook("gate", max_depth=3, symbol="BTC_USDT")
    book.set_journal(True)
    book.load_snapshot([("99", "1"), ("98", "2")], [("101", "1.5")], 10)
    assert book.apply([], [], 11, 11) is BookStatus.APPLIED
    return book


def _levels(book: OrderBook) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    return book.depth()


@given(
    st.lists(
        st.tuples(
            st.lists(st.tuples(st.integers(90, 99), st.integers(0, 3)), max_size=4),
            st.lists(st.tuples(st.integers(101, 110), st.integers(0, 3)), max_size=4),
        ),
        max_size=12,
    )
)
def test_a_reader_fed_the_journal_keeps_the_gateway_book(
    pushes: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]],
) -> None:
    src = _gate_book()
    enc = BusEncoder("gateio", "BTC_USDT", sequence=100)
    dst = OrderBook("kucoin_futures", symbol="BTC_USDT")
    first = enc.update(src, 1)
    assert first is not None and bus_decode(first).kind == "snapshot"
    assert bus_apply(dst, first, "gateio", "BTC_USDT") == ("snapshot", BookStatus.APPLIED, 11)
    published = 11
    for i, (bids, asks) in enumerate(pushes):
        seq = 12 + i
        bid_levels = [(str(p), str(s)) for p, s in bids]
        ask_levels = [(str(p), str(s)) for p, s in asks]
        assert src.apply(bid_levels, ask_levels, seq, seq) is BookStatus.APPLIED
        msg = enc.update(src, 2)
        if msg is None:
            assert not bids and not asks
            continue
        m = bus_decode(msg)
        # The exchange ids the delta covers: after the last one published, up to this push.
        assert (m.kind, m.first_id, m.last_id) == ("delta", published, seq)
        published = seq
        assert bus_apply(dst, msg, "gateio", "BTC_USDT") == ("delta", BookStatus.APPLIED, seq)
        assert _levels(dst) == _levels(src)
        assert dst.in_sync and dst.sequence == enc.sequence
    assert src.journal_changes() == []


def test_stored_snapshot_needs_the_next_delta_and_markers_and_garbage_stop_the_reader() -> None:
    src = _gate_book()
    enc = BusEncoder("gateio", "BTC_USDT")
    enc.update(src, 0)
    stored = enc.stored_snapshot(src)
    assert bus_decode(stored).sequence == enc.sequence == 1
    dst = OrderBook("kucoin_futures", symbol="BTC_USDT")
    assert bus_load_snapshot(dst, stored, "gateio", "BTC_USDT") is BookStatus.APPLIED
    assert not dst.in_sync and dst.state == "unconfirmed"
    src.apply([("99.5", "1")], [], 12, 12)
    delta = enc.update(src, 0)
    assert delta is not None
    assert bus_apply(dst, delta, "gateio", "BTC_USDT") == ("delta", BookStatus.APPLIED, 12)
    assert dst.in_sync and _levels(dst) == _levels(src)
    # Replayed history is skipped; a marker takes the reader out of sync.
    assert bus_apply(dst, delta, "gateio", "BTC_USDT") == ("delta", BookStatus.STALE, 12)
    oos = enc.out_of_sync(0)
    assert bus_apply(dst, oos, "gateio", "BTC_USDT") == ("out_of_sync", BookStatus.APPLIED, 0)
    assert not dst.in_sync
    snap = enc.snapshot(src, 0)
    assert bus_decode(snap).flags == 1
    assert bus_apply(dst, snap, "gateio", "BTC_USDT") == ("snapshot", BookStatus.APPLIED, 12)
    assert dst.in_sync
    # A skipped message is a gap; another book's message or a heartbeat is an error.
    src.apply([("99.6", "1")], [], 13, 13)
    enc.update(src, 0)
    src.apply([("99.7", "1")], [], 14, 14)
    later = enc.update(src, 0)
    assert later is not None
    assert bus_apply(dst, later, "gateio", "BTC_USDT") == ("delta", BookStatus.GAP, 14)
    assert not dst.in_sync
    # Older than what the book has seen: history, skipped even out of sync.
    assert bus_apply(dst, snap, "gateio", "BTC_USDT")[1] is BookStatus.STALE
    with pytest.raises(BusDecodeError, match="offered to the book of gateio:ETH_USDT"):
        bus_apply(dst, later, "gateio", "ETH_USDT")
    assert not dst.in_sync
    with pytest.raises(BusDecodeError) as info:
        bus_apply(dst, bus_heartbeat("gateio", "gw1", 3), "gateio", "BTC_USDT")
    assert info.value.field == "kind"
    with pytest.raises(BusDecodeError):
        bus_load_snapshot(dst, later, "gateio", "BTC_USDT")


def test_encoder_needs_the_journal_and_names_must_fit() -> None:
    with pytest.raises(ValueError, match="journal"):
        BusEncoder("gateio", "X").update(OrderBook("gate"), 0)
    with pytest.raises(ValueError):
        BusEncoder("gateio", "X" * 300)
    with pytest.raises(ValueError, match="subject token"):
        book_subject("gateio", "BTC.USDT")
    hb = bus_decode(bus_heartbeat("mexc", "gw-1", 7))
    assert (hb.kind, hb.exchange, hb.symbol, hb.sequence) == ("heartbeat", "mexc", "gw-1", 7)
    assert hb.publish_ns > 0
