"""Subscriptions: an active set that survives reconnects, confirmed by the exchange's acks.

``subscribe`` records the wanted streams and, when connected, sends the requests and waits
for each ack; a refused stream is removed from the set, reported (metrics, ``on_subscribe``
callbacks, a ``SubscriptionError`` to the caller) and never retried. After every reconnect the
whole set is sent again. The exchange mixin supplies the wire format (``_subscription_requests``)
and reads acks (``_ack_outcome``); rate limits and per-connection caps come from the policy.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hftws._core import HftwsError

log = logging.getLogger("hftws.subscription")

ACK_TIMEOUT = 5.0


@dataclass(frozen=True, order=True)
class Subscription:
    """One stream: an exchange channel and its parameters (pair, interval, ...)."""

    channel: str
    params: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.channel + (f"[{','.join(self.params)}]" if self.params else "")


class SubscriptionError(HftwsError):
    """The exchange refused, or did not confirm, some subscriptions."""

    def __init__(self, message: str, refused: Iterable[Subscription] = ()) -> None:
        super().__init__(message)
        self.refused = frozenset(refused)


#: What an exchange mixin reads from one ack: (request key, confirmed, refused, reason).
AckOutcome = tuple[object, frozenset[Subscription], frozenset[Subscription], str]


class RateLimiter:
    """At most ``rate`` sends per second (a token bucket with a one-second burst)."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self._tokens = rate or 0.0
        self._stamp = time.monotonic()

    async def acquire(self) -> None:
        if not self.rate:
            return
        while True:
            now = time.monotonic()
            self._tokens = min(self.rate, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            await asyncio.sleep((1 - self._tokens) / self.rate)


class SubscriptionMixin:
    """Keeps the subscription set of one connection. Needs an exchange connection mixin."""

    def _init_subscriptions(self) -> None:
        self._active: set[Subscription] = set()
        self.refused: set[Subscription] = set()
        self._pending: dict[object, tuple[list[Subscription], asyncio.Future[AckOutcome]]] = {}
        self._result_listeners: list[Callable[[Subscription, bool, str], Any]] = []
        self._limiter = RateLimiter(self.policy.max_messages_per_second)  # type: ignore[attr-defined]

    # -- exchange hooks -----------------------------------------------------------------------

    def _subscription_requests(
        self, subs: list[Subscription], unsubscribe: bool
    ) -> list[tuple[str, object, list[Subscription]]]:
        """Wire messages for ``subs``: ``(text, ack key, subscriptions it covers)``."""
        raise NotImplementedError

    def _ack_outcome(self, event: Any) -> list[AckOutcome]:
        """What an ack event confirms or refuses."""
        raise NotImplementedError

    # -- API ----------------------------------------------------------------------------------

    def on_subscription_result(self, callback: Callable[[Subscription, bool, str], Any]) -> None:
        """Call ``callback(subscription, ok, reason)`` for every confirmation or refusal, on
        the first subscribe and on every re-subscribe after a reconnect."""
        self._result_listeners.append(callback)

    def _report(self, subs: Iterable[Subscription], ok: bool, reason: str) -> None:
        for sub in subs:
            for cb in self._result_listeners:
                try:
                    cb(sub, ok, reason)
                except Exception:
                    log.exception("subscription listener failed")

    @property
    def subscriptions(self) -> frozenset[Subscription]:
        """Streams this connection keeps (re)subscribed."""
        return frozenset(self._active)

    async def subscribe(self, *subs: Subscription, timeout: float = ACK_TIMEOUT) -> None:
        """Subscribe (or remember, when not connected yet) and wait for the acks.

        Raises SubscriptionError naming refused or unconfirmed streams; the others stay.
        """
        new = [s for s in dict.fromkeys(subs) if s not in self._active]
        cap = self.policy.max_subscriptions  # type: ignore[attr-defined]
        if cap is not None and len(self._active) + len(new) > cap:
            raise SubscriptionError(
                f"{len(self._active) + len(new)} subscriptions exceed this connection's limit "
                f"of {cap}; use a WebSocketManager to spread them over connections"
            )
        self._active.update(new)
        self.refused.difference_update(new)
        if new and self._connection_ready():
            try:
                await self._send_and_confirm(new, timeout=timeout, raise_on_refusal=True)
            finally:
                self._subscriptions_changed()  # type: ignore[attr-defined]

    async def unsubscribe(self, *subs: Subscription, timeout: float = ACK_TIMEOUT) -> None:
        """Stop streams; they are not re-sent after a reconnect."""
        gone = [s for s in subs if s in self._active]
        self._active.difference_update(gone)
        if gone and self._connection_ready():
            for text, _key, _covered in self._subscription_requests(gone, unsubscribe=True):
                await self._send_text(text)

    async def subscribe_depth(self, symbol: str, **options: str) -> None:
        """Incremental depth of ``symbol`` (exchange options such as the interval)."""
        await self.subscribe(self.depth_subscription(symbol, **options))

    async def subscribe_trades(self, symbol: str, **options: str) -> None:
        """Public trades of ``symbol``."""
        await self.subscribe(self.trades_subscription(symbol, **options))

    async def subscribe_ticker(self, symbol: str, **options: str) -> None:
        """Best bid/ask of ``symbol``."""
        await self.subscribe(self.ticker_subscription(symbol, **options))

    @classmethod
    def depth_subscription(cls, symbol: str, **options: str) -> Subscription:
        """Exchange hook: the incremental depth stream of ``symbol``."""
        raise NotImplementedError

    @classmethod
    def trades_subscription(cls, symbol: str, **options: str) -> Subscription:
        """Exchange hook: the public trade stream of ``symbol``."""
        raise NotImplementedError

    @classmethod
    def ticker_subscription(cls, symbol: str, **options: str) -> Subscription:
        """Exchange hook: the best bid/ask stream of ``symbol``."""
        raise NotImplementedError

    @property
    def capacity(self) -> int | None:
        """How many more subscriptions this connection takes (None: unlimited)."""
        cap = self.policy.max_subscriptions  # type: ignore[attr-defined]
        return None if cap is None else cap - len(self._active)

    # -- internals ----------------------------------------------------------------------------

    # ``_connection_ready()`` and ``_send_text(text)`` come from BaseWebSocketInterface.

    async def _resubscribe(self) -> None:
        """Send the whole set again (after a (re)connect); refusals are reported, not raised."""
        if self._active:
            await self._send_and_confirm(
                sorted(self._active), timeout=ACK_TIMEOUT, raise_on_refusal=False
            )

    async def _send_and_confirm(
        self, subs: list[Subscription], *, timeout: float, raise_on_refusal: bool
    ) -> None:
        loop = asyncio.get_running_loop()
        waits = []
        for text, key, covered in self._subscription_requests(subs, unsubscribe=False):
            fut: asyncio.Future[AckOutcome] = loop.create_future()
            self._pending[key] = (covered, fut)
            waits.append((key, covered, fut))
            await self._send_text(text)
        refused: set[Subscription] = set()
        reasons = []
        try:
            async with asyncio.timeout(timeout):
                for _key, _covered, fut in waits:
                    _, _ok, bad, reason = await asyncio.shield(fut)
                    if bad:
                        refused.update(bad)
                        reasons.append(reason)
        except TimeoutError:
            for _key, covered, fut in waits:
                if not fut.done():
                    refused.update(covered)
                    reasons.append(f"no ack within {timeout:g}s")
        finally:
            for key, _covered, _fut in waits:
                self._pending.pop(key, None)
        self._report([s for s in subs if s not in refused], True, "")
        if refused:
            self._report(sorted(refused), False, "; ".join(reasons))
            self._active.difference_update(refused)
            self.refused.update(refused)
            self.metrics.errors["subscription_refused"] += len(refused)  # type: ignore[attr-defined]
            names = ", ".join(sorted(map(str, refused)))
            log.warning("subscription refused: %s (%s)", names, "; ".join(reasons))
            if raise_on_refusal:
                raise SubscriptionError(f"refused: {names} ({'; '.join(reasons)})", refused)

    def _on_ack(self, event: Any) -> None:
        """Internal SUBSCRIBE listener: resolve the request an ack answers."""
        for outcome in self._ack_outcome(event):
            pending = self._pending.get(outcome[0])
            if pending is not None and not pending[1].done():
                pending[1].set_result(outcome)
