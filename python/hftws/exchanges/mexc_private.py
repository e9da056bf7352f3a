"""MEXC spot private streams (orders, fills, balances) over a listenKey connection.

``mexc.md`` §3 (channels), §4.3 (bodies 304/306/307), §7 (listenKey). Pushes are decoded in
Rust and turned into the common events of :mod:`hftws.private_events`; the MEXC event stays
reachable as ``event.raw``.

    creds = Credentials.from_env("mexc")          # HFTWS_MEXC_API_KEY / _API_SECRET
    async with MexcPrivateHandler(credentials=creds) as ws:
        ws.handler.on_order(print)
        await ws.subscribe_private()
"""

from __future__ import annotations

from typing import Any, ClassVar

from hftws import mexc
from hftws.auth.mexc import MexcListenKeyAuthenticator
from hftws.credentials import Credentials
from hftws.exchanges.mexc import parse_frame
from hftws.handlers.private import PrivateMessageHandler
from hftws.interface import BaseWebSocketInterface
from hftws.mixins.connection import MexcConnectionMixin
from hftws.mixins.listen_key import MexcListenKeyAuthMixin
from hftws.mixins.subscription import Subscription, SubscriptionMixin
from hftws.private_events import PrivateEvent, from_mexc

OP_TEXT = 1


class MexcPrivateMessageHandler(PrivateMessageHandler):
    """Binary pushes -> OrderUpdate / Execution / BalanceUpdate; text -> acks, PONG, errors."""

    exchange: ClassVar[str] = "mexc"

    def _parse(self, raw: Any) -> Any:
        return parse_frame(raw)

    def _convert(self, event: Any) -> Any:
        common = from_mexc(event)
        return event if common is None else common


class MexcPrivateHandler(
    MexcConnectionMixin,
    MexcListenKeyAuthMixin,
    SubscriptionMixin,
    BaseWebSocketInterface[PrivateEvent],
):
    """A MEXC private connection: listenKey lifecycle, re-auth on reconnect, typed events.

    Args:
        credentials: API key and secret (default: ``HFTWS_MEXC_API_KEY``/``_API_SECRET``);
            a missing one raises ``MissingCredentials`` here, before any connection.
        keepalive_interval: seconds between listenKey keepalives (default 1800).
        sync_time: sign with the server clock (``GET /api/v3/time``), default True.
        **kwargs: as :class:`~hftws.interface.BaseWebSocketInterface`.
    """

    handler_class = MexcPrivateMessageHandler
    handler: MexcPrivateMessageHandler
    exchange: ClassVar[str] = "mexc"

    def __init__(
        self,
        *,
        credentials: Credentials | None = None,
        keepalive_interval: float | None = None,
        sync_time: bool = True,
        **kwargs: Any,
    ) -> None:
        creds = Credentials.resolve(credentials, "mexc")
        auth = MexcListenKeyAuthenticator(
            creds, keepalive_interval=keepalive_interval, sync_time=sync_time
        )
        super().__init__(authenticator=auth, **kwargs)

    def __repr__(self) -> str:
        return f"<MexcPrivateHandler state={self.state.value}>"

    def _message_raw(self, opcode: int, payload: bytes) -> Any:
        return payload.decode("utf-8", "replace") if opcode == OP_TEXT else payload

    ORDERS = Subscription(mexc.PRIVATE_ORDERS)
    EXECUTIONS = Subscription(mexc.PRIVATE_DEALS)
    BALANCES = Subscription(mexc.PRIVATE_ACCOUNT)

    async def subscribe_orders(self) -> None:
        """``spot@private.orders.v3.api.pb`` -> ``OrderUpdate``."""
        await self.subscribe(self.ORDERS)

    async def subscribe_executions(self) -> None:
        """``spot@private.deals.v3.api.pb`` -> ``Execution``."""
        await self.subscribe(self.EXECUTIONS)

    async def subscribe_balances(self) -> None:
        """``spot@private.account.v3.api.pb`` -> ``BalanceUpdate``."""
        await self.subscribe(self.BALANCES)

    async def subscribe_private(self) -> None:
        """All three private channels in one request."""
        await self.subscribe(self.ORDERS, self.EXECUTIONS, self.BALANCES)
