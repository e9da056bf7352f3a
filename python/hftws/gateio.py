"""Gate.io v4 WebSocket JSON (spot and USDT perpetual futures).

Decoding happens in Rust (``hftws._core``); this module re-exports it under short names and
adds the request builders a client needs. Protocol facts follow the Gate.io v4 docs as
summarised in the project's ``gateio.md`` reference (sections cited below).

Decoding::

    ev = gateio.parse(frame)          # one typed, immutable event
    ev.kind                           # "depth", "trade", "ticker", "ack", "error", ...
    ev.price, ev.price_decimal, ev.price_str   # float / exact Decimal / original text
    ev.to_dict()                      # the message as json.loads gives it

Channels whose ``result`` is a JSON list (spot private channels, most futures channels) give a
``tuple`` of events, one per record; ``to_dict()`` of each has ``result`` set to its record.

Books::

    book = hftws.OrderBook("gate", max_depth=100, symbol="BTC_USDT")
    status = gateio.apply_depth(frame, book)          # BookStatus, or None for non-depth
    status = gateio.apply_depth_many(frames, book)    # one call per socket read
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time as _time
from collections.abc import Sequence

from hftws._core import (
    GateAck,
    GateBalance,
    GateBookTicker,
    GateCandle,
    GateDecodeError,
    GateDepthUpdate,
    GateError,
    GateOrder,
    GateOther,
    GatePong,
    GatePosition,
    GateTicker,
    GateTrade,
    GateUserTrade,
)
from hftws._core import gate_apply_depth as apply_depth
from hftws._core import gate_apply_depth_many as apply_depth_many
from hftws._core import gate_parse as parse

__all__ = [
    "FUTURES_BTC_URL",
    "FUTURES_TESTNET_URL",
    "FUTURES_USDT_URL",
    "SPOT_TESTNET_URL",
    "SPOT_URL",
    "GateAck",
    "GateBalance",
    "GateBookTicker",
    "GateCandle",
    "GateDecodeError",
    "GateDepthUpdate",
    "GateError",
    "GateEvent",
    "GateOrder",
    "GateOther",
    "GatePong",
    "GatePosition",
    "GateTicker",
    "GateTrade",
    "GateUserTrade",
    "apply_depth",
    "apply_depth_many",
    "obu_stream",
    "parse",
    "ping_message",
    "sign_channel",
    "subscribe_message",
    "unsubscribe_message",
]

#: Spot public + private WebSocket (§1; the trailing slash is as documented).
SPOT_URL = "wss://api.gateio.ws/ws/v4/"
#: USDT-margined perpetual futures WebSocket.
FUTURES_USDT_URL = "wss://fx-ws.gateio.ws/v4/ws/usdt"
#: BTC-settled perpetual futures WebSocket.
FUTURES_BTC_URL = "wss://fx-ws.gateio.ws/v4/ws/btc"
#: Spot testnet.
SPOT_TESTNET_URL = "wss://ws-testnet.gate.com/v4/ws/spot"
#: USDT futures testnet.
FUTURES_TESTNET_URL = "wss://ws-testnet.gate.com/v4/ws/futures/usdt"

GateEvent = (
    GateDepthUpdate
    | GateTrade
    | GateBookTicker
    | GateTicker
    | GateCandle
    | GateOrder
    | GateUserTrade
    | GatePosition
    | GateBalance
    | GateAck
    | GateError
    | GatePong
    | GateOther
)


def sign_channel(secret: str, channel: str, event: str, time: int) -> str:
    """Channel auth signature (§5.1): hex HMAC-SHA512 of ``channel=..&event=..&time=..``.

    Args:
        secret: API secret.
        channel: e.g. ``"spot.orders"``.
        event: ``"subscribe"`` or ``"unsubscribe"``.
        time: the request's ``time`` field (unix seconds).

    Returns:
        128 lower-case hex characters.
    """
    message = f"channel={channel}&event={event}&time={time}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha512).hexdigest()


def _request(
    channel: str,
    event: str,
    payload: Sequence[str] | None,
    time: int | None,
    id: int | None,
    key: str | None,
    secret: str | None,
) -> str:
    t = int(_time.time()) if time is None else int(time)
    msg: dict[str, object] = {"time": t}
    if id is not None:
        if not -(2**31) <= id < 2**31:
            # Gate support told ccxt the id must fit int32 (§2.1).
            raise ValueError("request id must fit in int32")
        msg["id"] = id
    msg["channel"] = channel
    msg["event"] = event
    if payload is not None:
        msg["payload"] = [str(p) for p in payload]
    if (key is None) != (secret is None):
        raise ValueError("pass both key and secret for a private channel, or neither")
    if key is not None and secret is not None:
        msg["auth"] = {
            "method": "api_key",
            "KEY": key,
            "SIGN": sign_channel(secret, channel, event, t),
        }
    return json.dumps(msg, separators=(",", ":"))


def subscribe_message(
    channel: str,
    payload: Sequence[str] | None = None,
    *,
    time: int | None = None,
    id: int | None = None,
    key: str | None = None,
    secret: str | None = None,
) -> str:
    """A subscribe request (§2.1) as JSON text.

    Args:
        channel: e.g. ``"spot.order_book_update"``.
        payload: channel parameters, e.g. ``["BTC_USDT", "100ms"]`` (sent as strings).
        time: unix seconds (default: now; the server refuses more than 60 s of skew).
        id: optional request id (int32), echoed in the ack.
        key: API key, for private channels (with ``secret``).
        secret: API secret; the request is signed per §5.1.

    Returns:
        The frame to send.
    """
    return _request(channel, "subscribe", payload, time, id, key, secret)


def unsubscribe_message(
    channel: str,
    payload: Sequence[str] | None = None,
    *,
    time: int | None = None,
    id: int | None = None,
    key: str | None = None,
    secret: str | None = None,
) -> str:
    """An unsubscribe request; same arguments as :func:`subscribe_message`."""
    return _request(channel, "unsubscribe", payload, time, id, key, secret)


def ping_message(futures: bool = False, *, time: int | None = None) -> str:
    """The application ping (§2.4): ``spot.ping`` or ``futures.ping``."""
    t = int(_time.time()) if time is None else int(time)
    channel = "futures.ping" if futures else "spot.ping"
    return json.dumps({"time": t, "channel": channel}, separators=(",", ":"))


def obu_stream(pair: str, level: int = 50) -> str:
    """The order book v2 stream name ``ob.<PAIR>.<LEVEL>`` (§3.7); level 50 or 400."""
    if level not in (50, 400):
        raise ValueError("obu level must be 50 or 400")
    return f"ob.{pair}.{level}"
