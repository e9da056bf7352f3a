"""Binance user-data frames (spot WebSocket API, USDⓈ-M listenKey stream) as typed records.

``binance.md`` §2.2 (WebSocket API envelope), §6 (spot user data), §8.6 (USDⓈ-M user data).
Frames are JSON text; they are decoded with :func:`json.loads` and every JSON number with a
fraction becomes a :class:`~decimal.Decimal` (``parse_float``), so no float is ever built:
Binance sends prices and quantities as strings anyway, and the converters in
:mod:`hftws.private_events` turn those strings into exact decimals.

Three record types:

- :class:`BinanceWsApiResponse`: an answer to one of our WebSocket API requests (``kind``
  ``"ack"`` for status 200, ``"error"`` otherwise; also the unsolicited ``{"id":null,
  "status":401,...}`` sent when the API key is revoked mid-session);
- :class:`BinanceUserEvent`: one account event (``executionReport``, ``ORDER_TRADE_UPDATE``...),
  the event object kept whole in ``data``; session notices (``eventStreamTerminated``,
  ``listenKeyExpired``, ``serverShutdown``) have ``kind == "error"`` so the connection's
  authenticator sees them (a listenKey in them is replaced by ``"<listenKey>"``);
- anything else raises :class:`~hftws.errors.DecodeError` (counted by the handler, never fatal).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

from hftws._core import DecodeError

__all__ = [
    "NOTICES",
    "BinanceUserEvent",
    "BinanceWsApiResponse",
    "Market",
    "parse_user_data",
]

Market = Literal["spot", "futures"]

#: Session notices: the stream needs action (resubscribe, new listenKey, new socket).
NOTICES: Final = frozenset({"eventStreamTerminated", "listenKeyExpired", "serverShutdown"})
_REDACTED = "<listenKey>"


@dataclass(frozen=True, slots=True)
class BinanceWsApiResponse:
    """An answer of the WebSocket API to request ``id``."""

    kind: str
    id: str | int | None
    status: int
    result: Any
    error_code: int | None
    error_msg: str

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def reason(self) -> str:
        """``"<code> <msg>"`` of an error (empty for a success)."""
        if self.ok:
            return ""
        return f"{self.error_code} {self.error_msg}".strip()


@dataclass(frozen=True, slots=True)
class BinanceUserEvent:
    """One user-data event: ``event_type`` is Binance's ``e``, ``data`` the whole object."""

    kind: str
    market: Market
    event_type: str
    event_time_ms: int | None
    subscription_id: int | None
    data: dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        """A field of the event object (``ev.get("X")``)."""
        return self.data.get(key, default)


BinanceUserRecord = BinanceWsApiResponse | BinanceUserEvent


def _loads(raw: str | bytes) -> Any:
    try:
        return json.loads(raw, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"binance user data: invalid JSON ({exc.msg})") from None
    except ValueError:  # bytes that are not UTF-8
        raise DecodeError("binance user data: frame is not UTF-8 JSON") from None


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_user_data(raw: str | bytes, market: Market) -> BinanceUserRecord:
    """One text frame of a user-data connection as a record (see the module doc)."""
    msg = _loads(raw)
    if not isinstance(msg, dict):
        raise DecodeError("binance user data: not a JSON object")
    if "status" in msg and ("result" in msg or "error" in msg or "id" in msg):
        return _response(msg)
    subscription_id: int | None = None
    event = msg
    if "event" in msg and isinstance(msg["event"], dict):
        # WebSocket API: {"subscriptionId":0,"event":{...}}; serverShutdown has no id.
        subscription_id = _int_or_none(msg.get("subscriptionId"))
        event = msg["event"]
    elif "stream" in msg and isinstance(msg.get("data"), dict):
        # A combined-stream wrapper ({"stream":"<listenKey>","data":{...}}).
        event = msg["data"]
    etype = event.get("e")
    if not isinstance(etype, str):
        raise DecodeError("binance user data: event without an 'e' type")
    if "listenKey" in event:
        event = {**event, "listenKey": _REDACTED}
    kind = "error" if etype in NOTICES else _KINDS.get(etype, "other")
    return BinanceUserEvent(
        kind, market, etype, _int_or_none(event.get("E")), subscription_id, event
    )


def _response(msg: dict[str, Any]) -> BinanceWsApiResponse:
    status = msg.get("status")
    if not isinstance(status, int):
        raise DecodeError("binance user data: response without an integer status")
    rid = msg.get("id")
    if rid is not None and not isinstance(rid, str | int):
        raise DecodeError("binance user data: response id is not a string or integer")
    error = msg.get("error")
    code: int | None = None
    text = ""
    if isinstance(error, dict):
        code = _int_or_none(error.get("code"))
        text = str(error.get("msg", ""))
    kind = "ack" if status == 200 else "error"
    return BinanceWsApiResponse(kind, rid, status, msg.get("result"), code, text)


#: Event type -> routing kind (``hftws.events.KIND_TO_TYPE``). The common events built from a
#: record may be of several types (an executionReport of a trade is an order update and a fill).
_KINDS: Final[dict[str, str]] = {
    "executionReport": "order",
    "listStatus": "order",
    "outboundAccountPosition": "account",
    "balanceUpdate": "account",
    "externalLockUpdate": "account",
    "ORDER_TRADE_UPDATE": "order",
    "TRADE_LITE": "deal",
    "ACCOUNT_UPDATE": "account",
}
