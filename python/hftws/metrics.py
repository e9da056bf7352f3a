"""Per-connection metrics: stage latencies, message counts, reconnects, gaps and errors.

Latencies are nanosecond histograms kept in Rust (:class:`hftws.LatencyHistogram`): recording
is one call with no allocation, so metrics stay on in production.

Stages, all measured from the moment the socket read was handed to us:

- ``decode``: receive -> frames decoded and messages parsed (once per socket read);
- ``dispatch``: receive -> the message is parsed and typed, ready for its callbacks (once
  per read, for its first message, when the fused decoder delivers the read's events);
- ``callback``: receive -> the user callback returned (once per read, for its last message,
  on the fused path: timing every message would cost more than the routing itself).

The handler's native router (``hftws.Router``, handlers with the default hooks) takes these
timings in Rust, once per read, with two clock readings: ``decode`` and ``dispatch`` share the
one taken when the read reaches the router (typing the first event takes tens of ns, below
the histograms' resolution at these latencies), ``callback`` is taken after the read's last
callback. It counts the messages and reads there too; ``messages`` and ``reads`` add those
counts when read. Message counts are per message (a MEXC batch push is one) on every path.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from hftws._core import LatencyHistogram

STAGES = ("decode", "dispatch", "callback")


class LiveCounts(Protocol):
    """What a native router counts itself (``hftws.Router``): read when asked, never pushed."""

    @property
    def reads(self) -> int: ...
    def counts(self) -> dict[str, int]: ...


@dataclass
class Metrics:
    """Counters and latency histograms of one connection (or a merge of several).

    ``messages`` and ``reads`` include what the native routers attached with
    :meth:`attach` counted: they count in Rust at no Python cost per message and are summed
    here when read (``messages`` is then a fresh ``Counter``: count with :meth:`count`).
    """

    latency: dict[str, LatencyHistogram] = field(
        default_factory=lambda: {s: LatencyHistogram() for s in STAGES}
    )
    _messages: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    reconnects: int = 0
    rollovers: int = 0
    gaps: int = 0
    callback_errors: int = 0
    dropped: int = 0
    bytes_received: int = 0
    _reads: int = 0
    _live: list[LiveCounts] = field(default_factory=list, repr=False, compare=False)

    def attach(self, source: LiveCounts) -> None:
        """Include ``source``'s counts (a handler's native router) in this object's."""
        self._live.append(source)

    def count(self, mtype: str, n: int = 1) -> None:
        """Count ``n`` messages of type ``mtype`` (the Python paths)."""
        messages = self._messages
        messages[mtype] = messages.get(mtype, 0) + n

    @property
    def messages(self) -> Counter[str]:
        """Messages per type (a snapshot)."""
        if not self._live:
            return Counter(self._messages)
        out = Counter(self._messages)
        for source in self._live:
            out.update(source.counts())
        return out

    @property
    def reads(self) -> int:
        """Socket reads delivered."""
        return self._reads + sum(source.reads for source in self._live)

    @reads.setter
    def reads(self, value: int) -> None:
        self._reads = value - sum(source.reads for source in self._live)

    def merge(self, other: Metrics) -> None:
        """Add ``other`` into this one (for a manager over several connections)."""
        for stage, hist in other.latency.items():
            self.latency.setdefault(stage, LatencyHistogram()).merge(hist)
        self._messages.update(other.messages)
        self.errors.update(other.errors)
        self.reconnects += other.reconnects
        self.rollovers += other.rollovers
        self.gaps += other.gaps
        self.callback_errors += other.callback_errors
        self.dropped += other.dropped
        self.bytes_received += other.bytes_received
        self._reads += other.reads

    def snapshot(self) -> dict[str, object]:
        """Plain data for logs and JSON."""
        return {
            "latency_ns": {s: dict(h.summary()) for s, h in self.latency.items()},
            "messages": dict(self.messages),
            "errors": dict(self.errors),
            "reconnects": self.reconnects,
            "rollovers": self.rollovers,
            "gaps": self.gaps,
            "callback_errors": self.callback_errors,
            "dropped": self.dropped,
            "bytes_received": self.bytes_received,
            "reads": self.reads,
        }

    def table(self) -> str:
        """A fixed-width text table of the stage latencies and counters."""
        lines = [
            f"{'stage':<10}{'count':>10}{'p50 us':>10}{'p99 us':>10}{'p99.9 us':>10}{'max us':>10}"
        ]
        for stage, h in self.latency.items():
            micros = (h.quantile(0.5), h.quantile(0.99), h.quantile(0.999), h.max)
            lines.append(f"{stage:<10}{h.count:>10}" + "".join(f"{v / 1e3:>10.1f}" for v in micros))
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.messages.items())) or "none"
        lines.append(f"messages: {counts}")
        lines.append(
            f"reconnects={self.reconnects} gaps={self.gaps} errors={sum(self.errors.values())} "
            f"callback_errors={self.callback_errors} dropped={self.dropped}"
        )
        return "\n".join(lines)
