"""Binance spot and USDⓈ-M futures private streams (orders, fills, balances, positions).

Spot user data comes through the WebSocket API (``binance.md`` §6; spot listenKeys are retired),
USDⓈ-M user data through a listenKey on the ``/private`` stream path (§8.6). Frames are parsed
by :mod:`hftws.binance_user_data` and turned into the common events of
:mod:`hftws.private_events`; the Binance record stays reachable as ``event.raw`` (its ``data``
is the event object as sent).

    creds = Credentials.from_env("binance")   # HFTWS_BINANCE_API_KEY / _API_SECRET / _KEY_TYPE
    async with BinanceSpotPrivateHandler(credentials=creds) as ws:
        ws.handler.on_order(print)
        await ws.subscribe_private()

    async with BinanceFuturesPrivateHandler(credentials=creds) as ws:
        ws.handler.on_position(print)
        await ws.subscribe_private()
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from typing import Any, ClassVar

from hftws.auth.binance import BinanceListenKeyAuthenticator, BinanceWsApiAuthenticator
from hftws.binance_user_data import (
    BinanceUserEvent,
    BinanceUserRecord,
    BinanceWsApiResponse,
    Market,
    parse_user_data,
)
from hftws.credentials import Credentials
from hftws.errors import HftwsTimeoutError
from hftws.events import MessageType, message_type_of
from hftws.handlers.private import PrivateMessageHandler
from hftws.interface import ACK_TIMEOUT, BaseWebSocketInterface
from hftws.mixins.auth import BinanceAuthMixin
from hftws.mixins.subscription import SubscriptionMixin
from hftws.private_events import (
    BalanceUpdate,
    Execution,
    OrderUpdate,
    PositionUpdate,
    PrivateEvent,
    from_binance,
)
from hftws.venues.base import ExchangeProtocol
from hftws.venues.binance_private import (
    USER_DATA,
    BinanceFuturesUserDataProtocol,
    BinanceWsApiProtocol,
    next_request_id,
)

__all__ = [
    "BinanceFuturesPrivateHandler",
    "BinanceFuturesPrivateMessageHandler",
    "BinancePrivateMessageHandler",
    "BinanceSpotPrivateHandler",
]

OP_TEXT = 1
_TYPE_OF: dict[type, MessageType] = {
    OrderUpdate: MessageType.ORDER_UPDATE,
    Execution: MessageType.EXECUTION_REPORT,
    BalanceUpdate: MessageType.BALANCE_UPDATE,
    PositionUpdate: MessageType.POSITION_UPDATE,
}
#: Fills remembered to drop the second report of one fill (futures: TRADE_LITE, then the
#: ORDER_TRADE_UPDATE of the same trade).
_SEEN_FILLS = 4096


class BinancePrivateMessageHandler(PrivateMessageHandler):
    """Spot user data: one record may give several common events of different types (an
    executionReport of a trade is an ``OrderUpdate`` and an ``Execution``); each goes to the
    callbacks of its own type. WebSocket API answers route as SUBSCRIBE (status 200) or ERROR;
    session notices (``eventStreamTerminated``...) as ERROR, with the record itself."""

    exchange: ClassVar[str] = "binance"
    market: ClassVar[Market] = "spot"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._common: tuple[PrivateEvent, ...] = ()
        self._fills: OrderedDict[tuple[Any, str], None] = OrderedDict()

    def _parse(self, raw: Any) -> BinanceUserRecord:
        return parse_user_data(raw, self.market)

    def _detect_message_type(self, raw: Any) -> MessageType:
        record = self._parse(raw)
        self._event = record
        if isinstance(record, BinanceUserEvent) and record.kind != "error":
            common = tuple(e for e in from_binance(record) if self._first_report(e))
            self._common = common
            if common:
                return _TYPE_OF[type(common[0])]
        else:
            self._common = ()
        return message_type_of(record.kind)

    def _first_report(self, event: PrivateEvent) -> bool:
        if not isinstance(event, Execution):
            return True
        key = (event.symbol, event.trade_id)
        if key in self._fills:
            return False
        self._fills[key] = None
        if len(self._fills) > _SEEN_FILLS:
            self._fills.popitem(last=False)
        return True

    def _route_message(self, mtype: MessageType, raw: Any) -> None:
        record, self._event = self._event, None
        common, self._common = self._common, ()
        if common:
            for event in common:
                self._emit(_TYPE_OF[type(event)], event)
        elif mtype is not MessageType.UNKNOWN or isinstance(record, BinanceWsApiResponse):
            self._emit(mtype, record)


class BinanceFuturesPrivateMessageHandler(BinancePrivateMessageHandler):
    """USDⓈ-M user data (ORDER_TRADE_UPDATE, TRADE_LITE, ACCOUNT_UPDATE, listenKeyExpired)."""

    exchange: ClassVar[str] = "binance_futures"
    market: ClassVar[Market] = "futures"


class _BinancePrivate(BinanceAuthMixin, SubscriptionMixin, BaseWebSocketInterface[PrivateEvent]):
    """Text frames only; credentials checked (and the private key loaded) at construction."""

    ENV_NAME: ClassVar[str] = "binance"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} state={self.state.value}>"

    def _message_raw(self, opcode: int, payload: bytes) -> Any:
        return payload.decode("utf-8", "replace") if opcode == OP_TEXT else payload

    async def subscribe_private(self) -> None:
        """The account's user-data stream: orders, fills, balances (and positions)."""
        await self.subscribe(USER_DATA)


class BinanceSpotPrivateHandler(_BinancePrivate):
    """Binance spot user data over the WebSocket API.

    Args:
        credentials: default from ``HFTWS_BINANCE_*`` (key type ``hmac``, ``ed25519`` or
            ``rsa``; Ed25519 keys log the session on, the others sign the subscription).
        recv_window: ``recvWindow`` sent with the signed requests (ms, default: none, the
            server's 5000).
        sync_time: sign with the server clock (``GET /api/v3/time``), default True.
        logon: ``session.logon`` then a bare subscribe (default: for Ed25519 keys, which are
            the only ones Binance logs on); False signs the subscription with any key type.
        **kwargs: as :class:`~hftws.interface.BaseWebSocketInterface`.
    """

    handler_class = BinancePrivateMessageHandler
    handler: BinancePrivateMessageHandler
    protocol_class: ClassVar[type[ExchangeProtocol]] = BinanceWsApiProtocol
    exchange: ClassVar[str] = "binance"
    DEFAULT_URL: ClassVar[str] = BinanceWsApiProtocol.default_url
    DEFAULT_REST_URL: ClassVar[str] = BinanceWsApiProtocol.default_rest_url

    def __init__(
        self,
        *,
        credentials: Credentials | None = None,
        recv_window: int | None = None,
        sync_time: bool = True,
        logon: bool | None = None,
        **kwargs: Any,
    ) -> None:
        creds = Credentials.resolve(credentials, self.ENV_NAME)
        auth = BinanceWsApiAuthenticator(
            creds, recv_window=recv_window, sync_time=sync_time, logon=logon
        )
        super().__init__(authenticator=auth, **kwargs)
        self._requests: dict[object, asyncio.Future[BinanceWsApiResponse]] = {}
        self.handler._on_internal(MessageType.SUBSCRIBE, self._on_answer)
        self.handler._on_internal(MessageType.ERROR, self._on_answer)

    def _on_answer(self, event: Any) -> None:
        if isinstance(event, BinanceWsApiResponse) and event.id is not None:
            fut = self._requests.get(event.id)
            if fut is not None and not fut.done():
                fut.set_result(event)

    async def ws_api_request(
        self, method: str, params: dict[str, object] | None = None, timeout: float = ACK_TIMEOUT
    ) -> BinanceWsApiResponse:
        """Send one WebSocket API request on the current socket and wait for its answer."""
        rid = next_request_id()
        request: dict[str, object] = {"id": rid, "method": method}
        if params is not None:
            request["params"] = params
        fut: asyncio.Future[BinanceWsApiResponse] = asyncio.get_running_loop().create_future()
        self._requests[rid] = fut
        try:
            await self._send_text(json.dumps(request, separators=(",", ":"), ensure_ascii=False))
            async with asyncio.timeout(timeout):
                return await fut
        except TimeoutError:
            raise HftwsTimeoutError(
                f"{self.exchange}: no answer to {method} from {self._endpoint()} within "
                f"{timeout:g}s"
            ) from None
        finally:
            self._requests.pop(rid, None)


class BinanceFuturesPrivateHandler(_BinancePrivate):
    """Binance USDⓈ-M futures user data over a listenKey (``/private`` stream path).

    Args:
        credentials: default from ``HFTWS_BINANCE_*`` (the listenKey calls need only the API
            key; the secret signs other REST calls).
        keepalive_interval: seconds between listenKey keep-alives (default 1800).
        verify_secret: check the secret with one signed ``GET /fapi/v3/balance`` (server
            clock from ``/fapi/v1/time``) before the first listenKey, so a wrong secret is an
            ``AuthenticationError`` at connect (the listenKey calls need the API key only).
        **kwargs: as :class:`~hftws.interface.BaseWebSocketInterface`.
    """

    handler_class = BinanceFuturesPrivateMessageHandler
    handler: BinanceFuturesPrivateMessageHandler
    protocol_class: ClassVar[type[ExchangeProtocol]] = BinanceFuturesUserDataProtocol
    exchange: ClassVar[str] = "binance_futures"
    DEFAULT_URL: ClassVar[str] = BinanceFuturesUserDataProtocol.default_url
    DEFAULT_REST_URL: ClassVar[str] = BinanceFuturesUserDataProtocol.default_rest_url

    def __init__(
        self,
        *,
        credentials: Credentials | None = None,
        keepalive_interval: float | None = None,
        verify_secret: bool = False,
        **kwargs: Any,
    ) -> None:
        creds = Credentials.resolve(credentials, self.ENV_NAME)
        auth = BinanceListenKeyAuthenticator(
            creds, keepalive_interval=keepalive_interval, verify_secret=verify_secret
        )
        super().__init__(authenticator=auth, **kwargs)
