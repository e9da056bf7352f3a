"""RFC 6455 client codec: cross-checked against ``websockets``' sans-I/O frames and parser.

Covers §5.2 framing (7/16/64-bit lengths), §5.4 fragmentation with interleaved control
frames, §5.5 control-frame rules, §8.1 UTF-8, message limits, the encoder (§5.3 masking) and
random input that must yield messages or ``ProtocolError``, never a crash.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Close, Frame, Opcode
from ws_support import (
    chunks,
    reference_client_messages,
    reference_server_parse,
    server_stream,
)

import hftws
import hftws.ws
from hftws import ProtocolError
from hftws.ws import Opcode as Op
from hftws.ws import WebSocketDecoder, WebSocketEncoder

SIZES = [0, 1, 125, 126, 127, 65535, 65536, 300_000]


def feed_all(dec: WebSocketDecoder, parts: Any) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    for part in parts:
        out.extend(dec.feed(part))
    return out


def frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0) -> bytes:
    """A hand-built unmasked server frame (for violations websockets refuses to serialize)."""
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n <= 0xFFFF:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


class TestDecodeMatchesWebsockets:
    """Streams serialized by ``websockets.frames.Frame`` decode to the same messages."""

    def test_every_length_class_in_one_chunk(self) -> None:
        rng = random.Random(7)
        data, expected = server_stream(rng, SIZES, close=(1000, "bye"))
        assert reference_client_messages(data) == expected
        dec = WebSocketDecoder()
        assert dec.feed(data) == expected
        assert (dec.close_code, dec.close_reason, dec.closed) == (1000, "bye", True)

    @pytest.mark.parametrize("seed", range(12))
    def test_random_fragmentation_and_chunking(self, seed: int) -> None:
        rng = random.Random(seed)
        sizes = [rng.choice([0, 5, 60, 125, 126, 400, 65535, 65536, 70_000]) for _ in range(25)]
        data, expected = server_stream(rng, sizes)
        assert reference_client_messages(data) == expected
        for max_chunk in (1, 7, 300, 70_000):
            if max_chunk == 1 and len(data) > 50_000:
                data_small, exp_small = server_stream(rng, [0, 3, 126, 200, 1000])
                got = feed_all(WebSocketDecoder(), chunks(rng, data_small, 1))
                assert got == exp_small
                continue
            dec = WebSocketDecoder()
            assert feed_all(dec, chunks(rng, data, max_chunk)) == expected
            assert dec.buffered == 0

    @given(
        sizes=st.lists(st.sampled_from([0, 1, 60, 125, 126, 400, 65536]), max_size=6),
        seed=st.integers(0, 2**32 - 1),
        max_chunk=st.integers(1, 5000),
    )
    def test_any_chunking_gives_the_same_messages(
        self, sizes: list[int], seed: int, max_chunk: int
    ) -> None:
        rng = random.Random(seed)
        data, expected = server_stream(rng, sizes)
        assert feed_all(WebSocketDecoder(), chunks(rng, data, max_chunk)) == expected

    def test_large_message(self) -> None:
        rng = random.Random(3)
        data, expected = server_stream(rng, [3_000_000])
        dec = WebSocketDecoder()
        assert feed_all(dec, chunks(rng, data, 65536)) == expected

    def test_accepts_bytes_like_chunks(self) -> None:
        raw = Frame(Opcode.BINARY, b"abc").serialize(mask=False)
        dec = WebSocketDecoder()
        assert dec.feed(bytearray(raw[:2])) == []
        assert dec.feed(memoryview(raw)[2:]) == [(2, b"abc")]
        assert dec.feed_count(bytearray(raw + raw)) == 2
        with pytest.raises(TypeError):
            dec.feed("text")  # type: ignore[arg-type]

    def test_opcode_values_match_rfc(self) -> None:
        assert [int(o) for o in (Op.CONTINUATION, Op.TEXT, Op.BINARY)] == [0, 1, 2]
        assert [int(o) for o in (Op.CLOSE, Op.PING, Op.PONG)] == [8, 9, 10]
        assert Op.TEXT == 1 and Op.PING == int(Opcode.PING)


class TestEncodeParsedByWebsockets:
    """Frames from ``WebSocketEncoder`` are parsed by ``websockets`` playing the server."""

    @pytest.mark.parametrize("size", SIZES)
    def test_data_frames_of_every_length_class(self, size: int) -> None:
        rng = random.Random(size)
        enc = WebSocketEncoder()
        binary = rng.randbytes(size)
        text = "é" * (size // 2) + "x" * (size % 2)
        stream = enc.encode_binary(binary) + enc.encode_text(text) + enc.encode_text(b"ok")
        assert reference_server_parse(stream) == [
            (2, binary),
            (1, text.encode()),
            (1, b"ok"),
        ]

    def test_control_frames(self) -> None:
        enc = WebSocketEncoder()
        stream = (
            enc.encode_ping(b"p" * 125)
            + enc.encode_pong()
            + enc.encode_pong(b"echo")
            + enc.encode_close(1001, "going away")
        )
        assert reference_server_parse(stream) == [
            (9, b"p" * 125),
            (10, b""),
            (10, b"echo"),
            (8, Close(1001, "going away").serialize()),
        ]
        assert reference_server_parse(WebSocketEncoder().encode_close(None)) == [(8, b"")]

    def test_frames_are_masked_with_fresh_keys(self) -> None:
        enc = WebSocketEncoder()
        frames = [enc.encode_binary(b"\x00" * 8) for _ in range(50)]
        assert all(f[1] & 0x80 for f in frames)
        # A zero payload XOR the key is the key itself: every key shows in the payload.
        keys = {f[2:6] for f in frames}
        assert len(keys) >= 49
        assert all(f[6:] == f[2:6] * 2 for f in frames)

    def test_rejects_what_rfc_forbids_sending(self) -> None:
        enc = WebSocketEncoder()
        with pytest.raises(ValueError):
            enc.encode_ping(b"x" * 126)
        with pytest.raises(ValueError):
            enc.encode_close(1005)
        with pytest.raises(ValueError):
            enc.encode_close(1000, "r" * 124)
        with pytest.raises(ValueError):
            enc.encode_close(None, "reason without code")
        with pytest.raises(ValueError):
            enc.encode_text(b"\xff")
        with pytest.raises(TypeError):
            enc.encode_binary(123)  # type: ignore[arg-type]

    def test_accepts_bytes_like_and_str(self) -> None:
        enc = WebSocketEncoder()
        stream = (
            enc.encode_binary(bytearray(b"ba"))
            + enc.encode_binary(memoryview(b"xmv")[1:])
            + enc.encode_text("é")
        )
        assert reference_server_parse(stream) == [(2, b"ba"), (2, b"mv"), (1, "é".encode())]
        with pytest.raises(TypeError):
            enc.encode_binary([1, 2])  # type: ignore[arg-type]


MASK = b"\x01\x02\x03\x04"
VIOLATIONS = [
    # (id, stream, kind, close code)
    ("masked_server_frame", b"\x82\x81" + MASK + b"x", "masked_frame", 1002),
    ("rsv1_without_extension", frame(2, b"x", rsv=4), "reserved_bits", 1002),
    ("rsv2", frame(2, b"x", rsv=2), "reserved_bits", 1002),
    ("rsv3", frame(1, b"x", rsv=1), "reserved_bits", 1002),
    ("reserved_data_opcode", frame(3, b""), "reserved_opcode", 1002),
    ("reserved_control_opcode", frame(0xB, b""), "reserved_opcode", 1002),
    ("ping_over_125", frame(9, b"x" * 126), "control_frame_too_long", 1002),
    ("close_over_125", frame(8, b"\x03\xe8" + b"x" * 124), "control_frame_too_long", 1002),
    ("fragmented_ping", frame(9, b"", fin=False), "fragmented_control_frame", 1002),
    ("continuation_first", frame(0, b"x"), "unexpected_continuation", 1002),
    (
        "data_inside_fragments",
        frame(1, b"a", fin=False) + frame(2, b"b"),
        "expected_continuation",
        1002,
    ),
    ("invalid_utf8", frame(1, b"\xc3\x28"), "invalid_utf8", 1007),
    ("overlong_utf8", frame(1, b"\xc0\xaf"), "invalid_utf8", 1007),
    ("surrogate_utf8", frame(1, b"\xed\xa0\x80"), "invalid_utf8", 1007),
    (
        "invalid_utf8_across_fragments",
        frame(1, b"ok", fin=False) + frame(0, b"\xe2\x82"),
        "invalid_utf8",
        1007,
    ),
    ("length_msb_set", b"\x82\x7f\x80" + b"\x00" * 7, "invalid_length", 1002),
    ("close_one_byte", frame(8, b"\x03"), "invalid_close_payload", 1002),
    ("close_code_1005", frame(8, b"\x03\xed"), "invalid_close_code", 1002),
    ("close_code_999", frame(8, b"\x03\xe7"), "invalid_close_code", 1002),
    ("close_reason_not_utf8", frame(8, b"\x03\xe8\xff"), "invalid_close_payload", 1007),
    ("message_too_big", frame(2, b"x" * 101), "message_too_big", 1009),
    (
        "fragments_too_big",
        frame(2, b"x" * 60, fin=False) + frame(0, b"x" * 60),
        "message_too_big",
        1009,
    ),
    ("header_announces_too_big", b"\x82\x7f" + struct.pack("!Q", 2**40), "message_too_big", 1009),
]


class TestProtocolViolations:
    """Each RFC 6455 rule: the violation raises ProtocolError with the right close code."""

    @pytest.mark.parametrize(
        ("stream", "kind", "code"),
        [v[1:] for v in VIOLATIONS],
        ids=[v[0] for v in VIOLATIONS],
    )
    def test_violation(self, stream: bytes, kind: str, code: int) -> None:
        dec = WebSocketDecoder(max_message_size=100)
        with pytest.raises(ProtocolError) as info:
            dec.feed(stream)
        assert (info.value.kind, info.value.close_code) == (kind, code)
        assert isinstance(info.value, hftws.HftwsError)
        # The decoder stays failed: the connection must be closed.
        with pytest.raises(ProtocolError):
            dec.feed(frame(2, b"ok"))

    @pytest.mark.parametrize(("stream", "kind", "code"), [v[1:] for v in VIOLATIONS])
    def test_violation_split_byte_by_byte(self, stream: bytes, kind: str, code: int) -> None:
        dec = WebSocketDecoder(max_message_size=100)
        with pytest.raises(ProtocolError) as info:
            for i in range(len(stream)):
                dec.feed(stream[i : i + 1])
        assert (info.value.kind, info.value.close_code) == (kind, code)

    def test_messages_before_the_error_are_attached(self) -> None:
        dec = WebSocketDecoder()
        with pytest.raises(ProtocolError) as info:
            dec.feed(frame(2, b"a") + frame(9, b"p") + frame(3, b""))
        assert info.value.messages == [(2, b"a"), (9, b"p")]
        with pytest.raises(ProtocolError) as again:
            dec.feed(b"")
        assert again.value.messages == [] and again.value.kind == "reserved_opcode"

    def test_control_frame_of_125_bytes_is_fine(self) -> None:
        dec = WebSocketDecoder()
        assert dec.feed(frame(9, b"x" * 125)) == [(9, b"x" * 125)]

    def test_limit_counts_the_whole_message(self) -> None:
        dec = WebSocketDecoder(max_message_size=100)
        assert dec.feed(frame(2, b"x" * 100)) == [(2, b"x" * 100)]
        with pytest.raises(ValueError):
            WebSocketDecoder(max_message_size=0)

    def test_bytes_after_close_are_ignored(self) -> None:
        dec = WebSocketDecoder()
        msgs = dec.feed(frame(8, b"") + frame(2, b"late") + frame(3, b""))
        assert msgs == [(8, b"")]
        assert dec.closed and dec.close_code is None and dec.close_reason == ""
        assert dec.feed(frame(2, b"later")) == []

    def test_default_limit_is_4_mib(self) -> None:
        assert WebSocketDecoder().max_message_size == 4 * 1024 * 1024


class TestRandomInput:
    """Arbitrary bytes never crash the interpreter: messages or ProtocolError."""

    @given(data=st.binary(max_size=3000), cuts=st.lists(st.integers(1, 300), max_size=20))
    def test_random_bytes(self, data: bytes, cuts: list[int]) -> None:
        for deflate in (None, hftws.ws.DeflateParams()):
            dec = WebSocketDecoder(max_message_size=1 << 16, deflate=deflate)
            pos = 0
            try:
                for n in [*cuts, len(data)]:
                    for opcode, payload in dec.feed(data[pos : pos + n]):
                        assert opcode in (1, 2, 8, 9, 10)
                        if opcode == 1:
                            payload.decode()
                    pos += n
            except ProtocolError as e:
                assert e.close_code in (1002, 1007, 1009)

    @given(
        seed=st.integers(0, 2**32 - 1),
        flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
    )
    def test_mutated_valid_streams(self, seed: int, flips: list[tuple[int, int]]) -> None:
        rng = random.Random(seed)
        data, _ = server_stream(rng, [rng.choice([0, 10, 126, 500]) for _ in range(6)])
        buf = bytearray(data)
        for pos, byte in flips:
            if buf:
                buf[pos % len(buf)] = byte
        dec = WebSocketDecoder(max_message_size=1 << 16)
        try:
            feed_all(dec, chunks(rng, bytes(buf), 64))
        except ProtocolError as e:
            assert e.close_code in (1002, 1007, 1009)


def test_websockets_frame_round_trip_through_both_parsers() -> None:
    """Sanity check of the reference itself: a websockets frame parses identically."""
    raw = Frame(Opcode.BINARY, b"abc").serialize(mask=False)
    assert WebSocketDecoder().feed(raw) == reference_client_messages(raw) == [(2, b"abc")]
