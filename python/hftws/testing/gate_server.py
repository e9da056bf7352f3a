"""Local Gate.io v4 servers: spot and USDT futures, JSON text frames (``gateio.md``).

One implementation, parameterised by :class:`GateSpotServer` / :class:`GateFuturesServer`.

Control (``gateio.md`` §2): requests ``{"time","id","channel","event","payload"}``; acks
``{"time","time_ms","id"(echo),"conn_id","trace_id","channel","event","payload",
"result":{"status":"success"}}``; refusals add ``"error":{"code":2,"message":...}`` and
``"result":{"status":"fail"}`` (unknown pair: ``unknown currency pair X`` / ``unknown contract
X``; duplicate obu: ``Alert sub ob.X.N``; bad JSON: code 1); ``<prefix>.ping`` -> ``<prefix>.pong``.

Pushes (``event: "update"`` envelopes unless noted; ids share the REST ``with_id`` id space):

* ``spot.order_book_update`` ``[pair, "100ms"|"20ms"]``: ``{t,l,e,E,s,U,u,b,a}``, ``[price,
  amount]`` strings, every change of the whole simulated book (so a REST snapshot with a
  ``limit`` covering the book plus the pushes after it reproduces the truth exactly);
  ``futures.order_book_update`` ``[contract, "100ms"|"20ms", "100"|"50"|"20"]``: ``{t,s,U,u,b,a,l}``
  with ``{"p": price, "s": size}`` levels, integer contract sizes (decimal strings when the
  handshake carried ``X-Gate-Size-Decimal: 1``).
* ``spot.obu`` / ``futures.obu`` ``["ob.PAIR.50"|"ob.PAIR.400"]``: envelope ``{channel, result,
  time_ms}`` only; first a ``full: true`` push of the top N (``u`` = book id), then increments
  ``U``/``u`` that are the diff of the top-N window (levels leaving the window are deleted,
  levels entering it are sent), sides without changes omitted.
* ``spot.book_ticker`` / ``futures.book_ticker`` ``[pair, ...]``: ``{t,u,s,b,B,a,A}`` when the
  best levels changed.
* ``spot.trades``: one push per trade; ``futures.trades``: one push per step, ``result`` an array,
  signed ``size`` (> 0 taker bought).

REST: spot ``GET /api/v4/spot/order_book?currency_pair=&limit=&with_id=true`` (``current``/
``update`` ms), ``/api/v4/spot/time``; futures ``GET /api/v4/futures/usdt/order_book?contract=
&limit=&with_id=true`` (``{"p","s":int}`` levels, ``current``/``update`` float seconds),
``/api/v4/futures/usdt/contracts/{contract}``, ``/api/v4/spot/time`` (both servers; Gate serves
it on the shared REST host). ``limit`` defaults to 10, max 5000. Private channels (auth
verification, injected pushes): :mod:`hftws.testing.private`, reached as ``server.private``.
"""

from __future__ import annotations

import json
import secrets
import time
from decimal import Decimal
from typing import Any, ClassVar

from aiohttp import web

from hftws.testing.market import Level, SymbolSpec, fmt
from hftws.testing.private import DEFAULT_ACCOUNT, Account, GatePrivate
from hftws.testing.rest import Route, json_response
from hftws.testing.server import Connection, ExchangeServer, Frame, Step, Subscription

__all__ = ["GateFuturesServer", "GateSpotServer"]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _times() -> tuple[int, int]:
    ns = time.time_ns()
    return ns // 1_000_000_000, ns // 1_000_000


class _GateBase(ExchangeServer):
    """Shared Gate implementation; subclasses set ``PREFIX`` (``spot``/``futures``)."""

    PREFIX: ClassVar[str] = "spot"
    FUTURES: ClassVar[bool] = False

    def __init__(
        self,
        specs: Any = None,
        *,
        accounts: tuple[Account, ...] = (DEFAULT_ACCOUNT,),
        clock_skew: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(specs, **kwargs)
        #: Channel auth and private pushes (:mod:`hftws.testing.private`).
        self.private = GatePrivate(self, accounts, clock_skew)

    # ------------------------------------------------------------------ formatting

    def size(self, value: Decimal, decimal: bool) -> Any:
        """Wire form of a size: spot strings; futures ints (strings with the decimal header)."""
        if not self.FUTURES or decimal:
            return fmt(value)
        return int(value)

    def levels(self, levels: tuple[Level, ...], decimal: bool) -> list[Any]:
        """Book levels in the channel's shape."""
        if self.FUTURES:
            return [{"p": fmt(p), "s": self.size(s, decimal)} for p, s in levels]
        return [[fmt(p), fmt(s)] for p, s in levels]

    def unknown(self, pair: str) -> str:
        """Gate's refusal text for an unknown instrument."""
        return f"unknown contract {pair}" if self.FUTURES else f"unknown currency pair {pair}"

    def garbage(self) -> Frame:
        # Any prefix of an unterminated object is invalid JSON.
        push = f'{{"time":1,"channel":"{self.PREFIX}.order_book_update","result":{{"b":[["1'
        return push[: self.rng.randint(1, len(push))]

    # ------------------------------------------------------------------ control frames

    async def on_message(self, conn: Connection, message: Frame) -> None:
        try:
            request = json.loads(message)
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError:
            await self._reply(conn, {}, error=(1, "Invalid request body format"))
            return
        channel = request.get("channel")
        if channel == f"{self.PREFIX}.ping":
            sec, ms = _times()
            pong: dict[str, Any] = {"time": sec, "time_ms": ms}
            if isinstance(request.get("id"), int):
                pong["id"] = request["id"]
            pong.update(channel=f"{self.PREFIX}.pong", event="", error=None, result=None)
            await conn.send(_dumps(pong))
            return
        event = request.get("event")
        payload = request.get("payload", [])
        if event not in ("subscribe", "unsubscribe") or not isinstance(payload, list):
            await self._reply(conn, request, error=(2, "Invalid argument provided"))
            return
        if not all(isinstance(p, str) for p in payload):
            await self._reply(conn, request, error=(2, "Invalid argument provided"))
            return
        if channel in self.private.channels:
            subs = self.private.parse(request)
        else:
            subs = self._parse(conn, str(channel), payload)
        if isinstance(subs, tuple):
            await self._reply(conn, request, error=subs)
            return
        if event == "unsubscribe":
            for sub in subs:
                conn.subs.pop(sub.ident, None)
            self.unsubscribed(conn)
            await self._reply(conn, request)
            return
        refused = self.faults.refusal(f"{channel}:{','.join(payload)}")
        if refused is None:
            for sub in subs:
                if isinstance(sub, _ObuSub) and sub.ident in conn.subs:
                    refused = (2, f"Alert sub {sub.stream}")
        if refused is not None:
            await self._reply(conn, request, error=refused)
            return
        if not await self._reply(conn, request):
            return
        for sub in subs:
            conn.subs[sub.ident] = sub
            if isinstance(sub, _ObuSub) and not await conn.send(sub.full()):
                return
        self.subscribed(conn)

    async def _reply(
        self, conn: Connection, request: dict[str, Any], error: tuple[int, str] | None = None
    ) -> bool:
        sec, ms = _times()
        ack: dict[str, Any] = {"time": sec, "time_ms": ms}
        if isinstance(request.get("id"), int):
            ack["id"] = request["id"]
        ack.update(
            conn_id=conn.conn_id,
            trace_id=secrets.token_hex(16),
            channel=request.get("channel", ""),
            event=request.get("event", ""),
            payload=request.get("payload", []),
        )
        if error is not None:
            ack["error"] = {"code": error[0], "message": error[1]}
            ack["result"] = {"status": "fail"}
        else:
            ack["result"] = {"status": "success"}
        return await conn.send(_dumps(ack))

    def _parse(
        self, conn: Connection, channel: str, payload: list[str]
    ) -> list[Subscription] | tuple[int, str]:
        """Subscriptions for a request, or ``(code, message)`` for a refusal."""
        decimal = conn.ws.request is not None and (
            conn.ws.request.headers.get("X-Gate-Size-Decimal") == "1"
        )
        p = self.PREFIX
        if channel == f"{p}.order_book_update":
            if not payload:
                return 2, "Invalid argument provided"
            pair, interval = payload[0], payload[1] if len(payload) > 1 else "100ms"
            level = payload[2] if len(payload) > 2 else ("20" if interval == "20ms" else "100")
            if self.FUTURES:
                valid = (interval, level) in {
                    ("20ms", "20"),
                    ("100ms", "100"),
                    ("100ms", "50"),
                    ("100ms", "20"),
                }
            else:
                valid = interval in ("20ms", "100ms") and len(payload) == 2
            if not valid:
                return 2, "Invalid argument provided"
            if pair not in self.market:
                return 2, self.unknown(pair)
            return [_BookSub(self, channel, pair, interval, level, decimal)]
        if channel == f"{p}.obu":
            subs: list[Subscription] = []
            for stream in payload:
                parts = stream.split(".")
                if len(parts) != 3 or parts[0] != "ob" or parts[2] not in ("50", "400"):
                    return 2, "Invalid argument provided"
                if parts[1] not in self.market:
                    return 2, self.unknown(parts[1])
                subs.append(_ObuSub(self, channel, stream, parts[1], int(parts[2]), decimal))
            return subs or (2, "Invalid argument provided")
        if channel in (f"{p}.book_ticker", f"{p}.trades"):
            for pair in payload:
                if pair not in self.market:
                    return 2, self.unknown(pair)
            kind = _TickerSub if channel.endswith("book_ticker") else _TradesSub
            return [kind(self, channel, pair, decimal) for pair in payload] or (
                2,
                "Invalid argument provided",
            )
        return 2, f"unknown channel {channel}"

    # ------------------------------------------------------------------ REST

    async def _time(self, request: web.Request, shift: int) -> web.Response:
        return json_response({"server_time": int(self.private.now() * 1000)})

    async def _order_book(self, request: web.Request, shift: int) -> web.Response:
        key = "contract" if self.FUTURES else "currency_pair"
        pair = request.query.get(key, "")
        if pair not in self.market:
            label = "CONTRACT_NOT_FOUND" if self.FUTURES else "INVALID_CURRENCY_PAIR"
            return json_response({"label": label, "message": self.unknown(pair)}, status=400)
        try:
            limit = max(1, min(int(request.query.get("limit", "10")), 5000))
        except ValueError:
            return json_response({"label": "INVALID_PARAM_VALUE", "message": "limit"}, 400)
        snap, book_id = self.snapshot(pair, limit, shift)
        body: dict[str, Any] = {}
        if request.query.get("with_id") == "true":
            body["id"] = book_id
        if self.FUTURES:
            body["current"] = round(snap.time_ns / 1e9, 3)
            body["update"] = round(snap.update_ns / 1e9, 3)
        else:
            body["current"] = snap.time_ns // 1_000_000
            body["update"] = snap.update_ns // 1_000_000
        body["asks"] = self.levels(snap.asks, False)
        body["bids"] = self.levels(snap.bids, False)
        return json_response(body)


class _GateSub(Subscription):
    """Base of the Gate streams: knows its server, channel and size format."""

    def __init__(
        self, server: _GateBase, channel: str, symbol: str, decimal: bool, ident: Any, *extra: Any
    ) -> None:
        super().__init__((channel, symbol, decimal, *extra), symbol, ident)
        self.server = server
        self.channel = channel
        self.decimal = decimal

    def envelope(self, result: Any) -> str:
        sec, ms = _times()
        return _dumps(
            {
                "time": sec,
                "time_ms": ms,
                "channel": self.channel,
                "event": "update",
                "result": result,
            }
        )


class _TopWindow:
    """The top-N window one subscription has been told about, and its diffs.

    Gate.io's depth streams describe only the top N levels (``docs/gateio.md``): a level that
    enters the window is sent even if it did not change, and one that leaves it is sent with
    size 0, so a client that keeps N levels stays exact.
    """

    def __init__(self, server: _GateBase, symbol: str, n: int) -> None:
        market = server.market
        bids, asks = market.top(symbol, n)
        self.n = n
        self.bids: dict[Decimal, Decimal] = dict(bids)
        self.asks: dict[Decimal, Decimal] = dict(asks)
        self.u = market.last_id(symbol)

    def diff(self, step: Step) -> tuple[list[Level], list[Level]] | None:
        """The window's changes in this step (None: the step predates the window)."""
        if step.change.last_id <= self.u:
            return None
        bids, asks = step.top(self.n)
        new_bids, new_asks = dict(bids), dict(asks)
        zero = Decimal(0)
        out = []
        for old, new, reverse in ((self.bids, new_bids, True), (self.asks, new_asks, False)):
            diff = [(p, s) for p, s in new.items() if old.get(p) != s]
            diff += [(p, zero) for p in old if p not in new]
            diff.sort(reverse=reverse)
            out.append(diff)
        self.bids, self.asks = new_bids, new_asks
        return out[0], out[1]


class _BookSub(_GateSub):
    """``*.order_book_update``: the changes of the top-N window (N = the stream's level)."""

    shared = False

    def __init__(
        self, server: _GateBase, channel: str, pair: str, interval: str, level: str, decimal: bool
    ) -> None:
        super().__init__(server, channel, pair, decimal, (channel, pair), interval, level)
        self.level = level
        self.window = _TopWindow(server, pair, int(level))

    def render(self, step: Step) -> list[Frame]:
        c, server = step.change, self.server
        changed = self.window.diff(step)
        if changed is None:
            return []
        t = c.time_ns // 1_000_000
        bids = server.levels(tuple(changed[0]), self.decimal)
        asks = server.levels(tuple(changed[1]), self.decimal)
        if server.FUTURES:
            result = {
                "t": t,
                "s": c.symbol,
                "U": c.first_id,
                "u": c.last_id,
                "b": bids,
                "a": asks,
                "l": self.level,
            }
        else:
            result = {
                "t": t,
                "l": self.level,
                "e": "depthUpdate",
                "E": t // 1000,
                "s": c.symbol,
                "U": c.first_id,
                "u": c.last_id,
                "b": bids,
                "a": asks,
            }
        return [self.envelope(result)]


class _ObuSub(_GateSub):
    """``*.obu``: a full top-N push, then diffs of the top-N window (per connection)."""

    shared = False

    def __init__(
        self, server: _GateBase, channel: str, stream: str, pair: str, n: int, decimal: bool
    ) -> None:
        super().__init__(server, channel, pair, decimal, (channel, stream), n)
        self.stream = stream
        self.n = n
        self.window = _TopWindow(server, pair, n)

    def _frame(self, result: dict[str, Any]) -> str:
        return _dumps(
            {"channel": self.channel, "result": result, "time_ms": time.time_ns() // 1_000_000}
        )

    def _obu_levels(self, levels: list[Level]) -> list[list[str]]:
        return [[fmt(p), fmt(s)] for p, s in levels]

    def full(self) -> str:
        """The ``full: true`` push of the current window (resets this subscription's view)."""
        self.window = window = _TopWindow(self.server, self.symbol, self.n)
        return self._frame(
            {
                "t": time.time_ns() // 1_000_000,
                "full": True,
                "s": self.stream,
                "u": window.u,
                "b": self._obu_levels(list(window.bids.items())),
                "a": self._obu_levels(list(window.asks.items())),
            }
        )

    def render(self, step: Step) -> list[Frame]:
        changed = self.window.diff(step)
        if changed is None:
            return []  # subscribed while this step was being published: the full push has it
        result: dict[str, Any] = {
            "t": step.change.time_ns // 1_000_000,
            "s": self.stream,
            "U": step.change.first_id,
            "u": step.change.last_id,
        }
        for key, diff in (("b", changed[0]), ("a", changed[1])):
            if diff:
                result[key] = self._obu_levels(diff)
        return [self._frame(result)]


class _TickerSub(_GateSub):
    """``*.book_ticker``: the best levels whenever they changed."""

    def __init__(self, server: _GateBase, channel: str, pair: str, decimal: bool) -> None:
        super().__init__(server, channel, pair, decimal, (channel, pair))

    def render(self, step: Step) -> list[Frame]:
        if not step.bbo_changed:
            return []
        c, server = step.change, self.server
        result = {
            "t": c.time_ns // 1_000_000,
            "u": c.last_id,
            "s": c.symbol,
            "b": fmt(c.bid[0]),
            "B": server.size(c.bid[1], self.decimal),
            "a": fmt(c.ask[0]),
            "A": server.size(c.ask[1], self.decimal),
        }
        return [self.envelope(result)]


class _TradesSub(_GateSub):
    """``*.trades``: spot one push per trade, futures one array per step."""

    def __init__(self, server: _GateBase, channel: str, pair: str, decimal: bool) -> None:
        super().__init__(server, channel, pair, decimal, (channel, pair))

    def render(self, step: Step) -> list[Frame]:
        trades = step.change.trades
        if not trades:
            return []
        server = self.server
        if server.FUTURES:
            return [
                self.envelope(
                    [
                        {
                            "id": t.trade_id,
                            "contract": self.symbol,
                            "size": server.size(
                                t.size if t.side == "buy" else -t.size, self.decimal
                            ),
                            "price": fmt(t.price),
                            "create_time": t.time_ns // 1_000_000_000,
                            "create_time_ms": t.time_ns // 1_000_000,
                        }
                        for t in trades
                    ]
                )
            ]
        return [
            self.envelope(
                {
                    "id": t.trade_id + 9_000_000_000,
                    "id_market": t.trade_id,
                    "create_time": t.time_ns // 1_000_000_000,
                    "create_time_ms": f"{t.time_ns // 1_000_000}.{(t.time_ns // 100) % 10_000:04d}",
                    "side": t.side,
                    "currency_pair": self.symbol,
                    "amount": fmt(t.size),
                    "price": fmt(t.price),
                    "range": f"{t.trade_id}-{t.trade_id}",
                }
            )
            for t in trades
        ]


class GateSpotServer(_GateBase):
    """Simulated Gate.io spot v4 WebSocket (``/ws/v4/``) + REST (see the module docstring).

    Args: as :class:`~hftws.testing.server.ExchangeServer` (``idle_timeout`` default ``None``).
    """

    PREFIX = "spot"
    FUTURES = False
    DEFAULT_SPECS: ClassVar[tuple[SymbolSpec, ...]] = (
        SymbolSpec(
            "BTC_USDT", Decimal("0.1"), Decimal("0.00001"), Decimal("63250.1"), max_lots=500_000
        ),
        SymbolSpec(
            "ETH_USDT", Decimal("0.01"), Decimal("0.0001"), Decimal("2631.55"), max_lots=500_000
        ),
    )

    def ws_path(self) -> str:
        return "/ws/v4/"

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v4/spot/order_book", self._order_book, snapshot=True),
            Route("GET", "/api/v4/spot/time", self._time),
        ]


class GateFuturesServer(_GateBase):
    """Simulated Gate.io USDT perpetual futures WebSocket (``/v4/ws/usdt``) + REST.

    Sizes are integer contracts (``SymbolSpec.lot == 1``); a client sending the handshake header
    ``X-Gate-Size-Decimal: 1`` receives them as decimal strings. Args: as
    :class:`~hftws.testing.server.ExchangeServer`.
    """

    PREFIX = "futures"
    FUTURES = True
    DEFAULT_SPECS: ClassVar[tuple[SymbolSpec, ...]] = (
        SymbolSpec(
            "BTC_USDT",
            Decimal("0.1"),
            Decimal(1),
            Decimal("63240.3"),
            max_lots=50_000,
            quanto_multiplier=Decimal("0.0001"),
        ),
        SymbolSpec(
            "ETH_USDT",
            Decimal("0.01"),
            Decimal(1),
            Decimal("2631.5"),
            max_lots=50_000,
            quanto_multiplier=Decimal("0.01"),
        ),
    )

    def ws_path(self) -> str:
        return "/v4/ws/usdt"

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v4/futures/usdt/order_book", self._order_book, snapshot=True),
            Route("GET", "/api/v4/futures/usdt/contracts/{contract}", self._contract),
            Route("GET", "/api/v4/spot/time", self._time),
        ]

    async def _contract(self, request: web.Request, shift: int) -> web.Response:
        name = request.match_info["contract"]
        if name not in self.market:
            return json_response(
                {"label": "CONTRACT_NOT_FOUND", "message": self.unknown(name)}, status=404
            )
        spec = self.market.spec(name)
        return json_response(
            {
                "name": name,
                "type": "direct",
                "quanto_multiplier": fmt(spec.quanto_multiplier),
                "order_price_round": fmt(spec.tick),
                "order_size_min": 1,
                "enable_decimal": False,
            }
        )
