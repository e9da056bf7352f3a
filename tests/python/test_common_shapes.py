"""One shape per concept: the same trade and the same best bid/ask, as each exchange sends
them, read through ``hftws.Trade`` / ``hftws.BookTicker`` give the same values.

The functions typed against the protocols are also the static test: ``mypy --strict`` checks
that every exchange's event class (from the native stub) satisfies them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

import hftws
from hftws import BookTicker, Trade, binance, gateio, kucoin, mexc
from hftws.exchanges.mexc import MexcPublicMessageHandler
from hftws.testing import mexc_proto

TIME_MS = 1_700_000_000_123


def common_trade(t: Trade) -> tuple[Any, ...]:
    """What a cross-exchange strategy reads from a trade."""
    return (
        t.price,
        t.price_decimal,
        t.price_str,
        t.amount,
        t.amount_decimal,
        t.amount_str,
        t.side,
        None if t.trade_id is None else str(t.trade_id),
        t.trade_time,
    )


def common_ticker(q: BookTicker) -> tuple[Any, ...]:
    return (
        (q.bid_price, q.bid_price_decimal, q.bid_price_str),
        (q.bid_size, q.bid_size_decimal, q.bid_size_str),
        (q.ask_price, q.ask_price_decimal, q.ask_price_str),
        (q.ask_size, q.ask_size_decimal, q.ask_size_str),
        q.update_id,
        q.time_ms,
    )


EXPECTED_TRADE = (
    100.5,
    Decimal("100.5"),
    "100.5",
    0.25,
    Decimal("0.25"),
    "0.25",
    "sell",
    "42",
    TIME_MS,
)


def gate_trade() -> gateio.GateTrade:
    result = {
        "id": 42,
        "create_time": TIME_MS // 1000,
        "create_time_ms": f"{TIME_MS}.456",
        "side": "sell",
        "currency_pair": "BTC_USDT",
        "amount": "0.25",
        "price": "100.5",
        "range": "1-1",
    }
    msg = {"time": 1, "time_ms": 1, "channel": "spot.trades", "event": "update", "result": result}
    ev = gateio.parse(json.dumps(msg))
    assert isinstance(ev, gateio.GateTrade)
    return ev


def mexc_trades() -> mexc.MexcTrades:
    deal = {"price": "100.5", "quantity": "0.25", "tradeType": 2, "time": TIME_MS, "tradeId": "42"}
    frame = mexc_proto.encode(
        {
            "channel": "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT",
            "symbol": "BTCUSDT",
            "publicAggreDeals": {"deals": [deal, {**deal, "tradeId": "43"}], "eventType": "x"},
        }
    )
    ev = mexc.decode(frame)
    assert isinstance(ev, mexc.MexcTrades)
    return ev


def binance_trades() -> tuple[binance.BinanceTrade, binance.BinanceAggTrade]:
    common = {"E": 1, "s": "BTCUSDT", "p": "100.5", "q": "0.25", "T": TIME_MS, "m": True}
    raw = binance.parse(json.dumps({"e": "trade", "t": 42, **common}))
    agg = binance.parse(json.dumps({"e": "aggTrade", "a": 42, "f": 1, "l": 2, **common}))
    assert isinstance(raw, binance.BinanceTrade) and isinstance(agg, binance.BinanceAggTrade)
    return raw, agg


def kucoin_trades() -> tuple[kucoin.KucoinTrade, kucoin.KucoinTrade]:
    data = {"price": "100.5", "side": "sell", "tradeId": "42", "symbol": "BTC-USDT"}
    spot = {
        "topic": "/market/match:BTC-USDT",
        "type": "message",
        "subject": "trade.l3match",
        "data": {**data, "size": "0.25", "sequence": "9", "time": str(TIME_MS * 1_000_000)},
    }
    # Futures sends sizes and sequences as JSON numbers, times in ns.
    fut = {
        "topic": "/contractMarket/execution:XBTUSDTM",
        "type": "message",
        "subject": "match",
        "data": {**data, "size": 0.25, "sequence": 9, "ts": TIME_MS * 1_000_000 + 999},
    }
    a, b = kucoin.parse(json.dumps(spot)), kucoin.parse(json.dumps(fut))
    assert isinstance(a, kucoin.KucoinTrade) and isinstance(b, kucoin.KucoinTrade)
    return a, b


def test_the_same_trade_reads_the_same_on_every_exchange() -> None:
    raw, agg = binance_trades()
    spot, fut = kucoin_trades()
    first, _ = mexc_trades()
    trades: list[Trade] = [gate_trade(), first, raw, agg, spot, fut]
    for t in trades:
        assert isinstance(t, Trade)
        assert common_trade(t) == EXPECTED_TRADE, type(t).__name__
    symbols = ["BTC_USDT", "BTCUSDT", "BTCUSDT", "BTCUSDT", "BTC-USDT", "XBTUSDTM"]
    assert [t.symbol for t in trades] == symbols


def test_gate_futures_amount_is_the_unsigned_size_and_the_sign_is_the_side() -> None:
    result = [
        {"id": 7, "create_time_ms": TIME_MS, "contract": "BTC_USDT", "size": -25, "price": "1"}
    ]
    msg = {"time": 1, "channel": "futures.trades", "event": "update", "result": result}
    records = gateio.parse(json.dumps(msg))
    assert isinstance(records, tuple) and len(records) == 1
    t = records[0]
    assert isinstance(t, gateio.GateTrade)
    assert (t.amount, t.amount_decimal, t.amount_str, t.side) == (25.0, Decimal(25), "25", "sell")
    assert (t.size_str, t.trade_id, t.trade_time, t.symbol) == ("-25", 7, TIME_MS, "BTC_USDT")


def test_a_mexc_batch_is_an_iterable_of_trades_and_handlers_get_one_per_call() -> None:
    batch = mexc_trades()
    assert [t.trade_id for t in batch] == ["42", "43"] == [t.trade_id for t in batch.trades]
    handler = MexcPublicMessageHandler()
    got: list[Trade] = []
    handler.on_trade(got.append)
    handler._handle_message(batch.raw)
    assert [type(t).__name__ for t in got] == ["MexcTrade", "MexcTrade"]
    assert common_trade(got[0]) == EXPECTED_TRADE


EXPECTED_TICKER = (
    (100.4, Decimal("100.4"), "100.4"),
    (1.5, Decimal("1.5"), "1.5"),
    (100.6, Decimal("100.6"), "100.6"),
    (2.0, Decimal("2"), "2"),
    7,
    TIME_MS,
)


def tickers() -> list[BookTicker]:
    gate = gateio.parse(
        json.dumps(
            {
                "time": 1,
                "time_ms": TIME_MS,
                "channel": "spot.book_ticker",
                "event": "update",
                "result": {"t": TIME_MS, "u": 7, "s": "BTC_USDT", "b": "100.4", "B": "1.5"}
                | {"a": "100.6", "A": "2"},
            }
        )
    )
    quote = {"bidPrice": "100.4", "bidQuantity": "1.5", "askPrice": "100.6", "askQuantity": "2"}
    mx = mexc.decode(
        mexc_proto.encode(
            {
                "channel": "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT",
                "symbol": "BTCUSDT",
                "sendTime": TIME_MS,
                "publicAggreBookTicker": {**quote, "version": "7"},
            }
        )
    )
    bn = binance.parse(
        json.dumps(
            {"e": "bookTicker", "u": 7, "E": TIME_MS, "T": 1, "s": "BTCUSDT", "b": "100.4"}
            | {"B": "1.5", "a": "100.6", "A": "2"}
        )
    )
    data: dict[str, Any] = {"sequence": "7", "price": "100.5", "size": "0.25", "bestBid": "100.4"}
    data |= {"bestBidSize": "1.5", "bestAsk": "100.6", "bestAskSize": "2", "time": TIME_MS}
    spot = {"type": "message", "topic": "/market/ticker:BTC-USDT", "subject": "trade.ticker"}
    ku = kucoin.parse(json.dumps({**spot, "data": data}))
    fdata: dict[str, Any] = {
        "symbol": "XBTUSDTM",
        "sequence": 7,
        "bestBidSize": 1.5,
        "bestBidPrice": "100.4",
    }
    fdata |= {"bestAskPrice": "100.6", "bestAskSize": 2, "ts": TIME_MS * 1_000_000}
    fut = {"type": "message", "topic": "/contractMarket/tickerV2:XBTUSDTM", "subject": "tickerV2"}
    kf = kucoin.parse(json.dumps({**fut, "data": fdata}))
    assert isinstance(gate, gateio.GateBookTicker) and isinstance(mx, mexc.MexcBookTicker)
    assert isinstance(bn, binance.BinanceBookTicker) and isinstance(ku, kucoin.KucoinTicker)
    assert isinstance(kf, kucoin.KucoinTicker)
    return [gate, mx, bn, ku, kf]


def test_the_same_quote_reads_the_same_on_every_exchange() -> None:
    for q in tickers():
        assert isinstance(q, BookTicker)
        assert common_ticker(q) == EXPECTED_TICKER, type(q).__name__


def test_spot_binance_book_ticker_has_no_time_and_kucoin_keeps_its_own_fields() -> None:
    spot = binance.parse('{"u":7,"s":"BNBUSDT","b":"1","B":"2","a":"3","A":"4"}')
    assert isinstance(spot, binance.BinanceBookTicker) and spot.time_ms is None
    ku = tickers()[3]
    assert isinstance(ku, kucoin.KucoinTicker)
    assert (ku.price_str, ku.size_decimal, ku.sequence) == ("100.5", Decimal("0.25"), 7)


def test_the_protocols_are_exported_and_reject_other_events() -> None:
    assert hftws.Trade is Trade and hftws.BookTicker is BookTicker
    depth = binance.parse('{"e":"depthUpdate","E":1,"s":"A","U":1,"u":1,"b":[],"a":[]}')
    assert not isinstance(depth, Trade) and not isinstance(depth, BookTicker)


def kucoin_match(price: str) -> Any:
    data = {"price": price, "size": "1", "side": "buy", "tradeId": "1", "time": "1"}
    return kucoin.parse(json.dumps({"topic": "/market/match:A-B", "type": "message", "data": data}))


@pytest.mark.parametrize("price", ["1e5", "-0", "100.50", "0.000000000000000001"])
def test_kucoin_views_agree_with_the_text(price: str) -> None:
    t = kucoin_match(price)
    assert isinstance(t, kucoin.KucoinTrade)
    assert t.price_str == price and t.price == float(price)
    assert t.price_decimal == Decimal(price)


def test_kucoin_price_beyond_exact_range_is_a_typed_error() -> None:
    with pytest.raises(hftws.KucoinDecodeError, match=r"data\.price"):
        kucoin_match("0.000000000000000000001")
