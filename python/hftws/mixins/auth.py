"""Authentication mixins.

An auth mixin runs once per connection, after the upgrade and before subscriptions are
(re)sent, and may sign each subscription request. Public streams use ``NoAuthMixin``.
Credentials never appear in reprs, logs or exception messages.
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

from hftws import gateio
from hftws.credentials import AuthenticationError, Credentials
from hftws.events import MessageType
from hftws.mixins.subscription import ACK_TIMEOUT, Subscription, SubscriptionError
from hftws.rest import RestClient, RestError

log = logging.getLogger("hftws.auth")


class AuthMixin:
    """Interface of every auth mixin."""

    #: True when the streams need credentials.
    requires_auth: bool = False

    async def _authenticate(self) -> None:
        """Per-connection login step (after the upgrade, before subscribing)."""

    def _sign_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """Adds per-request auth to a subscription request (Gate.io private channels)."""
        return request


class NoAuthMixin(AuthMixin):
    """Public streams: no credentials, nothing to sign."""


class _UnsupportedAuthMixin(AuthMixin):
    exchange_name = ""
    missing = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            f"{self.exchange_name} authentication is not implemented: {self.missing}"
        )


class BinanceAuthMixin(_UnsupportedAuthMixin):
    """Placeholder for Binance user-data streams (not supported yet)."""

    exchange_name = "Binance"
    missing = (
        "needs the listenKey REST calls (POST/PUT/DELETE /api/v3/userDataStream) and a "
        "Binance connection mixin and message handler"
    )


class KucoinAuthMixin(_UnsupportedAuthMixin):
    """Placeholder for KuCoin private channels (not supported yet)."""

    exchange_name = "KuCoin"
    missing = (
        "needs the bullet-private token request (POST /api/v1/bullet-private), the "
        "token-in-URL connection and a KuCoin connection mixin and message handler"
    )


class GateioAuthMixin(AuthMixin):
    """Gate.io v4 channel auth (``gateio.md`` §5.1): every private (un)subscribe is signed.

    ``auth = {"method": "api_key", "KEY": key, "SIGN": hex HMAC-SHA512(secret,
    "channel=<ch>&event=<ev>&time=<t>")}`` with ``t`` the request's own ``time``, taken from the
    server clock (``GET /spot/time`` at every connect) so a skewed local clock does not make the
    server answer ``REQUEST_EXPIRED``. Requests are signed when sent, never cached, so a
    resubscription after a reconnect carries a fresh time.

    Refusals with an auth code (4/6/11, or 2 with ``INVALID_KEY``/``INVALID_SIGNATURE``/
    ``REQUEST_EXPIRED``...) are counted (``metrics.errors["auth"]``), reported to ``on_error``
    callbacks and raised from ``subscribe`` as :class:`~hftws.credentials.AuthenticationError`;
    the refused channel leaves the subscription set, so it is never retried in a loop. Only
    ``REQUEST_EXPIRED`` is retried, once, after re-reading the server clock.
    """

    requires_auth = True
    #: Channels that need ``auth`` (spot §5, futures §6.5).
    PRIVATE_CHANNELS: ClassVar[frozenset[str]] = frozenset(
        {
            "spot.orders",
            "spot.orders_v2",
            "spot.usertrades",
            "spot.usertrades_v2",
            "spot.balances",
            "spot.cross_balances",
            "spot.margin_balances",
            "spot.funding_balances",
            "spot.priceorders",
            "futures.orders",
            "futures.usertrades",
            "futures.positions",
            "futures.balances",
            "futures.liquidates",
            "futures.auto_deleverages",
            "futures.position_closes",
            "futures.reduce_risk_limits",
            "futures.autoorders",
        }
    )
    #: Server time endpoint, relative to ``rest_url`` (``.../api/v4``).
    TIME_PATH: ClassVar[str] = "/spot/time"

    def _init_auth(self, credentials: Credentials, *, sync_time: bool = True) -> None:
        self._credentials = credentials
        self._sync_time = sync_time
        self._clock_offset = 0.0
        self._rest_client: RestClient | None = None
        self._auth_failure: Any = None
        #: The last auth refusal (a ``GateError``), for inspection.
        self.last_auth_error: Any = None
        self.handler._on_internal(MessageType.ERROR, self._on_auth_error)  # type: ignore[attr-defined]

    # -- clock ------------------------------------------------------------------------------

    def _rest(self) -> RestClient:
        if self._rest_client is None:
            self._rest_client = RestClient(timeout=self.policy.open_timeout)  # type: ignore[attr-defined]
        return self._rest_client

    async def _sync_clock(self) -> None:
        """Offset of the server clock from ours, from one ``GET /spot/time`` round trip."""
        url = f"{self.rest_url}{self.TIME_PATH}"  # type: ignore[attr-defined]
        try:
            before = time.time()
            body = await self._rest().get(url)
            after = time.time()
            server = float(body["server_time"]) / 1000.0
        except (RestError, KeyError, TypeError, ValueError) as exc:
            self.metrics.errors["time_sync_failed"] += 1  # type: ignore[attr-defined]
            log.warning(
                "%s: server time unavailable (%s); using the local clock", self.exchange, exc
            )  # type: ignore[attr-defined]
            return
        self._clock_offset = server - (before + after) / 2

    def _server_now(self) -> int:
        return int(time.time() + self._clock_offset)

    async def _authenticate(self) -> None:
        if self._sync_time:
            await self._sync_clock()

    # -- signing ----------------------------------------------------------------------------

    def _sign_request(self, request: dict[str, Any]) -> dict[str, Any]:
        channel = request.get("channel")
        if channel not in self.PRIVATE_CHANNELS:
            return request
        t = self._server_now()
        request["time"] = t
        creds = self._credentials
        request["auth"] = {
            "method": "api_key",
            "KEY": creds.api_key,
            "SIGN": gateio.sign_channel(creds.api_secret, channel, request["event"], t),
        }
        return request

    # -- failures ---------------------------------------------------------------------------

    def _on_auth_error(self, event: Any) -> None:
        if not getattr(event, "is_auth", False):
            return
        self._auth_failure = self.last_auth_error = event
        self.metrics.errors["auth"] += 1  # type: ignore[attr-defined]
        log.warning(
            "%s: authentication refused (code %s, %s)",
            self.exchange,  # type: ignore[attr-defined]
            event.code,
            event.label or "no label",
        )

    async def subscribe(self, *subs: Subscription, timeout: float = ACK_TIMEOUT) -> None:
        """Subscribe; raises AuthenticationError when the exchange refused our signature."""
        for attempt in (0, 1):
            self._auth_failure = None
            try:
                await super().subscribe(*subs, timeout=timeout)  # type: ignore[misc]
                return
            except SubscriptionError as exc:
                failure = self._auth_failure
                if failure is None:
                    raise
                label = failure.label or f"code {failure.code}"
                if label == "REQUEST_EXPIRED" and attempt == 0:
                    # Our clock (or the offset) drifted: re-read the server time, re-sign once.
                    await self._sync_clock()
                    subs = tuple(exc.refused)
                    continue
                raise AuthenticationError(
                    f"{self.exchange}: authentication refused ({label}) for "  # type: ignore[attr-defined]
                    f"{', '.join(sorted(map(str, exc.refused)))}",
                    label,
                ) from None

    async def close(self) -> None:
        await super().close()  # type: ignore[misc]
        if self._rest_client is not None:
            await self._rest_client.close()
