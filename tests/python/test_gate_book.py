"""Gate's U/u id rules through ``gateio.apply_depth`` (gateio.md §4.2, §4.3, §6.3): stale, gap,
straddle, full snapshots, crossed books, futures integer sizes, obu, batches, and a random
stream checked against a dict model."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

import pytest

import hftws
from hftws import gateio

S = hftws.BookStatus


def upd(
    first: int | None,
    last: int,
    bids: Any = (),
    asks: Any = (),
    *,
    channel: Any = "spot.order_book_update",
    **extra: Any,
) -> str:
    result: dict[str, object] = {
        "t": 1,
        "s": "BTC_USDT",
        "u": last,
        "b": list(bids),
        "a": list(asks),
    }
    if first is not None:
        result["U"] = first
    result.update(extra)
    return json.dumps(
        {"time": 1, "time_ms": 2, "channel": channel, "event": "update", "result": result}
    )


def seeded(
    last_id: int = 100, symbol: str = "BTC_USDT", max_depth: int | None = None
) -> hftws.OrderBook:
    book = hftws.OrderBook("gate", max_depth=max_depth, symbol=symbol)
    book.load_snapshot([("99.5", "1"), ("99", "2")], [("100.5", "3"), ("101", "4")], last_id)
    return book


def test_first_push_must_straddle_the_snapshot() -> None:
    book = seeded(100)
    assert gateio.apply_depth(upd(90, 100, [["99.5", "9"]]), book) == S.STALE
    assert book.size_at("bid", "99.5") == 1
    assert gateio.apply_depth(upd(95, 105, [["99.5", "9"]]), book) == S.APPLIED
    assert book.sequence == 105
    assert book.size_at("bid", "99.5") == 9


def test_continuity_and_straddle_mid_stream() -> None:
    book = seeded(100)
    assert gateio.apply_depth(upd(101, 110), book) == S.APPLIED
    # Gate accepts a push that overlaps what the book holds (absolute sizes).
    assert gateio.apply_depth(upd(105, 120, [["99.7", "1"]]), book) == S.APPLIED
    assert book.sequence == 120
    assert book.best_bid() == (99.7, 1.0)


def test_empty_push_still_advances_the_id() -> None:
    book = seeded(100)
    assert gateio.apply_depth(upd(101, 101), book) == S.APPLIED
    assert book.sequence == 101
    assert gateio.apply_depth(upd(102, 103), book) == S.APPLIED


def test_gap_stops_the_book_until_a_full_push() -> None:
    book = seeded(100)
    assert gateio.apply_depth(upd(102, 110, [["99.9", "1"]]), book) == S.GAP
    assert not book.in_sync
    assert book.best_bid() == (99.5, 1.0), "a gap must not touch levels"
    assert gateio.apply_depth(upd(111, 112), book) == S.NOT_SYNCED
    full = upd(None, 500, [["50", "1"]], [["51", "2"]], full=True)
    assert gateio.apply_depth(full, book) == S.APPLIED
    assert book.in_sync and book.sequence == 500
    assert book.bbo() == (50.0, 1.0, 51.0, 2.0)
    assert gateio.apply_depth(upd(501, 501, [["50.5", "1"]]), book) == S.APPLIED


def test_full_push_with_u_range_replaces_the_book() -> None:
    book = seeded(100)
    frame = upd(9, 12, [["10", "1"], ["9", "0"]], [["11", "2"]], full=True)
    assert gateio.apply_depth(frame, book) == S.APPLIED
    assert book.sequence == 12
    assert (book.bid_count, book.ask_count) == (1, 1)


def test_full_key_after_the_levels_is_still_a_snapshot() -> None:
    book = seeded(100)
    frame = (
        '{"channel":"spot.order_book_update","event":"update","result":{"s":"BTC_USDT","U":5,"u":7,'
        '"b":[["10","1"]],"a":[["11","2"]],"full":true}}'
    )
    assert gateio.apply_depth(frame, book) == S.APPLIED
    assert book.sequence == 7
    assert book.bbo() == (10.0, 1.0, 11.0, 2.0)


def test_crossed_book_is_reported_and_unsyncs() -> None:
    book = seeded(100)
    assert gateio.apply_depth(upd(101, 101, [["100.5", "1"]]), book) == S.CROSSED
    assert not book.in_sync
    assert gateio.apply_depth(upd(102, 102), book) == S.NOT_SYNCED


def test_futures_levels_with_integer_and_string_sizes() -> None:
    book = hftws.OrderBook("gate", symbol="BTC_USDT")
    book.load_snapshot([("63240.1", "1500")], [("63240.4", "37")], 50)
    frame = json.dumps(
        {
            "time": 1,
            "channel": "futures.order_book_update",
            "event": "update",
            "result": {
                "t": 1,
                "s": "BTC_USDT",
                "U": 51,
                "u": 60,
                "b": [{"p": "63240.3", "s": 12}, {"p": "63240.1", "s": "0"}],
                "a": [{"s": 40, "p": "63240.4"}],
                "l": "100",
            },
        }
    )
    assert gateio.apply_depth(frame, book) == S.APPLIED
    assert book.best_bid_decimal() == (Decimal("63240.3"), Decimal(12))
    assert book.size_at("bid", "63240.1") == 0
    assert book.best_ask_decimal() == (Decimal("63240.4"), Decimal(40))


def test_futures_negative_or_fractional_junk_sizes_are_errors() -> None:
    book = seeded(100)
    bad = upd(101, 101, channel="futures.order_book_update")
    bad = bad.replace('"b": []', '"b": [{"p": "1", "s": -5}]')
    with pytest.raises(gateio.GateDecodeError) as exc:
        gateio.apply_depth(bad, book)
    assert exc.value.field == "result.b[0].s"
    assert exc.value.channel == "futures.order_book_update"
    assert not book.in_sync


def test_obu_full_increment_gap_and_resync() -> None:
    book = hftws.OrderBook("gate", max_depth=50, symbol="ETH_USDT")

    def obu(result: dict[str, object]) -> str:
        return json.dumps(
            {
                "channel": "spot.obu",
                "result": {"t": 1, "s": "ob.ETH_USDT.50", **result},
                "time_ms": 2,
            }
        )

    assert gateio.apply_depth(obu({"U": 1, "u": 2, "b": [["1", "1"]]}), book) == S.NOT_SYNCED
    assert (
        gateio.apply_depth(
            obu({"full": True, "u": 10, "b": [["100", "1"]], "a": [["101", "1"]]}), book
        )
        == S.APPLIED
    )
    assert gateio.apply_depth(obu({"U": 11, "u": 12, "a": [["100.5", "2"]]}), book) == S.APPLIED
    assert book.best_ask() == (100.5, 2.0)
    assert gateio.apply_depth(obu({"U": 20, "u": 21}), book) == S.GAP
    assert gateio.apply_depth(obu({"full": True, "u": 30, "b": [["99", "1"]]}), book) == S.APPLIED
    assert book.in_sync and book.sequence == 30 and book.ask_count == 0


def test_book_symbol_is_enforced() -> None:
    book = seeded(100, symbol="ETH_USDT")
    with pytest.raises(ValueError, match="ETH_USDT"):
        gateio.apply_depth(upd(101, 101, [["1", "1"]]), book)
    assert book.sequence == 100
    anon = seeded(100, symbol="")
    assert gateio.apply_depth(upd(101, 101), anon) == S.APPLIED


def test_non_depth_frames_return_none_and_leave_the_book() -> None:
    book = seeded(100)
    for frame in [
        '{"time":1,"channel":"spot.order_book_update","event":"subscribe","result":{"status":"success"}}',
        '{"time":1,"channel":"spot.pong","event":"","error":null,"result":null}',
        '{"time":1,"channel":"spot.trades","event":"update","result":{"id":1,"price":"1"}}',
        '{"time":1,"channel":"spot.obu","event":"subscribe",'
        '"error":{"code":2,"message":"Alert sub"},"result":{"status":"fail"}}',
    ]:
        assert gateio.apply_depth(frame, book) is None, frame
    assert book.sequence == 100 and book.state == "unconfirmed"


def test_apply_depth_many_reports_trouble_and_recovery() -> None:
    book = seeded(100)
    frames: list[str | bytes] = [
        upd(101, 101),
        upd(102, 102, [["99.6", "1"]]),
        b'{"channel":"spot.pong"}',
    ]
    assert gateio.apply_depth_many(frames, book) == S.APPLIED
    assert book.sequence == 102
    # A gap followed by refused pushes reports the gap.
    assert gateio.apply_depth_many([upd(110, 111), upd(112, 113)], book) == S.GAP
    # A later full push in the same read resyncs the book.
    full = upd(None, 200, [["1", "1"]], [["2", "1"]], full=True)
    assert gateio.apply_depth_many([upd(300, 301), full, upd(201, 202)], book) == S.APPLIED
    assert book.in_sync and book.sequence == 202
    assert gateio.apply_depth_many([], book) is None
    assert gateio.apply_depth_many(iter([upd(203, 203)]), book) == S.APPLIED


def test_malformed_frame_in_a_batch_raises_after_applying_the_earlier_ones() -> None:
    book = seeded(100)
    with pytest.raises(gateio.GateDecodeError):
        gateio.apply_depth_many(
            [upd(101, 101), b'{"channel":"spot.order_book_update","event":"update","result":{'],
            book,
        )
    assert book.sequence == 101


def test_random_stream_matches_a_dict_model() -> None:
    rng = random.Random(11)
    book = hftws.OrderBook("gate", symbol="BTC_USDT")
    model_b: dict[Decimal, Decimal] = {Decimal(100 - i): Decimal(1) for i in range(50)}
    model_a: dict[Decimal, Decimal] = {Decimal(101 + i): Decimal(1) for i in range(50)}
    book.load_snapshot(
        [(str(p), str(s)) for p, s in model_b.items()],
        [(str(p), str(s)) for p, s in model_a.items()],
        0,
    )
    last = 0
    for _ in range(400):
        bids: list[list[str]] = []
        asks: list[list[str]] = []
        for _ in range(rng.randint(0, 12)):
            bid = rng.random() < 0.5
            p = Decimal(rng.randint(1, 100)) if bid else Decimal(rng.randint(101, 200))
            size = Decimal(0) if rng.random() < 0.25 else Decimal(rng.randint(1, 999)) / 100
            (bids if bid else asks).append([str(p), str(size)])
            model = model_b if bid else model_a
            if size == 0:
                model.pop(p, None)
            else:
                model[p] = size
        first, last = last + 1, last + rng.randint(1, 3)
        st = gateio.apply_depth(upd(first, last, bids, asks), book)
        assert st == S.APPLIED
        want_b = max(model_b) if model_b else None
        got = book.best_bid_decimal()
        assert (got[0] if got else None) == want_b
    final_bids, final_asks = book.depth()
    assert {Decimal(p): Decimal(s) for p, s in final_bids} == model_b
    assert {Decimal(p): Decimal(s) for p, s in final_asks} == model_a
