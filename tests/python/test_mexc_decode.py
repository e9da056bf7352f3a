"""Hand-written MEXC wire vectors (mexc.md §4.4, §9) and the typed events built from them."""

from __future__ import annotations

import decimal
import json
import pickle
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from google.protobuf import message as google_message
from hypothesis import given
from hypothesis import strategies as st

import hftws
from hftws import DecodeError, HftwsError, mexc
from hftws.testing import mexc_proto


def any_decode(data: Any) -> Any:
    """``mexc.decode`` typed loosely: each test asserts the concrete event type itself."""
    return mexc.decode(data)


# mexc.md §9 example 5, byte for byte.
VECTOR_273 = bytes.fromhex(
    "0a2e73706f74407075626c69632e61676772652e64657074682e76332e6170692e70624031306d7340425443"
    "555344541a074254435553445430a8e3eef58833ca13cd010a0e0a093131373134352e34391201300a170a09"
    "3131373134352e3530120a302e30313233343530300a170a093131373134362e3032120a312e323030303030"
    "303012170a093131373134352e3438120a302e3531323030303030120e0a093131373134342e393012013012"
    "170a093131373134332e3131120a322e30303130303030301a2673706f74407075626c69632e61676772652e"
    "64657074682e76332e6170692e70624031306d73220b34333239363336333233362a0b343332393633363332"
    "353530a5e3eef58833"
)
DEPTH_CHANNEL = "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"


def varint(v: int) -> bytes:
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field(num: int, payload: bytes | str | int, wire: int = 2) -> bytes:
    if wire == 0:
        assert isinstance(payload, int)
        return varint(num << 3) + varint(payload)
    raw = payload.encode() if isinstance(payload, str) else payload
    assert isinstance(raw, bytes)
    return varint(num << 3 | 2) + varint(len(raw)) + raw


def level(price: str, qty: str) -> bytes:
    return field(1, price) + field(2, qty)


def test_reference_vector_decodes_to_the_documented_fields() -> None:
    assert len(VECTOR_273) == 273
    ev = any_decode(VECTOR_273)
    assert isinstance(ev, mexc.MexcDepthUpdate)
    assert (ev.kind, ev.channel, ev.symbol, ev.send_time) == (
        "depth",
        DEPTH_CHANNEL,
        "BTCUSDT",
        1754741322152,
    )
    assert ev.create_time is None and ev.symbol_id is None
    assert (ev.body_field, ev.body_name) == (313, "publicAggreDepths")
    assert ev.event_type == "spot@public.aggre.depth.v3.api.pb@10ms"
    assert (ev.from_version, ev.to_version) == (43296363236, 43296363255)
    assert ev.last_order_create_time == 1754741322149
    assert not ev.is_snapshot and not ev.is_item
    assert ev.asks_str == [
        ("117145.49", "0"),
        ("117145.50", "0.01234500"),
        ("117146.02", "1.20000000"),
    ]
    assert ev.bids == [(117145.48, 0.512), (117144.9, 0.0), (117143.11, 2.001)]
    assert ev.bids_decimal[2] == (decimal.Decimal("117143.11"), decimal.Decimal("2.001"))
    assert ev.raw is VECTOR_273
    assert ev.to_dict() == mexc_proto.to_dict(VECTOR_273)
    assert ev.to_dict()["sendTime"] == 1754741322152


def test_google_reencodes_the_vector_identically() -> None:
    # The schema in proto/ produces the reference bytes: field numbers and types agree.
    assert mexc_proto.encode(any_decode(VECTOR_273).to_dict()) == VECTOR_273


def test_truncation_at_every_offset_is_a_typed_error() -> None:
    for cut in range(len(VECTOR_273)):
        with pytest.raises(mexc.MexcDecodeError):
            any_decode(VECTOR_273[:cut])


def test_errors_are_decode_errors() -> None:
    assert issubclass(mexc.MexcDecodeError, DecodeError)
    assert issubclass(mexc.MexcDecodeError, HftwsError)


def test_unknown_fields_are_skipped_at_every_level() -> None:
    deal = field(1, "1.5") + field(99, b"\x00\x01") + field(3, 2, wire=0) + field(5, "T1")
    deal += varint(7 << 3 | 5) + b"\x00\x00\x00\x00"  # fixed32
    body = field(1, deal) + varint(8 << 3 | 1) + b"\x00" * 8 + field(2, "ev")  # fixed64
    frame = field(1, "ch") + field(2000, 12345, wire=0) + field(314, body) + field(7, b"x")
    ev = any_decode(frame)
    assert isinstance(ev, mexc.MexcTrades)
    (t,) = ev.trades
    assert (t.price, t.quantity, t.side, t.trade_id, t.time) == (1.5, None, "sell", "T1", 0)
    assert ev.event_type == "ev"


def test_fields_in_any_order() -> None:
    body = (
        field(5, "20")
        + field(6, 7, wire=0)
        + field(2, level("1", "2"))
        + field(4, "11")
        + field(1, level("3", "4"))
        + field(2, level("0.5", "1"))
    )
    frame = field(6, 99, wire=0) + field(313, body) + field(3, "X") + field(1, "c")
    ev = any_decode(frame)
    assert (ev.from_version, ev.to_version, ev.symbol, ev.send_time) == (11, 20, "X", 99)
    assert ev.bids_str == [("1", "2"), ("0.5", "1")]
    assert ev.asks_str == [("3", "4")]
    assert ev.to_dict() == mexc_proto.to_dict(frame)


def test_absent_fields_take_proto3_defaults() -> None:
    ev = any_decode(field(315, b""))
    assert ev.channel == "" and ev.symbol is None and ev.send_time is None
    assert (ev.bid_price, ev.bid_price_decimal, ev.bid_price_str) == (None, None, "")
    assert ev.version is None and ev.last_order_create_time == 0
    assert ev.to_dict() == mexc_proto.to_dict(field(315, b""))


def test_later_scalars_replace_earlier() -> None:
    frame = field(1, "a") + field(315, field(1, "1")) + field(1, "b")
    ev = any_decode(frame)
    assert (ev.kind, ev.channel, ev.bid_price) == ("book_ticker", "b", 1.0)
    assert ev.to_dict() == mexc_proto.to_dict(frame)


# -- Issue 13: strict like upb (Google's runtime, the judge) -----------------------------


@pytest.mark.parametrize(
    "frame",
    [
        field(314, b"") + field(315, field(1, "2")),  # two oneof members: Google keeps the last
        field(313, field(1, level("1", "1"))) + field(313, field(1, level("2", "1"))),  # merged
        field(313, b"\xff") + VECTOR_273,  # a malformed first body was never looked at
    ],
)
def test_a_second_body_field_is_refused(frame: bytes) -> None:
    # Finding 4: hftws kept the last body and dropped the first unchecked; Google merges two
    # occurrences of one field. Refusing never gives the frame another meaning.
    with pytest.raises(mexc.MexcDecodeError, match="more than one body field"):
        mexc.decode(frame)
    book = seeded_mexc_book()
    before = (book.depth(), book.sequence)
    with pytest.raises(mexc.MexcDecodeError, match="more than one body field"):
        mexc.apply_depth(frame, book)
    assert (book.depth(), book.sequence) == before


def seeded_mexc_book() -> hftws.OrderBook:
    book = hftws.OrderBook("mexc")
    book.load_snapshot([("4", "1")], [("117150", "1")], 100)
    return book


def aggre(asks: list[tuple[str, str]], bids: list[tuple[str, str]], first: int, last: int) -> bytes:
    body = b"".join(field(1, level(p, q)) for p, q in asks)
    body += b"".join(field(2, level(p, q)) for p, q in bids)
    body += field(4, str(first)) + field(5, str(last))
    return field(1, DEPTH_CHANNEL) + field(3, "BTCUSDT") + field(313, body)


@pytest.mark.parametrize(
    ("asks", "bids"),
    [([("117151", "-1")], []), ([], [("-4", "1")]), ([], [("3", "-0.00000001")])],
)
def test_negative_levels_never_reach_the_book(
    asks: list[tuple[str, str]], bids: list[tuple[str, str]]
) -> None:
    # Finding 5: a negative size (or price) went into the book as a level.
    book = seeded_mexc_book()
    with pytest.raises(mexc.MexcDecodeError, match="negative value"):
        mexc.apply_depth(aggre(asks, bids, 101, 102), book)
    assert book.sequence == 100
    assert all(decimal.Decimal(s) > 0 for side in book.depth() for _, s in side)
    assert not book.in_sync


@pytest.mark.parametrize(
    "frame",
    [
        b"\xb0\x80\x80\x80\x80\x00\x05" + field(315, b""),  # tag 6 spelled with six bytes
        b"\x0a\x81\x80\x80\x80\x80\x00x" + field(315, b""),  # length 1 spelled with six bytes
        field(315, b"") + b"\xb0\x80\x80\x80\x80\x10\x05",  # tag above 2^32
    ],
)
def test_overlong_tags_and_lengths_are_refused_like_upb(frame: bytes) -> None:
    # Finding 6: these were accepted; upb refuses every one of them.
    with pytest.raises(google_message.DecodeError):
        mexc_proto.to_dict(frame)
    with pytest.raises(mexc.MexcDecodeError, match=r"over 5 bytes|invalid field tag"):
        mexc.decode(frame)


@pytest.mark.parametrize("tenth", [0x02, 0x7F])
def test_varints_overflowing_64_bits_are_refused(tenth: int) -> None:
    # Finding 6: a tenth varint byte above 1 carries bits beyond 64. upb reads such a value
    # by its own arithmetic (0x02 gives 2**63 - 1, not what the bits say); hftws read it
    # differently again. Refusing is the only answer that cannot mean something else.
    frame = field(315, b"") + b"\x30" + b"\xff" * 9 + bytes([tenth])
    with pytest.raises(mexc.MexcDecodeError, match="over 64 bits"):
        mexc.decode(frame)


def test_upb_length_limits_still_accept_what_upb_accepts() -> None:
    frame = b"\x0a\x81\x80\x80\x80\x00x" + field(315, b"")  # length 1 in five bytes
    assert mexc.decode(frame).to_dict() == mexc_proto.to_dict(frame)
    frame = field(315, b"") + b"\x30" + b"\x81" + b"\x80" * 8 + b"\x00"  # value padded to 10
    assert mexc.decode(frame).to_dict() == mexc_proto.to_dict(frame)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (field(1, 5, wire=0), r"^channel: wrong wire type 0 \(schema needs 2\)$"),
        (field(3, b"\xc3\x28"), r"^symbol: string is not valid UTF-8$"),
        (field(313, field(3, b"\xff")), r"^publicAggreDepths\.eventType: .*UTF-8"),
        (field(6, b"1"), r"^sendTime: wrong wire type 2"),
        (b"\x30" + b"\xff" * 10 + b"\x01", r"varint longer than 10 bytes or over 64 bits"),
        (b"\x0a\x05ab", r"^channel: length 5 runs past the end \(2 bytes left\)$"),
        (b"\x00", r"invalid field tag 0"),
        (b"\x0b", r"wrong wire type 3"),  # groups are not part of proto3
        (field(1, "x"), r"no known body"),
        (field(316, b""), r"no known body"),
        (field(313, field(1, b"\x0a\x03ab")), r"^publicAggreDepths\.asks(\.price)?: length 3"),
        (field(308, field(2, b"1")), r"^publicSpotKline\.windowStart: wrong wire type 2"),
        (field(304, field(12, "1x")), r"^privateOrders\.lastDealQuantity: invalid decimal"),
        (
            field(312, field(1, field(2, level("1", "x")))),
            r"^publicIncreaseDepthsBatch\.items\.bids\.quantity: invalid decimal",
        ),
        (field(313, field(5, "12x")), r"^publicAggreDepths\.toVersion: invalid integer '12x'$"),
    ],
)
def test_malformed_frames_raise_named_errors(frame: bytes, message: str) -> None:
    with pytest.raises(mexc.MexcDecodeError, match=message):
        any_decode(frame)


def test_negative_int32_and_extreme_int64() -> None:
    item = field(3, 2**64 - 1, wire=0) + field(4, 2**63, wire=0)
    ev = any_decode(field(301, field(1, item)) + field(5, 2**64 - 1, wire=0))
    (t,) = ev.trades
    assert (t.trade_type, t.time, t.side) == (-1, -(2**63), None)
    assert ev.create_time == -1
    assert ev.to_dict() == mexc_proto.to_dict(
        field(301, field(1, item)) + field(5, 2**64 - 1, wire=0)
    )


def test_buffers_other_than_bytes_are_accepted() -> None:
    for data in (bytearray(VECTOR_273), memoryview(VECTOR_273)):
        assert any_decode(data).to_dict() == any_decode(VECTOR_273).to_dict()
    for bad in ("text", 5, None):
        with pytest.raises(TypeError):
            any_decode(bad)


def encode(body_name: str, body: Mapping[str, object], **header: object) -> bytes:
    return mexc_proto.encode({"channel": "ch", **header, body_name: body})


def test_trades_event() -> None:
    frame = encode(
        "publicAggreDeals",
        {
            "deals": [
                {"price": "117145.50", "quantity": "0.00420000", "tradeType": 1,
                 "time": 1754741322163, "tradeId": "730292425431437318X0"},
                {"price": "117145.49", "quantity": "1", "tradeType": 2, "time": 1754741322164},
            ],
            "eventType": "spot@public.aggre.deals.v3.api.pb@10ms",
        },
        symbol="BTCUSDT",
        sendTime=1754741322171,
    )  # fmt: skip
    ev = any_decode(frame)
    assert (ev.kind, len(ev), ev.aggregated, ev.symbol) == ("trades", 2, True, "BTCUSDT")
    a, b = ev.trades
    assert (a.kind, a.side, a.price_str, a.trade_id, a.is_item) == (
        "trade",
        "buy",
        "117145.50",
        "730292425431437318X0",
        True,
    )
    assert a.quantity_decimal == decimal.Decimal("0.0042") and a.symbol == "BTCUSDT"
    assert (b.side, b.trade_id, b.quantity) == ("sell", None, 1.0)
    assert a.to_dict() == mexc_proto.to_dict(frame)["publicAggreDeals"]["deals"][0]
    old = any_decode(encode("publicDeals", {"deals": [{"price": "1", "tradeType": 1}]}))
    assert not old.aggregated and old.trades[0].trade_id is None
    assert "tradeId" not in old.to_dict()["publicDeals"]["deals"][0]


def test_book_ticker_events() -> None:
    t = {"bidPrice": "117145.48", "bidQuantity": "0.51200000", "askPrice": "117145.50",
         "askQuantity": "0.01234500"}  # fmt: skip
    ev = any_decode(
        encode("publicAggreBookTicker", {**t, "version": "43296363255", "lastOrderCreateTime": 9})
    )
    assert (ev.kind, ev.bid_price, ev.ask_quantity_str, ev.version) == (
        "book_ticker",
        117145.48,
        "0.01234500",
        43296363255,
    )
    assert ev.ask_price_decimal == decimal.Decimal("117145.50")
    assert ev.last_order_create_time == 9
    plain = any_decode(encode("publicBookTicker", t))
    assert plain.version is None and "version" not in plain.to_dict()["publicBookTicker"]
    batch_frame = encode("publicBookTickerBatch", {"items": [t, t], "version": "7"})
    batch = any_decode(batch_frame)
    assert (batch.kind, len(batch), batch.version) == ("book_tickers", 2, 7)
    first = batch.items[0]
    assert first.is_item and first.bid_price == 117145.48
    assert first.to_dict() == mexc_proto.to_dict(batch_frame)["publicBookTickerBatch"]["items"][0]


def test_batch_bodies_reach_callbacks() -> None:
    # Issue 13: bodies 311 (batch book tickers) and 312 (batch depth) decoded but were routed
    # UNKNOWN, so no callback ever saw them.
    from hftws.events import MessageType
    from hftws.exchanges import MexcPublicHandler

    handler = MexcPublicHandler().handler
    t = {"bidPrice": "1", "bidQuantity": "2", "askPrice": "3", "askQuantity": "4"}
    tickers = any_decode(encode("publicBookTickerBatch", {"items": [t], "version": "7"}))
    depth = any_decode(
        encode(
            "publicIncreaseDepthsBatch",
            {"items": [{"asks": [], "bids": [{"price": "1", "quantity": "1"}], "version": "5"}]},
        )
    )
    assert handler._detect_message_type(tickers) is MessageType.TICKER
    assert handler._detect_message_type(depth) is MessageType.ORDERBOOK


def test_kline_and_mini_tickers() -> None:
    k = any_decode(
        encode(
            "publicSpotKline",
            {"interval": "Min1", "windowStart": 1754741280, "openingPrice": "1.5",
             "closingPrice": "2", "highestPrice": "2.5", "lowestPrice": "1", "volume": "10",
             "amount": "15.5", "windowEnd": 1754741340},
            symbol="MXUSDT",
        )
    )  # fmt: skip
    assert (k.kind, k.interval, k.window_start, k.window_end) == (
        "kline",
        "Min1",
        1754741280,
        1754741340,
    )
    assert (k.open, k.close_str, k.high_decimal, k.low, k.volume, k.amount) == (
        1.5, "2", decimal.Decimal("2.5"), 1.0, 10.0, 15.5,
    )  # fmt: skip
    tick = {"symbol": "ETHUSDT", "price": "3000.1", "rate": "0.0766", "lastCloseLow": "2900"}
    m = any_decode(encode("publicMiniTicker", tick, symbol="ETHUSDT"))
    assert (m.kind, m.symbol, m.price, m.rate_decimal, m.last_close_low_str) == (
        "mini_ticker", "ETHUSDT", 3000.1, decimal.Decimal("0.0766"), "2900",
    )  # fmt: skip
    assert m.zoned_rate is None
    many = any_decode(encode("publicMiniTickers", {"items": [tick, {**tick, "symbol": "BTCUSDT"}]}))
    assert (many.kind, many.symbol, len(many)) == ("mini_tickers", None, 2)
    assert [i.symbol for i in many.items] == ["ETHUSDT", "BTCUSDT"]


def test_private_events() -> None:
    order = any_decode(
        encode(
            "privateOrders",
            {"id": "C02__505979017439002624115", "price": "3.5121", "quantity": "1",
             "amount": "0", "avgPrice": "3.6962", "orderType": 5, "tradeType": 2,
             "remainQuantity": "0", "lastDealQuantity": "1", "cumulativeQuantity": "1",
             "cumulativeAmount": "3.6962", "status": 2, "createTime": 1736417034259},
            symbol="MXUSDT",
            sendTime=1736417034281,
        )
    )  # fmt: skip
    assert (order.kind, order.id, order.side, order.order_type, order.status) == (
        "order", "C02__505979017439002624115", "sell", 5, 2,
    )  # fmt: skip
    assert order.avg_price_decimal == decimal.Decimal("3.6962")
    assert (order.last_deal_quantity, order.order_create_time, order.market) == (
        1.0,
        1736417034259,
        None,
    )
    assert order.trigger_price_str is None and order.trigger_type is None
    assert order.to_dict()["privateOrders"]["lastDealQuantity"] == "1"
    assert "market" not in order.to_dict()["privateOrders"]
    deal = any_decode(
        encode(
            "privateDeals",
            {"price": "3.6962", "quantity": "1", "amount": "3.6962", "tradeType": 1,
             "isMaker": True, "tradeId": "505979017439002624X1", "feeAmount": "0.0036962",
             "feeCurrency": "USDT", "time": 1736417034280},
        )
    )  # fmt: skip
    assert (deal.kind, deal.side, deal.is_maker, deal.is_self_trade, deal.fee_currency) == (
        "deal", "buy", True, False, "USDT",
    )  # fmt: skip
    assert deal.fee_amount_decimal == decimal.Decimal("0.0036962")
    acct = any_decode(
        encode(
            "privateAccount",
            {"vcoinName": "USDT", "balanceAmount": "100.5", "balanceAmountChange": "-3.6962",
             "frozenAmount": "0", "type": "ENTRUST", "time": 1736417034280},
        )
    )  # fmt: skip
    assert (acct.kind, acct.asset, acct.change_type, acct.symbol) == (
        "account",
        "USDT",
        "ENTRUST",
        None,
    )
    assert acct.balance_amount_change_decimal == decimal.Decimal("-3.6962")


def test_increase_depth_batches_and_limit_depth() -> None:
    item = {"bids": [{"price": "1", "quantity": "2"}], "version": "5", "eventType": "e"}
    frame = encode("publicIncreaseDepthsBatch", {"items": [item, {**item, "version": "6"}]})
    batch = any_decode(frame)
    assert (batch.kind, len(batch)) == ("depth_batch", 2)
    a, b = batch.updates
    assert (a.from_version, a.to_version, b.to_version, a.is_item) == (5, 5, 6, True)
    assert a.to_dict() == mexc_proto.to_dict(frame)["publicIncreaseDepthsBatch"]["items"][0]
    snap = any_decode(
        encode("publicLimitDepths", {"asks": [{"price": "2", "quantity": "1"}], "version": "9"})
    )
    assert snap.is_snapshot and (snap.from_version, snap.to_version) == (9, 9)


def test_events_are_immutable() -> None:
    ev = any_decode(VECTOR_273)
    with pytest.raises(AttributeError):
        ev.symbol = "ETHUSDT"
    assert "publicAggreDepths" in repr(ev)
    with pytest.raises(TypeError):
        pickle.dumps(ev)


@given(st.binary(max_size=400))
def test_random_bytes_never_crash(data: bytes) -> None:
    try:
        ev = any_decode(data)
    except mexc.MexcDecodeError:
        return
    ev.to_dict()


@given(st.data())
def test_mutated_frames_never_crash(data: st.DataObject) -> None:
    frame = bytearray(VECTOR_273)
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(frame) - 1))
        frame[i] = data.draw(st.integers(0, 255))
    try:
        ev = any_decode(bytes(frame))
    except mexc.MexcDecodeError:
        return
    assert ev.to_dict() == mexc_proto.to_dict(bytes(frame))


# -- JSON control frames (mexc.md §2.2, §9 examples 1-4) --------------------------------

BOOK = "spot@public.aggre.bookTicker.v3.api.pb@10ms@BTCUSDT"


def test_subscription_ack_success_test() -> None:
    ack = mexc.parse_control(f'{{"id":0,"code":0,"msg":"{BOOK},{DEPTH_CHANNEL}"}}')
    assert (ack.kind, ack.id, ack.code, ack.is_pong) == ("ack", 0, 0, False)
    assert ack.is_success([BOOK, DEPTH_CHANNEL])
    assert not ack.is_success([BOOK])
    assert ack.to_dict() == {"kind": "ack", "id": 0, "code": 0, "msg": f"{BOOK},{DEPTH_CHANNEL}"}


def test_blocked_refusal_with_code_zero_is_a_failure() -> None:
    text = (
        '{"id":0,"code":0,"msg":"Not Subscribed successfully! '
        '[spot@public.increase.depth.v3.api@BTCUSDT].  Reason： Blocked! "}'
    )
    c = mexc.parse_control(text.encode())
    assert (c.kind, c.code) == ("refused", 0)
    assert not c.is_success(["spot@public.increase.depth.v3.api@BTCUSDT"])
    assert c.refused_channels() == ["spot@public.increase.depth.v3.api@BTCUSDT"]


def test_pong_errors_and_plain_text() -> None:
    assert mexc.parse_control('{"id":0,"code":0,"msg":"PONG"}').is_pong
    assert (
        mexc.parse_control('{"code":700002,"msg":"Signature for this request is not valid."}').kind
        == "error"
    )
    assert mexc.parse_control("Invalid listen key").kind == "text"
    with pytest.raises(mexc.MexcDecodeError, match="invalid JSON"):
        mexc.parse_control('{"msg": ')


def test_channel_helpers() -> None:
    assert mexc.depth_channel("BTCUSDT") == DEPTH_CHANNEL
    assert (
        mexc.deals_channel("ETHUSDT", "100ms") == "spot@public.aggre.deals.v3.api.pb@100ms@ETHUSDT"
    )
    assert mexc.book_ticker_channel("BTCUSDT") == BOOK
    assert mexc.limit_depth_channel("BTCUSDT", 20) == "spot@public.limit.depth.v3.api.pb@BTCUSDT@20"
    assert mexc.kline_channel("BTCUSDT", "Hour4") == "spot@public.kline.v3.api.pb@BTCUSDT@Hour4"
    assert (
        mexc.mini_ticker_channel("BTCUSDT", "UTC+8")
        == "spot@public.miniTicker.v3.api.pb@BTCUSDT@UTC+8"
    )
    assert mexc.mini_tickers_channel() == "spot@public.miniTickers.v3.api.pb@24H"
    assert (
        mexc.book_ticker_batch_channel("BTCUSDT")
        == "spot@public.bookTicker.batch.v3.api.pb@BTCUSDT"
    )
    assert mexc.subscribe_message([BOOK, DEPTH_CHANNEL]) == (
        '{"method":"SUBSCRIPTION","params":["' + BOOK + '","' + DEPTH_CHANNEL + '"]}'
    )
    assert mexc.unsubscribe_message([BOOK], request_id=3).endswith(',"id":3}')
    assert mexc.PING == '{"method":"PING"}'
    bad_calls: list[Callable[[], object]] = [
        lambda: mexc.depth_channel("btcusdt"),
        lambda: mexc.depth_channel("BTCUSDT", "5ms"),
        lambda: mexc.limit_depth_channel("BTCUSDT", 7),
        lambda: mexc.subscribe_message([]),
    ]
    for bad in bad_calls:
        with pytest.raises(ValueError):
            bad()


@pytest.mark.parametrize(
    "text",
    [
        '{"id":0,"code":0,"msg":"spot@a\x01b"}',  # a raw control character in a string
        '{"id":0,"code":0,"msg":"spot@a\tb"}',
        '{"id":01,"code":0,"msg":"spot@x"}',  # leading zero: not JSON
        '{"id":0,"code":-01,"msg":"spot@x"}',
        '{"id":1E-8,"code":0,"msg":"spot@x"}',  # an exponent where an integer is required
        '{"id":0,"code":0.5,"msg":"spot@x"}',
        '{"id":0,"code":0,"msg":"spot@x","x":[1,]}',
    ],
)
def test_control_frames_are_strict_json(text: str) -> None:
    # Finding 7: all of these were accepted (the first five: json.loads refuses them; the
    # last two: an id or code that is not an integer was silently dropped).
    with pytest.raises(mexc.MexcDecodeError):
        mexc.parse_control(text)


def control_judge(text: str) -> dict[str, Any] | None:
    """What json.loads says a control frame is, or None when it refuses it."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


control_objects = st.dictionaries(
    st.sampled_from(["id", "code", "msg", "x"]),
    st.one_of(
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
        st.none(),
        st.lists(st.integers(), max_size=2),
    ),
    max_size=4,
)


@given(
    st.one_of(
        control_objects.map(json.dumps),
        control_objects.map(lambda d: json.dumps(d, ensure_ascii=False)),
        st.text(st.characters(codec="utf-8"), max_size=40).map(lambda t: '{"msg":"' + t + '"}'),
        st.sampled_from(["0", "00", "01", "1E-8", "1e2", "-0", "1.0", "-01"]).map(
            lambda n: '{"id":' + n + ',"code":0,"msg":"m"}'
        ),
    )
)
def test_control_frames_match_json_or_refuse(text: str) -> None:
    judged = control_judge(text)
    try:
        ctl = mexc.parse_control(text)
    except mexc.MexcDecodeError:
        return
    assert judged is not None, text  # accepted, so json.loads must accept it too
    msg = judged.get("msg")
    assert ctl.msg == (msg or "")
    for key in ("id", "code"):
        value = judged.get(key)
        assert isinstance(value, int | None) and not isinstance(value, bool), text
        assert getattr(ctl, key) == value


@given(st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_random_control_frames_never_crash(data: bytes | str) -> None:
    try:
        ctl = mexc.parse_control(data)
    except mexc.MexcDecodeError:
        return
    assert ctl.kind in {"ack", "refused", "pong", "error", "text"}
    ctl.to_dict()
    ctl.refused_channels()
