"""Local KuCoin servers: spot and futures classic WebSocket + the REST calls around it
(``kucoin.md``), over the same :class:`~hftws.testing.market.Market` as the other servers.

Connection (§2): ``POST /api/v1/bullet-public`` hands out a token and one instance server
(``endpoint`` = this server's WebSocket URL, ``pingInterval``/``pingTimeout`` in ms). A socket
must come with ``?token=<token>&connectId=<id>``: an unknown or already used token is refused
at the upgrade with HTTP 401 (a token serves one connection); an expired one
(:meth:`KucoinServerBase.expire_tokens`) is accepted, answered ``{"type":"error","code":401,
"data":"token is expired"}`` and closed. Then ``{"id":<connectId>,"type":"welcome"}`` (unless
``welcome=False``). ``{"id","type":"ping"}`` gets ``{"id","type":"pong","timestamp"}`` (unless
``answer_pings=False``); a client that sends no ping for ``pingInterval + pingTimeout`` is
dropped (close 1000). More than 100 client messages in 10 s are answered with ``509``.

Subscriptions: ``{"id","type":"subscribe"|"unsubscribe","topic":"<prefix>:<sym>,<sym>",
"privateChannel","response"}`` -> ``{"id","type":"ack"}`` when ``response`` is true; refusals
``{"id","type":"error","code","data"}``: unknown topic or symbol 404 (``topic ... is not
found``), more than 100 symbols in one request or more than ``max_topics`` on one socket 509,
a :meth:`Faults.refuse` pattern (key: the topic string) with the fault's code (2 -> 404).

Pushes (spot): ``/market/level2:S`` ``trade.l2update`` with ``sequenceStart``/``sequenceEnd`` =
the step's id range and ``changes`` ``[price, size, sequence]`` (sequence a string, the entries'
sequences distinct and ending at ``sequenceEnd``; now and then a ``["0","0",seq]`` entry, which
clients must skip, §4.1); ``/market/match:S`` one ``trade.l3match`` per trade (``time`` ns as a
string); ``/market/ticker:S`` ``trade.ticker`` when the best levels changed. REST
``GET /api/v1/market/orderbook/level2_20|level2_100?symbol=`` (``sequence`` a string, same id
space as the stream; the default specs keep < 100 levels per side, so ``level2_100`` is the
whole book).

Pushes (futures): ``/contractMarket/level2:S`` one change per message, ``"change":"price,side,
size"`` (integer contracts), ``sequence`` strictly ``+1`` (a step with n touched prices is n
messages; the server keeps its own sequence per symbol and the REST snapshot
``GET /api/v1/level2/snapshot?symbol=`` gives the one at the same book, prices and sizes as JSON
numbers, ``ts`` ns); ``/contractMarket/execution:S`` ``match``; ``/contractMarket/tickerV2:S``.
Every fault of :mod:`hftws.testing.faults` applies (gaps skip ids, stale/ahead snapshots,
closes, stalls, garbage, refusals, drops, refused upgrades).
"""

from __future__ import annotations

import asyncio
import collections
import json
import secrets
import time
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from hftws.testing.market import BookChange, Level, SymbolSpec, fmt
from hftws.testing.rest import Route, json_response
from hftws.testing.server import Connection, ExchangeServer, Frame, Step, Subscription

__all__ = ["KucoinFuturesServer", "KucoinServer", "KucoinServerBase"]

#: Client messages allowed per 10 s (§8).
MESSAGES_PER_10S = 100
#: Symbols per subscribe request (§8).
TOPICS_PER_REQUEST = 100


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _ok(data: Any) -> web.Response:
    return json_response({"code": "200000", "data": data})


class KucoinServerBase(ExchangeServer):
    """Shared KuCoin implementation (see the module docstring).

    Args (besides :class:`~hftws.testing.server.ExchangeServer`'s):
        ping_interval_ms / ping_timeout_ms: what the bullet answer announces; a client silent
            for their sum is dropped.
        token_ttl: seconds a token may wait before its connection (then "expired").
        max_topics: topics one socket may hold (spot 400; futures: no cap, 2025 docs).
    """

    FUTURES: ClassVar[bool] = False
    TOPICS: ClassVar[dict[str, str]] = {}
    MAX_TOPICS: ClassVar[int | None] = 400

    def __init__(
        self,
        specs: Any = None,
        *,
        ping_interval_ms: int = 18000,
        ping_timeout_ms: int = 10000,
        token_ttl: float = 24 * 3600.0,
        max_topics: int | None = -1,
        **kwargs: Any,
    ) -> None:
        super().__init__(specs, **kwargs)
        self.ping_interval_ms = ping_interval_ms
        self.ping_timeout_ms = ping_timeout_ms
        self.token_ttl = token_ttl
        self.max_topics = self.MAX_TOPICS if max_topics == -1 else max_topics
        #: token -> expiry (monotonic seconds); a token is removed when a socket uses it.
        self.tokens: dict[str, float] = {}
        #: Tokens handed out / sockets refused for a bad token / expired tokens answered.
        self.tokens_issued = 0
        #: Every token handed out (tests check none leaks into logs or errors).
        self.issued: list[str] = []
        self.tokens_refused = 0
        self.tokens_expired = 0
        #: False: never send the welcome (clients must time out and reconnect).
        self.welcome = True
        #: False: ignore pings (clients must notice the missing pong).
        self.answer_pings = True
        #: Pings received, all connections.
        self.pings = 0
        #: Depth pushes still to be sent twice (a duplicate delivery fault).
        self.duplicates = 0
        self._conn_info: dict[Connection, _ConnInfo] = {}

    # ------------------------------------------------------------------ knobs

    def expire_tokens(self) -> None:
        """Every token handed out so far is expired (the next socket with one gets 401)."""
        now = time.monotonic()
        for token in self.tokens:
            self.tokens[token] = now - 1

    # ------------------------------------------------------------------ REST

    def routes(self) -> list[Route]:
        return [Route("POST", "/api/v1/bullet-public", self._bullet), *self.book_routes()]

    def book_routes(self) -> list[Route]:
        raise NotImplementedError

    async def _bullet(self, request: web.Request, shift: int) -> web.Response:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.monotonic() + self.token_ttl
        self.tokens_issued += 1
        self.issued.append(token)
        server = {
            "endpoint": self.url,
            "encrypt": False,
            "protocol": "websocket",
            "pingInterval": self.ping_interval_ms,
            "pingTimeout": self.ping_timeout_ms,
        }
        return _ok({"token": token, "instanceServers": [server]})

    def _symbol_or_error(self, request: web.Request) -> str | web.Response:
        symbol = request.query.get("symbol", "")
        if symbol not in self.market:
            return json_response({"code": "900001", "msg": f"symbol {symbol} not exists"}, 200)
        return symbol

    # ------------------------------------------------------------------ WebSocket

    def _process_request(self, connection: Any, request: Any) -> Any:
        refused = super()._process_request(connection, request)
        if refused is not None:
            return refused
        query = parse_qs(urlsplit(request.path).query)
        token = query.get("token", [""])[0]
        if token not in self.tokens or not query.get("connectId"):
            self.tokens_refused += 1
            return connection.respond(401, "invalid token\n")
        return None

    async def on_open(self, conn: Connection) -> bool:
        request = conn.ws.request
        assert request is not None  # the upgrade passed _process_request
        query = parse_qs(urlsplit(request.path).query)
        token = query["token"][0]
        connect_id = query["connectId"][0]
        expiry = self.tokens.pop(token, None)
        if expiry is None:  # used by a socket that raced this one
            await conn.ws.close(1008, "token used")
            return False
        if expiry < time.monotonic():
            self.tokens_expired += 1
            await conn.send(
                _dumps({"id": connect_id, "type": "error", "code": 401, "data": "token is expired"})
            )
            conn.closed = True
            await conn.ws.close(1000, "")
            return False
        info = self._conn_info[conn] = _ConnInfo(time.monotonic())
        if self.welcome:
            await conn.send(_dumps({"id": connect_id, "type": "welcome"}))
        info.watchdog = asyncio.ensure_future(self._watch_pings(conn, info))
        return True

    def on_close(self, conn: Connection) -> None:
        info = self._conn_info.pop(conn, None)
        if info is not None and info.watchdog is not None:
            info.watchdog.cancel()

    async def _watch_pings(self, conn: Connection, info: _ConnInfo) -> None:
        """Drop a client that stopped pinging (§2.1: ``pingInterval + pingTimeout``)."""
        allowed = (self.ping_interval_ms + self.ping_timeout_ms) / 1000
        while not conn.closed:
            wait = info.last_ping + allowed - time.monotonic()
            if wait <= 0:
                conn.kill(1000)
                return
            await asyncio.sleep(wait)

    def garbage(self) -> Frame:
        push = '{"topic":"/market/level2:X","type":"message","data":{"changes":{"asks":[["1'
        return push[: self.rng.randint(1, len(push))]

    async def on_message(self, conn: Connection, message: Frame) -> None:
        info = self._conn_info.get(conn)
        if info is None:
            return
        now = time.monotonic()
        sent = info.sent
        sent.append(now)
        while sent and sent[0] < now - 10.0:
            sent.popleft()
        try:
            request = json.loads(message)
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError:
            await conn.send(_dumps({"type": "error", "code": 400, "data": "invalid json"}))
            return
        rid = request.get("id")
        kind = request.get("type")
        if kind == "ping":
            self.pings += 1
            info.last_ping = now
            if self.answer_pings:
                await conn.send(_dumps({"id": rid, "type": "pong", "timestamp": now_ms()}))
            return
        if len(sent) > MESSAGES_PER_10S:
            await self._error(conn, rid, 509, "exceed max permits per 10 seconds")
            return
        topic = request.get("topic")
        if kind not in ("subscribe", "unsubscribe") or not isinstance(topic, str):
            await self._error(conn, rid, 400, "invalid request")
            return
        prefix, _, rest = topic.partition(":")
        symbols = [s for s in rest.split(",") if s]
        if prefix not in self.TOPICS or not symbols:
            await self._error(conn, rid, 404, f"topic {topic} is not found")
            return
        if len(symbols) > TOPICS_PER_REQUEST:
            await self._error(
                conn, rid, 509, "exceed max subscription count limitation of 100 per time"
            )
            return
        unknown = [s for s in symbols if s not in self.market]
        if unknown:
            await self._error(conn, rid, 404, f"topic {prefix}:{unknown[0]} is not found")
            return
        if kind == "unsubscribe":
            for symbol in symbols:
                conn.subs.pop((prefix, symbol), None)
            self.unsubscribed(conn)
            if request.get("response"):
                await conn.send(_dumps({"id": rid, "type": "ack"}))
            return
        refused = self.faults.refusal(topic)
        if refused is not None:
            code, text = refused
            await self._error(conn, rid, 404 if code == 2 else code, text)
            return
        new = [(prefix, s) for s in symbols if (prefix, s) not in conn.subs]
        if self.max_topics is not None and len(conn.subs) + len(new) > self.max_topics:
            limit = self.max_topics
            await self._error(
                conn, rid, 509, f"exceed max subscription count limitation of {limit} per session"
            )
            return
        if request.get("response") and not await conn.send(_dumps({"id": rid, "type": "ack"})):
            return
        for ident in new:
            conn.subs[ident] = self.make_sub(prefix, ident[1])
        self.subscribed(conn)

    async def _error(self, conn: Connection, rid: Any, code: int, text: str) -> None:
        await conn.send(_dumps({"id": rid, "type": "error", "code": code, "data": text}))

    def make_sub(self, prefix: str, symbol: str) -> Subscription:
        kind = self.TOPICS[prefix]
        cls = {"depth": _DepthSub, "trades": _TradesSub, "ticker": _TickerSub}[kind]
        return cls(self, prefix, symbol)

    def message(self, topic: str, subject: str, data: Any, sn: int | None = None) -> str:
        envelope: dict[str, Any] = {"topic": topic, "type": "message", "subject": subject}
        if sn is not None:
            envelope["sn"] = sn
        envelope["data"] = data
        return _dumps(envelope)


class _ConnInfo:
    __slots__ = ("last_ping", "sent", "watchdog")

    def __init__(self, now: float) -> None:
        self.last_ping = now
        self.sent: collections.deque[float] = collections.deque()
        self.watchdog: asyncio.Future[None] | None = None


class _KucoinSub(Subscription):
    def __init__(self, server: KucoinServerBase, prefix: str, symbol: str) -> None:
        super().__init__((prefix, symbol), symbol)
        self.server = server
        self.topic = f"{prefix}:{symbol}"


class _DepthSub(_KucoinSub):
    def render(self, step: Step) -> list[Frame]:
        server = self.server
        if isinstance(server, KucoinFuturesServer):
            frames = server.futures_depth(self.topic, step.change)
        else:
            assert isinstance(server, KucoinServer)
            frames = [server.spot_depth(self.topic, step.change)]
        if server.duplicates > 0 and frames:
            server.duplicates -= 1
            frames = frames + frames  # the whole step delivered again
        return frames


class _TradesSub(_KucoinSub):
    def render(self, step: Step) -> list[Frame]:
        server = self.server
        out: list[Frame] = []
        for t in step.change.trades:
            if server.FUTURES:
                seq = t.trade_id
                data: dict[str, Any] = {
                    "symbol": self.symbol,
                    "sequence": seq,
                    "side": t.side,
                    "size": int(t.size),
                    "price": fmt(t.price),
                    "takerOrderId": f"t{seq}",
                    "makerOrderId": f"m{seq}",
                    "tradeId": str(seq),
                    "ts": t.time_ns,
                }
                out.append(server.message(self.topic, "match", data, sn=seq))
            else:
                data = {
                    "makerOrderId": f"m{t.trade_id}",
                    "price": fmt(t.price),
                    "sequence": str(t.trade_id),
                    "side": t.side,
                    "size": fmt(t.size),
                    "symbol": self.symbol,
                    "takerOrderId": f"t{t.trade_id}",
                    "time": str(t.time_ns),
                    "tradeId": str(t.trade_id),
                    "type": "match",
                }
                out.append(server.message(self.topic, "trade.l3match", data))
        return out


class _TickerSub(_KucoinSub):
    def render(self, step: Step) -> list[Frame]:
        if not step.bbo_changed:
            return []
        c, server = step.change, self.server
        if server.FUTURES:
            data: dict[str, Any] = {
                "symbol": self.symbol,
                "sequence": c.last_id,
                "bestBidSize": int(c.bid[1]),
                "bestBidPrice": fmt(c.bid[0]),
                "bestAskPrice": fmt(c.ask[0]),
                "bestAskSize": int(c.ask[1]),
                "ts": c.time_ns,
            }
            return [server.message(self.topic, "tickerV2", data, sn=c.last_id)]
        last = c.trades[-1] if c.trades else None
        data = {
            "sequence": str(c.last_id),
            "price": fmt(last.price if last else c.bid[0]),
            "size": fmt(last.size if last else Decimal(0)),
            "bestAsk": fmt(c.ask[0]),
            "bestAskSize": fmt(c.ask[1]),
            "bestBid": fmt(c.bid[0]),
            "bestBidSize": fmt(c.bid[1]),
            "time": c.time_ns // 1_000_000,
        }
        return [server.message(self.topic, "trade.ticker", data)]


class KucoinServer(KucoinServerBase):
    """Simulated KuCoin spot (classic WebSocket + bullet-public + ``level2_20/100``)."""

    FUTURES = False
    TOPICS: ClassVar[dict[str, str]] = {
        "/market/level2": "depth",
        "/market/match": "trades",
        "/market/ticker": "ticker",
    }
    MAX_TOPICS: ClassVar[int | None] = 400
    #: Fewer than 100 levels per side: the public ``level2_100`` snapshot is the whole book.
    DEFAULT_SPECS: ClassVar[tuple[SymbolSpec, ...]] = (
        SymbolSpec(
            "BTC-USDT",
            Decimal("0.1"),
            Decimal("0.00000001"),
            Decimal("67993.3"),
            depth=60,
            max_lots=50_000_000,
        ),
        SymbolSpec("ETH-USDT", Decimal("0.01"), Decimal("0.0001"), Decimal("2631.55"), depth=60),
    )

    def book_routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v1/market/orderbook/level2_20", self._partial(20), snapshot=True),
            Route("GET", "/api/v1/market/orderbook/level2_100", self._partial(100), snapshot=True),
        ]

    def _partial(self, limit: int) -> Any:
        async def handler(request: web.Request, shift: int) -> web.Response:
            symbol = self._symbol_or_error(request)
            if not isinstance(symbol, str):
                return symbol
            snap, seq = self.snapshot(symbol, limit, shift)
            return _ok(
                {
                    "time": snap.time_ns // 1_000_000,
                    "sequence": str(seq),
                    "bids": [[fmt(p), fmt(s)] for p, s in snap.bids],
                    "asks": [[fmt(p), fmt(s)] for p, s in snap.asks],
                }
            )

        return handler

    def spot_depth(self, topic: str, c: BookChange) -> str:
        """``trade.l2update`` for one step (entries' sequences distinct, ending at the last)."""
        entries: list[tuple[str, Level]] = [("bids", lv) for lv in c.bids]
        entries += [("asks", lv) for lv in c.asks]
        n = len(entries)
        changes: dict[str, list[list[str]]] = {"asks": [], "bids": []}
        for k, (side, (p, s)) in enumerate(entries):
            seq = max(c.first_id, c.last_id - (n - 1 - k))
            changes[side].append([fmt(p), fmt(s), str(seq)])
        if c.last_id % 7 == 0:
            # KuCoin sends price-0 entries now and then: skipped, only the sequence moves.
            changes["bids"].append(["0", "0", str(c.last_id)])
        data = {
            "changes": changes,
            "sequenceEnd": c.last_id,
            "sequenceStart": c.first_id,
            "symbol": c.symbol,
            "time": c.time_ns // 1_000_000,
        }
        return self.message(topic, "trade.l2update", data)


class KucoinFuturesServer(KucoinServerBase):
    """Simulated KuCoin futures (classic WebSocket + bullet-public + ``level2/snapshot``)."""

    FUTURES = True
    TOPICS: ClassVar[dict[str, str]] = {
        "/contractMarket/level2": "depth",
        "/contractMarket/execution": "trades",
        "/contractMarket/tickerV2": "ticker",
    }
    MAX_TOPICS: ClassVar[int | None] = None
    DEFAULT_SPECS: ClassVar[tuple[SymbolSpec, ...]] = (
        SymbolSpec("XBTUSDTM", Decimal("0.1"), Decimal(1), Decimal("90631.2"), max_lots=5000),
        SymbolSpec("ETHUSDTM", Decimal("0.01"), Decimal(1), Decimal("3150.25"), max_lots=5000),
    )

    def __init__(self, specs: Any = None, **kwargs: Any) -> None:
        super().__init__(specs, **kwargs)
        #: symbol -> (market id, futures sequence) at each step boundary, newest last.
        self._seqs: dict[str, collections.OrderedDict[int, int]] = {}
        #: symbol -> the current step's messages (rendered once, sent to every subscriber).
        self._step_frames: dict[str, tuple[int, list[Frame]]] = {}

    def _seq_map(self, symbol: str) -> collections.OrderedDict[int, int]:
        seqs = self._seqs.get(symbol)
        if seqs is None:
            seqs = self._seqs[symbol] = collections.OrderedDict()
            last = self.market.last_id(symbol)
            seqs[last] = last
        return seqs

    def market_id_at(self, symbol: str, sequence: int) -> int | None:
        """The market id whose book the futures ``sequence`` describes, when ``sequence``
        ends a step (None inside a step: that book never existed as a whole)."""
        for market_id, seq in self._seq_map(symbol).items():
            if seq == sequence:
                return market_id
        return None

    def sequence_at(self, symbol: str, market_id: int) -> int:
        """The futures sequence of the book at market id ``market_id`` (a step boundary)."""
        seqs = self._seq_map(symbol)
        if market_id in seqs:
            return seqs[market_id]
        # Not a boundary we published (a snapshot older than the kept map): the nearest below.
        below = [m for m in seqs if m <= market_id]
        return seqs[below[-1]] if below else next(iter(seqs.values()))

    async def _publish(self, change: BookChange) -> None:
        seqs = self._seq_map(change.symbol)
        prev_market, prev_seq = next(reversed(seqs.items()))
        # Ids skipped by a gap fault are skipped in the futures sequence too.
        skipped = change.first_id - prev_market - 1
        start = prev_seq + max(skipped, 0) + 1
        frames = self._render_futures_depth(change, start)
        seqs[change.last_id] = start + len(frames) - 1
        while len(seqs) > 5000:
            seqs.popitem(last=False)
        self._step_frames[change.symbol] = (change.last_id, frames)
        await super()._publish(change)

    def _render_futures_depth(self, c: BookChange, start: int) -> list[Frame]:
        topic = f"/contractMarket/level2:{c.symbol}"
        out: list[Frame] = []
        seq = start
        ms = c.time_ns // 1_000_000
        changes = [("buy", p, s) for p, s in c.bids] + [("sell", p, s) for p, s in c.asks]
        # One change per message, so every prefix of a step is a book the client will show:
        # removals first, then the rest. After the removals every level left is in the final
        # (uncrossed) book, and adding final levels keeps it so: never a crossed moment.
        changes.sort(key=lambda ch: ch[2] != 0)
        for side, p, s in changes:
            data = {"sequence": seq, "change": f"{fmt(p)},{side},{int(s)}", "timestamp": ms}
            out.append(self.message(topic, "level2", data, sn=seq))
            seq += 1
        return out

    def futures_depth(self, topic: str, c: BookChange) -> list[Frame]:
        got = self._step_frames.get(c.symbol)
        if got is None or got[0] != c.last_id:
            return []
        return got[1]

    def book_routes(self) -> list[Route]:
        return [Route("GET", "/api/v1/level2/snapshot", self._snapshot, snapshot=True)]

    async def _snapshot(self, request: web.Request, shift: int) -> web.Response:
        symbol = self._symbol_or_error(request)
        if not isinstance(symbol, str):
            return symbol
        snap, market_id = self.snapshot(symbol, 100_000, min(shift, 0))
        seq = self.sequence_at(symbol, market_id) + max(shift, 0)
        # Prices and sizes are JSON numbers here (§7.2): written as raw number text.
        bids = ",".join(f"[{fmt(p)},{int(s)}]" for p, s in snap.bids)
        asks = ",".join(f"[{fmt(p)},{int(s)}]" for p, s in snap.asks)
        body = (
            f'{{"code":"200000","data":{{"sequence":{seq},"symbol":"{symbol}",'
            f'"bids":[{bids}],"asks":[{asks}],"ts":{snap.time_ns}}}}}'
        )
        return web.Response(body=body.encode(), content_type="application/json")


def now_ms() -> int:
    return time.time_ns() // 1_000_000
