"""The sans-I/O client protocol, driven without a socket: bytes in, bytes and events out."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from hftws import BookStatus, BookUpdate, IllegalTransition, OrderBook
from hftws.lifecycle import PROTOCOL_TRANSITIONS, ProtocolState, StateMachine
from hftws.protocol import (
    ClientProtocol,
    CloseReceived,
    Failed,
    HandshakeFailed,
    Opened,
    PongReceived,
)
from hftws.ws import WebSocketDecoder

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 §1.3's example
OK = (
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
).encode()


def frame(payload: bytes, opcode: int = 1) -> bytes:
    """An unmasked server frame."""
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, n])
    else:
        head = bytes([0x80 | opcode, 126]) + struct.pack(">H", n)
    return head + payload


def client_frames(data: bytes) -> list[tuple[int, bytes]]:
    """Decode what the client sent (masked frames), with an unmasking decoder."""
    out = []
    i = 0
    while i < len(data):
        op = data[i] & 0x0F
        n = data[i + 1] & 0x7F
        j = i + 2
        if n == 126:
            n = struct.unpack(">H", data[j : j + 2])[0]
            j += 2
        mask = data[j : j + 4]
        body = bytes(b ^ mask[k % 4] for k, b in enumerate(data[j + 4 : j + 4 + n]))
        out.append((op, body))
        i = j + 4 + n
    return out


def state(proto: ClientProtocol) -> ProtocolState:
    """The state now (a call, so the type checker does not keep an earlier narrowing)."""
    return proto.state


def opened(exchange: str | None = None) -> ClientProtocol:
    proto = ClientProtocol("example.com", "/ws", key=KEY, exchange=exchange)
    request = proto.data_to_send()
    assert request.startswith(b"GET /ws HTTP/1.1\r\n") and KEY.encode() in request
    assert state(proto) is ProtocolState.CONNECTING
    assert proto.receive_data(OK) == []
    assert state(proto) is ProtocolState.OPEN
    assert proto.events == [Opened(None)]
    proto.events.clear()
    return proto


def test_handshake_in_pieces_then_messages_in_the_same_read() -> None:
    proto = ClientProtocol("example.com", "/", key=KEY)
    proto.data_to_send()
    assert proto.receive_data(OK[:10]) == []
    assert state(proto) is ProtocolState.CONNECTING
    items = proto.receive_data(OK[10:] + frame(b"hello") + frame(b"\x01\x02", 2))
    assert state(proto) is ProtocolState.OPEN
    assert items == [(1, b"hello"), (2, b"\x01\x02")]


def test_refused_upgrade_is_an_event_and_ends_the_transport() -> None:
    proto = ClientProtocol("example.com", "/", key=KEY)
    proto.data_to_send()
    assert proto.receive_data(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n") == []
    (event,) = proto.events
    assert isinstance(event, HandshakeFailed) and "example.com" in event.reason
    assert state(proto) is ProtocolState.CLOSED and proto.close_transport
    assert proto.receive_data(frame(b"late")) == []  # nothing after a refusal


def test_ping_is_answered_with_the_same_payload_and_not_delivered() -> None:
    proto = opened()
    items = proto.receive_data(frame(b"a") + frame(b"hb", 9) + frame(b"b"))
    assert items == [(1, b"a"), (1, b"b")]
    assert client_frames(proto.data_to_send()) == [(10, b"hb")]
    assert proto.receive_data(frame(b"p", 10)) == []
    assert proto.events == [PongReceived(b"p")]


@pytest.mark.parametrize(
    ("payload", "code", "echo"),
    [
        (struct.pack(">H", 1001) + b"going away", 1001, struct.pack(">H", 1001)),
        (b"", 1005, b""),  # no code: reported as 1005, echoed as an empty close
    ],
)
def test_close_is_echoed_and_mapped(payload: Any, code: Any, echo: Any) -> None:
    proto = opened()
    assert proto.receive_data(frame(payload, 8)) == []
    assert client_frames(proto.data_to_send()) == [(8, echo)]
    assert state(proto) is ProtocolState.CLOSING and proto.close_transport
    assert isinstance(proto.events[-1], CloseReceived) and proto.events[-1].code == code
    assert proto.receive_eof()[0] == code
    assert state(proto) is ProtocolState.CLOSED


def test_eof_without_close_frame_is_1006() -> None:
    proto = opened()
    assert proto.receive_eof() == (1006, "")
    assert state(proto) is ProtocolState.CLOSED


def test_our_close_then_the_echo_keeps_our_code() -> None:
    proto = opened()
    proto.send_close(1000, "bye")
    assert client_frames(proto.data_to_send()) == [(8, struct.pack(">H", 1000) + b"bye")]
    assert state(proto) is ProtocolState.CLOSING
    proto.send_text("dropped")  # nothing is sent once closing
    assert proto.data_to_send() == b""
    proto.receive_data(frame(struct.pack(">H", 1000), 8))
    assert proto.data_to_send() == b""  # no second close
    assert proto.receive_eof() == (1000, "bye")


def test_protocol_violation_closes_with_its_code_after_delivering_what_came_before() -> None:
    proto = opened()
    masked = bytes([0x81, 0x80 | 1]) + b"\x00\x00\x00\x00" + b"x"  # servers must not mask
    items = proto.receive_data(frame(b"ok") + masked)
    assert items == [(1, b"ok")]
    ((op, body),) = client_frames(proto.data_to_send())
    assert op == 8 and struct.unpack(">H", body[:2])[0] == 1002
    assert isinstance(proto.events[-1], Failed) and proto.events[-1].code == 1002
    assert proto.close_transport and proto.receive_eof()[0] == 1002


def test_sending_encodes_masked_frames() -> None:
    proto = opened()
    proto.send_text('{"method":"PING"}')
    proto.send_binary(b"\x00")
    proto.send_ping(b"x")
    assert client_frames(proto.data_to_send()) == [
        (1, b'{"method":"PING"}'),
        (2, b"\x00"),
        (9, b"x"),
    ]


def test_fused_decoder_types_events_applies_books_and_keeps_controls_out() -> None:
    trade = (
        b'{"time":1,"time_ms":1,"channel":"spot.trades","event":"update","result":'
        b'{"id":1,"create_time":1,"create_time_ms":"1.0","side":"buy",'
        b'"currency_pair":"BTC_USDT","amount":"1","price":"100"}}'
    )
    depth = (
        b'{"time":1,"time_ms":1,"channel":"spot.order_book_update","event":"update","result":'
        b'{"t":1,"e":"depthUpdate","E":1,"s":"BTC_USDT","U":11,"u":11,'
        b'"b":[["99.5","4"]],"a":[]}}'
    )
    proto = ClientProtocol("example.com", "/", key=KEY, exchange="gateio")
    book = OrderBook("gate", symbol="BTC_USDT")
    book.load_snapshot([("99", "1")], [("101", "1")], 10)
    proto.register_book("BTC_USDT", book)  # before the decoder exists: kept for it
    proto.data_to_send()
    items = proto.receive_data(OK + frame(b"hb", 9) + frame(trade) + frame(depth))
    assert [type(i).__name__ for i in items] == ["GateTrade", "BookUpdate"]
    assert isinstance(items[1], BookUpdate) and items[1].status is BookStatus.APPLIED
    assert book.size_at("bid", "99.5") == 4
    assert client_frames(proto.data_to_send()) == [(10, b"hb")]
    assert proto.unregister_book("BTC_USDT") and not proto.unregister_book("BTC_USDT")


def test_unknown_exchange_is_refused_up_front() -> None:
    from hftws import HftwsError, UnknownExchange

    with pytest.raises(UnknownExchange) as info:
        ClientProtocol("h", exchange="kraken")
    assert isinstance(info.value, HftwsError) and isinstance(info.value, ValueError)
    with pytest.raises(ValueError, match="exchange="):
        ClientProtocol("h").register_book("X", OrderBook("gate"))


def test_protocol_state_table_rejects_illegal_moves() -> None:
    machine = StateMachine(ProtocolState.CONNECTING, PROTOCOL_TRANSITIONS)
    with pytest.raises(IllegalTransition, match="connecting -> closing"):
        machine.move(ProtocolState.CLOSING)
    machine.move(ProtocolState.OPEN)
    machine.move(ProtocolState.CLOSED)
    for target in ProtocolState:
        if target is not ProtocolState.CLOSED:
            with pytest.raises(IllegalTransition):
                machine.move(target)


def test_replay_without_a_socket_matches_the_plain_decoder() -> None:
    # A recording replayed through the protocol gives what the bare codec gives.
    wire = b"".join(frame(f"m{i}".encode()) for i in range(50))
    proto = opened()
    got = []
    for i in range(0, len(wire), 7):
        got.extend(proto.receive_data(wire[i : i + 7]))
    assert got == WebSocketDecoder().feed(wire)
