"""Request signing for the exchanges' REST calls (MEXC spot v3, ``mexc.md`` §7.2).

MEXC signs ``totalParams`` = the query string concatenated directly with the request body (no
``&`` between them) with HMAC-SHA256 keyed by the API secret, as lower-case hex, and sends it as
the last ``signature`` parameter; values with special characters are URL-encoded with upper-case
escapes before signing. Gate.io's channel signature lives in :func:`hftws.gateio.sign_channel`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import quote

__all__ = ["mexc_query", "mexc_signature", "mexc_signed_query"]

#: MEXC's default and maximum recvWindow (ms); the server refuses recvWindow >= 60000.
MEXC_RECV_WINDOW = 5000
MEXC_MAX_RECV_WINDOW = 60000


def mexc_signature(secret: str, query: str = "", body: str = "") -> str:
    """Lower-case hex HMAC-SHA256 of ``query + body`` keyed by ``secret``."""
    message = (query + body).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def mexc_query(params: Iterable[tuple[str, object]]) -> str:
    """``k=v&k=v`` in the given order, values percent-encoded with upper-case escapes."""
    # quote() already writes upper-case escapes (%2C), which is what MEXC signs.
    return "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params)


def mexc_signed_query(
    secret: str,
    params: Iterable[tuple[str, object]],
    timestamp: int,
    recv_window: int | None = MEXC_RECV_WINDOW,
) -> str:
    """The full query string of a signed call: params, recvWindow, timestamp, signature.

    ``timestamp`` is the request time in milliseconds (server clock, see the listenKey mixin).
    """
    items = list(params)
    if recv_window is not None:
        if not 0 < recv_window < MEXC_MAX_RECV_WINDOW:
            raise ValueError(f"recvWindow must be in (0, {MEXC_MAX_RECV_WINDOW}) ms")
        items.append(("recvWindow", recv_window))
    items.append(("timestamp", int(timestamp)))
    query = mexc_query(items)
    return f"{query}&signature={mexc_signature(secret, query)}"
