"""MEXC spot v3 pushes encoded in pure Python: the protobuf wire format, no Google runtime.

The local MEXC server (and so ``hftws demo``) has to *encode* pushes. Doing it with Google's
runtime would mean shipping the ``.proto`` schema and compiling it at run time (``grpc_tools``,
about 30 MB); the pushes only use varints and length-delimited fields, so a table of field
numbers and a few lines of encoding do the same job with nothing to install.

:data:`SCHEMA` copies the field numbers and types of ``proto/*.proto`` (MEXC's
``websocket-proto``); ``tests/python/test_mexc_wire.py`` checks it against Google's compiled
descriptors and checks that :func:`encode` produces the same bytes as Google's serializer::

    frame = encode({"channel": "spot@public.aggre.deals.v3.api.pb@10ms@BTCUSDT",
                    "publicAggreDeals": {"deals": [{"price": "1.5", "quantity": "2"}]}})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["SCHEMA", "encode"]

#: Scalar types of the schema (anything else in :data:`SCHEMA` names a message).
SCALARS = frozenset({"string", "int32", "int64", "bool"})

#: message -> field name -> (number, type, label). Labels: ``""`` implicit presence (a default
#: value is not written, as proto3 does), ``"optional"`` explicit presence (written whenever the
#: key is given), ``"repeated"``. Fields of one message are listed in number order.
SCHEMA: dict[str, dict[str, tuple[int, str, str]]] = {
    "PushDataV3ApiWrapper": {
        "channel": (1, "string", ""),
        "symbol": (3, "string", "optional"),
        "symbolId": (4, "string", "optional"),
        "createTime": (5, "int64", "optional"),
        "sendTime": (6, "int64", "optional"),
        # The ``body`` oneof: a member given (even empty) is written.
        "publicDeals": (301, "PublicDealsV3Api", "optional"),
        "publicIncreaseDepths": (302, "PublicIncreaseDepthsV3Api", "optional"),
        "publicLimitDepths": (303, "PublicLimitDepthsV3Api", "optional"),
        "privateOrders": (304, "PrivateOrdersV3Api", "optional"),
        "publicBookTicker": (305, "PublicBookTickerV3Api", "optional"),
        "privateDeals": (306, "PrivateDealsV3Api", "optional"),
        "privateAccount": (307, "PrivateAccountV3Api", "optional"),
        "publicSpotKline": (308, "PublicSpotKlineV3Api", "optional"),
        "publicMiniTicker": (309, "PublicMiniTickerV3Api", "optional"),
        "publicMiniTickers": (310, "PublicMiniTickersV3Api", "optional"),
        "publicBookTickerBatch": (311, "PublicBookTickerBatchV3Api", "optional"),
        "publicIncreaseDepthsBatch": (312, "PublicIncreaseDepthsBatchV3Api", "optional"),
        "publicAggreDepths": (313, "PublicAggreDepthsV3Api", "optional"),
        "publicAggreDeals": (314, "PublicAggreDealsV3Api", "optional"),
        "publicAggreBookTicker": (315, "PublicAggreBookTickerV3Api", "optional"),
    },
    "PublicDealsV3Api": {
        "deals": (1, "PublicDealsV3ApiItem", "repeated"),
        "eventType": (2, "string", ""),
    },
    "PublicDealsV3ApiItem": {
        "price": (1, "string", ""),
        "quantity": (2, "string", ""),
        "tradeType": (3, "int32", ""),
        "time": (4, "int64", ""),
    },
    "PublicIncreaseDepthsV3Api": {
        "asks": (1, "PublicIncreaseDepthV3ApiItem", "repeated"),
        "bids": (2, "PublicIncreaseDepthV3ApiItem", "repeated"),
        "eventType": (3, "string", ""),
        "version": (4, "string", ""),
    },
    "PublicIncreaseDepthV3ApiItem": {"price": (1, "string", ""), "quantity": (2, "string", "")},
    "PublicLimitDepthsV3Api": {
        "asks": (1, "PublicLimitDepthV3ApiItem", "repeated"),
        "bids": (2, "PublicLimitDepthV3ApiItem", "repeated"),
        "eventType": (3, "string", ""),
        "version": (4, "string", ""),
        "lastOrderCreateTime": (5, "int64", ""),
    },
    "PublicLimitDepthV3ApiItem": {"price": (1, "string", ""), "quantity": (2, "string", "")},
    "PrivateOrdersV3Api": {
        "id": (1, "string", ""),
        "clientId": (2, "string", ""),
        "price": (3, "string", ""),
        "quantity": (4, "string", ""),
        "amount": (5, "string", ""),
        "avgPrice": (6, "string", ""),
        "orderType": (7, "int32", ""),
        "tradeType": (8, "int32", ""),
        "isMaker": (9, "bool", ""),
        "remainAmount": (10, "string", ""),
        "remainQuantity": (11, "string", ""),
        "lastDealQuantity": (12, "string", "optional"),
        "cumulativeQuantity": (13, "string", ""),
        "cumulativeAmount": (14, "string", ""),
        "status": (15, "int32", ""),
        "createTime": (16, "int64", ""),
        "market": (17, "string", "optional"),
        "triggerType": (18, "int32", "optional"),
        "triggerPrice": (19, "string", "optional"),
        "state": (20, "int32", "optional"),
        "ocoId": (21, "string", "optional"),
        "routeFactor": (22, "string", "optional"),
        "symbolId": (23, "string", "optional"),
        "marketId": (24, "string", "optional"),
        "marketCurrencyId": (25, "string", "optional"),
        "currencyId": (26, "string", "optional"),
    },
    "PublicBookTickerV3Api": {
        "bidPrice": (1, "string", ""),
        "bidQuantity": (2, "string", ""),
        "askPrice": (3, "string", ""),
        "askQuantity": (4, "string", ""),
    },
    "PrivateDealsV3Api": {
        "price": (1, "string", ""),
        "quantity": (2, "string", ""),
        "amount": (3, "string", ""),
        "tradeType": (4, "int32", ""),
        "isMaker": (5, "bool", ""),
        "isSelfTrade": (6, "bool", ""),
        "tradeId": (7, "string", ""),
        "clientOrderId": (8, "string", ""),
        "orderId": (9, "string", ""),
        "feeAmount": (10, "string", ""),
        "feeCurrency": (11, "string", ""),
        "time": (12, "int64", ""),
    },
    "PrivateAccountV3Api": {
        "vcoinName": (1, "string", ""),
        "coinId": (2, "string", ""),
        "balanceAmount": (3, "string", ""),
        "balanceAmountChange": (4, "string", ""),
        "frozenAmount": (5, "string", ""),
        "frozenAmountChange": (6, "string", ""),
        "type": (7, "string", ""),
        "time": (8, "int64", ""),
    },
    "PublicSpotKlineV3Api": {
        "interval": (1, "string", ""),
        "windowStart": (2, "int64", ""),
        "openingPrice": (3, "string", ""),
        "closingPrice": (4, "string", ""),
        "highestPrice": (5, "string", ""),
        "lowestPrice": (6, "string", ""),
        "volume": (7, "string", ""),
        "amount": (8, "string", ""),
        "windowEnd": (9, "int64", ""),
    },
    "PublicMiniTickerV3Api": {
        "symbol": (1, "string", ""),
        "price": (2, "string", ""),
        "rate": (3, "string", ""),
        "zonedRate": (4, "string", ""),
        "high": (5, "string", ""),
        "low": (6, "string", ""),
        "volume": (7, "string", ""),
        "quantity": (8, "string", ""),
        "lastCloseRate": (9, "string", ""),
        "lastCloseZonedRate": (10, "string", ""),
        "lastCloseHigh": (11, "string", ""),
        "lastCloseLow": (12, "string", ""),
    },
    "PublicMiniTickersV3Api": {"items": (1, "PublicMiniTickerV3Api", "repeated")},
    "PublicBookTickerBatchV3Api": {
        "items": (1, "PublicBookTickerV3Api", "repeated"),
        "version": (2, "string", ""),
        "lastOrderCreateTime": (3, "int64", ""),
    },
    "PublicIncreaseDepthsBatchV3Api": {
        "items": (1, "PublicIncreaseDepthsV3Api", "repeated"),
        "eventType": (2, "string", ""),
    },
    "PublicAggreDepthsV3Api": {
        "asks": (1, "PublicAggreDepthV3ApiItem", "repeated"),
        "bids": (2, "PublicAggreDepthV3ApiItem", "repeated"),
        "eventType": (3, "string", ""),
        "fromVersion": (4, "string", ""),
        "toVersion": (5, "string", ""),
        "lastOrderCreateTime": (6, "int64", ""),
    },
    "PublicAggreDepthV3ApiItem": {"price": (1, "string", ""), "quantity": (2, "string", "")},
    "PublicAggreDealsV3Api": {
        "deals": (1, "PublicAggreDealsV3ApiItem", "repeated"),
        "eventType": (2, "string", ""),
    },
    "PublicAggreDealsV3ApiItem": {
        "price": (1, "string", ""),
        "quantity": (2, "string", ""),
        "tradeType": (3, "int32", ""),
        "time": (4, "int64", ""),
        "tradeId": (5, "string", ""),
    },
    "PublicAggreBookTickerV3Api": {
        "bidPrice": (1, "string", ""),
        "bidQuantity": (2, "string", ""),
        "askPrice": (3, "string", ""),
        "askQuantity": (4, "string", ""),
        "version": (5, "string", ""),
        "lastOrderCreateTime": (6, "int64", ""),
    },
}

_INT_RANGE = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_MISSING = object()


def _varint(out: bytearray, n: int) -> None:
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)


def _key(number: int, kind: str) -> bytes:
    out = bytearray()
    _varint(out, number << 3 | (0 if kind in SCALARS and kind != "string" else 2))
    return bytes(out)


#: Per message, in field-number order (Google's order): (name, encoded key, type, label). The
#: keys are encoded once here: the local server encodes every push of every step.
_PLANS = {
    message: tuple((name, _key(n, kind), kind, label) for name, (n, kind, label) in fields.items())
    for message, fields in SCHEMA.items()
}


def encode(push: Mapping[str, Any], message: str = "PushDataV3ApiWrapper") -> bytes:
    """Serialize ``push`` (schema field names as keys, the ``to_dict`` shape of
    :mod:`hftws.mexc` events) as ``message``, byte for byte as Google's runtime would.

    Strings are ``str``; int32/int64 are ``int`` (or a decimal string, as protobuf JSON
    writes int64); bools are ``bool``; messages are mappings; repeated fields are lists.

    Raises:
        ValueError: a key the message does not have, or a value of the wrong type or range.
    """
    out = bytearray()
    _message(out, push, message)
    return bytes(out)


def _message(out: bytearray, values: Mapping[str, Any], message: str) -> None:
    if not values.keys() <= SCHEMA[message].keys():
        unknown = sorted(values.keys() - SCHEMA[message].keys())
        raise ValueError(f"{message} has no field {unknown[0]!r}")
    for name, key, kind, label in _PLANS[message]:
        value = values.get(name, _MISSING)
        if value is _MISSING:
            continue
        if label == "repeated":
            if not isinstance(value, list | tuple):
                raise ValueError(f"{message}.{name} is repeated: give a list")
            for item in value:
                _field(out, key, kind, item, message, name, True)
        else:
            _field(out, key, kind, value, message, name, label == "optional")


def _field(
    out: bytearray, key: bytes, kind: str, value: Any, message: str, name: str, present: bool
) -> None:
    # ``present``: written even when it holds the default (explicit presence, list items);
    # otherwise proto3 leaves "", 0 and False off the wire.
    if kind == "string":
        if not isinstance(value, str):
            raise ValueError(f"{message}.{name} is a string, got {type(value).__name__}")
        if value or present:
            data = value.encode()
            out += key
            _varint(out, len(data))
            out += data
    elif kind in _INT_RANGE:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"{message}.{name} is an {kind}, got {type(value).__name__}")
        n = int(value)
        low, high = _INT_RANGE[kind]
        if not low <= n <= high:
            raise ValueError(f"{message}.{name} = {n} is out of {kind} range")
        if n or present:
            out += key
            # Negative int32 and int64 both go on the wire as 10-byte two's complement.
            _varint(out, n & 0xFFFF_FFFF_FFFF_FFFF)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{message}.{name} is a bool, got {type(value).__name__}")
        if value or present:
            out += key
            out.append(value)
    else:
        if not isinstance(value, Mapping):
            raise ValueError(f"{message}.{name} is a {kind} message: give a mapping")
        body = bytearray()
        _message(body, value, kind)
        out += key
        _varint(out, len(body))
        out += body
