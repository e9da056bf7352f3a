"""``hftws.mexc.apply_depth``: MEXC depth pushes straight into the Rust book (mexc.md §6)."""

from __future__ import annotations

import decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hftws import BookStatus, OrderBook, mexc
from hftws.testing import mexc_wire

CHANNEL = "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"


def aggre(first: int, last: int, bids: Any = (), asks: Any = ()) -> bytes:

    def lv(levels: Any) -> list[dict[str, Any]]:
        return [{"price": p, "quantity": q} for p, q in levels]

    return mexc_wire.encode(
        {
            "channel": CHANNEL,
            "symbol": "BTCUSDT",
            "publicAggreDepths": {
                "bids": lv(bids),
                "asks": lv(asks),
                "fromVersion": str(first),
                "toVersion": str(last),
            },
        }
    )


def seeded(version: int = 100) -> OrderBook:
    book = OrderBook("mexc", symbol="BTCUSDT")
    book.load_snapshot([("99.5", "1"), ("99", "2")], [("100.5", "3"), ("101", "4")], version)
    return book


def test_applies_absolute_sizes_and_tracks_versions() -> None:
    book = seeded()
    st_ = mexc.apply_depth(
        aggre(95, 105, bids=[("99.5", "0"), ("99.7", "5")], asks=[("100.5", "0")]), book
    )
    assert st_ == BookStatus.APPLIED
    assert book.best_bid_decimal() == (decimal.Decimal("99.7"), decimal.Decimal("5"))
    assert book.best_ask() == (101.0, 4.0)
    assert book.sequence == 105
    assert mexc.apply_depth(aggre(106, 106), book) == BookStatus.APPLIED


def test_stale_gap_crossed_and_not_synced() -> None:
    book = seeded()
    assert mexc.apply_depth(aggre(90, 100, bids=[("1", "1")]), book) == BookStatus.STALE
    assert book.bid_count == 2
    assert mexc.apply_depth(aggre(101, 110), book) == BookStatus.APPLIED
    assert mexc.apply_depth(aggre(112, 120, bids=[("99.9", "1")]), book) == BookStatus.GAP
    assert not book.in_sync and book.best_bid() == (99.5, 1.0)
    assert mexc.apply_depth(aggre(111, 111), book) == BookStatus.NOT_SYNCED
    crossed = seeded()
    assert mexc.apply_depth(aggre(101, 101, bids=[("100.5", "1")]), crossed) == BookStatus.CROSSED
    assert not crossed.in_sync
    empty = OrderBook("mexc")
    assert mexc.apply_depth(aggre(1, 2), empty) == BookStatus.NOT_SYNCED


def test_reference_vector_applies_after_a_snapshot() -> None:
    from test_mexc_decode import VECTOR_273

    book = OrderBook("mexc")
    book.load_snapshot(
        [("117145.48", "0.1"), ("117144.90", "3")], [("117145.49", "0.2")], 43296363240
    )
    status, event = mexc.apply_depth(VECTOR_273, book, event=True)
    assert status == BookStatus.APPLIED and isinstance(event, mexc.MexcDepthUpdate)
    assert event.to_version == book.sequence == 43296363255
    assert book.depth() == (
        [("117145.48", "0.512"), ("117143.11", "2.001")],
        [("117145.5", "0.012345"), ("117146.02", "1.2")],
    )


def test_limit_depth_is_a_snapshot() -> None:
    def limit(version: int, bids: Any) -> bytes:
        return mexc_wire.encode(
            {
                "channel": "spot@public.limit.depth.v3.api.pb@BTCUSDT@5",
                "publicLimitDepths": {
                    "bids": [{"price": p, "quantity": q} for p, q in bids],
                    "asks": [{"price": "200", "quantity": "1"}],
                    "version": str(version),
                },
            }
        )

    book = OrderBook("mexc")
    assert mexc.apply_depth(limit(50, [("1", "2"), ("0.5", "1")]), book) == BookStatus.APPLIED
    assert book.in_sync and book.sequence == 50 and book.bid_count == 2
    assert mexc.apply_depth(limit(49, [("9", "9")]), book) == BookStatus.STALE
    assert book.best_bid() == (1.0, 2.0)
    assert mexc.apply_depth(limit(51, [("3", "1")]), book) == BookStatus.APPLIED
    assert book.depth()[0] == [("3", "1")]
    # Deltas continue from the snapshot's version.
    assert mexc.apply_depth(aggre(52, 53, bids=[("2", "1")]), book) == BookStatus.APPLIED


def test_increase_depth_and_batches() -> None:
    def inc(v: int, price: str) -> dict[str, object]:
        return {"bids": [{"price": price, "quantity": "1"}], "version": str(v)}

    book = seeded()
    single = mexc_wire.encode({"channel": "c", "publicIncreaseDepths": inc(101, "10")})
    assert mexc.apply_depth(single, book) == BookStatus.APPLIED
    batch = mexc_wire.encode(
        {"channel": "c", "publicIncreaseDepthsBatch": {"items": [inc(102, "11"), inc(104, "12")]}}
    )
    assert mexc.apply_depth(batch, book) == BookStatus.GAP
    assert book.size_at("bid", "11") == decimal.Decimal("1")
    assert book.size_at("bid", "12") == 0


def test_apply_depth_many_stops_at_the_first_gap() -> None:
    book = seeded()
    frames = [aggre(101, 102, bids=[("10", "1")]), aggre(104, 105), aggre(106, 107)]
    assert mexc.apply_depth_many(frames, book) == BookStatus.GAP
    assert book.counts["applied"] == 1 and book.counts["gaps"] == 1 and book.counts["refused"] == 0
    assert mexc.apply_depth_many([], seeded()) == BookStatus.STALE


def test_errors_name_the_field_and_leave_the_book_out_of_sync() -> None:
    book = seeded()
    with pytest.raises(mexc.MexcDecodeError, match=r"^publicAggreDepths\.bids\.quantity: "):
        mexc.apply_depth(aggre(101, 102, bids=[("10", "1"), ("11", "x")]), book)
    assert not book.in_sync
    book = seeded()
    with pytest.raises(mexc.MexcDecodeError, match=r"^publicAggreDepths\.fromVersion: missing$"):
        mexc.apply_depth(
            mexc_wire.encode({"channel": "c", "publicAggreDepths": {"toVersion": "5"}}), book
        )
    # Even refused before any level was written, a broken push for this book means the
    # stream lost an update: the book must not go on as if nothing happened.
    assert book.state == "out_of_sync"
    book = seeded()
    # A push of another kind is not depth: None, and the book goes on (every push of a stream
    # can be offered without routing it first).
    before = (book.depth(), book.sequence, book.state)
    deals = mexc_wire.encode({"channel": "c", "publicAggreDeals": {}})
    assert mexc.apply_depth(deals, book) is None
    status, event = mexc.apply_depth(deals, book, event=True)
    assert status is None and isinstance(event, mexc.MexcTrades)
    assert (book.depth(), book.sequence, book.state) == before
    assert mexc.apply_depth_many([deals, aggre(101, 101)], book) == BookStatus.APPLIED
    assert book.sequence == 101
    with pytest.raises(mexc.MexcDecodeError, match=r"^publicAggreDepths\.asks: wrong wire type 0"):
        mexc.apply_depth(b"\xca\x13\x02\x08\x05", book)  # asks sent as a varint
    book = seeded()
    with pytest.raises(mexc.MexcDecodeError, match=r"^publicAggreDepths\.asks\.price: missing$"):
        mexc.apply_depth(aggre(101, 101, asks=[("", "1")]), book)


@st.composite
def depth_stream(draw: st.DrawFn) -> list[tuple[int, int, list[Any], list[Any]]]:
    pushes, version = [], 100
    for _ in range(draw(st.integers(1, 30))):
        levels = st.lists(
            st.tuples(st.integers(1, 40).map(str), st.sampled_from(["0", "1", "2.5", "0.001"])),
            max_size=8,
        )
        bids = [(str(int(p)), q) for p, q in draw(levels)]  # prices 1..40
        asks = [(str(int(p) + 100), q) for p, q in draw(levels)]  # prices 101..140
        last = version + draw(st.integers(1, 3))
        pushes.append((version + 1, last, bids, asks))
        version = last
    return pushes


@given(depth_stream())
def test_book_matches_a_dict_model(stream: list[tuple[int, int, list[Any], list[Any]]]) -> None:
    book = OrderBook("mexc")
    book.load_snapshot([], [], 100)
    model: dict[str, dict[decimal.Decimal, decimal.Decimal]] = {"bid": {}, "ask": {}}
    for first, last, bids, asks in stream:
        assert mexc.apply_depth(aggre(first, last, bids, asks), book) == BookStatus.APPLIED
        for side, levels in (("bid", bids), ("ask", asks)):
            for p, q in levels:
                if decimal.Decimal(q) == 0:
                    model[side].pop(decimal.Decimal(p), None)
                else:
                    model[side][decimal.Decimal(p)] = decimal.Decimal(q)
    want_bids = sorted(model["bid"].items(), reverse=True)
    want_asks = sorted(model["ask"].items())
    got_bids, got_asks = book.top_decimal(1000)
    assert got_bids == want_bids and got_asks == want_asks
