"""Binance sequence rules through ``binance.apply_depth`` (binance.md §4.1-4.2 spot, §8.3
futures): stale, gap, first push, ``pu`` chaining, partial depth, symbols; and random streams
replayed after a snapshot, checked against a dict model level by level."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hftws
from hftws import binance

S = hftws.BookStatus
Levels = Sequence[Sequence[str]]
# first, last, prev (pu), bids, asks
Push = tuple[int, int, int, list[list[str]], list[list[str]]]


def spot(first: int, last: int, bids: Levels = (), asks: Levels = (), sym: str = "BNBBTC") -> str:
    return json.dumps(
        {"e": "depthUpdate", "E": 1, "s": sym, "U": first, "u": last, "b": bids, "a": asks}
    )


def fut(
    first: int,
    last: int,
    prev: int,
    bids: Levels = (),
    asks: Levels = (),
    sym: str = "BTCUSDT",
) -> str:
    return json.dumps(
        {
            "e": "depthUpdate",
            "E": 1,
            "T": 1,
            "s": sym,
            "U": first,
            "u": last,
            "pu": prev,
            "b": bids,
            "a": asks,
        }
    )


def seeded(
    rule: Literal["binance", "binance_futures"] = "binance",
    last_id: int = 156,
    symbol: str = "BNBBTC",
) -> hftws.OrderBook:
    book = hftws.OrderBook(rule, symbol=symbol)
    book.load_snapshot([("0.0024", "1")], [("0.0026", "1")], last_id)
    return book


def test_rule_names() -> None:
    assert hftws.OrderBook("binance").rule == "binance"
    assert hftws.OrderBook("binance_futures").rule == "binance_futures"
    with pytest.raises(ValueError, match="binance_futures"):
        hftws.OrderBook("binanceus")  # type: ignore[arg-type]  # deliberately not a rule name


def test_spot_first_push_and_continuity() -> None:
    book = seeded()
    assert binance.apply_depth(spot(150, 156, [["0.0024", "9"]]), book) == S.STALE
    assert book.size_at("bid", "0.0024") == 1
    assert binance.apply_depth(spot(157, 160, [["0.0024", "10"]]), book) == S.APPLIED
    assert book.sequence == 160 and book.size_at("bid", "0.0024") == 10
    assert binance.apply_depth(spot(161, 165, [], [["0.0026", "0"]]), book) == S.APPLIED
    assert book.best_ask() is None
    # Documented rule (§4.1 step 6): an overlapping push applies; sizes are absolute.
    assert binance.apply_depth(spot(163, 166, [["0.0023", "5"]]), book) == S.APPLIED
    assert binance.apply_depth(spot(168, 170), book) == S.GAP
    assert not book.in_sync
    assert binance.apply_depth(spot(167, 167), book) == S.NOT_SYNCED


def test_spot_first_push_straddles_snapshot_plus_one() -> None:
    book = seeded(last_id=156)
    assert binance.apply_depth(spot(150, 157), book) == S.APPLIED
    book = seeded(last_id=156)
    assert binance.apply_depth(spot(158, 160), book) == S.GAP


def test_futures_first_push_contains_the_snapshot_then_pu_chains() -> None:
    book = seeded("binance_futures", 160, "BTCUSDT")
    assert binance.apply_depth(fut(140, 149, 130), book) == S.STALE
    # binance.md §8.3: U <= lastUpdateId <= u, so u == lastUpdateId applies.
    assert binance.apply_depth(fut(157, 160, 149, [["0.0024", "7"]]), book) == S.APPLIED
    assert binance.apply_depth(fut(170, 180, 160, [["0.0024", "8"]]), book) == S.APPLIED
    assert book.sequence == 180 and book.size_at("bid", "0.0024") == 8
    assert binance.apply_depth(fut(170, 180, 160), book) == S.STALE
    assert binance.apply_depth(fut(190, 200, 185), book) == S.GAP
    book = seeded("binance_futures", 160, "BTCUSDT")
    assert binance.apply_depth(fut(161, 170, 160), book) == S.GAP, "no +1 on futures"


def test_futures_book_needs_pu() -> None:
    book = seeded("binance_futures", 160, "BNBBTC")
    with pytest.raises(binance.BinanceDecodeError) as info:
        binance.apply_depth(spot(157, 160), book)
    assert info.value.field == "pu"


def test_symbols_are_checked_before_the_book_changes() -> None:
    book = seeded()
    with pytest.raises(ValueError, match="BNBBTC"):
        binance.apply_depth(spot(157, 160, [["1", "1"]], sym="ETHBTC"), book)
    with pytest.raises(ValueError):
        binance.apply_depth(
            json.dumps({"stream": "ethbtc@depth", "data": json.loads(spot(157, 160))}), book
        )
    assert book.sequence == 156 and book.bid_count == 1
    frame = json.dumps({"stream": "bnbbtc@depth@100ms", "data": json.loads(spot(157, 160))})
    assert binance.apply_depth(frame, book) == S.APPLIED
    # A book without a symbol takes any symbol.
    anyb = hftws.OrderBook("binance")
    anyb.load_snapshot([], [], 1)
    assert binance.apply_depth(spot(2, 2, sym="XYZ"), anyb) == S.APPLIED


def test_partial_depth_and_rest_bodies_load_the_book() -> None:
    book = hftws.OrderBook("binance", symbol="BNBBTC")
    body = '{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}'
    # A bare body may be a REST snapshot: loaded but unconfirmed (STALE) until a push bridges it.
    assert binance.apply_depth(body, book) == S.STALE and not book.in_sync
    assert (book.sequence, book.bbo()) == (160, (0.0024, 10.0, 0.0026, 100.0))
    assert binance.apply_depth(spot(161, 161, [["0.0025", "1"]]), book) == S.APPLIED
    assert book.in_sync
    combined = json.dumps({"stream": "bnbbtc@depth5", "data": json.loads(body)})
    assert binance.apply_depth(combined, book) == S.APPLIED
    assert book.sequence == 160 and book.bid_count == 1
    assert book.in_sync, "partial depth named by its stream is the stream's own book"


def test_non_depth_frames_leave_the_book_alone() -> None:
    book = seeded()
    for frame in [
        '{"result":null,"id":1}',
        '{"e":"trade","E":1,"s":"BNBBTC","t":1,"p":"1","q":"1","T":1,"m":true,"M":true}',
        '{"u":1,"s":"BNBBTC","b":"1","B":"1","a":"2","A":"1"}',
        '{"stream":"bnbbtc@trade","data":{"e":"trade"}}',
        '[{"e":"24hrMiniTicker"}]',
    ]:
        assert binance.apply_depth(frame, book) is None
    assert book.sequence == 156


def test_crossed_push_unsyncs() -> None:
    book = seeded()
    assert binance.apply_depth(spot(157, 157, [["0.0027", "1"]]), book) == S.CROSSED
    assert not book.in_sync


# --- random streams against a dict model -------------------------------------------------


def random_stream(
    rng: random.Random, n: int, futures: bool
) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal], int, list[Push]]:
    """A snapshot and ``n`` pushes of absolute sizes on a tick grid, bids below 1000 ticks and
    asks above, with the ids each exchange uses (spot consecutive, futures with holes)."""
    bids = {Decimal(1000 - i) / 100: Decimal(rng.randint(1, 9)) for i in range(1, 20)}
    asks = {Decimal(1000 + i) / 100: Decimal(rng.randint(1, 9)) for i in range(1, 20)}
    snap_id = 5000
    pushes: list[Push] = []
    last = snap_id
    for _ in range(n):
        b: list[list[str]] = []
        a: list[list[str]] = []
        for _ in range(rng.randint(0, 6)):
            side, lo = (b, 1000 - 40) if rng.random() < 0.5 else (a, 1000 + 1)
            tick = rng.randint(lo, lo + 39) if side is a else rng.randint(lo, 999)
            size = "0" if rng.random() < 0.3 else f"{rng.randint(1, 99999) / 1000:.3f}"
            side.append([str(Decimal(tick) / 100), size])
        if not pushes:
            # The first push straddles the snapshot: spot needs U <= S+1 <= u, futures
            # U <= S <= u (§4.1, §8.3).
            first = snap_id - rng.randint(0, 3)
            new_last = snap_id + rng.randint(0 if futures else 1, 4)
        else:
            first = last + 1 + (rng.randint(0, 3) if futures else 0)
            new_last = first + rng.randint(0, 4)
        pushes.append((first, new_last, last, b, a))
        last = new_last
    return bids, asks, snap_id, pushes


def apply_model(
    model_b: dict[Decimal, Decimal],
    model_a: dict[Decimal, Decimal],
    b: list[list[str]],
    a: list[list[str]],
) -> None:
    for side, levels in ((model_b, b), (model_a, a)):
        for p, s in levels:
            if Decimal(s) == 0:
                side.pop(Decimal(p), None)
            else:
                side[Decimal(p)] = Decimal(s)


def check_book(
    book: hftws.OrderBook, model_b: dict[Decimal, Decimal], model_a: dict[Decimal, Decimal]
) -> None:
    bids, asks = book.depth()
    assert [(Decimal(p), Decimal(s)) for p, s in bids] == sorted(model_b.items(), reverse=True)
    assert [(Decimal(p), Decimal(s)) for p, s in asks] == sorted(model_a.items())


@pytest.mark.parametrize("futures", [False, True])
@given(seed=st.integers(0, 2**32 - 1))
def test_replayed_stream_keeps_the_book_equal_to_a_dict_model(futures: bool, seed: int) -> None:
    rng = random.Random(seed)
    bids, asks, snap_id, pushes = random_stream(rng, 120, futures)
    # Crossing levels are possible in a random walk; keep the model uncrossed by construction:
    # bid ticks stay below 10.00 and ask ticks above it.
    book = hftws.OrderBook("binance_futures" if futures else "binance", symbol="BTCUSDT")
    book.load_snapshot(
        [(str(p), str(s)) for p, s in bids.items()],
        [(str(p), str(s)) for p, s in asks.items()],
        snap_id,
    )
    model_b, model_a = dict(bids), dict(asks)
    # Pushes buffered before the snapshot are replayed too: stale ones are skipped.
    stale: list[Push] = [(snap_id - 9, snap_id - 5, snap_id - 12, [["9.99", "123"]], [])]
    for first, last, prev, b, a in stale + pushes:
        data = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": first, "u": last}
        if futures:
            data["pu"] = prev
        data.update(b=b, a=a)
        frame = json.dumps(data)
        if rng.random() < 0.5:
            frame = json.dumps({"stream": "btcusdt@depth@100ms", "data": data})
        st_ = binance.apply_depth(frame, book)
        if last < snap_id or (last == snap_id and not futures):
            assert st_ == S.STALE
            continue
        assert st_ == S.APPLIED, (first, last, prev)
        apply_model(model_b, model_a, b, a)
        assert book.sequence == last
        best_b = max(model_b) if model_b else None
        assert (book.best_bid_decimal() or (None,))[0] == best_b
    check_book(book, model_b, model_a)


@given(seed=st.integers(0, 2**32 - 1), drop=st.integers(0, 119))
def test_a_dropped_push_is_always_a_gap(seed: int, drop: int) -> None:
    for futures in (False, True):
        rng = random.Random(seed)
        _, _, snap_id, pushes = random_stream(rng, 120, futures)
        book = hftws.OrderBook("binance_futures" if futures else "binance")
        book.load_snapshot([("1", "1")], [("2000", "1")], snap_id)
        for i, (first, last, prev, b, a) in enumerate(pushes):
            if i == drop:
                continue
            data = {"e": "depthUpdate", "E": 1, "s": "X", "U": first, "u": last, "pu": prev}
            got = binance.apply_depth(json.dumps({**data, "b": b, "a": a}), book)
            if i < drop:
                assert got == S.APPLIED
            elif i == drop + 1:
                assert got == S.GAP
                break
        if drop == len(pushes) - 1:
            assert book.in_sync
        else:
            assert not book.in_sync


def test_futures_book_through_plain_apply_uses_pu_plus_one() -> None:
    # The documented way to drive a futures book without frames (_core.pyi OrderBook).
    book = hftws.OrderBook("binance_futures")
    book.load_snapshot([("1", "1")], [("3", "1")], 160)
    assert book.apply([("1", "2")], [], 157, 160) == S.APPLIED  # first: (U, u)
    assert book.apply([("1", "3")], [], 160 + 1, 180) == S.APPLIED  # then (pu + 1, u)
    assert book.apply([], [], 185 + 1, 190) == S.GAP
    assert book.size_at("bid", "1") == 3
