"""The authenticator interface and the public-stream one (see ``hftws.auth``)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, ClassVar, Protocol

from hftws.errors import HftwsError, SubscriptionError
from hftws.metrics import Metrics
from hftws.policy import ConnectionPolicy


class AuthHost(Protocol):
    """What an authenticator may see and ask of its connection."""

    @property
    def exchange(self) -> str: ...
    @property
    def rest_url(self) -> str: ...
    @property
    def policy(self) -> ConnectionPolicy: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def closing(self) -> bool: ...

    def fail_pending(self, reason: str) -> None:
        """Answer every pending subscription request with a refusal (the socket is unusable)."""

    async def rollover(self) -> None:
        """Open a new socket (make-before-break), then retire the current one."""


class Authenticator:
    """Interface of every authenticator; the defaults are those of a public stream."""

    #: True when the streams need credentials.
    requires_auth: ClassVar[bool] = False

    def __init__(self) -> None:
        self._host: AuthHost | None = None

    def bind(self, host: AuthHost) -> None:
        """Attach to the connection (called once, by the connection's constructor)."""
        self._host = host

    @property
    def host(self) -> AuthHost:
        if self._host is None:
            raise HftwsError(f"{type(self).__name__} is not bound to a connection")
        return self._host

    async def connection_url(self, url: str) -> str:
        """URL of the next socket (a token may be added)."""
        return url

    async def after_connect(self) -> None:
        """Per-connection step after the upgrade, before subscriptions are (re)sent."""

    @property
    def session_valid(self) -> bool:
        """False when the server told us the socket's credentials are dead (resubscribe
        pointless: the connection attempt fails with :meth:`session_error`)."""
        return True

    def session_error(self) -> HftwsError:
        return HftwsError(f"{type(self).__name__}: session rejected")

    def sign(self, request: dict[str, Any]) -> dict[str, Any]:
        """Add per-request auth to a subscription request (default: none)."""
        return request

    def on_server_error(self, event: Any) -> None:
        """Every ERROR-type event of the connection (auth refusals, rejected tokens)."""

    def begin_request(self) -> None:
        """A subscription request is about to be sent (forget the last refusal)."""

    async def judge_refusal(self, exc: SubscriptionError, attempt: int) -> bool:
        """A subscription was refused: True to retry once (the cause was fixed), an
        ``AuthenticationError`` raised when the refusal was about credentials, else False."""
        return False

    def keepalive(self) -> Coroutine[Any, Any, None] | None:
        """A task the connection runs while open (token keep-alive), or None."""
        return None

    def redact(self, text: str) -> str:
        """``text`` without any token of ours (for exception messages)."""
        return text

    async def close(self) -> None:
        """Release tokens and REST sessions (idempotent)."""


class NoAuth(Authenticator):
    """Public streams: no credentials, nothing to sign."""


class UnsupportedAuth(Authenticator):
    """An exchange whose authentication is not implemented yet: refuses to be built."""

    exchange_name: ClassVar[str] = ""
    missing: ClassVar[str] = ""

    def __init__(self) -> None:
        raise NotImplementedError(
            f"{self.exchange_name} authentication is not implemented: {self.missing}"
        )
