"""Binance request signing (``binance.md`` §7) and the server clock.

Three key types sign the same payloads:

- ``hmac``: HMAC-SHA256 keyed by the API secret, lower-case hex;
- ``ed25519``: Ed25519 over the payload bytes, base64 (the key is a PEM private key);
- ``rsa``: RSASSA-PKCS1-v1_5 with SHA-256, base64 (PEM private key).

The payload differs by transport:

- REST (spot and USDⓈ-M): ``k=v&k=v`` in the caller's order, every key and value
  **percent-encoded before signing** (mandatory since 2026-01-15; non-ASCII symbols otherwise
  get ``-1022``), query and body concatenated without a separator; the signature is the last
  query parameter, itself percent-encoded (base64 carries ``+``, ``/`` and ``=``);
- WebSocket API: every param but ``signature``, **sorted by name**, ``k=v&k=v``, values as
  UTF-8 **without** percent-encoding.

``timestamp`` is in milliseconds of the server clock (:class:`ServerClock`: ``GET
/api/v3/time`` on spot, ``GET /fapi/v1/time`` on USDⓈ-M); ``recvWindow`` (default 5000 ms on the
server) may be at most 60000. The server accepts a request iff ``timestamp < server + 1000`` and
``server - timestamp <= recvWindow``, else ``-1021``.

The signer holds the secret (or the parsed private key) and never shows it: its repr names only
the key type, and a key that cannot be loaded raises an error that says why, never what.
``cryptography`` is imported only for Ed25519 and RSA keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal
from urllib.parse import quote

from hftws.credentials import MissingCredentials
from hftws.rest import RestClient, RestError

__all__ = [
    "KEY_TYPES",
    "MAX_RECV_WINDOW",
    "BinanceSigner",
    "KeyType",
    "ServerClock",
    "rest_payload",
    "signed_rest_query",
    "signed_ws_params",
    "ws_api_payload",
]

log = logging.getLogger("hftws.auth")

KeyType = Literal["hmac", "ed25519", "rsa"]
KEY_TYPES: Final[tuple[KeyType, ...]] = ("hmac", "ed25519", "rsa")
#: The largest recvWindow Binance accepts (ms).
MAX_RECV_WINDOW: Final = 60_000


def _text(value: object) -> str:
    # JSON booleans are lower case on the wire, so they are signed that way too.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rest_payload(params: Iterable[tuple[str, object]]) -> str:
    """``k=v&k=v`` in the given order, keys and values percent-encoded (upper-case escapes)."""
    return "&".join(f"{quote(k, safe='')}={quote(_text(v), safe='')}" for k, v in params)


def ws_api_payload(params: Mapping[str, object]) -> str:
    """The WebSocket API payload: params but ``signature``, sorted by name, not encoded."""
    return "&".join(f"{k}={_text(params[k])}" for k in sorted(params) if k != "signature")


def _check_recv_window(recv_window: int | None) -> None:
    if recv_window is not None and not 0 < recv_window <= MAX_RECV_WINDOW:
        raise ValueError(f"recvWindow must be in (0, {MAX_RECV_WINDOW}] ms")


class BinanceSigner:
    """Signs Binance payloads with an HMAC secret, an Ed25519 or an RSA private key.

    Args:
        key_type: ``"hmac"``, ``"ed25519"`` or ``"rsa"``.
        secret: the HMAC secret, or the PEM text of the (unencrypted) private key.
    """

    __slots__ = ("_hmac_key", "_private_key", "key_type")

    def __init__(self, key_type: str, secret: str) -> None:
        if key_type not in KEY_TYPES:
            raise ValueError(
                f"unknown Binance key type {key_type!r}; valid: {', '.join(KEY_TYPES)}"
            )
        if not secret:
            raise MissingCredentials("Binance signing needs a non-empty secret or private key")
        self.key_type: KeyType = key_type
        self._hmac_key: bytes | None = None
        self._private_key: Any = None
        if key_type == "hmac":
            self._hmac_key = secret.encode()
        else:
            self._private_key = _load_private_key(key_type, secret)

    def __repr__(self) -> str:
        return f"BinanceSigner({self.key_type})"

    def __reduce__(self) -> str | tuple[Any, ...]:
        raise TypeError("BinanceSigner cannot be pickled (it holds a secret)")

    def sign(self, payload: str) -> str:
        """The signature of ``payload``: lower-case hex (HMAC) or base64 (Ed25519, RSA)."""
        data = payload.encode()
        if self._hmac_key is not None:
            return hmac.new(self._hmac_key, data, hashlib.sha256).hexdigest()
        if self.key_type == "ed25519":
            raw = self._private_key.sign(data)
        else:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import padding

            raw = self._private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode()


def _load_private_key(key_type: str, pem: str) -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError:  # pragma: no cover - cryptography is a dependency
        raise MissingCredentials(
            f"Binance {key_type} keys need the 'cryptography' package"
        ) from None
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        # The exception text of cryptography never holds key bytes, but say only what failed.
        raise MissingCredentials(
            f"the Binance {key_type} private key is not an unencrypted PEM private key "
            f"({type(exc).__name__})"
        ) from None
    expected = ed25519.Ed25519PrivateKey if key_type == "ed25519" else rsa.RSAPrivateKey
    if not isinstance(key, expected):
        raise MissingCredentials(f"the Binance private key is not an {key_type} key")
    return key


def signed_rest_query(
    signer: BinanceSigner,
    params: Iterable[tuple[str, object]],
    timestamp: int,
    recv_window: int | None = None,
    body: str = "",
) -> str:
    """The full query string of a signed REST call: params, recvWindow, timestamp, signature.

    The signature covers the percent-encoded query followed directly by ``body`` (itself
    already encoded by the caller with :func:`rest_payload`).
    """
    _check_recv_window(recv_window)
    items = list(params)
    if recv_window is not None:
        items.append(("recvWindow", recv_window))
    items.append(("timestamp", int(timestamp)))
    query = rest_payload(items)
    signature = quote(signer.sign(query + body), safe="")
    return f"{query}&signature={signature}"


def signed_ws_params(
    signer: BinanceSigner,
    api_key: str,
    params: Mapping[str, object],
    timestamp: int,
    recv_window: int | None = None,
) -> dict[str, object]:
    """WebSocket API ``params`` with ``apiKey``, ``timestamp`` (and ``recvWindow``) and the
    ``signature`` over the sorted payload."""
    _check_recv_window(recv_window)
    out: dict[str, object] = dict(params)
    out["apiKey"] = api_key
    out["timestamp"] = int(timestamp)
    if recv_window is not None:
        out["recvWindow"] = recv_window
    out["signature"] = signer.sign(ws_api_payload(out))
    return out


class ServerClock:
    """Offset of the exchange clock from ours, from one ``GET <time path>``.

    Args:
        time_path: ``/api/v3/time`` (spot) or ``/fapi/v1/time`` (USDⓈ-M).
        exchange: name used in logs.
    """

    def __init__(self, time_path: str, exchange: str = "binance") -> None:
        self.time_path = time_path
        self.exchange = exchange
        #: Server clock minus ours, in milliseconds.
        self.offset_ms = 0
        self.synced = False

    def __repr__(self) -> str:
        return f"<ServerClock {self.time_path} offset_ms={self.offset_ms}>"

    def now_ms(self) -> int:
        """The server's current time in milliseconds, by our clock and the offset."""
        return time.time_ns() // 1_000_000 + self.offset_ms

    async def sync(self, rest: RestClient, rest_url: str) -> bool:
        """Read the server time; False (and the old offset kept) when it is unavailable."""
        try:
            before = time.time_ns() // 1_000_000
            body = await rest.get(f"{rest_url}{self.time_path}")
            after = time.time_ns() // 1_000_000
            server = int(body["serverTime"])
        except (RestError, KeyError, TypeError, ValueError) as exc:
            log.warning(
                "%s: server time unavailable from %s (%s); using the local clock",
                self.exchange,
                self.time_path,
                type(exc).__name__,
            )
            return False
        self.offset_ms = server - (before + after) // 2
        self.synced = True
        return True
