"""Lifecycle states and the transition tables that are the only way to change them.

Two machines: :class:`ConnectionState` is the lifecycle of one exchange connection as users
see it (``on_state_change``), :class:`ProtocolState` the RFC 6455 state of one socket (the
sans-I/O :class:`~hftws.protocol.ClientProtocol`). A :class:`StateMachine` moves only along its
table; any other move raises :class:`~hftws.errors.IllegalTransition`, so a lifecycle bug
shows up where it happens instead of as a confusing state later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from hftws.errors import IllegalTransition

log = logging.getLogger("hftws.interface")


class ConnectionState(StrEnum):
    """Where a connection is in its lifecycle."""

    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    SUBSCRIBED = "subscribed"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


_C = ConnectionState
#: Allowed moves of a connection. CONNECTING from CONNECTED/SUBSCRIBED is a rollover (a new
#: socket opens while the old one still serves) and CONNECTING -> SUBSCRIBED/CONNECTED is a
#: failed rollover falling back to the socket that kept serving.
CONNECTION_TRANSITIONS: Mapping[ConnectionState, frozenset[ConnectionState]] = {
    _C.IDLE: frozenset({_C.CONNECTING, _C.CLOSED}),
    _C.CONNECTING: frozenset({_C.CONNECTED, _C.SUBSCRIBED, _C.RECONNECTING, _C.CLOSED}),
    _C.CONNECTED: frozenset({_C.SUBSCRIBED, _C.CONNECTING, _C.RECONNECTING, _C.CLOSED}),
    _C.SUBSCRIBED: frozenset({_C.CONNECTED, _C.CONNECTING, _C.RECONNECTING, _C.CLOSED}),
    _C.RECONNECTING: frozenset({_C.CONNECTING, _C.CLOSED}),
    _C.CLOSED: frozenset({_C.CONNECTING}),
}


class ProtocolState(StrEnum):
    """RFC 6455 §4 and §7 states of one client socket."""

    CONNECTING = "connecting"  # upgrade request sent, answer not complete
    OPEN = "open"
    CLOSING = "closing"  # a close frame went out (ours or the echo); waiting for TCP to end
    CLOSED = "closed"


_P = ProtocolState
PROTOCOL_TRANSITIONS: Mapping[ProtocolState, frozenset[ProtocolState]] = {
    _P.CONNECTING: frozenset({_P.OPEN, _P.CLOSED}),
    _P.OPEN: frozenset({_P.CLOSING, _P.CLOSED}),
    _P.CLOSING: frozenset({_P.CLOSED}),
    _P.CLOSED: frozenset(),
}

S = TypeVar("S", bound=StrEnum)


class StateMachine(Generic[S]):
    """A current state, a table of legal moves and listeners told of every change."""

    __slots__ = ("_listeners", "_table", "state")

    def __init__(self, initial: S, table: Mapping[S, frozenset[S]]) -> None:
        self.state: S = initial
        self._table = table
        self._listeners: list[Callable[[S], object]] = []

    def can(self, target: S) -> bool:
        return target is self.state or target in self._table[self.state]

    def move(self, target: S) -> bool:
        """Go to ``target``; False if already there; IllegalTransition if the table forbids it."""
        if target is self.state:
            return False
        if target not in self._table[self.state]:
            raise IllegalTransition(f"illegal state change {self.state.value} -> {target.value}")
        self.state = target
        for cb in self._listeners:
            try:
                cb(target)
            except Exception:
                log.exception("state listener failed")
        return True

    def listen(self, callback: Callable[[S], object]) -> None:
        self._listeners.append(callback)
