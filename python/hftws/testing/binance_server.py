"""Local Binance servers: spot and USDⓈ-M futures market streams + REST depth (``binance.md``).

Same market model as the MEXC and Gate.io servers (:mod:`hftws.testing.market`): every
depth push is one market step, its ``U``/``u`` the step's id range and the REST snapshot's
``lastUpdateId`` the same id space, so a snapshot plus the pushes after it is the truth.

WebSocket (§2.1, §3, §8):

* paths: spot ``/stream`` (combined: ``{"stream","data"}`` wrapper) and ``/ws`` (raw), both
  optionally with ``?streams=a/b`` or ``/ws/<stream>``; futures the same under ``/public`` and
  ``/market`` (a stream sent to the other path is acknowledged and stays silent, as on
  Binance; a path without a route serves ``/public`` streams only);
* ``{"method":"SUBSCRIBE"|"UNSUBSCRIBE","params":[...],"id":N}`` -> ``{"result":null,"id":N}``;
  ``LIST_SUBSCRIPTIONS`` -> the list; bad JSON ``{"code":3,...}``, bad requests ``{"code":2,
  ...,"id":N}``; a :meth:`Faults.refuse` pattern matching the stream name -> ``{"code":<code>,
  "msg":<message>,"id":N}``; streams beyond ``max_streams`` -> ``{"code":2,"msg":"Invalid
  request: too many streams","id":N}`` (our wording); unknown streams are acknowledged and
  silent (Binance reports nothing either);
* more than ``message_limit`` client text frames in any second -> close 1008 "Too many
  requests" (§9; pings and pongs are not counted here: the WebSocket library answers them);
* pushes: ``<s>@depth[@100ms]`` (``depthUpdate``, ``U``/``u``; futures also ``T`` and
  ``pu`` = the id before ``U``), ``<s>@depth<5|10|20>[@100ms]`` (spot ``lastUpdateId`` top-N;
  futures a ``depthUpdate`` of the top N), ``<s>@trade``, ``<s>@aggTrade`` (futures adds
  ``nq``), ``<s>@bookTicker`` (spot without ``e``/``E``; both carry ``u``);
* server pings every ``ping_interval`` (spot 20 s, futures 180 s; the client must echo them);
  :meth:`server_shutdown` sends ``serverShutdown`` and closes every socket a bit later;
  ``max_age`` closes sockets at their age limit (Binance: 24 h).

REST: spot ``GET /api/v3/depth?symbol=&limit=`` (default 100, max 5000, weights 5/25/50/250),
``/api/v3/time``, ``/api/v3/ping``; futures ``GET /fapi/v1/depth`` (limits 5, 10, 20, 50, 100,
500, 1000; default 500; weights 2/5/10/20; body also has ``E`` and ``T``), ``/fapi/v1/time``.
Request weight is counted per ``weight_window`` seconds (Binance: a minute) against
``weight_limit`` (spot 6000, futures 2400); over it the answer is 429 with ``Retry-After``
(seconds to the window's end), and a client that keeps calling while told to wait is banned:
418 with ``Retry-After: ban_seconds``. Every answer carries ``X-MBX-USED-WEIGHT-1M``.

Faults: everything :class:`~hftws.testing.faults.Faults` offers (closes, drops, stalls,
garbage, refused upgrades and subscriptions, gaps, stale/ahead/slow/failing/malformed
snapshots) and :meth:`Faults.duplicate`: the depth pushes of the next steps are sent twice,
followed by the push before them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections import deque
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from hftws.testing import binance_sbe as sbe
from hftws.testing.market import Level, SymbolSpec, fmt
from hftws.testing.rest import Route, json_response
from hftws.testing.server import Connection, ExchangeServer, Frame, Step, Subscription, now_ms

__all__ = ["BinanceFuturesServer", "BinanceSbeServer", "BinanceSpotServer"]

_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
#: USDⓈ-M streams served on ``/public`` (§8.2; ``trade`` as Binance.Net routes it); the others
#: are on ``/market``.
_PUBLIC = ("depth", "bookTicker", "trade")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _levels(levels: tuple[Level, ...] | list[Level]) -> list[list[str]]:
    return [[fmt(p), fmt(q)] for p, q in levels]


class _State:
    """Per-connection Binance state: combined or raw, its route, its request times."""

    def __init__(self, combined: bool, route: str) -> None:
        self.combined = combined
        self.route = route
        self.requests: deque[float] = deque()


class _Stream(Subscription):
    """One Binance stream (``key`` = (name, combined): the wrapper differs)."""

    def __init__(self, server: _BinanceBase, name: str, symbol: str, kind: str, n: int) -> None:
        self.combined = False
        super().__init__((name, False), symbol, ident=name)
        self.server = server
        self.name = name
        self.kind = kind
        self.n = n

    def wrapped(self, combined: bool) -> _Stream:
        self.combined = combined
        self.key = (self.name, combined)
        return self

    def _frame(self, payload: dict[str, Any]) -> str:
        if self.combined:
            return _dumps({"stream": self.name, "data": payload})
        return _dumps(payload)

    def render(self, step: Step) -> list[Frame]:
        server, c = self.server, step.change
        futures = server.FUTURES
        ms = c.time_ns // 1_000_000
        if self.kind == "depth":
            if not c.bids and not c.asks:
                return []
            body: dict[str, Any] = {"e": "depthUpdate", "E": now_ms()}
            if futures:
                body["T"] = ms
            body.update(s=c.symbol, U=c.first_id, u=c.last_id)
            if futures:
                body["pu"] = c.first_id - 1
            body.update(b=_levels(c.bids), a=_levels(c.asks))
            frame = self._frame(body)
            out: list[Frame] = [frame]
            previous = server.previous.get(self.key)
            if server.duplicating:
                out.append(frame)
                if previous is not None:
                    out.append(previous)
            server.previous[self.key] = frame
            return out
        if self.kind == "partial":
            bids, asks = step.top(self.n)
            if futures:
                body = {"e": "depthUpdate", "E": now_ms(), "T": ms, "s": c.symbol}
                body.update(U=c.first_id, u=c.last_id, pu=c.first_id - 1)
                body.update(b=_levels(bids), a=_levels(asks))
            else:
                body = {"lastUpdateId": c.last_id, "bids": _levels(bids), "asks": _levels(asks)}
            return [self._frame(body)]
        if self.kind == "bookTicker":
            if not step.bbo_changed:
                return []
            body = {"e": "bookTicker", "u": c.last_id, "E": now_ms(), "T": ms} if futures else {}
            if not futures:
                body["u"] = c.last_id
            body.update(
                s=c.symbol,
                b=fmt(c.bid[0]),
                B=fmt(c.bid[1]),
                a=fmt(c.ask[0]),
                A=fmt(c.ask[1]),
            )
            return [self._frame(body)]
        if not c.trades:
            return []
        frames: list[Frame] = []
        for t in c.trades:
            t_ms = t.time_ns // 1_000_000
            # m: the buyer was the maker, i.e. the taker sold.
            maker = t.side == "sell"
            if self.kind == "trade":
                body = {"e": "trade", "E": now_ms(), "s": c.symbol, "t": t.trade_id}
                body.update(p=fmt(t.price), q=fmt(t.size), T=t_ms, m=maker)
            else:
                body = {"e": "aggTrade", "E": now_ms(), "s": c.symbol, "a": t.trade_id}
                body.update(p=fmt(t.price), q=fmt(t.size))
                if futures:
                    body["nq"] = fmt(t.size)
                body.update(f=t.trade_id, l=t.trade_id, T=t_ms, m=maker)
            if not futures:
                body["M"] = True
            frames.append(self._frame(body))
        return frames


class _BinanceBase(ExchangeServer):
    """Shared implementation; see the module docstring."""

    FUTURES: ClassVar[bool] = False
    #: REST depth path and its limits.
    DEPTH_PATH: ClassVar[str] = "/api/v3/depth"
    TIME_PATH: ClassVar[str] = "/api/v3/time"
    DEFAULT_LIMIT: ClassVar[int] = 100

    def __init__(
        self,
        specs: Any = None,
        *,
        ping_interval: float | None = 20.0,
        message_limit: int = 5,
        max_streams: int = 1024,
        weight_limit: int = 6000,
        weight_window: float = 60.0,
        ban_after: int = 3,
        ban_seconds: float = 120.0,
        max_age: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(specs, ping_interval=ping_interval, **kwargs)
        self.message_limit = message_limit
        self.max_streams = max_streams
        self.weight_limit = weight_limit
        self.weight_window = weight_window
        self.ban_after = ban_after
        self.ban_seconds = ban_seconds
        self.max_age = max_age
        self._states: dict[Connection, _State] = {}
        self._weight_start = 0.0
        self._weight_used = 0
        self._violations = 0
        self._banned_until = 0.0
        #: Answers per HTTP status (tests look at 429 and 418).
        self.rest_statuses: dict[int, int] = {}
        #: Connections closed for sending too fast (1008).
        self.rate_closes = 0
        #: True while the current step's depth pushes are duplicated (:meth:`Faults.duplicate`).
        self.duplicating = False
        #: The last depth push of each stream (key), re-sent by the duplicate fault.
        self.previous: dict[Any, str] = {}

    # ------------------------------------------------------------------ connections

    def route_of(self, name: str) -> str:
        """The path a stream is served on (futures; spot has one)."""
        if not self.FUTURES:
            return ""
        suffix = name.partition("@")[2].split("@", 1)[0]
        return "public" if suffix.startswith(_PUBLIC) else "market"

    async def on_open(self, conn: Connection) -> bool:
        request = conn.ws.request
        target = urlsplit(request.path if request is not None else "/")
        segments = [s for s in target.path.split("/") if s]
        route = ""
        if self.FUTURES:
            route = "public"
            if segments and segments[0] in ("public", "market"):
                route = segments.pop(0)
        kind = segments[0] if segments else ""
        if kind not in ("ws", "stream"):
            conn.closed = True
            await conn.ws.close(1008, "unknown path")
            return False
        state = self._states[conn] = _State(kind == "stream", route)
        names = segments[1:2] if kind == "ws" else []
        for value in parse_qs(target.query).get("streams", []):
            names += [n for n in value.split("/") if n]
        if names:
            self._add(conn, state, names)
        if self.max_age is not None:
            self.spawn(self._age_limit(conn, self.max_age))
        return True

    def on_close(self, conn: Connection) -> None:
        self._states.pop(conn, None)

    async def _age_limit(self, conn: Connection, age: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + age
        # Polled, so a connection that ends first (or the server stopping) ends this task.
        while not conn.closed and loop.time() < deadline:
            await asyncio.sleep(min(0.05, max(deadline - loop.time(), 0.0)))
        if not conn.closed:
            conn.closed = True
            with contextlib.suppress(Exception):
                await conn.ws.close(1001, "connection age limit")

    def server_shutdown(self, close_after: float = 1.0) -> None:
        """Tell every open connection ``serverShutdown``, then close them after ``close_after``
        seconds (1001)."""
        body = {"e": "serverShutdown", "E": now_ms()}
        for conn, state in list(self._states.items()):
            if conn.closed:
                continue
            frame = _dumps({"stream": "!serverShutdown", "data": body} if state.combined else body)
            self.spawn(self._shutdown(conn, frame, close_after))

    async def _shutdown(self, conn: Connection, frame: str, close_after: float) -> None:
        await conn.send(frame)
        await asyncio.sleep(close_after)
        if not conn.closed:
            conn.closed = True
            with contextlib.suppress(Exception):
                await conn.ws.close(1001, "server shutdown")

    def garbage(self) -> Frame:
        push = '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","b":[["1'
        return push[: self.rng.randint(1, len(push))]

    # ------------------------------------------------------------------ control frames

    def parse_stream(self, name: str) -> _Stream | None:
        """The stream ``name`` names, or None when Binance would deliver nothing for it."""
        symbol_part, _, suffix = name.partition("@")
        symbol = symbol_part.upper()
        if symbol_part != symbol_part.lower() or symbol not in self.market:
            return None
        head, _, speed = suffix.partition("@")
        if speed not in ("", "100ms", "250ms", "500ms", "1000ms"):
            return None
        if head == "depth":
            return _Stream(self, name, symbol, "depth", 0)
        if head in ("depth5", "depth10", "depth20"):
            return _Stream(self, name, symbol, "partial", int(head[5:]))
        if speed:
            return None
        if head in ("trade", "aggTrade", "bookTicker"):
            return _Stream(self, name, symbol, head, 0)
        return None

    async def on_message(self, conn: Connection, message: Frame) -> None:
        state = self._states.get(conn)
        if state is None:
            return
        now = time.monotonic()
        state.requests.append(now)
        while state.requests and state.requests[0] <= now - 1.0:
            state.requests.popleft()
        if len(state.requests) > self.message_limit:
            self.rate_closes += 1
            conn.closed = True
            await conn.ws.close(1008, "Too many requests")
            return
        try:
            request = json.loads(message)
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError:
            await conn.send(_dumps({"code": 3, "msg": "Invalid JSON: expected value at line 1"}))
            return
        rid = request.get("id")
        method = request.get("method")
        params = request.get("params", [])
        if method not in _METHODS:
            variant = json.dumps(method)
            msg = f"Invalid request: unknown variant {variant}, expected one of " + ", ".join(
                f"`{m}`" for m in _METHODS
            )
            await conn.send(_dumps({"code": 2, "msg": msg, "id": rid}))
            return
        if method == "LIST_SUBSCRIPTIONS":
            await conn.send(_dumps({"result": sorted(conn.subs), "id": rid}))
            return
        if method in ("SET_PROPERTY", "GET_PROPERTY"):
            result = state.combined if method == "GET_PROPERTY" else None
            if method == "SET_PROPERTY" and isinstance(params, list) and len(params) == 2:
                state.combined = bool(params[1])
            await conn.send(_dumps({"result": result, "id": rid}))
            return
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            await conn.send(_dumps({"code": 2, "msg": "Invalid request: bad params", "id": rid}))
            return
        if method == "UNSUBSCRIBE":
            for name in params:
                conn.subs.pop(name, None)
            self.unsubscribed(conn)
            await conn.send(_dumps({"result": None, "id": rid}))
            return
        for name in params:
            refused = self.faults.refusal(name)
            if refused is not None:
                await conn.send(_dumps({"code": refused[0], "msg": refused[1], "id": rid}))
                return
        if len(set(conn.subs) | set(params)) > self.max_streams:
            msg = "Invalid request: too many streams"
            await conn.send(_dumps({"code": 2, "msg": msg, "id": rid}))
            return
        if not await conn.send(_dumps({"result": None, "id": rid})):
            return
        self._add(conn, state, params)

    def _add(self, conn: Connection, state: _State, names: list[str]) -> None:
        added = False
        for name in names:
            sub = self.parse_stream(name)
            if sub is None or conn.subs.get(name) is not None:
                continue
            if self.FUTURES and self.route_of(name) != state.route:
                continue  # the wrong path: acknowledged, silent (§8.1)
            conn.subs[name] = sub.wrapped(state.combined)
            added = True
        if added:
            self.subscribed(conn)

    async def _publish(self, change: Any) -> None:
        self.duplicating = self.faults.take_duplicate() > 0
        try:
            await super()._publish(change)
        finally:
            self.duplicating = False

    # ------------------------------------------------------------------ REST

    def routes(self) -> list[Route]:
        return [
            Route("GET", self.DEPTH_PATH, self._depth, snapshot=True),
            Route("GET", self.TIME_PATH, self._time),
            Route("GET", "/api/v3/ping", self._ping),
        ]

    def depth_weight(self, limit: int) -> int | None:
        """Request weight of a depth call with ``limit`` (None: invalid limit)."""
        raise NotImplementedError

    def _charge(self, weight: int) -> web.Response | None:
        """Count ``weight``; a 429/418 answer when the budget is spent (or banned)."""
        now = time.monotonic()
        if now < self._banned_until:
            return self._limited(418, self._banned_until - now, "IP banned")
        if now - self._weight_start >= self.weight_window:
            self._weight_start, self._weight_used, self._violations = now, 0, 0
        if self._weight_used + weight > self.weight_limit:
            self._violations += 1
            if self._violations > self.ban_after:
                self._banned_until = now + self.ban_seconds
                return self._limited(418, self.ban_seconds, "IP banned")
            return self._limited(429, self._weight_start + self.weight_window - now, "")
        self._weight_used += weight
        return None

    def _limited(self, status: int, retry: float, why: str) -> web.Response:
        self.rest_statuses[status] = self.rest_statuses.get(status, 0) + 1
        msg = why or (
            f"Too much request weight used; current limit is {self.weight_limit} request "
            f"weight per {self.weight_window:g} s. Please use WebSocket Streams for live updates."
        )
        response = json_response({"code": -1003, "msg": msg}, status=status)
        response.headers["Retry-After"] = str(max(1, math.ceil(retry)))
        response.headers["X-MBX-USED-WEIGHT-1M"] = str(self._weight_used)
        return response

    async def _depth(self, request: web.Request, shift: int) -> web.Response:
        symbol = request.query.get("symbol", "")
        if symbol not in self.market:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        try:
            limit = int(request.query.get("limit", str(self.DEFAULT_LIMIT)))
        except ValueError:
            limit = -1
        weight = self.depth_weight(limit)
        if weight is None:
            msg = "Data sent for parameter 'limit' is not valid."
            return json_response({"code": -1130, "msg": msg}, status=400)
        limited = self._charge(weight)
        if limited is not None:
            return limited
        snap, last_id = self.snapshot(symbol, limit, shift)
        body: dict[str, Any] = {"lastUpdateId": last_id}
        if self.FUTURES:
            body["E"] = now_ms()
            body["T"] = snap.update_ns // 1_000_000
        body.update(bids=_levels(snap.bids), asks=_levels(snap.asks))
        self.rest_statuses[200] = self.rest_statuses.get(200, 0) + 1
        response = json_response(body)
        response.headers["X-MBX-USED-WEIGHT-1M"] = str(self._weight_used)
        return response

    async def _time(self, request: web.Request, shift: int) -> web.Response:
        return json_response({"serverTime": now_ms()})

    async def _ping(self, request: web.Request, shift: int) -> web.Response:
        return json_response({})


class BinanceSpotServer(_BinanceBase):
    """Simulated Binance spot market streams + REST (see the module docstring)."""

    DEFAULT_SPECS: ClassVar[tuple[SymbolSpec, ...]] = (
        SymbolSpec(
            "BTCUSDT", Decimal("0.01"), Decimal("0.00001"), Decimal("117150.12"), max_lots=500_000
        ),
        SymbolSpec(
            "ETHUSDT", Decimal("0.01"), Decimal("0.0001"), Decimal("2631.57"), max_lots=500_000
        ),
    )

    def ws_path(self) -> str:
        return "/stream"

    def depth_weight(self, limit: int) -> int | None:
        if not 1 <= limit <= 5000:
            return None
        return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


class BinanceFuturesServer(_BinanceBase):
    """Simulated Binance USDⓈ-M futures market streams (``/public``, ``/market``) + REST."""

    FUTURES = True
    DEPTH_PATH = "/fapi/v1/depth"
    TIME_PATH = "/fapi/v1/time"
    DEFAULT_LIMIT = 500
    DEFAULT_SPECS: ClassVar[tuple[SymbolSpec, ...]] = (
        SymbolSpec("BTCUSDT", Decimal("0.1"), Decimal("0.001"), Decimal("117120.3"), max_lots=5000),
        SymbolSpec(
            "ETHUSDT", Decimal("0.01"), Decimal("0.001"), Decimal("2630.42"), max_lots=50_000
        ),
    )
    _WEIGHTS: ClassVar[dict[int, int]] = {
        5: 2,
        10: 2,
        20: 2,
        50: 2,
        100: 5,
        500: 10,
        1000: 20,
    }

    def __init__(
        self,
        specs: Any = None,
        *,
        ping_interval: float | None = 180.0,
        message_limit: int = 10,
        weight_limit: int = 2400,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            specs,
            ping_interval=ping_interval,
            message_limit=message_limit,
            weight_limit=weight_limit,
            **kwargs,
        )

    def ws_path(self) -> str:
        return "/public/stream"

    @property
    def market_url(self) -> str:
        """The ``/market`` combined endpoint (aggTrade and the other market streams)."""
        return self.url.replace("/public/stream", "/market/stream")

    def depth_weight(self, limit: int) -> int | None:
        return self._WEIGHTS.get(limit)


class _SbeStream(_Stream):
    """One SBE stream: binary frames, never wrapped (the ``combined`` wrapper is JSON)."""

    def wrapped(self, combined: bool) -> _Stream:
        self.key = (self.name, "sbe")
        return self

    def render(self, step: Step) -> list[Frame]:
        c = step.change
        spec = self.server.market.spec(c.symbol)
        pexp = int(spec.tick.as_tuple().exponent)
        qexp = int(spec.lot.as_tuple().exponent)
        event_us = time.time_ns() // 1000
        if self.kind == "depth":
            if not c.bids and not c.asks:
                return []
            frame = sbe.depth_diff(
                c.symbol, event_us, c.first_id, c.last_id, c.bids, c.asks, pexp, qexp
            )
            return [frame]
        if self.kind == "partial":
            bids, asks = step.top(self.n)
            return [sbe.depth_snapshot(c.symbol, event_us, c.last_id, bids, asks, pexp, qexp)]
        if self.kind == "bestBidAsk":
            if not step.bbo_changed:
                return []
            return [sbe.best_bid_ask(c.symbol, event_us, c.last_id, c.bid, c.ask, pexp, qexp)]
        if not c.trades:
            return []
        fills = [(t.trade_id, t.price, t.size, t.side == "sell") for t in c.trades]
        return [sbe.trades(c.symbol, event_us, c.time_ns // 1000, fills, pexp, qexp)]


class BinanceSbeServer(BinanceSpotServer):
    """Simulated Binance spot SBE market streams (``stream-sbe.binance.com``, ``binance.md`` §5).

    The upgrade must carry an API key in ``X-MBX-APIKEY`` (Binance: an Ed25519 key; here any
    of ``api_keys``), else HTTP 401 with ``-2015``. Control frames are the JSON ones of the
    spot server; data frames are binary SBE (:mod:`hftws.testing.binance_sbe`): ``<s>@depth``
    (diff, the JSON stream's id space), ``<s>@depth20``, ``<s>@bestBidAsk``, ``<s>@trade``.
    REST is the spot REST (the snapshot a book syncs from).
    """

    def __init__(
        self, specs: Any = None, *, api_keys: tuple[str, ...] = ("test-ed25519-key",), **kw: Any
    ) -> None:
        super().__init__(specs, **kw)
        self.api_keys = frozenset(api_keys)
        #: Upgrades refused for a missing or unknown key.
        self.rejected_keys = 0

    def _process_request(self, connection: Any, request: Any) -> Any:
        refused = super()._process_request(connection, request)
        if refused is not None:
            return refused
        if request.headers.get("X-MBX-APIKEY") not in self.api_keys:
            self.rejected_keys += 1
            body = '{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}\n'
            return connection.respond(401, body)
        return None

    def parse_stream(self, name: str) -> _Stream | None:
        symbol_part, _, suffix = name.partition("@")
        symbol = symbol_part.upper()
        if symbol_part != symbol_part.lower() or symbol not in self.market:
            return None
        kinds = {"depth": ("depth", 0), "depth20": ("partial", 20)}
        kinds |= {"bestBidAsk": ("bestBidAsk", 0), "trade": ("trade", 0)}
        if suffix not in kinds:
            return None
        kind, n = kinds[suffix]
        return _SbeStream(self, name, symbol, kind, n)
