"""``WebSocketManager`` and the factories users start from.

A manager is a thin wrapper over exchange connections: it registers callbacks, connects,
subscribes and reports stats. When an exchange caps subscriptions per connection (MEXC: 30)
the manager opens another connection (a shard) for the overflow, so callers never see the
limit; every shard shares the manager's callbacks and ``async for`` queue.

The factories are overloaded per exchange name, so ``create_websocket_manager("gateio")``
is a ``WebSocketManager`` whose ``on_trade`` callbacks take a ``GateTrade``: a misspelled
event attribute is a type error, not a runtime ``AttributeError``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias, TypeVar, overload

from hftws import exchanges
from hftws._core import BookStatus
from hftws.credentials import Credentials
from hftws.errors import UnknownExchange
from hftws.event_queue import EventQueue
from hftws.events import MessageType
from hftws.interface import BaseWebSocketInterface
from hftws.metrics import Metrics
from hftws.subscriptions import Subscription

if TYPE_CHECKING:
    from hftws._core import BinanceSbeBestBidAsk, BinanceSbeDepth, BinanceSbeTrades, BookUpdate
    from hftws.exchanges.binance import (
        BinanceBookEvent,
        BinanceFuturesPublicHandler,
        BinancePublicEvent,
        BinanceSbeEvent,
        BinanceSbePublicHandler,
        BinanceSpotPublicHandler,
        BinanceTickerEvent,
        BinanceTradeEvent,
    )
    from hftws.exchanges.binance_private import (
        BinanceFuturesPrivateHandler,
        BinanceSpotPrivateHandler,
    )
    from hftws.exchanges.gateio import (
        GateBookEvent,
        GateEvent,
        GateioFuturesPublicHandler,
        GateioSpotPublicHandler,
        GateTickerEvent,
        GateTradeEvent,
    )
    from hftws.exchanges.gateio_private import (
        GateioFuturesPrivateHandler,
        GateioSpotPrivateHandler,
    )
    from hftws.exchanges.kucoin import (
        KucoinBookEvent,
        KucoinFuturesPublicHandler,
        KucoinPublicEvent,
        KucoinSpotPublicHandler,
        KucoinTickerEvent,
        KucoinTradeEvent,
    )
    from hftws.exchanges.kucoin_private import (
        KucoinFuturesPrivateHandler,
        KucoinSpotPrivateHandler,
    )
    from hftws.exchanges.mexc import (
        MexcBookEvent,
        MexcPublicEvent,
        MexcPublicHandler,
        MexcTickerEvent,
        MexcTradeEvent,
    )
    from hftws.exchanges.mexc_private import MexcPrivateHandler
    from hftws.private_events import PrivateEvent

C = TypeVar("C", bound=BaseWebSocketInterface[Any])
E = TypeVar("E")
BookT = TypeVar("BookT")
TradeT = TypeVar("TradeT")
TickerT = TypeVar("TickerT")

#: Exchange name -> handler class name in ``hftws.exchanges``.
EXCHANGES: dict[str, str] = {
    "mexc": "MexcPublicHandler",
    "gateio": "GateioSpotPublicHandler",
    "gateio_futures": "GateioFuturesPublicHandler",
    "binance": "BinanceSpotPublicHandler",
    "binance_futures": "BinanceFuturesPublicHandler",
    "binance_sbe": "BinanceSbePublicHandler",
    "kucoin": "KucoinSpotPublicHandler",
    "kucoin_futures": "KucoinFuturesPublicHandler",
    "mexc_private": "MexcPrivateHandler",
    "gateio_private": "GateioSpotPrivateHandler",
    "gateio_futures_private": "GateioFuturesPrivateHandler",
    "kucoin_private": "KucoinSpotPrivateHandler",
    "kucoin_futures_private": "KucoinFuturesPrivateHandler",
    "binance_private": "BinanceSpotPrivateHandler",
    "binance_futures_private": "BinanceFuturesPrivateHandler",
}
ALIASES = {
    "gate": "gateio",
    "gate_futures": "gateio_futures",
    "gateio-futures": "gateio_futures",
    "kucoin-futures": "kucoin_futures",
    "binance-futures": "binance_futures",
    "binance_usdm": "binance_futures",
}


@dataclass
class WebSocketConfig:
    """Options for a handler or manager; every endpoint can be overridden."""

    url: str | None = None
    rest_url: str | None = None
    queue_size: int = 10_000
    overflow: Literal["drop_oldest", "drop_newest"] = "drop_oldest"
    ssl_context: ssl.SSLContext | None = None
    #: ``ConnectionPolicy`` fields to override (ping_interval, idle_timeout, compression...).
    policy: dict[str, Any] = field(default_factory=dict)


def _handler_class(exchange: str) -> type[BaseWebSocketInterface[Any]]:
    name = ALIASES.get(exchange.lower(), exchange.lower())
    if name not in EXCHANGES:
        raise UnknownExchange(
            f"unknown exchange {exchange!r}; valid choices: {', '.join(sorted(EXCHANGES))}"
        )
    cls: type[BaseWebSocketInterface[Any]] = getattr(exchanges, EXCHANGES[name])
    return cls


def _config(config: WebSocketConfig | None, kwargs: dict[str, Any]) -> WebSocketConfig:
    cfg = dataclasses.replace(config) if config is not None else WebSocketConfig()
    top = {f.name for f in dataclasses.fields(WebSocketConfig)} - {"policy"}
    for key, value in kwargs.items():
        if key in top:
            setattr(cfg, key, value)
        else:
            cfg.policy = {**cfg.policy, key: value}
    return cfg


MexcName = Literal["mexc"]
GateioName = Literal["gateio", "gate"]
GateioFuturesName = Literal["gateio_futures", "gate_futures", "gateio-futures"]
BinanceName = Literal["binance"]
BinanceFuturesName = Literal["binance_futures", "binance-futures", "binance_usdm"]
BinanceSbeName = Literal["binance_sbe"]
KucoinName = Literal["kucoin"]
KucoinFuturesName = Literal["kucoin_futures", "kucoin-futures"]

if TYPE_CHECKING:
    MexcManager: TypeAlias = "WebSocketManager[MexcPublicHandler, MexcPublicEvent, MexcBookEvent, MexcTradeEvent, MexcTickerEvent]"  # noqa: E501
    GateioManager: TypeAlias = "WebSocketManager[GateioSpotPublicHandler, GateEvent, GateBookEvent, GateTradeEvent, GateTickerEvent]"  # noqa: E501
    GateioFuturesManager: TypeAlias = "WebSocketManager[GateioFuturesPublicHandler, GateEvent, GateBookEvent, GateTradeEvent, GateTickerEvent]"  # noqa: E501
    BinanceManager: TypeAlias = "WebSocketManager[BinanceSpotPublicHandler, BinancePublicEvent, BinanceBookEvent, BinanceTradeEvent, BinanceTickerEvent]"  # noqa: E501
    BinanceFuturesManager: TypeAlias = "WebSocketManager[BinanceFuturesPublicHandler, BinancePublicEvent, BinanceBookEvent, BinanceTradeEvent, BinanceTickerEvent]"  # noqa: E501
    BinanceSbeManager: TypeAlias = "WebSocketManager[BinanceSbePublicHandler, BinanceSbeEvent, BinanceSbeDepth | BookUpdate, BinanceSbeTrades, BinanceSbeBestBidAsk]"  # noqa: E501
    KucoinManager: TypeAlias = "WebSocketManager[KucoinSpotPublicHandler, KucoinPublicEvent, KucoinBookEvent, KucoinTradeEvent, KucoinTickerEvent]"  # noqa: E501
    KucoinFuturesManager: TypeAlias = "WebSocketManager[KucoinFuturesPublicHandler, KucoinPublicEvent, KucoinBookEvent, KucoinTradeEvent, KucoinTickerEvent]"  # noqa: E501
    PrivateManager: TypeAlias = "WebSocketManager[C, PrivateEvent, Any, Any, Any]"


@overload
def create_websocket_handler_direct(
    exchange: MexcName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: None = ...,
    **kwargs: Any,
) -> MexcPublicHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: GateioName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: None = ...,
    **kwargs: Any,
) -> GateioSpotPublicHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: GateioFuturesName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: None = ...,
    **kwargs: Any,
) -> GateioFuturesPublicHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: KucoinName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: None = ...,
    **kwargs: Any,
) -> KucoinSpotPublicHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: KucoinFuturesName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: None = ...,
    **kwargs: Any,
) -> KucoinFuturesPublicHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: BinanceName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: None = ...,
    **kwargs: Any,
) -> BinanceSpotPublicHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: BinanceFuturesName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: None = ...,
    **kwargs: Any,
) -> BinanceFuturesPublicHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: BinanceSbeName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> BinanceSbePublicHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: Literal["mexc_private"],
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> MexcPrivateHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: Literal["gateio_private"],
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> GateioSpotPrivateHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: Literal["gateio_futures_private"],
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> GateioFuturesPrivateHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: Literal["kucoin_private"],
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> KucoinSpotPrivateHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: Literal["kucoin_futures_private"],
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> KucoinFuturesPrivateHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: Literal["binance_private"],
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> BinanceSpotPrivateHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: Literal["binance_futures_private"],
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> BinanceFuturesPrivateHandler: ...
@overload
def create_websocket_handler_direct(
    exchange: str,
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> BaseWebSocketInterface[Any]: ...
def create_websocket_handler_direct(
    exchange: str,
    config: WebSocketConfig | None = None,
    *,
    credentials: Credentials | None = None,
    **kwargs: Any,
) -> BaseWebSocketInterface[Any]:
    """One exchange connection (no sharding): ``"mexc"``, ``"gateio"``, ``"gateio_futures"``,
    ``"kucoin"``, ``"kucoin_futures"``, ``"binance"``, ``"binance_futures"`` (USDⓈ-M; one
    connection serves one path, ``/public`` by default: a manager opens the ``/market`` one when
    a stream needs it) or ``"binance_sbe"`` (spot SBE; needs an API key).

    Keyword arguments override ``config``: ``url``, ``rest_url`` (the REST host root),
    ``queue_size``, ``overflow``, ``ssl_context`` or any ``ConnectionPolicy`` field. A bad
    name is an ``UnknownExchange`` (an ``HftwsError`` and a ``ValueError``), a bad option a
    ``TypeError``, each listing the valid choices. Private streams (``"mexc_private"``,
    ``"gateio_private"``, ``"gateio_futures_private"``, ``"kucoin_private"``,
    ``"kucoin_futures_private"``, ``"binance_private"``, ``"binance_futures_private"``) take
    ``credentials=`` (default: from the environment, see ``hftws.Credentials.from_env``).
    """
    cls = _handler_class(exchange)
    cfg = _config(config, kwargs)
    options: dict[str, Any] = dict(cfg.policy)
    if credentials is not None:
        options["credentials"] = credentials  # a public stream refuses it (TypeError)
    return cls(
        url=cfg.url,
        rest_url=cfg.rest_url,
        queue_size=cfg.queue_size,
        overflow=cfg.overflow,
        ssl_context=cfg.ssl_context,
        **options,
    )


@overload
def create_websocket_manager(
    exchange: MexcName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: None = ...,
    **kwargs: Any,
) -> MexcManager: ...
@overload
def create_websocket_manager(
    exchange: GateioName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: None = ...,
    **kwargs: Any,
) -> GateioManager: ...
@overload
def create_websocket_manager(
    exchange: GateioFuturesName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: None = ...,
    **kwargs: Any,
) -> GateioFuturesManager: ...
@overload
def create_websocket_manager(
    exchange: KucoinName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: None = ...,
    **kwargs: Any,
) -> KucoinManager: ...
@overload
def create_websocket_manager(
    exchange: KucoinFuturesName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: None = ...,
    **kwargs: Any,
) -> KucoinFuturesManager: ...
@overload
def create_websocket_manager(
    exchange: BinanceName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: None = ...,
    **kwargs: Any,
) -> BinanceManager: ...
@overload
def create_websocket_manager(
    exchange: BinanceFuturesName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: None = ...,
    **kwargs: Any,
) -> BinanceFuturesManager: ...
@overload
def create_websocket_manager(
    exchange: BinanceSbeName,
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> BinanceSbeManager: ...
@overload
def create_websocket_manager(
    exchange: Literal["mexc_private"],
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> PrivateManager[MexcPrivateHandler]: ...
@overload
def create_websocket_manager(
    exchange: Literal["gateio_private"],
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> PrivateManager[GateioSpotPrivateHandler]: ...
@overload
def create_websocket_manager(
    exchange: Literal["gateio_futures_private"],
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> PrivateManager[GateioFuturesPrivateHandler]: ...
@overload
def create_websocket_manager(
    exchange: Literal["kucoin_private"],
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> PrivateManager[KucoinSpotPrivateHandler]: ...
@overload
def create_websocket_manager(
    exchange: Literal["kucoin_futures_private"],
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> PrivateManager[KucoinFuturesPrivateHandler]: ...
@overload
def create_websocket_manager(
    exchange: Literal["binance_private"],
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> PrivateManager[BinanceSpotPrivateHandler]: ...
@overload
def create_websocket_manager(
    exchange: Literal["binance_futures_private"],
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> PrivateManager[BinanceFuturesPrivateHandler]: ...
@overload
def create_websocket_manager(
    exchange: str,
    config: WebSocketConfig | None = ...,
    *,
    credentials: Credentials | None = ...,
    **kwargs: Any,
) -> WebSocketManager[Any, Any, Any, Any, Any]: ...
def create_websocket_manager(
    exchange: str,
    config: WebSocketConfig | None = None,
    *,
    credentials: Credentials | None = None,
    **kwargs: Any,
) -> WebSocketManager[Any, Any, Any, Any, Any]:
    """A manager for ``exchange`` (same options as :func:`create_websocket_handler_direct`)."""
    _handler_class(exchange)
    cfg = _config(config, kwargs)
    first = create_websocket_handler_direct(exchange, cfg, credentials=credentials)
    return WebSocketManager(
        lambda: create_websocket_handler_direct(exchange, cfg, credentials=credentials),
        first=first,
    )


class WebSocketManager(Generic[C, E, BookT, TradeT, TickerT]):
    """Callbacks, subscriptions and stats over one or more connections of one exchange.

    Type parameters: the connection class, the events of ``async for`` and ``on``, and the
    events of ``on_orderbook``, ``on_trade`` and ``on_ticker`` (the factories fill them in).
    """

    def __init__(
        self,
        factory: Callable[[], C],
        *,
        first: C | None = None,
        queue_size: int | None = None,
    ) -> None:
        self._factory = factory
        first = first or factory()
        self._shards: list[C] = [first]
        self._callbacks: list[tuple[MessageType, Callable[[Any], Any]]] = []
        self._events: EventQueue | None = None
        self._queue_size = queue_size or first._queue_size
        self._overflow = first._overflow
        self._dropped = 0
        self._connected = False
        self._shard_listeners: list[Callable[[C], Any]] = []

    # -- shards ------------------------------------------------------------------------------------

    @property
    def handler(self) -> C:
        """The first connection (the only one unless sharding was needed)."""
        return self._shards[0]

    @property
    def handlers(self) -> tuple[C, ...]:
        return tuple(self._shards)

    def on_shard(self, callback: Callable[[C], Any]) -> None:
        """Call ``callback(connection)`` for every connection, now and when one is added."""
        self._shard_listeners.append(callback)
        for shard in self._shards:
            callback(shard)

    def _new_shard(self, route: str = "") -> C:
        shard = self._factory()
        if route and shard.route != route:
            shard.set_route(route)
        for mtype, cb in self._callbacks:
            shard.handler.on(mtype, cb)
        if self._events is not None:
            shard.handler.on_any(self._events.put)
        self._shards.append(shard)
        for listener in self._shard_listeners:
            listener(shard)
        return shard

    # -- lifecycle ---------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect every shard."""
        self._connected = True
        await asyncio.gather(*(s.connect() for s in self._shards))

    async def close(self) -> None:
        """Close every shard (idempotent)."""
        self._connected = False
        await asyncio.gather(*(s.close() for s in self._shards))
        if self._events is not None:
            self._events.close()

    async def __aenter__(self) -> WebSocketManager[C, E, BookT, TradeT, TickerT]:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- subscriptions -----------------------------------------------------------------------------

    async def subscribe(self, *subs: Subscription) -> None:
        """Subscribe, opening more connections when one is full."""
        todo = [
            s for s in dict.fromkeys(subs) if not any(s in h.subscriptions for h in self._shards)
        ]
        # Exchanges that serve streams on separate paths (Binance USDⓈ-M) get a connection
        # per route; for the others every stream has the route "".
        routes: dict[str, list[Subscription]] = {}
        proto = self.handler.exchange_protocol
        for sub in todo:
            routes.setdefault(proto.route_of(sub), []).append(sub)
        for route, wanted in routes.items():
            await self._subscribe_on_route(route, wanted)

    async def _subscribe_on_route(self, route: str, todo: list[Subscription]) -> None:
        for shard in list(self._shards):
            if not todo:
                return
            if not shard.accepts(todo[0]):
                continue
            cap = shard.capacity
            take = todo if cap is None else todo[: max(cap, 0)]
            if take:
                todo = todo[len(take) :]
                await shard.subscribe(*take)
        while todo:
            shard = self._new_shard(route)
            cap = shard.capacity
            take, todo = (todo, []) if cap is None else (todo[:cap], todo[cap:])
            if self._connected:
                await shard.connect()
            await shard.subscribe(*take)

    async def subscribe_book(
        self,
        sub: Subscription,
        symbol: str,
        book: Any,
        *,
        emit: bool = False,
        top_only: bool = False,
        notify: Callable[[BookStatus], object] | None = None,
        placed: Callable[[C], Any] | None = None,
    ) -> C:
        """Register ``book`` on the connection that carries ``sub`` (before subscribing, so
        not one push is missed), tell ``placed(connection)``, subscribe, and return that
        connection. A refusal raises ``SubscriptionError`` and leaves the book unregistered."""
        for shard in self._shards:
            if sub in shard.subscriptions:
                shard.register_book(symbol, book, emit=emit, top_only=top_only, notify=notify)
                if placed is not None:
                    placed(shard)
                return shard
        room = next(
            (s for s in self._shards if s.accepts(sub) and (s.capacity is None or s.capacity > 0)),
            None,
        )
        new = room is None
        route = self.handler.exchange_protocol.route_of(sub)
        shard = self._new_shard(route) if room is None else room
        shard.register_book(symbol, book, emit=emit, top_only=top_only, notify=notify)
        if placed is not None:
            placed(shard)
        try:
            if new and self._connected:
                await shard.connect()
            await shard.subscribe(sub)
        except BaseException:
            shard.unregister_book(symbol)
            raise
        return shard

    async def unsubscribe(self, *subs: Subscription) -> None:
        for shard in self._shards:
            mine = [s for s in subs if s in shard.subscriptions]
            if mine:
                await shard.unsubscribe(*mine)

    async def subscribe_depth(self, symbol: str, **options: str) -> None:
        await self.subscribe(self.handler.depth_subscription(symbol, **options))

    async def subscribe_trades(self, symbol: str, **options: str) -> None:
        await self.subscribe(self.handler.trades_subscription(symbol, **options))

    async def subscribe_ticker(self, symbol: str, **options: str) -> None:
        await self.subscribe(self.handler.ticker_subscription(symbol, **options))

    @property
    def subscriptions(self) -> frozenset[Subscription]:
        return frozenset().union(*(s.subscriptions for s in self._shards))

    # -- callbacks ---------------------------------------------------------------------------------

    def on(self, mtype: MessageType, callback: Callable[[E], Any]) -> Callable[[E], Any]:
        """Call ``callback(event)`` for messages of ``mtype`` on every connection."""
        return self._on(mtype, callback)

    def _on(self, mtype: MessageType, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        for shard in self._shards:
            shard.handler.on(mtype, callback)
        self._callbacks.append((mtype, callback))
        return callback

    def on_orderbook(self, callback: Callable[[BookT], Any]) -> Callable[[BookT], Any]:
        return self._on(MessageType.ORDERBOOK, callback)

    def on_trade(self, callback: Callable[[TradeT], Any]) -> Callable[[TradeT], Any]:
        return self._on(MessageType.TRADE, callback)

    def on_ticker(self, callback: Callable[[TickerT], Any]) -> Callable[[TickerT], Any]:
        return self._on(MessageType.TICKER, callback)

    def on_error(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return self._on(MessageType.ERROR, callback)

    def on_subscribe(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return self._on(MessageType.SUBSCRIBE, callback)

    # -- async iteration ---------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[E]:
        if self._events is None:
            self._events = EventQueue(self._queue_size, self._overflow, self._count_drop)
            for shard in self._shards:
                shard.handler.on_any(self._events.put)
        return self._events.iterate()

    def _count_drop(self) -> None:
        self._dropped += 1

    # -- stats -------------------------------------------------------------------------------------

    @property
    def metrics(self) -> Metrics:
        """Metrics of every connection merged."""
        merged = Metrics()
        for shard in self._shards:
            merged.merge(shard.metrics)
        merged.dropped += self._dropped
        return merged

    def stats(self) -> dict[str, object]:
        snap = self.metrics.snapshot()
        snap["connections"] = [s.state.value for s in self._shards]
        snap["subscriptions"] = sorted(map(str, self.subscriptions))
        return snap


#: A manager of any exchange (code that handles several).
AnyWebSocketManager: TypeAlias = WebSocketManager[Any, Any, Any, Any, Any]
