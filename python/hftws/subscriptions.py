"""The subscription set of one connection: active, pending and refused streams, as data.

No I/O and no clock: the connection asks the set what to send and tells it what the exchange
answered. ``active`` is what the connection keeps subscribed (re-sent after every reconnect),
``pending`` the requests sent and not yet answered (request key -> streams it covers),
``refused`` what the exchange turned down (never retried in a loop: it leaves ``active``).
Every confirmation or refusal, first subscribe or re-subscribe, is reported to the
``on_result`` listeners as ``callback(subscription, ok, reason)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hftws.errors import SubscriptionError

log = logging.getLogger("hftws.subscription")


@dataclass(frozen=True, order=True)
class Subscription:
    """One stream: an exchange channel and its parameters (pair, interval, ...)."""

    channel: str
    params: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.channel + (f"[{','.join(self.params)}]" if self.params else "")


#: What an exchange protocol reads from one ack: (request key, confirmed, refused, reason).
AckOutcome = tuple[object, frozenset[Subscription], frozenset[Subscription], str]
#: ``callback(subscription, ok, reason)``.
ResultCallback = Callable[[Subscription, bool, str], object]


class SubscriptionSet:
    """Active, pending and refused subscriptions of one connection (see the module doc)."""

    def __init__(self, max_subscriptions: int | None = None) -> None:
        self.max_subscriptions = max_subscriptions
        self.active: set[Subscription] = set()
        self.refused: set[Subscription] = set()
        self.pending: dict[object, list[Subscription]] = {}
        self._listeners: list[ResultCallback] = []

    # -- queries --------------------------------------------------------------------------------

    def __contains__(self, sub: object) -> bool:
        return sub in self.active

    def __len__(self) -> int:
        return len(self.active)

    @property
    def capacity(self) -> int | None:
        """How many more subscriptions fit (None: unlimited)."""
        cap = self.max_subscriptions
        return None if cap is None else cap - len(self.active)

    def snapshot(self) -> list[Subscription]:
        """The active set in a stable order (what a reconnect re-sends)."""
        return sorted(self.active)

    # -- changes --------------------------------------------------------------------------------

    def add(self, subs: Iterable[Subscription]) -> list[Subscription]:
        """Want ``subs``; returns the new ones. SubscriptionError when over the cap."""
        new = [s for s in dict.fromkeys(subs) if s not in self.active]
        cap = self.max_subscriptions
        if cap is not None and len(self.active) + len(new) > cap:
            raise SubscriptionError(
                f"{len(self.active) + len(new)} subscriptions exceed this connection's limit "
                f"of {cap}; use a WebSocketManager to spread them over connections"
            )
        self.active.update(new)
        self.refused.difference_update(new)
        return new

    def remove(self, subs: Iterable[Subscription]) -> list[Subscription]:
        """Stop wanting ``subs``; returns those that were active."""
        gone = [s for s in dict.fromkeys(subs) if s in self.active]
        self.active.difference_update(gone)
        return gone

    def restore(self, subs: Iterable[Subscription]) -> None:
        """Want ``subs`` again after an attempt that was not the exchange's verdict (a
        rejected listenKey): they go back to ``active`` and out of ``refused``."""
        subs = set(subs)
        self.active.update(subs)
        self.refused.difference_update(subs)

    def track(self, key: object, covered: list[Subscription]) -> None:
        """A request with ack key ``key`` covering ``covered`` was sent."""
        self.pending[key] = covered

    def untrack(self, key: object) -> None:
        self.pending.pop(key, None)

    def confirm(self, subs: Iterable[Subscription]) -> None:
        """The exchange confirmed ``subs``."""
        for sub in subs:
            self._report(sub, True, "")

    def refuse(self, subs: Iterable[Subscription], reason: str) -> None:
        """The exchange refused ``subs`` (or never answered): out of ``active``, reported."""
        subs = set(subs)
        self.active.difference_update(subs)
        self.refused.update(subs)
        for sub in sorted(subs):
            self._report(sub, False, reason)

    # -- listeners ------------------------------------------------------------------------------

    def on_result(self, callback: ResultCallback) -> None:
        """Call ``callback(subscription, ok, reason)`` for every confirmation or refusal."""
        self._listeners.append(callback)

    def _report(self, sub: Subscription, ok: bool, reason: str) -> None:
        for cb in self._listeners:
            try:
                cb(sub, ok, reason)
            except Exception:
                log.exception("subscription result listener failed")
