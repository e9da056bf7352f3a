"""Local MEXC spot v3 server: JSON control frames, protobuf pushes, REST depth (``mexc.md``).

Control (text frames, ``mexc.md`` §2): ``SUBSCRIPTION``/``UNSUBSCRIPTION`` with ``params``;
acks ``{"id":<request id or 0>,"code":0,"msg":"<ch1>,<ch2>"}``; a refused channel (unknown
template, bad interval/level, unknown or lower-case symbol, a ``refuse`` fault, or beyond
``max_subscriptions``) gets ``Not Subscribed successfully! [<ch>].  Reason<FW> Blocked! `` (the
partial form ``Subscribed successful! [a]. Not Subscribed successfully! [b, c].  Reason<FW>
Blocked! `` when only some channels fail), where ``<FW>`` is the full-width colon U+FF1A and the
text ends with a space; ``PING``/``ping`` -> ``PONG``. A connection without
any subscription is closed after ``idle_timeout`` seconds (MEXC: 30 s).

Pushes (binary frames, one serialized ``PushDataV3ApiWrapper`` each, encoded by
:mod:`hftws.testing.mexc_wire` with no protobuf runtime):

* ``spot@public.aggre.depth.v3.api.pb@(10ms|100ms)@SYM`` -> 313, ``fromVersion``/``toVersion``
  = the step's id range, absolute quantities, zero deletes;
* ``spot@public.aggre.deals.v3.api.pb@(10ms|100ms)@SYM`` -> 314 (steps with trades);
* ``spot@public.aggre.bookTicker.v3.api.pb@(10ms|100ms)@SYM`` -> 315 (steps that moved the BBO);
* ``spot@public.limit.depth.v3.api.pb@SYM@(5|10|20)`` -> 303 (top N every step).

The interval only names the stream: every driver step is one push. REST (``mexc.md`` §1, §6):
``GET /api/v3/depth?symbol=&limit=`` (default 100, max 5000), ``/api/v3/time``, ``/api/v3/ping``.
Private streams (listenKeys, signed ``/api/v3/userDataStream``, pushes 304/306/307):
:mod:`hftws.testing.private`, reached as ``server.private``.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, ClassVar

from aiohttp import web

from hftws.testing.market import SymbolSpec, fmt
from hftws.testing.mexc_wire import encode
from hftws.testing.private import DEFAULT_ACCOUNT, Account, MexcPrivate
from hftws.testing.rest import Route, json_response
from hftws.testing.server import Connection, ExchangeServer, Frame, Step, Subscription, now_ms

__all__ = ["MexcServer"]

_AGGRE = re.compile(r"spot@public\.aggre\.(depth|deals|bookTicker)\.v3\.api\.pb@(10ms|100ms)@(\w+)")
#: Tail of every refusal (``mexc.md`` §2.2): two spaces, full-width colon, trailing space.
_REASON = "  Reason\uff1a Blocked! "
_LIMIT = re.compile(r"spot@public\.limit\.depth\.v3\.api\.pb@(\w+)@(5|10|20)")


def _dumps(obj: Any) -> str:
    # MEXC sends compact UTF-8 JSON; the refusal text holds a literal full-width colon.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class _MexcSub(Subscription):
    def __init__(self, server: MexcServer, channel: str, symbol: str, kind: str, n: int) -> None:
        super().__init__(channel, symbol)
        self.server = server
        self.kind = kind
        self.n = n
        self.event_type = (
            "spot@public.limit.depth.v3.api.pb" if kind == "limit" else channel.rsplit("@", 1)[0]
        )

    def render(self, step: Step) -> list[Frame]:
        change = step.change
        order_ms = change.time_ns // 1_000_000
        body: dict[str, Any]
        if self.kind == "depth":
            if not change.bids and not change.asks:
                return []
            body = {
                "publicAggreDepths": {
                    "asks": _levels(change.asks),
                    "bids": _levels(change.bids),
                    "eventType": self.event_type,
                    "fromVersion": str(change.first_id),
                    "toVersion": str(change.last_id),
                    "lastOrderCreateTime": order_ms,
                }
            }
        elif self.kind == "deals":
            if not change.trades:
                return []
            deals = [
                {
                    "price": fmt(trade.price),
                    "quantity": fmt(trade.size),
                    "tradeType": 1 if trade.side == "buy" else 2,
                    "time": trade.time_ns // 1_000_000,
                    "tradeId": f"{trade.trade_id}X0",
                }
                for trade in change.trades
            ]
            body = {"publicAggreDeals": {"deals": deals, "eventType": self.event_type}}
        elif self.kind == "bookTicker":
            if not step.bbo_changed:
                return []
            body = {
                "publicAggreBookTicker": {
                    "bidPrice": fmt(change.bid[0]),
                    "bidQuantity": fmt(change.bid[1]),
                    "askPrice": fmt(change.ask[0]),
                    "askQuantity": fmt(change.ask[1]),
                    "version": str(change.last_id),
                    "lastOrderCreateTime": order_ms,
                }
            }
        else:
            bids, asks = step.top(self.n)
            body = {
                "publicLimitDepths": {
                    "asks": _levels(asks),
                    "bids": _levels(bids),
                    "eventType": self.event_type,
                    "version": str(change.last_id),
                    "lastOrderCreateTime": order_ms,
                }
            }
        return [encode({"channel": self.key, "symbol": self.symbol, "sendTime": now_ms(), **body})]


def _levels(levels: Any) -> list[dict[str, str]]:
    return [{"price": fmt(price), "quantity": fmt(qty)} for price, qty in levels]


class MexcServer(ExchangeServer):
    """Simulated MEXC spot WebSocket + REST (see the module docstring).

    Args:
        specs, market, seed, rate, ping_interval, compression, faults, host: see
            :class:`~hftws.testing.server.ExchangeServer`.
        idle_timeout: seconds before a connection with no valid subscription is closed
            (MEXC: 30 s; default here 30 s, tests use less).
        max_subscriptions: subscriptions per connection (MEXC: 30); extra ones are refused.
    """

    DEFAULT_SPECS: ClassVar[tuple[SymbolSpec, ...]] = (
        SymbolSpec(
            "BTCUSDT",
            Decimal("0.01"),
            Decimal("0.000001"),
            Decimal("117145.48"),
            max_lots=5_000_000,
        ),
        SymbolSpec(
            "ETHUSDT", Decimal("0.01"), Decimal("0.0001"), Decimal("2631.55"), max_lots=500_000
        ),
        SymbolSpec(
            "MXUSDT", Decimal("0.0001"), Decimal("0.01"), Decimal("3.5121"), max_lots=1_000_000
        ),
    )
    GARBAGE_BINARY = True

    def __init__(
        self,
        specs: Any = None,
        *,
        idle_timeout: float | None = 30.0,
        max_subscriptions: int = 30,
        accounts: tuple[Account, ...] = (DEFAULT_ACCOUNT,),
        listen_key_ttl: float = 3600.0,
        clock_skew: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(specs, idle_timeout=idle_timeout, **kwargs)
        self.max_subscriptions = max_subscriptions
        #: Accounts, listenKeys and private pushes (:mod:`hftws.testing.private`).
        self.private = MexcPrivate(self, accounts, listen_key_ttl, clock_skew)

    def ws_path(self) -> str:
        return "/ws"

    def garbage(self) -> Frame:
        return self.rng.randbytes(self.rng.randint(8, 64))

    # ------------------------------------------------------------------ control frames

    def parse_channel(self, channel: str) -> _MexcSub | None:
        """The subscription for ``channel``, or ``None`` if MEXC would refuse it."""
        if m := _AGGRE.fullmatch(channel):
            kind, _, symbol = m.groups()
            n = 0
        elif m := _LIMIT.fullmatch(channel):
            symbol, level = m.groups()
            kind, n = "limit", int(level)
        else:
            return None
        if symbol not in self.market:
            return None
        return _MexcSub(self, channel, symbol, kind, n)

    async def on_message(self, conn: Connection, message: Frame) -> None:
        if isinstance(message, bytes):
            return
        try:
            request = json.loads(message)
        except ValueError:
            return
        if not isinstance(request, dict):
            return
        rid = request.get("id", 0)
        rid = rid if isinstance(rid, int) and not isinstance(rid, bool) else 0
        method = request.get("method")
        params = request.get("params")
        params = [p for p in params if isinstance(p, str)] if isinstance(params, list) else []
        if method in ("PING", "ping"):
            await conn.send(_dumps({"id": rid, "code": 0, "msg": "PONG"}))
        elif method == "SUBSCRIPTION":
            await self._subscribe(conn, rid, params)
        elif method == "UNSUBSCRIPTION":
            for channel in params:
                conn.subs.pop(channel, None)
            self.unsubscribed(conn)
            await conn.send(_dumps({"id": rid, "code": 0, "msg": ",".join(params)}))

    async def _subscribe(self, conn: Connection, rid: int, params: list[str]) -> None:
        ok: list[str] = []
        bad: list[str] = []
        new: dict[str, Subscription] = {}
        for channel in params:
            sub = self.private.channel(conn, channel) or self.parse_channel(channel)
            fresh = channel not in conn.subs and channel not in new
            if (
                sub is None
                or self.faults.refusal(channel) is not None
                or (fresh and len(conn.subs) + len(new) >= self.max_subscriptions)
            ):
                bad.append(channel)
                continue
            ok.append(channel)
            if fresh:
                new[channel] = sub
        if not bad:
            msg = ",".join(ok)
        elif not ok:
            msg = f"Not Subscribed successfully! [{','.join(bad)}].{_REASON}"
        else:
            msg = (
                f"Subscribed successful! [{','.join(ok)}]. "
                f"Not Subscribed successfully! [{', '.join(bad)}].{_REASON}"
            )
        if not await conn.send(_dumps({"id": rid, "code": 0, "msg": msg})):
            return
        conn.subs.update(new)
        if new:
            self.subscribed(conn)

    # ------------------------------------------------------------------ REST

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v3/depth", self._depth, snapshot=True),
            Route("GET", "/api/v3/time", self._time),
            Route("GET", "/api/v3/ping", self._ping),
            *self.private.routes(),
        ]

    async def on_open(self, conn: Connection) -> bool:
        return await self.private.on_open(conn)

    def on_close(self, conn: Connection) -> None:
        self.private.closed(conn)

    async def stop(self) -> None:
        self.private.stop()
        await super().stop()

    async def _depth(self, request: web.Request, shift: int) -> web.Response:
        symbol = request.query.get("symbol", "")
        if symbol not in self.market:
            return json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return json_response(
                {"code": -1100, "msg": "Illegal characters in parameter 'limit'."}, 400
            )
        limit = max(1, min(limit, 5000))
        snap, last_id = self.snapshot(symbol, limit, shift)
        return json_response(
            {
                "lastUpdateId": last_id,
                "bids": [[fmt(p), fmt(q)] for p, q in snap.bids],
                "asks": [[fmt(p), fmt(q)] for p, q in snap.asks],
            }
        )

    async def _time(self, request: web.Request, shift: int) -> web.Response:
        return json_response({"serverTime": int(self.private.now() * 1000)})

    async def _ping(self, request: web.Request, shift: int) -> web.Response:
        return json_response({})
