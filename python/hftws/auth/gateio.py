"""Gate.io v4 channel auth (``gateio.md`` §5.1): every private (un)subscribe is signed.

``auth = {"method": "api_key", "KEY": key, "SIGN": hex HMAC-SHA512(secret,
"channel=<ch>&event=<ev>&time=<t>")}`` with ``t`` the request's own ``time``, taken from the
server clock (``GET {rest_url}/api/v4/spot/time`` at every connect, ``rest_url`` being the host
root like everywhere else) so a skewed local clock does not make the server answer
``REQUEST_EXPIRED``.

Refusals with an auth code (4/6/11, or 2 with ``INVALID_KEY``/``INVALID_SIGNATURE``/
``REQUEST_EXPIRED``...) are counted (``metrics.errors["auth"]``) and raised from ``subscribe``
as :class:`~hftws.credentials.AuthenticationError`; the refused channel leaves the subscription
set, so it is never retried in a loop. Only ``REQUEST_EXPIRED`` is retried, once, after
re-reading the server clock.
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

from hftws import gateio
from hftws.auth.base import Authenticator
from hftws.credentials import AuthenticationError, Credentials
from hftws.errors import SubscriptionError
from hftws.rest import RestClient, RestError

log = logging.getLogger("hftws.auth")


class GateioAuthenticator(Authenticator):
    """Signs Gate.io private channel requests with the server's clock."""

    requires_auth: ClassVar[bool] = True
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
    #: Server time endpoint, absolute from the REST host root.
    TIME_PATH: ClassVar[str] = "/api/v4/spot/time"

    def __init__(self, credentials: Credentials, *, sync_time: bool = True) -> None:
        super().__init__()
        self.credentials = credentials
        self.sync_time = sync_time
        #: Server clock minus ours, in seconds.
        self.clock_offset = 0.0
        self._rest_client: RestClient | None = None
        self._failure: Any = None
        #: The last auth refusal (a ``GateError``), for inspection.
        self.last_auth_error: Any = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    # -- clock ----------------------------------------------------------------------------------

    def _rest(self) -> RestClient:
        if self._rest_client is None:
            self._rest_client = RestClient(timeout=self.host.policy.open_timeout)
        return self._rest_client

    async def sync_clock(self) -> None:
        """Offset of the server clock from ours, from one ``GET /api/v4/spot/time``."""
        host = self.host
        url = f"{host.rest_url}{self.TIME_PATH}"
        try:
            before = time.time()
            body = await self._rest().get(url)
            after = time.time()
            server = float(body["server_time"]) / 1000.0
        except (RestError, KeyError, TypeError, ValueError) as exc:
            host.metrics.errors["time_sync_failed"] += 1
            log.warning(
                "%s: server time unavailable from %s (%s); using the local clock",
                host.exchange,
                self.TIME_PATH,
                exc,
            )
            return
        self.clock_offset = server - (before + after) / 2

    def server_now(self) -> int:
        return int(time.time() + self.clock_offset)

    async def after_connect(self) -> None:
        if self.sync_time:
            await self.sync_clock()

    # -- signing --------------------------------------------------------------------------------

    def sign(self, request: dict[str, Any]) -> dict[str, Any]:
        channel = request.get("channel")
        if channel not in self.PRIVATE_CHANNELS:
            return request
        t = self.server_now()
        request["time"] = t
        creds = self.credentials
        request["auth"] = {
            "method": "api_key",
            "KEY": creds.api_key,
            "SIGN": gateio.sign_channel(creds.api_secret, channel, request["event"], t),
        }
        return request

    # -- failures -------------------------------------------------------------------------------

    def on_server_error(self, event: Any) -> None:
        if not getattr(event, "is_auth", False):
            return
        self._failure = self.last_auth_error = event
        host = self.host
        host.metrics.errors["auth"] += 1
        log.warning(
            "%s: authentication refused (code %s, %s)",
            host.exchange,
            event.code,
            event.label or "no label",
        )

    def begin_request(self) -> None:
        self._failure = None

    async def judge_refusal(self, exc: SubscriptionError, attempt: int) -> bool:
        failure = self._failure
        if failure is None:
            return False
        label = failure.label or f"code {failure.code}"
        if label == "REQUEST_EXPIRED" and attempt == 0:
            # Our clock (or the offset) drifted: re-read the server time, re-sign once.
            await self.sync_clock()
            return True
        raise AuthenticationError(
            f"{self.host.exchange}: authentication refused ({label}) for "
            f"{', '.join(sorted(map(str, exc.refused)))}",
            label,
        )

    async def close(self) -> None:
        client, self._rest_client = self._rest_client, None
        if client is not None:
            await client.close()
