"""Remote books: a gateway's books read from NATS, with the never-lie rule across the hop.

``RemoteBookManager(source="nats://host:port").watch(exchange, symbol)`` returns a
:class:`RemoteBook` with the :class:`~hftws.books.LocalBook` reader API. Its Rust book's change
id is the gateway sequence; every message is applied in Rust (``bus_apply``), which alone
decides sync:

- a resync loads the bucket's snapshot (sequence S; seeded, not yet in sync), then reads the
  stream from shortly before that snapshot was taken: messages up to S are replayed history
  (skipped), S + 1 bridges the snapshot into sync;
- a gap in the gateway sequence, an ``out_of_sync`` marker, or a malformed message takes the
  book out of sync at once (in Rust); so do a heartbeat missing for longer than
  ``heartbeat_timeout`` and a lost NATS connection (the book is told it is unlinked);
- an in-sync book that receives nothing for ``stall_timeout`` while its gateway is heard is
  unlinked too (gateways send every book at least a snapshot per interval, so silence means
  the stream path is broken, e.g. a stream leader lost with a NATS node);
- out of sync, the book resyncs from the bucket, or from the next back-in-sync snapshot on the
  stream, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections.abc import Callable
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext, api
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from hftws._core import (
    BookStatus,
    BusDecodeError,
    OrderBook,
    bus_apply,
    bus_decode,
    bus_load_snapshot,
)
from hftws.book_view import BookView
from hftws.bus.streams import KIND_TICKER, KIND_TRADE, StreamCallback, StreamReader
from hftws.bus.subjects import (
    book_subject,
    heartbeat_subject,
    kv_bucket,
    kv_key,
    stream_name,
    ticker_subject,
    trades_subject,
)
from hftws.errors import HftwsTimeoutError

log = logging.getLogger("hftws.bus.remote")

__all__ = ["RemoteBook", "RemoteBookManager"]

RemoteListener = Callable[["RemoteBook"], Any]


class RemoteBook(BookView):
    """One book read from the bus; the Rust book alone decides ``in_sync``."""

    book: OrderBook

    def __init__(self, manager: RemoteBookManager, exchange: str, symbol: str) -> None:
        self.exchange = exchange
        self.symbol = symbol
        self.subject = book_subject(exchange, symbol)
        self.key = kv_key(exchange, symbol)
        # One id per message: the gateway sequence (see docs/bus.md).
        self.book = OrderBook("kucoin_futures", symbol=symbol)
        self.book.set_linked(False)
        self._manager = manager
        #: The exchange change id of the gateway's book at the last message applied.
        self.exchange_sequence = 0
        self._init_view()
        self.gaps = 0
        self.malformed = 0
        self.gateway_out_of_sync = 0
        self.heartbeat_losses = 0
        self.last_update_ns = 0
        #: When the last message arrived on the book's subscription (monotonic seconds).
        self.last_msg_at = time.monotonic()
        self.stalls = 0
        #: Gateway receive and publish times of the last message applied (ns, wall clock).
        self.last_recv_ns = 0
        self.last_publish_ns = 0
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._sub: Subscription | None = None
        self._generation = 0
        #: Stream sequences of malformed messages already counted (see ``_poisoned``).
        self._poison: dict[int, float] = {}

    # -- readers: LocalBook's API (hftws.book_view); ``sequence`` is the gateway sequence -----

    def on_update(self, callback: RemoteListener, top_only: bool = False) -> RemoteListener:
        """Call ``callback(book)`` after every applied message while in sync."""
        self._listeners.append((callback, top_only))
        return callback

    async def wait_in_sync(self, timeout: float | None = None) -> None:
        try:
            async with asyncio.timeout(timeout):
                while not self.in_sync:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            why = f"; last failure: {self.last_error}" if self.last_error else ""
            raise HftwsTimeoutError(
                f"bus {self.exchange} {self.symbol}: not in sync within {timeout:g}s "
                f"(state {self.state}{why})"
            ) from None

    def __repr__(self) -> str:
        return f"RemoteBook({self.exchange}:{self.symbol}, {self.state}, seq={self.sequence})"

    # -- inputs ------------------------------------------------------------------------------

    async def _on_msg(self, msg: Msg, generation: int) -> None:
        if generation != self._generation:
            return  # a subscription being replaced
        self.last_msg_at = time.monotonic()
        if self._poison and self._poisoned(msg):
            return
        try:
            kind, status, last_id = bus_apply(self.book, msg.data, self.exchange, self.symbol)
        except BusDecodeError as exc:
            self.malformed += 1
            with contextlib.suppress(Exception):
                self._poison[msg.metadata.sequence.stream] = time.monotonic()
            self._lost(f"malformed message: {exc}")
            return
        if status is BookStatus.APPLIED:
            if kind == "out_of_sync":
                self.gateway_out_of_sync += 1
                self._lost("gateway out of sync")
                return
            self.exchange_sequence = last_id
            if self.book.in_sync:
                self.last_update_ns = time.monotonic_ns()
                m_pub = msg.data
                # recv/publish stamps sit at fixed offsets (docs/bus.md): read without a decode.
                self.last_recv_ns = int.from_bytes(m_pub[28:36], "little")
                self.last_publish_ns = int.from_bytes(m_pub[36:44], "little")
                if not self._was_in_sync:
                    self._sync_changed()
                top = self.book.top_changed
                for cb, top_only in self._listeners:
                    if top or not top_only:
                        try:
                            cb(self)
                        except Exception:
                            log.exception("remote book listener failed")
            else:
                self._changed.set()
        elif status is BookStatus.GAP:
            self.gaps += 1
            self._lost("gap in the gateway sequence")
        elif status is BookStatus.CROSSED:
            self._lost("crossed")

    def _poisoned(self, msg: Msg) -> bool:
        """A malformed message seen before, replayed by a resync: it carries nothing (the
        gateway sequence never counted it), so it is skipped instead of costing another
        resync. Kept until resyncs no longer read that far back."""
        now = time.monotonic()
        keep = self._manager.clock_margin + 5.0
        for seq, seen in list(self._poison.items()):
            if now - seen > keep:
                del self._poison[seq]
        try:
            return msg.metadata.sequence.stream in self._poison
        except Exception:
            return False

    def _unlink(self, why: str) -> None:
        """The heartbeat or the connection is gone: out of sync at once (in Rust)."""
        self.book.set_linked(False)
        self._lost(why)

    def _lost(self, why: str) -> None:
        self.book.mark_out_of_sync()
        self.last_error = why
        self._sync_changed()

    async def _drop_sub(self) -> None:
        self._generation += 1
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _run(self) -> None:
        m = self._manager
        delay = 0.0
        while True:
            await self._wait(lambda: not self.in_sync, None)
            await self._wait(lambda: m.live(self.exchange), None)
            if delay:
                await asyncio.sleep(delay)
            try:
                await self._resync()
            except Exception as exc:
                self.last_error = f"resync failed: {exc!r}"
                log.warning("%s %s: %s", self.exchange, self.symbol, self.last_error)
                delay = min(max(delay * 2, 0.1), 2.0)
                continue
            delay = 0.0 if self.in_sync else min(max(delay * 2, 0.05), 2.0)

    async def _resync(self) -> None:
        m = self._manager
        await self._drop_sub()
        kv = await m.bucket()
        try:
            entry = await kv.get(self.key)
        except KeyNotFoundError:
            self.last_error = "no stored snapshot yet"
            return
        data = entry.value or b""
        # The book is linked again only while the gateway is heard and NATS is up.
        if not m.live(self.exchange):
            return
        self.book.set_linked(True)
        snap = bus_decode(data)
        status = bus_load_snapshot(self.book, data, self.exchange, self.symbol)
        if status is BookStatus.NOT_SYNCED:
            # A marker: the gateway's book is out of sync; its next snapshot on the stream
            # (after the marker's sequence) brings this one back.
            self.last_error = "gateway out of sync"
        elif status is not BookStatus.APPLIED:
            self.last_error = f"stored snapshot {status}"
            self.book.mark_out_of_sync()
            return
        else:
            self.exchange_sequence = snap.last_id
        # Read the stream from a little before the snapshot was taken: what it already holds
        # comes back stale and is skipped; S + 1 bridges it.
        start_ns = snap.publish_ns - int(m.clock_margin * 1e9)
        start = datetime.datetime.fromtimestamp(start_ns / 1e9, tz=datetime.UTC)
        self._generation += 1
        generation = self._generation

        async def cb(msg: Msg) -> None:
            await self._on_msg(msg, generation)

        js = m.jetstream()
        self.last_msg_at = time.monotonic()
        self._sub = await js.subscribe(
            self.subject,
            cb=cb,
            stream=stream_name(self.exchange),
            ordered_consumer=True,
            config=api.ConsumerConfig(
                deliver_policy=api.DeliverPolicy.BY_START_TIME, opt_start_time=start
            ),
        )
        if snap.kind == "out_of_sync":
            settled = lambda: self.in_sync  # noqa: E731
        else:
            settled = lambda: self.in_sync or self.book.state == "out_of_sync"  # noqa: E731
        if not await self._wait(settled, m.bridge_timeout):
            self.last_error = "the stream did not bridge the stored snapshot"
            self.book.mark_out_of_sync()
        self._sync_changed()


class RemoteBookManager:
    """Books published by gateways, read from NATS (``source="nats://host:port"``)."""

    def __init__(
        self,
        source: str | list[str] = "nats://127.0.0.1:4222",
        *,
        heartbeat_timeout: float = 1.5,
        bridge_timeout: float = 5.0,
        clock_margin: float = 2.0,
        stall_timeout: float = 3.0,
    ) -> None:
        self.servers = [source] if isinstance(source, str) else list(source)
        self.heartbeat_timeout = heartbeat_timeout
        self.bridge_timeout = bridge_timeout
        #: How far before a stored snapshot's time the stream is read (gateway/server clocks).
        self.clock_margin = clock_margin
        #: How long an in-sync book may go without any message (gateways send each book
        #: something at least every snapshot interval, 1 s by default) before it is unlinked.
        self.stall_timeout = stall_timeout
        self.books: dict[tuple[str, str], RemoteBook] = {}
        self.nc: NATS | None = None
        self._js: JetStreamContext | None = None
        self._kv: KeyValue | None = None
        self._heard: dict[str, float] = {}
        self._hb_subs: dict[str, Subscription] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.disconnects = 0
        #: Times the watchdog found this process had not run for longer than the heartbeat
        #: bound (every book was unlinked and resynced).
        self.process_stalls = 0
        #: The id of the gateway last heard for each exchange.
        self.gateways: dict[str, str] = {}
        #: Trades and ticker readers (``on_trade`` / ``on_ticker``), by subject.
        self.streams: dict[str, StreamReader] = {}
        self._stream_subs: list[Subscription] = []

    async def __aenter__(self) -> RemoteBookManager:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        self.nc = await nats.connect(
            servers=self.servers,
            name="hftws-remote-books",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.2,
            connect_timeout=5,
            disconnected_cb=self._on_disconnect,
            reconnected_cb=self._on_reconnect,
        )
        self._js = self.nc.jetstream()
        self._tasks.append(asyncio.create_task(self._watchdog(), name="hftws-remote-watchdog"))

    async def close(self) -> None:
        tasks = self._tasks + [b._task for b in self.books.values() if b._task is not None]
        for t in tasks:
            t.cancel()
        if tasks:
            # Bounded: a task stuck inside the NATS client must not hang the close.
            _done, pending = await asyncio.wait(tasks, timeout=5)
            for t in pending:
                log.warning("task %s did not stop within 5 s", t.get_name())
        self._tasks.clear()
        for b in self.books.values():
            b._task = None
            await b._drop_sub()
        if self.nc is not None:
            await self.nc.close()
            self.nc = None

    def jetstream(self) -> JetStreamContext:
        assert self._js is not None, "RemoteBookManager.start() first"
        return self._js

    async def bucket(self) -> KeyValue:
        if self._kv is None:
            try:
                self._kv = await self.jetstream().key_value(kv_bucket())
            except (BucketNotFoundError, NotFoundError):
                raise HftwsTimeoutError(f"no bucket {kv_bucket()!r} yet: no gateway") from None
        return self._kv

    def live(self, exchange: str) -> bool:
        """NATS connected and the exchange's gateway heard within the heartbeat bound."""
        nc = self.nc
        heard = self._heard.get(exchange)
        return (
            nc is not None
            and nc.is_connected
            and heard is not None
            and time.monotonic() - heard <= self.heartbeat_timeout
        )

    async def watch(
        self, exchange: str, symbol: str, *, timeout: float | None = 10.0
    ) -> RemoteBook:
        """Start reading ``exchange:symbol``; waits until in sync (unless timeout=None)."""
        key = (exchange, symbol)
        book = self.books.get(key)
        if book is None:
            book = RemoteBook(self, exchange, symbol)
            self.books[key] = book
            await self._ensure_heartbeat(exchange)
            book._task = asyncio.create_task(book._run(), name=f"hftws-remote-{exchange}-{symbol}")
        if timeout is not None:
            await book.wait_in_sync(timeout)
        return book

    async def on_trade(self, exchange: str, symbol: str, callback: StreamCallback) -> StreamReader:
        """Call ``callback(trade)`` for every trade the gateway publishes for the symbol
        (a :class:`~hftws.bus.streams.RemoteTrade`, :class:`hftws.Trade`'s attribute names).
        Live only (core NATS): trades before the call are not replayed."""
        return await self._stream(
            trades_subject(exchange, symbol), exchange, symbol, KIND_TRADE, callback
        )

    async def on_ticker(self, exchange: str, symbol: str, callback: StreamCallback) -> StreamReader:
        """Call ``callback(ticker)`` for every best bid/ask the gateway publishes for the
        symbol (a :class:`~hftws.bus.streams.RemoteTicker`)."""
        return await self._stream(
            ticker_subject(exchange, symbol), exchange, symbol, KIND_TICKER, callback
        )

    async def _stream(
        self, subject: str, exchange: str, symbol: str, kind: int, callback: StreamCallback
    ) -> StreamReader:
        assert self.nc is not None, "RemoteBookManager.start() first"
        reader = StreamReader(exchange, symbol, kind, callback)

        async def cb(msg: Msg) -> None:
            reader.feed(msg.data)

        self._stream_subs.append(await self.nc.subscribe(subject, cb=cb))
        self.streams[subject] = reader
        return reader

    async def _ensure_heartbeat(self, exchange: str) -> None:
        if exchange in self._hb_subs:
            return
        assert self.nc is not None

        async def beat(msg: Msg) -> None:
            try:
                m = bus_decode(msg.data)
            except BusDecodeError:
                return  # not a heartbeat: it proves nothing
            if m.kind == "heartbeat" and m.exchange == exchange:
                self.gateways[exchange] = m.symbol  # a heartbeat's symbol is its gateway id
                fresh = exchange not in self._heard or not self.live(exchange)
                self._heard[exchange] = time.monotonic()
                if fresh:
                    for b in self._books_of(exchange):
                        b._changed.set()

        self._hb_subs[exchange] = await self.nc.subscribe(heartbeat_subject(exchange), cb=beat)

    def _books_of(self, exchange: str) -> list[RemoteBook]:
        return [b for (ex, _s), b in self.books.items() if ex == exchange]

    async def _watchdog(self) -> None:
        """Unlink every book of an exchange whose gateway went quiet."""
        tick = time.monotonic()
        while True:
            await asyncio.sleep(self.heartbeat_timeout / 5)
            now = time.monotonic()
            stalled, tick = now - tick > self.heartbeat_timeout, now
            if stalled:
                # This process did not run for longer than the heartbeat bound (stopped,
                # swapped out): what its socket holds now is old, and the heartbeats in it
                # prove nothing about the present, so no book vouches for itself.
                self.process_stalls += 1
                for b in self.books.values():
                    if b.book.linked:
                        b._unlink("this process did not run for longer than the heartbeat bound")
                continue
            for ex in {ex for ex, _s in self.books}:
                if not self.live(ex):
                    for b in self._books_of(ex):
                        if b.book.linked:
                            b.heartbeat_losses += 1
                            b._unlink("gateway heartbeat missing or NATS down")
                    continue
                for b in self._books_of(ex):
                    # The gateway is heard but the book's stream is silent: a gateway sends
                    # every book something at least every snapshot interval, so the path
                    # (stream leader, consumer) is broken and the book could be frozen.
                    if b.in_sync and now - b.last_msg_at > self.stall_timeout:
                        b.stalls += 1
                        b._unlink(f"no book message for {self.stall_timeout:g}s")

    async def _on_disconnect(self) -> None:
        self.disconnects += 1
        for b in self.books.values():
            b._unlink("NATS connection lost")

    async def _on_reconnect(self) -> None:
        for b in self.books.values():
            b._changed.set()

    def stats(self) -> dict[str, object]:
        return {
            f"{ex}:{sym}": {
                "state": b.state,
                "sequence": b.sequence,
                "exchange_sequence": b.exchange_sequence,
                "updates": b.updates,
                "resyncs": b.resyncs,
                "gaps": b.gaps,
                "malformed": b.malformed,
                "gateway_out_of_sync": b.gateway_out_of_sync,
                "heartbeat_losses": b.heartbeat_losses,
                "stalls": b.stalls,
                "levels": (b.book.bid_count, b.book.ask_count),
            }
            for (ex, sym), b in self.books.items()
        }
