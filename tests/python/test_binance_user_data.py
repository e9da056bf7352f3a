# ruff: noqa: E501  (doc payloads are kept verbatim, one per line)
"""Binance user-data records and their common events: golden tests from the reference's
example payloads (``binance.md`` §12 items 5, 6, 7, 9, 10), a cross-check against
``json.loads``, fuzzing of the handler, and the typed factories."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_typing import check

from hftws._core import DecodeError
from hftws.binance_user_data import BinanceUserEvent, BinanceWsApiResponse, parse_user_data
from hftws.events import MessageType
from hftws.exchanges.binance_private import (
    BinanceFuturesPrivateMessageHandler,
    BinancePrivateMessageHandler,
)
from hftws.private_events import (
    BalanceUpdate,
    Execution,
    OrderUpdate,
    PositionUpdate,
    from_binance,
)

# binance.md §12, copied as printed there.
SUBSCRIBED = (
    '{"id":"d3df8a22-98ea-4fe0-9f4e-0fcea5d418b7","status":200,"result":{"subscriptionId":0}}'
)
ACCOUNT_POSITION = '{"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1728972148778,"u":1728972148778,"B":[{"a":"BTC","f":"11818.00000000","l":"182.00000000"},{"a":"USDT","f":"10580.00000000","l":"70.00000000"}]}}'
EXECUTION_REPORT = '{"subscriptionId":0,"event":{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"NEW","X":"NEW","r":"NONE","i":4293153,"l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0","N":null,"T":1499405658657,"t":-1,"v":3,"I":8641984,"w":true,"m":false,"M":false,"O":1499405658657,"Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":1499405658657,"V":"NONE"}}'
BANNED = '{"id":"fc93a61a-a192-4cf4-bb2a-a8f0f0c51e06","status":418,"error":{"code":-1003,"msg":"Way too much request weight used; IP banned until 1659146400000. Please use WebSocket Streams for live updates to avoid bans.","data":{"serverTime":1659142907531,"retryAfter":1659146400000}}}'
ORDER_TRADE_UPDATE = '{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"TEST","S":"SELL","o":"TRAILING_STOP_MARKET","f":"GTC","q":"0.001","p":"0","ap":"0","sp":"7103.04","x":"NEW","X":"NEW","i":8886774,"l":"0","z":"0","L":"0","N":"USDT","n":"0","T":1568879465651,"t":0,"b":"0","a":"9.91","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"TRAILING_STOP_MARKET","ps":"LONG","cp":false,"AP":"7476.89","cr":"5.0","rp":"0"}}'
TRADE_LITE = '{"e":"TRADE_LITE","E":1721895408092,"T":1721895408214,"s":"BTCUSDT","q":"0.001","p":"0","m":false,"c":"z8hcUoOsqEdKMeKPSABslD","S":"BUY","L":"64089.20","l":"0.040","t":109100866,"i":8886774}'
ACCOUNT_UPDATE = '{"e":"ACCOUNT_UPDATE","E":1564745798939,"T":1564745798938,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"122624.12345678","cw":"100.12345678","bc":"50.12345678"}],"P":[{"s":"BTCUSDT","pa":"0","ep":"0.00000","bep":"0","cr":"200","up":"0","mt":"isolated","iw":"0.00000000","ps":"BOTH"}]}}'
REVOKED = '{"id":null,"status":401,"error":{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}}'
SHUTDOWN = '{"event":{"e":"serverShutdown","E":1770123456789}}'
EXPIRED = '{"e":"listenKeyExpired","E":1576653824250,"listenKey":"OfYGbUzi3PEBvjPGqDGMgTFqBfqlsRyVRasLMnFTkeCVGgpXw1tDuTdTnOmDvp7X"}'


def test_ws_api_answers() -> None:
    ok = parse_user_data(SUBSCRIBED, "spot")
    assert isinstance(ok, BinanceWsApiResponse) and ok.ok and ok.kind == "ack"
    assert ok.result == {"subscriptionId": 0} and ok.reason == ""
    banned = parse_user_data(BANNED, "spot")
    assert isinstance(banned, BinanceWsApiResponse) and banned.kind == "error"
    assert (banned.status, banned.error_code) == (418, -1003)
    assert banned.reason.startswith("-1003 Way too much request weight used")
    revoked = parse_user_data(REVOKED, "spot")
    assert isinstance(revoked, BinanceWsApiResponse)
    assert (revoked.id, revoked.status, revoked.error_code) == (None, 401, -2015)


def test_execution_report_doc_sample() -> None:
    record = parse_user_data(EXECUTION_REPORT, "spot")
    assert isinstance(record, BinanceUserEvent) and record.subscription_id == 0
    assert (record.kind, record.event_type, record.event_time_ms) == (
        "order",
        "executionReport",
        1499405658658,
    )
    (order,) = from_binance(record)
    assert order == OrderUpdate(
        "binance",
        "ETHBTC",
        "4293153",
        "mUvoqJxFIILMdfAW5iGSOW",
        "buy",
        "limit",
        "new",
        Decimal("0.10264410"),
        Decimal("1.00000000"),
        Decimal("0E-8"),
        Decimal("1.00000000"),
        None,
        1499405658657,
        record,
    )


def test_cancel_uses_the_original_client_order_id() -> None:
    data = json.loads(EXECUTION_REPORT)
    data["event"] |= {"x": "CANCELED", "X": "CANCELED", "c": "cancel-req", "C": "my-order"}
    (order,) = from_binance(parse_user_data(json.dumps(data), "spot"))
    assert isinstance(order, OrderUpdate)
    assert (order.status, order.client_order_id) == ("cancelled", "my-order")


def test_account_position_doc_sample() -> None:
    record = parse_user_data(ACCOUNT_POSITION, "spot")
    btc, usdt = from_binance(record)
    assert isinstance(btc, BalanceUpdate) and isinstance(usdt, BalanceUpdate)
    assert (btc.asset, btc.available, btc.frozen, btc.total) == (
        "BTC",
        Decimal("11818"),
        Decimal("182"),
        Decimal("12000"),
    )
    assert (usdt.asset, usdt.total, usdt.time_ms) == ("USDT", Decimal("10650"), 1728972148778)


def test_futures_doc_samples() -> None:
    (order,) = from_binance(parse_user_data(ORDER_TRADE_UPDATE, "futures"))
    assert isinstance(order, OrderUpdate) and order.exchange == "binance_futures"
    assert (order.order_type, order.side, order.status, order.price) == (
        "stop",
        "sell",
        "new",
        Decimal(0),
    )
    assert order.time_ms == 1568879465651 and order.avg_price is None
    (fill,) = from_binance(parse_user_data(TRADE_LITE, "futures"))
    assert isinstance(fill, Execution)
    assert (fill.trade_id, fill.order_id, fill.price, fill.quantity, fill.fee) == (
        "109100866",
        "8886774",
        Decimal("64089.20"),
        Decimal("0.040"),
        None,
    )
    balance, position = from_binance(parse_user_data(ACCOUNT_UPDATE, "futures"))
    assert isinstance(balance, BalanceUpdate) and isinstance(position, PositionUpdate)
    assert (balance.total, balance.available, balance.change, balance.change_type) == (
        Decimal("122624.12345678"),
        None,
        Decimal("50.12345678"),
        "order",
    )
    assert isinstance(balance.raw, BinanceUserEvent)
    assert balance.raw.data["a"]["B"][0]["cw"] == "100.12345678"  # cross wallet, via raw
    assert (position.symbol, position.size, position.side, position.mode) == (
        "BTCUSDT",
        Decimal(0),
        None,
        "isolated",
    )
    assert position.margin == Decimal(0) and position.realised_pnl == Decimal(200)


def test_notices_route_as_errors_and_hide_the_listen_key() -> None:
    shutdown = parse_user_data(SHUTDOWN, "spot")
    assert isinstance(shutdown, BinanceUserEvent)
    assert (shutdown.kind, shutdown.event_type, shutdown.subscription_id) == (
        "error",
        "serverShutdown",
        None,
    )
    expired = parse_user_data(EXPIRED, "futures")
    assert isinstance(expired, BinanceUserEvent) and expired.kind == "error"
    assert expired.get("listenKey") == "<listenKey>" and "OfYGbUzi" not in repr(expired)
    assert from_binance(expired) == ()


@pytest.mark.parametrize(
    "frame",
    [
        '{"e":"ACCOUNT_UPDATE","a":{"B":[1]}}',
        '{"e":"ACCOUNT_UPDATE","a":{"P":5}}',
        '{"e":"TRADE_LITE","L":[1]}',
        '{"e":"ORDER_TRADE_UPDATE","o":{"S":5,"q":{}}}',
        '{"e":"ORDER_TRADE_UPDATE","o":[]}',
    ],
)
def test_malformed_known_events_are_counted_decode_errors(frame: str) -> None:
    handler = BinanceFuturesPrivateMessageHandler()
    assert handler._handle_message(frame) is MessageType.ERROR
    assert sum(handler.metrics.errors.values()) == 1


@pytest.mark.parametrize(
    "frame",
    ["", "{", "[]", '{"e":1}', '{"status":"200","id":1}', b"\xff\xfe", '{"event":{"E":1}}'],
)
def test_bad_frames_are_decode_errors(frame: Any) -> None:
    with pytest.raises(DecodeError):
        parse_user_data(frame, "spot")


def test_bad_decimal_is_a_decode_error_counted_by_the_handler() -> None:
    handler = BinancePrivateMessageHandler()
    bad = EXECUTION_REPORT.replace('"p":"0.10264410"', '"p":"0.1x"')
    assert handler._handle_message(bad) is MessageType.ERROR
    assert sum(handler.metrics.errors.values()) == 1


_DECIMALS = st.decimals(allow_nan=False, allow_infinity=False, places=8).map(str)
_FIELDS = st.fixed_dictionaries(
    {
        "s": st.text(min_size=1, max_size=12),
        "S": st.sampled_from(["BUY", "SELL"]),
        "o": st.sampled_from(["LIMIT", "MARKET", "LIMIT_MAKER", "STOP_LOSS_LIMIT"]),
        "f": st.sampled_from(["GTC", "IOC", "FOK"]),
        "x": st.sampled_from(["NEW", "TRADE", "CANCELED", "EXPIRED"]),
        "X": st.sampled_from(["NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "REJECTED"]),
        "q": _DECIMALS,
        "p": _DECIMALS,
        "l": _DECIMALS,
        "z": _DECIMALS,
        "L": _DECIMALS,
        "Z": _DECIMALS,
        "n": _DECIMALS,
        "i": st.integers(0, 2**63 - 1),
        "t": st.integers(-1, 2**63 - 1),
        "T": st.integers(0, 2**53),
        "m": st.booleans(),
        "c": st.text(max_size=36),
        "C": st.text(max_size=36),
    }
)


@given(fields=_FIELDS, sid=st.integers(0, 65535))
def test_execution_reports_cross_check_with_json_loads(fields: dict[str, Any], sid: int) -> None:
    frame = json.dumps({"subscriptionId": sid, "event": {"e": "executionReport", **fields}})
    record = parse_user_data(frame, "spot")
    assert isinstance(record, BinanceUserEvent) and record.subscription_id == sid
    assert record.data == json.loads(frame)["event"]
    events = from_binance(record)
    order = events[0]
    assert isinstance(order, OrderUpdate)
    assert order.price == Decimal(fields["p"]) and order.filled_quantity == Decimal(fields["z"])
    assert str(order.quantity) == fields["q"]  # exact: the text survives
    assert len(events) == (2 if fields["x"] == "TRADE" else 1)
    if fields["x"] == "TRADE":
        fill = events[1]
        assert isinstance(fill, Execution)
        assert (fill.price, fill.quantity, fill.is_maker) == (
            Decimal(fields["L"]),
            Decimal(fields["l"]),
            fields["m"],
        )


@given(frame=st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_fuzzed_frames_never_raise_out_of_the_handler(frame: Any) -> None:
    for handler in (BinancePrivateMessageHandler(), BinanceFuturesPrivateMessageHandler()):
        handler._handle_message(frame)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(list("eEaBPoisSXxqplzLT")), inner, max_size=6)
        ),
        max_leaves=20,
    ),
    st.sampled_from(["executionReport", "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "TRADE_LITE"]),
)
def test_fuzzed_events_of_known_types_never_raise_out_of_the_handler(body: Any, etype: str) -> None:
    event = body if isinstance(body, dict) else {"x": body}
    frame = json.dumps({**event, "e": etype})
    BinanceFuturesPrivateMessageHandler()._handle_message(frame)
    BinancePrivateMessageHandler()._handle_message(json.dumps({"event": {**event, "e": etype}}))


def test_factories_are_typed(tmp_path: Path) -> None:
    good = """
        from hftws import Credentials, create_websocket_handler_direct

        async def main() -> None:
            creds = Credentials("k", "pem", key_type="ed25519")
            spot = create_websocket_handler_direct("binance_private", credentials=creds)
            spot.handler.on_order(lambda o: print(o.status, o.filled_quantity, o.raw))
            fut = create_websocket_handler_direct("binance_futures_private", credentials=creds)
            fut.handler.on_position(lambda p: print(p.size, p.entry_price, p.mode))
            print(fut.listen_key_stats["created"], spot.server_clock.offset_ms)
            async with fut:
                await fut.subscribe_private()
        """
    out = check(tmp_path, good)
    assert "Success" in out, out
    bad = (
        "from hftws import create_websocket_handler_direct\n"
        'create_websocket_handler_direct("binance_futures_private")'
        ".handler.on_position(lambda p: print(p.sise))\n"
    )
    out = check(tmp_path, bad)
    assert "sise" in out and "error" in out, out


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
_SAMPLES = [
    (EXECUTION_REPORT, BinancePrivateMessageHandler),
    (ACCOUNT_POSITION, BinancePrivateMessageHandler),
    (ORDER_TRADE_UPDATE, BinanceFuturesPrivateMessageHandler),
    (TRADE_LITE, BinanceFuturesPrivateMessageHandler),
    (ACCOUNT_UPDATE, BinanceFuturesPrivateMessageHandler),
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@given(sample=st.sampled_from(_SAMPLES), data=st.data(), value=_JSON)
def test_doc_samples_with_one_field_of_any_type_never_escape(
    sample: tuple[str, type[BinancePrivateMessageHandler]], data: Any, value: Any
) -> None:
    frame, handler_class = sample
    doc = json.loads(frame)
    path = data.draw(st.sampled_from(_paths(doc)))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    handler = handler_class()
    mtype = handler._handle_message(json.dumps(doc))
    assert mtype in set(MessageType)
