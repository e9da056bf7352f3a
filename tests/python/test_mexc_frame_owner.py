"""MEXC events own their frame: the decoded fields borrow the frame's bytes (an owner + borrow
pair in Rust, no `'static` borrow), so an event, and every item of a batch, must stay
readable after everything else that referred to the frame is gone, and items share the
batch's `bytes` object instead of copying it."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from hftws import mexc
from hftws.testing import mexc_wire


def decoded_alone(push: dict[str, Any]) -> Any:
    """Decodes from a `bytearray`, so the only `bytes` object holding the frame is the one the
    event made and keeps."""
    return mexc.decode(bytearray(mexc_wire.encode(push)))


def items_outlive_their_batch(
    push: dict[str, Any], items: Callable[[Any], tuple[Any, ...]]
) -> tuple[Any, ...]:
    batch = decoded_alone(push)
    got = items(batch)
    raw = batch.raw
    assert all(item.raw is raw for item in got), "items share the batch's frame object"
    del batch, raw
    gc.collect()
    return got


def test_trade_items_outlive_the_batch() -> None:
    deal = {"price": "100.5", "quantity": "0.25", "tradeType": 1, "time": 7, "tradeId": "a1"}
    push = {
        "channel": "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT",
        "symbol": "BTCUSDT",
        "publicAggreDeals": {
            "deals": [deal, {**deal, "price": "101", "tradeId": "a2"}],
            "eventType": "x",
        },
    }
    trades = items_outlive_their_batch(push, lambda b: b.trades)
    assert [t.price_str for t in trades] == ["100.5", "101"]
    assert [t.trade_id for t in trades] == ["a1", "a2"]
    assert {t.symbol for t in trades} == {"BTCUSDT"}
    assert trades[0].channel == "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"


def test_book_ticker_items_outlive_the_batch() -> None:
    t = {"bidPrice": "1.5", "bidQuantity": "2", "askPrice": "1.6", "askQuantity": "3"}
    push = {"channel": "c", "publicBookTickerBatch": {"items": [t, {**t, "bidPrice": "1.4"}]}}
    items = items_outlive_their_batch(push, lambda b: b.items)
    assert [i.bid_price_str for i in items] == ["1.5", "1.4"]
    assert items[1].ask_quantity_str == "3"


def test_depth_batch_items_outlive_the_batch() -> None:
    def inc(v: int, price: str) -> dict[str, object]:
        return {"bids": [{"price": price, "quantity": "1"}], "version": str(v), "eventType": "e"}

    push = {"channel": "c", "publicIncreaseDepthsBatch": {"items": [inc(5, "11"), inc(6, "12")]}}
    updates = items_outlive_their_batch(push, lambda b: b.updates)
    assert [u.bids_str for u in updates] == [[("11", "1")], [("12", "1")]]
    assert [u.to_version for u in updates] == [5, 6]
    assert all(u.is_item for u in updates)


def test_a_whole_push_outlives_its_input() -> None:
    levels = [{"price": "9.5", "quantity": "0.1"}]
    push = {
        "channel": "spot@public.aggre.depth.v3.api.pb@100ms@ETHUSDT",
        "symbol": "ETHUSDT",
        "publicAggreDepths": {
            "asks": levels,
            "bids": [],
            "eventType": "e",
            "fromVersion": "3",
            "toVersion": "4",
        },
    }
    frame = bytearray(mexc_wire.encode(push))
    ev = mexc.decode(frame)
    assert isinstance(ev, mexc.MexcDepthUpdate)
    frame[:] = b"\x00" * len(frame)  # the caller's buffer changes; the event holds its own copy
    del frame
    gc.collect()
    assert ev.asks_str == [("9.5", "0.1")]
    assert ev.symbol == "ETHUSDT" and (ev.from_version, ev.to_version) == (3, 4)
    assert ev.to_dict()["publicAggreDepths"]["asks"] == [{"price": "9.5", "quantity": "0.1"}]
    again = mexc.decode(ev.raw)
    assert isinstance(again, mexc.MexcDepthUpdate) and again.asks_str == ev.asks_str
