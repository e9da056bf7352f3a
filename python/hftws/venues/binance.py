"""Binance spot and USDⓈ-M futures market-stream protocol (``binance.md`` §0-§3, §8, §9).

Requests are ``{"method":"SUBSCRIBE"|"UNSUBSCRIBE","params":[stream, ...],"id":N}`` text frames;
the answer ``{"result":null,"id":N}`` confirms every stream of the request and an error object
(``{"code":2,"msg":...,"id":N}``) refuses them (§2.1). A stream name Binance does not know is
*not* refused, it just stays silent: hftws checks names client-side where it can (lower case,
the right USDⓈ-M path).

Connections use the combined endpoint (``/stream``), so every push arrives as
``{"stream":...,"data":...}`` and a bookTicker push (no event type) is still named.

Limits (§9): at most 5 (spot) / 10 (futures) client frames per second per connection, pongs
and pings included. The policy throttles requests to one less than that in any sliding second
(``strict_rate=True``): the answer to a server ping cannot wait, so one slot stays free for it,
and the pongs and pings the WebSocket layer sent are counted against the same window. 1024
streams per connection (the manager opens another connection beyond), 24 h per connection
(rolled over make-before-break at 23.5 h), ``serverShutdown`` rolls over at once.

USDⓈ-M streams are split over paths since 2026-03-06 (§8.2): depth and bookTicker on
``/public``, aggTrade, kline, tickers, markPrice and forceOrder on ``/market``. A stream sent
to the wrong path silently delivers nothing, so each subscription names its route and the
manager keeps one connection per route.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from hftws.policy import ConnectionPolicy, ReconnectPolicy
from hftws.subscriptions import AckOutcome, Subscription
from hftws.venues.base import (
    USER_AGENT,
    ExchangeProtocol,
    Signer,
    SubscriptionRequest,
    no_signature,
)

__all__ = ["BinanceFuturesProtocol", "BinanceProtocol", "BinanceSbeProtocol", "stream_name"]

#: Request ids: unique among the pending requests of a process (§2.1: signed 64-bit).
_ids = itertools.count(1)


def stream_name(symbol: str, suffix: str) -> str:
    """``<symbol lower case>@<suffix>`` (§0: stream names are lower case)."""
    return f"{symbol.lower()}@{suffix}"


class BinanceProtocol(ExchangeProtocol):
    """Binance spot market streams (``wss://stream.binance.com:9443``)."""

    name: ClassVar[str] = "binance"
    default_url: ClassVar[str] = "wss://stream.binance.com:9443/stream"
    default_rest_url: ClassVar[str] = "https://api.binance.com"
    #: Streams per connection (§9).
    MAX_STREAMS: ClassVar[int] = 1024
    #: Client frames per second the exchange allows per connection (§9).
    MESSAGE_LIMIT: ClassVar[int] = 5
    #: Streams per SUBSCRIBE frame: big lists are answered with 1008 (§11); 50 keeps a full
    #: connection's re-subscribe at 21 frames.
    STREAMS_PER_REQUEST: ClassVar[int] = 50
    #: Default trade stream (``trade`` or ``aggTrade``).
    TRADE_STREAM: ClassVar[str] = "trade"
    #: Default diff-depth speed suffix (``@100ms``; ``""`` = 1000 ms).
    DEPTH_SPEED: ClassVar[str] = "@100ms"

    def default_policy(self, url: str) -> ConnectionPolicy:
        return ConnectionPolicy(
            url=url,
            headers=(("User-Agent", USER_AGENT),),
            # The server pings (20 s spot, 3 min futures) and the WebSocket layer answers with
            # the same payload. Our own protocol pings every 15 s make a dead path visible
            # within idle_timeout even on a quiet stream (they count toward the frame limit).
            ping_interval=15.0,
            ping_message=None,
            idle_timeout=45.0,
            # Every connection dies at 24 h (§9): roll over before, make-before-break.
            max_connection_age=23.5 * 3600,
            max_messages_per_second=float(self.MESSAGE_LIMIT - 1),
            strict_rate=True,
            max_subscriptions=self.MAX_STREAMS,
            # 300 connection attempts per 5 min per IP (spot): the backoff grows to 30 s.
            reconnect=ReconnectPolicy(
                initial_delay=0.1,
                max_delay=30.0,
                reset_after=60.0,
                immediate_codes=frozenset({1000, 1001}),
            ),
        )

    # -- requests and acks ----------------------------------------------------------------------

    def subscription_requests(
        self, subs: list[Subscription], unsubscribe: bool, sign: Signer = no_signature
    ) -> list[SubscriptionRequest]:
        # Market streams are public: nothing to sign.
        method = "UNSUBSCRIBE" if unsubscribe else "SUBSCRIBE"
        out = []
        step = self.STREAMS_PER_REQUEST
        for i in range(0, len(subs), step):
            chunk = subs[i : i + step]
            request_id = next(_ids)
            text = json.dumps(
                {"method": method, "params": [s.channel for s in chunk], "id": request_id},
                separators=(",", ":"),
            )
            out.append(SubscriptionRequest(text, request_id, chunk))
        return out

    def ack_outcome(
        self, event: Any, pending: Mapping[object, list[Subscription]]
    ) -> list[AckOutcome]:
        kind = getattr(event, "kind", "")
        if kind not in ("reply", "error"):
            return []
        request_id = getattr(event, "id", None)
        covered_list = pending.get(request_id)
        if covered_list is None:
            # An error without an id (§2.1: some carry none) cannot be matched: the request
            # then fails on its ack timeout.
            return []
        covered = frozenset(covered_list)
        if kind == "reply":
            return [(request_id, covered, frozenset(), "")]
        reason = f"code {getattr(event, 'code', '?')}: {getattr(event, 'msg', '') or ''}"
        return [(request_id, frozenset(), covered, reason)]

    # -- streams --------------------------------------------------------------------------------

    @classmethod
    def depth_subscription(cls, symbol: str, interval: str | None = None, **_: str) -> Subscription:
        """Diff depth ``<s>@depth@100ms`` (``interval="1000ms"`` or ``""``: ``<s>@depth``)."""
        speed = cls.DEPTH_SPEED if interval is None else _speed(interval)
        return Subscription(stream_name(symbol, "depth" + speed))

    @classmethod
    def trades_subscription(cls, symbol: str, kind: str | None = None, **_: str) -> Subscription:
        """Trades: ``<s>@trade`` (spot default) or ``<s>@aggTrade`` (``kind="aggTrade"``)."""
        kind = kind or cls.TRADE_STREAM
        if kind not in ("trade", "aggTrade"):
            raise ValueError(f"binance trade streams are 'trade' or 'aggTrade', not {kind!r}")
        return Subscription(stream_name(symbol, kind))

    @classmethod
    def ticker_subscription(cls, symbol: str, **_: str) -> Subscription:
        """Best bid/ask ``<s>@bookTicker`` (carries ``u``, the depth id space)."""
        return Subscription(stream_name(symbol, "bookTicker"))

    @classmethod
    def kline_subscription(cls, symbol: str, interval: str = "1m") -> Subscription:
        """Candles ``<s>@kline_<interval>``."""
        return Subscription(stream_name(symbol, f"kline_{interval}"))


def _speed(interval: str) -> str:
    if interval in ("", "1000ms", "1s"):
        return ""
    if interval not in ("100ms", "250ms", "500ms"):
        raise ValueError(f"binance depth speeds are 100ms, 250ms, 500ms or 1000ms, not {interval}")
    return "@" + interval


#: USDⓈ-M stream suffixes served on ``/public`` (§8.2); everything else is on ``/market``.
_PUBLIC_STREAMS = ("depth", "bookTicker", "rpiDepth", "trade")
_ROUTES = ("public", "market")


class BinanceFuturesProtocol(BinanceProtocol):
    """Binance USDⓈ-M futures market streams (``wss://fstream.binance.com/public|market``)."""

    name: ClassVar[str] = "binance_futures"
    default_url: ClassVar[str] = "wss://fstream.binance.com/public/stream"
    default_rest_url: ClassVar[str] = "https://fapi.binance.com"
    MESSAGE_LIMIT: ClassVar[int] = 10
    #: ``@trade`` on USDⓈ-M is not confirmed (reference, could-not-confirm #2): aggTrade.
    TRADE_STREAM: ClassVar[str] = "aggTrade"

    def route_of(self, sub: Subscription) -> str:
        name = sub.channel
        # ``<s>@depth@100ms`` -> ``depth``; all-market ``!bookTicker`` -> ``bookTicker``.
        suffix = name[1:] if name.startswith("!") else name.partition("@")[2]
        head = suffix.split("@", 1)[0]
        for public in _PUBLIC_STREAMS:
            if head == public or (public == "depth" and head[:5] == "depth"):
                return "public"
        return "market"

    def route_of_url(self, url: str) -> str:
        first = urlsplit(url).path.lstrip("/").split("/", 1)[0]
        return first if first in _ROUTES else "public"

    def url_for_route(self, url: str, route: str) -> str:
        if route not in _ROUTES:
            raise ValueError(f"binance_futures routes are {_ROUTES}, not {route!r}")
        parts = urlsplit(url)
        segments = parts.path.lstrip("/").split("/", 1)
        if segments[0] in (*_ROUTES, "private"):
            rest = segments[1] if len(segments) > 1 else "stream"
        else:
            # A bare host (or the retired legacy path): the combined endpoint under the route.
            rest = parts.path.lstrip("/") or "stream"
        return urlunsplit((parts.scheme, parts.netloc, f"/{route}/{rest}", parts.query, ""))


class BinanceSbeProtocol(BinanceProtocol):
    """Binance spot SBE market streams (``wss://stream-sbe.binance.com:9443``, §5).

    Same control protocol and limits as the JSON streams; data frames are binary SBE (decoded
    in Rust on the socket read). Streams: ``<s>@depth`` (diff), ``<s>@depth20``,
    ``<s>@bestBidAsk`` and ``<s>@trade``. The upgrade carries an Ed25519 API key in
    ``X-MBX-APIKEY`` (the connection adds it; it is kept out of the policy and its repr).
    """

    name: ClassVar[str] = "binance_sbe"
    default_url: ClassVar[str] = "wss://stream-sbe.binance.com:9443/stream"

    @classmethod
    def depth_subscription(cls, symbol: str, interval: str | None = None, **_: str) -> Subscription:
        """SBE diff depth ``<s>@depth`` (one speed: 20 ms since 2026-08-04)."""
        return Subscription(stream_name(symbol, "depth"))

    @classmethod
    def trades_subscription(cls, symbol: str, kind: str | None = None, **_: str) -> Subscription:
        """SBE trades ``<s>@trade`` (one event per match, all its fills)."""
        return Subscription(stream_name(symbol, "trade"))

    @classmethod
    def ticker_subscription(cls, symbol: str, **_: str) -> Subscription:
        """SBE best bid/ask ``<s>@bestBidAsk`` (auto-culled: a newer one replaces an unsent one)."""
        return Subscription(stream_name(symbol, "bestBidAsk"))
