"""Local KuCoin private side: signed REST, private tokens, welcome, ping rules, private topics,
the signed full level2 snapshot (``kucoin.md`` §2, §5, §6, §7.3, §8).

:class:`KucoinPrivate` is the part any KuCoin server can hold (``server.private``);
:class:`KucoinSpotPrivateServer` / :class:`KucoinFuturesPrivateServer` host it on their own with
the snapshot endpoints of a simulated market.

Signed REST (§6), checked as KuCoin documents it; refusals are HTTP 401 (``auth_status``)
``{"code": "...", "msg": "..."}``:

- a ``KC-API-*`` header missing -> ``400001``; ``KC-API-TIMESTAMP`` more than 5 s away from the
  server clock -> ``400002``; unknown key -> ``400003``; passphrase (encrypted with the secret
  for key versions 2/3, plain for 1) wrong -> ``400004``; ``KC-API-SIGN`` not the base64
  HMAC-SHA256 of ``timestamp + METHOD + un-encoded path?query + body`` -> ``400005`` (checked
  before the passphrase, so a wrong secret says so).

Tokens: ``POST /api/v1/bullet-private`` (signed) answers ``{"token", "instanceServers": [{
"endpoint": <this server>, "encrypt", "protocol", "pingInterval", "pingTimeout"}]}``. A token
serves **one** socket and lives ``token_ttl`` seconds; a socket opened with an unknown, used or
expired token receives ``{"id": <connectId>, "type": "error", "code": 401, "data": "token is
expired"}`` and is closed (1000). Otherwise the first frame is ``{"id": <connectId>, "type":
"welcome"}``. ``{"id","type":"ping"}`` -> ``{"id","type":"pong"}``; a socket that sends nothing
for ``pingInterval + pingTimeout`` is closed (1000, ``ping timeout``: KuCoin's own behaviour is
not documented, reference point 2).

Subscriptions: ``{"id","type":"subscribe"|"unsubscribe","topic","privateChannel","response"}``;
private topics need ``privateChannel: true`` (else ``400``: our rule, reference point 3),
unknown topics or symbols get ``404 topic <t> does not exist``; ``response: true`` gives
``{"id","type":"ack"}``.

Pushes: tests inject them with ``await server.private.push_order(...)`` and friends (spot
``/spotMarket/tradeOrdersV2``, ``/account/balance``; futures ``/contractMarket/tradeOrders[:s]``,
``/contractAccount/wallet``, ``/contract/position:{s}``/``positionAll``); each returns the number of
sockets it reached. Decimal fields of futures positions go out as JSON numbers, as KuCoin sends
them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

from aiohttp import web
from websockets.exceptions import ConnectionClosed

from hftws.testing.market import SymbolSpec, fmt
from hftws.testing.rest import Route
from hftws.testing.server import Connection, ExchangeServer, Frame, Step, Subscription

__all__ = [
    "DEFAULT_KUCOIN_ACCOUNT",
    "KucoinAccount",
    "KucoinFuturesPrivateServer",
    "KucoinPrivate",
    "KucoinSpotPrivateServer",
    "dumps",
]

SPOT_TOPICS = frozenset(
    {"/spotMarket/tradeOrdersV2", "/spotMarket/tradeOrders", "/account/balance"}
)
FUTURES_TOPICS = frozenset(
    {
        "/contractMarket/tradeOrders",
        "/contractAccount/wallet",
        "/contract/position",
        "/contract/positionAll",
    }
)
#: Topics that take no symbol suffix.
_NO_SYMBOL = frozenset(
    {"/spotMarket/tradeOrdersV2", "/spotMarket/tradeOrders", "/account/balance"}
    | {"/contractAccount/wallet", "/contract/positionAll"}
)
#: Topics that need one.
_NEED_SYMBOL = frozenset({"/contract/position"})
_ERRORS = {
    "400001": "Please check the header of your request for KC-API-KEY, KC-API-SIGN, "
    "KC-API-TIMESTAMP, KC-API-PASSPHRASE",
    "400002": "KC-API-TIMESTAMP Invalid",
    "400003": "KC-API-KEY not exists",
    "400004": "Invalid KC-API-PASSPHRASE",
    "400005": "Signature error",
}
_HEADERS = ("KC-API-KEY", "KC-API-SIGN", "KC-API-TIMESTAMP", "KC-API-PASSPHRASE")


@dataclass(frozen=True)
class KucoinAccount:
    """One API key of the simulated exchange."""

    api_key: str
    api_secret: str
    passphrase: str
    uid: str = "633559791e1cbc0001f319bc"

    def __repr__(self) -> str:
        return f"KucoinAccount(uid={self.uid})"


DEFAULT_KUCOIN_ACCOUNT = KucoinAccount(
    "hftws-kc-key", "hftws-kc-secret-0123456789abcdef", "hftws-kc-passphrase"
)

_NUMBER = re.compile(r'"\\u0000N([-0-9.Ee+]+)\\u0000"')


def _mark_numbers(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return f"\x00N{fmt(obj)}\x00"
    if isinstance(obj, dict):
        return {k: _mark_numbers(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_mark_numbers(v) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    """Compact JSON in which ``Decimal`` values are written as exact JSON numbers."""
    return _NUMBER.sub(r"\1", json.dumps(_mark_numbers(obj), separators=(",", ":")))


def _b64_hmac(secret: str, message: str) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    ).decode()


def ok(data: Any) -> web.Response:
    """KuCoin's success envelope (Decimal values as JSON numbers)."""
    return web.Response(
        body=dumps({"code": "200000", "data": data}).encode(), content_type="application/json"
    )


def error(code: str, msg: str, status: int) -> web.Response:
    return web.Response(
        body=dumps({"code": code, "msg": msg}).encode(),
        status=status,
        content_type="application/json",
    )


class _PrivateTopic(Subscription):
    """A private topic of one socket: fed by injected pushes, never by market steps."""

    shared = False
    market_driven = False

    def __init__(self, prefix: str, symbol: str) -> None:
        super().__init__((prefix, symbol), symbol)

    def render(self, step: Step) -> list[Frame]:
        return []


@dataclass
class _Token:
    account: KucoinAccount
    expires: float
    used: bool = False


class KucoinPrivate:
    """Accounts, signed REST, tokens, the socket rules and the pushes of one KuCoin server.

    Args:
        server: the server whose sockets this serves.
        futures: futures topics (else spot).
        accounts: known keys.
        clock_skew: seconds the server clock runs ahead of the machine's.
        token_ttl: seconds a token stays valid (KuCoin: 24 h).
        ping_interval_ms, ping_timeout_ms: what the token answer announces (and enforces).
        auth_status: HTTP status of signature refusals.
    """

    TIMESTAMP_WINDOW_MS: ClassVar[int] = 5000

    def __init__(
        self,
        server: ExchangeServer,
        *,
        futures: bool = False,
        accounts: tuple[KucoinAccount, ...] = (DEFAULT_KUCOIN_ACCOUNT,),
        clock_skew: float = 0.0,
        token_ttl: float = 86_400.0,
        ping_interval_ms: int = 18_000,
        ping_timeout_ms: int = 10_000,
        auth_status: int = 401,
    ) -> None:
        self.server = server
        self.futures = futures
        self.topics = FUTURES_TOPICS if futures else SPOT_TOPICS
        self.accounts = {a.api_key: a for a in accounts}
        self.clock_skew = clock_skew
        self.token_ttl = token_ttl
        self.ping_interval_ms = ping_interval_ms
        self.ping_timeout_ms = ping_timeout_ms
        self.auth_status = auth_status
        #: Close sockets that stay silent longer than ping interval + timeout.
        self.enforce_ping = True
        #: False: never send the welcome (tests of the client's welcome timeout).
        self.send_welcome = True
        #: False: pings are read but never answered (tests of the client's pong timeout).
        self.answer_pings = True
        #: The next this-many tokens are issued already expired (the socket refuses them).
        self.expire_next_tokens = 0
        self._tokens: dict[str, _Token] = {}
        self._sockets: dict[Connection, tuple[KucoinAccount, str]] = {}
        self._last_rx: dict[Connection, float] = {}
        #: ``(call, outcome)`` of every signed call: outcome ``"ok"`` or the KuCoin code.
        self.auth_log: list[tuple[str, str]] = []
        #: Every token issued, in order (tests check that none is reused).
        self.issued: list[str] = []
        #: ``(token, outcome)`` of every socket: ``"welcome"`` or ``"rejected"``.
        self.socket_log: list[tuple[str, str]] = []
        #: Every ping id received.
        self.pings: list[str] = []

    def now(self) -> float:
        return time.time() + self.clock_skew

    # -- signed REST ---------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/api/v1/bullet-private", self._bullet),
            Route("GET", "/api/v1/timestamp", self._timestamp),
        ]

    async def _timestamp(self, request: web.Request, shift: int) -> web.Response:
        return ok(int(self.now() * 1000))

    async def verify(self, request: web.Request) -> KucoinAccount | web.Response:
        """The account of a correctly signed request, else KuCoin's refusal."""
        call = f"{request.method} {request.path}"
        outcome = await self._check(request)
        self.auth_log.append((call, outcome if isinstance(outcome, str) else "ok"))
        if isinstance(outcome, str):
            return error(outcome, _ERRORS[outcome], self.auth_status)
        return outcome

    async def _check(self, request: web.Request) -> KucoinAccount | str:
        headers = request.headers
        if any(not headers.get(h) for h in _HEADERS):
            return "400001"
        account = self.accounts.get(headers["KC-API-KEY"])
        try:
            stamp = int(headers["KC-API-TIMESTAMP"])
        except ValueError:
            return "400002"
        if abs(self.now() * 1000 - stamp) > self.TIMESTAMP_WINDOW_MS:
            return "400002"
        if account is None:
            return "400003"
        version = headers.get("KC-API-KEY-VERSION", "1")
        secret = account.api_secret
        expected_phrase = (
            account.passphrase if version == "1" else _b64_hmac(secret, account.passphrase)
        )
        # The signature first: a wrong secret is then told apart from a wrong passphrase
        # (KuCoin's own order of checks is not documented).
        body = await request.text()
        message = f"{stamp}{request.method}{unquote(request.raw_path)}{body}"
        if not hmac.compare_digest(headers["KC-API-SIGN"], _b64_hmac(secret, message)):
            return "400005"
        if not hmac.compare_digest(headers["KC-API-PASSPHRASE"], expected_phrase):
            return "400004"
        return account

    async def _bullet(self, request: web.Request, shift: int) -> web.Response:
        verified = await self.verify(request)
        if isinstance(verified, web.Response):
            return verified
        token = secrets.token_urlsafe(48) + "=." + secrets.token_urlsafe(16) + "=="
        expires = self.now() + self.token_ttl
        if self.expire_next_tokens > 0:
            self.expire_next_tokens -= 1
            expires = 0.0
        self._tokens[token] = _Token(verified, expires)
        self.issued.append(token)
        server = {
            "endpoint": self.server.url,
            "encrypt": False,
            "protocol": "websocket",
            "pingInterval": self.ping_interval_ms,
            "pingTimeout": self.ping_timeout_ms,
        }
        return ok({"token": token, "instanceServers": [server]})

    # -- sockets -------------------------------------------------------------------------------

    def expire_tokens(self, *, close_sockets: bool = True) -> int:
        """Expire every token now; with ``close_sockets`` the sockets using one receive the 401
        error and are closed. Returns the number of sockets closed."""
        for entry in self._tokens.values():
            entry.expires = 0.0
        closed = 0
        if close_sockets:
            for conn, (_account, connect_id) in list(self._sockets.items()):
                if not conn.closed:
                    self.server.spawn(self._refuse(conn, connect_id))
                    closed += 1
        return closed

    async def _refuse(self, conn: Connection, connect_id: str) -> None:
        conn.closed = True
        try:
            await conn.ws.send(
                dumps({"id": connect_id, "type": "error", "code": 401, "data": "token is expired"})
            )
            await conn.ws.close(1000, "token is expired")
        except ConnectionClosed:
            return  # the peer is gone already: nothing to report

    async def on_open(self, conn: Connection) -> bool:
        """Check the token, send the welcome, start the ping watchdog."""
        path = conn.ws.request.path if conn.ws.request is not None else ""
        query = dict(parse_qsl(urlsplit(path).query))
        token, connect_id = query.get("token", ""), query.get("connectId", "")
        entry = self._tokens.get(token)
        if entry is None or entry.used or entry.expires <= self.now():
            self.socket_log.append((token, "rejected"))
            await self._refuse(conn, connect_id)
            return False
        entry.used = True  # one socket per token
        self._sockets[conn] = (entry.account, connect_id)
        self._last_rx[conn] = asyncio.get_running_loop().time()
        self.socket_log.append((token, "welcome"))
        if self.send_welcome:
            await conn.send(dumps({"id": connect_id, "type": "welcome"}))
        self.server.spawn(self._watch(conn))
        return True

    async def _watch(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        limit = (self.ping_interval_ms + self.ping_timeout_ms) / 1000
        while not conn.closed:
            await asyncio.sleep(min(0.05, limit / 4))
            silent = loop.time() - self._last_rx.get(conn, loop.time())
            if self.enforce_ping and silent > limit and not conn.closed:
                conn.closed = True
                await conn.ws.close(1000, "ping timeout")

    def closed(self, conn: Connection) -> None:
        self._sockets.pop(conn, None)
        self._last_rx.pop(conn, None)

    @property
    def private_connections(self) -> int:
        """Open sockets on a private token."""
        return sum(1 for c in self._sockets if not c.closed)

    async def on_message(self, conn: Connection, message: Frame) -> None:
        """One client frame: ping, subscribe or unsubscribe."""
        self._last_rx[conn] = asyncio.get_running_loop().time()
        try:
            request = json.loads(message)
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError:
            await conn.send(dumps({"type": "error", "code": 400, "data": "invalid json"}))
            return
        rid = str(request.get("id", ""))
        kind = request.get("type")
        if kind == "ping":
            self.pings.append(rid)
            if self.answer_pings:
                await conn.send(dumps({"id": rid, "type": "pong"}))
            return
        if kind not in ("subscribe", "unsubscribe"):
            await self._error(conn, rid, 400, f"unknown type {kind}")
            return
        topic = str(request.get("topic", ""))
        subs = self._parse(topic)
        if isinstance(subs, tuple):
            await self._error(conn, rid, *subs)
            return
        if request.get("privateChannel") is not True:
            await self._error(conn, rid, 400, "privateChannel must be true for private topics")
            return
        refused = self.server.faults.refusal(topic)
        if refused is not None:
            await self._error(conn, rid, *refused)
            return
        for sub in subs:
            if kind == "subscribe":
                conn.subs[sub.ident] = sub
            else:
                conn.subs.pop(sub.ident, None)
        if request.get("response") is True:
            await conn.send(dumps({"id": rid, "type": "ack"}))
        if kind == "subscribe":
            self.server.subscribed(conn)
        else:
            self.server.unsubscribed(conn)

    async def _error(self, conn: Connection, rid: str, code: int, data: str) -> None:
        await conn.send(dumps({"id": rid, "type": "error", "code": code, "data": data}))

    def _parse(self, topic: str) -> list[Subscription] | tuple[int, str]:
        prefix, colon, rest = topic.partition(":")
        missing = (404, f"topic {topic} does not exist")
        if prefix not in self.topics:
            return missing
        symbols = [s for s in rest.split(",") if s] if colon else []
        if (prefix in _NO_SYMBOL and symbols) or (prefix in _NEED_SYMBOL and not symbols):
            return missing
        if any(s not in self.server.market for s in symbols):
            return missing
        return [_PrivateTopic(prefix, s) for s in symbols or [""]]

    # -- pushes --------------------------------------------------------------------------------

    async def _push(
        self, targets: list[tuple[str, str, str]], data: dict[str, Any], uid: str | None
    ) -> int:
        """Send ``data`` under each ``(prefix, symbol, subject)`` key its subscribers hold."""
        sent = 0
        for conn, (account, _cid) in list(self._sockets.items()):
            if conn.closed or (uid is not None and account.uid != uid):
                continue
            for prefix, symbol, subject in targets:
                if (prefix, symbol) not in conn.subs:
                    continue
                topic = prefix + (f":{symbol}" if symbol else "")
                frame = {
                    "topic": topic,
                    "type": "message",
                    "subject": subject,
                    "userId": account.uid,
                    "channelType": "private",
                    "data": data,
                }
                if await conn.send(dumps(frame)):
                    sent += 1
        return sent

    def _order(self, symbol: str, fields: dict[str, Any]) -> dict[str, Any]:
        ns = int(self.now() * 1e9)
        base: dict[str, Any] = {
            "symbol": symbol,
            "orderType": "limit",
            "side": "buy",
            "orderId": secrets.token_hex(12),
            "type": "open",
            "status": "open",
            "orderTime": ns if self.futures else ns // 1_000_000,
            "ts": ns,
        }
        return base | fields

    async def push_order(
        self, symbol: str | None = None, uid: str | None = None, **fields: Any
    ) -> int:
        """One order event (spot ``/spotMarket/tradeOrdersV2``; futures to both the all-symbol
        ``orderChange`` and the per-symbol ``symbolOrderChange`` subscribers)."""
        if self.futures:
            symbol = symbol or "XBTUSDTM"
            data = self._order(symbol, fields)
            targets = [
                ("/contractMarket/tradeOrders", "", "orderChange"),
                ("/contractMarket/tradeOrders", symbol, "symbolOrderChange"),
            ]
            return await self._push(targets, data, uid)
        data = self._order(symbol or "BTC-USDT", fields)
        return await self._push([("/spotMarket/tradeOrdersV2", "", "orderChange")], data, uid)

    async def push_balance(
        self, currency: str = "USDT", uid: str | None = None, **fields: Any
    ) -> int:
        """One ``/account/balance`` event (spot)."""
        data = {
            "accountId": "548674591753",
            "currency": currency,
            "relationContext": {},
            "relationEvent": "main.transfer",
            "relationEventId": secrets.token_hex(8),
            "time": str(int(self.now() * 1000)),
        } | fields
        return await self._push([("/account/balance", "", "account.balance")], data, uid)

    async def push_wallet(
        self, currency: str = "USDT", uid: str | None = None, **fields: Any
    ) -> int:
        """One ``/contractAccount/wallet`` event (futures)."""
        data = {
            "currency": currency,
            "version": "1",
            "timestamp": str(int(self.now() * 1000)),
        } | fields
        return await self._push(
            [("/contractAccount/wallet", "", "walletBalance.change")], data, uid
        )

    async def push_position(
        self,
        symbol: str = "XBTUSDTM",
        subject: str = "position.change",
        uid: str | None = None,
        **fields: Any,
    ) -> int:
        """One position event (futures; ``Decimal`` fields go out as JSON numbers)."""
        data = {
            "symbol": symbol,
            "marginMode": "ISOLATED",
            "positionSide": "BOTH",
            "changeReason": "positionChange",
            "currentTimestamp": int(self.now() * 1000),
        } | fields
        targets = [
            ("/contract/position", symbol, subject),
            ("/contract/positionAll", "", subject),
        ]
        return await self._push(targets, data, uid)


class KucoinSpotPrivateServer(ExchangeServer):
    """A KuCoin spot server for private streams and the signed full snapshot
    (``GET /api/v3/market/orderbook/level2?symbol=``: ``sequence`` a string, levels
    ``[price, size]`` strings, the whole book).

    Args: as :class:`~hftws.testing.server.ExchangeServer`, plus ``private``: keyword
    arguments of :class:`KucoinPrivate`.
    """

    FUTURES: ClassVar[bool] = False
    SNAPSHOT_PATH: ClassVar[str] = "/api/v3/market/orderbook/level2"
    DEFAULT_SPECS: ClassVar[tuple[SymbolSpec, ...]] = (
        SymbolSpec("BTC-USDT", Decimal("0.1"), Decimal("0.00000001"), Decimal("67993.3")),
        SymbolSpec("ETH-USDT", Decimal("0.01"), Decimal("0.0001"), Decimal("2631.55")),
    )

    def __init__(
        self, specs: Any = None, *, private: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(specs, **kwargs)
        self.private = KucoinPrivate(self, futures=self.FUTURES, **(private or {}))

    def routes(self) -> list[Route]:
        return [*self.private.routes(), Route("GET", self.SNAPSHOT_PATH, self._snapshot, True)]

    def garbage(self) -> Frame:
        push = '{"topic":"/spotMarket/tradeOrdersV2","type":"message","data":{"size":"1'
        return push[: self.rng.randint(1, len(push))]

    async def on_open(self, conn: Connection) -> bool:
        return await self.private.on_open(conn)

    def on_close(self, conn: Connection) -> None:
        self.private.closed(conn)

    async def on_message(self, conn: Connection, message: Frame) -> None:
        await self.private.on_message(conn, message)

    def _levels(self, levels: tuple[tuple[Decimal, Decimal], ...]) -> list[list[Any]]:
        return [[fmt(p), fmt(s)] for p, s in levels]

    async def _snapshot(self, request: web.Request, shift: int) -> web.Response:
        verified = await self.private.verify(request)
        if isinstance(verified, web.Response):
            return verified
        symbol = request.query.get("symbol", "")
        if symbol not in self.market:
            return error("900001", "symbol not exists", 400)
        snap, last_id = self.snapshot(symbol, 1_000_000, shift)
        return ok(
            {
                "time": snap.time_ns // 1_000_000,
                "sequence": str(last_id),
                "bids": self._levels(snap.bids),
                "asks": self._levels(snap.asks),
            }
        )


class KucoinFuturesPrivateServer(KucoinSpotPrivateServer):
    """A KuCoin futures server for private streams and the full snapshot
    (``GET /api/v1/level2/snapshot?symbol=``: public per the reference; prices as JSON numbers,
    sizes integer contracts, ``sequence`` an integer, ``ts`` ns)."""

    FUTURES: ClassVar[bool] = True
    SNAPSHOT_PATH: ClassVar[str] = "/api/v1/level2/snapshot"
    DEFAULT_SPECS: ClassVar[tuple[SymbolSpec, ...]] = (
        SymbolSpec("XBTUSDTM", Decimal("0.1"), Decimal(1), Decimal("90631.2"), max_lots=5000),
        SymbolSpec("ETHUSDTM", Decimal("0.01"), Decimal(1), Decimal("2631.55"), max_lots=5000),
    )

    def garbage(self) -> Frame:
        push = '{"topic":"/contract/position:XBTUSDTM","type":"message","data":{"currentQty":1'
        return push[: self.rng.randint(1, len(push))]

    async def _snapshot(self, request: web.Request, shift: int) -> web.Response:
        symbol = request.query.get("symbol", "")
        if symbol not in self.market:
            return error("300000", "contract does not exist", 400)
        snap, last_id = self.snapshot(symbol, 1_000_000, shift)
        return ok(
            {
                "sequence": last_id,
                "symbol": symbol,
                "bids": [[p, int(s)] for p, s in snap.bids],
                "asks": [[p, int(s)] for p, s in snap.asks],
                "ts": snap.time_ns,
            }
        )
