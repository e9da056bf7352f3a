"""Shared machinery of the local exchange servers: WebSocket listener, REST, driver, faults.

:class:`ExchangeServer` owns one :class:`~hftws.testing.market.Market`, one WebSocket server
(``websockets.asyncio.server``) and one REST server (:class:`~hftws.testing.rest.RestServer`),
both on ``127.0.0.1`` with OS-assigned ports (``.url`` and ``.rest_url`` after :meth:`start`).
Exchange subclasses (``MexcServer``, ``GateSpotServer``, ``GateFuturesServer``) parse control
messages into :class:`Subscription` objects and render pushes.

The driver task advances the market of every symbol that has at least one subscriber, ``rate``
steps per second (``rate=None``: as fast as the slowest client reads), and sends every
subscriber the frames rendered from that step, so all connections see the same stream and the
REST snapshot (same market, same ids) agrees with it. Frames of a shared stream are rendered
once per step and sent to every subscriber of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from hftws.testing.faults import Action, Faults
from hftws.testing.market import BookChange, Level, Market, Snapshot, SymbolSpec
from hftws.testing.rest import RestServer, Route

__all__ = ["Connection", "ExchangeServer", "Step", "Subscription"]

Frame = str | bytes
#: Unsent bytes above which a send may block long enough to need the slow-client timeout.
_SLOW_BUFFER = 1 << 16


@dataclass(slots=True)
class Step:
    """What one driver step produced for one symbol, with per-step caches for renderers."""

    change: BookChange
    market: Market
    bbo_changed: bool
    frames: dict[Any, list[Frame]] = field(default_factory=dict)
    _tops: dict[int, tuple[tuple[Level, ...], tuple[Level, ...]]] = field(default_factory=dict)

    def top(self, limit: int) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        """Truth top ``limit`` levels after this step (computed once per step and limit)."""
        got = self._tops.get(limit)
        if got is None:
            got = self._tops[limit] = self.market.top(self.change.symbol, limit)
        return got


class Subscription:
    """One subscribed stream of one connection.

    ``key`` identifies the rendered stream: subscriptions with ``shared = True`` and equal keys
    receive the very same frames, rendered once per step. ``ident`` identifies the subscription
    within a connection (``Connection.subs`` key; defaults to ``key``). Subclasses implement
    :meth:`render`.
    """

    shared: ClassVar[bool] = True
    #: False for streams fed by injected events (private channels), not by market steps.
    market_driven: ClassVar[bool] = True

    def __init__(self, key: Any, symbol: str, ident: Any = None) -> None:
        self.key = key
        self.symbol = symbol
        self.ident = key if ident is None else ident

    def render(self, step: Step) -> list[Frame]:
        """Frames to push for ``step`` (may be empty)."""
        raise NotImplementedError


class Connection:
    """Server-side state of one client connection."""

    def __init__(self, server: ExchangeServer, ws: ServerConnection) -> None:
        self.server = server
        self.ws = ws
        self.subs: dict[Any, Subscription] = {}
        self.conn_id = secrets.token_hex(8)
        self.sent = 0
        self.stalled = False
        self.closed = False
        self.budget: int | None = None
        self.idle_deadline = 0.0
        self.arm()

    def arm(self) -> None:
        """(Re)read the drop-after policy from the faults."""
        messages, rand, _ = self.server.faults.drop_policy
        if messages is None:
            self.budget = None
        else:
            self.budget = self.server.rng.randint(1, messages) if rand else messages

    async def send(self, frame: Frame) -> bool:
        """Send one frame unless stalled/closed; applies the drop budget. False once closed."""
        if self.closed:
            return False
        if self.stalled:
            return True
        try:
            limit = self.server.slow_client_timeout
            if limit is not None and self.ws.transport.get_write_buffer_size() > _SLOW_BUFFER:
                # The peer is not reading: a real exchange drops slow consumers.
                try:
                    async with asyncio.timeout(limit):
                        await self.ws.send(frame)
                except TimeoutError:
                    self.kill(1006)
                    return False
            else:
                await self.ws.send(frame)
        except ConnectionClosed:
            self.closed = True
            return False
        self.sent += 1
        self.server.frames_sent += 1
        if self.budget is not None:
            self.budget -= 1
            if self.budget <= 0:
                self.kill(self.server.faults.drop_policy[2])
                return False
        return True

    def kill(self, code: int) -> None:
        """Close now: 1005 empty close frame + TCP close, 1006 abort, else a close handshake."""
        if self.closed:
            return
        self.closed = True
        transport = self.ws.transport
        if code == 1005:
            transport.write(b"\x88\x00")
            transport.close()
        elif code == 1006:
            transport.abort()
        else:
            self.server.spawn(self.ws.close(code, f"simulated close {code}"))

    def stall(self, on: bool) -> None:
        """Stop (or resume) sending and reading; TCP stays open."""
        if on == self.stalled or self.closed:
            return
        self.stalled = on
        if on:
            self.ws.transport.pause_reading()
        else:
            self.ws.transport.resume_reading()


class ExchangeServer:
    """Base class of the simulated exchanges (see the module docstring).

    Args:
        specs: instruments to simulate (default: the subclass's ``DEFAULT_SPECS``).
        market: use this market instead of building one from ``specs``.
        seed: market and fault seed (same seed, same stream).
        rate: market steps per second per subscribed symbol; ``None`` = as fast as possible.
        idle_timeout: seconds a connection without any subscription is kept (``None`` = forever).
        ping_interval: RFC 6455 keepalive pings sent by the server (``None`` = none).
        compression: ``"deflate"`` to negotiate permessage-deflate, ``None`` (default) not.
        faults: share a :class:`Faults` controller (default: a new one, ``server.faults``).
        slow_client_timeout: a client that does not read for this many seconds while pushes
            are waiting is dropped (TCP abort), so it cannot stall the stream of the others;
            ``None`` = wait forever (the stream then runs at the slowest client's pace).
        host: interface to bind.
    """

    DEFAULT_SPECS: ClassVar[tuple[SymbolSpec, ...]] = ()
    #: Kind of undecodable frame sent by :meth:`Faults.send_garbage`.
    GARBAGE_BINARY: ClassVar[bool] = False

    def __init__(
        self,
        specs: Iterable[SymbolSpec] | None = None,
        *,
        market: Market | None = None,
        seed: int = 0,
        rate: float | None = 200.0,
        idle_timeout: float | None = None,
        ping_interval: float | None = None,
        compression: str | None = None,
        faults: Faults | None = None,
        slow_client_timeout: float | None = 5.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.market = market or Market(specs or self.DEFAULT_SPECS, seed=seed)
        self.faults = faults or Faults()
        self.idle_timeout = idle_timeout
        self.slow_client_timeout = slow_client_timeout
        self.host = host
        self._rate = rate
        self._ping_interval = ping_interval
        self._compression = compression
        self.rng = random.Random(seed)
        self._conns: set[Connection] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ws: Server | None = None
        self._rest: RestServer | None = None
        self._driver: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._paused = False
        self._last_bbo: dict[str, tuple[Level, Level]] = {}
        self.url = ""
        self.rest_url = ""
        #: Frames sent to all connections so far (acks and pushes).
        self.frames_sent = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> Self:
        """Bind both servers and start the driver; sets ``url`` and ``rest_url``."""
        self._ws = await serve(
            self._handle,
            self.host,
            0,
            ping_interval=self._ping_interval,
            compression=self._compression,
            close_timeout=1.0,
            process_request=self._process_request,
        )
        port = self._ws.sockets[0].getsockname()[1]
        self.url = f"ws://{self.host}:{port}{self.ws_path()}"
        self._rest = RestServer(self.faults, self.routes(), host=self.host)
        self.rest_url = await self._rest.start()
        self.faults.attach(self._on_action)
        self._driver = asyncio.create_task(self._drive(), name=f"{type(self).__name__}.driver")
        return self

    def _process_request(self, connection: Any, request: Any) -> Any:
        """Refuses the upgrade when :meth:`Faults.refuse_upgrades` says so."""
        status = self.faults.take_upgrade_refusal()
        if status is None:
            return None
        return connection.respond(status, "upgrade refused by the fault knob\n")

    async def stop(self) -> None:
        """Stop the driver, close every connection and both servers; idempotent."""
        self.faults.detach(self._on_action)
        if self._driver is not None:
            self._driver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._driver
            self._driver = None
        for conn in list(self._conns):
            if conn.stalled:
                conn.closed = True
                conn.ws.transport.abort()
        if self._ws is not None:
            self._ws.close()
            await self._ws.wait_closed()
            self._ws = None
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._rest is not None:
            await self._rest.stop()
            self._rest = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ controls

    @property
    def rate(self) -> float | None:
        """Steps per second per subscribed symbol (``None``: as fast as possible)."""
        return self._rate

    @rate.setter
    def rate(self, value: float | None) -> None:
        self._rate = value
        self._wake.set()

    def pause(self) -> None:
        """Freeze the market and the pushes (connections stay open and answer requests)."""
        self._paused = True

    def resume(self) -> None:
        """Undo :meth:`pause`."""
        self._paused = False
        self._wake.set()

    @property
    def connections(self) -> int:
        """Number of open client connections."""
        return sum(1 for c in self._conns if not c.closed)

    def spawn(self, coro: Any) -> None:
        """Run ``coro`` as a task owned (and awaited on stop) by the server."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def snapshot(self, symbol: str, limit: int, shift: int = 0) -> tuple[Snapshot, int]:
        """Book snapshot and the id to publish with it; ``shift`` < 0 gives the exact book that
        many ids ago (clamped to the kept history), > 0 the current book with a future id."""
        if shift < 0:
            target = max(self.market.last_id(symbol) + shift, self.market.oldest_id(symbol))
            snap = self.market.snapshot_at(symbol, target, limit)
            return snap, snap.last_id
        snap = self.market.snapshot(symbol, limit)
        return snap, snap.last_id + shift

    # ------------------------------------------------------------------ subclass hooks

    def ws_path(self) -> str:
        """Path part of ``url``."""
        return "/"

    def routes(self) -> list[Route]:
        """REST routes of the exchange."""
        raise NotImplementedError

    async def on_message(self, conn: Connection, message: Frame) -> None:
        """Handle one client frame."""
        raise NotImplementedError

    def garbage(self) -> Frame:
        """One undecodable frame."""
        raise NotImplementedError

    async def on_open(self, conn: Connection) -> bool:
        """A new connection; False rejects it (the hook has already answered and closed it)."""
        return True

    def on_close(self, conn: Connection) -> None:
        """A connection ended."""

    # ------------------------------------------------------------------ subscriptions

    def subscribed(self, conn: Connection) -> None:
        """Subclasses call this after adding subscriptions (wakes the driver)."""
        self._wake.set()

    def unsubscribed(self, conn: Connection) -> None:
        """Subclasses call this after removing subscriptions (restarts the idle timer)."""
        if not conn.subs and self.idle_timeout is not None:
            conn.idle_deadline = asyncio.get_running_loop().time() + self.idle_timeout

    # ------------------------------------------------------------------ internals

    async def _handle(self, ws: ServerConnection) -> None:
        conn = Connection(self, ws)
        loop = asyncio.get_running_loop()
        if self.idle_timeout is not None:
            conn.idle_deadline = loop.time() + self.idle_timeout
        self._conns.add(conn)
        try:
            if not await self.on_open(conn):
                return
            while not conn.closed:
                timeout = None
                if conn.stalled:
                    timeout = 0.1  # reading is paused: just poll for the unstall
                elif self.idle_timeout is not None and not conn.subs:
                    timeout = max(0.0, conn.idle_deadline - loop.time())
                try:
                    async with asyncio.timeout(timeout):
                        message = await ws.recv()
                except TimeoutError:
                    if not conn.subs and not conn.stalled:
                        conn.closed = True
                        await ws.close(1000, "no subscription")
                        return
                    continue
                if conn.stalled or conn.closed:
                    continue
                await self.on_message(conn, message)
        except ConnectionClosed:
            pass
        finally:
            conn.closed = True
            self._conns.discard(conn)
            self.on_close(conn)

    def _on_action(self, action: Action) -> None:
        for conn in list(self._conns):
            if conn.closed:
                continue
            if action.kind == "close":
                conn.kill(action.code)
            elif action.kind == "stall":
                conn.stall(True)
            elif action.kind == "unstall":
                conn.stall(False)
            elif action.kind == "rearm":
                conn.arm()
            elif action.kind == "garbage":
                self.spawn(self._send_garbage(conn, action.count))

    async def _send_garbage(self, conn: Connection, count: int) -> None:
        for _ in range(count):
            if not await conn.send(self.garbage()):
                return

    def _active_symbols(self) -> list[str]:
        symbols: dict[str, None] = {}
        for conn in self._conns:
            if not conn.closed:
                for sub in conn.subs.values():
                    if sub.market_driven:
                        symbols[sub.symbol] = None
        return list(symbols)

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        next_t = loop.time()
        while True:
            symbols = [] if self._paused else self._active_symbols()
            if not symbols:
                self._wake.clear()
                await self._wake.wait()
                next_t = loop.time()
                continue
            gap = self.faults.take_gap()
            for symbol in symbols:
                if gap:
                    self.market.skip(symbol, gap)
                await self._publish(self.market.step(symbol))
            rate = self._rate
            if rate is None or rate <= 0:
                await asyncio.sleep(0)
                continue
            next_t += 1.0 / rate
            delay = next_t - loop.time()
            if delay < -0.25:
                next_t = loop.time()  # fell far behind: do not burst to catch up
            self._wake.clear()
            if delay > 0:
                # A rate change or resume wakes the driver early.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
            else:
                await asyncio.sleep(0)

    async def _publish(self, change: BookChange) -> None:
        bbo = (change.bid, change.ask)
        changed = self._last_bbo.get(change.symbol) != bbo
        self._last_bbo[change.symbol] = bbo
        step = Step(change, self.market, changed)
        for conn in list(self._conns):
            if conn.closed or conn.stalled:
                continue
            for sub in list(conn.subs.values()):
                # Re-check: an unsubscribe may have been acked while this loop awaited a send.
                if sub.symbol != change.symbol or conn.subs.get(sub.ident) is not sub:
                    continue
                if sub.shared:
                    frames = step.frames.get(sub.key)
                    if frames is None:
                        frames = step.frames[sub.key] = sub.render(step)
                else:
                    frames = sub.render(step)
                for frame in frames:
                    if not await conn.send(frame):
                        break


def now_ms() -> int:
    """Wall-clock milliseconds (``time.time_ns()`` based)."""
    return time.time_ns() // 1_000_000
