"""The full KuCoin level2 snapshot a local book syncs with (``kucoin.md`` §1, §4, §7.2).

Spot: ``GET /api/v3/market/orderbook/level2?symbol=BTC-USDT`` is **signed** ("General"
permission) and returns the whole book with ``sequence`` as a string and ``[price, size]``
string levels; without a key only the public ``level2_100`` (top 100) exists, which is the
books' business. Futures: ``GET /api/v1/level2/snapshot?symbol=XBTUSDTM`` is public and gives the
whole book with prices as JSON **numbers** (read here as exact ``Decimal``, never through a
float), sizes as integer contracts and an integer ``sequence``.

    bids, asks, sequence = await fetch_full_snapshot(creds, "BTC-USDT")
    book.load_snapshot(bids, asks, sequence)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, NamedTuple

from hftws.auth.kucoin import DEFAULT_KEY_VERSION, KucoinRest
from hftws.credentials import Credentials, MissingCredentials
from hftws.rest import RestClient, RestError

__all__ = [
    "FUTURES_REST_URL",
    "FUTURES_SNAPSHOT_PATH",
    "SPOT_REST_URL",
    "SPOT_SNAPSHOT_PATH",
    "FullSnapshot",
    "fetch_full_snapshot",
    "full_snapshot_fetcher",
]

SPOT_REST_URL = "https://api.kucoin.com"
FUTURES_REST_URL = "https://api-futures.kucoin.com"
SPOT_SNAPSHOT_PATH = "/api/v3/market/orderbook/level2"
FUTURES_SNAPSHOT_PATH = "/api/v1/level2/snapshot"

Level = tuple[Decimal, Decimal]


class FullSnapshot(NamedTuple):
    """Every level of the book (best first) at ``sequence``; unpacks as the books expect."""

    bids: list[Level]
    asks: list[Level]
    sequence: int


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, str):
        return Decimal(value)  # InvalidOperation is a ValueError
    raise ValueError(f"not a number: {type(value).__name__}")


def _levels(raw: Any) -> list[Level]:
    if not isinstance(raw, list):
        raise ValueError("levels are not a list")
    return [(_decimal(level[0]), _decimal(level[1])) for level in raw]


def _sequence(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("sequence is not an integer")
    return int(value)


async def fetch_full_snapshot(
    credentials: Credentials | None,
    symbol: str,
    *,
    futures: bool = False,
    rest_url: str | None = None,
    rest: RestClient | None = None,
    key_version: str = DEFAULT_KEY_VERSION,
    timeout: float = 10.0,
    sync_time: bool = True,
) -> FullSnapshot:
    """The whole book of ``symbol`` and its sequence.

    Args:
        credentials: key, secret and passphrase (required for spot; futures ignores them: the
            endpoint is public).
        symbol: ``BTC-USDT`` (spot) or ``XBTUSDTM`` (futures).
        futures: the futures endpoint and host.
        rest_url: REST host root (default the exchange's).
        rest: a shared REST client (left open), else one is opened and closed here.
        key_version: ``KC-API-KEY-VERSION``.
        timeout: seconds per request.
        sync_time: sign with the server clock (``GET /api/v1/timestamp``).

    Raises:
        MissingCredentials: spot without credentials (use the public ``level2_100`` instead).
        AuthenticationError: the key, passphrase or signature was refused.
        RestError: the call failed or the answer is malformed (names the path and symbol).
    """
    if not futures and credentials is None:
        raise MissingCredentials(
            f"kucoin: the full snapshot of {symbol} ({SPOT_SNAPSHOT_PATH}) needs an API key; "
            "without one only the public level2_100 (top 100) is available"
        )
    host = rest_url or (FUTURES_REST_URL if futures else SPOT_REST_URL)
    path = FUTURES_SNAPSHOT_PATH if futures else SPOT_SNAPSHOT_PATH
    api = KucoinRest(
        None if futures else credentials,
        host,
        rest=rest,
        timeout=timeout,
        key_version=key_version,
        sync_time=sync_time,
        exchange="kucoin_futures" if futures else "kucoin",
    )
    try:
        data = await api.call("GET", path, [("symbol", symbol)], signed=not futures)
    finally:
        await api.close()
    try:
        if not isinstance(data, dict):
            raise ValueError("no data object")
        return FullSnapshot(
            _levels(data["bids"]), _levels(data["asks"]), _sequence(data["sequence"])
        )
    except (KeyError, TypeError, ValueError, IndexError, ArithmeticError) as exc:
        raise RestError(
            f"{api.exchange}: malformed snapshot for {symbol} from GET {path}: {type(exc).__name__}"
        ) from None


def full_snapshot_fetcher(
    credentials: Credentials | None,
    *,
    futures: bool = False,
    key_version: str = DEFAULT_KEY_VERSION,
    sync_time: bool = True,
) -> Callable[[RestClient, str, str], Awaitable[FullSnapshot]]:
    """``fetch(rest, rest_root, symbol) -> (bids, asks, sequence)`` bound to ``credentials``:
    the shape a book manager calls for its snapshots (shared REST client, the connection's
    REST host root)."""
    if not futures and credentials is None:
        raise MissingCredentials("kucoin: the signed full snapshot needs an API key")

    async def fetch(rest: RestClient, rest_root: str, symbol: str) -> FullSnapshot:
        return await fetch_full_snapshot(
            credentials,
            symbol,
            futures=futures,
            rest_url=rest_root,
            rest=rest,
            key_version=key_version,
            sync_time=sync_time,
        )

    return fetch
