"""Binance user-data connections as exchange protocols (no I/O).

- :class:`BinanceWsApiProtocol`: the spot WebSocket API (``binance.md`` §2.2, §6.2). The one
  stream is :data:`USER_DATA`; subscribing sends ``userDataStream.subscribe`` (the
  authenticator turns it into ``userDataStream.subscribe.signature`` with the signed params,
  or leaves it bare after a ``session.logon``), and the answer is matched by request ``id``.
  ``-2035 SUBSCRIPTION_ACTIVE`` counts as success (the subscription is there).
- :class:`BinanceFuturesUserDataProtocol`: the USDⓈ-M ``/private`` stream (§8.6). The listenKey
  in the URL is the subscription: :data:`USER_DATA` sends nothing and events flow as soon as
  the socket is open.

Both sockets get server pings (spot every 20 s, futures every 3 min) that the transport answers;
the client pings too (a protocol ping, counted in the 5 / 10 incoming messages per second the
server allows) so a dead path is seen within ``idle_timeout``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from hftws.policy import ConnectionPolicy, ReconnectPolicy
from hftws.subscriptions import AckOutcome, Subscription
from hftws.venues.base import ExchangeProtocol, Signer, SubscriptionRequest, no_signature

__all__ = [
    "SUBSCRIPTION_ACTIVE",
    "USER_DATA",
    "BinanceFuturesUserDataProtocol",
    "BinanceWsApiProtocol",
]

#: The account's user-data stream (spot: one per connection; futures: the listenKey's).
USER_DATA: Final = Subscription("userData")
#: "This subscription is already active" (``binance.md`` §10): the goal is reached.
SUBSCRIPTION_ACTIVE: Final = -2035

_ids = itertools.count(1)


def next_request_id() -> str:
    """A request id unique in this process (Binance accepts strings of up to 36 characters)."""
    return f"hftws-{next(_ids)}"


def _reconnect() -> ReconnectPolicy:
    return ReconnectPolicy(
        initial_delay=0.1,
        max_delay=10.0,
        reset_after=30.0,
        immediate_codes=frozenset({1000, 1001, 1005, 1006, 1011}),
    )


class BinanceWsApiProtocol(ExchangeProtocol):
    """Spot WebSocket API: user data by subscription, answers matched by request id."""

    name: ClassVar[str] = "binance"
    default_url: ClassVar[str] = "wss://ws-api.binance.com:443/ws-api/v3"
    default_rest_url: ClassVar[str] = "https://api.binance.com"
    SUBSCRIBE: ClassVar[str] = "userDataStream.subscribe"
    UNSUBSCRIBE: ClassVar[str] = "userDataStream.unsubscribe"

    def default_policy(self, url: str) -> ConnectionPolicy:
        return ConnectionPolicy(
            url=url,
            # The server pings every 20 s and drops us after 1 min without a pong; our own
            # protocol ping every 20 s makes silence longer than 60 s mean a dead path.
            ping_interval=20.0,
            ping_message=None,
            idle_timeout=60.0,
            # Every connection is closed at 24 h: roll over (make-before-break) before.
            max_connection_age=23.5 * 3600,
            # Request weight is per IP; keep the frame rate as low as on the streams.
            max_messages_per_second=4.0,
            reconnect=_reconnect(),
        )

    def subscription_requests(
        self, subs: list[Subscription], unsubscribe: bool, sign: Signer = no_signature
    ) -> list[SubscriptionRequest]:
        out = []
        for sub in subs:
            if sub != USER_DATA:
                raise ValueError(f"binance: {sub} is not a user-data stream of the WebSocket API")
            request: dict[str, Any] = {
                "id": next_request_id(),
                "method": self.UNSUBSCRIBE if unsubscribe else self.SUBSCRIBE,
            }
            if not unsubscribe:
                request = sign(request)
            text = json.dumps(request, separators=(",", ":"), ensure_ascii=False)
            out.append(SubscriptionRequest(text, request["id"], [sub]))
        return out

    def ack_outcome(
        self, event: Any, pending: Mapping[object, list[Subscription]]
    ) -> list[AckOutcome]:
        rid = getattr(event, "id", None)
        covered = pending.get(rid) if rid is not None else None
        if covered is None or not hasattr(event, "status"):
            return []
        if event.status == 200 or event.error_code == SUBSCRIPTION_ACTIVE:
            return [(rid, frozenset(covered), frozenset(), "")]
        return [(rid, frozenset(), frozenset(covered), event.reason)]


class BinanceFuturesUserDataProtocol(ExchangeProtocol):
    """USDⓈ-M ``/private`` stream: the listenKey in the URL; nothing to send."""

    name: ClassVar[str] = "binance_futures"
    default_url: ClassVar[str] = "wss://fstream.binance.com/private/ws"
    default_rest_url: ClassVar[str] = "https://fapi.binance.com"

    def default_policy(self, url: str) -> ConnectionPolicy:
        return ConnectionPolicy(
            url=url,
            # Server pings every 3 min (pong within 10 min); ours every 60 s are answered,
            # so 3 min of silence means a dead path.
            ping_interval=60.0,
            ping_message=None,
            idle_timeout=180.0,
            max_connection_age=23.5 * 3600,
            max_messages_per_second=9.0,
            reconnect=_reconnect(),
        )

    def subscription_requests(
        self, subs: list[Subscription], unsubscribe: bool, sign: Signer = no_signature
    ) -> list[SubscriptionRequest]:
        for sub in subs:
            if sub != USER_DATA:
                raise ValueError(f"binance_futures: {sub} is not the user-data stream")
        return []
