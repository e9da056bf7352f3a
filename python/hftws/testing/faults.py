"""Misbehaviour knobs shared by every local exchange server.

Each server owns one :class:`Faults` (``server.faults``); tests flip knobs at run time.
There are three kinds of knobs:

* **Actions** hit every WebSocket connection open at the moment of the call:
  :meth:`Faults.close_with`, :meth:`Faults.stall`, :meth:`Faults.send_garbage`.
* **Stream knobs** change what the driver publishes next: :meth:`Faults.gap`,
  :meth:`Faults.duplicate` (servers that implement it: Binance).
* **Standing knobs** stay until cleared (:meth:`Faults.reset` clears everything):
  :meth:`Faults.refuse` (subscriptions), :meth:`Faults.drop_after` (connections, including
  future ones), and the REST knobs, each of which applies to the next ``times`` REST responses
  (``times=None``: until reset): :meth:`Faults.rest_stale`, :meth:`Faults.rest_ahead`,
  :meth:`Faults.rest_delay`, :meth:`Faults.rest_status`, :meth:`Faults.rest_malformed`.

Close codes: ``1005`` writes a close frame with an EMPTY payload (bytes ``88 00``) straight to the
transport, then closes TCP (a peer sees "no status code"); ``1006`` aborts the TCP connection
without any close frame; any other code is a normal close handshake with that code.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Action", "Faults", "RestFault"]


@dataclass(frozen=True, slots=True)
class Action:
    """A one-shot action for the connections open now (sent to the server's listener)."""

    kind: Literal["close", "stall", "unstall", "garbage", "rearm"]
    code: int = 0
    count: int = 0


@dataclass(slots=True)
class RestFault:
    """One armed REST misbehaviour; ``times`` left (``None`` = unlimited)."""

    kind: Literal["stale", "ahead", "delay", "status", "malformed"]
    times: int | None
    ids: int = 0
    seconds: float = 0.0
    status: int = 0
    retry_after: float | None = None


class Faults:
    """Runtime-settable misbehaviour of one server (see the module docstring)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[Action], None]] = []
        self._refused: dict[str, tuple[int, str]] = {}
        self._gap_ids = 0
        self._duplicates = 0
        self._drop_after: int | None = None
        self._drop_random = False
        self._drop_code = 1006
        self._rest: list[RestFault] = []
        self._upgrades_refused = 0
        self._upgrade_status = 503

    # ------------------------------------------------------------------ actions (open conns)

    def close_with(self, code: int) -> None:
        """Close every open connection: 1005 (empty close frame), 1006 (TCP abort) or a normal
        close frame carrying ``code`` (e.g. 1011)."""
        self._emit(Action("close", code=code))

    def stall(self) -> None:
        """Open connections go silent: no pushes, no acks, no pongs (app or RFC 6455: reading
        is paused), TCP stays open until :meth:`unstall`, the client leaves, or the server stops."""
        self._emit(Action("stall"))

    def unstall(self) -> None:
        """Resume stalled connections (pushes continue with the live stream, ids jump)."""
        self._emit(Action("unstall"))

    def send_garbage(self, count: int = 1) -> None:
        """Send ``count`` undecodable frames on every open connection: random bytes in a binary
        frame (MEXC) or truncated JSON in a text frame (Gate)."""
        self._emit(Action("garbage", count=count))

    # ------------------------------------------------------------------ stream knobs

    def gap(self, ids: int = 1) -> None:
        """The next depth push of every streamed symbol silently skips at least ``ids`` update
        ids (the truth book moves, subscribers never see those changes)."""
        self._gap_ids += ids

    def take_gap(self) -> int:
        """Server side: ids to skip before the next step (resets the knob)."""
        ids, self._gap_ids = self._gap_ids, 0
        return ids

    def duplicate(self, steps: int = 1) -> None:
        """The depth pushes of the next ``steps`` published steps are sent twice, then the
        push before them once more (a duplicate and an out-of-order stale push)."""
        self._duplicates += steps

    def take_duplicate(self) -> int:
        """Server side: 1 if the step being published is duplicated (consumes it), else 0."""
        if self._duplicates <= 0:
            return 0
        self._duplicates -= 1
        return 1

    # ------------------------------------------------------------------ standing knobs

    def refuse(self, pattern: str, *, code: int = 2, message: str | None = None) -> None:
        """Refuse subscriptions whose key matches the ``fnmatch`` ``pattern``.

        Keys: MEXC the channel string (``spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT``);
        Gate ``<channel>:<payload items joined by ",">`` (``spot.order_book_update:BTC_USDT,100ms``,
        ``spot.obu:ob.BTC_USDT.50``); Binance the stream name (``btcusdt@depth@100ms``). MEXC
        answers with its "Blocked!" refusal; Gate with ``error: {code, message}``; Binance with
        ``{"code", "msg", "id"}`` (default message ``refused <key>``).
        """
        self._refused[pattern] = (code, message or "")

    def allow(self, pattern: str) -> None:
        """Undo :meth:`refuse` for exactly ``pattern``."""
        self._refused.pop(pattern, None)

    def refusal(self, key: str) -> tuple[int, str] | None:
        """Server side: ``(code, message)`` if ``key`` is refused, else ``None``."""
        for pattern, (code, message) in self._refused.items():
            if fnmatch.fnmatchcase(key, pattern):
                return code, message or f"refused {key}"
        return None

    def drop_after(self, messages: int | None, *, random: bool = False, code: int = 1006) -> None:
        """Every connection (open now or later) is closed with ``code`` after sending
        ``messages`` more messages (acks included); ``random=True`` draws the count uniformly from
        ``1..messages`` per connection. ``None`` disarms."""
        self._drop_after, self._drop_random, self._drop_code = messages, random, code
        self._emit(Action("rearm"))

    @property
    def drop_policy(self) -> tuple[int | None, bool, int]:
        """Server side: ``(messages, random, code)`` of :meth:`drop_after`."""
        return self._drop_after, self._drop_random, self._drop_code

    # ------------------------------------------------------------------ REST knobs

    def refuse_upgrades(self, times: int = 1, *, status: int = 503) -> None:
        """The next ``times`` WebSocket upgrades are answered with HTTP ``status``."""
        self._upgrades_refused, self._upgrade_status = times, status

    def take_upgrade_refusal(self) -> int | None:
        """Server side: the HTTP status to refuse this upgrade with (consumes one), or None."""
        if self._upgrades_refused <= 0:
            return None
        self._upgrades_refused -= 1
        return self._upgrade_status

    def rest_stale(self, ids: int, *, times: int | None = 1) -> None:
        """Book snapshots describe the book ``ids`` update ids in the past (exact past content)."""
        self._rest.append(RestFault("stale", times, ids=ids))

    def rest_ahead(self, ids: int, *, times: int | None = 1) -> None:
        """Book snapshots carry an id ``ids`` beyond anything streamed (current content)."""
        self._rest.append(RestFault("ahead", times, ids=ids))

    def rest_delay(self, seconds: float, *, times: int | None = 1) -> None:
        """REST responses are sent after ``seconds`` (the snapshot is taken after the wait)."""
        self._rest.append(RestFault("delay", times, seconds=seconds))

    def rest_status(
        self, status: int, *, retry_after: float | None = None, times: int | None = 1
    ) -> None:
        """REST responses fail with HTTP ``status`` (429, 418, 5xx), with a ``Retry-After``
        header when ``retry_after`` is given."""
        self._rest.append(RestFault("status", times, status=status, retry_after=retry_after))

    def rest_malformed(self, *, times: int | None = 1) -> None:
        """REST responses are truncated JSON (status 200, ``application/json``)."""
        self._rest.append(RestFault("malformed", times))

    def take_rest(self) -> list[RestFault]:
        """Server side: the REST faults for one response (consumes one use of each)."""
        out: list[RestFault] = []
        for fault in self._rest:
            out.append(fault)
            if fault.times is not None:
                fault.times -= 1
        self._rest = [f for f in self._rest if f.times is None or f.times > 0]
        return out

    # ------------------------------------------------------------------ housekeeping

    def reset(self) -> None:
        """Clear every standing knob, pending gap and REST fault (stalled connections resume)."""
        self._upgrades_refused = 0
        self._refused.clear()
        self._gap_ids = 0
        self._duplicates = 0
        self._rest.clear()
        self.drop_after(None)
        self.unstall()

    def attach(self, listener: Callable[[Action], None]) -> None:
        """Server side: receive actions."""
        self._listeners.append(listener)

    def detach(self, listener: Callable[[Action], None]) -> None:
        """Server side: stop receiving actions."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, action: Action) -> None:
        for listener in list(self._listeners):
            listener(action)
