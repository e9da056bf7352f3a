"""The listenKey lifecycle MEXC spot and Binance USDⓈ-M user-data streams share.

Both exchanges hand out a key by ``POST``, extend it by ``PUT`` and drop it by ``DELETE``;
the socket URL carries it. What differs is how a call is made (MEXC signs every call, Binance
sends the API key alone), how the URL carries the key, and what else can ask for a new socket
(Binance ``listenKeyExpired`` events). Those are the hooks; the lifecycle is written once:

- a key is created before the first connection and checked with ``PUT`` on every reconnect,
  so a reconnect never lands on a dead key;
- ``PUT`` refused (``_key_request`` raises ``KeyGone``) or the server rejecting the key on the
  socket means a new key and a new socket (make-before-break, ``host.rollover``);
- the key is a secret: never logged, never in an exception or repr (``redact``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from abc import abstractmethod
from collections.abc import Coroutine
from typing import Any, ClassVar

from hftws.auth.base import Authenticator
from hftws.errors import HftwsError

log = logging.getLogger("hftws.auth")


class ListenKeyLifecycle(Authenticator):
    """Create / keep alive / recreate / delete a listenKey around a private connection."""

    PATH: ClassVar[str]
    #: Keys live 60 minutes on both exchanges; both document a keep-alive every 30.
    KEEPALIVE_INTERVAL: ClassVar[float] = 1800.0
    #: What ``_key_request`` raises when the server no longer knows the key.
    KeyGone: ClassVar[type[HftwsError]]

    keepalive_interval: float
    _listen_key: str | None
    _key_rejected: bool
    stats: dict[str, int]

    def _init_listen_key(self, keepalive_interval: float | None, *counters: str) -> None:
        self.keepalive_interval = keepalive_interval or self.KEEPALIVE_INTERVAL
        self._listen_key = None
        self._key_rejected = False
        #: listenKey lifecycle counters: created, kept_alive, rejected, deleted (+ ``counters``).
        self.stats = dict.fromkeys(("created", "kept_alive", "rejected", *counters, "deleted"), 0)

    @abstractmethod
    async def _key_request(self, method: str, key: str | None) -> Any:
        """One ``method`` call on :attr:`PATH` (``key`` for the calls on an existing key)."""

    async def _wait_keepalive(self) -> bool:
        """Wait until the next keep-alive; True when a new socket is wanted sooner."""
        await asyncio.sleep(self.keepalive_interval)
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} has_key={self._listen_key is not None}>"

    @property
    def has_listen_key(self) -> bool:
        return self._listen_key is not None

    async def _create_key(self) -> str:
        body = await self._key_request("POST", None)
        key = body.get("listenKey") if isinstance(body, dict) else None
        if not isinstance(key, str) or not key:
            raise HftwsError(f"{self.host.exchange}: POST {self.PATH} answered without a listenKey")
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
            await self._key_request("PUT", key)
        except self.KeyGone:
            self.stats["rejected"] += 1
            return False
        self.stats["kept_alive"] += 1
        return True

    async def _delete_key(self) -> None:
        key, self._listen_key = self._listen_key, None
        if key is None:
            return
        try:
            await self._key_request("DELETE", key)
            self.stats["deleted"] += 1
        except (HftwsError, OSError) as exc:
            log.warning(
                "%s: could not delete the listenKey (%s)", self.host.exchange, type(exc).__name__
            )

    async def _live_key(self) -> str:
        """A key the server knows, for the next connection."""
        if self._listen_key is None or self._key_rejected:
            return await self._create_key()
        if not await self.keepalive_once():
            # Reconnecting: the server forgot the key; a new one before the socket uses it.
            return await self._create_key()
        return self._listen_key

    @property
    def session_valid(self) -> bool:
        return not self._key_rejected

    def keepalive(self) -> Coroutine[Any, Any, None] | None:
        return self._keepalive_loop()

    async def _keepalive_loop(self) -> None:
        host = self.host
        while not host.closing:
            if await self._wait_keepalive():
                if not host.closing:
                    await host.rollover()
                continue
            if self._listen_key is None or host.closing:
                continue
            try:
                alive = await self.keepalive_once()
            except (HftwsError, OSError) as exc:
                host.metrics.errors["keepalive_failed"] += 1
                log.warning(
                    "%s: listenKey keepalive failed (%s)", host.exchange, type(exc).__name__
                )
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
        await super().close()


def error_code(body: str | None, *, text_fallback: bool = False) -> tuple[int | None, str]:
    """``{"code": ..., "msg": "..."}`` error bodies (MEXC and Binance) -> (code, msg);
    anything else -> (None, "") or, with ``text_fallback``, the body's first 100 characters."""
    if not body:
        return None, ""
    try:
        data = json.loads(body)
    except ValueError:
        return None, body[:100] if text_fallback else ""
    if not isinstance(data, dict):
        return None, ""
    code = data.get("code")
    msg = data.get("msg")
    return (code if isinstance(code, int) else None), (msg if isinstance(msg, str) else "")
