"""The exchange-protocol interface (see ``hftws.venues``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from hftws.policy import ConnectionPolicy
from hftws.subscriptions import AckOutcome, Subscription

if TYPE_CHECKING:
    from hftws.auth.base import Authenticator
    from hftws.rest import RestClient

USER_AGENT = "hftws/0.1"

#: Adds per-request auth to a request before it is serialised (the authenticator's ``sign``).
Signer = Callable[[dict[str, Any]], dict[str, Any]]


def no_signature(request: dict[str, Any]) -> dict[str, Any]:
    return request


@dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    """One wire message: its text, the key its ack is matched by and the streams it covers."""

    text: str
    key: object
    covered: list[Subscription]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the next socket goes, as resolved just before it is opened.

    ``url`` may carry a one-time token: it is never shown (``repr=False``; messages name
    host:port only). ``policy`` holds ``ConnectionPolicy`` fields the server announced for this
    socket (KuCoin's ``pingInterval``/``pingTimeout``); options the user set explicitly win.
    ``greeting_id`` is the id the server's greeting must carry (None: any).
    """

    url: str = field(repr=False)
    policy: tuple[tuple[str, Any], ...] = ()
    greeting_id: str | None = None


class EndpointHost(Protocol):
    """What :meth:`ExchangeProtocol.resolve_endpoint` may use of its connection."""

    @property
    def exchange(self) -> str: ...
    @property
    def rest_url(self) -> str: ...
    @property
    def rest(self) -> RestClient: ...
    @property
    def auth(self) -> Authenticator: ...


class ExchangeProtocol:
    """Endpoints, policy, request formats and ack matching of one exchange (no I/O)."""

    #: Exchange name (logs, metrics, the fused decoder).
    name: ClassVar[str] = ""
    default_url: ClassVar[str] = ""
    #: REST host root (``https://api.gateio.ws``): every REST path is absolute from it.
    default_rest_url: ClassVar[str] = ""

    #: Seconds to wait after the upgrade for the server's greeting (:meth:`is_greeting`)
    #: before anything is sent; None: the server does not greet.
    greeting_timeout: ClassVar[float | None] = None

    async def resolve_endpoint(self, url: str, host: EndpointHost) -> Endpoint:
        """The endpoint of the next socket (called before every connect and reconnect).

        Default: ``url`` as configured. Exchanges that hand out endpoints and tokens over
        REST (KuCoin's bullet) fetch them here, through ``host.rest``; the exchange protocol
        itself keeps no connection state.
        """
        return Endpoint(url)

    def is_greeting(self, event: Any, endpoint: Endpoint) -> bool:
        """True when ``event`` is the server's greeting for the socket opened at ``endpoint``."""
        return False

    def default_policy(self, url: str) -> ConnectionPolicy:
        """The exchange's connection policy for ``url``."""
        raise NotImplementedError(f"{type(self).__name__} has no connection policy")

    def subscription_requests(
        self, subs: list[Subscription], unsubscribe: bool, sign: Signer = no_signature
    ) -> list[SubscriptionRequest]:
        """Wire messages that (un)subscribe ``subs``."""
        raise NotImplementedError(f"{type(self).__name__} cannot subscribe")

    def ack_outcome(
        self, event: Any, pending: Mapping[object, list[Subscription]]
    ) -> list[AckOutcome]:
        """What ``event`` (an ack or error) confirms or refuses among ``pending`` requests."""
        return []

    def route_of(self, sub: Subscription) -> str:
        """The endpoint path ``sub`` must be sent to; ``""``: any connection of the exchange
        (exchanges that split streams over paths override the three route methods)."""
        return ""

    def route_of_url(self, url: str) -> str:
        """The route a connection to ``url`` serves."""
        return ""

    def url_for_route(self, url: str, route: str) -> str:
        """``url`` moved to ``route``."""
        if route:
            raise ValueError(f"{self.name or type(self).__name__} has no route {route!r}")
        return url

    @classmethod
    def depth_subscription(cls, symbol: str, **options: str) -> Subscription:
        """The incremental depth stream of ``symbol``."""
        raise NotImplementedError(f"{cls.__name__} has no depth stream")

    @classmethod
    def trades_subscription(cls, symbol: str, **options: str) -> Subscription:
        """The public trade stream of ``symbol``."""
        raise NotImplementedError(f"{cls.__name__} has no trade stream")

    @classmethod
    def ticker_subscription(cls, symbol: str, **options: str) -> Subscription:
        """The best bid/ask stream of ``symbol``."""
        raise NotImplementedError(f"{cls.__name__} has no ticker stream")
