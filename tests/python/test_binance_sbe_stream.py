"""Binance SBE market data through the one pipeline: binary frames -> StreamDecoder -> books.

The frames come from ``hftws.testing.binance_sbe``, an encoder written from the schema layout
(checked here against the reference's test vector), so the Rust decoder is checked against an
independent implementation; then a live SBE connection keeps a book equal to the truth.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
from client_helpers import own_tasks, wait_for
from hypothesis import given
from hypothesis import strategies as st
from test_books_never_lie import Sentinel

from hftws import OrderBook, binance, create_websocket_handler_direct
from hftws._core import BookStatus
from hftws.books import OrderBookManager
from hftws.credentials import Credentials, MissingCredentials
from hftws.errors import ConnectError
from hftws.events import MessageType
from hftws.testing import binance_sbe as sbe
from hftws.testing.binance_server import BinanceSbeServer
from hftws.ws import StreamDecoder

KEY = "test-ed25519-key"
VECTOR = bytes.fromhex(
    "1a0013270100000040222018240a0600640000000000000066000000000000"
    "00fef810000100ac2e63000000000080d1f008000000001000010 0ad2e6300000000"
    "00000000000000000007425443555344 54".replace(" ", "")
)


def server_frame(payload: bytes) -> bytes:
    """A binary frame as a server sends it (unmasked)."""
    n = len(payload)
    head = bytes([0x82, n]) if n < 126 else bytes([0x82, 126]) + n.to_bytes(2, "big")
    return head + payload


def test_encoder_matches_the_reference_vector() -> None:
    frame = sbe.depth_diff(
        "BTCUSDT",
        1700000000123456,
        100,
        102,
        [(Decimal("65000.12"), Decimal("1.5"))],
        [(Decimal("65000.13"), Decimal(0))],
        -2,
        -8,
    )
    assert frame == VECTOR and len(frame) == 82


prices = st.integers(min_value=1, max_value=10**9)
levels = st.lists(st.tuples(prices, st.integers(min_value=0, max_value=10**12)), max_size=12)


@given(
    bids=levels,
    asks=levels,
    pexp=st.integers(min_value=-8, max_value=0),
    qexp=st.integers(min_value=-8, max_value=0),
    first=st.integers(min_value=1, max_value=2**40),
    span=st.integers(min_value=0, max_value=1000),
    symbol=st.sampled_from(["BTCUSDT", "ETHUSDT", "这是测试币456"]),
)
def test_rust_decoder_agrees_with_the_schema_encoder(
    bids: list[tuple[int, int]],
    asks: list[tuple[int, int]],
    pexp: int,
    qexp: int,
    first: int,
    span: int,
    symbol: str,
) -> None:
    def dec(levels: list[tuple[int, int]]) -> list[tuple[Decimal, Decimal]]:
        return [(Decimal(p).scaleb(pexp), Decimal(q).scaleb(qexp)) for p, q in levels]

    frame = sbe.depth_diff(symbol, 5, first, first + span, dec(bids), dec(asks), pexp, qexp)
    ev = binance.decode_sbe(frame)
    assert ev.kind == "depth" and ev.symbol == symbol
    assert (ev.first_id, ev.last_id) == (first, first + span)
    assert [(p, q) for p, q in ev.bids_decimal] == dec(bids)
    assert [(p, q) for p, q in ev.asks_decimal] == dec(asks)


def test_trades_and_best_bid_ask_decode() -> None:
    d = Decimal
    bba = binance.decode_sbe(
        sbe.best_bid_ask("BTCUSDT", 7, 9, (d("1.23"), d("4")), (d("1.25"), d("0.5")), -2, -1)
    )
    assert bba.kind == "book_ticker" and bba.update_id == 9
    assert (bba.bid_price_decimal, bba.ask_size_decimal) == (d("1.23"), d("0.5"))
    fills = [(5, d("1.23"), d("0.5"), True), (6, d("1.24"), d("1.5"), False)]
    trades = binance.decode_sbe(sbe.trades("BTCUSDT", 7, 8, fills, -2, -1))
    assert trades.kind == "trades" and trades.symbol == "BTCUSDT"


def test_stream_decoder_routes_binary_frames_to_sbe_and_books() -> None:
    d = Decimal
    book = OrderBook("binance", symbol="BTCUSDT", hold=100)
    dec = StreamDecoder("binance")
    dec.register_book("BTCUSDT", book, emit=True)

    def diff(first: int, last: int, bid: str) -> bytes:
        return sbe.depth_diff("BTCUSDT", 1, first, last, [(d(bid), d("1"))], [], -2, -8)

    # Held before the snapshot (the book keeps no opcode: the bytes say SBE), then replayed.
    items = dec.feed(server_frame(diff(101, 103, "10.00")) + server_frame(diff(104, 104, "10.01")))
    assert all(i.status is BookStatus.NOT_SYNCED for i in items) and book.held == 2
    assert book.load_snapshot([("9.99", "1")], [("10.50", "1")], 102) is BookStatus.APPLIED
    assert book.in_sync and book.sequence == 104 and book.size_at("bid", "10.01") == 1
    bba = sbe.best_bid_ask("BTCUSDT", 1, 104, (d("10.01"), d("1")), (d("10.5"), d("1")), -2, -8)
    text = b'{"result":null,"id":3}'
    items = dec.feed(
        server_frame(diff(105, 106, "10.02")) + server_frame(bba) + bytes([0x81, len(text)]) + text
    )
    assert items[0].status is BookStatus.APPLIED and book.size_at("bid", "10.02") == 1
    assert isinstance(items[1], binance.BinanceSbeBestBidAsk)
    assert isinstance(items[2], binance.BinanceReply) and items[2].id == 3
    items = dec.feed(server_frame(diff(110, 111, "10.03")))
    assert items[0].status is BookStatus.GAP and not book.in_sync
    # Not SBE at all: delivered raw, never a crash.
    junk = dec.feed(server_frame(b"\x01\x02\x03"))
    assert junk and not isinstance(junk[0], binance.BinanceSbeDepth)


async def test_sbe_books_stay_true_under_gaps_and_reconnects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HFTWS_BINANCE_API_KEY", KEY)
    async with BinanceSbeServer(rate=300) as server:
        urls, rest = {"binance_sbe": server.url}, {"binance_sbe": server.rest_url}
        async with OrderBookManager(
            urls=urls, rest_urls=rest, ping_interval=0.3, idle_timeout=1.5
        ) as books:
            book = await books.watch("binance_sbe", "BTCUSDT")
            sentinel = Sentinel(book, server)
            start = book.updates
            await wait_for(lambda: book.updates >= start + 30, timeout=10)
            server.faults.gap(4)
            await wait_for(lambda: book.gaps >= 1, timeout=5)
            server.faults.close_with(1006)
            await wait_for(lambda: book._shard.metrics.reconnects >= 1, timeout=5)
            await book.wait_in_sync(10)
            start = book.updates
            await wait_for(lambda: book.updates >= start + 30, timeout=10)
            await sentinel.stop()
            assert sentinel.checks > 0
    assert not own_tasks()


async def test_the_api_key_is_required_sent_and_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HFTWS_BINANCE_API_KEY", raising=False)
    with pytest.raises(MissingCredentials, match="HFTWS_BINANCE_API_KEY"):
        create_websocket_handler_direct("binance_sbe")
    async with BinanceSbeServer(rate=100) as server:
        bad = create_websocket_handler_direct("binance_sbe", url=server.url, api_key="wrong-key")
        with pytest.raises(ConnectError, match="401") as err:
            await bad.connect()
        assert "wrong-key" not in str(err.value)
        creds = Credentials(KEY, "unused")
        ws = create_websocket_handler_direct("binance_sbe", url=server.url, credentials=creds)
        shown = repr(ws.policy) + repr(vars(ws)) + str(ws.stats())
        assert KEY not in shown
        events: list[Any] = []
        async with ws:
            await ws.subscribe_trades("BTCUSDT")
            await ws.subscribe_ticker("BTCUSDT")
            ws.on(MessageType.TICKER, events.append)
            await wait_for(lambda: events, timeout=5)
        assert isinstance(events[0], binance.BinanceSbeBestBidAsk)
        assert server.rejected_keys == 1


def test_environment_key_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFTWS_BINANCE_API_KEY", KEY)
    ws = create_websocket_handler_direct("binance_sbe", url="ws://127.0.0.1:9/stream")
    assert ("X-MBX-APIKEY", KEY) in ws._connection_headers()
    assert os.environ["HFTWS_BINANCE_API_KEY"] not in repr(ws.policy)
