"""A small async REST client for the calls around the streams (snapshots, listenKeys, time).

Built on aiohttp with timeouts on every request. Exchange rate limits are respected: a 429
or 418 answer makes the client wait for ``Retry-After`` (or a backoff) before the next request
to the same host, and is raised as :class:`RateLimited` so the caller's own backoff sees it.
Query strings and headers that carry secrets are never logged or put in exception messages.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from hftws._core import HftwsError

log = logging.getLogger("hftws.rest")


class RestError(HftwsError):
    """A REST call failed (HTTP status, timeout, connection or malformed body)."""

    def __init__(self, message: str, status: int | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        #: The error response body (exchanges put their error code there).
        self.body = body


class RateLimited(RestError):
    """HTTP 429/418: the exchange asks us to wait ``retry_after`` seconds."""

    def __init__(self, message: str, status: int, retry_after: float) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class RestClient:
    """One aiohttp session shared by every REST call of a manager."""

    def __init__(self, timeout: float = 10.0, user_agent: str = "hftws/0.1") -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._headers = {"User-Agent": user_agent}
        self._session: aiohttp.ClientSession | None = None
        self._blocked_until: dict[str, float] = {}

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers=self._headers)
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | str | None = None,
        headers: Mapping[str, str] | None = None,
        data: str | None = None,
        encoded: bool = False,
        parse_float: Callable[[str], Any] | None = None,
    ) -> Any:
        """Send one request and return the decoded JSON body (``parse_float=Decimal`` reads
        JSON numbers exactly: KuCoin futures snapshots give prices as numbers).

        ``encoded=True`` sends ``url`` byte for byte (a signed query must reach the server as
        it was signed; otherwise escapes such as ``%2C`` may be normalised to ``,``).

        Raises RateLimited (429/418), RestError (other HTTP errors, timeouts, bad JSON).
        """
        host = urlsplit(url).netloc
        wait = self._blocked_until.get(host, 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        # The path is enough to say what failed; query strings may carry signatures.
        where = f"{method} {urlsplit(url).path}"
        try:
            target: str | URL = URL(url, encoded=True) if encoded else url
            async with self._get_session().request(
                method, target, params=params, headers=headers, data=data
            ) as resp:
                body = await resp.text()
                if resp.status in (418, 429):
                    retry = _retry_after(resp.headers.get("Retry-After"))
                    self._blocked_until[host] = time.monotonic() + retry
                    raise RateLimited(
                        f"{where}: HTTP {resp.status}, retry after {retry:g}s", resp.status, retry
                    )
                if resp.status >= 400:
                    raise RestError(f"{where}: HTTP {resp.status}: {body[:200]}", resp.status, body)
        except TimeoutError:
            raise RestError(f"{where}: timed out") from None
        except aiohttp.ClientError as exc:
            raise RestError(f"{where}: {type(exc).__name__}: {exc}") from None
        try:
            return json.loads(body, parse_float=parse_float)
        except ValueError:
            raise RestError(f"{where}: malformed JSON body: {body[:100]!r}") from None

    async def get(self, url: str, **kwargs: Any) -> Any:
        return await self.request("GET", url, **kwargs)


def _retry_after(value: str | None, default: float = 1.0) -> float:
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        return default
