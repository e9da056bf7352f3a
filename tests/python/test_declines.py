"""One-call depth entry points decline other messages from their channel or stream name.

Every message of a connection can be offered to ``apply_depth``; trades and tickers come back
as None without being read past their route, the book untouched, while anything Python's
``json`` would read as a depth push (a later key renaming the channel or stream) is still read
in full.
"""

from __future__ import annotations

import json

import kucoin_frames as kf
import pytest

import hftws
from hftws import binance, gateio, kucoin

S = hftws.BookStatus


def binance_book() -> hftws.OrderBook:
    book = hftws.OrderBook("binance", symbol="BNBBTC")
    book.load_snapshot([("0.0024", "1")], [("0.0026", "1")], 156)
    return book


def combined(stream: str, data: dict[str, object]) -> bytes:
    return json.dumps({"stream": stream, "data": data}, separators=(",", ":")).encode()


TRADE = {"e": "trade", "E": 1, "s": "BNBBTC", "t": 12345, "p": "0.001", "q": "100", "T": 1}
TICKER = {"u": 400900217, "s": "BNBBTC", "b": "25.3", "B": "31.2", "a": "25.4", "A": "40.6"}
DIFF = {"e": "depthUpdate", "E": 1, "s": "BNBBTC", "U": 157, "u": 160, "b": [["0.0024", "10"]]}


@pytest.mark.parametrize(
    "frame",
    [
        combined("bnbbtc@trade", TRADE),
        combined("bnbbtc@bookTicker", TICKER),
        combined("bnbbtc@ticker", {"e": "24hrTicker"}),
    ],
)
def test_binance_declines_other_streams_by_name(frame: bytes) -> None:
    book = binance_book()
    assert binance.apply_depth(frame, book) is None
    assert book.sequence == 156
    # The same frame as str takes the general path: the same answer.
    assert binance.apply_depth(frame.decode(), book) is None
    # A book of another exchange is still refused.
    with pytest.raises(ValueError, match="Binance book"):
        binance.apply_depth(frame, hftws.OrderBook("gate"))


def test_binance_reads_a_frame_whose_stream_could_be_renamed() -> None:
    book = binance_book()
    # json.loads keeps the last "stream": a depth stream. hftws refuses the repeated key
    # instead of declining the frame as a trade.
    text = combined("bnbbtc@trade", DIFF).decode()[:-1] + ',"stream":"bnbbtc@depth"}'
    assert json.loads(text)["stream"] == "bnbbtc@depth"
    with pytest.raises(binance.BinanceDecodeError, match="duplicate"):
        binance.apply_depth(text.encode(), book)
    # A depth stream is applied as before (on a fresh book: a refused push desyncs one).
    assert binance.apply_depth(combined("bnbbtc@depth", DIFF), binance_book()) == S.APPLIED


def test_binance_malformed_trades_are_declined_and_reported_by_parse() -> None:
    broken = combined("bnbbtc@trade", TRADE)[:-5]
    book = binance_book()
    assert binance.apply_depth(broken, book) is None
    assert book.sequence == 156
    with pytest.raises(binance.BinanceDecodeError):
        binance.parse(broken)


def test_gate_declines_every_record_channel_and_reads_depth() -> None:
    book = hftws.OrderBook("gate", symbol="BTC_USDT")
    book.load_snapshot([("99", "1")], [("101", "1")], 100)
    for channel in ["spot.trades", "futures.book_ticker", "spot.tickers", "spot.pong", "x.y"]:
        frame = json.dumps(
            {"time": 1, "time_ms": 2, "channel": channel, "event": "update", "result": {}},
            separators=(",", ":"),
        )
        assert gateio.apply_depth(frame, book) is None, channel
    push = {"t": 1, "s": "BTC_USDT", "U": 101, "u": 101, "b": [["99", "2"]], "a": []}
    frame = json.dumps(
        {"time": 1, "channel": "spot.order_book_update", "event": "update", "result": push},
        separators=(",", ":"),
    )
    assert gateio.apply_depth(frame, book) == S.APPLIED


def kucoin_book() -> hftws.OrderBook:
    book = hftws.OrderBook("kucoin", symbol="BTC-USDT")
    book.load_snapshot([("67990", "1")], [("67999", "1")], 14701689782)
    return book


@pytest.mark.parametrize("frame", [kf.MATCH, kf.TICKER, kf.ACK, kf.WELCOME])
def test_kucoin_declines_other_topics(frame: str) -> None:
    book = kucoin_book()
    assert kucoin.apply_depth(frame.encode(), book) is None
    assert kucoin.apply_depth(frame, book) is None
    assert book.sequence == 14701689782
    with pytest.raises(ValueError, match="KuCoin book"):
        kucoin.apply_depth(frame.encode(), hftws.OrderBook("gate"))


def test_kucoin_reads_a_frame_whose_topic_could_be_renamed() -> None:
    # json.loads keeps the last "topic": a level2 push. hftws refuses the repeated key.
    frame = kf.MATCH[:-1] + ',"topic":"/market/level2:BTC-USDT"}'
    assert json.loads(frame)["topic"] == "/market/level2:BTC-USDT"
    with pytest.raises(kucoin.KucoinDecodeError, match="duplicate"):
        kucoin.apply_depth(frame.encode(), kucoin_book())
    assert kucoin.apply_depth(kf.SPOT_L2.encode(), kucoin_book()) == S.APPLIED


def test_kucoin_malformed_matches_are_declined_and_reported_by_parse() -> None:
    broken = kf.MATCH.encode()[:-5]
    book = kucoin_book()
    assert kucoin.apply_depth(broken, book) is None
    with pytest.raises(kucoin.KucoinDecodeError):
        kucoin.parse(broken)
