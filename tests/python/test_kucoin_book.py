"""KuCoin sequence rules through ``kucoin.apply_depth`` (kucoin.md §4 spot, §7.2 futures):
calibration against a snapshot, per-entry sequences, price "0" entries, strict continuity,
stream snapshots, held pushes replayed by ``load_snapshot``; and random streams replayed
after a snapshot, checked against a dict model level by level."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any, Literal

import kucoin_frames as F
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hftws
from hftws import kucoin

S = hftws.BookStatus
Entry = tuple[str, str, int]


def spot(
    start: int,
    end: int,
    asks: list[Entry] | None = None,
    bids: list[Entry] | None = None,
    sym: str = "ETH-USDT",
) -> str:
    def side(es: list[Entry] | None) -> list[list[str]]:
        return [[p, s, str(q)] for p, s, q in es or []]

    return json.dumps(
        {
            "topic": f"/market/level2:{sym}",
            "type": "message",
            "subject": "trade.l2update",
            "data": {
                "changes": {"asks": side(asks), "bids": side(bids)},
                "sequenceStart": start,
                "sequenceEnd": end,
                "symbol": sym,
                "time": 1,
            },
        }
    )


def fut(seq: int, change: str, sym: str = "XBTUSDM") -> str:
    return json.dumps(
        {
            "topic": f"/contractMarket/level2:{sym}",
            "type": "message",
            "subject": "level2",
            "sn": seq,
            "data": {"sequence": seq, "change": change, "timestamp": 1},
        }
    )


def seeded(rule: Literal["kucoin", "kucoin_futures"], sym: str, last_id: int) -> hftws.OrderBook:
    book = hftws.OrderBook(rule, symbol=sym)
    book.load_snapshot(
        [("3988.50", "1"), ("3988.40", "3")],
        [("3988.59", "1"), ("3988.61", "5"), ("3988.62", "7")],
        last_id,
    )
    return book


def test_rule_names() -> None:
    assert hftws.OrderBook("kucoin").rule == "kucoin"
    assert hftws.OrderBook("kucoin_futures").rule == "kucoin_futures"
    with pytest.raises(ValueError, match="kucoin_futures"):
        hftws.OrderBook("kucoin_spot")  # type: ignore[arg-type]  # deliberately not a rule name
    with pytest.raises(ValueError, match="KuCoin book"):
        kucoin.apply_depth(F.SPOT_L2, hftws.OrderBook("binance"))


def test_spot_worked_example() -> None:
    # kucoin.md §4.1: snapshot 16; entries not newer than 16 are ignored, price 0 too.
    book = seeded("kucoin", "ETH-USDT", 16)
    push = spot(
        15,
        19,
        asks=[("3988.59", "3", 16), ("3988.61", "0", 19), ("3988.62", "8", 15)],
        bids=[("3988.50", "44", 18), ("0", "0", 17)],
    )
    assert kucoin.apply_depth(push, book) == S.APPLIED
    assert book.sequence == 19 and book.in_sync
    assert book.depth() == (
        [("3988.5", "44"), ("3988.4", "3")],
        [("3988.59", "1"), ("3988.62", "7")],
    )
    # After calibration: strict `sequenceStart == L + 1`.
    assert kucoin.apply_depth(spot(10, 19), book) == S.STALE
    assert kucoin.apply_depth(spot(19, 22), book) == S.GAP
    assert not book.in_sync


def test_spot_first_push_must_straddle() -> None:
    assert kucoin.apply_depth(spot(18, 20), seeded("kucoin", "ETH-USDT", 16)) == S.GAP
    assert kucoin.apply_depth(spot(17, 20), seeded("kucoin", "ETH-USDT", 16)) == S.APPLIED
    assert kucoin.apply_depth(spot(5, 16), seeded("kucoin", "ETH-USDT", 16)) == S.STALE


def test_futures_worked_example() -> None:
    # kucoin.md §7.2: snapshot 16, pushes 17 and 18; the book ends at 18.
    book = seeded("kucoin_futures", "XBTUSDM", 16)
    assert kucoin.apply_depth(fut(16, "1,buy,1"), book) == S.STALE
    assert kucoin.apply_depth(fut(17, "3988.50,buy,44"), book) == S.APPLIED
    assert kucoin.apply_depth(fut(18, "3988.61,sell,0"), book) == S.APPLIED
    assert book.sequence == 18 and book.in_sync
    assert book.size_at("bid", "3988.50") == 44 and book.size_at("ask", "3988.61") == 0
    assert kucoin.apply_depth(fut(20, "1,buy,1"), book) == S.GAP


def test_symbols_and_markets_are_checked_before_the_book_changes() -> None:
    book = seeded("kucoin", "ETH-USDT", 16)
    with pytest.raises(ValueError, match="ETH-USDT"):
        kucoin.apply_depth(spot(17, 17, bids=[("1", "1", 17)], sym="BTC-USDT"), book)
    with pytest.raises(kucoin.KucoinDecodeError):
        kucoin.apply_depth(fut(17, "1,buy,1", "ETH-USDT"), book)
    assert kucoin.apply_depth(F.MATCH, book) is None
    assert kucoin.apply_depth(F.WELCOME, book) is None
    assert book.sequence == 16 and book.bid_count == 2


def test_stream_snapshots_are_their_own_confirmation() -> None:
    book = hftws.OrderBook("kucoin", symbol="BTC-USDT")
    assert kucoin.apply_depth(F.DEPTH5, book) == S.APPLIED
    assert book.in_sync and book.bid_count == 5
    assert book.best_ask_decimal() == (Decimal("67996.7"), Decimal("1.14213262"))
    fb = hftws.OrderBook("kucoin_futures", symbol="XBTUSDTM")
    assert kucoin.apply_depth(F.FUT_DEPTH5, fb) == S.APPLIED
    assert fb.sequence == 1709294294670
    nxt = fut(1709294294671, "89721,sell,0", "XBTUSDTM")
    assert kucoin.apply_depth(nxt, fb) == S.APPLIED
    assert fb.best_ask_decimal() == (Decimal("89721.1"), Decimal("203"))


def random_spot_stream(
    rng: random.Random, n: int
) -> tuple[int, list[tuple[int, int, list[Entry], list[Entry]]]]:
    seq = rng.randint(100, 10_000)
    pushes = []
    for _ in range(n):
        start = seq + 1
        k = rng.randint(1, 5)
        asks: list[Entry] = []
        bids: list[Entry] = []
        for j in range(k):
            bid = rng.random() < 0.5
            price = rng.randint(1, 40) if bid else rng.randint(60, 100)
            p = "0" if rng.random() < 0.05 else f"{price}.{rng.randint(0, 9)}"
            s = "0" if rng.random() < 0.3 else f"{rng.randint(1, 50)}.{rng.randint(0, 99):02d}"
            (bids if bid else asks).append((p, s, start + j))
        seq = start + k - 1
        pushes.append((start, seq, asks, bids))
    return pushes[0][0] - 1, pushes


def model_apply(side: dict[Decimal, Decimal], entries: list[Entry], after: int) -> None:
    for p, s, q in entries:
        if Decimal(p) == 0 or q <= after:
            continue
        if Decimal(s) == 0:
            side.pop(Decimal(p), None)
        else:
            side[Decimal(p)] = Decimal(s)


def check_book(
    book: hftws.OrderBook, bids: dict[Decimal, Decimal], asks: dict[Decimal, Decimal]
) -> None:
    got_b, got_a = book.depth()
    assert [(Decimal(p), Decimal(s)) for p, s in got_b] == sorted(bids.items(), reverse=True)
    assert [(Decimal(p), Decimal(s)) for p, s in got_a] == sorted(asks.items())


@given(seed=st.integers(0, 2**32 - 1))
def test_spot_stream_replayed_after_a_snapshot_matches_a_model(seed: int) -> None:
    rng = random.Random(seed)
    first, pushes = random_spot_stream(rng, 60)
    # The snapshot lands somewhere inside the first pushes: the first applied push straddles.
    cut = rng.randint(0, 5)
    snap = pushes[cut][0] - 1 + rng.randint(0, pushes[cut][1] - pushes[cut][0])
    bids: dict[Decimal, Decimal] = {Decimal("1"): Decimal("1")}
    asks: dict[Decimal, Decimal] = {Decimal("99"): Decimal("1")}
    book = hftws.OrderBook("kucoin", symbol="A-B")
    book.load_snapshot(
        [(str(p), str(s)) for p, s in bids.items()],
        [(str(p), str(s)) for p, s in asks.items()],
        snap,
    )
    last = snap
    for start, end, a, b in pushes:
        st_ = kucoin.apply_depth(spot(start, end, a, b, sym="A-B"), book)
        if end <= last:
            assert st_ == S.STALE
            continue
        assert st_ == S.APPLIED
        model_apply(asks, a, last)
        model_apply(bids, b, last)
        last = end
        check_book(book, bids, asks)
    assert book.in_sync and book.sequence == pushes[-1][1]
    assert first < snap + 1


@given(seed=st.integers(0, 2**32 - 1), drop=st.integers(1, 30))
def test_futures_stream_with_a_dropped_push_is_a_gap(seed: int, drop: int) -> None:
    rng = random.Random(seed)
    book = hftws.OrderBook("kucoin_futures", symbol="XBTUSDM")
    book.load_snapshot([("1", "1")], [("2000", "1")], 500)
    bids: dict[Decimal, Decimal] = {Decimal(1): Decimal(1)}
    asks: dict[Decimal, Decimal] = {Decimal(2000): Decimal(1)}
    for seq in range(501, 532):
        bid = rng.random() < 0.5
        price = Decimal(rng.randint(2, 900) if bid else rng.randint(1100, 1999))
        size = Decimal(rng.choice([0, 0, 1, 5, 100]))
        side = bids if bid else asks
        frame = fut(seq, f"{price},{'buy' if bid else 'sell'},{size}")
        if seq == 500 + drop:
            continue
        st_ = kucoin.apply_depth(frame, book)
        if seq > 500 + drop:
            assert st_ in (S.GAP, S.NOT_SYNCED)
            assert not book.in_sync
            continue
        assert st_ == S.APPLIED
        if size == 0:
            side.pop(price, None)
        else:
            side[price] = size
        check_book(book, bids, asks)


def test_a_dict_frame_is_refused_with_type_error() -> None:
    frame: Any = {"type": "welcome"}
    with pytest.raises(TypeError):
        kucoin.apply_depth(frame, hftws.OrderBook("kucoin"))


def test_held_pushes_are_replayed_by_a_rest_snapshot() -> None:
    # kucoin.md §4.1: cache pushes, fetch the snapshot, replay: the first straddling push
    # confirms the snapshot, older ones are stale, entries up to the snapshot are skipped.
    book = hftws.OrderBook("kucoin", symbol="ETH-USDT", hold=100)
    assert kucoin.apply_depth(spot(10, 14, bids=[("5", "1", 14)]), book) == S.NOT_SYNCED
    assert kucoin.apply_depth(spot(15, 19, bids=[("5", "2", 16), ("6", "3", 18)]), book) == (
        S.NOT_SYNCED
    )
    assert kucoin.apply_depth(spot(20, 20, asks=[("9", "4", 20)]), book) == S.NOT_SYNCED
    assert book.held == 3
    assert book.load_snapshot([("5", "7")], [("9", "1")], 16) == S.APPLIED
    assert book.in_sync and book.sequence == 20 and book.held == 0
    assert book.depth() == ([("6", "3"), ("5", "7")], [("9", "4")])
    # A snapshot older than the held pushes cannot be aligned: GAP.
    late = hftws.OrderBook("kucoin", symbol="ETH-USDT", hold=100)
    kucoin.apply_depth(spot(30, 31), late)
    assert late.load_snapshot([], [], 20) == S.GAP


def model_verdict(futures: bool, last: int, pending: bool, first: int, end: int) -> S:
    """kucoin.md §4.1-4.2 (spot) and §7.2 (futures), restated independently."""
    if first > end:
        return S.GAP
    if end <= last:
        return S.STALE
    if futures:
        return S.APPLIED if first == last + 1 else S.GAP
    if pending:
        return S.APPLIED if first <= last + 1 else S.GAP
    return S.APPLIED if first == last + 1 else S.GAP


@given(
    futures=st.booleans(),
    pending=st.booleans(),
    last=st.integers(10, 2**40),
    first_off=st.integers(-5, 5),
    length=st.integers(-1, 6),
)
def test_sequence_rules_agree_with_a_model(
    futures: bool, pending: bool, last: int, first_off: int, length: int
) -> None:
    book = hftws.OrderBook("kucoin_futures" if futures else "kucoin")
    snap = last - 1 if not pending else last
    book.load_snapshot([("1", "1")], [("2", "1")], snap)
    if not pending:
        # One bridging push confirms the snapshot: later pushes are judged strictly.
        assert book.apply([], [], last, last) == S.APPLIED
    first = last + 1 + first_off
    end = first + length if not futures else first
    assert book.check(first, end) == model_verdict(futures, last, pending, first, end)
