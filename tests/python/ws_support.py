"""Helpers shared by the WebSocket codec tests: the ``websockets`` package as the reference.

Server frames are produced by ``websockets.frames.Frame.serialize`` (with its own
``PerMessageDeflate`` when compression is on); client frames we encode are parsed by a
``websockets.protocol.Protocol`` playing the server. Neither side shares code with hftws.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import Protocol, Side, State

DATA = (Opcode.TEXT, Opcode.BINARY)
CONTROL = (Opcode.PING, Opcode.PONG)

Message = tuple[int, bytes]


def server_deflate(
    *,
    server_no_context_takeover: bool = False,
    client_no_context_takeover: bool = False,
    server_max_window_bits: int = 15,
    client_max_window_bits: int = 15,
) -> PerMessageDeflate:
    """``websockets``' compressor/decompressor as the server sees the agreement."""
    return PerMessageDeflate(
        remote_no_context_takeover=client_no_context_takeover,
        local_no_context_takeover=server_no_context_takeover,
        remote_max_window_bits=client_max_window_bits,
        local_max_window_bits=server_max_window_bits,
    )


def random_payload(rng: random.Random, opcode: int, size: int) -> bytes:
    """Text payloads are valid UTF-8 (with multi-byte characters) of exactly ``size`` bytes."""
    if opcode == Opcode.TEXT:
        alphabet = "abc{}:,0123456789é€"
        out = []
        n = 0
        while n < size:
            ch = rng.choice(alphabet)
            b = ch.encode()
            if n + len(b) > size:
                ch, b = "x", b"x"
            out.append(ch)
            n += len(b)
        return "".join(out).encode()
    return rng.randbytes(size)


def split_points(rng: random.Random, length: int, pieces: int) -> list[int]:
    """Sorted cut positions that split ``length`` bytes into ``pieces`` (possibly empty) parts."""
    return sorted(rng.randint(0, length) for _ in range(pieces - 1))


def server_stream(
    rng: random.Random,
    sizes: Sequence[int],
    *,
    deflate: PerMessageDeflate | None = None,
    close: tuple[int, str] | None = None,
) -> tuple[bytes, list[Message]]:
    """Frames from ``websockets``' serializer for random messages of the given sizes.

    Messages are randomly fragmented with pings/pongs interleaved between fragments. Returns
    the byte stream and the messages a correct client decodes from it, in order.
    """
    extensions = [deflate] if deflate else []
    stream = bytearray()
    expected: list[Message] = []
    for size in sizes:
        opcode = rng.choice(DATA)
        payload = random_payload(rng, opcode, size)
        pieces = rng.choice([1, 1, 2, 3, 7])
        cuts = [0, *split_points(rng, len(payload), pieces), len(payload)]
        for i in range(pieces):
            part = payload[cuts[i] : cuts[i + 1]]
            op = opcode if i == 0 else Opcode.CONT
            fin = i == pieces - 1
            stream += Frame(op, part, fin=fin).serialize(mask=False, extensions=extensions)
            if not fin and rng.random() < 0.5:
                ctl = rng.choice(CONTROL)
                body = rng.randbytes(rng.randint(0, 125))
                stream += Frame(ctl, body).serialize(mask=False, extensions=extensions)
                expected.append((int(ctl), body))
        expected.append((int(opcode), payload))
    if close is not None:
        body = Close(*close).serialize()
        stream += Frame(Opcode.CLOSE, body).serialize(mask=False)
        expected.append((int(Opcode.CLOSE), body))
    return bytes(stream), expected


def chunks(rng: random.Random, data: bytes, max_chunk: int) -> Iterator[bytes]:
    """``data`` cut at random points into chunks of 1..max_chunk bytes."""
    i = 0
    while i < len(data):
        n = rng.randint(1, max_chunk)
        yield data[i : i + n]
        i += n


def reference_client_messages(
    data: bytes, deflate: PerMessageDeflate | None = None
) -> list[Message]:
    """What ``websockets``' own client-side parser makes of ``data``, fragments joined."""
    proto = Protocol(Side.CLIENT, state=State.OPEN, max_size=None)
    if deflate is not None:
        proto.extensions = [deflate]
    proto.receive_data(data)
    assert proto.parser_exc is None, proto.parser_exc
    return join_frames(proto.events_received())


def join_frames(frames: Sequence[object]) -> list[Message]:
    """Reassembles ``websockets`` frame events into messages."""
    out: list[Message] = []
    opcode: int | None = None
    parts: list[bytes] = []
    for frame in frames:
        assert isinstance(frame, Frame)
        if frame.opcode in (Opcode.PING, Opcode.PONG, Opcode.CLOSE):
            out.append((int(frame.opcode), bytes(frame.data)))
            continue
        if frame.opcode != Opcode.CONT:
            opcode = int(frame.opcode)
        parts.append(bytes(frame.data))
        if frame.fin:
            assert opcode is not None
            out.append((opcode, b"".join(parts)))
            parts = []
    return out


def reference_server_parse(data: bytes, deflate: PerMessageDeflate | None = None) -> list[Message]:
    """``websockets`` playing the server parses client frames (which must be masked)."""
    proto = Protocol(Side.SERVER, state=State.OPEN, max_size=None)
    if deflate is not None:
        proto.extensions = [deflate]
    proto.receive_data(data)
    assert proto.parser_exc is None, proto.parser_exc
    return join_frames(proto.events_received())
