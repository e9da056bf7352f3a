"""The codec against a real ``websockets`` server on 127.0.0.1, over a bare asyncio transport.

The client is a small ``asyncio.Protocol``: it writes our handshake request, validates the
answer with ``validate_handshake_response`` and feeds every ``data_received`` chunk into
``WebSocketDecoder``; it answers pings and close frames with ``WebSocketEncoder``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.http11 import Response

from hftws import HandshakeError, ProtocolError
from hftws.ws import (
    DeflateOffer,
    DeflateParams,
    Opcode,
    WebSocketDecoder,
    WebSocketEncoder,
    build_handshake_request,
    validate_handshake_response,
)

pytestmark = pytest.mark.timeout(30)
TIMEOUT = 10


class CodecClient(asyncio.Protocol):
    """Minimal WebSocket client driving the sans-I/O codec."""

    def __init__(self, host: str, offer: bool | DeflateOffer) -> None:
        loop = asyncio.get_running_loop()
        self.offer = offer
        self.request, self.key = build_handshake_request(
            host, "/echo", deflate=offer, headers={"User-Agent": "hftws-test/1"}
        )
        self.head = b""
        self.decoder: WebSocketDecoder | None = None
        self.encoder: WebSocketEncoder | None = None
        self.opened: asyncio.Future[DeflateParams | None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.messages: asyncio.Queue[tuple[int | Opcode, bytes]] = asyncio.Queue()
        self.reads = 0
        self.bytes_received = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.reads += 1
        if self.decoder is None:
            self.head += data
            try:
                result = validate_handshake_response(self.head, self.key, self.offer)
            except HandshakeError as e:
                self.opened.set_exception(e)
                self.transport.close()
                return
            if result is None:
                return
            consumed, params = result
            self.decoder = WebSocketDecoder(deflate=params)
            self.encoder = WebSocketEncoder(deflate=params)
            data = self.head[consumed:]
            self.opened.set_result(params)
        assert self.encoder is not None
        self.bytes_received += len(data)
        try:
            messages = self.decoder.feed(data)
        except ProtocolError as e:
            self.transport.write(self.encoder.encode_close(e.close_code))
            self.transport.close()
            return
        for opcode, payload in messages:
            if opcode == Opcode.PING:
                self.transport.write(self.encoder.encode_pong(payload))
            elif opcode == Opcode.CLOSE:
                # Echo the code (RFC 6455 §5.5.1); the server then closes the TCP connection.
                code = self.decoder.close_code
                self.transport.write(self.encoder.encode_close(code))
            self.messages.put_nowait((opcode, payload))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed before the handshake"))
        if not self.lost.done():
            self.lost.set_result(None)

    def send(self, opcode: int | Opcode, payload: bytes | str) -> None:
        assert self.transport is not None and self.encoder is not None
        if opcode == Opcode.TEXT:
            frame = self.encoder.encode_text(payload)
        else:
            frame = self.encoder.encode_binary(payload)
        self.transport.write(frame)

    async def receive(self) -> tuple[int | Opcode, bytes]:
        return await asyncio.wait_for(self.messages.get(), TIMEOUT)

    async def close(self, code: int = 1000) -> None:
        assert self.transport is not None and self.encoder is not None
        if not self.transport.is_closing():
            self.transport.write(self.encoder.encode_close(code, "bye"))
        await asyncio.wait_for(self.lost, TIMEOUT)


async def echo(ws: ServerConnection) -> None:
    """Echoes messages; a few commands exercise server-initiated frames."""
    async for message in ws:
        if message == "fragments":
            await ws.send(["frag", "ment", "ed €"])
        elif message == "ping":
            pong_waiter = await ws.ping(b"are you there")
            latency = await asyncio.wait_for(pong_waiter, TIMEOUT)
            await ws.send(f"pong after {latency >= 0}")
        elif message == "close":
            await ws.close(4000, "server says bye")
        else:
            await ws.send(message)


@asynccontextmanager
async def server(**kwargs: object) -> AsyncIterator[int]:
    async with serve(echo, "127.0.0.1", 0, ping_interval=None, **kwargs) as srv:  # type: ignore[arg-type]
        port = next(iter(srv.sockets)).getsockname()[1]
        yield port


@asynccontextmanager
async def client(port: int, offer: bool | DeflateOffer = False) -> AsyncIterator[CodecClient]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_connection(
        lambda: CodecClient(f"127.0.0.1:{port}", offer), "127.0.0.1", port
    )
    try:
        yield proto
    finally:
        transport.close()
        await asyncio.wait_for(proto.lost, TIMEOUT)


PAYLOADS: list[tuple[int | Opcode, bytes | str]] = [
    (Opcode.TEXT, ""),
    (Opcode.TEXT, "hello €"),
    (Opcode.BINARY, bytes(range(256)) * 4),
    (Opcode.TEXT, "x" * 125),
    (Opcode.BINARY, b"\x00" * 126),
    (Opcode.TEXT, '{"a":[1,2,3]}' * 5000),
    (Opcode.BINARY, bytes(range(256)) * 4000),
]


async def exchange(c: CodecClient) -> None:
    for opcode, payload in PAYLOADS:
        c.send(opcode, payload)
        raw = payload.encode() if isinstance(payload, str) else payload
        assert await c.receive() == (opcode, raw)
    c.send(Opcode.TEXT, "fragments")
    assert await c.receive() == (Opcode.TEXT, "fragmented €".encode())
    c.send(Opcode.TEXT, "ping")
    assert await c.receive() == (Opcode.PING, b"are you there")
    assert await c.receive() == (Opcode.TEXT, b"pong after True")


@pytest.mark.parametrize(
    ("compression", "offer"), [(None, False), (None, True), ("deflate", False)]
)
async def test_uncompressed(compression: str | None, offer: bool) -> None:
    async with server(compression=compression) as port, client(port, offer) as c:
        assert await asyncio.wait_for(c.opened, TIMEOUT) is None
        await exchange(c)
        await c.close()
        assert await c.receive() == (Opcode.CLOSE, b"\x03\xe8bye")


async def test_websockets_default_deflate() -> None:
    async with server(compression="deflate") as port, client(port, True) as c:
        params = await asyncio.wait_for(c.opened, TIMEOUT)
        # websockets' server picks 12-bit windows both ways when the client allows it.
        assert params == DeflateParams(server_max_window_bits=12, client_max_window_bits=12)
        await exchange(c)
        # Compression really happened: the 65 KB JSON echo came back far smaller.
        assert c.bytes_received < 200_000
        await c.close()


async def test_gate_style_no_context_takeover_both_ways() -> None:
    factory = ServerPerMessageDeflateFactory(
        server_no_context_takeover=True, client_no_context_takeover=True
    )
    offer = DeflateOffer(client_max_window_bits=False)
    async with server(extensions=[factory], compression=None) as port, client(port, offer) as c:
        params = await asyncio.wait_for(c.opened, TIMEOUT)
        assert params is not None
        assert params.server_no_context_takeover and params.client_no_context_takeover
        await exchange(c)
        await c.close()


async def test_server_initiated_close() -> None:
    async with server(compression=None) as port, client(port) as c:
        await asyncio.wait_for(c.opened, TIMEOUT)
        c.send(Opcode.TEXT, "close")
        opcode, payload = await c.receive()
        assert opcode == Opcode.CLOSE and payload == b"\x0f\xa0server says bye"
        await asyncio.wait_for(c.lost, TIMEOUT)
        assert c.decoder is not None
        assert (c.decoder.close_code, c.decoder.close_reason) == (4000, "server says bye")


async def test_refused_upgrade_raises_handshake_error() -> None:
    def refuse(conn: ServerConnection, request: object) -> Response:
        return conn.respond(403, "no\n")

    async with server(process_request=refuse) as port, client(port) as c:
        with pytest.raises(HandshakeError, match="403"):
            await asyncio.wait_for(c.opened, TIMEOUT)
