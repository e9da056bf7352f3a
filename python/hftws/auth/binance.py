"""Binance user-data authenticators (``binance.md`` §6, §7, §8.6).

**Spot** (:class:`BinanceWsApiAuthenticator`): spot listenKeys are retired (2026-02-20); user
data comes through the WebSocket API. HMAC and RSA keys subscribe with one signed request,
``userDataStream.subscribe.signature`` (params ``apiKey``, ``timestamp``, ``signature``, and
``recvWindow`` when configured). Ed25519 keys log the session on once per socket
(``session.logon``, signed the same way) and then send a bare ``userDataStream.subscribe``.
Signatures use the server clock (``GET /api/v3/time`` at every connect). A ``-1021`` (timestamp
outside recvWindow) re-reads the clock and retries once; ``-1021`` again, ``-1022`` (bad
signature), ``-2014``/``-2015`` (bad or unknown key) and ``-1002`` raise
:class:`~hftws.credentials.AuthenticationError` (counted in ``metrics.errors["auth"]``).
``eventStreamTerminated`` and ``serverShutdown`` move to a new socket (make-before-break), which
logs on and subscribes again.

**USDⓈ-M futures** (:class:`BinanceListenKeyAuthenticator`): ``POST /fapi/v1/listenKey`` (API key
header, no signature) before the first socket, ``PUT`` every ``keepalive_interval`` (default 30
min; the key lives 60), ``DELETE`` on close. A reconnect first checks the key with ``PUT``. A
``listenKeyExpired`` event, or *any* 4xx answer to ``PUT`` that is not about our credentials
or a rate limit, means the key is gone: a new key is created and a new socket opened with it
before the old one is closed (make-before-break). The listenKey is a secret like the API
secret: never logged, never in an exception (``redact``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, ClassVar, Protocol, cast

from hftws.auth.base import Authenticator, AuthHost
from hftws.auth.binance_signing import (
    BinanceSigner,
    ServerClock,
    signed_rest_query,
    signed_ws_params,
)
from hftws.auth.listen_key import ListenKeyLifecycle, error_code
from hftws.binance_user_data import BinanceUserEvent, BinanceWsApiResponse
from hftws.credentials import AuthenticationError, Credentials
from hftws.errors import HftwsError, SubscriptionError
from hftws.rest import RateLimited, RestClient, RestError

__all__ = [
    "AUTH_CODES",
    "BinanceAuthenticator",
    "BinanceListenKeyAuthenticator",
    "BinanceWsApiAuthenticator",
    "ListenKeyExpired",
    "WsApiHost",
]

log = logging.getLogger("hftws.auth")

TIMESTAMP_CODE = -1021
#: Binance error codes that mean "your credentials are wrong" (``binance.md`` §10).
AUTH_CODES = frozenset({-1002, -1021, -1022, -2014, -2015})
_LABELS = {
    -1002: "UNAUTHORIZED",
    -1021: "INVALID_TIMESTAMP",
    -1022: "INVALID_SIGNATURE",
    -2014: "BAD_API_KEY_FMT",
    -2015: "REJECTED_MBX_KEY",
}


class ListenKeyExpired(HftwsError):
    """The server no longer knows our listenKey (expired or closed); a new one is needed."""


class WsApiHost(AuthHost, Protocol):
    """A connection that can send one WebSocket API request and wait for its answer."""

    async def ws_api_request(
        self, method: str, params: dict[str, object] | None = None
    ) -> BinanceWsApiResponse: ...


def _label(code: int | None) -> str:
    return _LABELS.get(code, str(code)) if code is not None else "unknown"


def _hint(code: int | None) -> str:
    """What to check for an auth code (the message says why, never a secret)."""
    if code == TIMESTAMP_CODE:
        return " (timestamp outside recvWindow: check the clock or sync_time)"
    if code == -1022:
        return " (wrong secret or private key, or a key of another type)"
    if code in (-2014, -2015):
        return " (unknown API key, IP not allowed or missing permission)"
    return ""


class BinanceAuthenticator(Authenticator):
    """What both Binance authenticators share: credentials, signer, server clock, REST."""

    requires_auth: ClassVar[bool] = True
    TIME_PATH: ClassVar[str] = "/api/v3/time"

    def __init__(self, credentials: Credentials, *, sync_time: bool = True) -> None:
        super().__init__()
        self.credentials = credentials
        #: Built here so a bad private key fails when the handler is built, not at connect.
        self.signer = BinanceSigner(credentials.key_type, credentials.api_secret)
        self.sync_time = sync_time
        self.clock = ServerClock(self.TIME_PATH)
        self._rest_client: RestClient | None = None
        self._move_wanted = asyncio.Event()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.signer.key_type}>"

    @property
    def key_type(self) -> str:
        return self.signer.key_type

    def _rest(self) -> RestClient:
        if self._rest_client is None:
            self._rest_client = RestClient(timeout=self.host.policy.open_timeout)
        return self._rest_client

    async def sync_clock(self) -> None:
        """Re-read the server clock (``metrics.errors["time_sync_failed"]`` when it fails)."""
        host = self.host
        self.clock.exchange = host.exchange
        if not await self.clock.sync(self._rest(), host.rest_url):
            host.metrics.errors["time_sync_failed"] += 1

    async def signed_request(
        self,
        method: str,
        path: str,
        params: list[tuple[str, object]] | None = None,
        *,
        recv_window: int | None = None,
    ) -> Any:
        """One signed REST call (``binance.md`` §7: percent-encoded query, server-clock
        ``timestamp``, ``signature`` last, ``X-MBX-APIKEY`` header).

        With ``sync_time`` the server clock is read on first use and ``-1021`` re-reads it
        and retries once; auth codes raise
        :class:`~hftws.credentials.AuthenticationError`; other failures are the
        ``RestError`` of :mod:`hftws.rest` (whose message names the path, never the query).
        """
        host = self.host
        if self.sync_time and not self.clock.synced:
            await self.sync_clock()
        headers = {"X-MBX-APIKEY": self.credentials.api_key}
        for attempt in (0, 1):
            query = signed_rest_query(self.signer, params or [], self.clock.now_ms(), recv_window)
            try:
                return await self._rest().request(
                    method, f"{host.rest_url}{path}?{query}", headers=headers, encoded=True
                )
            except RateLimited:
                raise
            except RestError as exc:
                code, msg = error_code(exc.body)
                if code == TIMESTAMP_CODE and attempt == 0 and self.sync_time:
                    await self.sync_clock()
                    continue
                if code in AUTH_CODES:
                    host.metrics.errors["auth"] += 1
                    log.warning("%s: %s %s refused: code %s", host.exchange, method, path, code)
                    raise AuthenticationError(
                        f"{host.exchange}: {method} {path} refused: {code} {_label(code)}: "
                        f"{msg}{_hint(code)}",
                        str(code),
                    ) from None
                raise
        raise AssertionError("unreachable")

    def _move_socket(self, why: str) -> None:
        """Ask for a new socket (make-before-break). The move runs in the connection's own
        auth task (:meth:`keepalive`), so ``close()`` stops it before closing the socket."""
        host = self.host
        if host.closing:
            return
        log.warning("%s: %s; moving to a new connection", host.exchange, why)
        self._move_wanted.set()

    async def _next_move(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` seconds for a requested move; True if one was requested."""
        try:
            async with asyncio.timeout(timeout):
                await self._move_wanted.wait()
        except TimeoutError:
            return False
        self._move_wanted.clear()
        return True

    def keepalive(self) -> Coroutine[Any, Any, None] | None:
        return self._moves()

    async def _moves(self) -> None:
        host = self.host
        while not host.closing:
            if await self._next_move(None) and not host.closing:
                await host.rollover()

    async def close(self) -> None:
        client, self._rest_client = self._rest_client, None
        if client is not None:
            await client.close()


class BinanceWsApiAuthenticator(BinanceAuthenticator):
    """Spot user data through the WebSocket API (see the module doc)."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        recv_window: int | None = None,
        sync_time: bool = True,
        logon: bool | None = None,
    ) -> None:
        super().__init__(credentials, sync_time=sync_time)
        self.recv_window = recv_window
        #: ``session.logon`` + bare subscribe (Ed25519 only) instead of the signed subscribe.
        self.logon = self.key_type == "ed25519" if logon is None else logon
        if self.logon and self.key_type != "ed25519":
            raise ValueError("binance: session.logon needs an Ed25519 key")
        self._failure: BinanceWsApiResponse | None = None
        #: The last auth refusal, for inspection.
        self.last_auth_error: BinanceWsApiResponse | None = None

    @property
    def ws_host(self) -> WsApiHost:
        host = self.host
        if not hasattr(host, "ws_api_request"):
            raise HftwsError(f"{type(host).__name__} cannot send WebSocket API requests")
        return cast(WsApiHost, host)

    def _signed_params(self) -> dict[str, object]:
        creds = self.credentials
        return signed_ws_params(
            self.signer, creds.api_key, {}, self.clock.now_ms(), self.recv_window
        )

    async def after_connect(self) -> None:
        if self.sync_time:
            await self.sync_clock()
        if self.logon:
            await self._session_logon()

    async def _session_logon(self) -> None:
        host = self.ws_host
        for attempt in (0, 1):
            answer = await host.ws_api_request("session.logon", self._signed_params())
            if answer.ok:
                return
            if answer.error_code == TIMESTAMP_CODE and attempt == 0 and self.sync_time:
                await self.sync_clock()
                continue
            self._count(answer)
            raise self._auth_error("session.logon", answer)

    def sign(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("method") != "userDataStream.subscribe" or self.logon:
            return request
        request["method"] = "userDataStream.subscribe.signature"
        request["params"] = self._signed_params()
        return request

    def _count(self, answer: BinanceWsApiResponse) -> None:
        self.last_auth_error = answer
        host = self.host
        host.metrics.errors["auth"] += 1
        log.warning(
            "%s: authentication refused (code %s %s)",
            host.exchange,
            answer.error_code,
            _label(answer.error_code),
        )

    def _auth_error(self, what: str, answer: BinanceWsApiResponse) -> AuthenticationError:
        code = answer.error_code
        return AuthenticationError(
            f"{self.host.exchange}: {what} refused: {code} {_label(code)}: "
            f"{answer.error_msg}{_hint(code)}",
            str(code),
        )

    def on_server_error(self, event: Any) -> None:
        if isinstance(event, BinanceWsApiResponse):
            if event.error_code in AUTH_CODES:
                self._failure = event
                if event.id is None:
                    # Unsolicited: the key was revoked mid-session (§6.2); the next socket's
                    # subscribe gets the verdict (refused, reported, not retried in a loop).
                    self._count(event)
                    self._move_socket("the API key was rejected mid-session")
            return
        if isinstance(event, BinanceUserEvent):
            if event.event_type == "eventStreamTerminated":
                self._move_socket("the user data subscription ended")
            elif event.event_type == "serverShutdown":
                self._move_socket("the server announced a shutdown")

    def begin_request(self) -> None:
        self._failure = None

    async def judge_refusal(self, exc: SubscriptionError, attempt: int) -> bool:
        failure = self._failure
        if failure is None:
            return False
        if failure.error_code == TIMESTAMP_CODE and attempt == 0 and self.sync_time:
            await self.sync_clock()
            return True
        self._count(failure)
        raise self._auth_error("userDataStream.subscribe", failure)


class BinanceListenKeyAuthenticator(ListenKeyLifecycle, BinanceAuthenticator):
    """USDⓈ-M user data: listenKey create / keep-alive / recreate / delete (module doc)."""

    TIME_PATH: ClassVar[str] = "/fapi/v1/time"
    PATH: ClassVar[str] = "/fapi/v1/listenKey"
    KeyGone: ClassVar[type[HftwsError]] = ListenKeyExpired

    #: A signed call that proves the secret (USER_DATA, weight 5), for ``verify_secret``.
    VERIFY_PATH: ClassVar[str] = "/fapi/v3/balance"

    def __init__(
        self,
        credentials: Credentials,
        *,
        keepalive_interval: float | None = None,
        verify_secret: bool = False,
    ) -> None:
        # The listenKey calls are not signed: the server clock is read only by signed calls
        # (``signed_request``), on their first use.
        super().__init__(credentials, sync_time=True)
        self._init_listen_key(keepalive_interval, "expired")
        #: Check the secret with one signed call before the first listenKey: the listenKey
        #: endpoints take the API key alone, so a wrong secret would otherwise go unnoticed.
        self.verify_secret = verify_secret
        self._verified = False

    # -- REST -----------------------------------------------------------------------------------

    async def _key_request(self, method: str, key: str | None) -> Any:
        """One listenKey call (API key header, no signature; the key is the account's, so
        ``key`` is not sent); Binance errors mapped to ours."""
        host = self.host
        try:
            return await self._rest().request(
                method,
                f"{host.rest_url}{self.PATH}",
                headers={"X-MBX-APIKEY": self.credentials.api_key},
            )
        except RateLimited:
            raise  # the connection's backoff needs retry_after
        except RestError as exc:
            code, msg = error_code(exc.body)
            if code in AUTH_CODES:
                host.metrics.errors["auth"] += 1
                log.warning("%s: %s %s refused: code %s", host.exchange, method, self.PATH, code)
                raise AuthenticationError(
                    f"{host.exchange}: {method} {self.PATH} refused: {code} {_label(code)}: "
                    f"{msg}{_hint(code)}",
                    str(code),
                ) from None
            if method != "POST" and exc.status is not None and 400 <= exc.status < 500:
                # Any 4xx to a call on the key, whatever its code: the key is gone.
                raise ListenKeyExpired(
                    f"{host.exchange}: {method} {self.PATH}: listenKey rejected "
                    f"(HTTP {exc.status}, code {code})"
                ) from None
            raise

    # -- the authenticator interface ------------------------------------------------------------

    async def connection_url(self, url: str) -> str:
        if self.verify_secret and not self._verified:
            await self.signed_request("GET", self.VERIFY_PATH)
            self._verified = True
        key = await self._live_key()
        return f"{url.rstrip('/')}/{key}"

    def session_error(self) -> HftwsError:
        return ListenKeyExpired(f"{self.host.exchange}: the listenKey expired during connect")

    def on_server_error(self, event: Any) -> None:
        if not isinstance(event, BinanceUserEvent):
            return
        if event.event_type == "listenKeyExpired":
            self._key_rejected = True
            self.stats["expired"] += 1
            self.host.metrics.errors["listen_key_expired"] += 1
            self._move_socket("the listenKey expired")
        elif event.event_type == "serverShutdown":
            self._move_socket("the server announced a shutdown")

    async def _wait_keepalive(self) -> bool:
        # listenKeyExpired or serverShutdown ask for a new socket before the next PUT.
        return await self._next_move(self.keepalive_interval)
