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
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from hftws._core import BookStatus, BookUpdate, NativeBook, OrderBook
from hftws.book_view import STATE_OF_PHASE, BookView
from hftws.credentials import Credentials
from hftws.errors import HftwsTimeoutError, SubscriptionError, UnknownExchange
from hftws.events import MessageType
from hftws.interface import BaseWebSocketInterface, ConnectionState
from hftws.manager import AnyWebSocketManager, create_websocket_manager
from hftws.native import NativeConnection
from hftws.rest import RateLimited, RestClient, RestError
from hftws.snapshots import SnapshotError as SnapshotError
from hftws.snapshots import SnapshotSource, choose_snapshot_source
from hftws.subscriptions import Subscription

log = logging.getLogger("hftws.books")

Mode = Literal["classic", "obu"]
IoMode = Literal["asyncio", "native"]
Rule = Literal["mexc", "gate", "binance", "binance_futures", "kucoin", "kucoin_futures"]
BookListener = Callable[["LocalBook"], Any]


@dataclass(frozen=True)
class _Venue:
    """How one exchange serves books."""

    rule: Rule
    snapshot_path: str
    symbol_param: str
    #: Classic book depths the stream can describe exactly (the REST snapshot and the book
    #: are cut to the same depth); None: the full book.
    depths: tuple[int, ...] | None
    default_depth: int
    #: REST snapshot limits the exchange accepts (None: any up to its maximum).
    rest_limits: tuple[int, ...] | None = None


VENUES = {
    "mexc": _Venue("mexc", "/api/v3/depth", "symbol", None, 5000),
    "gateio": _Venue("gate", "/api/v4/spot/order_book", "currency_pair", (20, 100), 100),
    "gateio_futures": _Venue(
        "gate", "/api/v4/futures/usdt/order_book", "contract", (20, 50, 100), 100
    ),
    # Binance diff depth describes the whole book; the snapshot limit is the REST weight's
    # choice (spot 5000 = weight 250, futures 1000 = weight 20; binance.md §1, §4, §8.3).
    "binance": _Venue("binance", "/api/v3/depth", "symbol", None, 5000),
    # SBE diff depth is the JSON stream's id space (reference: very likely, not stated).
    "binance_sbe": _Venue("binance", "/api/v3/depth", "symbol", None, 5000),
    "binance_futures": _Venue(
        "binance_futures",
        "/fapi/v1/depth",
        "symbol",
        None,
        1000,
        rest_limits=(5, 10, 20, 50, 100, 500, 1000),
    ),
    # KuCoin: the full-depth stream; the snapshot endpoint (and so how deep the book is
    # exact) depends on the credentials (hftws.snapshots).
    "kucoin": _Venue("kucoin", "", "symbol", None, 100),
    "kucoin_futures": _Venue("kucoin_futures", "", "symbol", None, 100),
}
#: Venues whose REST snapshot carries ``lastUpdateId`` (Gate: ``id``).
_LAST_UPDATE_ID = frozenset({"mexc", "binance", "binance_futures"})

#: obu stream depths (``ob.PAIR.LEVEL``): the book keeps exactly what the stream describes.
OBU_DEPTHS = {"gateio": (50, 400), "gateio_futures": (50,)}

#: Pushes held per book while it waits for its snapshot (in Rust; oldest dropped past this).
MAX_HELD = 20_000
#: How long a loaded snapshot may wait for a stream push to bridge it before another one is
#: fetched (a snapshot ahead of the stream is confirmed once the stream reaches it).
BRIDGE_TIMEOUT = 5.0
#: How long a sync waits for the first push before fetching the snapshot anyway.
FIRST_PUSH_WAIT = 1.0


def _levels(raw: list[Any]) -> list[tuple[Any, Any]]:
    """REST levels as (price, size): ``[p, s]`` lists (spot) or ``{"p", "s"}`` (futures)."""
    out = []
    for level in raw:
        if isinstance(level, dict):
            out.append((level["p"], level["s"]))
        else:
            out.append((level[0], level[1]))
    return out


class LocalBook(BookView):
    """One watched book: the Rust book (which alone decides ``in_sync``), its resync task,
    listeners and counters.

    In the native I/O mode ``book`` is a ``NativeBook``: the worker thread keeps the book and
    publishes it; the readers, the sync task and the listeners are the same."""

    book: OrderBook | NativeBook

    def __init__(
        self,
        manager: OrderBookManager,
        exchange: str,
        symbol: str,
        mode: Mode,
        depth: int,
        source: SnapshotSource | None = None,
    ) -> None:
        venue = VENUES[exchange]
        self.exchange = exchange
        self.symbol = symbol
        self.mode: Mode = mode
        #: Levels per side the book is exact to (None: the whole book): the stream's depth.
        self.exact_depth: int | None = None if venue.depths is None and mode == "classic" else depth
        #: The snapshot endpoint in use, where an exchange has several (KuCoin: the public
        #: ``level2_100`` without a key), else None.
        self.source = source
        #: REST snapshot depth (classic books).
        self.limit = depth
        #: Per side, the worst price the last snapshot covered when it was cut at its depth
        #: (None: that side of the snapshot was the whole book). Levels beyond it are known
        #: only when a push touched them.
        self.bounds: tuple[Decimal | None, Decimal | None] = (None, None)
        max_depth = self.exact_depth
        if source is not None:
            # The stream is full depth: keep every level, say how deep the snapshot was.
            self.exact_depth = source.exact_depth
            max_depth = None
        self.book = OrderBook(venue.rule, max_depth=max_depth, symbol=symbol, hold=MAX_HELD)
        # Not linked until the exchange confirms the subscription.
        self.book.set_linked(False)
        self._venue = venue
        self._manager = manager
        self._init_view()
        self.gaps = 0
        self.crossed = 0
        self.snapshot_failures = 0
        #: Snapshots that the stream never confirmed within BRIDGE_TIMEOUT (ahead of it).
        self.unconfirmed_snapshots = 0
        #: Snapshots older than the held pushes.
        self.stale_snapshots = 0
        self.last_update_ns = 0
        #: Why the exchange refused the subscription (None while it is not refused).
        self.refused: str | None = None
        #: The last snapshot/sync failure, as one line (None before any).
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._shard: Any = None

    @property
    def state(self) -> str:
        """``in_sync``, ``syncing``, ``out_of_sync`` or ``refused`` (a view of the Rust state)."""
        if self.refused is not None:
            return "refused"
        return STATE_OF_PHASE[self.book.state]

    @property
    def snapshot_source(self) -> str:
        """Which snapshot the book syncs from and how deep it is exact
        (``"public level2_100, exact to 100 levels"``)."""
        name = self.source.name if self.source is not None else "REST snapshot"
        if self.mode == "obu":
            name = "obu stream"
        depth = self.exact_depth
        return f"{name}, exact to {'the full book' if depth is None else f'{depth} levels'}"

    def exact_levels(
        self, n: int | None = None
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """``depth(n)`` cut to the prices the last snapshot covered (the part of a book
        synced from a partial snapshot that is known exactly)."""
        bids, asks = self.book.depth(n)
        low, high = self.bounds
        if low is not None:
            bids = [lv for lv in bids if Decimal(lv[0]) >= low]
        if high is not None:
            asks = [lv for lv in asks if Decimal(lv[0]) <= high]
        return bids, asks

    def on_update(self, callback: BookListener, top_only: bool = False) -> BookListener:
        """Call ``callback(book)`` after every applied update while in sync (or only when the
        best bid or ask level changed). With ``io="native"`` the worker wakes Python at most
        once per batch: updates applied while a call waits coalesce into it (the listener reads
        the book as it is then)."""
        self._listeners.append((callback, top_only))
        self._register()
        return callback

    async def wait_in_sync(self, timeout: float | None = None) -> None:
        """Wait until the book is in sync.

        Raises SubscriptionError if the exchange refused its subscription, and
        HftwsTimeoutError (a TimeoutError) naming the book, its state and the last sync
        failure when ``timeout`` runs out.
        """
        try:
            async with asyncio.timeout(timeout):
                while not self.in_sync:
                    if self.refused is not None:
                        raise SubscriptionError(
                            f"{self.exchange} {self.symbol}: depth subscription refused "
                            f"({self.refused})"
                        )
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            why = f"; last sync failure: {self.last_error}" if self.last_error else ""
            raise HftwsTimeoutError(
                f"{self.exchange} {self.symbol}: not in sync within {timeout:g}s "
                f"(state {self.state}, link {'up' if self.book.linked else 'down'}{why})"
            ) from None

    def __repr__(self) -> str:
        return f"LocalBook({self.exchange}:{self.symbol}, {self.state}, seq={self.sequence})"

    # -- inputs: statuses from the decoder, link changes from the connection -------------------

    def _emit_policy(self) -> tuple[bool, bool]:
        """(emit, top_only) for the decoder: only as much as the listeners need."""
        if not self._listeners:
            return False, False
        return True, all(top for _cb, top in self._listeners)

    def _register(self) -> None:
        if isinstance(self.book, NativeBook):
            emit, top_only = self._emit_policy()
            self.book.set_emit(emit, top_only)
        elif self._shard is not None:
            emit, top_only = self._emit_policy()
            self._shard.register_book(
                self.symbol, self.book, emit=emit, top_only=top_only, notify=self._on_status
            )

    def _on_status(self, status: BookStatus) -> None:
        """One status from the decoder for a push this book took (or held)."""
        if status is BookStatus.APPLIED:
            if self.book.in_sync:
                self.last_update_ns = time.monotonic_ns()
                if not self._was_in_sync:
                    self._sync_changed()
                top = self.book.top_changed
                for cb, top_only in self._listeners:
                    if top or not top_only:
                        try:
                            cb(self)
                        except Exception:
                            log.exception("book listener failed")
            else:
                self._changed.set()
        elif status is BookStatus.GAP:
            self.gaps += 1
            if self._shard is not None:
                self._shard.metrics.gaps += 1
            self._lost("gap")
        elif status is BookStatus.CROSSED:
            self.crossed += 1
            self._lost("crossed")
        elif status is BookStatus.NOT_SYNCED:
            self._changed.set()  # a first held push: the sync task can fetch the snapshot

    def _on_link(self, linked: bool, why: str) -> None:
        """The connection or the subscription changed (told to the Rust book at once)."""
        self.book.set_linked(linked)
        if linked:
            self.refused = None
            self._sync_changed()
        else:
            self._lost(why)

    def _lost(self, why: str) -> None:
        """Out of sync at once (the Rust book is told first); the sync task starts over."""
        self.book.mark_out_of_sync()
        self._manager._metrics_note(why)
        self._sync_changed()

    async def _run(self) -> None:
        """Keep the book in sync forever: sync, then wait for a loss."""
        delay = 0.0
        while True:
            await self._wait(lambda: not self.in_sync, None)
            # Nothing to sync from until the exchange confirms the subscription.
            await self._wait(lambda: self.book.linked, None)
            if delay:
                await asyncio.sleep(delay)
            try:
                if self.mode == "obu":
                    await self._sync_obu()
                else:
                    await self._sync_classic()
            except RateLimited as exc:
                self.snapshot_failures += 1
                self.last_error = str(exc) or "rate limited"
                delay = max(exc.retry_after, 0.05)
                continue
            except (RestError, SnapshotError, TimeoutError) as exc:
                self.snapshot_failures += 1
                delay = min(max(delay * 2, 0.1), 5.0) * (0.5 + random.random() / 2)
                self.last_error = str(exc) or type(exc).__name__
                log.warning("%s %s: sync failed (%s)", self.exchange, self.symbol, exc)
                continue
            except Exception as exc:
                # A bug must not end the book's resyncs for good: report it and try again.
                self.snapshot_failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                delay = min(max(delay * 2, 0.1), 5.0)
                log.exception("%s %s: sync failed", self.exchange, self.symbol)
                continue
            # Back off only when the exchange gave a snapshot the stream could not use; a lost
            # link is waited for above.
            delay = 0.0 if self.in_sync or not self.book.linked else min(max(delay * 2, 0.05), 5.0)

    def _bridged_or_lost(self) -> bool:
        """The loaded snapshot is settled: bridged (in sync), or lost again (link down, a gap
        or a forced resync: a loss right after the bridge must not wait out BRIDGE_TIMEOUT)."""
        return self.in_sync or not self.book.linked or self.book.state == "out_of_sync"

    async def _sync_classic(self) -> None:
        # A first push held before the snapshot lets the replay check the snapshot against it.
        await self._wait(lambda: self.book.held > 0 or not self.book.linked, FIRST_PUSH_WAIT)
        bids, asks, last_id = await self._manager._snapshot(self)
        if not self.book.linked:
            return  # the link went down during the fetch: its pushes are gone
        depth = self.exact_depth if self.source is not None else None
        if depth is not None:
            self.bounds = (
                Decimal(str(bids[-1][0])) if len(bids) >= depth else None,
                Decimal(str(asks[-1][0])) if len(asks) >= depth else None,
            )
        status = self.book.load_snapshot(bids, asks, last_id)
        if status is BookStatus.GAP:
            self.stale_snapshots += 1  # older than the held pushes: fetch again
        elif status is BookStatus.CROSSED:
            self.crossed += 1
        elif status is BookStatus.STALE:
            if 0 < self.book.stream_sequence < last_id:
                # Ahead of every id the stream has delivered: nothing can vouch for its
                # content (an exchange node ahead, or an id it has not reached). Fetch another
                # once the stream has moved on.
                self.unconfirmed_snapshots += 1
                self.book.mark_out_of_sync()
            elif not await self._wait(self._bridged_or_lost, BRIDGE_TIMEOUT):
                # At the stream's last id (or nothing streamed yet): in sync once the next
                # push bridges it, else fetch again.
                self.unconfirmed_snapshots += 1
                self.book.mark_out_of_sync()
        self._sync_changed()

    async def _sync_obu(self) -> None:
        if self.book.counts["snapshots"]:
            # Seeded before: the full push that re-seeds the book comes after a new subscribe.
            shard: Any = self._manager.native.get(self.exchange) or self._shard
            sub = self._manager._subscription(self)
            await shard.unsubscribe(sub)
            await shard.subscribe(sub)
        if not await self._wait(lambda: self.in_sync or not self.book.linked, 10.0):
            raise SnapshotError(f"{self.exchange} {self.symbol}: no full obu push within 10s")
        self._sync_changed()


class OrderBookManager:
    """Many books across exchanges and connections, each synced independently."""

    def __init__(
        self,
        *,
        urls: dict[str, str] | None = None,
        rest_urls: dict[str, str] | None = None,
        rest: RestClient | None = None,
        credentials: dict[str, Credentials] | None = None,
        io: IoMode = "asyncio",
        native_queue: int = 65_536,
        native_trace: int = 0,
        native_levels: int = 20,
        native_ca_file: str | os.PathLike[str] | None = None,
        **policy_overrides: Any,
    ) -> None:
        """``credentials`` (exchange -> key) choose better snapshot endpoints where an
        exchange keeps them behind a key (KuCoin spot: the full book instead of the top 100,
        see ``hftws.snapshots``); books stream public data either way.

        ``io="native"`` reads each exchange's connection on a Rust thread outside the GIL
        (``hftws.native``): the books keep up while Python is busy. ``native_levels`` best
        levels per side are published per book (``top(n)``/``depth(n)`` read at most that
        many), ``native_queue`` bounds the queue of other events (dropped and counted past
        it), ``native_trace`` keeps that many (symbol, update id, read ns, applied ns) entries
        for ``trace()``. ``ws://`` and ``wss://`` endpoints; ``native_ca_file`` is a PEM
        bundle trusted for ``wss://`` instead of the built-in public roots (a private CA; an
        ``ssl_context`` cannot be used by the native mode, see ``hftws.native``)."""
        if io not in ("asyncio", "native"):
            raise ValueError(f"unknown io {io!r}: use 'asyncio' or 'native'")
        self.io: IoMode = io
        self._native_options: dict[str, Any] = {
            "queue_capacity": native_queue,
            "trace": native_trace,
        }
        if native_ca_file is not None:
            self._native_options["ca_file"] = native_ca_file
        self._native_levels = native_levels
        #: Native I/O connections by exchange (``io="native"``).
        self.native: dict[str, NativeConnection] = {}
        self._credentials = credentials or {}
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
        for conn in self.native.values():
            await conn.close()
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
        depth: int | None = None,
        limit: int | None = None,
        max_depth: int | None = None,
        timeout: float | None = 10.0,
    ) -> LocalBook:
        """Start keeping ``symbol``'s book; waits until it is in sync (unless timeout=None).

        ``depth`` is the number of levels the book is exact to, and so the stream's depth:
        Gate.io classic books 20 or 100 (the ``order_book_update`` interval that carries
        that many levels; the REST snapshot is cut to the same depth), obu books 50 or 400
        (spot) / 50 (futures). MEXC and Binance books are the whole book (``depth`` is then
        only the REST snapshot's limit: MEXC and Binance spot 5000 by default, Binance USDⓈ-M
        1000, one of 5, 10, 20, 50, 100, 500, 1000). ``limit`` is an older name for ``depth``.
        Snapshots answered 429/418 are retried after the exchange's ``Retry-After``.
        KuCoin books (``"kucoin"``, ``"kucoin_futures"``) follow the full-depth stream and
        sync from the snapshot the credentials allow: without a key the spot book uses the
        public ``level2_100`` and is exact to 100 levels (``book.snapshot_source``,
        ``book.exact_depth``, ``book.exact_levels()``); futures snapshots are the whole book.

        A refused subscription raises ``SubscriptionError`` and leaves nothing behind, so
        ``watch`` can be called again.
        """
        exchange = {
            "gate": "gateio",
            "gate_futures": "gateio_futures",
            "kucoin-futures": "kucoin_futures",
        }.get(exchange, exchange)
        if exchange not in VENUES:
            raise UnknownExchange(
                f"unknown exchange {exchange!r}; valid: {', '.join(sorted(VENUES))}"
            )
        if mode not in ("classic", "obu"):
            raise ValueError(f"unknown mode {mode!r}: use 'classic' or 'obu'")
        if mode == "obu" and exchange not in OBU_DEPTHS:
            raise ValueError(f"mode='obu' is a Gate.io stream; {exchange} books use mode='classic'")
        if max_depth is not None:
            raise ValueError("max_depth is gone: a book's depth is its stream's depth; pass depth=")
        if depth is not None and limit is not None and depth != limit:
            raise ValueError("pass depth= only (limit= is its older name)")
        depth = depth if depth is not None else limit
        venue = VENUES[exchange]
        allowed = OBU_DEPTHS[exchange] if mode == "obu" else venue.depths
        if depth is None:
            depth = allowed[-1] if allowed is not None else venue.default_depth
        elif allowed is not None and depth not in allowed:
            raise ValueError(
                f"{exchange} {mode} books are exact to {' or '.join(map(str, allowed))} "
                f"levels (the stream's depth); got depth={depth}"
            )
        elif depth <= 0:
            raise ValueError("depth must be positive")
        elif venue.rest_limits is not None and depth not in venue.rest_limits:
            raise ValueError(
                f"{exchange} snapshot limits are {', '.join(map(str, venue.rest_limits))}; "
                f"got depth={depth}"
            )
        key = (exchange, symbol)
        book = self.books.get(key)
        if book is not None and (book.mode, book.limit) != (mode, depth):
            raise ValueError(
                f"{exchange} {symbol} is already watched with mode={book.mode!r}, "
                f"depth={book.limit}"
            )
        if book is not None and book.refused is not None and book._shard is not None:
            # Refused earlier (on a re-subscribe, say): ask again; a refusal raises here.
            await book._shard.subscribe(self._subscription(book))
        if book is not None and book.refused is not None and self.io == "native":
            await self.native[exchange].subscribe(self._subscription(book))
        if book is None and self.io == "native":
            book = await self._watch_native(exchange, symbol, mode, depth)
        if book is None:
            source = choose_snapshot_source(exchange, self._credentials.get(exchange))
            book = LocalBook(self, exchange, symbol, mode, depth, source)
            self.books[key] = book
            try:
                manager = await self._ensure_manager(exchange)
                emit, top_only = book._emit_policy()

                def placed(shard: BaseWebSocketInterface[Any], book: LocalBook = book) -> None:
                    book._shard = shard

                await manager.subscribe_book(
                    self._subscription(book),
                    symbol,
                    book.book,
                    emit=emit,
                    top_only=top_only,
                    # Statuses go straight from the decoder to the book, not via the handler.
                    notify=book._on_status,
                    placed=placed,
                )
            except BaseException:
                # Nothing stays behind: a later watch() starts afresh.
                self.books.pop(key, None)
                raise
            book._task = asyncio.create_task(book._run(), name=f"hftws-book-{exchange}-{symbol}")
        if timeout is not None:
            await book.wait_in_sync(timeout)
        return book

    async def _watch_native(self, exchange: str, symbol: str, mode: Mode, depth: int) -> LocalBook:
        """``watch`` with ``io="native"``: the book lives on the connection's worker."""
        conn = await self._ensure_native(exchange)
        source = choose_snapshot_source(exchange, self._credentials.get(exchange))
        key = (exchange, symbol)
        book = LocalBook(self, exchange, symbol, mode, depth, source)
        # The same book, kept by the worker instead (created unlinked, like the one it replaces).
        book.book = conn.feed.add_book(
            symbol,
            book._venue.rule,
            max_depth=book.book.max_depth,
            hold=MAX_HELD,
            top=self._native_levels,
        )
        self.books[key] = book
        try:
            await conn.subscribe(self._subscription(book))
        except BaseException:
            self.books.pop(key, None)
            conn.feed.remove_book(symbol)
            raise
        book._task = asyncio.create_task(book._run(), name=f"hftws-book-{exchange}-{symbol}")
        return book

    async def _ensure_native(self, exchange: str) -> NativeConnection:
        conn = self.native.get(exchange)
        if conn is not None:
            return conn
        conn = NativeConnection(
            exchange,
            url=self._urls.get(exchange),
            rest_url=self._rest_urls.get(exchange),
            rest=self._rest,
            **self._native_options,
            **self._policy,
        )
        await conn.start()
        self.native[exchange] = conn

        def mine() -> list[LocalBook]:
            return [b for (ex, _s), b in self.books.items() if ex == exchange]

        def on_status(native: NativeBook, status: BookStatus) -> None:
            book = self.books.get((exchange, native.symbol))
            if book is not None and book.book is native:
                book._on_status(status)

        def on_link(up: bool, reason: str) -> None:
            if not up:
                for book in mine():
                    book._on_link(False, "reconnect")

        def on_result(sub: Subscription, ok: bool, reason: str) -> None:
            self._subscription_result(mine(), sub, ok, reason)

        conn.on_book_status(on_status)
        conn.on_link(on_link)
        conn.on_subscription_result(on_result)
        return conn

    def trace(self, exchange: str) -> list[tuple[str, int, int, int]]:
        """``io="native"`` with ``native_trace=N``: the last N depth updates applied on
        ``exchange``'s worker as (symbol, update id, read ns, applied ns), oldest first
        (``time.monotonic_ns()`` clock)."""
        return self.native[exchange].feed.trace()

    async def unwatch(self, exchange: str, symbol: str) -> None:
        book = self.books.pop((exchange, symbol), None)
        if book is None:
            return
        if book._task is not None:
            book._task.cancel()
            await asyncio.gather(book._task, return_exceptions=True)
        if exchange in self.native:
            conn = self.native[exchange]
            conn.feed.remove_book(symbol)
            book.refused = None
            await conn.unsubscribe(self._subscription(book))
            book._sync_changed()
            return
        if book._shard is not None:
            book._shard.unregister_book(symbol)
        book._on_link(False, "unwatched")
        await self.managers[exchange].unsubscribe(self._subscription(book))

    async def resync(self, exchange: str, symbol: str) -> None:
        """Force a resync of one book (it goes out of sync at once)."""
        self.books[(exchange, symbol)]._lost("forced")

    def _subscription(self, book: LocalBook) -> Subscription:
        if book.mode == "obu":
            prefix = "spot" if book.exchange == "gateio" else "futures"
            return Subscription(f"{prefix}.obu", (f"ob.{book.symbol}.{book.limit}",))
        handler: Any = self._venue(book.exchange)
        sub: Subscription
        if book.exchange == "gateio":
            # The interval picks the depth: 20 ms carries the top 20, 100 ms the top 100.
            sub = handler.depth_subscription(
                book.symbol, interval="20ms" if book.limit == 20 else "100ms"
            )
        elif book.exchange == "gateio_futures":
            sub = handler.depth_subscription(
                book.symbol,
                interval="20ms" if book.limit == 20 else "100ms",
                level=str(book.limit),
            )
        else:
            sub = handler.depth_subscription(book.symbol)
        return sub

    def _manager_for(self, exchange: str) -> AnyWebSocketManager:
        return self.managers[exchange]

    def _venue(self, exchange: str) -> Any:
        """What builds subscriptions and knows the REST root: the connection's handler, or
        the native connection."""
        if exchange in self.native:
            return self.native[exchange]
        return self._manager_for(exchange).handler

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

    def _attach(self, exchange: str, shard: BaseWebSocketInterface[Any]) -> None:
        """Route one connection's book statuses, lifecycle and subscription outcomes to the
        books it carries."""

        def on_depth(event: Any) -> None:
            if type(event) is BookUpdate:
                book = self.books.get((exchange, event.symbol))
                if book is not None and book.book is event.book:
                    book._on_status(event.status)

        shard.handler._on_internal(MessageType.ORDERBOOK, on_depth)

        def mine() -> list[LocalBook]:
            return [b for (ex, _s), b in self.books.items() if ex == exchange and b._shard is shard]

        def on_state(state: ConnectionState) -> None:
            if state in (ConnectionState.RECONNECTING, ConnectionState.CLOSED):
                for book in mine():
                    book._on_link(False, "reconnect")

        shard.on_state_change(on_state)

        def on_result(sub: Subscription, ok: bool, reason: str) -> None:
            self._subscription_result(mine(), sub, ok, reason)

        shard.on_subscription_result(on_result)

    def _subscription_result(
        self, books: list[LocalBook], sub: Subscription, ok: bool, reason: str
    ) -> None:
        """An ack links the books ``sub`` feeds; a refusal unlinks them with the reason (both
        I/O modes)."""
        for book in books:
            if self._subscription(book) == sub:
                if ok:
                    book._on_link(True, "subscribed")
                else:
                    book.refused = reason or "refused"
                    book._on_link(False, "refused")

    async def _snapshot(self, book: LocalBook) -> tuple[list[Any], list[Any], int]:
        venue = book._venue
        base = self._venue(book.exchange).rest_url
        if book.source is not None:
            try:
                return await book.source.fetch(self._rest, base, book.symbol)
            except TimeoutError:
                raise SnapshotError(
                    f"{book.exchange} snapshot for {book.symbol}: no answer from {base}"
                ) from None
        params = {venue.symbol_param: book.symbol, "limit": str(book.limit)}
        if venue.rule == "gate":
            params["with_id"] = "true"
        url = base + venue.snapshot_path
        try:
            body = await self._rest.get(url, params=params)
        except TimeoutError:
            raise SnapshotError(
                f"{book.exchange} snapshot for {book.symbol}: no answer from {url}"
            ) from None
        try:
            last_id = int(body["lastUpdateId"] if venue.rule in _LAST_UPDATE_ID else body["id"])
            return _levels(body["bids"]), _levels(body["asks"]), last_id
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise SnapshotError(f"malformed snapshot for {book.symbol}: {exc!r}") from None

    def stats(self) -> dict[str, object]:
        """Per-book state and counters."""
        books: dict[str, object] = {
            f"{ex}:{sym}": {
                "state": b.state,
                "sequence": b.sequence,
                "updates": b.updates,
                "resyncs": b.resyncs,
                "gaps": b.gaps,
                "crossed": b.crossed,
                "snapshot_failures": b.snapshot_failures,
                "unconfirmed_snapshots": b.unconfirmed_snapshots,
                "stale_snapshots": b.stale_snapshots,
                "refused": b.refused,
                "levels": (b.book.bid_count, b.book.ask_count),
                "held": b.book.held,
                "snapshot": b.snapshot_source,
            }
            for (ex, sym), b in self.books.items()
        }
        out = books | {"events": dict(self.events)}
        if self.native:
            out["native"] = {ex: conn.stats() for ex, conn in self.native.items()}
        return out
