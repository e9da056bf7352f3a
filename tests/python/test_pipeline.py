"""``StreamDecoder``: frames + exchange payloads in one call, books applied in Rust.

Every result is compared with the unfused path (``WebSocketDecoder`` then ``gateio.parse`` /
``mexc.decode`` / ``apply_depth``) on the same bytes.
"""

from __future__ import annotations

import json
import random
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hftws
from hftws import BookStatus, BookUpdate, OrderBook, ProtocolError, gateio, mexc
from hftws.testing.mexc_wire import encode
from hftws.ws import StreamDecoder

PAIR, SYMBOL = "BTC_USDT", "BTCUSDT"


def frame(payload: bytes, opcode: int = 1, fin: bool = True) -> bytes:
    """One unmasked server frame."""
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        return bytes((first, n)) + payload
    if n < 1 << 16:
        return bytes((first, 126)) + n.to_bytes(2, "big") + payload
    return bytes((first, 127)) + n.to_bytes(8, "big") + payload


def gate_depth(first: int, last: int, bids: Any, asks: Any, pair: str = PAIR) -> bytes:
    result = {"t": 1, "s": pair, "U": first, "u": last, "b": bids, "a": asks}
    msg = {"time": 1, "channel": "spot.order_book_update", "event": "update", "result": result}
    return json.dumps(msg).encode()


def gate_trade(i: int) -> bytes:
    result = {"id": i, "create_time": 1, "side": "buy", "currency_pair": PAIR}
    result |= {"amount": "0.5", "price": "100.5"}
    return json.dumps(
        {"time": 1, "channel": "spot.trades", "event": "update", "result": result}
    ).encode()


def mexc_depth(first: int, last: int, bids: Any, asks: Any, symbol: str = SYMBOL) -> bytes:
    body = {
        "bids": [{"price": p, "quantity": q} for p, q in bids],
        "asks": [{"price": p, "quantity": q} for p, q in asks],
        "eventType": "spot@public.aggre.depth.v3.api.pb@10ms",
        "fromVersion": str(first),
        "toVersion": str(last),
    }
    return encode(
        {
            "channel": "spot@public.aggre.depth.v3.api.pb@10ms@" + symbol,
            "symbol": symbol,
            "sendTime": 1,
            "publicAggreDepths": body,
        }
    )


def loaded(rule: Literal["mexc", "gate"], symbol: str = "") -> OrderBook:
    book = OrderBook(rule, symbol=symbol)
    book.load_snapshot([("99", "1"), ("98", "2")], [("101", "1"), ("102", "2")], 10)
    return book


def test_gate_events_match_parse_and_controls_are_tuples() -> None:
    payloads = [gate_trade(1), gate_depth(11, 12, [["99.5", "1"]], []), gate_trade(2)]
    data = b"".join(frame(p) for p in payloads) + frame(b"hi", 9) + frame(b"", 10)
    dec = StreamDecoder("gateio")
    items = dec.feed(data)
    assert dec.controls == 2
    assert items[3:] == [(9, b"hi"), (10, b"")]
    for item, payload in zip(items, payloads, strict=False):
        want: Any = gateio.parse(payload)
        assert type(item) is type(want)
        assert item.kind == want.kind
        assert item.to_dict() == want.to_dict()
    assert dec.feed(b"") == [] and dec.controls == 0


def test_gate_registered_book_gets_pushes_in_rust() -> None:
    book, ref = loaded("gate", PAIR), loaded("gate", PAIR)
    dec = StreamDecoder("gateio")
    dec.register_book(PAIR, book)
    pushes = [
        gate_depth(11, 12, [["99.5", "1"], ["99", "0"]], [["100.5", "3"]]),
        gate_depth(13, 13, [], [["100.5", "0"]]),
        gate_depth(20, 21, [["99.7", "1"]], []),  # gap
    ]
    items = dec.feed(b"".join(frame(p) for p in pushes) + frame(gate_trade(5)))
    for p in pushes:
        gateio.apply_depth(p, ref)
    assert [i.status for i in items[:3]] == [BookStatus.APPLIED, BookStatus.APPLIED, BookStatus.GAP]
    assert all(isinstance(i, BookUpdate) and i.kind == "book" for i in items[:3])
    symbol, status = items[0]
    assert (symbol, status) == (PAIR, BookStatus.APPLIED) and items[0].book is book
    # Cached: the same object for the same symbol and status.
    assert items[0] is items[1]
    assert isinstance(items[3], gateio.GateTrade)
    assert book.depth() == ref.depth()


def test_gate_book_for_other_pair_and_silent_mode() -> None:
    book = loaded("gate", PAIR)
    dec = StreamDecoder("gateio")
    dec.register_book(PAIR, book, emit=False)
    other = gate_depth(11, 11, [["1", "1"]], [], pair="ETH_USDT")
    mine = gate_depth(11, 11, [["99.5", "1"]], [])
    items = dec.feed(frame(other) + frame(mine))
    # Silent mode still reports the push that brought the book into sync, and nothing after.
    assert len(items) == 2 and isinstance(items[0], gateio.GateDepthUpdate)
    assert items[0].symbol == "ETH_USDT"
    assert items[1].status == BookStatus.APPLIED and book.in_sync
    assert book.size_at("bid", "99.5") == 1
    assert dec.feed(frame(gate_depth(12, 12, [["99.5", "2"]], []))) == []
    assert book.size_at("bid", "99.5") == 2
    assert dec.symbols == [PAIR]
    assert dec.unregister_book(PAIR) and not dec.unregister_book(PAIR)
    items = dec.feed(frame(gate_depth(13, 13, [], [])))
    assert isinstance(items[0], gateio.GateDepthUpdate)


def test_mexc_events_controls_and_books() -> None:
    book, ref = loaded("mexc"), loaded("mexc")
    dec = StreamDecoder("mexc")
    dec.register_book(SYMBOL, book)
    push = mexc_depth(11, 12, [("99.5", "1")], [("101", "0")])
    other = mexc_depth(11, 12, [("5", "1")], [], symbol="ETHUSDT")
    ack = b'{"id":1,"code":0,"msg":"spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"}'
    items = dec.feed(frame(push, 2) + frame(other, 2) + frame(ack, 1))
    mexc.apply_depth(push, ref)
    assert items[0].status is BookStatus.APPLIED and items[0].symbol == SYMBOL
    assert isinstance(items[1], mexc.MexcDepthUpdate)
    assert items[1].to_dict() == mexc.decode(other).to_dict()
    assert items[2].kind == mexc.parse_control(ack.decode()).kind == "ack"
    assert book.depth() == ref.depth()


def test_undecodable_payloads_come_back_raw_and_the_chunk_goes_on() -> None:
    dec = StreamDecoder("gateio")
    items = dec.feed(frame(b'{"channel":') + frame(gate_trade(1)))
    assert items[0] == b'{"channel":'
    assert isinstance(items[1], gateio.GateTrade)
    with pytest.raises(hftws.GateDecodeError):
        gateio.parse(items[0])
    m = StreamDecoder("mexc")
    items = m.feed(frame(b"\xff\xff", 2) + frame(b"not json", 1))
    assert items[0] == b"\xff\xff" and items[1].kind == "text"
    with pytest.raises(hftws.MexcDecodeError):
        mexc.decode(items[0])


def test_protocol_error_keeps_items_and_close_is_reported() -> None:
    dec = StreamDecoder("gateio")
    masked = bytes((0x81, 0x80 | 1)) + b"abcd" + b"x"  # servers must not mask
    with pytest.raises(ProtocolError) as err:
        dec.feed(frame(gate_trade(1)) + masked)
    assert len(err.value.messages) == 1 and err.value.close_code == 1002
    dec = StreamDecoder("gateio")
    items = dec.feed(frame((1000).to_bytes(2, "big") + b"bye", 8))
    assert items == [(8, (1000).to_bytes(2, "big") + b"bye")]
    assert dec.closed and dec.close_code == 1000 and dec.close_reason == "bye"


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown exchange"):
        StreamDecoder("bitmex")
    with pytest.raises(ValueError):
        StreamDecoder("mexc", max_message_size=0)
    with pytest.raises(ValueError):
        StreamDecoder("mexc").register_book("", OrderBook("mexc"))
    assert StreamDecoder("gate_futures").exchange == "gateio_futures"


@given(st.data())
def test_any_chunking_gives_the_unfused_result(data: Any) -> None:
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    payloads, uid = [], 10
    for i in range(rng.randint(1, 30)):
        if rng.random() < 0.6:
            price = f"{rng.randint(90, 110)}.{rng.randint(0, 9)}"
            size = "0" if rng.random() < 0.25 else f"{rng.randint(1, 9)}"
            side = ([[price, size]], []) if float(price) < 100 else ([], [[price, size]])
            payloads.append(gate_depth(uid + 1, uid + 1, *side))
            uid += 1
        else:
            payloads.append(gate_trade(i))
    wire = b"".join(frame(p) for p in payloads)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=8)))
    book, ref = loaded("gate", PAIR), loaded("gate", PAIR)
    dec = StreamDecoder("gateio")
    dec.register_book(PAIR, book)
    items = []
    for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        items += dec.feed(wire[a:b])
    assert len(items) == len(payloads)
    for item, p in zip(items, payloads, strict=True):
        want = gateio.apply_depth(p, ref)
        if want is None:
            parsed: Any = gateio.parse(p)
            assert item.to_dict() == parsed.to_dict()
        else:
            assert item.status is want
    assert book.depth() == ref.depth()


async def test_transport_with_exchange_delivers_events_books_and_answers_controls() -> None:
    import asyncio
    import base64
    import hashlib

    from client_helpers import wait_for

    from hftws import transport

    guid = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    push = gate_depth(11, 11, [["99.5", "4"]], [])
    wire = frame(b"hb", 9) + frame(gate_trade(1)) + frame(push)
    wire += frame((1000).to_bytes(2, "big") + b"done", 8)
    received = bytearray()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1(key + guid).digest())
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n" + wire
        )
        await writer.drain()
        while chunk := await reader.read(4096):
            received.extend(chunk)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    book = loaded("gate", PAIR)
    items: list[object] = []
    try:
        conn = await transport.connect(
            f"ws://127.0.0.1:{port}/",
            on_messages=lambda batch, _ns: items.extend(batch),
            exchange="gateio",
            books={PAIR: book},
        )
        assert conn.exchange == "gateio"
        code, reason = await asyncio.wait_for(asyncio.shield(conn.closed), 5)
        await wait_for(lambda: len(received) >= 2)
    finally:
        server.close()
        await server.wait_closed()
    assert (code, reason) == (1000, "done")
    assert isinstance(items[0], gateio.GateTrade)
    assert isinstance(items[1], BookUpdate) and items[1].status is BookStatus.APPLIED
    assert len(items) == 2  # control frames are answered, not delivered
    assert book.size_at("bid", "99.5") == 4
    assert received[0] == 0x8A  # the pong, first thing the client sent
    raw = transport.WebSocketConnection("h", "/", on_messages=lambda *_: None)
    with pytest.raises(ValueError, match="exchange="):
        raw.register_book(PAIR, book)


def test_apply_depth_accepts_the_events_the_fused_decoder_delivers() -> None:
    # OrderBookManager applies the handler's current message; with the fused decoder that is
    # the event, which stands for the frame it holds.
    gate_push = gate_depth(11, 11, [["99.5", "4"]], [])
    (gev,) = StreamDecoder("gateio").feed(frame(gate_push))
    book = loaded("gate", PAIR)
    assert gateio.apply_depth(gev, book) is BookStatus.APPLIED
    assert book.size_at("bid", "99.5") == 4
    mexc_push = mexc_depth(11, 11, [("99.5", "4")], [])
    (mev,) = StreamDecoder("mexc").feed(frame(mexc_push, 2))
    book = loaded("mexc")
    assert mexc.apply_depth(mev, book) is BookStatus.APPLIED
    assert book.size_at("bid", "99.5") == 4
    with pytest.raises(TypeError):
        mexc.apply_depth(gev, book)


def test_notify_receives_statuses_instead_of_items(monkeypatch: pytest.MonkeyPatch) -> None:
    book = loaded("gate", PAIR)
    dec = StreamDecoder("gateio")
    seen: list[tuple[BookStatus, bool, int]] = []

    def notify(status: BookStatus) -> None:
        # The book is released before the call: reading it here must work.
        seen.append((status, book.in_sync, book.sequence))

    dec.register_book(PAIR, book, emit=True, notify=notify)
    items = dec.feed(
        frame(gate_depth(11, 11, [["99.5", "1"]], [])) + frame(gate_depth(14, 15, [], []))
    )
    assert items == []
    assert seen == [(BookStatus.APPLIED, True, 11), (BookStatus.GAP, False, 11)]

    # A failing listener is reported as unraisable and the read goes on.
    caught: list[BaseException | None] = []
    monkeypatch.setattr("sys.unraisablehook", lambda u: caught.append(u.exc_value))
    other = loaded("gate", PAIR)
    dec.register_book(PAIR, other, emit=True, notify=lambda st: 1 / 0)
    items = dec.feed(frame(gate_depth(11, 11, [], [])) + frame(gate_depth(12, 12, [], [])))
    assert items == [] and other.sequence == 12
    assert len(caught) == 2 and all(isinstance(e, ZeroDivisionError) for e in caught)


def test_binance_and_kucoin_books_and_events_through_the_decoder() -> None:
    from hftws import binance, kucoin

    def bn_depth(first: int, last: int, bids: Any, sym: str = "BNBBTC") -> bytes:
        msg = {"e": "depthUpdate", "E": 1, "s": sym, "U": first, "u": last, "b": bids, "a": []}
        return json.dumps(msg).encode()

    book = OrderBook("binance", symbol="BNBBTC")
    book.load_snapshot([("0.0024", "1")], [("0.0026", "1")], 156)
    dec = StreamDecoder("binance")
    dec.register_book("BNBBTC", book)
    trade = b'{"e":"trade","E":1,"s":"BNBBTC","t":12,"p":"0.001","q":"100","T":1,"m":true}'
    items = dec.feed(
        frame(bn_depth(157, 160, [["0.0024", "2"]]))
        + frame(bn_depth(161, 161, [["0.0025", "1"]], sym="ETHBTC"))
        + frame(trade)
        + frame(bn_depth(170, 171, []))
    )
    assert items[0].status == BookStatus.APPLIED and book.size_at("bid", "0.0024") == 2
    assert isinstance(items[1], binance.BinanceDepthUpdate) and items[1].symbol == "ETHBTC"
    assert isinstance(items[2], binance.BinanceTrade) and items[2].price_str == "0.001"
    assert items[3].status == BookStatus.GAP and not book.in_sync

    kbook = OrderBook("kucoin", symbol="ETH-USDT")
    kbook.load_snapshot([("3988.50", "1")], [("3988.59", "1")], 16)
    kdec = StreamDecoder("kucoin")
    kdec.register_book("ETH-USDT", kbook)
    push = {
        "topic": "/market/level2:ETH-USDT",
        "type": "message",
        "subject": "trade.l2update",
        "data": {
            "changes": {"asks": [], "bids": [["3988.50", "7", "17"]]},
            "sequenceStart": 17,
            "sequenceEnd": 17,
            "symbol": "ETH-USDT",
            "time": 1,
        },
    }
    pong = b'{"id":"1","type":"pong","timestamp":1}'
    items = kdec.feed(frame(json.dumps(push).encode()) + frame(pong))
    assert items[0].status == BookStatus.APPLIED and kbook.in_sync
    assert kbook.size_at("bid", "3988.50") == 7
    assert isinstance(items[1], kucoin.KucoinControl)
    assert StreamDecoder("binance_futures").exchange == "binance_futures"
    assert StreamDecoder("kucoin_futures").exchange == "kucoin_futures"
