"""KuCoin private pushes -> common events: the reference's example payloads (``kucoin.md``
§12 items 5-7), control frames, and exact decimals against ``json.loads``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hftws.errors import DecodeError, HftwsError
from hftws.events import MessageType
from hftws.exchanges.kucoin_private import (
    KucoinFuturesPrivateMessageHandler,
    KucoinPrivateMessage,
    KucoinSpotPrivateMessageHandler,
    parse_private,
)
from hftws.private_events import (
    BalanceUpdate,
    Execution,
    OrderUpdate,
    PositionUpdate,
    from_kucoin,
)
from hftws.testing.kucoin_private import dumps

# kucoin.md §12.5 (SDK spec example and a Kucoin.Net fixture), §12.6, §12.7.
SPOT_RECEIVED = b'{"topic":"/spotMarket/tradeOrdersV2","type":"message","subject":"orderChange","userId":"633559791e1cbc0001f319bc","channelType":"private","data":{"clientOid":"5c52e11203aa677f33e493fc","orderId":"6720da3fa30a360007f5f832","orderTime":1730206271588,"orderType":"market","originSize":"0.00001","side":"buy","status":"new","symbol":"BTC-USDT","ts":1730206271616000000,"type":"received"}}'  # noqa: E501
SPOT_MATCH = b'{"type":"message","topic":"/spotMarket/tradeOrdersV2","subject":"orderChange","channelType":"private","data":{"symbol":"KCS-USDT","orderType":"limit","side":"sell","orderId":"5efab07953bdea00089965fa","liquidity":"taker","type":"match","feeType":"takerFee","orderTime":1593487482038606180,"size":"0.1","filledSize":"0.1","price":"0.938","matchPrice":"0.96738","matchSize":"0.1","tradeId":"5efab07a4ee4c7000a82d6d9","clientOid":"1593487481000313","remainSize":"0","status":"match","canceledSize":"0.1","canceledFunds":"0.1","originSize":"0.1","originFunds":"0.1","ts":1593487482038606180}}'  # noqa: E501
BALANCE = b'{"topic":"/account/balance","type":"message","subject":"account.balance","id":"354689988084000","userId":"633559791e1cbc0001f319bc","channelType":"private","data":{"accountId":"548674591753","currency":"USDT","total":"21.133773386762","available":"20.132773386762","hold":"1.001","availableChange":"-0.5005","holdChange":"0.5005","relationContext":{"symbol":"BTC-USDT","orderId":"6721d0632db25b0007071fdc"},"relationEvent":"trade.hold","relationEventId":"354689988084000","time":"1730269283892"}}'  # noqa: E501
FUTURES_OPEN = b'{"topic":"/contractMarket/tradeOrders:XBTUSDTM","type":"message","subject":"symbolOrderChange","userId":"633559791e1cbc0001f319bc","channelType":"private","data":{"symbol":"XBTUSDTM","side":"buy","canceledSize":"0","orderId":"247899236673269761","liquidity":"maker","marginMode":"ISOLATED","type":"open","orderTime":1731916985768138917,"size":"1","filledSize":"0","price":"91670","remainSize":"1","status":"open","ts":1731916985789000000}}'  # noqa: E501


def test_spot_received_order() -> None:
    msg = parse_private(SPOT_RECEIVED)
    assert isinstance(msg, KucoinPrivateMessage)
    assert (msg.kind, msg.market, msg.subject, msg.channel_type) == (
        "order",
        "spot",
        "orderChange",
        "private",
    )
    assert msg.to_dict() == json.loads(SPOT_RECEIVED)
    (order,) = from_kucoin(msg)
    assert isinstance(order, OrderUpdate)
    assert order == OrderUpdate(
        "kucoin",
        "BTC-USDT",
        "6720da3fa30a360007f5f832",
        "5c52e11203aa677f33e493fc",
        "buy",
        "market",
        "new",
        None,
        Decimal("0.00001"),
        None,
        None,
        None,
        1730206271616,
        msg,
    )


def test_spot_taker_match_is_an_order_update_and_a_fill() -> None:
    msg = parse_private(SPOT_MATCH)
    order, fill = from_kucoin(msg)
    assert isinstance(order, OrderUpdate) and isinstance(fill, Execution)
    assert (order.status, order.filled_quantity, order.remaining_quantity) == (
        "filled",
        Decimal("0.1"),
        Decimal(0),
    )
    assert fill == Execution(
        "kucoin",
        "KCS-USDT",
        "5efab07a4ee4c7000a82d6d9",
        "5efab07953bdea00089965fa",
        "1593487481000313",
        "sell",
        Decimal("0.96738"),
        Decimal("0.1"),
        None,
        None,
        False,
        1593487482038,
        msg,
    )


def test_balance() -> None:
    (bal,) = from_kucoin(parse_private(BALANCE))
    assert isinstance(bal, BalanceUpdate)
    assert (bal.asset, bal.available, bal.frozen, bal.total, bal.change) == (
        "USDT",
        Decimal("20.132773386762"),
        Decimal("1.001"),
        Decimal("21.133773386762"),
        Decimal("-0.5005"),
    )
    assert (bal.change_type, bal.time_ms) == ("trade.hold", 1730269283892)


def test_futures_order_and_position_numbers() -> None:
    msg = parse_private(FUTURES_OPEN)
    (order,) = from_kucoin(msg)
    assert isinstance(order, OrderUpdate)
    assert (order.exchange, order.symbol, order.status, order.quantity, order.time_ms) == (
        "kucoin_futures",
        "XBTUSDTM",
        "new",
        Decimal(1),
        1731916985789,
    )
    assert msg.symbol == "XBTUSDTM"
    frame = (
        b'{"topic":"/contract/position:XBTUSDTM","type":"message","subject":"position.change",'
        b'"data":{"symbol":"XBTUSDTM","currentQty":5,"avgEntryPrice":90503.90000000000000000001,'
        b'"positionSide":"LONG","leverage":"8","liquidationPrice":1.0E+4,'
        b'"realisedPnl":-0.0003,"marginMode":"CROSS","currentTimestamp":1731916985789}}'
    )
    (pos,) = from_kucoin(parse_private(frame))
    assert isinstance(pos, PositionUpdate)
    assert pos.entry_price == Decimal("90503.90000000000000000001")
    assert (pos.size, pos.side, pos.leverage, pos.liquidation_price, pos.realised_pnl) == (
        Decimal(5),
        "long",
        Decimal(8),
        Decimal("1.0E+4"),
        Decimal("-0.0003"),
    )
    assert (pos.mode, pos.time_ms) == ("CROSS", 1731916985789)


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"type": "open", "filledSize": "0"}, "new"),
        ({"type": "open", "filledSize": "0.5"}, "partially_filled"),
        ({"type": "update", "filledSize": "0"}, "new"),
        ({"type": "match", "remainSize": "0.1"}, "partially_filled"),
        ({"type": "match", "remainSize": "0"}, "filled"),
        ({"type": "filled"}, "filled"),
        ({"type": "canceled", "filledSize": "0.5"}, "cancelled"),
        ({"type": "something-new"}, "unknown"),
    ],
)
def test_order_statuses(fields: dict[str, Any], status: str) -> None:
    frame = dumps({"topic": "/spotMarket/tradeOrdersV2", "type": "message", "data": fields})
    order = from_kucoin(parse_private(frame))[0]
    assert isinstance(order, OrderUpdate) and order.status == status


def test_times_in_any_unit_become_ms() -> None:
    for ts in (1730206271616, 1730206271616000, 1730206271616000000, "1730206271616"):
        frame = dumps(
            {"topic": "/spotMarket/tradeOrdersV2", "type": "message", "data": {"orderTime": ts}}
        )
        assert from_kucoin(parse_private(frame))[0].time_ms == 1730206271616


def test_other_topics_stay_raw_and_bad_numbers_raise() -> None:
    stop = dumps({"topic": "/spotMarket/advancedOrders", "type": "message", "data": {"a": 1}})
    msg = parse_private(stop)
    assert isinstance(msg, KucoinPrivateMessage) and msg.kind == "other"
    assert from_kucoin(msg) == ()
    bad = dumps({"topic": "/account/balance", "type": "message", "data": {"total": "1.2.3"}})
    with pytest.raises(DecodeError):
        from_kucoin(parse_private(bad))
    with pytest.raises(HftwsError):
        parse_private(b'{"topic":"/account/balance","type":"message","data":{"total":"1')


def test_handler_routes_controls_welcome_and_events() -> None:
    handler = KucoinFuturesPrivateMessageHandler()
    welcomes: list[str | None] = []
    got: list[Any] = []
    handler.on_welcome(welcomes.append)
    handler.on_order(got.append)
    handler.on_execution(got.append)
    handler._on_internal(MessageType.SUBSCRIBE, got.append)
    handler._on_internal(MessageType.ERROR, got.append)
    assert handler._handle_message(b'{"id":"hQvf8jkno","type":"welcome"}') is MessageType.PING
    assert welcomes == ["hQvf8jkno"]
    assert handler._handle_message(b'{"id":"1","type":"pong"}') is MessageType.PING
    assert handler._handle_message(b'{"id":"2","type":"ack"}') is MessageType.SUBSCRIBE
    err = b'{"id":"3","type":"error","code":404,"data":"topic does not exist"}'
    assert handler._handle_message(err) is MessageType.ERROR
    assert handler._handle_message(FUTURES_OPEN) is MessageType.ORDER_UPDATE
    assert handler._handle_message(SPOT_MATCH) is MessageType.ORDER_UPDATE
    assert [type(e).__name__ for e in got] == [
        "KucoinControl",
        "KucoinControl",
        "OrderUpdate",
        "OrderUpdate",
        "Execution",
    ]
    assert handler._handle_message(b"{not json") is MessageType.ERROR
    assert sum(handler.metrics.errors.values()) == 1
    assert KucoinSpotPrivateMessageHandler.exchange == "kucoin"


_decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: d.is_finite()
)


@given(
    total=_decimals,
    available=_decimals,
    qty=st.integers(min_value=-(10**30), max_value=10**30),
    entry=_decimals,
)
def test_exact_against_json_loads(
    total: Decimal, available: Decimal, qty: int, entry: Decimal
) -> None:
    # Strings (spot) and JSON numbers (futures positions) both arrive exactly.
    frame = dumps(
        {
            "topic": "/account/balance",
            "type": "message",
            "data": {"total": str(total), "available": str(available)},
        }
    )
    (bal,) = from_kucoin(parse_private(frame))
    assert isinstance(bal, BalanceUpdate)
    reference = json.loads(frame)["data"]
    assert bal.total == Decimal(reference["total"]) and bal.available == Decimal(
        reference["available"]
    )
    frame = dumps(
        {
            "topic": "/contract/position:X",
            "type": "message",
            "subject": "position.change",
            "data": {"currentQty": qty, "avgEntryPrice": entry},
        }
    )
    (pos,) = from_kucoin(parse_private(frame))
    assert isinstance(pos, PositionUpdate)
    assert pos.size == Decimal(qty)
    assert pos.entry_price == json.loads(frame, parse_float=Decimal)["data"]["avgEntryPrice"]
    assert pos.entry_price == entry


_FRAMES = [SPOT_RECEIVED, SPOT_MATCH, BALANCE, FUTURES_OPEN]


@given(
    frame=st.sampled_from(_FRAMES),
    cut=st.integers(min_value=0, max_value=600),
    junk=st.binary(max_size=20),
)
def test_damaged_frames_are_counted_never_raised(frame: bytes, cut: int, junk: bytes) -> None:
    handler = KucoinSpotPrivateMessageHandler()
    damaged = frame[:cut] + junk
    try:
        parsed = parse_private(damaged)
    except HftwsError:
        parsed = None
    if isinstance(parsed, KucoinPrivateMessage):
        try:
            from_kucoin(parsed)
        except HftwsError:
            pass
    handler._handle_message(damaged)  # never raises: errors are counted
    assert sum(handler.metrics.errors.values()) <= 1


_FIELDS = [
    "symbol", "orderId", "clientOid", "side", "orderType", "type", "status", "price", "size",
    "originSize", "filledSize", "remainSize", "matchPrice", "matchSize", "tradeId", "liquidity",
    "feeType", "ts", "orderTime", "currency", "total", "available", "hold", "availableChange",
    "relationEvent", "time", "walletBalance", "availableBalance", "holdBalance", "timestamp",
    "currentQty", "avgEntryPrice", "positionSide", "leverage", "realLeverage",
    "liquidationPrice", "posMargin", "realisedPnl", "marginMode", "currentTimestamp",
]  # fmt: skip
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.text(max_size=12),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=2),
)


@given(
    topic=st.sampled_from(
        [
            "/spotMarket/tradeOrdersV2",
            "/account/balance",
            "/contractMarket/tradeOrders:XBTUSDTM",
            "/contractAccount/wallet",
            "/contract/position:XBTUSDTM",
        ]
    ),
    data=st.dictionaries(st.sampled_from(_FIELDS), _values, max_size=12),
)
def test_any_field_values_give_events_or_a_decode_error(topic: str, data: dict[str, Any]) -> None:
    frame = dumps({"topic": topic, "type": "message", "subject": "position.change", "data": data})
    try:
        events = from_kucoin(parse_private(frame))
    except HftwsError:
        return
    for event in events:
        for name in ("price", "quantity", "total", "size", "entry_price"):
            value = getattr(event, name, None)
            assert value is None or isinstance(value, Decimal)
