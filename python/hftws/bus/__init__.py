"""The market-data bus: a gateway publishes books on NATS JetStream, remote books read them.

The wire encoding (``docs/bus.md``) is produced and read in Rust (``hftws._core``); this
package re-exports it. :mod:`hftws.bus.gateway` (``Gateway``) and :mod:`hftws.bus.remote`
(``RemoteBookManager``) need the optional ``nats-py`` client (``pip install hftws[bus]``);
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
from hftws.bus.subjects import book_subject, heartbeat_subject, kv_bucket, kv_key, stream_name

__all__ = [
    "BusDecodeError",
    "BusEncoder",
    "BusMessage",
    "book_subject",
    "bus_apply",
    "bus_decode",
    "bus_encode",
    "bus_heartbeat",
    "bus_load_snapshot",
    "heartbeat_subject",
    "kv_bucket",
    "kv_key",
    "stream_name",
]
