"""MEXC user-data streams: the listenKey lifecycle (``mexc.md`` §7).

A private MEXC socket is ``wss://wbs-api.mexc.com/ws?listenKey=<key>``. The key comes from a
signed ``POST /api/v3/userDataStream`` (HMAC-SHA256, :mod:`hftws.signing`), lives 60 minutes,
is extended by ``PUT`` (every 30 minutes here, on the authenticator's keep-alive task) and
invalidated by ``DELETE`` (on close). The authenticator:

- creates the key before the first connection (``connection_url``);
- on every reconnect checks the key with a ``PUT`` and creates a new one if the server forgot
  it, so a reconnect never lands on a dead key;
- treats *any* 4xx answer to a call carrying the key (``PUT``/``DELETE``), whatever its code
  and text, as "the key is gone" unless it is about our credentials (the auth codes below) or a
  rate limit: MEXC's codes and texts for an expired key are not documented and vary;
- when the server rejects the key on the socket (a text mentioning the listen key) or a
  timed ``PUT`` is refused, creates a new key and moves to a new socket (make-before-break;
  a failed move is retried by the connection's reconnect backoff);
- uses the server clock (``GET /api/v3/time``) for ``timestamp``; a ``700003`` (outside
  recvWindow) re-reads it and retries once.

Bad keys or signatures (10072, 700001, 700002, 602, 700006) raise
:class:`~hftws.credentials.AuthenticationError` and are counted in ``metrics.errors["auth"]``.
The listenKey is treated like a secret: never logged, never in an exception message.
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

from hftws.auth.listen_key import ListenKeyLifecycle, error_code
from hftws.credentials import AuthenticationError, Credentials
from hftws.errors import HftwsError
from hftws.rest import RateLimited, RestClient, RestError
from hftws.signing import MEXC_RECV_WINDOW, mexc_signed_query

log = logging.getLogger("hftws.auth")

#: What the official MEXC server sends (raw text) on a socket whose listenKey it does not know.
INVALID_LISTEN_KEY = "Invalid listen key"
#: MEXC REST error codes that mean "your credentials are wrong" (``mexc.md`` §7.2).
AUTH_CODES = frozenset({10072, 700001, 700002, 602, 700006})
TIMESTAMP_CODE = 700003


class ListenKeyRejected(HftwsError):
    """The server no longer knows our listenKey (expired or deleted); a new one is needed."""


class MexcListenKeyAuthenticator(ListenKeyLifecycle):
    """listenKey create / keep-alive / recreate / delete around a MEXC private connection."""

    requires_auth: ClassVar[bool] = True
    PATH: ClassVar[str] = "/api/v3/userDataStream"
    TIME_PATH: ClassVar[str] = "/api/v3/time"
    KeyGone: ClassVar[type[HftwsError]] = ListenKeyRejected

    def __init__(
        self,
        credentials: Credentials,
        *,
        keepalive_interval: float | None = None,
        recv_window: int = MEXC_RECV_WINDOW,
        sync_time: bool = True,
    ) -> None:
        super().__init__()
        self.credentials = credentials
        self._init_listen_key(keepalive_interval)
        self._recv_window = recv_window
        self._sync_time = sync_time
        self._clock_offset_ms = 0
        self._clock_synced = False
        self._rest_client: RestClient | None = None

    # -- REST -----------------------------------------------------------------------------------

    def _rest(self) -> RestClient:
        if self._rest_client is None:
            self._rest_client = RestClient(timeout=self.host.policy.open_timeout)
        return self._rest_client

    async def _sync_clock(self) -> None:
        url = f"{self.host.rest_url}{self.TIME_PATH}"
        try:
            before = time.time_ns() // 1_000_000
            body = await self._rest().get(url)
            after = time.time_ns() // 1_000_000
            self._clock_offset_ms = int(body["serverTime"]) - (before + after) // 2
            self._clock_synced = True
        except (RestError, KeyError, TypeError, ValueError) as exc:
            self.host.metrics.errors["time_sync_failed"] += 1
            log.warning("mexc: server time unavailable (%s); using the local clock", exc)

    def _timestamp(self) -> int:
        return time.time_ns() // 1_000_000 + self._clock_offset_ms

    async def _signed(self, method: str, params: list[tuple[str, object]]) -> Any:
        """One signed userDataStream call; maps MEXC error answers to our errors."""
        if self._sync_time and not self._clock_synced:
            await self._sync_clock()
        creds = self.credentials
        carries_key = any(name == "listenKey" for name, _ in params)
        for attempt in (0, 1):
            query = mexc_signed_query(
                creds.api_secret, params, self._timestamp(), self._recv_window
            )
            url = f"{self.host.rest_url}{self.PATH}?{query}"
            try:
                return await self._rest().request(
                    method, url, headers={"X-MEXC-APIKEY": creds.api_key}
                )
            except RateLimited:
                raise  # the caller's backoff needs retry_after
            except RestError as exc:
                code, msg = error_code(exc.body, text_fallback=True)
                if code == TIMESTAMP_CODE and attempt == 0 and self._sync_time:
                    await self._sync_clock()
                    continue
                if code in AUTH_CODES or code == TIMESTAMP_CODE:
                    self.host.metrics.errors["auth"] += 1
                    log.warning("mexc: %s %s refused: code %s", method, self.PATH, code)
                    raise AuthenticationError(
                        f"mexc: {method} {self.PATH} refused: {code} {msg}".rstrip(), str(code)
                    ) from None
                if carries_key and exc.status is not None and 400 <= exc.status < 500:
                    # Whatever the code and text: the server does not accept this key.
                    raise ListenKeyRejected(
                        f"mexc: {method} {self.PATH}: listenKey rejected "
                        f"(HTTP {exc.status}, code {code})"
                    ) from None
                # Neither ours nor the key's fault (network, 5xx): the message names only
                # the path, never the signed query.
                raise
        raise AssertionError("unreachable")

    async def _key_request(self, method: str, key: str | None) -> Any:
        return await self._signed(method, [] if key is None else [("listenKey", key)])

    # -- the authenticator interface ------------------------------------------------------------

    async def connection_url(self, url: str) -> str:
        key = await self._live_key()
        return f"{url}{'&' if '?' in url else '?'}listenKey={key}"

    def session_error(self) -> HftwsError:
        return ListenKeyRejected("mexc: the server rejected the listenKey on connect")

    def on_server_error(self, event: Any) -> None:
        # Raw text frames on a private socket; the official text is INVALID_LISTEN_KEY, other
        # servers word it differently, so any text about the listen key counts.
        text = str(getattr(event, "msg", None) or "").lower()
        if "listen" not in text or "key" not in text:
            return
        self._key_rejected = True
        self.stats["rejected"] += 1
        self.host.metrics.errors["listen_key_rejected"] += 1
        log.warning("mexc: the server rejected the listenKey; a new one will be created")
        # Pending subscriptions will never be acked on this socket: fail them now.
        self.host.fail_pending(INVALID_LISTEN_KEY)

    async def close(self) -> None:
        await super().close()
        client, self._rest_client = self._rest_client, None
        if client is not None:
            await client.close()
