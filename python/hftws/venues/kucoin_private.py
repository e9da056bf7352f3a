"""KuCoin private WebSocket protocol, spot and futures (``kucoin.md`` §2, §5, §7.3, §8).

Requests are ``{"id","type":"subscribe"|"unsubscribe","topic","privateChannel":true,
"response":true}``; the server answers ``{"id","type":"ack"}`` or ``{"id","type":"error",
"code","data"}`` with the same id. Keep-alive is a JSON ``{"id":"<ms>","type":"ping"}`` every
``pingInterval`` (the token answer's value replaces the default here for every socket, see
:class:`~hftws.exchanges.kucoin_private.KucoinSpotPrivateHandler`); the connection is dropped
when a ping waits ``pingTimeout`` for its pong, or nothing at all arrives for
``pingInterval + pingTimeout``. Client frames are
throttled to 8 per second (limit: 100 per 10 s).

The WebSocket URL comes from the token answer (``instanceServers[].endpoint``), so
``default_url`` only names the usual host for messages; ``default_rest_url`` is where the
token is asked for.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from hftws.policy import ConnectionPolicy, ReconnectPolicy
from hftws.subscriptions import AckOutcome, Subscription
from hftws.venues.base import (
    USER_AGENT,
    ExchangeProtocol,
    Signer,
    SubscriptionRequest,
    no_signature,
)

__all__ = [
    "KucoinFuturesPrivateProtocol",
    "KucoinPrivateProtocol",
    "kucoin_ping",
    "topic_of",
]

#: Request ids: unique within a process is all KuCoin needs (strings on the wire).
_ids = itertools.count(1)
#: The doc example's ping rules (ms); every token answer restates them.
DEFAULT_PING_INTERVAL_MS = 18_000
DEFAULT_PING_TIMEOUT_MS = 10_000


def kucoin_ping() -> str:
    """``{"id":"<ms>","type":"ping"}`` (the pong echoes the id)."""
    return json.dumps({"id": str(time.time_ns() // 1_000_000), "type": "ping"})


def topic_of(sub: Subscription) -> str:
    """``/contract/position:XBTUSDTM,ETHUSDTM`` from ``Subscription(channel, symbols)``."""
    return sub.channel + (f":{','.join(sub.params)}" if sub.params else "")


class KucoinPrivateProtocol(ExchangeProtocol):
    """KuCoin spot private topics (``/spotMarket/tradeOrdersV2``, ``/account/balance``)."""

    name: ClassVar[str] = "kucoin"
    default_url: ClassVar[str] = "wss://ws-api-spot.kucoin.com/"
    default_rest_url: ClassVar[str] = "https://api.kucoin.com"
    #: Symbols per subscribe request (limit 100; the reference advises a margin).
    MAX_TOPICS_PER_REQUEST: ClassVar[int] = 90

    def default_policy(self, url: str) -> ConnectionPolicy:
        interval = DEFAULT_PING_INTERVAL_MS / 1000
        return ConnectionPolicy(
            url=url,
            headers=(("User-Agent", USER_AGENT),),
            ping_interval=interval,
            ping_message=kucoin_ping,
            idle_timeout=interval + DEFAULT_PING_TIMEOUT_MS / 1000,
            max_messages_per_second=8.0,
            # KuCoin's SDK reconnects every 5 s without limit; start faster, cap there.
            reconnect=ReconnectPolicy(initial_delay=0.5, max_delay=5.0, reset_after=60.0),
        )

    def subscription_requests(
        self, subs: list[Subscription], unsubscribe: bool, sign: Signer = no_signature
    ) -> list[SubscriptionRequest]:
        kind = "unsubscribe" if unsubscribe else "subscribe"
        out = []
        for sub in subs:
            for start in range(0, max(1, len(sub.params)), self.MAX_TOPICS_PER_REQUEST):
                part = Subscription(
                    sub.channel, sub.params[start : start + self.MAX_TOPICS_PER_REQUEST]
                )
                request_id = str(next(_ids))
                request: dict[str, Any] = {
                    "id": request_id,
                    "type": kind,
                    "topic": topic_of(part),
                    "privateChannel": True,
                    "response": True,
                }
                text = json.dumps(sign(request), separators=(",", ":"))
                out.append(SubscriptionRequest(text, request_id, [sub]))
        return out

    def ack_outcome(
        self, event: Any, pending: Mapping[object, list[Subscription]]
    ) -> list[AckOutcome]:
        request_id = getattr(event, "id", None)
        covered_list = pending.get(request_id)
        if covered_list is None:
            return []  # errors without an id (a dead token) are the authenticator's
        covered = frozenset(covered_list)
        if getattr(event, "kind", None) == "ack":
            return [(request_id, covered, frozenset(), "")]
        reason = f"code {getattr(event, 'code', '?')}: {getattr(event, 'message', '') or ''}"
        return [(request_id, frozenset(), covered, reason)]


class KucoinFuturesPrivateProtocol(KucoinPrivateProtocol):
    """KuCoin futures private topics (orders, wallet, positions) on the futures hosts."""

    name: ClassVar[str] = "kucoin_futures"
    default_url: ClassVar[str] = "wss://ws-api-futures.kucoin.com/"
    default_rest_url: ClassVar[str] = "https://api-futures.kucoin.com"
