"""The gateway: books kept once by :class:`~hftws.books.OrderBookManager`, published on NATS.

For every configured ``(exchange, symbol)`` the gateway keeps the book with its Rust change
journal on and, on every applied push while the book is in sync, publishes one message
(``BusEncoder.update``: the journal serialized in Rust) on ``hftws.<exchange>.<symbol>.book``.
When the Rust book leaves sync (its status, told by the decoder through
``register_book(notify=)`` and shown by ``LocalBook.on_state_change``) the gateway publishes
an ``out_of_sync`` marker; when it comes back, a snapshot flagged back-in-sync. Nothing here
decides sync: Python only relays what the Rust book says.

Late joiners: a JetStream stream per exchange keeps the book messages (bounded by age and
count) and the key-value bucket keeps each book's latest full snapshot, refreshed every
``snapshot_every`` messages and every ``snapshot_interval`` seconds. A heartbeat goes out on
``hftws.<exchange>.heartbeat`` every ``heartbeat_interval`` seconds.

Messages leave in one ordered queue drained by one task, so a stored snapshot at sequence S is
written only after message S was handed to NATS, and a reader that loads it finds S + 1 in
the stream.

High availability (``lease=True``): gateways with the same books race for a lease per
exchange in the bucket (a key with a TTL, renewed by the holder); only the holder publishes.
A standby keeps its books live and, when it takes the lease, publishes a back-in-sync snapshot
of every book first. Gateway sequences start at the wall clock in microseconds (and above
the stored snapshot's), so a new gateway's messages always follow an old one's.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext, api
from nats.js.errors import (
    APIError,
    BadRequestError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    ServiceUnavailableError,
)
from nats.js.kv import KeyValue

from hftws._core import BusEncoder, OrderBook, bus_decode, bus_heartbeat
from hftws.books import LocalBook, Mode, OrderBookManager
from hftws.bus.streams import encode_ticker, encode_trade, items_of
from hftws.bus.subjects import (
    book_subject,
    heartbeat_subject,
    kv_bucket,
    kv_key,
    lease_key,
    stream_name,
    ticker_subject,
    trades_subject,
)
from hftws.errors import HftwsError

log = logging.getLogger("hftws.bus.gateway")

#: The bucket of the gateways' leases (entries expire after the lease TTL).
LEASE_BUCKET = "hftws_leases"

__all__ = ["BookSpec", "Gateway", "parse_book_spec"]


@dataclass(frozen=True)
class BookSpec:
    """One book the gateway keeps: ``exchange:symbol`` plus ``OrderBookManager.watch``
    options (``depth``, ``mode``)."""

    exchange: str
    symbol: str
    depth: int | None = None
    mode: Mode = "classic"


def parse_book_spec(text: str) -> BookSpec:
    """``exchange:symbol`` or ``exchange:symbol:depth``."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"book {text!r}: expected exchange:symbol[:depth]")
    depth = int(parts[2]) if len(parts) == 3 else None
    return BookSpec(parts[0], parts[1], depth)


class _Publisher:
    """One book's encoder and the listeners that feed the outbound queue."""

    def __init__(self, gateway: Gateway, book: LocalBook, sequence: int) -> None:
        self.gateway = gateway
        self.book = book
        self.subject = book_subject(book.exchange, book.symbol)
        self.key = kv_key(book.exchange, book.symbol)
        self.encoder = BusEncoder(book.exchange, book.symbol, sequence)
        self.since_store = 0
        self.stored_at = 0.0
        self.published = 0
        self.published_at_store = 0
        if not isinstance(book.book, OrderBook):
            # io="native" books live on a worker thread and keep no change journal.
            raise HftwsError(
                f"{book.exchange} {book.symbol}: the bus gateway publishes books of an "
                "io='asyncio' OrderBookManager"
            )
        self.rust_book: OrderBook = book.book
        self.rust_book.set_journal(True)
        book.on_update(self._on_update)
        book.on_state_change(self._on_state)

    @property
    def active(self) -> bool:
        return self.gateway.active_for(self.book.exchange)

    def _on_update(self, book: LocalBook) -> None:
        msg = self.encoder.update(self.rust_book, time.time_ns())
        if msg is None:
            return
        if not self.active:
            return  # standby: the journal is emptied, nothing leaves
        self._send(msg)
        self.since_store += 1
        if self.since_store >= self.gateway.snapshot_every:
            self.store()

    def _on_state(self, book: LocalBook) -> None:
        if not self.active:
            return
        if book.in_sync:
            self.resync()
        else:
            marker = self.encoder.out_of_sync(time.time_ns(), book.sequence)
            self._send(marker)
            # The bucket says so too: a reader resyncing now waits for the next snapshot
            # instead of loading the last one and replaying up to the marker.
            self.since_store = 0
            self.stored_at = time.monotonic()
            self.gateway._enqueue_kv(self.key, marker)

    def resync(self, *, marker: bool = True) -> None:
        """Publish the whole book (flagged back-in-sync with ``marker``), and store it."""
        self._send(self.encoder.snapshot(self.rust_book, time.time_ns(), resync=marker))
        self.store()

    def store(self) -> None:
        """Queue the book as of the last message for the bucket (only while in sync)."""
        self.since_store = 0
        self.stored_at = time.monotonic()
        if self.book.in_sync and self.encoder.sequence:
            self.gateway._enqueue_kv(self.key, self.encoder.stored_snapshot(self.rust_book))

    def _send(self, msg: bytes) -> None:
        self.published += 1
        self.gateway._enqueue(self.subject, msg)


class Gateway:
    """Keeps books from the exchanges and publishes them on NATS JetStream."""

    def __init__(
        self,
        books: Iterable[BookSpec | str | tuple[str, str]],
        *,
        servers: str | list[str] = "nats://127.0.0.1:4222",
        gateway_id: str | None = None,
        manager: OrderBookManager | None = None,
        urls: dict[str, str] | None = None,
        rest_urls: dict[str, str] | None = None,
        retention_age: float = 60.0,
        retention_msgs: int = 1_000_000,
        snapshot_every: int = 1000,
        snapshot_interval: float = 1.0,
        heartbeat_interval: float = 0.25,
        replicas: int = 1,
        lease: bool = False,
        lease_ttl: float = 2.0,
        sync_timeout: float | None = 20.0,
        trades: bool = True,
        tickers: bool = True,
        **policy: Any,
    ) -> None:
        self.specs = [self._spec(b) for b in books]
        self.servers = [servers] if isinstance(servers, str) else list(servers)
        self.gateway_id = gateway_id or f"{socket.gethostname()}-{os.getpid()}"
        self._own_manager = manager is None
        self.manager = manager or OrderBookManager(urls=urls, rest_urls=rest_urls, **policy)
        self.retention_age = retention_age
        self.retention_msgs = retention_msgs
        self.snapshot_every = snapshot_every
        self.snapshot_interval = snapshot_interval
        self.heartbeat_interval = heartbeat_interval
        self.replicas = replicas
        self.lease = lease
        self.lease_ttl = lease_ttl
        self.sync_timeout = sync_timeout
        self.trades = trades
        self.tickers = tickers
        #: Gateway sequence of the last message per trades/ticker subject.
        self.stream_sequences: dict[str, int] = {}
        self.exchanges = sorted({s.exchange for s in self.specs})
        self.publishers: dict[tuple[str, str], _Publisher] = {}
        #: Exchanges whose lease this gateway holds (all of them without ``lease``).
        self.leader: set[str] = set()
        #: Counters: messages, kv writes, heartbeats, publish errors, lease takeovers.
        self.stats: dict[str, int] = {
            "messages": 0,
            "kv_writes": 0,
            "heartbeats": 0,
            "publish_errors": 0,
            "takeovers": 0,
            "trades": 0,
            "tickers": 0,
        }
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None
        self.kv: KeyValue | None = None
        self.lease_kv: KeyValue | None = None
        self._queue: deque[tuple[str, str, bytes]] = deque()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._lease_revision: dict[str, int] = {}

    @staticmethod
    def _spec(b: BookSpec | str | tuple[str, str]) -> BookSpec:
        if isinstance(b, BookSpec):
            return b
        if isinstance(b, str):
            return parse_book_spec(b)
        return BookSpec(b[0], b[1])

    def active_for(self, exchange: str) -> bool:
        return exchange in self.leader

    # -- life cycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Connect to NATS, create the streams and the bucket, start the books."""
        self.nc = await nats.connect(
            servers=self.servers,
            name=f"hftws-gateway-{self.gateway_id}",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.2,
            connect_timeout=5,
        )
        self.js = self.nc.jetstream()
        # A cluster that has just started may not have elected its JetStream leader yet.
        deadline = time.monotonic() + 30.0
        while True:
            try:
                for ex in self.exchanges:
                    await self._ensure_stream(ex)
                self.kv = await self._ensure_bucket(kv_bucket())
                if self.lease:
                    self.lease_kv = await self._ensure_bucket(LEASE_BUCKET, ttl=self.lease_ttl)
                break
            except (nats.errors.TimeoutError, ServiceUnavailableError, APIError) as exc:
                if time.monotonic() > deadline:
                    raise
                log.info("JetStream not ready (%r); retrying", exc)
                await asyncio.sleep(0.5)
        if not self.lease:
            self.leader = set(self.exchanges)
        else:
            for ex in self.exchanges:
                await self._try_lease(ex)
        self._tasks.append(asyncio.create_task(self._drain(), name="hftws-gateway-publish"))
        await self.manager.start()
        for spec in self.specs:
            start = await self._first_sequence(spec)
            book = await self.manager.watch(
                spec.exchange, spec.symbol, depth=spec.depth, mode=spec.mode, timeout=None
            )
            pub = _Publisher(self, book, start)
            self.publishers[(spec.exchange, spec.symbol)] = pub
            if book.in_sync and pub.active:
                pub.resync()
        await self._subscribe_streams()
        self._tasks.append(asyncio.create_task(self._beat(), name="hftws-gateway-heartbeat"))
        self._tasks.append(asyncio.create_task(self._refresh(), name="hftws-gateway-snapshots"))
        if self.lease:
            self._tasks.append(asyncio.create_task(self._hold_leases(), name="hftws-gateway-lease"))
        if self.sync_timeout is not None:
            for pub in self.publishers.values():
                await pub.book.wait_in_sync(self.sync_timeout)

    async def _subscribe_streams(self) -> None:
        """Trades and tickers of every configured symbol, on the connections that carry its
        book (one set of exchange connections per gateway)."""
        if not (self.trades or self.tickers):
            return
        for ex in self.exchanges:
            symbols = {s.symbol for s in self.specs if s.exchange == ex}
            ws = self.manager.managers[ex]
            if self.trades:
                ws.on_trade(functools.partial(self._on_trade, ex, symbols))
            if self.tickers:
                ws.on_ticker(functools.partial(self._on_ticker, ex, symbols))
            for sym in sorted(symbols):
                if self.trades:
                    await ws.subscribe_trades(sym)
                if self.tickers:
                    await ws.subscribe_ticker(sym)

    def _next_sequence(self, subject: str) -> int:
        """+1 per message on ``subject``; the first one (and the first after taking a lease)
        at the wall clock in microseconds, so a new gateway continues above an old one."""
        last = self.stream_sequences.get(subject)
        seq = time.time_ns() // 1000 if last is None else last + 1
        self.stream_sequences[subject] = seq
        return seq

    def _on_trade(self, exchange: str, symbols: set[str], event: Any) -> None:
        if not self.active_for(exchange):
            return
        recv = time.time_ns()
        for t in items_of(event, "price_str"):
            sym = t.symbol
            if sym not in symbols:
                continue
            subject = trades_subject(exchange, sym)
            seq = self._next_sequence(subject)
            self._enqueue(subject, encode_trade(exchange, sym, seq, recv, time.time_ns(), t))
            self.stats["trades"] += 1

    def _on_ticker(self, exchange: str, symbols: set[str], event: Any) -> None:
        if not self.active_for(exchange):
            return
        recv = time.time_ns()
        for t in items_of(event, "bid_price_str"):
            sym = t.symbol
            if sym not in symbols:
                continue
            subject = ticker_subject(exchange, sym)
            seq = self._next_sequence(subject)
            self._enqueue(subject, encode_ticker(exchange, sym, seq, recv, time.time_ns(), t))
            self.stats["tickers"] += 1

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._own_manager:
            await self.manager.close()
        if self.nc is not None:
            if self.lease and self.lease_kv is not None and self.nc.is_connected:
                for ex in list(self.leader):
                    await self._release(ex)
            with contextlib.suppress(Exception):
                await self._flush_queue()
            await self.nc.close()
            self.nc = None

    async def _ensure_stream(self, exchange: str) -> None:
        assert self.js is not None
        cfg = api.StreamConfig(
            name=stream_name(exchange),
            subjects=[f"hftws.{exchange}.*.book"],
            max_age=self.retention_age,
            max_msgs=self.retention_msgs,
            storage=api.StorageType.FILE,
            num_replicas=self.replicas,
            discard=api.DiscardPolicy.OLD,
        )
        try:
            await self.js.add_stream(cfg)
        except BadRequestError:
            # It exists with another configuration (another gateway's bounds): adopt ours.
            await self.js.update_stream(cfg)

    async def _ensure_bucket(self, name: str, ttl: float | None = None) -> KeyValue:
        assert self.js is not None
        try:
            return await self.js.create_key_value(
                bucket=name, history=1, replicas=self.replicas, ttl=ttl
            )
        except BadRequestError:
            return await self.js.key_value(name)

    async def _first_sequence(self, spec: BookSpec) -> int:
        """Microseconds since the epoch, and above the stored snapshot's sequence: a gateway
        that replaces another always continues above it."""
        start = time.time_ns() // 1000
        assert self.kv is not None
        try:
            entry = await self.kv.get(kv_key(spec.exchange, spec.symbol))
        except KeyNotFoundError:
            return start
        if entry.value:
            with contextlib.suppress(Exception):
                start = max(start, bus_decode(entry.value).sequence + 1)
        return start

    # -- the outbound queue ------------------------------------------------------------------

    def _enqueue(self, subject: str, data: bytes) -> None:
        self._queue.append(("pub", subject, data))
        self._wake.set()

    def _enqueue_kv(self, key: str, data: bytes) -> None:
        self._queue.append(("kv", key, data))
        self._wake.set()

    async def _flush_queue(self) -> None:
        nc, kv = self.nc, self.kv
        assert nc is not None and kv is not None
        q = self._queue
        while q:
            what, name, data = q.popleft()
            try:
                if what == "pub":
                    await nc.publish(name, data)
                    self.stats["messages"] += 1
                else:
                    await kv.put(name, data)
                    self.stats["kv_writes"] += 1
            except Exception as exc:
                # A lost message is a gap readers see (and resync from the bucket); the
                # gateway keeps going.
                self.stats["publish_errors"] += 1
                log.warning("publish to %s failed: %r", name, exc)

    async def _drain(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush_queue()

    # -- periodic work -----------------------------------------------------------------------

    async def _beat(self) -> None:
        count = 0
        while True:
            count += 1
            for ex in self.exchanges:
                if self.active_for(ex):
                    self._enqueue(heartbeat_subject(ex), bus_heartbeat(ex, self.gateway_id, count))
                    self.stats["heartbeats"] += 1
            await asyncio.sleep(self.heartbeat_interval)

    async def _refresh(self) -> None:
        """Store every book at least every ``snapshot_interval`` seconds."""
        while True:
            await asyncio.sleep(self.snapshot_interval / 4)
            now = time.monotonic()
            for pub in self.publishers.values():
                if pub.active and now - pub.stored_at >= self.snapshot_interval:
                    if pub.published == pub.published_at_store and pub.book.in_sync:
                        # A quiet book: no delta will come to bridge a reader's stored
                        # snapshot, so the stream gets the whole book (it confirms itself).
                        pub.resync(marker=False)
                    else:
                        pub.store()
                    pub.published_at_store = pub.published

    # -- high availability -------------------------------------------------------------------

    async def _try_lease(self, exchange: str) -> bool:
        """Take or renew the exchange's lease; True while this gateway holds it.

        The lease is a key in a bucket whose entries expire after ``lease_ttl`` (JetStream
        max age): ``create`` succeeds only when no live lease exists, ``update`` with the
        holder's last revision renews it. A holder that stops renewing loses it by expiry.
        """
        kv = self.lease_kv
        assert kv is not None
        key = lease_key(exchange)
        me = self.gateway_id.encode()
        rev = self._lease_revision.get(exchange)
        try:
            if exchange in self.leader and rev is not None:
                rev = await kv.update(key, me, last=rev)
            else:
                rev = await kv.create(key, me)
        except (KeyWrongLastSequenceError, BadRequestError):
            self._lose(exchange)  # another gateway holds it (or took it after expiry)
            return False
        self._lease_revision[exchange] = rev
        if exchange not in self.leader:
            mine = [p for (ex, _s), p in self.publishers.items() if ex == exchange]
            for pub in mine:
                # Continue above whatever the previous holder published, so that readers
                # never take this gateway's messages for history.
                await self._rebase(pub)
            for subject in [k for k in self.stream_sequences if k.startswith(f"hftws.{exchange}.")]:
                # Continue above the previous holder (its sequence began at its start time).
                self.stream_sequences[subject] = max(
                    self.stream_sequences[subject], time.time_ns() // 1000
                )
            self.leader.add(exchange)
            if mine:
                self.stats["takeovers"] += 1
                log.info("gateway %s takes the %s lease", self.gateway_id, exchange)
                for pub in mine:
                    if pub.book.in_sync:
                        pub.resync()
        return True

    async def _rebase(self, pub: _Publisher) -> None:
        """Restart ``pub``'s sequence above the stream's last message for its book and the
        wall clock in microseconds."""
        start = max(pub.encoder.sequence, time.time_ns() // 1000)
        assert self.js is not None
        with contextlib.suppress(Exception):
            last = await self.js.get_last_msg(stream_name(pub.book.exchange), pub.subject)
            if last.data:
                start = max(start, bus_decode(last.data).sequence)
        pub.encoder = BusEncoder(pub.book.exchange, pub.book.symbol, start)

    def _lose(self, exchange: str) -> None:
        self._lease_revision.pop(exchange, None)
        if exchange in self.leader:
            log.warning("gateway %s lost the %s lease", self.gateway_id, exchange)
            self.leader.discard(exchange)

    async def _release(self, exchange: str) -> None:
        assert self.lease_kv is not None
        with contextlib.suppress(Exception):
            await self.lease_kv.purge(lease_key(exchange))
        self.leader.discard(exchange)

    async def _hold_leases(self) -> None:
        while True:
            await asyncio.sleep(self.lease_ttl / 4)
            for ex in self.exchanges:
                try:
                    await self._try_lease(ex)
                except Exception as exc:
                    # NATS unreachable: whoever can renew keeps the lease; this one stops.
                    self._lose(ex)
                    log.warning("lease for %s: %r", ex, exc)
