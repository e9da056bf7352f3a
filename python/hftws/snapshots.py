"""Where a book's REST snapshot comes from, when an exchange offers more than one.

KuCoin serves its full spot book only to a signed request (``GET /api/v3/market/orderbook/
level2``, "General" permission) and the top 100 levels to anyone (``level2_100``), so which
snapshot a book uses depends on the credentials (``kucoin.md`` §1, §4.2). A
:class:`SnapshotSource` names the endpoint, says how deep the book it gives is exact, and
fetches it; :data:`SNAPSHOT_SOURCES` maps an exchange to a chooser ``(credentials or None) ->
SnapshotSource``. Without credentials the public source is used; an authenticated source
(the signed full snapshot) is registered by the module that can sign, and chosen when the
``OrderBookManager`` has credentials for the exchange.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hftws._core import HftwsError

if TYPE_CHECKING:
    from hftws.credentials import Credentials
    from hftws.rest import RestClient

__all__ = [
    "KUCOIN_FUTURES_SNAPSHOT",
    "KUCOIN_LEVEL2_100",
    "SNAPSHOT_SOURCES",
    "SnapshotError",
    "SnapshotSource",
    "choose_snapshot_source",
]

Levels = list[tuple[Any, Any]]
#: ``fetch(rest, rest_root, symbol)`` -> ``(bids, asks, sequence)``.
SnapshotFetch = Callable[["RestClient", str, str], Awaitable[tuple[Levels, Levels, int]]]


class SnapshotError(HftwsError):
    """A REST snapshot could not be fetched or read."""


@dataclass(frozen=True)
class SnapshotSource:
    """One snapshot endpoint: its name (shown in a book's state), how many levels per side
    it covers (None: the whole book) and the fetch."""

    name: str
    exact_depth: int | None
    fetch: SnapshotFetch


def _kucoin_data(body: Any, where: str) -> Any:
    """``data`` of a KuCoin REST answer; ``code`` is a string, anything but 200000 failed."""
    if not isinstance(body, dict) or str(body.get("code")) != "200000":
        code = body.get("code") if isinstance(body, dict) else None
        msg = body.get("msg", "") if isinstance(body, dict) else ""
        raise SnapshotError(f"{where}: code {code} {msg}".rstrip())
    return body["data"]


def _kucoin_levels(raw: Any) -> Levels:
    # Futures snapshots give prices as JSON numbers: read as Decimal (exact), passed as text.
    return [(str(level[0]), str(level[1])) for level in raw]


async def _kucoin_level2_100(
    rest: RestClient, root: str, symbol: str
) -> tuple[Levels, Levels, int]:
    path = "/api/v1/market/orderbook/level2_100"
    where = f"kucoin snapshot {path} for {symbol}"
    body = await rest.get(root + path, params={"symbol": symbol})
    try:
        data = _kucoin_data(body, where)
        return _kucoin_levels(data["bids"]), _kucoin_levels(data["asks"]), int(data["sequence"])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise SnapshotError(f"{where}: malformed answer ({exc!r})") from None


async def _kucoin_futures(rest: RestClient, root: str, symbol: str) -> tuple[Levels, Levels, int]:
    path = "/api/v1/level2/snapshot"
    where = f"kucoin_futures snapshot {path} for {symbol}"
    body = await rest.get(root + path, params={"symbol": symbol}, parse_float=Decimal)
    try:
        data = _kucoin_data(body, where)
        return _kucoin_levels(data["bids"]), _kucoin_levels(data["asks"]), int(data["sequence"])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise SnapshotError(f"{where}: malformed answer ({exc!r})") from None


#: Public spot snapshot: the top 100 levels per side, so the book is exact only that deep.
KUCOIN_LEVEL2_100 = SnapshotSource("public level2_100", 100, _kucoin_level2_100)
#: Public futures snapshot: the whole book.
KUCOIN_FUTURES_SNAPSHOT = SnapshotSource("public level2/snapshot", None, _kucoin_futures)


def _kucoin_spot(credentials: Credentials | None) -> SnapshotSource:
    """With a key: the signed full snapshot (``GET /api/v3/market/orderbook/level2``, the whole
    book); without: the public top 100."""
    if credentials is None:
        return KUCOIN_LEVEL2_100
    # Imported here: the signing module is only needed (and loaded) when a key is configured.
    from hftws.kucoin_snapshot import full_snapshot_fetcher

    return SnapshotSource("signed level2 (full book)", None, full_snapshot_fetcher(credentials))


#: exchange -> chooser(credentials or None). Exchanges absent here use their fixed endpoint.
SNAPSHOT_SOURCES: dict[str, Callable[[Credentials | None], SnapshotSource]] = {
    "kucoin": _kucoin_spot,
    "kucoin_futures": lambda _credentials: KUCOIN_FUTURES_SNAPSHOT,
}


def choose_snapshot_source(exchange: str, credentials: Credentials | None) -> SnapshotSource | None:
    """The snapshot source for ``exchange`` given the configured credentials (None: the
    exchange has one fixed endpoint)."""
    chooser = SNAPSHOT_SOURCES.get(exchange)
    return None if chooser is None else chooser(credentials)
