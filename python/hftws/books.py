"""Local order books that never lie: snapshot + buffered deltas + automatic resync.

``OrderBookManager.watch(exchange, symbol)`` subscribes the incremental depth stream, buffers
its pushes, fetches the REST snapshot, aligns the two by the exchange's rules and keeps the
Rust book current. The alignment is the book's own sequence state machine
(``hftws.OrderBook``): after ``load_snapshot(S)`` the buffered pushes are applied in order,
those wholly before ``S`` come back STALE, and a first push that starts after ``S + 1`` comes
back GAP, which means the snapshot is older than the buffer and another one is fetched
(``mexc.md`` §6.2, ``gateio.md`` §4.2). Live pushes go straight into the Rust book; any gap,
crossed book, reconnect or snapshot failure marks that book out of sync at once (readers see
``in_sync`` go false, an out-of-sync window opens, counters move) and starts a resync with
backoff, while other books on the same connection carry on.

Gate.io books can also use the v2 ``obu`` stream (``mode="obu"``): a full push then
increments, no REST; on a gap the stream is unsubscribed and subscribed again, and the next
full push re-seeds the book (``gateio.md`` §4.3).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

from hftws import gateio, mexc
from hftws._core import BookStatus, HftwsError, OrderBook
from hftws.events import MessageType
from hftws.interface import ConnectionState
from hftws.manager import AnyWebSocketManager, create_websocket_manager
from hftws.mixins.subscription import Subscription
from hftws.rest import RateLimited, RestClient, RestError

log = logging.getLogger("hftws.books")

Mode = Literal["classic", "obu"]
BookListener = Callable[["LocalBook"], Any]


@dataclass(frozen=True)
class _Venue:
    """How one exchange serves books."""

    rule: Literal["mexc", "gate"]
    snapshot_path: str
    symbol_param: str
    default_limit: int
    #: Trim the book to the snapshot depth (Gate streams only describe the top N levels).
    trim: bool
    apply: Callable[[Any, OrderBook], BookStatus | None]


VENUES = {
    "mexc": _Venue("mexc", "/api/v3/depth", "symbol", 5000, False, mexc.apply_depth),
    "gateio": _Venue(
        "gate", "/api/v4/spot/order_book", "currency_pair", 100, True, gateio.apply_depth
    ),
    "gateio_futures": _Venue(
        "gate", "/api/v4/futures/usdt/order_book", "contract", 100, True, gateio.apply_depth
    ),
}

#: Frames buffered per book while it syncs; past this the oldest are dropped and the sync
#: restarts, so a stuck snapshot cannot grow memory without bound.
MAX_BUFFER = 20_000


class SnapshotError(HftwsError):
    """A REST snapshot could not be fetched or read."""


def _levels(raw: list[Any]) -> list[tuple[Any, Any]]:
    """REST levels as (price, size): ``[p, s]`` lists (spot) or ``{"p", "s"}`` (futures)."""
    out = []
    for level in raw:
        if isinstance(level, dict):
            out.append((level["p"], level["s"]))
        else:
            out.append((level[0], level[1]))
    return out


class LocalBook:
    """One watched book: the Rust book plus its sync state and counters."""

    def __init__(
        self,
        manager: OrderBookManager,
        exchange: str,
        symbol: str,
        mode: Mode,
        limit: int,
        max_depth: int | None,
    ) -> None:
        venue = VENUES[exchange]
        self.exchange = exchange
        self.symbol = symbol
        self.mode: Mode = mode
        self.limit = limit
        self.book = OrderBook(venue.rule, max_depth=max_depth, symbol=symbol)
        self._venue = venue
        self._manager = manager
        self.state: Literal["syncing", "in_sync", "out_of_sync"] = "syncing"
        self.updates = 0
        self.resyncs = 0
        self.gaps = 0
        self.crossed = 0
        self.snapshot_failures = 0
        self.last_update_ns = 0
        #: (start_ns, end_ns or None while still out of sync).
        self.out_of_sync_windows: list[tuple[int, int | None]] = [(time.monotonic_ns(), None)]
        self._buffer: list[Any] = []
        self._listeners: list[tuple[BookListener, bool]] = []
        self._synced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # -- readers (no copy of the whole book) -----------------------------------------------

    @property
    def in_sync(self) -> bool:
        return self.state == "in_sync" and self.book.in_sync

    @property
    def sequence(self) -> int:
        return self.book.sequence

    def best_bid(self) -> tuple[float, float] | None:
        return self.book.best_bid()

    def best_ask(self) -> tuple[float, float] | None:
        return self.book.best_ask()

    def bbo(self) -> tuple[float, float, float, float]:
        return self.book.bbo()

    def top(self, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        return self.book.top(n)

    def depth(self, n: int | None = None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        return self.book.depth(n)

    def mid(self) -> float | None:
        return self.book.mid()

    def spread(self) -> Any:
        return self.book.spread()

    def on_update(self, callback: BookListener, top_only: bool = False) -> BookListener:
        """Call ``callback(book)`` after every applied update (or only top-of-book changes)."""
        self._listeners.append((callback, top_only))
        return callback

    async def wait_in_sync(self, timeout: float | None = None) -> None:
        """Wait until the book is in sync."""
        async with asyncio.timeout(timeout):
            while not self.in_sync:
                self._synced.clear()
                await self._synced.wait()

    def __repr__(self) -> str:
        return f"LocalBook({self.exchange}:{self.symbol}, {self.state}, seq={self.sequence})"

    # -- stream side -----------------------------------------------------------------------------

    def _on_frame(self, frame: Any) -> None:
        if self.state != "in_sync":
            self._buffer.append(frame)
            if len(self._buffer) > MAX_BUFFER:
                del self._buffer[: len(self._buffer) // 2]
                self._manager._metrics_note("buffer_overflow")
            self._wake.set()
            return
        try:
            status = self._venue.apply(frame, self.book)
        except HftwsError as exc:
            log.warning("%s %s: bad depth frame (%s); resyncing", self.exchange, self.symbol, exc)
            self._lost("bad_frame")
            return
        self._after(status)

    def _after(self, status: BookStatus | None) -> None:
        if status == BookStatus.APPLIED:
            self.updates += 1
            self.last_update_ns = time.monotonic_ns()
            top = self.book.top_changed
            for cb, top_only in self._listeners:
                if top or not top_only:
                    try:
                        cb(self)
                    except Exception:
                        log.exception("book listener failed")
        elif status == BookStatus.GAP:
            self.gaps += 1
            self._lost("gap")
        elif status == BookStatus.CROSSED:
            self.crossed += 1
            self._lost("crossed")
        elif status == BookStatus.NOT_SYNCED:
            self._lost("not_synced")

    def _lost(self, why: str) -> None:
        """Out of sync at once; the sync task starts over."""
        if self.state == "in_sync":
            self.out_of_sync_windows.append((time.monotonic_ns(), None))
        self.state = "out_of_sync"
        self.book.mark_out_of_sync()
        self._buffer.clear()
        self._manager._metrics_note(why)
        self._wake.set()

    def _mark_synced(self) -> None:
        self.state = "in_sync"
        start, _ = self.out_of_sync_windows[-1]
        self.out_of_sync_windows[-1] = (start, time.monotonic_ns())
        self._synced.set()

    # -- sync task -------------------------------------------------------------------------------

    async def _run(self) -> None:
        """Keep the book in sync forever: sync, then wait to be woken by a loss."""
        delay = 0.0
        while True:
            if self.state != "in_sync":
                if delay:
                    await asyncio.sleep(delay)
                try:
                    if self.mode == "obu":
                        await self._sync_obu()
                    else:
                        await self._sync_classic()
                    delay = 0.0
                except RateLimited as exc:
                    self.snapshot_failures += 1
                    delay = max(exc.retry_after, 0.05)
                    continue
                except (RestError, SnapshotError, TimeoutError) as exc:
                    self.snapshot_failures += 1
                    delay = min(max(delay * 2, 0.1), 5.0) * (0.5 + random.random() / 2)
                    log.warning("%s %s: sync failed (%s)", self.exchange, self.symbol, exc)
                    continue
                # The awaits above let callbacks change the state: read it afresh.
                if cast(str, self.state) != "in_sync":
                    delay = min(max(delay * 2, 0.05), 5.0)
                    continue
            self._wake.clear()
            if self.state == "in_sync":
                await self._wake.wait()

    async def _sync_classic(self) -> None:
        self.state = "syncing"
        self.resyncs += 1
        # Wait briefly for a first push so the snapshot can be checked against the buffer.
        if not self._buffer:
            self._wake.clear()
            try:
                async with asyncio.timeout(1.0):
                    await self._wake.wait()
            except TimeoutError:
                pass
        snap = await self._manager._snapshot(self)
        bids, asks, last_id = snap
        self.book.load_snapshot(bids, asks, last_id)
        # Replay the buffer through the book's own rules; new pushes keep arriving while
        # this runs only between awaits, and there are none below.
        buffered, self._buffer = self._buffer, []
        for frame in buffered:
            try:
                status = self._venue.apply(frame, self.book)
            except HftwsError:
                return  # a broken frame: start over
            if status == BookStatus.GAP:
                # The snapshot predates the buffer (or the buffer has a hole): refetch.
                self.gaps += 1
                return
            if status is None or not status.ok:  # None: not a depth frame
                return
        self._mark_synced()

    async def _sync_obu(self) -> None:
        self.state = "syncing"
        self.resyncs += 1
        handler = self._manager._manager_for(self.exchange)
        sub = self._manager._subscription(self)
        if self.resyncs > 1:
            await handler.unsubscribe(sub)
            self._buffer.clear()
            await handler.subscribe(sub)
        # Wait for the full push; increments before it are refused by the book and dropped.
        async with asyncio.timeout(10.0):
            while True:
                while self._buffer:
                    frame = self._buffer.pop(0)
                    status = self._venue.apply(frame, self.book)
                    if status is not None and status.ok and self.book.in_sync:
                        for rest in self._buffer:
                            status = self._venue.apply(rest, self.book)
                            if status is None or not status.ok:
                                return
                        self._buffer.clear()
                        self._mark_synced()
                        return
                self._wake.clear()
                await self._wake.wait()


class OrderBookManager:
    """Many books across exchanges and connections, each synced independently."""

    def __init__(
        self,
        *,
        urls: dict[str, str] | None = None,
        rest_urls: dict[str, str] | None = None,
        rest: RestClient | None = None,
        **policy_overrides: Any,
    ) -> None:
        self._urls = urls or {}
        self._rest_urls = rest_urls or {}
        self._policy = policy_overrides
        self._rest = rest or RestClient()
        self._own_rest = rest is None
        self.managers: dict[str, AnyWebSocketManager] = {}
        self.books: dict[tuple[str, str], LocalBook] = {}
        self.events: dict[str, int] = {}
        self._started = False

    async def __aenter__(self) -> OrderBookManager:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._started = True

    async def close(self) -> None:
        for book in self.books.values():
            if book._task is not None:
                book._task.cancel()
        tasks = [b._task for b in self.books.values() if b._task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(m.close() for m in self.managers.values()))
        if self._own_rest:
            await self._rest.close()

    def _metrics_note(self, what: str) -> None:
        self.events[what] = self.events.get(what, 0) + 1

    # -- watching ----------------------------------------------------------------------------------

    async def watch(
        self,
        exchange: str,
        symbol: str,
        *,
        mode: Mode = "classic",
        limit: int | None = None,
        max_depth: int | None = None,
        timeout: float | None = 10.0,
    ) -> LocalBook:
        """Start keeping ``symbol``'s book; waits until it is in sync (unless timeout=None).

        ``limit`` is the REST snapshot depth (MEXC 5000, Gate 100 by default); Gate books are
        trimmed to it unless ``max_depth`` says otherwise.
        """
        exchange = {"gate": "gateio", "gate_futures": "gateio_futures"}.get(exchange, exchange)
        if exchange not in VENUES:
            raise ValueError(f"unknown exchange {exchange!r}; valid: {', '.join(sorted(VENUES))}")
        if mode == "obu" and exchange == "mexc":
            raise ValueError("mode='obu' is a Gate.io stream; MEXC books use mode='classic'")
        key = (exchange, symbol)
        if key in self.books:
            book = self.books[key]
        else:
            venue = VENUES[exchange]
            lim = limit or venue.default_limit
            depth = max_depth if max_depth is not None else (lim if venue.trim else None)
            book = LocalBook(self, exchange, symbol, mode, lim, depth)
            self.books[key] = book
            manager = await self._ensure_manager(exchange)
            await manager.subscribe(self._subscription(book))
            book._task = asyncio.create_task(book._run(), name=f"hftws-book-{exchange}-{symbol}")
        if timeout is not None:
            await book.wait_in_sync(timeout)
        return book

    async def unwatch(self, exchange: str, symbol: str) -> None:
        book = self.books.pop((exchange, symbol), None)
        if book is None:
            return
        if book._task is not None:
            book._task.cancel()
            await asyncio.gather(book._task, return_exceptions=True)
        await self.managers[exchange].unsubscribe(self._subscription(book))

    async def resync(self, exchange: str, symbol: str) -> None:
        """Force a resync of one book (it goes out of sync at once)."""
        self.books[(exchange, symbol)]._lost("forced")

    def _subscription(self, book: LocalBook) -> Subscription:
        if book.mode == "obu":
            prefix = "spot" if book.exchange == "gateio" else "futures"
            level = "400" if book.limit > 50 else "50"
            return Subscription(f"{prefix}.obu", (f"ob.{book.symbol}.{level}",))
        handler = self._manager_for(book.exchange).handler
        sub: Subscription = handler.depth_subscription(book.symbol)
        return sub

    def _manager_for(self, exchange: str) -> AnyWebSocketManager:
        return self.managers[exchange]

    async def _ensure_manager(self, exchange: str) -> AnyWebSocketManager:
        manager = self.managers.get(exchange)
        if manager is not None:
            return manager
        kwargs: dict[str, Any] = dict(self._policy)
        if exchange in self._urls:
            kwargs["url"] = self._urls[exchange]
        if exchange in self._rest_urls:
            kwargs["rest_url"] = self._rest_urls[exchange]
        manager = create_websocket_manager(exchange, **kwargs)
        self.managers[exchange] = manager
        manager.on_shard(lambda shard: self._attach(exchange, shard))
        await manager.connect()
        return manager

    def _attach(self, exchange: str, shard: Any) -> None:
        handler = shard.handler

        def on_depth(event: Any) -> None:
            book = self.books.get((exchange, event.symbol))
            if book is not None:
                book._on_frame(handler.current_raw)

        handler._on_internal(MessageType.ORDERBOOK, on_depth)

        def on_state(state: ConnectionState) -> None:
            if state is ConnectionState.RECONNECTING:
                for (ex, _sym), book in self.books.items():
                    if ex == exchange:
                        book._lost("reconnect")

        shard.on_state_change(on_state)

    async def _snapshot(self, book: LocalBook) -> tuple[list[Any], list[Any], int]:
        venue = book._venue
        base = self._manager_for(book.exchange).handler.rest_url
        params = {venue.symbol_param: book.symbol, "limit": str(book.limit)}
        if venue.rule == "gate":
            params["with_id"] = "true"
        body = await self._rest.get(base + venue.snapshot_path, params=params)
        try:
            last_id = int(body["lastUpdateId"] if venue.rule == "mexc" else body["id"])
            return _levels(body["bids"]), _levels(body["asks"]), last_id
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise SnapshotError(f"malformed snapshot for {book.symbol}: {exc!r}") from None

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per-book state and counters."""
        return {
            f"{ex}:{sym}": {
                "state": b.state,
                "sequence": b.sequence,
                "updates": b.updates,
                "resyncs": b.resyncs,
                "gaps": b.gaps,
                "crossed": b.crossed,
                "snapshot_failures": b.snapshot_failures,
                "levels": (b.book.bid_count, b.book.ask_count),
            }
            for (ex, sym), b in self.books.items()
        } | {"events": dict(self.events)}
