"""The one-call read (``StreamDecoder.feed_routed`` from ``WebSocketConnection.data_received``)
delivers exactly what the two-step path (``ClientProtocol.receive_data`` then
``handler.deliver``) delivers: same events in the same order, same metrics, same bytes sent,
same close handling; control frames, close frames, protocol errors and recorders keep the
Python path."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any, cast

import pytest
from client_helpers import own_tasks, wait_for

from hftws import OrderBook
from hftws.events import MessageType
from hftws.exchanges import GateioSpotPublicHandler
from hftws.exchanges.gateio import GateioSpotPublicMessageHandler
from hftws.exchanges.mexc import MexcPublicMessageHandler
from hftws.handlers.base import BaseMessageHandler
from hftws.protocol import Recorder
from hftws.testing import mexc_proto
from hftws.testing.gate_server import GateSpotServer
from hftws.transport import WebSocketConnection

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 §1.3's example
OK = (
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
).encode()


def frame(payload: bytes, opcode: int = 1) -> bytes:
    n = len(payload)
    head = bytes([0x80 | opcode, n]) if n < 126 else bytes([0x80 | opcode, 126]) + n.to_bytes(2)
    return head + payload


def trade(i: int) -> bytes:
    return (
        b'{"time":1,"time_ms":1,"channel":"spot.trades","event":"update","result":'
        b'{"id":%d,"create_time":1,"create_time_ms":"1.0","side":"buy",'
        b'"currency_pair":"BTC_USDT","amount":"1","price":"100"}}' % i
    )


def depth(u: int) -> bytes:
    return (
        b'{"time":1,"time_ms":1,"channel":"spot.order_book_update","event":"update","result":'
        b'{"t":1,"e":"depthUpdate","E":1,"s":"BTC_USDT","U":%d,"u":%d,'
        b'"b":[["99.5","%d"]],"a":[]}}' % (u, u, u)
    )


def unmask(data: bytes) -> list[tuple[int, bytes]]:
    """The (opcode, payload) of the masked client frames in ``data``."""
    out, i = [], 0
    while i < len(data):
        op, n, j = data[i] & 0x0F, data[i + 1] & 0x7F, i + 2
        if n == 126:
            n, j = int.from_bytes(data[j : j + 2]), j + 2
        mask = data[j : j + 4]
        out.append((op, bytes(b ^ mask[k % 4] for k, b in enumerate(data[j + 4 : j + 4 + n]))))
        i = j + 4 + n
    return out


class FakeTransport:
    """What WebSocketConnection uses of an asyncio transport."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0


class Side:
    """One connection + handler, on the one-call path (``fast``) or the two-step one."""

    def __init__(
        self,
        fast: bool,
        recorder: Recorder | None = None,
        handler: BaseMessageHandler | None = None,
        exchange: str = "gateio",
    ) -> None:
        self.handler = handler or GateioSpotPublicMessageHandler()
        self.log: list[tuple[str, str]] = []
        for mtype in (MessageType.TRADE, MessageType.ORDERBOOK, MessageType.PING):
            self.handler.on(mtype, self._logger(mtype))
        self.book = OrderBook("gate", symbol="BTC_USDT")
        self.book.load_snapshot([("99", "1")], [("101", "1")], 10)
        self.conn = WebSocketConnection(
            "example.com",
            "/",
            on_messages=self.handler.deliver,
            exchange=exchange,
            recorder=recorder,
            router=self.handler.native_router if fast else None,
        )
        self.conn.protocol._key = KEY  # the accept above is computed for this key
        self.conn.register_book("BTC_USDT", self.book)
        self.transport = FakeTransport()
        self.conn.connection_made(cast(asyncio.BaseTransport, self.transport))

    def _logger(self, mtype: MessageType) -> Callable[[Any], None]:
        def log(ev: Any) -> None:
            # Addresses differ between the two sides' objects, not what they say.
            self.log.append((mtype.value, re.sub(r"0x[0-9a-f]+", "", repr(ev))))

        return log

    def feed(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.conn.data_received(chunk)

    def outcome(self) -> dict[str, Any]:
        m, c, p = self.handler.metrics, self.conn, self.conn.protocol
        return {
            "log": self.log,
            "reads": m.reads,
            "messages": dict(m.messages),
            "latency": {s: h.count for s, h in m.latency.items()},
            "conn": (c.reads, c.control_reads, c.bytes_received, c.last_pong_ns > 0),
            # Past the (random-keyed) upgrade request; frames unmasked (random masks).
            "written": [unmask(w) for w in self.transport.written[1:]],
            "closed": (self.transport.closed, p.close_code, p.close_reason, p.state),
            "book": self.book.size_at("bid", "99.5"),
        }


def both(chunks: list[bytes], recorder: bool = False) -> tuple[Side, Side]:
    records: list[bytes] = []
    rec = Recorder(records.append, 3) if recorder else None
    old, new = Side(False, rec), Side(True, rec)
    old.feed(chunks)
    new.feed(chunks)
    assert new.outcome() == old.outcome()
    return old, new


async def test_common_reads_take_one_call_and_deliver_what_the_two_steps_deliver() -> None:
    chunks = [OK, frame(trade(1)) + frame(depth(11)), frame(trade(2)), frame(depth(12))]
    old, new = both(chunks)
    assert new.conn.protocol.fast is not None and old.conn.protocol.fast is not None
    assert new.handler.metrics.reads == 3 and len(new.log) == 4
    assert [t for t, _ in new.log] == ["trade", "orderbook", "trade", "orderbook"]


async def test_a_split_frame_and_an_empty_read_count_as_the_two_steps_count() -> None:
    whole = frame(trade(1))
    chunks = [OK, whole[:5], whole[5:], b"", frame(trade(2))]
    _old, new = both(chunks)
    assert new.handler.metrics.reads == 2


async def test_control_frames_mid_read_keep_their_handling_and_order() -> None:
    chunks = [
        OK,
        frame(trade(1)) + frame(b"hb", 9) + frame(trade(2)),
        frame(b"p", 10),
        frame(b"hb2", 9),
        frame(trade(3)),
    ]
    _old, new = both(chunks)
    assert new.conn.control_reads == 3  # the upgrade, the pong, the second ping
    assert [t for t, _ in new.log] == ["trade"] * 3
    assert new.conn.protocol.fast is not None  # pings do not leave the fast path


async def test_a_close_frame_mid_read_ends_the_fast_path_as_it_ends_the_connection() -> None:
    chunks = [
        OK,
        frame(trade(1)) + frame(b"\x03\xe8bye", 8) + frame(trade(2)),
        frame(trade(3)),
    ]
    _old, new = both(chunks)
    assert new.conn.protocol.fast is None
    assert new.transport.closed and new.conn.protocol.close_code == 1000
    assert len(new.log) == 1


async def test_a_protocol_violation_delivers_what_came_before_and_closes() -> None:
    masked = bytes([0x81, 0x82, 1, 2, 3, 4, 0, 0])  # a masked server frame: 1002
    chunks = [OK, frame(trade(1)) + masked, frame(trade(2))]
    _old, new = both(chunks)
    assert new.conn.protocol.close_code == 1002 and new.transport.closed
    assert new.conn.protocol.fast is None and len(new.log) == 1


async def test_a_recorded_connection_keeps_the_python_path_and_records_every_message() -> None:
    records: list[bytes] = []
    side = Side(True, Recorder(records.append, 3))
    side.feed([OK, frame(trade(1)) + frame(b"hb", 9), frame(trade(2))])
    assert side.conn.protocol.fast is None
    assert len(side.log) == 2 and side.handler.metrics.reads == 2
    assert sum(r.count(b'"spot.trades"') for r in records) == 2
    _old, _new = both([OK, frame(trade(1)), frame(trade(2))], recorder=True)


async def test_failures_seen_outside_a_read_are_attended_before_the_next_one() -> None:
    old, new = Side(False), Side(True)
    for s in (old, new):
        s.feed([OK, frame(trade(1))])
        s.conn.protocol.fail(1011, "local")
        s.feed([frame(trade(2))])
    assert new.outcome() == old.outcome()
    assert new.transport.closed


async def test_raising_callbacks_and_coroutines_behave_as_on_the_two_steps() -> None:
    seen: dict[bool, list[int]] = {False: [], True: []}
    for fast in (False, True):
        side = Side(fast)

        def boom(_ev: Any) -> None:
            raise ValueError("user bug")

        async def later(_ev: Any, fast: bool = fast) -> None:
            seen[fast].append(1)

        side.handler.on(MessageType.TRADE, boom)
        side.handler.on(MessageType.TRADE, later)
        side.feed([OK, frame(trade(1)) + frame(trade(2))])
        await asyncio.wait_for(side.handler.drain(), 5)
        assert side.handler.metrics.callback_errors == 2
        assert len(side.log) == 2
    assert seen[False] == seen[True] == [1, 1]


async def test_a_library_listener_raising_stops_the_read_on_both_paths() -> None:
    for fast in (False, True):
        side = Side(fast)

        def fatal(_ev: Any) -> None:
            raise KeyboardInterrupt

        side.handler._on_internal(MessageType.TRADE, fatal)
        side.feed([OK])
        with pytest.raises(KeyboardInterrupt):
            side.feed([frame(trade(1)) + frame(trade(2))])
        assert side.log == [] and side.handler.metrics.reads == 1


def mexc_deals(n: int) -> bytes:
    deal = {"price": "1.5", "quantity": "2", "tradeType": 1, "time": 1, "tradeId": "1"}
    return mexc_proto.encode(
        {
            "channel": "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT",
            "symbol": "BTCUSDT",
            "publicAggreDeals": {
                "deals": [{**deal, "tradeId": str(i)} for i in range(n)],
                "eventType": "x",
            },
        }
    )


async def test_mexc_batches_and_text_controls_match_the_two_steps() -> None:
    pong = b'{"id":0,"code":0,"msg":"PONG"}'
    chunks = [
        OK,
        frame(mexc_deals(3), 2) + frame(pong) + frame(mexc_deals(2), 2),
        frame(mexc_deals(1), 2) + frame(b"hb", 9),
    ]
    sides = [Side(f, handler=MexcPublicMessageHandler(), exchange="mexc") for f in (False, True)]
    for side in sides:
        side.feed(chunks)
    old, new = (s.outcome() for s in sides)
    assert new == old
    assert [t for t, _ in new["log"]] == ["trade"] * 3 + ["ping"] + ["trade"] * 3
    assert new["messages"] == {"trade": 3, "ping": 1}


async def test_a_recorder_attached_mid_stream_takes_the_next_socket_off_the_fast_path(
    gate_spot_server: GateSpotServer,
) -> None:
    ws = GateioSpotPublicHandler(url=gate_spot_server.url, ping_interval=0.5, idle_timeout=2.0)
    depth: list[Any] = []
    records: list[bytes] = []
    ws.handler.on_orderbook(depth.append)
    async with ws:
        await ws.subscribe_depth("BTC_USDT")
        await wait_for(lambda: len(depth) >= 5)
        first = ws._conn
        assert first is not None and first.protocol.fast is not None
        ws.record(records.append, 1)  # applies from the next socket on
        gate_spot_server.faults.close_with(1006)
        await wait_for(lambda: ws.metrics.reconnects == 1)
        await wait_for(lambda: ws._conn is not first and b"".join(records).count(b'"u":') >= 5)
        second = ws._conn
        assert second is not None and second.protocol.fast is None
    recorded = [int(u) for u in re.findall(rb'"u":(\d+)', b"".join(records))]
    delivered = {e.last_id for e in depth}
    # Every recorded push went through the (Python) path to the callbacks as well.
    assert recorded and set(recorded) <= delivered
    assert not own_tasks()
