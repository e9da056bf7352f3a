"""MEXC user-data streams: the listenKey lifecycle (``mexc.md`` §7).

A private MEXC socket is ``wss://wbs-api.mexc.com/ws?listenKey=<key>``. The key comes from a
signed ``POST /api/v3/userDataStream`` (HMAC-SHA256, :mod:`hftws.signing`), lives 60 minutes,
is extended by ``PUT`` (every 30 minutes here, on a timer task) and invalidated by ``DELETE``
(on close). The mixin:

- creates the key before the first connection (``_connection_url``, the interface's URL hook);
- on every reconnect checks the key with a ``PUT`` and creates a new one if the server forgot it
  (expired, deleted), so a reconnect never lands on a dead key;
- when the server rejects the key on the socket (raw text ``Invalid listen key``) or a timed
  ``PUT`` is refused, creates a new key and moves to a new socket (make-before-break);
- uses the server clock (``GET /api/v3/time``) for ``timestamp``; a ``700003`` (outside
  recvWindow) re-reads it and retries once.

Bad keys or signatures (10072, 700001, 700002, 602, 700006) raise
:class:`~hftws.credentials.AuthenticationError` and are counted in ``metrics.errors["auth"]``;
they are not retried except by the supervisor's backoff. The listenKey itself is treated like a
secret: never logged, never in an exception message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any, ClassVar

from hftws._core import HftwsError
from hftws.credentials import AuthenticationError, Credentials
from hftws.events import MessageType
from hftws.mixins.auth import AuthMixin
from hftws.rest import RateLimited, RestClient, RestError
from hftws.signing import MEXC_RECV_WINDOW, mexc_signed_query
from hftws.transport import ConnectError

log = logging.getLogger("hftws.auth")

#: What MEXC sends (raw text, not JSON) on a socket whose listenKey it does not know.
INVALID_LISTEN_KEY = "Invalid listen key"
#: MEXC REST error codes that mean "your credentials are wrong" (``mexc.md`` §7.2).
AUTH_CODES = frozenset({10072, 700001, 700002, 602, 700006})
TIMESTAMP_CODE = 700003


class ListenKeyRejected(HftwsError):
    """The server no longer knows our listenKey (expired or deleted); a new one is needed."""


class MexcListenKeyAuthMixin(AuthMixin):
    """listenKey create / keepalive / recreate / delete around a MEXC private connection."""

    requires_auth = True
    PATH: ClassVar[str] = "/api/v3/userDataStream"
    TIME_PATH: ClassVar[str] = "/api/v3/time"
    #: MEXC keys live 60 minutes; the docs recommend a keepalive every 30.
    KEEPALIVE_INTERVAL: ClassVar[float] = 1800.0

    def _init_listen_key(
        self,
        credentials: Credentials,
        *,
        keepalive_interval: float | None = None,
        recv_window: int = MEXC_RECV_WINDOW,
        sync_time: bool = True,
    ) -> None:
        self._credentials = credentials
        self._keepalive_interval = keepalive_interval or self.KEEPALIVE_INTERVAL
        self._recv_window = recv_window
        self._sync_time = sync_time
        self._clock_offset_ms = 0
        self._clock_synced = False
        self._listen_key: str | None = None
        self._key_rejected = False
        self._key_checked_at = 0.0
        self._rest_client: RestClient | None = None
        #: listenKey lifecycle counters: created, kept_alive, rejected, deleted.
        self.listen_key_stats = {"created": 0, "kept_alive": 0, "rejected": 0, "deleted": 0}
        self.handler._on_internal(MessageType.ERROR, self._on_server_text)  # type: ignore[attr-defined]

    @property
    def has_listen_key(self) -> bool:
        """True while a listenKey is held (the key itself is not exposed)."""
        return self._listen_key is not None

    # -- REST ---------------------------------------------------------------------------------

    def _rest(self) -> RestClient:
        if self._rest_client is None:
            self._rest_client = RestClient(timeout=self.policy.open_timeout)  # type: ignore[attr-defined]
        return self._rest_client

    async def _sync_clock(self) -> None:
        url = f"{self.rest_url}{self.TIME_PATH}"  # type: ignore[attr-defined]
        try:
            before = time.time_ns() // 1_000_000
            body = await self._rest().get(url)
            after = time.time_ns() // 1_000_000
            self._clock_offset_ms = int(body["serverTime"]) - (before + after) // 2
            self._clock_synced = True
        except (RestError, KeyError, TypeError, ValueError) as exc:
            self.metrics.errors["time_sync_failed"] += 1  # type: ignore[attr-defined]
            log.warning("mexc: server time unavailable (%s); using the local clock", exc)

    def _timestamp(self) -> int:
        return time.time_ns() // 1_000_000 + self._clock_offset_ms

    async def _signed(self, method: str, params: list[tuple[str, object]]) -> Any:
        """One signed userDataStream call; maps MEXC error codes to our errors."""
        if self._sync_time and not self._clock_synced:
            await self._sync_clock()
        creds = self._credentials
        for attempt in (0, 1):
            query = mexc_signed_query(
                creds.api_secret, params, self._timestamp(), self._recv_window
            )
            url = f"{self.rest_url}{self.PATH}?{query}"  # type: ignore[attr-defined]
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
                    self.metrics.errors["auth"] += 1  # type: ignore[attr-defined]
                    log.warning("mexc: %s %s refused: code %s", method, self.PATH, code)
                    raise AuthenticationError(
                        f"mexc: {method} {self.PATH} refused: {code} {msg}".rstrip(), str(code)
                    ) from None
                if msg and INVALID_LISTEN_KEY.lower() in msg.lower():
                    raise ListenKeyRejected(
                        f"mexc: {method} {self.PATH}: listenKey rejected"
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
        self._key_checked_at = time.monotonic()
        self.listen_key_stats["created"] += 1
        return key

    async def _keepalive_once(self) -> bool:
        """PUT the key; False when the server no longer knows it."""
        key = self._listen_key
        if key is None:
            return False
        try:
            await self._signed("PUT", [("listenKey", key)])
        except ListenKeyRejected:
            self.listen_key_stats["rejected"] += 1
            return False
        self._key_checked_at = time.monotonic()
        self.listen_key_stats["kept_alive"] += 1
        return True

    async def _delete_key(self) -> None:
        key, self._listen_key = self._listen_key, None
        if key is None:
            return
        try:
            await self._signed("DELETE", [("listenKey", key)])
            self.listen_key_stats["deleted"] += 1
        except (HftwsError, OSError) as exc:
            log.warning("mexc: could not delete the listenKey (%s)", type(exc).__name__)

    # -- interface hooks ----------------------------------------------------------------------

    async def _connection_url(self) -> str:
        if self._listen_key is None or self._key_rejected:
            await self._create_key()
        elif not await self._keepalive_once():
            # Reconnecting: make sure the server still knows the key before using it.
            await self._create_key()
        url: str = self.policy.url  # type: ignore[attr-defined]
        return f"{url}{'&' if '?' in url else '?'}listenKey={self._listen_key}"

    async def _open(self) -> Any:
        try:
            return await super()._open()  # type: ignore[misc]
        except ConnectError as exc:
            # Connect errors may quote the URL, and ours carries the listenKey.
            key = self._listen_key
            text = str(exc)
            if key and key in text:
                raise ConnectError(text.replace(key, "<listenKey>")) from None
            raise

    async def _resubscribe(self) -> None:
        wanted = set(self._active)  # type: ignore[attr-defined]
        if not self._key_rejected:
            await super()._resubscribe()  # type: ignore[misc]
        if self._key_rejected:
            # The socket died on a stale key: keep the wanted channels, fail this attempt.
            self._active.update(wanted)  # type: ignore[attr-defined]
            self.refused.difference_update(wanted)  # type: ignore[attr-defined]
            raise ListenKeyRejected("mexc: the server rejected the listenKey on connect")

    def _on_server_text(self, event: Any) -> None:
        text = getattr(event, "msg", None) or ""
        if INVALID_LISTEN_KEY.lower() not in str(text).lower():
            return
        self._key_rejected = True
        self.listen_key_stats["rejected"] += 1
        self.metrics.errors["listen_key_rejected"] += 1  # type: ignore[attr-defined]
        log.warning("mexc: the server rejected the listenKey; a new one will be created")
        # Pending subscriptions will never be acked on this socket: fail them now.
        for key, (covered, fut) in list(self._pending.items()):  # type: ignore[attr-defined]
            if not fut.done():
                fut.set_result((key, frozenset(), frozenset(covered), INVALID_LISTEN_KEY))

    async def connect(self) -> None:
        await super().connect()  # type: ignore[misc]
        if not any(t.get_name().endswith("-listenkey") for t in self._tasks):  # type: ignore[attr-defined]
            self._spawn(self._keepalive_loop(), "listenkey")  # type: ignore[attr-defined]

    async def _keepalive_loop(self) -> None:
        while not self._closing:  # type: ignore[attr-defined]
            await asyncio.sleep(self._keepalive_interval)
            if self._listen_key is None or self._closing:  # type: ignore[attr-defined]
                continue
            try:
                alive = await self._keepalive_once()
            except (HftwsError, OSError) as exc:
                self.metrics.errors["keepalive_failed"] += 1  # type: ignore[attr-defined]
                log.warning("mexc: listenKey keepalive failed (%s)", type(exc).__name__)
                continue
            if not alive:
                # The server forgot the key: new key, new socket, then retire the old one.
                self._key_rejected = True
                await self._rollover()  # type: ignore[attr-defined]

    async def close(self) -> None:
        await super().close()  # type: ignore[misc]
        with contextlib.suppress(asyncio.CancelledError):
            await self._delete_key()
        if self._rest_client is not None:
            await self._rest_client.close()
            self._rest_client = None


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
