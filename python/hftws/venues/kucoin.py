"""KuCoin spot and futures classic WebSocket protocol (``kucoin.md`` §1, §2, §8).

KuCoin has no fixed WebSocket URL: before every socket a token and an instance server come
from ``POST /api/v1/bullet-public`` (or the signed ``bullet-private``) on the REST host; the
socket opens at ``<endpoint>?token=<token>&connectId=<id>`` and may be used only after the
server's ``{"id":<connectId>,"type":"welcome"}``. A token serves one connection and expires, so
:meth:`KucoinProtocol.resolve_endpoint` fetches a new one for every connect and reconnect.

Who asks for the token is injectable: the protocol's ``token_provider`` (default: the public
bullet), overridden by an authenticator that offers ``kucoin_token_provider``
(:class:`KucoinTokenSource`, e.g. a signed ``bullet-private`` request for private topics).
"""

from __future__ import annotations

import itertools
import json
import random
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable
from urllib.parse import urlencode

from hftws.errors import ConnectError
from hftws.policy import ConnectionPolicy, ReconnectPolicy
from hftws.rest import RestError
from hftws.subscriptions import AckOutcome, Subscription
from hftws.venues.base import (
    USER_AGENT,
    Endpoint,
    EndpointHost,
    ExchangeProtocol,
    Signer,
    SubscriptionRequest,
    no_signature,
)

if TYPE_CHECKING:
    from hftws.rest import RestClient

__all__ = [
    "BULLET_PUBLIC",
    "KucoinFuturesProtocol",
    "KucoinProtocol",
    "KucoinTokenSource",
    "TokenProvider",
    "bullet_public",
]

BULLET_PUBLIC = "/api/v1/bullet-public"

#: ``provider(rest, rest_url)`` -> the bullet response body (``{"code","data":{token,
#: instanceServers}}``). Public: :func:`bullet_public`; private: a signed ``bullet-private``.
TokenProvider = Callable[["RestClient", str], Awaitable[Any]]


async def bullet_public(rest: RestClient, rest_url: str) -> Any:
    """``POST /api/v1/bullet-public`` (no auth, weight 10, §1)."""
    return await rest.request("POST", rest_url + BULLET_PUBLIC)


@runtime_checkable
class KucoinTokenSource(Protocol):
    """An authenticator that supplies the token requests (``bullet-private``)."""

    kucoin_token_provider: TokenProvider


#: Request ids: unique per process is enough (the ack echoes it, §2.2).
_ids = itertools.count(1)


class KucoinProtocol(ExchangeProtocol):
    """KuCoin spot: token per socket, welcome, JSON pings, acked subscriptions."""

    name: ClassVar[str] = "kucoin"
    #: Informational: the real endpoint comes from the bullet response ("it may change").
    default_url: ClassVar[str] = "wss://ws-api-spot.kucoin.com/"
    default_rest_url: ClassVar[str] = "https://api.kucoin.com"
    #: KuCoin's SDK gives up after 5 s without a welcome (§8).
    greeting_timeout: ClassVar[float | None] = 5.0
    #: ≤ 400 topics per spot connection (2025 docs; 300 before): keep a margin (§8).
    MAX_TOPICS: ClassVar[int] = 350
    #: ≤ 100 topics per subscribe request (§8): keep a margin.
    MAX_TOPICS_PER_REQUEST: ClassVar[int] = 90
    #: 100 client messages per 10 s (§8): a bucket of 9/s never sends more than 99 in 10 s.
    MESSAGES_PER_SECOND: ClassVar[float] = 9.0
    DEPTH_TOPIC: ClassVar[str] = "/market/level2"
    TRADES_TOPIC: ClassVar[str] = "/market/match"
    TICKER_TOPIC: ClassVar[str] = "/market/ticker"

    def __init__(
        self, token_provider: TokenProvider | None = None, rng: random.Random | None = None
    ) -> None:
        self.token_provider: TokenProvider = token_provider or bullet_public
        self._rng = rng or random.Random()

    def default_policy(self, url: str) -> ConnectionPolicy:
        return ConnectionPolicy(
            url=url,
            headers=(("User-Agent", USER_AGENT),),
            # Until a bullet answer says otherwise (18 s / 10 s in the docs, §2.1).
            ping_interval=18.0,
            ping_message=lambda: json.dumps(
                {"id": str(next(_ids)), "type": "ping"}, separators=(",", ":")
            ),
            pong_timeout=10.0,
            idle_timeout=40.0,
            max_messages_per_second=self.MESSAGES_PER_SECOND,
            max_subscriptions=self.MAX_TOPICS,
            # KuCoin's SDK reconnects every 5 s forever; a fresh token each time (§8).
            reconnect=ReconnectPolicy(initial_delay=0.2, max_delay=10.0, reset_after=60.0),
        )

    # -- endpoint: a token and an instance server per socket ---------------------------------

    async def resolve_endpoint(self, url: str, host: EndpointHost) -> Endpoint:
        auth = host.auth
        provider = (
            auth.kucoin_token_provider
            if isinstance(auth, KucoinTokenSource)
            else self.token_provider
        )
        where = f"{host.exchange}: token request to {host.rest_url}"
        try:
            body = await provider(host.rest, host.rest_url)
        except RestError as exc:
            raise ConnectError(f"{where} failed: {exc}") from None
        return self.endpoint_from_bullet(body, where)

    def endpoint_from_bullet(self, body: Any, where: str = "kucoin bullet") -> Endpoint:
        """The socket endpoint of a bullet answer (a random instance server, as the SDK)."""
        if not isinstance(body, dict) or str(body.get("code")) != "200000":
            code = body.get("code") if isinstance(body, dict) else None
            msg = body.get("msg", "") if isinstance(body, dict) else ""
            raise ConnectError(f"{where} refused: code {code} {msg}".rstrip())
        data: Any = body.get("data")
        try:
            token = data["token"]
            servers = [s for s in data["instanceServers"] if s.get("endpoint")]
            if not isinstance(token, str) or not token or not servers:
                raise ValueError("no token or no instance server")
            server = self._rng.choice(servers)
            ping_ms = float(server.get("pingInterval", 18000))
            timeout_ms = float(server.get("pingTimeout", 10000))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConnectError(f"{where}: malformed answer ({type(exc).__name__})") from None
        connect_id = secrets.token_hex(8)
        endpoint = str(server["endpoint"])
        sep = "&" if "?" in endpoint else "?"
        full = endpoint + sep + urlencode({"token": token, "connectId": connect_id})
        interval, timeout = ping_ms / 1000, timeout_ms / 1000
        return Endpoint(
            full,
            policy=(
                ("ping_interval", interval),
                ("pong_timeout", timeout),
                # Pongs are traffic: silence longer than a ping round means a dead link.
                ("idle_timeout", interval + 2 * timeout),
            ),
            greeting_id=connect_id,
        )

    def is_greeting(self, event: Any, endpoint: Endpoint) -> bool:
        if getattr(event, "kind", None) != "welcome":
            return False
        expected = endpoint.greeting_id
        got = getattr(event, "id", None)
        # The welcome echoes our connectId (§2.2); one without an id is taken as ours.
        return expected is None or got is None or got == expected

    # -- subscriptions ------------------------------------------------------------------------

    def subscription_requests(
        self, subs: list[Subscription], unsubscribe: bool, sign: Signer = no_signature
    ) -> list[SubscriptionRequest]:
        """Topics of one channel share a request (``/market/level2:A,B``), up to 90 each."""
        kind = "unsubscribe" if unsubscribe else "subscribe"
        by_channel: dict[tuple[str, bool], list[Subscription]] = {}
        for sub in subs:
            by_channel.setdefault((sub.channel, self.is_private(sub)), []).append(sub)
        out = []
        step = self.MAX_TOPICS_PER_REQUEST
        for (channel, private), group in by_channel.items():
            for i in range(0, len(group), step):
                chunk = group[i : i + step]
                symbols = [",".join(s.params) for s in chunk if s.params]
                topic = channel + (":" + ",".join(symbols) if symbols else "")
                request_id = str(next(_ids))
                request: dict[str, Any] = {
                    "id": request_id,
                    "type": kind,
                    "topic": topic,
                    "privateChannel": private,
                    "response": True,
                }
                text = json.dumps(sign(request), separators=(",", ":"))
                out.append(SubscriptionRequest(text, request_id, chunk))
        return out

    def is_private(self, sub: Subscription) -> bool:
        """``privateChannel`` of a topic (public protocol: never; a private one overrides)."""
        return False

    def ack_outcome(
        self, event: Any, pending: Mapping[object, list[Subscription]]
    ) -> list[AckOutcome]:
        kind = getattr(event, "kind", "")
        if kind not in ("ack", "error"):
            return []
        request_id = getattr(event, "id", None)
        covered = pending.get(request_id)
        if covered is None:
            return []
        if kind == "ack":
            return [(request_id, frozenset(covered), frozenset(), "")]
        reason = f"code {getattr(event, 'code', None)}: {getattr(event, 'message', None) or ''}"
        return [(request_id, frozenset(), frozenset(covered), reason.strip())]

    @classmethod
    def depth_subscription(cls, symbol: str, **_: str) -> Subscription:
        """Incremental depth (``/market/level2``, per-entry sequences)."""
        return Subscription(cls.DEPTH_TOPIC, (symbol,))

    @classmethod
    def trades_subscription(cls, symbol: str, **_: str) -> Subscription:
        return Subscription(cls.TRADES_TOPIC, (symbol,))

    @classmethod
    def ticker_subscription(cls, symbol: str, **_: str) -> Subscription:
        return Subscription(cls.TICKER_TOPIC, (symbol,))


class KucoinFuturesProtocol(KucoinProtocol):
    """KuCoin futures: the futures REST host (its own bullet) and ``/contractMarket`` topics."""

    name: ClassVar[str] = "kucoin_futures"
    default_url: ClassVar[str] = "wss://ws-api-futures.kucoin.com/"
    default_rest_url: ClassVar[str] = "https://api-futures.kucoin.com"
    DEPTH_TOPIC: ClassVar[str] = "/contractMarket/level2"
    TRADES_TOPIC: ClassVar[str] = "/contractMarket/execution"
    TICKER_TOPIC: ClassVar[str] = "/contractMarket/tickerV2"
