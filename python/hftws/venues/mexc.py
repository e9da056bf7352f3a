"""MEXC spot v3 WebSocket protocol (``mexc.md`` §2, §5)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from hftws import mexc
from hftws.policy import ConnectionPolicy, ReconnectPolicy
from hftws.subscriptions import AckOutcome, Subscription
from hftws.venues.base import ExchangeProtocol, Signer, SubscriptionRequest, no_signature


class MexcProtocol(ExchangeProtocol):
    """Minimal headers, aggressive reconnects, 30 streams and 100 msg/s per socket."""

    name: ClassVar[str] = "mexc"
    default_url: ClassVar[str] = "wss://wbs-api.mexc.com/ws"
    default_rest_url: ClassVar[str] = "https://api.mexc.com"
    MAX_SUBSCRIPTIONS: ClassVar[int] = 30

    def default_policy(self, url: str) -> ConnectionPolicy:
        return ConnectionPolicy(
            url=url,
            headers=(),
            ping_interval=15.0,
            ping_message=lambda: '{"method":"PING"}',
            # The server drops a socket after 60 s without data; pings every 15 s get PONGs,
            # so 30 s of silence means the connection is dead.
            idle_timeout=30.0,
            # MEXC closes every connection at 24 h: roll over well before.
            max_connection_age=23.5 * 3600,
            max_messages_per_second=90.0,
            max_subscriptions=self.MAX_SUBSCRIPTIONS,
            reconnect=ReconnectPolicy(
                initial_delay=0.05,
                max_delay=5.0,
                reset_after=30.0,
                immediate_codes=frozenset({1000, 1001, 1005, 1006, 1011}),
            ),
        )

    def subscription_requests(
        self, subs: list[Subscription], unsubscribe: bool, sign: Signer = no_signature
    ) -> list[SubscriptionRequest]:
        # MEXC signs nothing per request: private streams are authorised by the listenKey URL.
        method = "UNSUBSCRIPTION" if unsubscribe else "SUBSCRIPTION"
        out = []
        for i in range(0, len(subs), self.MAX_SUBSCRIPTIONS):
            chunk = subs[i : i + self.MAX_SUBSCRIPTIONS]
            channels = [s.channel for s in chunk]
            text = json.dumps({"method": method, "params": channels}, separators=(",", ":"))
            out.append(SubscriptionRequest(text, frozenset(channels), chunk))
        return out

    def ack_outcome(
        self, event: Any, pending: Mapping[object, list[Subscription]]
    ) -> list[AckOutcome]:
        # MEXC echoes the channels in `msg` and says code 0 even when it refuses (§2.2):
        # a request succeeds only for channels named in a plain ack.
        kind = getattr(event, "kind", "")
        out: list[AckOutcome] = []
        if kind == "ack":
            named = frozenset(event.msg.split(","))
            for key, covered in pending.items():
                if isinstance(key, frozenset) and key <= named:
                    out.append((key, frozenset(covered), frozenset(), ""))
        elif kind == "refused":
            bad = frozenset(event.refused_channels())
            for key, covered in pending.items():
                if isinstance(key, frozenset) and key & bad:
                    refused = frozenset(s for s in covered if s.channel in bad)
                    out.append((key, frozenset(covered) - refused, refused, event.msg.strip()))
        return out

    @classmethod
    def depth_subscription(cls, symbol: str, interval: str = "10ms", **_: str) -> Subscription:
        """Aggregated incremental depth (body 313)."""
        return Subscription(mexc.depth_channel(symbol, interval))

    @classmethod
    def trades_subscription(cls, symbol: str, interval: str = "10ms", **_: str) -> Subscription:
        """Aggregated trades (body 314)."""
        return Subscription(mexc.deals_channel(symbol, interval))

    @classmethod
    def ticker_subscription(cls, symbol: str, interval: str = "10ms", **_: str) -> Subscription:
        """Aggregated best bid/ask (body 315)."""
        return Subscription(mexc.book_ticker_channel(symbol, interval))
