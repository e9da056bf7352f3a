"""Local Binance user-data servers with signature checks (``binance.md`` §6, §7, §8.6, §10).

:class:`BinanceSpotUserDataServer` is the spot WebSocket API (``ws://.../ws-api/v3``) for user
data, with ``GET /api/v3/time``:

- ``userDataStream.subscribe.signature`` (any key type) and ``session.logon`` (Ed25519 keys
  only) check, in this order: ``apiKey`` known (else 401 ``-2015``), ``recvWindow`` at most
  60000 (400 ``-1131``), ``timestamp < server + 1000`` and ``server - timestamp <= recvWindow``
  (400 ``-1021``), ``signature`` over the sorted params (HMAC hex, Ed25519/RSA base64; 400
  ``-1022``); a bare ``userDataStream.subscribe`` needs a logon (401 ``-1002``); a second
  subscription of one account on one connection is 400 ``-2035``;
- events go out as ``{"subscriptionId":N,"event":{...}}`` (``push_execution_report``,
  ``push_account_position``, ``push_balance_update``, ``push_list_status``);
  ``terminate()`` sends ``eventStreamTerminated`` and drops the subscriptions, ``revoke(key)``
  the unsolicited ``{"id":null,"status":401,...}``, ``shutdown_notice()`` a
  ``serverShutdown``.

:class:`BinanceFuturesUserDataServer` is USDⓈ-M: ``POST/PUT/DELETE /fapi/v1/listenKey`` (header
``X-MBX-APIKEY``, no signature: unknown key 401 ``-2015``; ``PUT``/``DELETE`` without a live key
400 ``-1125``; ``POST`` with a live key returns it and extends it), ``GET /fapi/v1/time``, the
signed ``GET /fapi/v3/balance`` (REST signature rules of §7, any key type: 401 ``-2015``, 400
``-1021``/``-1022``; answers ``[]``) and
the user-data sockets ``ws://.../private/ws/<listenKey>`` (or ``?listenKey=``; an unknown key is
closed with 1008). A key lives ``listen_key_ttl`` seconds from its creation or last ``PUT``;
when it expires (or on :meth:`~BinanceFuturesUserDataServer.expire`) its sockets get
``listenKeyExpired`` and no more events (``close_sockets=True`` also closes them). Events:
``push_order_trade_update``, ``push_trade_lite``, ``push_account_update``.

Both servers take ``accounts`` (:class:`BinanceAccount`, the server side of a key: the HMAC
secret or the *public* key) and a ``clock_skew`` (seconds) that the time endpoints report too;
every fault of :class:`~hftws.testing.faults.Faults` applies to their sockets.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

from aiohttp import web

from hftws.auth.binance_signing import MAX_RECV_WINDOW, ws_api_payload
from hftws.testing.rest import Route, json_response
from hftws.testing.server import Connection, ExchangeServer, Frame

__all__ = [
    "DEFAULT_BINANCE_ACCOUNT",
    "BinanceAccount",
    "BinanceFuturesUserDataServer",
    "BinanceSpotUserDataServer",
]

_ERRORS = {
    -1002: "You are not authorized to execute this request.",
    -1021: "Timestamp for this request is outside of the recvWindow.",
    -1022: "Signature for this request is not valid.",
    -1102: "Mandatory parameter was not sent, was empty/null, or malformed.",
    -1125: "This listenKey does not exist.",
    -1131: "recvWindow must be less than 60000",
    -2015: "Invalid API-key, IP, or permissions for action.",
    -2035: "User Data Stream subscription already active.",
}
_STATUS = {-1002: 401, -2015: 401}


@dataclass(frozen=True)
class BinanceAccount:
    """One API key as the exchange stores it.

    Args:
        api_key: the key.
        key_type: ``"hmac"``, ``"ed25519"`` or ``"rsa"``.
        secret: the HMAC secret, or the PEM *public* key of an Ed25519/RSA key.
    """

    api_key: str
    key_type: str = "hmac"
    secret: str = field(default="", repr=False)

    def __repr__(self) -> str:
        return f"BinanceAccount({self.key_type})"

    @classmethod
    def from_private_key(cls, api_key: str, key_type: str, private_pem: str) -> BinanceAccount:
        """The server side of an Ed25519/RSA key pair (only the public key is kept)."""
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            PublicFormat,
            load_pem_private_key,
        )

        key = load_pem_private_key(private_pem.encode(), password=None)
        public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        return cls(api_key, key_type, public.decode())

    def verify(self, payload: str, signature: str) -> bool:
        """Is ``signature`` this key's signature of ``payload``?"""
        data = payload.encode()
        if self.key_type == "hmac":
            expected = hmac.new(self.secret.encode(), data, hashlib.sha256).hexdigest()
            return hmac.compare_digest(signature.lower(), expected)
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        public = load_pem_public_key(self.secret.encode())
        try:
            if self.key_type == "ed25519" and isinstance(public, ed25519.Ed25519PublicKey):
                public.verify(raw, data)
                return True
            if self.key_type == "rsa" and isinstance(public, rsa.RSAPublicKey):
                public.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
                return True
        except InvalidSignature:
            return False
        return False


#: The account both servers know unless told otherwise (an HMAC key).
DEFAULT_BINANCE_ACCOUNT = BinanceAccount(
    "hftws-binance-key", "hmac", "hftws-binance-secret-0123456789abcdef"
)


class _BinanceServer(ExchangeServer):
    """Accounts, skewed clock and the time endpoint shared by both servers."""

    TIME_PATH: ClassVar[str] = "/api/v3/time"

    def __init__(
        self,
        accounts: tuple[BinanceAccount, ...] = (DEFAULT_BINANCE_ACCOUNT,),
        *,
        clock_skew: float = 0.0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("rate", None)
        super().__init__((), **kwargs)
        self.accounts = {a.api_key: a for a in accounts}
        #: Seconds the server clock runs ahead of the machine's (negative: behind).
        self.clock_skew = clock_skew
        #: ``(method, outcome)`` of every authenticated call ("ok" or the error code).
        self.calls: list[tuple[str, str]] = []

    def add_account(self, account: BinanceAccount) -> None:
        self.accounts[account.api_key] = account

    def now_ms(self) -> int:
        return int((time.time() + self.clock_skew) * 1000)

    def routes(self) -> list[Route]:
        return [Route("GET", self.TIME_PATH, self._time)]

    async def _time(self, request: web.Request, shift: int) -> web.Response:
        return json_response({"serverTime": self.now_ms()})

    def check_time(self, params: dict[str, Any]) -> int | None:
        """The ``recvWindow`` rule of §7: None when ``timestamp`` is acceptable, else a code."""
        try:
            window = int(params.get("recvWindow", 5000))
            stamp = int(params["timestamp"])
        except (KeyError, TypeError, ValueError):
            return -1102
        if not 0 < window <= MAX_RECV_WINDOW:
            return -1131
        server = self.now_ms()
        if not (stamp < server + 1000 and server - stamp <= window):
            return -1021
        return None

    async def verify_rest(self, request: web.Request) -> BinanceAccount | int:
        """A signed REST request checked as Binance does: ``X-MBX-APIKEY`` known (-2015),
        timestamp (-1021), ``signature`` over the query as sent (percent-encoded, without the
        signature) followed by the body (-1022). The account, or the error code."""
        account = self.accounts.get(request.headers.get("X-MBX-APIKEY", ""))
        if account is None:
            return -2015
        raw_query = request.raw_path.partition("?")[2]
        kept: list[str] = []
        signature = None
        for part in raw_query.split("&") if raw_query else []:
            if part.startswith("signature="):
                signature = unquote(part[len("signature=") :])
            else:
                kept.append(part)
        query = "&".join(kept)
        body = await request.text()
        code = self.check_time(dict(parse_qsl(query)) | dict(parse_qsl(body)))
        if code is not None:
            return code
        if signature is None or not account.verify(query + body, signature):
            return -1022
        return account

    def garbage(self) -> Frame:
        return '{"subscriptionId":0,"event":'


# -- spot: WebSocket API ------------------------------------------------------------------------


class BinanceSpotUserDataServer(_BinanceServer):
    """The spot WebSocket API's user-data methods (module doc)."""

    def __init__(
        self,
        accounts: tuple[BinanceAccount, ...] = (DEFAULT_BINANCE_ACCOUNT,),
        **kwargs: Any,
    ) -> None:
        super().__init__(accounts, **kwargs)
        #: connection -> logged-on account (session.logon).
        self._sessions: dict[Connection, BinanceAccount] = {}
        #: connection -> {subscriptionId: (account, via logon)}.
        self._subs: dict[Connection, dict[int, tuple[BinanceAccount, bool]]] = {}
        self._sub_ids: dict[Connection, itertools.count[int]] = {}

    def ws_path(self) -> str:
        return "/ws-api/v3"

    # -- requests --------------------------------------------------------------------------------

    async def on_message(self, conn: Connection, message: Frame) -> None:
        try:
            request = json.loads(message)
            rid = request["id"]
            method = str(request["method"]).removeprefix("v3/")
        except (ValueError, KeyError, TypeError):
            await conn.send(json.dumps({"id": None, "status": 400, "error": _error(-1102)}))
            return
        params = request.get("params") or {}
        result, code = self._dispatch(conn, method, params if isinstance(params, dict) else {})
        self.calls.append((method, "ok" if code is None else str(code)))
        if code is None:
            answer: dict[str, Any] = {"id": rid, "status": 200, "result": result}
        else:
            answer = {"id": rid, "status": _STATUS.get(code, 400), "error": _error(code)}
        await conn.send(json.dumps(answer, separators=(",", ":")))

    def _dispatch(
        self, conn: Connection, method: str, params: dict[str, Any]
    ) -> tuple[Any, int | None]:
        if method == "session.logon":
            account, code = self._verify(params)
            if account is None:
                return None, code
            if account.key_type != "ed25519":
                return None, -1002
            self._sessions[conn] = account
            now = self.now_ms()
            return {"apiKey": account.api_key, "authorizedSince": now, "serverTime": now}, None
        if method == "userDataStream.subscribe.signature":
            account, code = self._verify(params)
            return (None, code) if account is None else self._subscribe(conn, account, False)
        if method == "userDataStream.subscribe":
            logged = self._sessions.get(conn)
            return (None, -1002) if logged is None else self._subscribe(conn, logged, True)
        if method == "userDataStream.unsubscribe":
            subs = self._subs.get(conn, {})
            wanted = params.get("subscriptionId")
            for sid in [s for s in subs if wanted is None or s == wanted]:
                del subs[sid]
            return {}, None
        if method == "session.subscriptions":
            return [{"subscriptionId": sid} for sid in self._subs.get(conn, {})], None
        if method == "session.logout":
            self._sessions.pop(conn, None)
            return {}, None
        return None, -1102

    def _verify(self, params: dict[str, Any]) -> tuple[BinanceAccount | None, int | None]:
        account = self.accounts.get(str(params.get("apiKey", "")))
        if account is None:
            return None, -2015
        code = self.check_time(params)
        if code is not None:
            return None, code
        signature = params.get("signature")
        if not isinstance(signature, str) or not account.verify(ws_api_payload(params), signature):
            return None, -1022
        return account, None

    def _subscribe(
        self, conn: Connection, account: BinanceAccount, via_logon: bool
    ) -> tuple[Any, int | None]:
        subs = self._subs.setdefault(conn, {})
        if any(a == account for a, _ in subs.values()):
            return None, -2035
        sid = next(self._sub_ids.setdefault(conn, itertools.count()))
        subs[sid] = (account, via_logon)
        return {"subscriptionId": sid}, None

    def on_close(self, conn: Connection) -> None:
        self._sessions.pop(conn, None)
        self._subs.pop(conn, None)
        self._sub_ids.pop(conn, None)

    # -- events ------------------------------------------------------------------------------------

    @property
    def subscriptions(self) -> int:
        """Active user-data subscriptions over all open connections."""
        return sum(len(s) for c, s in self._subs.items() if not c.closed)

    async def push(self, event: dict[str, Any], api_key: str | None = None) -> int:
        """Send ``event`` to every subscription of the account (default: the first one)."""
        key = api_key or next(iter(self.accounts), "")
        sent = 0
        for conn, subs in list(self._subs.items()):
            for sid, (account, _) in list(subs.items()):
                if account.api_key == key and not conn.closed:
                    frame = {"subscriptionId": sid, "event": event}
                    if await conn.send(json.dumps(frame, separators=(",", ":"))):
                        sent += 1
        return sent

    async def push_execution_report(self, **fields: Any) -> int:
        """An ``executionReport`` (doc sample defaults; ``fields`` override)."""
        now = self.now_ms()
        event = {
            "e": "executionReport",
            "E": now,
            "s": "ETHBTC",
            "c": "mUvoqJxFIILMdfAW5iGSOW",
            "S": "BUY",
            "o": "LIMIT",
            "f": "GTC",
            "q": "1.00000000",
            "p": "0.10264410",
            "P": "0.00000000",
            "F": "0.00000000",
            "g": -1,
            "C": "",
            "x": "NEW",
            "X": "NEW",
            "r": "NONE",
            "i": 4293153,
            "l": "0.00000000",
            "z": "0.00000000",
            "L": "0.00000000",
            "n": "0",
            "N": None,
            "T": now,
            "t": -1,
            "v": 3,
            "I": 8641984,
            "w": True,
            "m": False,
            "M": False,
            "O": now,
            "Z": "0.00000000",
            "Y": "0.00000000",
            "Q": "0.00000000",
            "W": now,
            "V": "NONE",
        } | fields
        return await self.push(event)

    async def push_account_position(self, balances: list[tuple[str, str, str]]) -> int:
        """An ``outboundAccountPosition`` with ``(asset, free, locked)`` entries."""
        now = self.now_ms()
        entries = [{"a": a, "f": f, "l": lk} for a, f, lk in balances]
        return await self.push({"e": "outboundAccountPosition", "E": now, "u": now, "B": entries})

    async def push_balance_update(self, asset: str, delta: str) -> int:
        """A ``balanceUpdate`` (deposit, withdrawal, transfer)."""
        now = self.now_ms()
        return await self.push({"e": "balanceUpdate", "E": now, "a": asset, "d": delta, "T": now})

    async def push_list_status(self, **fields: Any) -> int:
        """A ``listStatus`` of an OCO (``fields`` override)."""
        now = self.now_ms()
        event = {
            "e": "listStatus",
            "E": now,
            "s": "ETHBTC",
            "g": 2,
            "c": "OCO",
            "l": "EXEC_STARTED",
            "L": "EXECUTING",
            "r": "NONE",
            "C": "F359cd1Up5DfBIMfZ3FXo5",
            "T": now,
            "O": [
                {"s": "ETHBTC", "i": 17, "c": "AJYsMjErWJesZvqlJCTUgL"},
                {"s": "ETHBTC", "i": 18, "c": "bfYPSQdLoqAJeNrOr9adzq"},
            ],
        } | fields
        return await self.push(event)

    async def terminate(self) -> int:
        """``eventStreamTerminated`` to every subscription, which then ends."""
        sent = 0
        for conn, subs in list(self._subs.items()):
            for sid in list(subs):
                frame = {"subscriptionId": sid, "event": {"e": "eventStreamTerminated", "E": 1}}
                if await conn.send(json.dumps(frame)):
                    sent += 1
                del subs[sid]
        return sent

    async def revoke(self, api_key: str) -> int:
        """The key is revoked: forgotten, and its sessions get the unsolicited 401."""
        self.accounts.pop(api_key, None)
        frame = json.dumps({"id": None, "status": 401, "error": _error(-2015)})
        sent = 0
        for conn, subs in list(self._subs.items()):
            mine = [sid for sid, (a, _) in subs.items() if a.api_key == api_key]
            for sid in mine:
                del subs[sid]
            if mine and await conn.send(frame):
                sent += 1
        return sent

    async def shutdown_notice(self) -> int:
        """``{"event":{"e":"serverShutdown",...}}`` to every open connection."""
        frame = json.dumps({"event": {"e": "serverShutdown", "E": self.now_ms()}})
        sent = 0
        for conn in list(self._conns):
            if await conn.send(frame):
                sent += 1
        return sent


def _error(code: int) -> dict[str, Any]:
    return {"code": code, "msg": _ERRORS[code]}


# -- USDⓈ-M futures: listenKey REST + /private stream ---------------------------------------------


class BinanceFuturesUserDataServer(_BinanceServer):
    """USDⓈ-M listenKeys and the ``/private`` user-data stream (module doc)."""

    TIME_PATH: ClassVar[str] = "/fapi/v1/time"
    PATH: ClassVar[str] = "/fapi/v1/listenKey"
    BALANCE_PATH: ClassVar[str] = "/fapi/v3/balance"

    def __init__(
        self,
        accounts: tuple[BinanceAccount, ...] = (DEFAULT_BINANCE_ACCOUNT,),
        *,
        listen_key_ttl: float = 3600.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(accounts, **kwargs)
        #: Seconds a listenKey lives after its creation or last keep-alive (Binance: 60 min).
        self.listen_key_ttl = listen_key_ttl
        #: listenKey -> account (live keys; one per account).
        self._keys: dict[str, BinanceAccount] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        #: connection -> its listenKey (None once the key expired: no more events).
        self._conn_keys: dict[Connection, str | None] = {}
        #: When set, every ``PUT`` gets this ``(HTTP status, JSON body)`` instead (clients must
        #: treat any 4xx as "the key is gone", whatever the code and text).
        self.put_answer: tuple[int, dict[str, Any]] | None = None

    def ws_path(self) -> str:
        return "/private/ws"

    # -- REST ------------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            *super().routes(),
            *(Route(m, self.PATH, self._listen_key) for m in ("POST", "PUT", "DELETE")),
            Route("GET", self.BALANCE_PATH, self._balance),
        ]

    async def _balance(self, request: web.Request, shift: int) -> web.Response:
        """A signed USER_DATA call: the REST signature rules of §7, then an empty balance."""
        verified = await self.verify_rest(request)
        if isinstance(verified, int):
            return self._refuse("GET balance", verified)
        self.calls.append(("GET balance", "ok"))
        return json_response([])

    async def _listen_key(self, request: web.Request, shift: int) -> web.Response:
        method = request.method
        account = self.accounts.get(request.headers.get("X-MBX-APIKEY", ""))
        if account is None:
            return self._refuse(method, -2015)
        key = next((k for k, a in self._keys.items() if a == account), None)
        if method == "POST":
            if key is None:
                key = secrets.token_urlsafe(48)
                self._keys[key] = account
            self._arm(key)
            self.calls.append((method, "ok"))
            return json_response({"listenKey": key})
        if method == "PUT" and self.put_answer is not None:
            status, body = self.put_answer
            self.calls.append((method, str(status)))
            return json_response(body, status=status)
        if key is None:
            return self._refuse(method, -1125)
        if method == "PUT":
            self._arm(key)
        else:
            self.expire(key, notify=False, close_sockets=True)
        self.calls.append((method, "ok"))
        return json_response({"listenKey": key} if method == "PUT" else {})

    def _refuse(self, method: str, code: int) -> web.Response:
        self.calls.append((method, str(code)))
        return json_response(_error(code), status=_STATUS.get(code, 400))

    def _arm(self, key: str) -> None:
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(self.listen_key_ttl, self.expire, key)

    @property
    def listen_keys(self) -> frozenset[str]:
        """Keys currently valid."""
        return frozenset(self._keys)

    def expire(
        self, key: str | None = None, *, notify: bool = True, close_sockets: bool = False
    ) -> int:
        """Expire ``key`` (default: every key) now; returns the number of sockets told.

        Its sockets get ``listenKeyExpired`` (``notify``) and no more events; with
        ``close_sockets`` they are closed too."""
        told = 0
        for k in [key] if key is not None else list(self._keys):
            self._keys.pop(k, None)
            timer = self._timers.pop(k, None)
            if timer is not None:
                timer.cancel()
            frame = json.dumps({"e": "listenKeyExpired", "E": self.now_ms(), "listenKey": k})
            for conn, ck in list(self._conn_keys.items()):
                if ck != k or conn.closed:
                    continue
                self._conn_keys[conn] = None
                if notify:
                    self.spawn(conn.send(frame))
                    told += 1
                if close_sockets:
                    conn.closed = True
                    self.spawn(conn.ws.close(1000, "listenKey expired"))
        return told

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        await super().stop()

    # -- WebSocket -------------------------------------------------------------------------------

    async def on_open(self, conn: Connection) -> bool:
        request = conn.ws.request
        parts = urlsplit(request.path if request is not None else "")
        key = parts.path.removeprefix(self.ws_path()).strip("/") or dict(
            parse_qsl(parts.query)
        ).get("listenKey", "")
        if key not in self._keys:
            conn.closed = True
            await conn.ws.close(1008, "invalid listenKey")
            return False
        self._conn_keys[conn] = key
        return True

    async def on_message(self, conn: Connection, message: Frame) -> None:
        """Client frames on a user-data socket are ignored (nothing to subscribe)."""

    def on_close(self, conn: Connection) -> None:
        self._conn_keys.pop(conn, None)

    @property
    def private_connections(self) -> int:
        """Open sockets whose key is still valid."""
        return sum(1 for c, k in self._conn_keys.items() if k is not None and not c.closed)

    async def push(self, event: dict[str, Any], api_key: str | None = None) -> int:
        """Send ``event`` to the live sockets of the account (default: the first one)."""
        wanted = api_key or next(iter(self.accounts), "")
        frame = json.dumps(event, separators=(",", ":"))
        sent = 0
        for conn, key in list(self._conn_keys.items()):
            account = self._keys.get(key) if key is not None else None
            if account is not None and account.api_key == wanted and await conn.send(frame):
                sent += 1
        return sent

    async def push_order_trade_update(self, **order: Any) -> int:
        """An ``ORDER_TRADE_UPDATE`` (doc sample defaults; ``order`` overrides ``o``)."""
        now = self.now_ms()
        o = {
            "s": "BTCUSDT",
            "c": "TEST",
            "S": "SELL",
            "o": "LIMIT",
            "f": "GTC",
            "q": "0.001",
            "p": "7103.04",
            "ap": "0",
            "sp": "0",
            "x": "NEW",
            "X": "NEW",
            "i": 8886774,
            "l": "0",
            "z": "0",
            "L": "0",
            "N": "USDT",
            "n": "0",
            "T": now,
            "t": 0,
            "b": "0",
            "a": "9.91",
            "m": False,
            "R": False,
            "wt": "CONTRACT_PRICE",
            "ot": "LIMIT",
            "ps": "BOTH",
            "cp": False,
            "rp": "0",
        } | order
        return await self.push({"e": "ORDER_TRADE_UPDATE", "E": now, "T": now, "o": o})

    async def push_trade_lite(self, **fields: Any) -> int:
        """A ``TRADE_LITE`` (doc sample defaults)."""
        now = self.now_ms()
        event = {
            "e": "TRADE_LITE",
            "E": now,
            "T": now,
            "s": "BTCUSDT",
            "q": "0.001",
            "p": "0",
            "m": False,
            "c": "z8hcUoOsqEdKMeKPSABslD",
            "S": "BUY",
            "L": "64089.20",
            "l": "0.040",
            "t": 109100866,
            "i": 8886774,
        } | fields
        return await self.push(event)

    async def push_account_update(
        self,
        balances: list[dict[str, str]] | None = None,
        positions: list[dict[str, str]] | None = None,
        reason: str = "ORDER",
    ) -> int:
        """An ``ACCOUNT_UPDATE`` with ``B`` (``a, wb, cw, bc``) and ``P`` entries."""
        now = self.now_ms()
        a = {"m": reason, "B": balances or [], "P": positions or []}
        return await self.push({"e": "ACCOUNT_UPDATE", "E": now, "T": now, "a": a})
