"""KuCoin REST signatures and the private token flow (``kucoin.md`` §2, §6, §8).

Signing (§6): every private REST call carries

- ``KC-API-KEY``: the key;
- ``KC-API-TIMESTAMP``: milliseconds, server clock (``GET /api/v1/timestamp``), within 5 s;
- ``KC-API-SIGN`` = base64(HMAC-SHA256(secret, timestamp + METHOD + endpoint + body)), the
  endpoint with its **un-encoded** query string for GET/DELETE, the compact JSON body for POST;
- ``KC-API-PASSPHRASE`` = base64(HMAC-SHA256(secret, passphrase)) for key versions 2 and 3
  (the plain passphrase for version 1 keys);
- ``KC-API-KEY-VERSION``: ``"2"`` by default (the docs); ``"3"`` is what KuCoin's universal SDK
  sends with the same algorithm (reference, unconfirmed point 10).

The WebSocket carries no signature: the token of a signed ``POST /api/v1/bullet-private``
*is* the authentication. :class:`KucoinTokenAuthenticator` fetches a new token before every
connection (a token serves one connection and expires, §8), connects to one of the returned
instance servers with ``token`` and a fresh ``connectId``, and waits for the ``welcome`` whose
id is that connectId before anything is subscribed (5 s, as KuCoin's SDK). A ``401`` error frame
(``token is expired``) fails the attempt; the reconnect fetches a new token.

Bad keys, passphrases or signatures (``400003``/``400004``/``400005``, and the other codes of
:data:`AUTH_CODES`) raise :class:`~hftws.credentials.AuthenticationError`; no message, log line
or repr ever holds the secret, the passphrase, a signature or a token.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

from hftws.auth.base import Authenticator
from hftws.credentials import AuthenticationError, Credentials, MissingCredentials
from hftws.errors import ConnectError, HftwsError
from hftws.rest import RateLimited, RestClient, RestError

__all__ = [
    "AUTH_CODES",
    "DEFAULT_KEY_VERSION",
    "InstanceServer",
    "KeyVersion",
    "KucoinRest",
    "KucoinTokenAuthenticator",
    "TokenGrant",
    "TokenRejected",
    "kucoin_headers",
    "kucoin_passphrase",
    "kucoin_signature",
]

log = logging.getLogger("hftws.auth")

KeyVersion = Literal["1", "2", "3"]
DEFAULT_KEY_VERSION: KeyVersion = "2"
#: KuCoin REST codes that mean "your credentials (or their use) are wrong" (§10).
AUTH_CODES = frozenset(
    {"400001", "400002", "400003", "400004", "400005", "400006", "400007", "411100"}
)
TIMESTAMP_CODE = "400002"
#: What each auth code means for the user (added to the error message).
AUTH_HINTS = {
    "400001": "a KC-API header is missing",
    "400002": "timestamp more than 5 s away from the server clock",
    "400003": "unknown API key",
    "400004": "wrong API passphrase or key version",
    "400005": "wrong API secret (signature mismatch)",
    "400006": "IP address not whitelisted for this key",
    "400007": "the key lacks the permission",
    "411100": "account frozen",
}
OK_CODE = "200000"
#: Close/error code of a token the server no longer accepts (§2.3).
TOKEN_EXPIRED_CODE = 401


# -- signatures ---------------------------------------------------------------------------------


def _b64_hmac(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def kucoin_signature(
    secret: str, timestamp: int | str, method: str, endpoint: str, body: str = ""
) -> str:
    """``KC-API-SIGN``: base64 HMAC-SHA256 of ``timestamp + METHOD + endpoint + body``."""
    return _b64_hmac(secret, f"{timestamp}{method.upper()}{endpoint}{body}")


def kucoin_passphrase(secret: str, passphrase: str, key_version: str = DEFAULT_KEY_VERSION) -> str:
    """``KC-API-PASSPHRASE``: encrypted with the secret for key versions 2 and 3, plain for 1."""
    if key_version == "1":
        return passphrase
    if key_version not in ("2", "3"):
        raise ValueError(f"unknown KuCoin API key version {key_version!r}; valid: 1, 2, 3")
    return _b64_hmac(secret, passphrase)


def kucoin_headers(
    credentials: Credentials,
    method: str,
    endpoint: str,
    body: str = "",
    *,
    timestamp: int,
    key_version: str = DEFAULT_KEY_VERSION,
) -> dict[str, str]:
    """The ``KC-API-*`` headers of one request (``endpoint`` = path + un-encoded query)."""
    passphrase = credentials.passphrase
    if passphrase is None:
        raise MissingCredentials("KuCoin requests need the API passphrase (Credentials.passphrase)")
    secret = credentials.api_secret
    return {
        "KC-API-KEY": credentials.api_key,
        "KC-API-SIGN": kucoin_signature(secret, timestamp, method, endpoint, body),
        "KC-API-TIMESTAMP": str(timestamp),
        "KC-API-PASSPHRASE": kucoin_passphrase(secret, passphrase, key_version),
        "KC-API-KEY-VERSION": key_version,
        "Content-Type": "application/json",
    }


# -- signed REST --------------------------------------------------------------------------------


def _error_of(body: Any) -> tuple[str | None, str]:
    """``(code, msg)`` of a KuCoin answer (``code`` is a string; None if absent)."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None, ""
    if not isinstance(body, dict):
        return None, ""
    code = body.get("code")
    msg = body.get("msg")
    return (None if code is None else str(code)), (msg if isinstance(msg, str) else "")


class KucoinRest:
    """Signed (or public) KuCoin REST calls: the ``{"code","data"}`` envelope, the server
    clock, and the mapping of refusals to :class:`AuthenticationError`.

    Args:
        credentials: the key (None: public calls only).
        rest_url: REST host root (``https://api.kucoin.com``, futures
            ``https://api-futures.kucoin.com``).
        rest: share a client (closed by its owner), else one is made and closed here.
        key_version: ``KC-API-KEY-VERSION``.
        sync_time: sign with the server clock (``GET /api/v1/timestamp``, once, and again after
            a ``400002``).
        exchange: name used in messages.
    """

    TIME_PATH: ClassVar[str] = "/api/v1/timestamp"

    def __init__(
        self,
        credentials: Credentials | None,
        rest_url: str,
        *,
        rest: RestClient | None = None,
        timeout: float = 10.0,
        key_version: str = DEFAULT_KEY_VERSION,
        sync_time: bool = True,
        exchange: str = "kucoin",
    ) -> None:
        if key_version not in ("1", "2", "3"):
            raise ValueError(f"unknown KuCoin API key version {key_version!r}; valid: 1, 2, 3")
        self.credentials = credentials
        self.rest_url = rest_url.rstrip("/")
        self.key_version = key_version
        self.sync_time = sync_time
        self.exchange = exchange
        self._timeout = timeout
        self._client = rest
        self._own_client = rest is None
        self._clock_offset_ms = 0
        self._clock_synced = False

    def __repr__(self) -> str:
        return f"<KucoinRest {self.exchange} {urlsplit(self.rest_url).netloc}>"

    def _rest(self) -> RestClient:
        if self._client is None:
            self._client = RestClient(timeout=self._timeout)
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._own_client:
            await client.close()

    # -- clock ----------------------------------------------------------------------------------

    async def sync_clock(self) -> None:
        """Offset of the server clock from ours, from one ``GET /api/v1/timestamp``."""
        try:
            before = time.time_ns() // 1_000_000
            body = await self._rest().get(self.rest_url + self.TIME_PATH)
            after = time.time_ns() // 1_000_000
            self._clock_offset_ms = int(body["data"]) - (before + after) // 2
            self._clock_synced = True
        except (RestError, KeyError, TypeError, ValueError) as exc:
            log.warning(
                "%s: server time unavailable (%s); using the local clock",
                self.exchange,
                type(exc).__name__,
            )

    def timestamp(self) -> int:
        """Milliseconds on the server clock (as far as we know it)."""
        return time.time_ns() // 1_000_000 + self._clock_offset_ms

    # -- calls ----------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        """``text`` without any credential value (servers should not echo them; be sure)."""
        creds = self.credentials
        if creds is None:
            return text
        for value in (creds.api_secret, creds.passphrase, creds.api_key):
            if value and len(value) >= 4:  # shorter ones would garble the message, not hide it
                text = text.replace(value, "<hidden>")
        return text

    async def call(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        body: dict[str, Any] | None = None,
        *,
        signed: bool = True,
    ) -> Any:
        """One call; returns the envelope's ``data`` (JSON numbers as exact ``Decimal``).

        Raises:
            AuthenticationError: the key, passphrase, signature, timestamp or IP was refused.
            RateLimited: HTTP 429 (``429000``), with ``retry_after``.
            RestError: any other failure (the message names the path, never the query).
        """
        method = method.upper()
        raw_query = "&".join(f"{k}={v}" for k, v in params)
        url_query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)
        endpoint = path + (f"?{raw_query}" if raw_query else "")
        url = self.rest_url + path + (f"?{url_query}" if url_query else "")
        text = "" if body is None else json.dumps(body, separators=(",", ":"))
        where = f"{self.exchange}: {method} {path}"
        creds = self.credentials
        if signed and creds is None:
            raise MissingCredentials(f"{where} needs credentials")
        if signed and self.sync_time and not self._clock_synced:
            await self.sync_clock()
        for attempt in (0, 1):
            headers: dict[str, str] = {"Content-Type": "application/json"}
            if signed:
                assert creds is not None
                headers = kucoin_headers(
                    creds,
                    method,
                    endpoint,
                    text,
                    timestamp=self.timestamp(),
                    key_version=self.key_version,
                )
            try:
                answer = await self._rest().request(
                    method, url, headers=headers, data=text or None, parse_float=Decimal
                )
            except RateLimited:
                raise
            except RestError as exc:
                if exc.body is None:
                    # No answer at all (timeout, connection): the message names the path only.
                    raise RestError(self._scrub(f"{self.exchange}: {exc}"), exc.status) from None
                code, msg = _error_of(exc.body)
                answer = {"code": code, "msg": msg, "_status": exc.status}
            code, msg = _error_of(answer)
            if code == OK_CODE:
                return answer.get("data") if isinstance(answer, dict) else None
            if code == TIMESTAMP_CODE and attempt == 0 and signed and self.sync_time:
                await self.sync_clock()  # our clock drifted: re-read the server's, sign again
                continue
            status = answer.get("_status") if isinstance(answer, dict) else None
            detail = self._scrub(f"{code} {msg}".strip()) if code else "no code"
            if code in AUTH_CODES:
                assert code is not None
                log.warning("%s refused: %s", where, detail)
                raise AuthenticationError(f"{where} refused: {detail} ({AUTH_HINTS[code]})", code)
            if code == "429000":
                raise RateLimited(f"{where}: rate limited ({detail})", status or 429, 1.0)
            raise RestError(
                f"{where} failed: {detail}" + (f" (HTTP {status})" if status else ""),
                status if isinstance(status, int) else None,
            )
        raise AssertionError("unreachable")


# -- the token flow -----------------------------------------------------------------------------


class TokenRejected(ConnectError):
    """The WebSocket refused our token (``401 token is expired``); a new one is fetched on the
    next connection attempt."""


@dataclass(frozen=True, slots=True)
class InstanceServer:
    """One ``instanceServers`` entry of a token answer (§2.1)."""

    endpoint: str
    ping_interval_ms: int
    ping_timeout_ms: int
    encrypt: bool = True
    protocol: str = "websocket"


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """A token and the servers it may be used on (the token is never printed)."""

    token: str
    servers: tuple[InstanceServer, ...]

    def __repr__(self) -> str:
        return f"TokenGrant(<token>, servers={len(self.servers)})"


def _grant(data: Any, where: str) -> TokenGrant:
    if not isinstance(data, dict):
        raise HftwsError(f"{where}: answer without data")
    token = data.get("token")
    raw = data.get("instanceServers")
    if not isinstance(token, str) or not token or not isinstance(raw, list) or not raw:
        raise HftwsError(f"{where}: answer without a token or instance servers")
    servers = []
    for item in raw:
        try:
            servers.append(
                InstanceServer(
                    str(item["endpoint"]),
                    int(item["pingInterval"]),
                    int(item["pingTimeout"]),
                    bool(item.get("encrypt", True)),
                    str(item.get("protocol", "websocket")),
                )
            )
        except (KeyError, TypeError, ValueError):
            raise HftwsError(f"{where}: malformed instance server entry") from None
    return TokenGrant(token, tuple(servers))


class KucoinTokenAuthenticator(Authenticator):
    """A fresh ``bullet-private`` token, an instance server and a welcome for every socket.

    Args:
        credentials: key, secret and passphrase.
        key_version: ``KC-API-KEY-VERSION`` (``"2"``; ``"3"`` for keys shown as version 3).
        welcome_timeout: seconds to wait for the welcome (KuCoin's SDK: 5).
        sync_time: sign with the server clock.
        rng: chooses among the instance servers (KuCoin's SDK picks one at random).
    """

    requires_auth: ClassVar[bool] = True
    TOKEN_PATH: ClassVar[str] = "/api/v1/bullet-private"
    WELCOME_TIMEOUT: ClassVar[float] = 5.0

    def __init__(
        self,
        credentials: Credentials,
        *,
        key_version: str = DEFAULT_KEY_VERSION,
        welcome_timeout: float | None = None,
        sync_time: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__()
        if credentials.passphrase is None:
            raise MissingCredentials(
                "KuCoin private streams need the API passphrase: Credentials(..., passphrase=...)"
            )
        if key_version not in ("1", "2", "3"):
            raise ValueError(f"unknown KuCoin API key version {key_version!r}; valid: 1, 2, 3")
        self.credentials = credentials
        self.key_version = key_version
        self.welcome_timeout = welcome_timeout or self.WELCOME_TIMEOUT
        self.sync_time = sync_time
        self._rng = rng or random.Random()
        self._rest_api: KucoinRest | None = None
        self._token: str | None = None
        self._connect_id: str | None = None
        self._welcome = asyncio.Event()
        self._rejected: str | None = None
        #: The instance server of the current (or last) socket: its ping rules.
        self.instance: InstanceServer | None = None
        #: Counters: tokens fetched, welcomes received, tokens the socket rejected.
        self.stats = {"tokens": 0, "welcomes": 0, "rejected": 0}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} tokens={self.stats['tokens']}>"

    @property
    def connect_id(self) -> str | None:
        """The ``connectId`` of the current socket (not a secret)."""
        return self._connect_id

    def rest(self) -> KucoinRest:
        """The signed REST client of this connection (also used for signed snapshots)."""
        if self._rest_api is None:
            host = self.host
            self._rest_api = KucoinRest(
                self.credentials,
                host.rest_url,
                timeout=host.policy.open_timeout,
                key_version=self.key_version,
                sync_time=self.sync_time,
                exchange=host.exchange,
            )
        return self._rest_api

    async def fetch_token(self) -> TokenGrant:
        """One signed ``POST /api/v1/bullet-private``."""
        data = await self.rest().call("POST", self.TOKEN_PATH)
        grant = _grant(data, f"{self.host.exchange}: POST {self.TOKEN_PATH}")
        self.stats["tokens"] += 1
        return grant

    async def kucoin_token_provider(self, rest: RestClient, rest_url: str) -> Any:
        """The signed ``bullet-private`` answer (``{"code": "200000", "data": {...}}``) through
        a caller's REST client: the hook by which an exchange protocol that resolves KuCoin
        endpoints itself asks an authenticator for a private token."""
        api = KucoinRest(
            self.credentials,
            rest_url,
            rest=rest,
            key_version=self.key_version,
            sync_time=self.sync_time,
            exchange=self._host.exchange if self._host is not None else "kucoin",
        )
        data = await api.call("POST", self.TOKEN_PATH)
        self.stats["tokens"] += 1
        return {"code": OK_CODE, "data": data}

    # -- the authenticator interface ------------------------------------------------------------

    async def connection_url(self, url: str) -> str:
        """A new token and connectId for every socket; ``url`` is ignored: the token answer
        names the server (KuCoin: "use a dynamic URL, it may change")."""
        grant = await self.fetch_token()
        server = self._rng.choice(grant.servers)
        self.instance = server
        self._token = grant.token
        self._connect_id = secrets.token_hex(12)
        self._welcome = asyncio.Event()
        self._rejected = None
        sep = "&" if "?" in server.endpoint else "?"
        return (
            f"{server.endpoint}{sep}token={quote(grant.token, safe='=')}"
            f"&connectId={self._connect_id}"
        )

    def on_welcome(self, connect_id: str | None) -> None:
        """A ``welcome`` frame arrived (the connection's handler calls this)."""
        if connect_id != self._connect_id:
            # The docs say the id is our connectId; a server that words it otherwise still
            # opened the session, so count it and go on.
            self.host.metrics.errors["welcome_id_mismatch"] += 1
        self.stats["welcomes"] += 1
        self._welcome.set()

    async def after_connect(self) -> None:
        """Nothing may be sent before the welcome (§2.2)."""
        try:
            async with asyncio.timeout(self.welcome_timeout):
                await self._welcome.wait()
        except TimeoutError:
            self.host.metrics.errors["welcome_timeout"] += 1
            raise ConnectError(
                f"{self.host.exchange}: no welcome within {self.welcome_timeout:g}s"
            ) from None
        if self._rejected is not None:
            raise TokenRejected(f"{self.host.exchange}: token rejected ({self._rejected})")

    @property
    def session_valid(self) -> bool:
        return self._rejected is None

    def session_error(self) -> HftwsError:
        return TokenRejected(f"{self.host.exchange}: token rejected ({self._rejected})")

    def on_server_error(self, event: Any) -> None:
        if getattr(event, "code", None) != TOKEN_EXPIRED_CODE:
            return
        self._rejected = f"{TOKEN_EXPIRED_CODE} {getattr(event, 'message', None) or ''}".strip()
        self.stats["rejected"] += 1
        self.host.metrics.errors["token_rejected"] += 1
        log.warning("%s: the server rejected the connection token", self.host.exchange)
        self._welcome.set()  # a waiting connect fails now instead of timing out
        self.host.fail_pending(self._rejected)

    def redact(self, text: str) -> str:
        token = self._token
        if token:
            text = text.replace(quote(token, safe="="), "<token>").replace(token, "<token>")
        return text

    async def close(self) -> None:
        api, self._rest_api = self._rest_api, None
        if api is not None:
            await api.close()
