"""Connection policy: endpoints, heartbeat, timeouts and reconnect backoff.

A policy is plain data; the exchange protocols build one per exchange and the connection obeys
it. Backoff is exponential with jitter, capped, and resets once a connection proved healthy
(subscribed and data flowing, or up for ``reset_after`` seconds), so a storm of failures slows
down while drops that each recovered reconnect at the first delay every time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class ReconnectPolicy:
    """When and how fast to reconnect."""

    initial_delay: float = 0.1
    max_delay: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.5
    #: A connection that stayed up this long resets the backoff.
    reset_after: float = 30.0
    #: A connection that got subscribed and then received this many socket reads of data (not
    #: control frames, not application pongs) resets the backoff when it drops (None: only
    #: ``reset_after`` counts). HFT wants the next drop to reconnect fast, not after a delay
    #: grown by drops that each recovered.
    reset_after_reads: int | None = 1
    #: Close codes after which the first reconnect attempt is immediate.
    immediate_codes: frozenset[int] = frozenset()
    #: Give up after this many consecutive failures (None: never).
    max_attempts: int | None = None


@dataclass(frozen=True)
class ConnectionPolicy:
    """Everything an exchange dictates about one WebSocket connection."""

    url: str
    headers: tuple[tuple[str, str], ...] = ()
    #: Seconds between application pings (None: no application ping).
    ping_interval: float | None = 15.0
    #: Builds the application ping message (text); None means protocol pings only.
    ping_message: Callable[[], str] | None = None
    #: An application ping not answered (by a PING-routed message) within this long means the
    #: connection is dead (None: only ``idle_timeout`` watches it).
    pong_timeout: float | None = None
    #: No frame at all for this long means the connection is dead.
    idle_timeout: float = 60.0
    open_timeout: float = 10.0
    close_timeout: float = 2.0
    #: Reconnect before the exchange's own connection-age limit.
    max_connection_age: float | None = None
    compression: bool = False
    max_message_size: int = 16 * 1024 * 1024
    #: Messages the client may send per second (MEXC: 100).
    max_messages_per_second: float | None = None
    #: Enforce ``max_messages_per_second`` as a strict sliding one-second window (never more
    #: in any second; Binance) instead of a token bucket with a one-second burst.
    strict_rate: bool = False
    #: Subscriptions one connection may hold (MEXC: 30).
    max_subscriptions: int | None = None
    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)

    def with_overrides(self, **overrides: Any) -> ConnectionPolicy:
        """A copy with the caller's fields set (every field but ``url``); TypeError names
        the unknown ones and lists the valid ones."""
        if not overrides:
            return self
        valid = {f.name for f in fields(ConnectionPolicy)} - {"url"}
        unknown = set(overrides) - valid
        if unknown:
            raise TypeError(
                f"unknown option(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(valid))}"
            )
        return replace(self, **overrides)


class Backoff:
    """Exponential backoff with jitter, reset after a healthy connection."""

    def __init__(self, policy: ReconnectPolicy, rng: random.Random | None = None) -> None:
        self.policy = policy
        self.attempts = 0
        self._rng = rng or random.Random()

    def next_delay(self, close_code: int | None = None) -> float:
        """Seconds to wait before the next attempt; counts the attempt."""
        p = self.policy
        self.attempts += 1
        if self.attempts == 1 and close_code in p.immediate_codes:
            return 0.0
        base = min(p.max_delay, p.initial_delay * p.multiplier ** (self.attempts - 1))
        return base * (1 - p.jitter) + base * p.jitter * self._rng.random()

    def exhausted(self) -> bool:
        """True when the policy's attempt budget is spent."""
        return self.policy.max_attempts is not None and self.attempts >= self.policy.max_attempts

    def reset(self) -> None:
        """The last connection was healthy: the next attempt starts from the first delay."""
        self.attempts = 0

    def connection_lasted(self, seconds: float) -> None:
        """Report how long the last connection stayed up; a healthy one resets the backoff."""
        if seconds >= self.policy.reset_after:
            self.attempts = 0
