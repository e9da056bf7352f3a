"""Deterministic market simulator: the "truth" order book behind the local exchange servers.

One :class:`Market` holds one L2 book per symbol. Each :meth:`Market.step` mutates a book with
a few random order-book events (inserts, size changes, cancels, trades that eat the best level,
a drifting anchor price, and occasional bursts of many events) and returns the aggregated
:class:`BookChange`: every event consumes one update id, so a change covers the id range
``first_id..last_id`` (exchanges aggregate the same way) and carries, per touched price, the
**absolute** size after the last event (zero = level deleted). Ids are per symbol and strictly
contiguous: ``change.first_id == previous.last_id + 1``.

Prices and sizes are exact: internally integer ticks and integer lots, exposed as
:class:`decimal.Decimal` (``ticks * spec.tick``, ``lots * spec.lot``). The book is never crossed
and keeps between ``depth // 2`` and ``depth + depth // 4`` levels per side, so
``snapshot(symbol, limit=10 * depth)`` is the whole book. Everything derives from ``seed``:
two markets with the same seed and specs produce identical streams.

Undo records of the last ``history`` changes are kept so :meth:`Market.snapshot_at` can rebuild
the book as it was at an earlier id (used for "stale snapshot" faults and for race-free test
assertions against a stream that keeps moving).

Example::

    market = Market([SymbolSpec("BTCUSDT", tick=Decimal("0.01"), lot=Decimal("0.000001"),
                                mid=Decimal("117145.48"))], seed=7)
    snap = market.snapshot("BTCUSDT", limit=5000)
    change = market.step("BTCUSDT")
    assert change.first_id == snap.last_id + 1
"""

from __future__ import annotations

import heapq
import random
import time
import zlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["BookChange", "Level", "Market", "Snapshot", "SymbolSpec", "Trade", "fmt"]

#: ``(price, size)``; a size of zero in a :class:`BookChange` deletes the level.
Level = tuple[Decimal, Decimal]


def fmt(value: Decimal) -> str:
    """Plain (never scientific) decimal text, keeping the value's scale: ``0E-4`` -> ``0.0000``."""
    return format(value, "f")


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """Static description of one simulated instrument.

    Args:
        symbol: exchange spelling (``BTCUSDT`` for MEXC, ``BTC_USDT`` for Gate).
        tick: price step; every price is an integer multiple of it.
        lot: size step; ``Decimal(1)`` gives integer sizes (Gate futures contracts).
        mid: starting mid price (rounded to the tick).
        depth: target number of levels per side (the book stays within
            ``[depth // 2, depth + depth // 4]``).
        max_lots: largest size of a freshly placed level, in lots.
        quanto_multiplier: base-asset quantity per contract (Gate futures metadata only).
    """

    symbol: str
    tick: Decimal
    lot: Decimal
    mid: Decimal
    depth: int = 400
    max_lots: int = 5000
    quanto_multiplier: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class Trade:
    """One public trade. ``side`` is the taker side (``"buy"`` hit the best ask)."""

    trade_id: int
    price: Decimal
    size: Decimal
    side: str
    time_ns: int


@dataclass(frozen=True, slots=True)
class BookChange:
    """Aggregated book change covering update ids ``first_id..last_id`` (inclusive).

    ``bids`` (high to low) and ``asks`` (low to high) hold the absolute size of every price
    touched by the covered events, zero meaning "delete". ``bid``/``ask`` are the best levels
    after the change, ``trades`` the trades it contains.
    """

    symbol: str
    first_id: int
    last_id: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    trades: tuple[Trade, ...]
    bid: Level
    ask: Level
    time_ns: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Top of the truth book at update id ``last_id``; both sides best level first."""

    symbol: str
    last_id: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    time_ns: int
    update_ns: int


@dataclass(slots=True)
class _Undo:
    first_id: int
    last_id: int
    # (is_bid, tick, lots before the change; 0 = level did not exist)
    prior: list[tuple[bool, int, int]]
    update_ns_before: int


@dataclass(slots=True)
class _Book:
    spec: SymbolSpec
    rng: random.Random
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    best_bid: int = 0
    best_ask: int = 0
    anchor: int = 0
    last_id: int = 0
    trade_id: int = 0
    burst_left: int = 0
    update_ns: int = 0
    undo: deque[_Undo] = field(default_factory=deque)


class Market:
    """Per-symbol truth books driven by a seeded random walk.

    Args:
        specs: the instruments.
        seed: master seed; each symbol's generator is seeded from it and the symbol name.
        history: number of past changes kept per symbol for :meth:`snapshot_at`.
        first_id: update id of the initial book (the first change starts at ``first_id + 1``).
    """

    def __init__(
        self,
        specs: Iterable[SymbolSpec],
        *,
        seed: int = 0,
        history: int = 4096,
        first_id: int = 1_000_000,
    ) -> None:
        self._books: dict[str, _Book] = {}
        self._history = history
        for spec in specs:
            rng = random.Random(seed * 1_000_003 + zlib.crc32(spec.symbol.encode()))
            book = _Book(spec=spec, rng=rng)
            book.last_id = first_id + rng.randrange(1_000_000)
            book.trade_id = rng.randrange(10**9, 2 * 10**9)
            self._seed_book(book)
            self._books[spec.symbol] = book

    # ----------------------------------------------------------------------- queries

    @property
    def symbols(self) -> tuple[str, ...]:
        """Symbols in the order they were given."""
        return tuple(self._books)

    def spec(self, symbol: str) -> SymbolSpec:
        """The :class:`SymbolSpec` of ``symbol``; ``KeyError`` if unknown."""
        return self._books[symbol].spec

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._books

    def last_id(self, symbol: str) -> int:
        """Update id of the current truth book."""
        return self._books[symbol].last_id

    def oldest_id(self, symbol: str) -> int:
        """Oldest update id :meth:`snapshot_at` can rebuild."""
        b = self._books[symbol]
        return b.undo[0].first_id - 1 if b.undo else b.last_id

    def bbo(self, symbol: str) -> tuple[Level, Level]:
        """Best bid and best ask ``(price, size)`` of the truth book."""
        b = self._books[symbol]
        return self._level(b, True, b.best_bid), self._level(b, False, b.best_ask)

    def top(self, symbol: str, limit: int) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        """The best ``limit`` bids (high to low) and asks (low to high)."""
        b = self._books[symbol]
        return self._top(b, b.bids, b.asks, limit)

    def snapshot(self, symbol: str, limit: int) -> Snapshot:
        """Top ``limit`` levels per side of the truth book with its current update id."""
        b = self._books[symbol]
        bids, asks = self._top(b, b.bids, b.asks, limit)
        return Snapshot(symbol, b.last_id, bids, asks, time.time_ns(), b.update_ns)

    def snapshot_at(self, symbol: str, update_id: int, limit: int) -> Snapshot:
        """The book as it was after update id ``update_id``.

        Ids inside an aggregated change cannot be reconstructed, so the result is taken at the
        last change boundary ``<= update_id`` (its ``last_id`` says which).

        Raises:
            LookupError: ``update_id`` is older than the kept history or in the future.
        """
        b = self._books[symbol]
        if update_id > b.last_id:
            raise LookupError(f"{symbol}: id {update_id} is ahead of the book ({b.last_id})")
        bids, asks = dict(b.bids), dict(b.asks)
        last, update_ns = b.last_id, b.update_ns
        for rec in reversed(b.undo):
            if rec.last_id <= update_id:
                break
            for is_bid, tick, lots in reversed(rec.prior):
                side = bids if is_bid else asks
                if lots:
                    side[tick] = lots
                else:
                    side.pop(tick, None)
            last, update_ns = rec.first_id - 1, rec.update_ns_before
        if last > update_id:
            raise LookupError(f"{symbol}: id {update_id} is older than the kept history")
        top_bids, top_asks = self._top(b, bids, asks, limit)
        return Snapshot(symbol, last, top_bids, top_asks, time.time_ns(), update_ns)

    # ----------------------------------------------------------------------- mutation

    def step(self, symbol: str) -> BookChange:
        """Apply one batch of random events to ``symbol`` and return the aggregated change."""
        b = self._books[symbol]
        rng = b.rng
        if b.burst_left:
            b.burst_left -= 1
            events = rng.randint(8, 40)
        else:
            # Occasional bursts (~7% of steps): 10-60 steps of 8-40 events each.
            if rng.random() < 0.002:
                b.burst_left = rng.randint(10, 60)
            events = 1 + min(int(rng.expovariate(0.6)), 12)
        touched: dict[tuple[bool, int], int] = {}
        prior: list[tuple[bool, int, int]] = []
        trades: list[Trade] = []
        now = time.time_ns()
        first = b.last_id + 1
        for _ in range(events):
            self._event(b, touched, prior, trades, now)
        self._maintain_depth(b, touched, prior)
        b.undo.append(_Undo(first, b.last_id, prior, b.update_ns))
        if len(b.undo) > self._history:
            b.undo.popleft()
        b.update_ns = now
        spec = b.spec
        bid_items = sorted(((t, n) for (s, t), n in touched.items() if s), reverse=True)
        ask_items = sorted((t, n) for (s, t), n in touched.items() if not s)
        return BookChange(
            symbol=symbol,
            first_id=first,
            last_id=b.last_id,
            bids=tuple((t * spec.tick, n * spec.lot) for t, n in bid_items),
            asks=tuple((t * spec.tick, n * spec.lot) for t, n in ask_items),
            trades=tuple(trades),
            bid=self._level(b, True, b.best_bid),
            ask=self._level(b, False, b.best_ask),
            time_ns=now,
        )

    def skip(self, symbol: str, ids: int) -> int:
        """Advance ``symbol`` by at least ``ids`` update ids without returning the changes
        (the ids a client then never sees: a sequence gap). Returns the ids consumed."""
        start = self._books[symbol].last_id
        while self._books[symbol].last_id - start < ids:
            self.step(symbol)
        return self._books[symbol].last_id - start

    # ----------------------------------------------------------------------- internals

    @staticmethod
    def _level(b: _Book, is_bid: bool, tick: int) -> Level:
        lots = (b.bids if is_bid else b.asks)[tick]
        return tick * b.spec.tick, lots * b.spec.lot

    @staticmethod
    def _top(
        b: _Book, bids: dict[int, int], asks: dict[int, int], limit: int
    ) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        tick, lot = b.spec.tick, b.spec.lot
        top_bids = heapq.nlargest(limit, bids) if limit < len(bids) else sorted(bids, reverse=True)
        top_asks = heapq.nsmallest(limit, asks) if limit < len(asks) else sorted(asks)
        return (
            tuple((t * tick, bids[t] * lot) for t in top_bids),
            tuple((t * tick, asks[t] * lot) for t in top_asks),
        )

    def _seed_book(self, b: _Book) -> None:
        spec, rng = b.spec, b.rng
        mid = int(spec.mid / spec.tick)
        b.anchor = mid
        for is_bid, side in ((True, b.bids), (False, b.asks)):
            offset = 0
            while len(side) < spec.depth:
                offset += 1
                if offset == 1 or rng.random() < 0.8:
                    side[mid - offset if is_bid else mid + offset] = self._size(b)
        b.best_bid, b.best_ask = mid - 1, mid + 1
        b.update_ns = time.time_ns()

    def _size(self, b: _Book) -> int:
        # Mostly small resting sizes with a heavy tail, like real books.
        return min(b.spec.max_lots, 1 + int(b.rng.paretovariate(1.3) * b.spec.max_lots / 50))

    def _set(
        self,
        b: _Book,
        is_bid: bool,
        tick: int,
        lots: int,
        touched: dict[tuple[bool, int], int],
        prior: list[tuple[bool, int, int]],
    ) -> None:
        """Set one level (lots 0 = delete), consuming one update id; keeps best prices."""
        side = b.bids if is_bid else b.asks
        prior.append((is_bid, tick, side.get(tick, 0)))
        if lots:
            side[tick] = lots
        else:
            del side[tick]
        touched[(is_bid, tick)] = lots
        b.last_id += 1
        if is_bid:
            if lots and tick > b.best_bid:
                b.best_bid = tick
            elif not lots and tick == b.best_bid:
                b.best_bid = max(side)
        elif lots and tick < b.best_ask:
            b.best_ask = tick
        elif not lots and tick == b.best_ask:
            b.best_ask = min(side)

    def _event(
        self,
        b: _Book,
        touched: dict[tuple[bool, int], int],
        prior: list[tuple[bool, int, int]],
        trades: list[Trade],
        now: int,
    ) -> None:
        rng = b.rng
        r = rng.random()
        if r < 0.08:
            b.anchor += rng.choice((-2, -1, -1, 1, 1, 2))
        is_bid = rng.random() < 0.5
        side = b.bids if is_bid else b.asks
        depth_off = int(rng.expovariate(1 / 8))
        if r < 0.22:
            # A taker eats part or all of the opposite best level.
            hit_bid = b.anchor < (b.best_bid + b.best_ask) / 2 if r < 0.08 else is_bid
            book_side = b.bids if hit_bid else b.asks
            tick = b.best_bid if hit_bid else b.best_ask
            have = book_side[tick]
            if len(book_side) > 2 and rng.random() < 0.45:
                take = have
            else:
                take = rng.randint(1, max(1, have // 2))
            if len(book_side) <= 2 and take >= have:
                return  # never empty a side
            b.trade_id += 1
            spec = b.spec
            trades.append(
                Trade(
                    b.trade_id,
                    tick * spec.tick,
                    take * spec.lot,
                    "sell" if hit_bid else "buy",
                    now,
                )
            )
            self._set(b, hit_bid, tick, have - take, touched, prior)
            return
        best = b.best_bid if is_bid else b.best_ask
        if r < 0.42 and len(side) > 2:
            # Cancel a level near the top.
            tick = best - depth_off if is_bid else best + depth_off
            if tick in side:
                self._set(b, is_bid, tick, 0, touched, prior)
                return
        if r < 0.72:
            # Resize an existing level near the top.
            tick = best - depth_off if is_bid else best + depth_off
            if tick in side:
                self._set(b, is_bid, tick, self._size(b), touched, prior)
                return
        # Place a new level around the anchor, never crossing the other side.
        if is_bid:
            tick = min(b.anchor - 1 - depth_off, b.best_ask - 1)
        else:
            tick = max(b.anchor + 1 + depth_off, b.best_bid + 1)
        self._set(b, is_bid, tick, self._size(b), touched, prior)

    def _maintain_depth(
        self,
        b: _Book,
        touched: dict[tuple[bool, int], int],
        prior: list[tuple[bool, int, int]],
    ) -> None:
        depth = b.spec.depth
        for is_bid in (True, False):
            side = b.bids if is_bid else b.asks
            if len(side) > depth + depth // 4:
                # Far levels fall out of the simulated window (cancels, one id each).
                excess = len(side) - depth
                far = heapq.nsmallest(excess, side) if is_bid else heapq.nlargest(excess, side)
                for tick in far:
                    self._set(b, is_bid, tick, 0, touched, prior)
            elif len(side) < depth // 2:
                edge = min(side) if is_bid else max(side)
                for i in range(1, depth // 4):
                    self._set(
                        b, is_bid, edge - i if is_bid else edge + i, self._size(b), touched, prior
                    )
