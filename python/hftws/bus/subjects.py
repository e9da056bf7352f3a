"""Subject, stream and bucket names of the bus (one place, ``docs/bus.md`` documents them).

- ``hftws.<exchange>.<symbol>.book``: book messages of one book (delta, snapshot,
  out_of_sync), in gateway-sequence order; captured by the exchange's JetStream stream.
- ``hftws.<exchange>.<symbol>.trades`` / ``.ticker``: one message per public trade / best
  bid-ask (kinds 5 and 6, :mod:`hftws.bus.streams`), core NATS, not stored.
- ``hftws.<exchange>.heartbeat``: the active gateway's heartbeat for that exchange (core NATS,
  not stored): a reader that misses it for longer than its bound stops trusting its books.
- Stream ``HFTWS_<EXCHANGE>``: subjects ``hftws.<exchange>.*.book``, bounded by age and count.
- Bucket ``hftws_books``: key ``<exchange>.<symbol>`` holds the book's latest full snapshot
  (a snapshot message whose sequence is the last message it includes).
- Bucket ``hftws_leases`` (entries expire after the lease TTL): key ``lease.<exchange>`` is
  the active gateway's lease (high availability).

NATS subject tokens cannot hold ``.``, ``*``, ``>`` or spaces; symbols that do (none of the
supported exchanges' spot or futures names) are refused rather than silently rewritten.
"""

from __future__ import annotations

#: The key-value bucket with every book's latest snapshot (and the gateways' leases).
KV_BUCKET = "hftws_books"

_BAD = frozenset(".*> \t\r\n")


def _token(what: str, value: str) -> str:
    if not value or any(c in _BAD for c in value):
        raise ValueError(f"{what} {value!r} cannot be a NATS subject token")
    return value


def book_subject(exchange: str, symbol: str) -> str:
    """``hftws.<exchange>.<symbol>.book``."""
    return f"hftws.{_token('exchange', exchange)}.{_token('symbol', symbol)}.book"


def trades_subject(exchange: str, symbol: str) -> str:
    """``hftws.<exchange>.<symbol>.trades``: one message per public trade (core NATS)."""
    return f"hftws.{_token('exchange', exchange)}.{_token('symbol', symbol)}.trades"


def ticker_subject(exchange: str, symbol: str) -> str:
    """``hftws.<exchange>.<symbol>.ticker``: one message per best bid/ask (core NATS)."""
    return f"hftws.{_token('exchange', exchange)}.{_token('symbol', symbol)}.ticker"


def heartbeat_subject(exchange: str) -> str:
    """``hftws.<exchange>.heartbeat``."""
    return f"hftws.{_token('exchange', exchange)}.heartbeat"


def stream_name(exchange: str) -> str:
    """The exchange's JetStream stream: ``HFTWS_<EXCHANGE>``."""
    return f"HFTWS_{_token('exchange', exchange).upper()}"


def kv_bucket() -> str:
    """The bucket holding snapshots and leases."""
    return KV_BUCKET


def kv_key(exchange: str, symbol: str) -> str:
    """The bucket key of one book's snapshot: ``<exchange>.<symbol>``."""
    return f"{_token('exchange', exchange)}.{_token('symbol', symbol)}"


def lease_key(exchange: str) -> str:
    """The bucket key of the active gateway's lease for ``exchange``."""
    return f"lease.{_token('exchange', exchange)}"
