"""Gate.io v4 spot and USDT-futures WebSocket protocol (``gateio.md`` §2, §3, §6, §7)."""

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

#: Request ids: unique among pending requests of a process is all Gate needs (§2.1).
_ids = itertools.count(1)


class GateioProtocol(ExchangeProtocol):
    """Gate.io spot: standard headers, steady reconnects, optional permessage-deflate."""

    name: ClassVar[str] = "gateio"
    default_url: ClassVar[str] = "wss://api.gateio.ws/ws/v4/"
    default_rest_url: ClassVar[str] = "https://api.gateio.ws"
    PING_CHANNEL: ClassVar[str] = "spot.ping"
    CHANNEL_PREFIX: ClassVar[str] = "spot"

    def default_policy(self, url: str) -> ConnectionPolicy:
        ping = self.PING_CHANNEL
        return ConnectionPolicy(
            url=url,
            headers=(("User-Agent", USER_AGENT),),
            ping_interval=10.0,
            ping_message=lambda: json.dumps({"time": int(time.time()), "channel": ping}),
            # Gate drops a socket after about a minute of silence either way (§2.4).
            idle_timeout=30.0,
            # Gate's server support for permessage-deflate is partial (§7): off unless asked.
            compression=False,
            reconnect=ReconnectPolicy(initial_delay=0.5, max_delay=30.0, reset_after=60.0),
        )

    def subscription_requests(
        self, subs: list[Subscription], unsubscribe: bool, sign: Signer = no_signature
    ) -> list[SubscriptionRequest]:
        event = "unsubscribe" if unsubscribe else "subscribe"
        out = []
        for sub in subs:
            # Ids must fit int32 (§2.1).
            request_id = next(_ids) % 2_000_000_000 + 1
            request: dict[str, Any] = {
                "time": int(time.time()),
                "id": request_id,
                "channel": sub.channel,
                "event": event,
                "payload": list(sub.params),
            }
            # Signed when sent, never cached: a resubscription carries a fresh time.
            request = sign(request)
            text = json.dumps(request, separators=(",", ":"))
            out.append(SubscriptionRequest(text, request_id, [sub]))
        return out

    def ack_outcome(
        self, event: Any, pending: Mapping[object, list[Subscription]]
    ) -> list[AckOutcome]:
        request_id = getattr(event, "id", None)
        covered_list = pending.get(request_id)
        if covered_list is None:
            return []
        covered = frozenset(covered_list)
        if getattr(event, "success", False):
            return [(request_id, covered, frozenset(), "")]
        reason = f"code {getattr(event, 'code', '?')}: {getattr(event, 'message', '')}"
        return [(request_id, frozenset(), covered, reason)]

    @classmethod
    def depth_subscription(
        cls, symbol: str, interval: str = "100ms", level: str = "100", **_: str
    ) -> Subscription:
        """Incremental depth (`order_book_update`); futures also take a level."""
        if cls.CHANNEL_PREFIX == "spot":
            return Subscription("spot.order_book_update", (symbol, interval))
        return Subscription("futures.order_book_update", (symbol, interval, level))

    @classmethod
    def trades_subscription(cls, symbol: str, **_: str) -> Subscription:
        return Subscription(f"{cls.CHANNEL_PREFIX}.trades", (symbol,))

    @classmethod
    def ticker_subscription(cls, symbol: str, **_: str) -> Subscription:
        """Best bid/ask (`book_ticker`)."""
        return Subscription(f"{cls.CHANNEL_PREFIX}.book_ticker", (symbol,))


class GateioFuturesProtocol(GateioProtocol):
    """Gate.io USDT perpetual futures: the futures endpoint, ping channel and stream names."""

    name: ClassVar[str] = "gateio_futures"
    default_url: ClassVar[str] = "wss://fx-ws.gateio.ws/v4/ws/usdt"
    PING_CHANNEL: ClassVar[str] = "futures.ping"
    CHANNEL_PREFIX: ClassVar[str] = "futures"
