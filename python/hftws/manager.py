"""``WebSocketManager`` and the factories users start from.

A manager is a thin wrapper over exchange handlers: it registers callbacks, connects,
subscribes and reports stats. When an exchange caps subscriptions per connection (MEXC: 30)
the manager opens another connection (a shard) for the overflow, so callers never see the
limit; every shard shares the manager's callbacks and ``async for`` queue.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from hftws import exchanges
from hftws.errors import UnknownExchange
from hftws.event_queue import EventQueue
from hftws.events import MessageType
from hftws.interface import BaseWebSocketInterface
from hftws.metrics import Metrics
from hftws.subscriptions import Subscription

#: Exchange name -> handler class name in ``hftws.exchanges``.
EXCHANGES: dict[str, str] = {
    "mexc": "MexcPublicHandler",
    "gateio": "GateioSpotPublicHandler",
    "gateio_futures": "GateioFuturesPublicHandler",
    "mexc_private": "MexcPrivateHandler",
    "gateio_private": "GateioSpotPrivateHandler",
    "gateio_futures_private": "GateioFuturesPrivateHandler",
}
ALIASES = {"gate": "gateio", "gate_futures": "gateio_futures", "gateio-futures": "gateio_futures"}


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


def _handler_class(exchange: str) -> type[BaseWebSocketInterface]:
    name = ALIASES.get(exchange.lower(), exchange.lower())
    if name not in EXCHANGES:
        raise UnknownExchange(
            f"unknown exchange {exchange!r}; valid choices: {', '.join(sorted(EXCHANGES))}"
        )
    cls: type[BaseWebSocketInterface] = getattr(exchanges, EXCHANGES[name])
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


def create_websocket_handler_direct(
    exchange: str,
    config: WebSocketConfig | None = None,
    *,
    credentials: Any = None,
    **kwargs: Any,
) -> BaseWebSocketInterface:
    """One exchange connection (no sharding): ``"mexc"``, ``"gateio"`` or ``"gateio_futures"``.

    Keyword arguments override ``config``: ``url``, ``rest_url``, ``queue_size``,
    ``overflow``, ``ssl_context`` or any ``ConnectionPolicy`` field. A bad name is an
    ``UnknownExchange`` (an ``HftwsError`` and a ``ValueError``) or a ``TypeError`` listing
    the valid choices. Private streams (``"mexc_private"``,
    ``"gateio_private"``, ``"gateio_futures_private"``) take ``credentials=`` (default: from
    the environment, see ``hftws.Credentials.from_env``).
    """
    cls = _handler_class(exchange)
    cfg = _config(config, kwargs)
    extra = {} if credentials is None else {"credentials": credentials}
    return cls(  # type: ignore[call-arg]
        **extra,
        url=cfg.url,
        rest_url=cfg.rest_url,
        queue_size=cfg.queue_size,
        overflow=cfg.overflow,
        ssl_context=cfg.ssl_context,
        **cfg.policy,
    )


def create_websocket_manager(
    exchange: str,
    config: WebSocketConfig | None = None,
    *,
    credentials: Any = None,
    **kwargs: Any,
) -> WebSocketManager:
    """A manager for ``exchange`` (same options as :func:`create_websocket_handler_direct`)."""
    _handler_class(exchange)
    cfg = _config(config, kwargs)
    first = create_websocket_handler_direct(exchange, cfg, credentials=credentials)
    return WebSocketManager(
        lambda: create_websocket_handler_direct(exchange, cfg, credentials=credentials),
        first=first,
    )


class WebSocketManager:
    """Callbacks, subscriptions and stats over one or more connections of one exchange."""

    def __init__(
        self,
        factory: Callable[[], BaseWebSocketInterface],
        *,
        first: BaseWebSocketInterface | None = None,
        queue_size: int | None = None,
    ) -> None:
        self._factory = factory
        first = first or factory()
        self._shards: list[BaseWebSocketInterface] = [first]
        self._callbacks: list[tuple[MessageType, Callable[[Any], Any]]] = []
        self._events: EventQueue | None = None
        self._queue_size = queue_size or first._queue_size
        self._overflow = first._overflow
        self._dropped = 0
        self._connected = False
        self._shard_listeners: list[Callable[[BaseWebSocketInterface], Any]] = []

    # -- shards ------------------------------------------------------------------------------------

    @property
    def handler(self) -> BaseWebSocketInterface:
        """The first connection (the only one unless sharding was needed)."""
        return self._shards[0]

    @property
    def handlers(self) -> tuple[BaseWebSocketInterface, ...]:
        return tuple(self._shards)

    def on_shard(self, callback: Callable[[BaseWebSocketInterface], Any]) -> None:
        """Call ``callback(connection)`` for every connection, now and when one is added."""
        self._shard_listeners.append(callback)
        for shard in self._shards:
            callback(shard)

    def _new_shard(self) -> BaseWebSocketInterface:
        shard = self._factory()
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

    async def __aenter__(self) -> WebSocketManager:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- subscriptions -----------------------------------------------------------------------------

    async def subscribe(self, *subs: Subscription) -> None:
        """Subscribe, opening more connections when one is full."""
        todo = [
            s for s in dict.fromkeys(subs) if not any(s in h.subscriptions for h in self._shards)
        ]  # type: ignore[attr-defined]
        for shard in list(self._shards):
            if not todo:
                return
            cap = shard.capacity  # type: ignore[attr-defined]
            take = todo if cap is None else todo[: max(cap, 0)]
            if take:
                todo = todo[len(take) :]
                await shard.subscribe(*take)  # type: ignore[attr-defined]
        while todo:
            shard = self._new_shard()
            cap = shard.capacity  # type: ignore[attr-defined]
            take, todo = (todo, []) if cap is None else (todo[:cap], todo[cap:])
            if self._connected:
                await shard.connect()
            await shard.subscribe(*take)  # type: ignore[attr-defined]

    async def unsubscribe(self, *subs: Subscription) -> None:
        for shard in self._shards:
            mine = [s for s in subs if s in shard.subscriptions]  # type: ignore[attr-defined]
            if mine:
                await shard.unsubscribe(*mine)  # type: ignore[attr-defined]

    async def subscribe_depth(self, symbol: str, **options: str) -> None:
        await self.subscribe(self.handler.depth_subscription(symbol, **options))  # type: ignore[attr-defined]

    async def subscribe_trades(self, symbol: str, **options: str) -> None:
        await self.subscribe(self.handler.trades_subscription(symbol, **options))  # type: ignore[attr-defined]

    async def subscribe_ticker(self, symbol: str, **options: str) -> None:
        await self.subscribe(self.handler.ticker_subscription(symbol, **options))  # type: ignore[attr-defined]

    @property
    def subscriptions(self) -> frozenset[Subscription]:
        return frozenset().union(*(s.subscriptions for s in self._shards))  # type: ignore[attr-defined]

    # -- callbacks ---------------------------------------------------------------------------------

    def on(self, mtype: MessageType, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """Call ``callback(event)`` for messages of ``mtype`` on every connection."""
        for shard in self._shards:
            shard.handler.on(mtype, callback)
        self._callbacks.append((mtype, callback))
        return callback

    def on_orderbook(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return self.on(MessageType.ORDERBOOK, callback)

    def on_trade(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return self.on(MessageType.TRADE, callback)

    def on_ticker(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return self.on(MessageType.TICKER, callback)

    def on_error(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return self.on(MessageType.ERROR, callback)

    def on_subscribe(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return self.on(MessageType.SUBSCRIBE, callback)

    # -- async iteration ---------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Any]:
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
