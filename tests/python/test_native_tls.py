"""wss:// in the native I/O mode: the worker's TLS (rustls) against a local TLS front.

The local exchange servers speak ws://; ``TlsFront`` terminates TLS on 127.0.0.1 with a
throwaway CA and certificate (made here with ``cryptography``) and pipes the bytes to one,
so the books, acks and faults are the servers' own.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from client_helpers import wait_for
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hftws import HftwsError, NativeFeed
from hftws.books import LocalBook, OrderBookManager
from hftws.errors import SubscriptionError
from hftws.native import NativeConnection
from hftws.testing.gate_server import GateSpotServer

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 2.0}
LEVELS = 20


@dataclass(frozen=True)
class Pki:
    """A CA bundle and two server contexts signed by it: one valid for 127.0.0.1, one for
    another name only."""

    ca_file: Path
    #: (certificate, key) files.
    good: tuple[Path, Path]
    wrong_name: tuple[Path, Path]


def _cert(
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    sans: list[x509.GeneralName],
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hftws test server")]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )


def _write(
    tmp: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    cert_file, key_file = tmp / f"{name}.pem", tmp / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    tmp = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hftws throwaway CA")])
    now = datetime.datetime.now(datetime.UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = tmp / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    good_key = ec.generate_private_key(ec.SECP256R1())
    local = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    good = _cert(good_key, ca_name, ca_key, local)
    wrong_key = ec.generate_private_key(ec.SECP256R1())
    wrong = _cert(wrong_key, ca_name, ca_key, [x509.DNSName("api.example.com")])
    return Pki(
        ca_file=ca_file,
        good=_write(tmp, "good", good, good_key),
        wrong_name=_write(tmp, "wrong", wrong, wrong_key),
    )


class TlsFront:
    """TLS on 127.0.0.1 in front of a ws:// server: each accepted session is piped to a new
    plain connection to the backend."""

    def __init__(self, backend_url: str, cert: tuple[Path, Path]) -> None:
        parts = urlsplit(backend_url)
        self._backend = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._path = parts.path or "/"
        self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ctx.load_cert_chain(*cert)
        # Called for every ClientHello (with None when the client sends no SNI, as for an
        # IP address): counts the attempts, including those the client then refuses.
        self._ctx.sni_callback = self._hello
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        #: TLS handshakes started (connect attempts).
        self.hellos = 0
        #: TLS sessions established (the handshake succeeded).
        self.sessions = 0
        self.url = ""

    async def __aenter__(self) -> TlsFront:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", 0, ssl=self._ctx, ssl_handshake_timeout=5.0
        )
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"wss://127.0.0.1:{port}{self._path}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        self.drop()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        if self._server is not None:
            await asyncio.wait_for(self._server.wait_closed(), 5)

    def _hello(self, _sock: Any, _name: str | None, _ctx: ssl.SSLContext) -> None:
        self.hellos += 1

    def drop(self) -> None:
        """Cut every session at once (TCP reset, no close_notify, no close frame)."""
        for w in list(self._writers):
            w.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sessions += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            b_reader, b_writer = await asyncio.wait_for(asyncio.open_connection(*self._backend), 5)
        except (OSError, TimeoutError):
            writer.transport.abort()
            self._writers.discard(writer)
            self._tasks.discard(task)
            return
        self._writers.add(b_writer)
        try:
            await asyncio.gather(_pipe(reader, b_writer), _pipe(b_reader, writer))
        finally:
            for w in (writer, b_writer):
                self._writers.discard(w)
                w.transport.abort()
            self._tasks.discard(task)


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, ssl.SSLError):
        while data := await src.read(1 << 16):
            dst.write(data)
            await dst.drain()
    dst.transport.abort()


def exact(levels: Any) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(str(p)), Decimal(str(s))) for p, s in levels]


async def assert_matches_truth(book: LocalBook, server: GateSpotServer) -> None:
    """Freeze the market, let the worker catch up, compare the published levels exactly."""
    server.pause()
    last = server.market.last_id(book.symbol)
    await wait_for(lambda: book.sequence == last and book.in_sync, timeout=5)
    truth = server.market.snapshot_at(book.symbol, book.sequence, 100_000)
    bids, asks = book.depth()
    assert exact(bids) == exact(truth.bids[:LEVELS])
    assert exact(asks) == exact(truth.asks[:LEVELS])
    server.resume()


def manager(front: TlsFront, server: GateSpotServer, **options: Any) -> OrderBookManager:
    return OrderBookManager(
        io="native",
        urls={"gateio": front.url},
        rest_urls={"gateio": server.rest_url},
        **(FAST | options),
    )


async def test_gate_book_over_wss_syncs_and_equals_the_truth(pki: Pki) -> None:
    async with GateSpotServer(rate=500) as server, TlsFront(server.url, pki.good) as front:
        async with manager(front, server, native_ca_file=pki.ca_file) as books:
            book = await books.watch("gateio", "BTC_USDT", timeout=10)
            assert book.in_sync and front.sessions == 1
            await wait_for(lambda: book.updates >= 200, timeout=10)
            await assert_matches_truth(book, server)
            conn = books.native["gateio"]
            assert conn.feed.connected and conn.feed.last_error is None
            assert conn.stats()["disconnects"] == 0


async def test_server_drop_over_tls_goes_out_of_sync_reconnects_and_resyncs(pki: Pki) -> None:
    async with GateSpotServer(rate=300) as server, TlsFront(server.url, pki.good) as front:
        async with manager(front, server, native_ca_file=str(pki.ca_file)) as books:
            book = await books.watch("gateio", "BTC_USDT", timeout=10)
            await wait_for(lambda: book.updates >= 50, timeout=10)
            front.drop()
            await wait_for(lambda: not book.in_sync, timeout=3)
            # Back in sync from a new snapshot, on a new TLS session.
            await wait_for(lambda: book.in_sync and book.resyncs >= 2, timeout=10)
            assert front.sessions >= 2
            await wait_for(lambda: book.updates >= 100, timeout=10)
            await assert_matches_truth(book, server)
            # Once more with a clean WebSocket close carried over the TLS session.
            server.faults.close_with(1006)
            await wait_for(lambda: not book.in_sync, timeout=3)
            await wait_for(lambda: book.in_sync and book.resyncs >= 3, timeout=10)
            assert front.sessions >= 3


@pytest.mark.parametrize(
    ("which", "trusted", "reason"),
    [
        ("good", False, "unknown issuer"),
        ("wrong_name", True, "hostname mismatch"),
    ],
)
async def test_untrusted_certificates_are_refused_with_the_reason(
    pki: Pki, which: str, trusted: bool, reason: str
) -> None:
    ctx = pki.good if which == "good" else pki.wrong_name
    async with GateSpotServer(rate=100) as server, TlsFront(server.url, ctx) as front:
        feed = NativeFeed(
            "gateio",
            front.url,
            connect_timeout=3.0,
            reconnect_initial=0.05,
            reconnect_max=0.1,
            ca_file=pki.ca_file if trusted else None,
        )
        try:
            native = feed.add_book("BTC_USDT", "gate")
            await wait_for(lambda: feed.last_error is not None, timeout=5)
            error = feed.last_error or ""
            assert reason in error and "TLS" in error, error
            # A failed connect follows the reconnect backoff: the worker tries again.
            await wait_for(lambda: front.hellos >= 3, timeout=5)
            assert front.sessions == 0 and feed.stats()["connects"] == 0
            assert not feed.connected and feed.dead is None and not native.in_sync
        finally:
            assert feed.close(2.0)


async def test_an_untrusted_server_never_syncs_a_manager_book(pki: Pki) -> None:
    async with GateSpotServer(rate=100) as server, TlsFront(server.url, pki.good) as front:
        async with manager(front, server) as books:
            # The subscription is never answered (ACK_TIMEOUT, 5 s): the error says why.
            with pytest.raises(SubscriptionError, match="unknown issuer"):
                await books.watch("gateio", "BTC_USDT", timeout=10)
            assert ("gateio", "BTC_USDT") not in books.books
            conn = books.native["gateio"]
            assert "unknown issuer" in (conn.feed.last_error or "")
            assert not conn.feed.connected and conn.dead is None


async def test_an_ssl_context_is_refused_with_a_pointer_to_ca_file() -> None:
    with pytest.raises(HftwsError, match="ca_file"):
        NativeConnection("gateio", ssl_context=ssl.create_default_context())


def test_bad_ca_file_is_refused_at_once(tmp_path: Path) -> None:
    with pytest.raises(HftwsError, match="ca_file"):
        NativeFeed("gateio", "wss://127.0.0.1:1/", ca_file=tmp_path / "missing.pem")
    empty = tmp_path / "empty.pem"
    empty.write_text("no certificate here\n")
    with pytest.raises(HftwsError, match="no usable CA"):
        NativeFeed("gateio", "wss://127.0.0.1:1/", ca_file=empty)


async def test_a_silent_tls_server_times_out_the_connect_and_a_stop_does_not_wait() -> None:
    # Accepts TCP and never answers the ClientHello.
    held: list[asyncio.StreamWriter] = []

    async def hold(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        held.append(w)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    feed = NativeFeed("gateio", f"wss://127.0.0.1:{port}/", connect_timeout=0.5)
    try:
        await wait_for(lambda: feed.last_error is not None, timeout=3)
        assert "TLS handshake timed out" in (feed.last_error or ""), feed.last_error
        assert not feed.connected and feed.dead is None
        # The next attempt (backoff 0.25-0.5 s) is stuck in its handshake again: a stop
        # does not wait out connect_timeout.
        await wait_for(lambda: len(held) >= 2, timeout=3)
        t0 = time.monotonic()
        assert feed.close(2.0)
        assert time.monotonic() - t0 < 0.4
    finally:
        for w in held:
            w.close()
        server.close()
        await server.wait_closed()
