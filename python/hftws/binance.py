"""Binance spot and USDⓈ-M futures market data (JSON streams and spot SBE).

Decoding happens in Rust (``hftws._core``); this module re-exports it under short names.
Protocol facts follow the project's ``binance.md`` reference (sections cited in the Rust
sources, ``rust/binance/``). Connections, subscriptions and private streams are not here.

Decoding::

    ev = binance.parse(frame)        # raw /ws/ payload or combined {"stream","data"} frame
    ev.kind                          # "depth", "partial_depth", "trade", "agg_trade", ...
    ev.price, ev.price_decimal, ev.price_str   # float / exact Decimal / original text
    ev.to_dict()                     # the payload as json.loads gives it
    evs = binance.parse(arr_frame)   # "!miniTicker@arr": a tuple, one event per element

Books::

    book = hftws.OrderBook("binance", symbol="BTCUSDT")          # or "binance_futures"
    book.load_snapshot(bids, asks, last_update_id)               # or apply_depth(rest_body)
    status = binance.apply_depth(frame, book)    # BookStatus, or None for non-depth frames
    status = binance.apply_sbe_depth(binary, book)
"""

from __future__ import annotations

from hftws._core import (
    BinanceAggTrade,
    BinanceBookTicker,
    BinanceDecodeError,
    BinanceDepthUpdate,
    BinanceError,
    BinanceForceOrder,
    BinanceKline,
    BinanceMarkPrice,
    BinanceMiniTicker,
    BinanceOther,
    BinanceReply,
    BinanceSbeBestBidAsk,
    BinanceSbeDepth,
    BinanceSbeTrades,
    BinanceServerShutdown,
    BinanceTrade,
)
from hftws._core import binance_apply_depth as apply_depth
from hftws._core import binance_apply_sbe_depth as apply_sbe_depth
from hftws._core import binance_decode_sbe as decode_sbe
from hftws._core import binance_parse as parse

__all__ = [
    "BinanceAggTrade",
    "BinanceBookTicker",
    "BinanceDecodeError",
    "BinanceDepthUpdate",
    "BinanceError",
    "BinanceEvent",
    "BinanceForceOrder",
    "BinanceKline",
    "BinanceMarkPrice",
    "BinanceMiniTicker",
    "BinanceOther",
    "BinanceReply",
    "BinanceSbeBestBidAsk",
    "BinanceSbeDepth",
    "BinanceSbeTrades",
    "BinanceServerShutdown",
    "BinanceTrade",
    "apply_depth",
    "apply_sbe_depth",
    "decode_sbe",
    "parse",
]

BinanceEvent = (
    BinanceDepthUpdate
    | BinanceTrade
    | BinanceAggTrade
    | BinanceBookTicker
    | BinanceKline
    | BinanceMiniTicker
    | BinanceMarkPrice
    | BinanceForceOrder
    | BinanceServerShutdown
    | BinanceReply
    | BinanceError
    | BinanceOther
)
