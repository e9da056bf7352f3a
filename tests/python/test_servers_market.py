"""The deterministic market behind the local exchange servers (hftws.testing.market)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sim_helpers import DictBook, truth

from hftws.testing.market import Market, SymbolSpec

SPEC = SymbolSpec("BTCUSDT", Decimal("0.01"), Decimal("0.0001"), Decimal("117145.48"), depth=300)
FULL = 10_000  # any limit above the bounded depth returns the whole book


def run(market: Market, steps: int) -> list[Any]:
    return [market.step("BTCUSDT") for _ in range(steps)]


def test_same_seed_gives_the_same_stream_and_another_seed_does_not() -> None:
    a, b, c = (Market([SPEC], seed=s) for s in (3, 3, 4))
    stream_a, stream_b, stream_c = run(a, 300), run(b, 300), run(c, 300)
    strip = [(x.first_id, x.last_id, x.bids, x.asks) for x in stream_a]
    assert strip == [(x.first_id, x.last_id, x.bids, x.asks) for x in stream_b]
    assert strip != [(x.first_id, x.last_id, x.bids, x.asks) for x in stream_c]


def test_ids_are_contiguous_the_book_never_crosses_and_replay_gives_the_truth() -> None:
    market = Market([SPEC], seed=1)
    start = market.snapshot("BTCUSDT", FULL)
    book = DictBook()
    book.load(start.bids, start.asks)
    last = start.last_id
    for change in run(market, 3000):
        assert change.first_id == last + 1
        assert change.last_id >= change.first_id
        assert change.bid[0] < change.ask[0]
        assert [p for p, _ in change.bids] == sorted((p for p, _ in change.bids), reverse=True)
        assert [p for p, _ in change.asks] == sorted(p for p, _ in change.asks)
        book.apply(change.bids, change.asks)
        last = change.last_id
    assert book.top() == truth(market.snapshot("BTCUSDT", FULL))
    assert market.last_id("BTCUSDT") == last


def test_levels_are_exact_bounded_and_about_a_quarter_are_deletions() -> None:
    market = Market([SPEC], seed=2)
    zeros = total = bursts = 0
    for _ in range(4000):
        change = market.step("BTCUSDT")
        for price, size in change.bids + change.asks:
            assert price % SPEC.tick == 0 and size % SPEC.lot == 0 and size >= 0
            zeros += size == 0
            total += 1
        bursts += change.last_id - change.first_id + 1 >= 8
        snap = market.snapshot("BTCUSDT", FULL)
        assert SPEC.depth // 2 <= len(snap.bids) <= SPEC.depth + SPEC.depth // 4
        assert SPEC.depth // 2 <= len(snap.asks) <= SPEC.depth + SPEC.depth // 4
    assert 0.15 < zeros / total < 0.40
    assert bursts > 20  # bursts aggregate many ids into one change


def test_trades_have_contiguous_ids_positive_sizes_and_taker_sides() -> None:
    market = Market([SPEC], seed=5)
    trades = [t for change in run(market, 1000) for t in change.trades]
    assert len(trades) > 100
    assert [t.trade_id for t in trades] == list(range(trades[0].trade_id, trades[-1].trade_id + 1))
    assert all(t.size > 0 and t.side in ("buy", "sell") for t in trades)
    assert {t.side for t in trades} == {"buy", "sell"}


def test_a_buy_trade_consumes_the_best_ask() -> None:
    market = Market([SPEC], seed=6)
    for _ in range(500):
        before = market.bbo("BTCUSDT")
        change = market.step("BTCUSDT")
        if change.trades and change.last_id == change.first_id:
            (trade,) = change.trades
            level = before[1] if trade.side == "buy" else before[0]
            assert trade.price == level[0] and trade.size <= level[1]


def test_snapshot_limit_orders_best_first() -> None:
    market = Market([SPEC], seed=7)
    run(market, 50)
    snap = market.snapshot("BTCUSDT", 20)
    assert len(snap.bids) == len(snap.asks) == 20
    assert snap.bids[0][0] > snap.bids[-1][0] and snap.asks[0][0] < snap.asks[-1][0]
    assert (snap.bids[0], snap.asks[0]) == market.bbo("BTCUSDT")


def test_snapshot_at_rebuilds_past_books_exactly() -> None:
    market = Market([SPEC], seed=8, history=200)
    recorded = {}
    for _ in range(150):
        change = market.step("BTCUSDT")
        if change.first_id % 3 == 0:
            recorded[change.last_id] = market.snapshot("BTCUSDT", FULL)
    run(market, 40)
    for last_id, snap in recorded.items():
        past = market.snapshot_at("BTCUSDT", last_id, FULL)
        assert past.last_id == last_id
        assert truth(past) == truth(snap)
        assert past.update_ns == snap.update_ns
    # An id inside an aggregated change rounds down to the previous change boundary.
    change = market.step("BTCUSDT")
    for _ in range(2000):
        if change.last_id > change.first_id:
            break
        change = market.step("BTCUSDT")
    assert market.snapshot_at("BTCUSDT", change.last_id - 1, 5).last_id == change.first_id - 1


def test_snapshot_at_refuses_ids_outside_the_history() -> None:
    market = Market([SPEC], seed=9, history=10)
    first = market.last_id("BTCUSDT")
    run(market, 50)
    with pytest.raises(LookupError):
        market.snapshot_at("BTCUSDT", first, 5)
    oldest = market.oldest_id("BTCUSDT")
    assert first < oldest and market.snapshot_at("BTCUSDT", oldest, 5).last_id == oldest
    with pytest.raises(LookupError):
        market.snapshot_at("BTCUSDT", market.last_id("BTCUSDT") + 1, 5)


def test_skip_leaves_a_gap_of_at_least_the_requested_ids() -> None:
    market = Market([SPEC], seed=10)
    before = market.step("BTCUSDT").last_id
    skipped = market.skip("BTCUSDT", 25)
    after = market.step("BTCUSDT")
    assert skipped >= 25
    assert after.first_id == before + skipped + 1
