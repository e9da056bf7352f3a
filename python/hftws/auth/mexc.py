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

import asyncio
import contextlib
import json
import logging
import time
from typing import Any, ClassVar

from hftws.auth.base import Authenticator
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


class MexcListenKeyAuthenticator(Authenticator):
    """listenKey create / keep-alive / recreate / delete around a MEXC private connection."""

    requires_auth: ClassVar[bool] = True
    PATH: ClassVar[str] = "/api/v3/userDataStream"
    TIME_PATH: ClassVar[str] = "/api/v3/time"
    #: MEXC keys live 60 minutes; the docs recommend a keep-alive every 30.
    KEEPALIVE_INTERVAL: ClassVar[float] = 1800.0

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
        self.keepalive_interval = keepalive_interval or self.KEEPALIVE_INTERVAL
        self._recv_window = recv_window
        self._sync_time = sync_time
        self._clock_offset_ms = 0
        self._clock_synced = False
        self._listen_key: str | None = None
        self._key_rejected = False
        self._rest_client: RestClient | None = None
        #: listenKey lifecycle counters: created, kept_alive, rejected, deleted.
        self.stats = {"created": 0, "kept_alive": 0, "rejected": 0, "deleted": 0}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} has_key={self._listen_key is not None}>"

    @property
    def has_listen_key(self) -> bool:
        return self._listen_key is not None

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
                code, msg = _error_code(exc.body)
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

    async def _create_key(self) -> str:
        body = await self._signed("POST", [])
        key = body.get("listenKey") if isinstance(body, dict) else None
        if not isinstance(key, str) or not key:
            raise HftwsError("mexc: POST /api/v3/userDataStream answered without a listenKey")
        self._listen_key = key
        self._key_rejected = False
        self.stats["created"] += 1
        return key

    async def keepalive_once(self) -> bool:
        """PUT the key; False when the server no longer knows it."""
        key = self._listen_key
        if key is None:
            return False
        try:
            await self._signed("PUT", [("listenKey", key)])
        except ListenKeyRejected:
            self.stats["rejected"] += 1
            return False
        self.stats["kept_alive"] += 1
        return True

    async def _delete_key(self) -> None:
        key, self._listen_key = self._listen_key, None
        if key is None:
            return
        try:
            await self._signed("DELETE", [("listenKey", key)])
            self.stats["deleted"] += 1
        except (HftwsError, OSError) as exc:
            log.warning("mexc: could not delete the listenKey (%s)", type(exc).__name__)

    # -- the authenticator interface ------------------------------------------------------------

    async def connection_url(self, url: str) -> str:
        if self._listen_key is None or self._key_rejected:
            await self._create_key()
        elif not await self.keepalive_once():
            # Reconnecting: make sure the server still knows the key before using it.
            await self._create_key()
        return f"{url}{'&' if '?' in url else '?'}listenKey={self._listen_key}"

    @property
    def session_valid(self) -> bool:
        return not self._key_rejected

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

    def keepalive(self) -> Any:
        return self._keepalive_loop()

    async def _keepalive_loop(self) -> None:
        host = self.host
        while not host.closing:
            await asyncio.sleep(self.keepalive_interval)
            if self._listen_key is None or host.closing:
                continue
            try:
                alive = await self.keepalive_once()
            except (HftwsError, OSError) as exc:
                host.metrics.errors["keepalive_failed"] += 1
                log.warning("mexc: listenKey keepalive failed (%s)", type(exc).__name__)
                continue
            if not alive:
                # The server forgot the key: new key, new socket, then retire the old one.
                self._key_rejected = True
                await host.rollover()

    def redact(self, text: str) -> str:
        key = self._listen_key
        return text.replace(key, "<listenKey>") if key else text

    async def close(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self._delete_key()
        client, self._rest_client = self._rest_client, None
        if client is not None:
            await client.close()


def _error_code(body: str | None) -> tuple[int | None, str]:
    """MEXC error bodies: ``{"code": 700002, "msg": "..."}``; anything else -> (None, text)."""
    if not body:
        return None, ""
    try:
        data = json.loads(body)
    except ValueError:
        return None, body[:100]
    if not isinstance(data, dict):
        return None, ""
    code = data.get("code")
    msg = data.get("msg")
    return (code if isinstance(code, int) else None), (msg if isinstance(msg, str) else "")
