"""KuCoin spot and futures private streams over a ``bullet-private`` token connection.

``kucoin.md`` §5 (spot ``/spotMarket/tradeOrdersV2``, ``/account/balance``), §7.3 (futures
``/contractMarket/tradeOrders``, ``/contractAccount/wallet``, ``/contract/position:{symbol}``),
§2 and §8 (token, welcome, pings, acks). Control frames (welcome, pong, ack, error) are decoded
by the Rust KuCoin parser (``hftws.kucoin.parse``); the private records, which it leaves as
``other``, are read with ``json`` (numbers as exact ``Decimal``) into a
:class:`KucoinPrivateMessage` and turned into the common events of
:mod:`hftws.private_events` (the message stays reachable as ``event.raw``). An order ``match``
gives an ``OrderUpdate`` and an ``Execution``.

    creds = Credentials.from_env("kucoin")   # HFTWS_KUCOIN_API_KEY / _API_SECRET / _API_PASSPHRASE
    async with KucoinSpotPrivateHandler(credentials=creds) as ws:
        ws.handler.on_execution(print)
        await ws.subscribe_private()

Every socket gets a new token and ``connectId``; its ping interval and timeout come from the
token answer (the connection's policy is replaced per socket; configured values stay upper
bounds, so tests can ping faster). A ping left without a pong for ``pingTimeout`` drops the
socket even while data flows; silence for ``pingInterval + pingTimeout`` does too (the
connection's idle watchdog).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from hftws import kucoin
from hftws.auth.kucoin import DEFAULT_KEY_VERSION, InstanceServer, KucoinTokenAuthenticator
from hftws.credentials import Credentials
from hftws.errors import DecodeError
from hftws.events import MessageType, message_type_of
from hftws.handlers.private import PrivateMessageHandler
from hftws.interface import BaseWebSocketInterface
from hftws.metrics import Metrics
from hftws.mixins.auth import KucoinAuthMixin
from hftws.mixins.subscription import Subscription, SubscriptionMixin
from hftws.policy import ConnectionPolicy
from hftws.private_events import (
    BalanceUpdate,
    Execution,
    OrderUpdate,
    PositionUpdate,
    PrivateEvent,
    from_kucoin,
)
from hftws.venues.base import ExchangeProtocol
from hftws.venues.kucoin_private import (
    DEFAULT_PING_TIMEOUT_MS,
    KucoinFuturesPrivateProtocol,
    KucoinPrivateProtocol,
    kucoin_ping,
)

__all__ = [
    "KucoinFuturesPrivateHandler",
    "KucoinFuturesPrivateMessageHandler",
    "KucoinPrivateMessage",
    "KucoinSpotPrivateHandler",
    "KucoinSpotPrivateMessageHandler",
    "parse_private",
]

log = logging.getLogger("hftws.interface")

SPOT_ORDERS = "/spotMarket/tradeOrdersV2"
SPOT_ORDERS_V1 = "/spotMarket/tradeOrders"
SPOT_BALANCE = "/account/balance"
FUTURES_ORDERS = "/contractMarket/tradeOrders"
FUTURES_WALLET = "/contractAccount/wallet"
FUTURES_POSITION = "/contract/position"
FUTURES_POSITION_ALL = "/contract/positionAll"

#: Topic (before ``:``) -> (record kind, market).
_TOPICS: dict[str, tuple[str, str]] = {
    SPOT_ORDERS: ("order", "spot"),
    SPOT_ORDERS_V1: ("order", "spot"),
    SPOT_BALANCE: ("balance", "spot"),
    FUTURES_ORDERS: ("order", "futures"),
    FUTURES_WALLET: ("wallet", "futures"),
    FUTURES_POSITION: ("position", "futures"),
    FUTURES_POSITION_ALL: ("position", "futures"),
}
_TYPE_OF_EVENT: dict[type, MessageType] = {
    OrderUpdate: MessageType.ORDER_UPDATE,
    Execution: MessageType.EXECUTION_REPORT,
    BalanceUpdate: MessageType.BALANCE_UPDATE,
    PositionUpdate: MessageType.POSITION_UPDATE,
}


@dataclass(frozen=True, slots=True)
class KucoinPrivateMessage:
    """One private push: the envelope and its ``data`` (JSON numbers as ``Decimal``).

    ``kind`` is ``order``, ``balance``, ``wallet``, ``position`` or ``other`` (a topic this
    library does not convert: stop orders, margin mode...); ``market`` ``spot``/``futures``.
    """

    kind: str
    market: str
    topic: str
    subject: str | None
    symbol: str | None
    user_id: str | None
    channel_type: str | None
    data: Any

    def to_dict(self) -> dict[str, Any]:
        """The push as ``json.loads(frame, parse_float=Decimal)`` reads it."""
        out: dict[str, Any] = {"type": "message", "topic": self.topic, "subject": self.subject}
        if self.user_id is not None:
            out["userId"] = self.user_id
        if self.channel_type is not None:
            out["channelType"] = self.channel_type
        out["data"] = self.data
        return out


def _message(doc: Any) -> KucoinPrivateMessage:
    if not isinstance(doc, dict):
        raise DecodeError("kucoin: private push is not a JSON object")
    topic = doc.get("topic")
    if not isinstance(topic, str):
        raise DecodeError("kucoin: private push without a topic")
    prefix, _, suffix = topic.partition(":")
    kind, market = _TOPICS.get(prefix, ("other", "futures" if "contract" in prefix else "spot"))
    subject = doc.get("subject")
    user = doc.get("userId")
    channel = doc.get("channelType")
    return KucoinPrivateMessage(
        kind,
        market,
        topic,
        subject if isinstance(subject, str) else None,
        suffix or None,
        None if user is None else str(user),
        channel if isinstance(channel, str) else None,
        doc.get("data"),
    )


def parse_private(raw: bytes | bytearray | str) -> Any:
    """A control event (``hftws.kucoin.KucoinControl``...) or a :class:`KucoinPrivateMessage`.

    Raises ``DecodeError`` (an ``HftwsError``) for undecodable input.
    """
    event = kucoin.parse(raw)
    if event.kind != "other" or event.type != "message":
        return event
    try:
        doc = json.loads(raw, parse_float=Decimal)
    except ValueError as exc:
        raise DecodeError(f"kucoin: undecodable private push ({exc})") from None
    return _message(doc)


class KucoinSpotPrivateMessageHandler(PrivateMessageHandler):
    """Private pushes -> common events; welcome -> the authenticator; pong/ack/error -> the
    connection (PING, SUBSCRIBE, ERROR)."""

    exchange: ClassVar[str] = "kucoin"

    def __init__(self, metrics: Metrics | None = None) -> None:
        super().__init__(metrics)
        self._welcome_listeners: list[Callable[[str | None], Any]] = []

    def on_welcome(self, callback: Callable[[str | None], Any]) -> None:
        """Call ``callback(connect_id)`` for every ``welcome`` frame (the authenticator)."""
        self._welcome_listeners.append(callback)

    def _parse(self, raw: Any) -> Any:
        return parse_private(raw)

    def _detect_message_type(self, raw: Any) -> MessageType:
        event = self._parse(raw)
        if isinstance(event, KucoinPrivateMessage):
            common = from_kucoin(event)
            self._event = common or event
            return _TYPE_OF_EVENT[type(common[0])] if common else MessageType.UNKNOWN
        self._event = event
        return message_type_of(event.kind)

    def _route_message(self, mtype: MessageType, raw: Any) -> None:
        event, self._event = self._event, None
        if isinstance(event, tuple):
            for item in event:
                self._emit(_TYPE_OF_EVENT[type(item)], item)
        elif getattr(event, "kind", None) == "welcome":
            for callback in self._welcome_listeners:
                callback(event.id)
        else:
            self._emit(mtype, event)


class KucoinFuturesPrivateMessageHandler(KucoinSpotPrivateMessageHandler):
    exchange: ClassVar[str] = "kucoin_futures"


class _KucoinPrivate(KucoinAuthMixin, SubscriptionMixin, BaseWebSocketInterface[PrivateEvent]):
    """Credentials checked at construction; a token, a welcome and the server's ping rules for
    every socket."""

    ENV_NAME: ClassVar[str] = "kucoin"
    handler: KucoinSpotPrivateMessageHandler

    def __init__(
        self,
        *,
        credentials: Credentials | None = None,
        key_version: str = DEFAULT_KEY_VERSION,
        welcome_timeout: float | None = None,
        sync_time: bool = True,
        **kwargs: Any,
    ) -> None:
        creds = Credentials.resolve(credentials, self.ENV_NAME)
        auth = KucoinTokenAuthenticator(
            creds, key_version=key_version, welcome_timeout=welcome_timeout, sync_time=sync_time
        )
        super().__init__(authenticator=auth, **kwargs)
        #: The policy as configured: its ping interval and idle timeout are upper bounds.
        self.configured_policy: ConnectionPolicy = self.policy
        #: Seconds a ping may wait for its pong on the current socket (the token's
        #: ``pingTimeout``); the socket is dropped past it, even while data flows.
        self.pong_timeout: float = DEFAULT_PING_TIMEOUT_MS / 1000
        self._unanswered_since: float | None = None
        self.handler.on_welcome(auth.on_welcome)
        self.handler._on_internal(MessageType.PING, self._on_pong)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} state={self.state.value}>"

    def policy_for(self, server: InstanceServer) -> ConnectionPolicy:
        """The policy of a socket on ``server``: ping at its ``pingInterval`` (or faster, if
        configured so), drop it after ``pingInterval + pingTimeout`` of silence."""
        base = self.configured_policy
        interval = server.ping_interval_ms / 1000
        if base.ping_interval is not None:
            interval = min(interval, base.ping_interval)
        idle = min(base.idle_timeout, interval + server.ping_timeout_ms / 1000)
        return dataclasses.replace(
            self.policy, ping_interval=interval, idle_timeout=idle, ping_message=self._ping
        )

    async def _connection_url(self) -> str:
        url = await super()._connection_url()
        server = self.token_auth.instance
        if server is not None:
            self.policy = self.policy_for(server)
            self.pong_timeout = server.ping_timeout_ms / 1000
        self._unanswered_since = None
        return url

    # -- pong watchdog: pingTimeout (kucoin.md §2.1) -------------------------------------------

    def _ping(self) -> str:
        if self._unanswered_since is None:
            self._unanswered_since = time.monotonic()
        return kucoin_ping()

    def _on_pong(self, event: Any) -> None:
        # Any pong proves the socket alive (ids are echoed; an older one still counts).
        self._unanswered_since = None

    async def connect(self) -> None:
        await super().connect()
        self._spawn(self._pong_watch(), "pong")

    async def _pong_watch(self) -> None:
        while not self.closing:
            await asyncio.sleep(min(0.25, self.pong_timeout / 4))
            since, conn = self._unanswered_since, self._conn
            if since is None or conn is None or not conn.is_open:
                continue
            if time.monotonic() - since > self.pong_timeout:
                self._unanswered_since = None
                self.metrics.errors["pong_timeout"] += 1
                log.warning(
                    "%s: no pong within %.1fs; dropping the connection",
                    self.exchange,
                    self.pong_timeout,
                )
                conn.abort()


class KucoinSpotPrivateHandler(_KucoinPrivate):
    """KuCoin spot private topics: orders (``/spotMarket/tradeOrdersV2``) and balances.

    Args:
        credentials: default ``HFTWS_KUCOIN_API_KEY``/``_API_SECRET``/``_API_PASSPHRASE``.
        key_version: ``KC-API-KEY-VERSION`` (``"2"``; ``"3"`` for such keys; ``"1"`` sends
            the passphrase in clear).
        welcome_timeout: seconds to wait for the welcome (default 5).
        sync_time: sign with the server clock (``GET /api/v1/timestamp``), default True.
        **kwargs: as :class:`~hftws.interface.BaseWebSocketInterface` (``rest_url``: where the
            token is asked for; the WebSocket URL comes from the token answer).
    """

    protocol_class: ClassVar[type[ExchangeProtocol]] = KucoinPrivateProtocol
    exchange: ClassVar[str] = KucoinPrivateProtocol.name
    DEFAULT_URL: ClassVar[str] = KucoinPrivateProtocol.default_url
    DEFAULT_REST_URL: ClassVar[str] = KucoinPrivateProtocol.default_rest_url
    handler_class = KucoinSpotPrivateMessageHandler
    handler: KucoinSpotPrivateMessageHandler

    ORDERS = Subscription(SPOT_ORDERS)
    BALANCES = Subscription(SPOT_BALANCE)

    async def subscribe_orders(self) -> None:
        """``/spotMarket/tradeOrdersV2`` -> ``OrderUpdate`` (and ``Execution`` per match)."""
        await self.subscribe(self.ORDERS)

    async def subscribe_balances(self) -> None:
        """``/account/balance`` -> ``BalanceUpdate``."""
        await self.subscribe(self.BALANCES)

    async def subscribe_private(self) -> None:
        """Orders, fills and balances."""
        await self.subscribe(self.ORDERS, self.BALANCES)


class KucoinFuturesPrivateHandler(_KucoinPrivate):
    """KuCoin futures private topics: orders, wallet and positions.

    Args: as :class:`KucoinSpotPrivateHandler` (``rest_url`` default
    ``https://api-futures.kucoin.com``).
    """

    protocol_class: ClassVar[type[ExchangeProtocol]] = KucoinFuturesPrivateProtocol
    exchange: ClassVar[str] = KucoinFuturesPrivateProtocol.name
    DEFAULT_URL: ClassVar[str] = KucoinFuturesPrivateProtocol.default_url
    DEFAULT_REST_URL: ClassVar[str] = KucoinFuturesPrivateProtocol.default_rest_url
    ENV_NAME: ClassVar[str] = "kucoin_futures"
    handler_class = KucoinFuturesPrivateMessageHandler
    handler: KucoinSpotPrivateMessageHandler

    WALLET = Subscription(FUTURES_WALLET)

    async def subscribe_orders(self, *symbols: str) -> None:
        """``/contractMarket/tradeOrders[:symbols]`` -> ``OrderUpdate`` (and ``Execution`` per
        match); every contract when no symbol is given."""
        await self.subscribe(Subscription(FUTURES_ORDERS, symbols))

    async def subscribe_wallet(self) -> None:
        """``/contractAccount/wallet`` -> ``BalanceUpdate``."""
        await self.subscribe(self.WALLET)

    subscribe_balances = subscribe_wallet

    async def subscribe_positions(self, *symbols: str) -> None:
        """``/contract/position:{symbols}`` -> ``PositionUpdate``; ``/contract/positionAll``
        when no symbol is given."""
        sub = (
            Subscription(FUTURES_POSITION, symbols)
            if symbols
            else Subscription(FUTURES_POSITION_ALL)
        )
        await self.subscribe(sub)

    async def subscribe_private(self, *symbols: str) -> None:
        """Orders, fills, the wallet and positions (of ``symbols``, else of every contract)."""
        position = (
            Subscription(FUTURES_POSITION, symbols)
            if symbols
            else Subscription(FUTURES_POSITION_ALL)
        )
        await self.subscribe(Subscription(FUTURES_ORDERS, symbols), self.WALLET, position)
