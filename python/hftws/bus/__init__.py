"""The market-data bus: a gateway publishes books on NATS JetStream, remote books read them.

The book encoding (``docs/bus.md``) is produced and read in Rust (``hftws._core``); this
package re-exports it, and the trades/ticker encoding (:mod:`hftws.bus.streams`, Python).
:mod:`hftws.bus.gateway` (``Gateway``) and :mod:`hftws.bus.remote` (``RemoteBookManager``)
need the optional ``nats-py`` client (``pip install hftws[bus]``);
nothing else in hftws imports them.
"""

from hftws._core import (
    BusDecodeError,
    BusEncoder,
    BusMessage,
    bus_apply,
    bus_decode,
    bus_encode,
    bus_heartbeat,
    bus_load_snapshot,
)
from hftws.bus.streams import (
    RemoteTicker,
    RemoteTrade,
    decode_stream_message,
    encode_ticker,
    encode_trade,
)
from hftws.bus.subjects import (
    book_subject,
    heartbeat_subject,
    kv_bucket,
    kv_key,
    stream_name,
    ticker_subject,
    trades_subject,
)

__all__ = [
    "BusDecodeError",
    "BusEncoder",
    "BusMessage",
    "RemoteTicker",
    "RemoteTrade",
    "book_subject",
    "bus_apply",
    "bus_decode",
    "bus_encode",
    "bus_heartbeat",
    "bus_load_snapshot",
    "decode_stream_message",
    "encode_ticker",
    "encode_trade",
    "heartbeat_subject",
    "kv_bucket",
    "kv_key",
    "stream_name",
    "ticker_subject",
    "trades_subject",
]
