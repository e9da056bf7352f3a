"""Gate.io spot and USDT-futures private streams with per-request channel auth.

``gateio.md`` §5 (spot: ``spot.orders``, ``spot.usertrades``, ``spot.balances``), §6.5
(futures: ``futures.orders``, ``futures.usertrades``, ``futures.positions``,
``futures.balances``, the uid first in every payload). Records are parsed in Rust and turned into
the common events of :mod:`hftws.private_events` (``event.raw`` is the ``GateOrder``...).

    creds = Credentials.from_env("gateio")        # HFTWS_GATEIO_API_KEY / _API_SECRET (/ _UID)
    async with GateioSpotPrivateHandler(credentials=creds) as ws:
        ws.handler.on_execution(print)
        await ws.subscribe_executions("BTC_USDT")
"""

from __future__ import annotations

from typing import Any, ClassVar

from hftws import gateio
from hftws.auth.gateio import GateioAuthenticator
from hftws.credentials import Credentials
from hftws.handlers.private import PrivateMessageHandler
from hftws.interface import BaseWebSocketInterface
from hftws.mixins.auth import GateioAuthMixin
from hftws.mixins.connection import GateioConnectionMixin, GateioFuturesConnectionMixin
from hftws.mixins.subscription import Subscription, SubscriptionMixin
from hftws.private_events import PrivateEvent, from_gate

ALL = "!all"


class GateioSpotPrivateMessageHandler(PrivateMessageHandler):
    """List results fan out to one callback call per record, each a common private event."""

    exchange: ClassVar[str] = "gateio"

    def _parse(self, raw: Any) -> Any:
        return gateio.parse(raw)

    def _convert(self, event: Any) -> Any:
        common = from_gate(event)
        return event if common is None else common


class GateioFuturesPrivateMessageHandler(GateioSpotPrivateMessageHandler):
    exchange: ClassVar[str] = "gateio_futures"


class _GateioPrivate(GateioAuthMixin, SubscriptionMixin, BaseWebSocketInterface[PrivateEvent]):
    """Credentials checked at construction; the clock is read at every connect."""

    REQUIRE_UID: ClassVar[bool] = False
    ENV_NAME: ClassVar[str] = "gateio"

    def __init__(
        self, *, credentials: Credentials | None = None, sync_time: bool = True, **kwargs: Any
    ) -> None:
        creds = Credentials.resolve(credentials, self.ENV_NAME, require_uid=self.REQUIRE_UID)
        super().__init__(authenticator=GateioAuthenticator(creds, sync_time=sync_time), **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} state={self.state.value}>"


class GateioSpotPrivateHandler(GateioConnectionMixin, _GateioPrivate):
    """Gate.io spot private channels; pairs default to ``!all``.

    Args:
        credentials: default ``HFTWS_GATEIO_API_KEY``/``_API_SECRET``.
        sync_time: sign with the server clock (``GET {rest_url}/api/v4/spot/time``, with
            ``rest_url`` the REST host root), default True.
        **kwargs: as :class:`~hftws.interface.BaseWebSocketInterface`.
    """

    handler_class = GateioSpotPrivateMessageHandler
    handler: GateioSpotPrivateMessageHandler

    @staticmethod
    def _pairs(pairs: tuple[str, ...]) -> tuple[str, ...]:
        return pairs or (ALL,)

    async def subscribe_orders(self, *pairs: str) -> None:
        """``spot.orders`` -> ``OrderUpdate``."""
        await self.subscribe(Subscription("spot.orders", self._pairs(pairs)))

    async def subscribe_executions(self, *pairs: str) -> None:
        """``spot.usertrades`` -> ``Execution``."""
        await self.subscribe(Subscription("spot.usertrades", self._pairs(pairs)))

    async def subscribe_balances(self) -> None:
        """``spot.balances`` -> ``BalanceUpdate``."""
        await self.subscribe(Subscription("spot.balances"))

    async def subscribe_private(self) -> None:
        """Orders, fills and balances of every pair."""
        await self.subscribe(
            Subscription("spot.orders", (ALL,)),
            Subscription("spot.usertrades", (ALL,)),
            Subscription("spot.balances"),
        )


class GateioFuturesPrivateHandler(GateioFuturesConnectionMixin, _GateioPrivate):
    """Gate.io USDT-futures private channels; every payload starts with the uid (§6.5).

    Args:
        credentials: default ``HFTWS_GATEIO_API_KEY``/``_API_SECRET``/``_UID`` (uid required).
        sync_time, **kwargs: as :class:`GateioSpotPrivateHandler`.
    """

    handler_class = GateioFuturesPrivateMessageHandler
    handler: GateioFuturesPrivateMessageHandler
    REQUIRE_UID: ClassVar[bool] = True

    def _sub(self, channel: str, contract: str | None) -> Subscription:
        uid = self._credentials.uid
        assert uid is not None  # checked in __init__
        return Subscription(channel, (uid,) if contract is None else (uid, contract))

    async def subscribe_orders(self, contract: str = ALL) -> None:
        """``futures.orders`` -> ``OrderUpdate`` (size sign gives the side)."""
        await self.subscribe(self._sub("futures.orders", contract))

    async def subscribe_executions(self, contract: str = ALL) -> None:
        """``futures.usertrades`` -> ``Execution``."""
        await self.subscribe(self._sub("futures.usertrades", contract))

    async def subscribe_positions(self, contract: str = ALL) -> None:
        """``futures.positions`` -> ``PositionUpdate``."""
        await self.subscribe(self._sub("futures.positions", contract))

    async def subscribe_balances(self) -> None:
        """``futures.balances`` -> ``BalanceUpdate``."""
        await self.subscribe(self._sub("futures.balances", None))

    async def subscribe_private(self) -> None:
        """Orders, fills, positions and balances of every contract."""
        await self.subscribe(
            self._sub("futures.orders", ALL),
            self._sub("futures.usertrades", ALL),
            self._sub("futures.positions", ALL),
            self._sub("futures.balances", None),
        )
