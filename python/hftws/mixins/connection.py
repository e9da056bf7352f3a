"""Per-exchange connection policy and wire format of subscriptions.

Each mixin knows its exchange's endpoints, heartbeat, limits and reconnect temperament
(``mexc.md`` §5, ``gateio.md`` §2.4 and §7), how to ask for streams, and how to read the
acks. ``BaseWebSocketInterface`` asks it for a ``ConnectionPolicy`` and obeys.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any, ClassVar

from hftws.mixins.subscription import AckOutcome, Subscription
from hftws.policy import ConnectionPolicy, ReconnectPolicy

USER_AGENT = "hftws/0.1"


class ConnectionMixin:
    """Base of the connection mixins."""

    exchange: ClassVar[str] = ""
    DEFAULT_URL: ClassVar[str] = ""
    DEFAULT_REST_URL: ClassVar[str] = ""

    def _default_policy(self, url: str) -> ConnectionPolicy:
        raise NotImplementedError


class MexcConnectionMixin(ConnectionMixin):
    """MEXC spot: minimal headers, aggressive reconnects, 30 streams and 100 msg/s per socket."""

    exchange: ClassVar[str] = "mexc"
    DEFAULT_URL: ClassVar[str] = "wss://wbs-api.mexc.com/ws"
    DEFAULT_REST_URL: ClassVar[str] = "https://api.mexc.com"
    MAX_SUBSCRIPTIONS: ClassVar[int] = 30

    def _default_policy(self, url: str) -> ConnectionPolicy:
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

    def _subscription_requests(
        self, subs: list[Subscription], unsubscribe: bool
    ) -> list[tuple[str, object, list[Subscription]]]:
        method = "UNSUBSCRIPTION" if unsubscribe else "SUBSCRIPTION"
        out = []
        for i in range(0, len(subs), self.MAX_SUBSCRIPTIONS):
            chunk = subs[i : i + self.MAX_SUBSCRIPTIONS]
            channels = [s.channel for s in chunk]
            text = json.dumps({"method": method, "params": channels}, separators=(",", ":"))
            out.append((text, frozenset(channels), chunk))
        return out

    def _ack_outcome(self, event: Any) -> list[AckOutcome]:
        # MEXC echoes the channels in `msg` and says code 0 even when it refuses (§2.2):
        # a request succeeds only for channels named in a plain ack.
        kind = getattr(event, "kind", "")
        pending: dict[object, tuple[list[Subscription], Any]] = self._pending  # type: ignore[attr-defined]
        out: list[AckOutcome] = []
        if kind == "ack":
            named = frozenset(event.msg.split(","))
            for key, (covered, _fut) in pending.items():
                if isinstance(key, frozenset) and key <= named:
                    out.append((key, frozenset(covered), frozenset(), ""))
        elif kind == "refused":
            bad = frozenset(event.refused_channels())
            for key, (covered, _fut) in pending.items():
                if isinstance(key, frozenset) and key & bad:
                    refused = frozenset(s for s in covered if s.channel in bad)
                    out.append((key, frozenset(covered) - refused, refused, event.msg.strip()))
        return out


class GateioConnectionMixin(ConnectionMixin):
    """Gate.io spot: standard headers, steady reconnects, optional permessage-deflate."""

    exchange: ClassVar[str] = "gateio"
    DEFAULT_URL: ClassVar[str] = "wss://api.gateio.ws/ws/v4/"
    DEFAULT_REST_URL: ClassVar[str] = "https://api.gateio.ws"
    PING_CHANNEL: ClassVar[str] = "spot.ping"
    _ids = itertools.count(1)

    def _default_policy(self, url: str) -> ConnectionPolicy:
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

    def _subscription_requests(
        self, subs: list[Subscription], unsubscribe: bool
    ) -> list[tuple[str, object, list[Subscription]]]:
        event = "unsubscribe" if unsubscribe else "subscribe"
        out = []
        for sub in subs:
            # Ids must fit int32 (§2.1); they only need to be unique among pending requests.
            request_id = next(self._ids) % 2_000_000_000 + 1
            request: dict[str, Any] = {
                "time": int(time.time()),
                "id": request_id,
                "channel": sub.channel,
                "event": event,
                "payload": list(sub.params),
            }
            request = self._sign_request(request)  # type: ignore[attr-defined]
            out.append((json.dumps(request, separators=(",", ":")), request_id, [sub]))
        return out

    def _ack_outcome(self, event: Any) -> list[AckOutcome]:
        request_id = getattr(event, "id", None)
        pending: dict[object, tuple[list[Subscription], Any]] = self._pending  # type: ignore[attr-defined]
        entry = pending.get(request_id)
        if entry is None:
            return []
        covered = frozenset(entry[0])
        if getattr(event, "success", False):
            return [(request_id, covered, frozenset(), "")]
        reason = f"code {getattr(event, 'code', '?')}: {getattr(event, 'message', '')}"
        return [(request_id, frozenset(), covered, reason)]


class GateioFuturesConnectionMixin(GateioConnectionMixin):
    """Gate.io USDT perpetual futures: the futures endpoint and ping channel."""

    exchange: ClassVar[str] = "gateio_futures"
    DEFAULT_URL: ClassVar[str] = "wss://fx-ws.gateio.ws/v4/ws/usdt"
    DEFAULT_REST_URL: ClassVar[str] = "https://api.gateio.ws"
    PING_CHANNEL: ClassVar[str] = "futures.ping"
