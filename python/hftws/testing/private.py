"""Private (authenticated) side of the local exchange servers: accounts, auth, pushed events.

MEXC (``mexc.md`` §7): signed ``POST/PUT/DELETE/GET /api/v3/userDataStream`` checked as the
exchange does: header ``X-MEXC-APIKEY`` must name a known key (else ``10072``); ``recvWindow``
(default 5000) must be < 60000 (``700005``); ``timestamp`` must satisfy ``timestamp < server +
1000`` and ``server - timestamp <= recvWindow`` (``700003``); ``signature`` must be the HMAC-SHA256
of ``query-without-signature + body`` (``700002``). Errors are HTTP 400 ``{"code","msg"}``.
listenKeys live ``listen_key_ttl`` seconds from creation or the last ``PUT``; on expiry the server
closes the sockets using the key (close 1000 ``listenKey expired``) and forgets it, so a later
``PUT``/``DELETE`` gets ``{"code":730100,"msg":"Invalid listen key"}`` (our code: MEXC's is not
documented) and a socket opened with it receives the raw text ``Invalid listen key`` and is closed.
Private channels are accepted only on ``/ws?listenKey=<valid key>`` connections.

Gate.io (``gateio.md`` §5.1, §2.3, §6.5): a private (un)subscribe must carry ``auth`` with a known
``KEY`` (else code 4, ``{"label":"INVALID_KEY",...}``), a ``time`` within 60 s of the server clock
(else code 2, ``REQUEST_EXPIRED``) and the right ``SIGN`` (else code 2, ``INVALID_SIGNATURE``);
no ``auth`` at all is code 4 ``Authentication fail``. Futures payloads must start with the
account's uid (else code 2 ``Invalid argument provided``).

Tests inject events with ``await server.private.push_order(...)`` and friends; each returns the
number of connections the frame went to. Both servers can run a skewed clock (``clock_skew``,
seconds) that their time endpoints report too.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web

from hftws.testing import mexc_wire
from hftws.testing.rest import Route, json_response
from hftws.testing.server import Connection, Frame, Step, Subscription

if TYPE_CHECKING:
    from hftws.testing.gate_server import _GateBase
    from hftws.testing.mexc_server import MexcServer

__all__ = ["DEFAULT_ACCOUNT", "Account", "GatePrivate", "MexcPrivate"]


@dataclass(frozen=True)
class Account:
    """One API key of the simulated exchange."""

    api_key: str
    api_secret: str
    uid: str = "10001"

    def __repr__(self) -> str:
        return f"Account(uid={self.uid})"


#: The account every server knows unless told otherwise.
DEFAULT_ACCOUNT = Account("hftws-test-key", "hftws-test-secret-0123456789abcdef", "10001")


class _PrivateSub(Subscription):
    """A private channel of one connection: fed by injected events, never by the market."""

    shared = False
    market_driven = False

    def __init__(self, channel: str, param: str = "") -> None:
        super().__init__((channel, param), "", (channel, param))
        self.channel = channel
        self.param = param

    def render(self, step: Step) -> list[Frame]:
        return []


class _Accounts:
    def __init__(self, accounts: tuple[Account, ...], clock_skew: float) -> None:
        self.accounts = {a.api_key: a for a in accounts}
        #: Seconds the server clock runs ahead of the machine's (negative: behind).
        self.clock_skew = clock_skew

    def add(self, account: Account) -> None:
        self.accounts[account.api_key] = account

    def now(self) -> float:
        return time.time() + self.clock_skew


# -- MEXC -----------------------------------------------------------------------------------------

_MEXC_ERRORS = {
    10072: "Api key info invalid",
    700002: "Signature for this request is not valid.",
    700003: "Timestamp for this request is outside of the recvWindow.",
    700005: "recvWindow must less than 60000",
}
INVALID_LISTEN_KEY = "Invalid listen key"
MEXC_PRIVATE_CHANNELS = frozenset(
    {
        "spot@private.orders.v3.api.pb",
        "spot@private.deals.v3.api.pb",
        "spot@private.account.v3.api.pb",
    }
)


def _mexc_error(code: int, msg: str | None = None) -> web.Response:
    return json_response({"code": code, "msg": msg or _MEXC_ERRORS[code]}, status=400)


class MexcPrivate(_Accounts):
    """listenKeys, signed REST and private pushes of :class:`MexcServer`."""

    def __init__(
        self,
        server: MexcServer,
        accounts: tuple[Account, ...] = (DEFAULT_ACCOUNT,),
        listen_key_ttl: float = 3600.0,
        clock_skew: float = 0.0,
    ) -> None:
        super().__init__(accounts, clock_skew)
        self.server = server
        #: Seconds a listenKey lives after its creation or last keepalive (MEXC: 60 min).
        self.listen_key_ttl = listen_key_ttl
        self._keys: dict[str, tuple[Account, float]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._conn_keys: dict[Connection, str] = {}
        #: ``(method, outcome)`` of every userDataStream call (outcome: "ok" or the error code).
        self.calls: list[tuple[str, str]] = []
        #: What a call with an unknown listenKey gets: HTTP status, code and text. MEXC does not
        #: document them, so clients must not depend on them; tests change them to check that.
        self.invalid_key_answer: tuple[int, int, str] = (400, 730100, INVALID_LISTEN_KEY)
        #: The raw text a socket opened with an unknown listenKey receives before its close.
        self.invalid_key_text = INVALID_LISTEN_KEY

    # -- listenKeys --------------------------------------------------------------------------

    @property
    def listen_keys(self) -> frozenset[str]:
        """Keys currently valid."""
        return frozenset(self._keys)

    def _arm(self, key: str) -> None:
        loop = asyncio.get_running_loop()
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        account = self._keys[key][0]
        self._keys[key] = (account, loop.time() + self.listen_key_ttl)
        self._timers[key] = loop.call_later(self.listen_key_ttl, self.expire, key)

    def expire(self, key: str | None = None, *, close_sockets: bool = True) -> int:
        """Expire ``key`` (default: every key) now; returns the number of sockets closed.

        ``close_sockets=False`` only forgets the key (the next keepalive is refused)."""
        closed = 0
        for k in [key] if key is not None else list(self._keys):
            self._keys.pop(k, None)
            timer = self._timers.pop(k, None)
            if timer is not None:
                timer.cancel()
            for conn, ck in list(self._conn_keys.items()):
                if close_sockets and ck == k and not conn.closed:
                    conn.closed = True
                    self.server.spawn(conn.ws.close(1000, "listenKey expired"))
                    closed += 1
        return closed

    def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    # -- REST ----------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        path = "/api/v3/userDataStream"
        return [Route(m, path, self._user_data_stream) for m in ("POST", "PUT", "DELETE", "GET")]

    async def _verify(self, request: web.Request) -> tuple[Account, dict[str, str]] | web.Response:
        account = self.accounts.get(request.headers.get("X-MEXC-APIKEY", ""))
        if account is None:
            return _mexc_error(10072)
        raw_query = request.raw_path.partition("?")[2]
        body = await request.text()
        signature = None
        kept = []
        for part in raw_query.split("&") if raw_query else []:
            if part.startswith("signature="):
                signature = part[len("signature=") :]
            else:
                kept.append(part)
        query = "&".join(kept)
        params = dict(parse_qsl(query)) | dict(parse_qsl(body))
        if signature is None:
            # The signature may travel in the body instead.
            body_parts = [p for p in body.split("&") if not p.startswith("signature=")]
            found = [p for p in body.split("&") if p.startswith("signature=")]
            if found:
                signature = found[0][len("signature=") :]
                body = "&".join(body_parts)
        try:
            window = int(params.get("recvWindow", "5000"))
            stamp = int(params["timestamp"])
        except (KeyError, ValueError):
            return _mexc_error(700003)
        if window >= 60000:
            return _mexc_error(700005)
        server_ms = int(self.now() * 1000)
        if not (stamp < server_ms + 1000 and server_ms - stamp <= window):
            return _mexc_error(700003)
        expected = hmac.new(
            account.api_secret.encode(), (query + body).encode(), hashlib.sha256
        ).hexdigest()
        if signature is None or not hmac.compare_digest(signature, expected):
            return _mexc_error(700002)
        return account, params

    async def _user_data_stream(self, request: web.Request, shift: int) -> web.Response:
        verified = await self._verify(request)
        method = request.method
        if isinstance(verified, web.Response):
            self.calls.append((method, str(json.loads(verified.text or "{}")["code"])))
            return verified
        account, params = verified
        if method == "POST":
            key = secrets.token_hex(32)
            self._keys[key] = (account, 0.0)
            self._arm(key)
            self.calls.append((method, "ok"))
            return json_response({"listenKey": key})
        if method == "GET":
            mine = [k for k, (a, _) in self._keys.items() if a == account]
            self.calls.append((method, "ok"))
            return json_response({"listenKey": mine})
        key = params.get("listenKey", "")
        entry = self._keys.get(key)
        if entry is None or entry[0] != account:
            self.calls.append((method, "invalid_key"))
            status, code, msg = self.invalid_key_answer
            return json_response({"code": code, "msg": msg}, status=status)
        if method == "PUT":
            self._arm(key)
        else:
            self.expire(key)
        self.calls.append((method, "ok"))
        return json_response({"listenKey": key})

    # -- WebSocket -----------------------------------------------------------------------------

    async def on_open(self, conn: Connection) -> bool:
        """Accept public sockets and private ones with a valid key; reject the others."""
        path = conn.ws.request.path if conn.ws.request is not None else ""
        query = dict(parse_qsl(urlsplit(path).query))
        if "listenKey" not in query:
            return True
        key = query["listenKey"]
        if key not in self._keys:
            await conn.ws.send(self.invalid_key_text)
            conn.closed = True
            await conn.ws.close(1000, "invalid listen key")
            return False
        self._conn_keys[conn] = key
        return True

    def channel(self, conn: Connection, channel: str) -> Subscription | None:
        """The private subscription for ``channel`` on ``conn`` (None: not a private socket)."""
        if channel in MEXC_PRIVATE_CHANNELS and conn in self._conn_keys:
            return _PrivateSub(channel)
        return None

    def closed(self, conn: Connection) -> None:
        self._conn_keys.pop(conn, None)

    @property
    def private_connections(self) -> int:
        """Open sockets on a listenKey."""
        return sum(1 for c in self._conn_keys if not c.closed)

    async def _push(self, channel: str, symbol: str | None, body: dict[str, Any]) -> int:
        push: dict[str, Any] = {"channel": channel, "sendTime": int(self.now() * 1000)}
        if symbol is not None:
            push["symbol"] = symbol
        frame = mexc_wire.encode(push | body)
        sent = 0
        for conn, _key in list(self._conn_keys.items()):
            if not conn.closed and channel in conn.subs and await conn.send(frame):
                sent += 1
        return sent

    async def push_order(self, symbol: str = "BTCUSDT", **fields: Any) -> int:
        """A ``PrivateOrdersV3Api`` push (fields by schema name, e.g. ``price="1.5"``)."""
        body = {
            "id": "C02__000000000000000001",
            "clientId": "",
            "price": "0",
            "quantity": "0",
            "orderType": 1,
            "tradeType": 1,
            "status": 1,
            "createTime": int(self.now() * 1000),
        } | fields
        return await self._push(
            "spot@private.orders.v3.api.pb", symbol, {"privateOrders": _pb(body)}
        )

    async def push_deal(self, symbol: str = "BTCUSDT", **fields: Any) -> int:
        """A ``PrivateDealsV3Api`` push."""
        body = {"tradeType": 1, "time": int(self.now() * 1000)} | fields
        return await self._push("spot@private.deals.v3.api.pb", symbol, {"privateDeals": _pb(body)})

    async def push_account(self, **fields: Any) -> int:
        """A ``PrivateAccountV3Api`` push (no symbol in the wrapper)."""
        body = {"vcoinName": "USDT", "time": int(self.now() * 1000)} | fields
        return await self._push(
            "spot@private.account.v3.api.pb", None, {"privateAccount": _pb(body)}
        )


def _pb(body: dict[str, Any]) -> dict[str, Any]:
    # Callers may pass Decimal amounts; the schema's decimals are strings.
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in body.items()}


# -- Gate.io --------------------------------------------------------------------------------------

_GATE_SPOT = frozenset({"spot.orders", "spot.usertrades", "spot.balances"})
_GATE_FUTURES = frozenset(
    {"futures.orders", "futures.usertrades", "futures.positions", "futures.balances"}
)


def _label(label: str, message: str) -> str:
    return json.dumps({"label": label, "message": message})


class GatePrivate(_Accounts):
    """Channel auth and private pushes of the Gate servers."""

    EXPIRY: ClassVar[float] = 60.0

    def __init__(
        self,
        server: _GateBase,
        accounts: tuple[Account, ...] = (DEFAULT_ACCOUNT,),
        clock_skew: float = 0.0,
    ) -> None:
        super().__init__(accounts, clock_skew)
        self.server = server
        self.channels = _GATE_FUTURES if server.FUTURES else _GATE_SPOT
        #: ``(channel, outcome)`` of every private request (outcome: "ok" or the error label).
        self.auth_log: list[tuple[str, str]] = []

    def verify(self, request: dict[str, Any]) -> tuple[int, str] | None:
        """``None`` if the request's ``auth`` is valid, else Gate's ``(code, message)``."""
        channel = str(request.get("channel"))
        auth = request.get("auth")
        outcome: tuple[int, str] | None = None
        if not isinstance(auth, dict) or auth.get("method") != "api_key":
            outcome = (4, "Authentication fail")
        else:
            account = self.accounts.get(str(auth.get("KEY", "")))
            t = request.get("time")
            if account is None:
                outcome = (4, _label("INVALID_KEY", "Invalid key provided"))
            elif not isinstance(t, int) or abs(self.now() - t) > self.EXPIRY:
                outcome = (
                    2,
                    _label(
                        "REQUEST_EXPIRED",
                        "gap between request Timestamp and server time exceeds 60",
                    ),
                )
            else:
                message = f"channel={channel}&event={request.get('event')}&time={t}"
                expected = hmac.new(
                    account.api_secret.encode(), message.encode(), hashlib.sha512
                ).hexdigest()
                if not hmac.compare_digest(str(auth.get("SIGN", "")), expected):
                    outcome = (2, _label("INVALID_SIGNATURE", "Signature mismatch"))
                elif self.server.FUTURES and (request.get("payload") or [None])[0] != account.uid:
                    outcome = (2, "Invalid argument provided")
        label = "ok" if outcome is None else (_maybe_label(outcome[1]) or f"code {outcome[0]}")
        self.auth_log.append((channel, label))
        return outcome

    def parse(self, request: dict[str, Any]) -> list[Subscription] | tuple[int, str]:
        """Verified private subscriptions of ``request`` or ``(code, message)``."""
        refused = self.verify(request)
        if refused is not None:
            return refused
        channel = str(request["channel"])
        payload = [str(p) for p in request.get("payload", [])]
        if self.server.FUTURES:
            payload = payload[1:]  # the uid
        if channel.endswith(".balances"):
            return [_PrivateSub(channel)]
        if not payload:
            return 2, "Invalid argument provided"
        for pair in payload:
            if pair != "!all" and pair not in self.server.market:
                return 2, self.server.unknown(pair)
        return [_PrivateSub(channel, pair) for pair in payload]

    async def push(self, channel: str, records: list[dict[str, Any]], symbol: str = "") -> int:
        """Push ``records`` (one ``result`` array) to the subscribers of ``channel``."""
        ns = int(self.now() * 1e9)
        frame = json.dumps(
            {
                "time": ns // 1_000_000_000,
                "time_ms": ns // 1_000_000,
                "channel": channel,
                "event": "update",
                "result": records,
            },
            separators=(",", ":"),
        )
        sent = 0
        for conn in list(self.server._conns):
            if conn.closed:
                continue
            subs = conn.subs
            if (channel, "") in subs or (channel, "!all") in subs or (channel, symbol) in subs:
                if await conn.send(frame):
                    sent += 1
        return sent

    def _prefix(self) -> str:
        return "futures" if self.server.FUTURES else "spot"

    async def push_order(self, pair: str = "BTC_USDT", **fields: Any) -> int:
        """One ``*.orders`` record (spot or futures shape; ``fields`` override defaults)."""
        ns = int(self.now() * 1e9)
        if self.server.FUTURES:
            record: dict[str, Any] = {
                "id": 1,
                "contract": pair,
                "user": "10001",
                "create_time_ms": ns // 1_000_000,
                "price": 0,
                "fill_price": 0,
                "size": 0,
                "left": 0,
                "tif": "gtc",
                "status": "open",
                "finish_as": "",
                "text": "",
            }
        else:
            record = {
                "id": "1",
                "user": 10001,
                "text": "",
                "create_time": str(ns // 1_000_000_000),
                "create_time_ms": str(ns // 1_000_000),
                "update_time": str(ns // 1_000_000_000),
                "update_time_ms": str(ns // 1_000_000),
                "event": "put",
                "currency_pair": pair,
                "type": "limit",
                "account": "spot",
                "side": "buy",
                "amount": "0",
                "price": "0",
                "time_in_force": "gtc",
                "left": "0",
                "filled_total": "0",
                "finish_as": "open",
            }
        return await self.push(f"{self._prefix()}.orders", [record | fields], pair)

    async def push_user_trade(self, pair: str = "BTC_USDT", **fields: Any) -> int:
        """One ``*.usertrades`` record."""
        ns = int(self.now() * 1e9)
        key = "contract" if self.server.FUTURES else "currency_pair"
        record: dict[str, Any] = {
            "id": 1,
            "order_id": "1",
            key: pair,
            "create_time": ns // 1_000_000_000,
            "create_time_ms": str(ns // 1_000_000),
            "role": "taker",
            "text": "",
        }
        return await self.push(f"{self._prefix()}.usertrades", [record | fields], pair)

    async def push_balance(self, **fields: Any) -> int:
        """One ``*.balances`` record."""
        ns = int(self.now() * 1e9)
        if self.server.FUTURES:
            record: dict[str, Any] = {
                "time": ns // 1_000_000_000,
                "time_ms": ns // 1_000_000,
                "user": "10001",
                "currency": "USDT",
                "type": "fee",
                "text": "",
            }
        else:
            record = {
                "timestamp": str(ns // 1_000_000_000),
                "timestamp_ms": str(ns // 1_000_000),
                "user": "10001",
                "currency": "USDT",
                "change_type": "order-create",
            }
        return await self.push(f"{self._prefix()}.balances", [record | fields])

    async def push_position(self, contract: str = "BTC_USDT", **fields: Any) -> int:
        """One ``futures.positions`` record."""
        ns = int(self.now() * 1e9)
        record: dict[str, Any] = {
            "contract": contract,
            "size": 0,
            "mode": "single",
            "time": ns // 1_000_000_000,
            "time_ms": ns // 1_000_000,
            "user": "10001",
        }
        return await self.push("futures.positions", [record | fields], contract)


def _maybe_label(message: str) -> str | None:
    try:
        data = json.loads(message)
    except ValueError:
        return None
    return data.get("label") if isinstance(data, dict) else None
