"""What the CLI shows: a live view refreshed in place (rich), plain lines, and the summary.

Every command (demo, watch, record, replay) fills one :class:`Monitor` with the books and
connection metrics it runs; the monitor turns them into rows, and :class:`View` draws them:
``rich.live.Live`` on a terminal, or one plain line per book every ``interval`` seconds with
``--no-tui`` (logs and CI). The summary at the end is the same for every command, printed
as a table and optionally written as JSON (``--summary-json``) for scripts.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console, Group, JustifyMethod
from rich.live import Live
from rich.table import Table
from rich.text import Text

from hftws.metrics import STAGES, Metrics

_STATE_STYLE = {"in_sync": "green", "syncing": "yellow", "out_of_sync": "red"}


def _price(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}" if value < 1 else f"{value:.2f}"


def make_console() -> Console:
    """stdout console; wide enough for the tables when output goes to a file or a pipe."""
    return Console(highlight=False) if _tty() else Console(width=120, highlight=False)


def _tty() -> bool:
    import sys

    return sys.stdout.isatty()


def _us(ns: float) -> str:
    return f"{ns / 1e3:,.1f}"


@dataclass
class BookRow:
    """One book as shown (plain data, so the JSON summary is the same as the table)."""

    exchange: str
    symbol: str
    state: str
    bid: float | None
    bid_size: float | None
    ask: float | None
    ask_size: float | None
    updates: int
    rate: float
    sequence: int
    resyncs: int
    gaps: int
    out_of_sync_ms: float


@dataclass
class Monitor:
    """Books and metrics of a run, with update rates computed between two refreshes.

    ``books`` maps ``(exchange, symbol)`` to objects with the ``LocalBook`` attributes
    (``state``, ``best_bid()``, ``best_ask()``, ``updates``, ``sequence``, ``resyncs``,
    ``gaps``, ``out_of_sync_windows``); ``metrics`` maps an exchange to a callable returning
    its merged :class:`~hftws.metrics.Metrics`.
    """

    title: str
    books: dict[tuple[str, str], Any] = field(default_factory=dict)
    metrics: dict[str, Callable[[], Metrics]] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    progress: Callable[[], tuple[float, str]] | None = None
    #: Levels per side to draw for each book (``watch --depth``); 0 = top of book only.
    depth: int = 0
    _last: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)
    _rates: dict[tuple[str, str], float] = field(default_factory=dict)
    _frozen: tuple[list[BookRow], dict[str, Any]] | None = None

    def freeze(self) -> None:
        """Keep the books' state as it is now for the summary: closing the connections
        afterwards takes every book out of sync, which is not how the run ended."""
        self._frozen = None
        self._frozen = (self.rows(), self.summary())

    def event(self, text: str) -> None:
        """Note something that happened (shown under the table and in the summary)."""
        self.events.append(f"{self.elapsed:6.1f}s  {text}")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def rows(self) -> list[BookRow]:
        if self._frozen is not None:
            return self._frozen[0]
        now = time.monotonic()
        out = []
        for key, book in sorted(self.books.items()):
            updates = int(book.updates)
            last = self._last.get(key)
            if last is not None and now - last[0] >= 0.2:
                self._rates[key] = (updates - last[1]) / (now - last[0])
                self._last[key] = (now, updates)
            elif last is None:
                self._last[key] = (now, updates)
            bid, ask = book.best_bid(), book.best_ask()
            out.append(
                BookRow(
                    exchange=key[0],
                    symbol=key[1],
                    state=str(book.state),
                    bid=bid[0] if bid else None,
                    bid_size=bid[1] if bid else None,
                    ask=ask[0] if ask else None,
                    ask_size=ask[1] if ask else None,
                    updates=updates,
                    rate=self._rates.get(key, 0.0),
                    sequence=int(book.sequence),
                    # Times the book lost sync after its first sync (each one resynced).
                    resyncs=max(0, len(book.out_of_sync_windows) - 1),
                    gaps=int(book.gaps),
                    out_of_sync_ms=_out_of_sync_ms(book.out_of_sync_windows),
                )
            )
        return out

    def exchange_stats(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, get in sorted(self.metrics.items()):
            m = get()
            out[name] = {
                "messages": sum(m.messages.values()),
                "reconnects": m.reconnects,
                "errors": sum(m.errors.values()) + m.callback_errors,
                "latency_us": {
                    s: {
                        "p50": m.latency[s].quantile(0.5) / 1e3,
                        "p99": m.latency[s].quantile(0.99) / 1e3,
                    }
                    for s in STAGES
                    if s in m.latency
                },
            }
        return out

    def summary(self) -> dict[str, Any]:
        if self._frozen is not None:
            return self._frozen[1]
        rows = self.rows()
        books = []
        for r in rows:
            doc = dict(r.__dict__)
            book = self.books[(r.exchange, r.symbol)]
            doc["digest"] = book_digest(book)
            doc["levels"] = [len(side) for side in book.depth()]
            books.append(doc)
        return {
            "title": self.title,
            "seconds": round(self.elapsed, 3),
            "books": books,
            "exchanges": self.exchange_stats(),
            "events": list(self.events),
            "all_in_sync": bool(rows) and all(r.state == "in_sync" for r in rows),
            "resyncs": sum(r.resyncs for r in rows),
            "updates": sum(r.updates for r in rows),
        }


def book_digest(book: Any) -> str:
    """A short fingerprint of every level of a book (compares a replay with the live run)."""
    h = hashlib.sha256()
    for side in book.depth():
        for price, size in side:
            h.update(f"{price}:{size};".encode())
        h.update(b"|")
    return h.hexdigest()[:16]


def _out_of_sync_ms(windows: Iterable[tuple[int, int | None]]) -> float:
    now = time.monotonic_ns()
    total = 0
    # The first window is the initial sync, not a loss.
    for start, end in list(windows)[1:]:
        total += (now if end is None else end) - start
    return total / 1e6


# -- rendering ----------------------------------------------------------------------------------


def books_table(rows: list[BookRow], title: str | None = None) -> Table:
    table = Table(title=title, expand=False, header_style="bold")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("exchange", "left"),
        ("symbol", "left"),
        ("bid", "right"),
        ("ask", "right"),
        ("upd/s", "right"),
        ("updates", "right"),
        ("state", "left"),
        ("resyncs", "right"),
        ("gaps", "right"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify)
    for r in rows:
        table.add_row(
            r.exchange,
            r.symbol,
            _price(r.bid),
            _price(r.ask),
            f"{r.rate:,.0f}",
            f"{r.updates:,}",
            Text(r.state.replace("_", " "), style=_STATE_STYLE.get(r.state, "")),
            str(r.resyncs),
            str(r.gaps),
        )
    return table


def exchanges_table(stats: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="latency from socket read, us: p50/p99", header_style="bold")
    table.add_column("exchange")
    table.add_column("messages", justify="right")
    for stage in STAGES:
        table.add_column(stage, justify="right")
    table.add_column("reconnects", justify="right")
    table.add_column("errors", justify="right")
    for name, s in stats.items():
        lat = s["latency_us"]
        table.add_row(
            name,
            f"{s['messages']:,}",
            *(
                f"{lat[st]['p50']:,.1f}/{lat[st]['p99']:,.1f}" if st in lat else "-"
                for st in STAGES
            ),
            str(s["reconnects"]),
            str(s["errors"]),
        )
    return table


def ladder(book: Any, n: int, title: str) -> Table:
    """The top ``n`` levels per side, bids left and asks right."""
    bids, asks = book.top(n)
    exact = getattr(book, "exact_depth", None)
    note = f" (exact to {exact} levels)" if getattr(book, "source", None) and exact else ""
    table = Table(title=f"{title}: top {n}{note}", header_style="bold")
    for name, style in (
        ("bid size", "green"),
        ("bid", "green"),
        ("ask", "red"),
        ("ask size", "red"),
    ):
        table.add_column(name, justify="right", style=style)
    for i in range(max(len(bids), len(asks))):
        b = bids[i] if i < len(bids) else None
        a = asks[i] if i < len(asks) else None
        table.add_row(
            f"{b[1]:,.6g}" if b else "",
            _price(b[0]) if b else "",
            _price(a[0]) if a else "",
            f"{a[1]:,.6g}" if a else "",
        )
    return table


def render(monitor: Monitor) -> Group:
    """The live view: books, per-exchange latencies, recent events, progress."""
    head = Text(f"{monitor.title}  ", style="bold")
    head.append(f"{monitor.elapsed:5.1f}s", style="cyan")
    if monitor.progress is not None:
        frac, label = monitor.progress()
        width = 30
        done = int(max(0.0, min(1.0, frac)) * width)
        head.append(f"  [{'#' * done}{'.' * (width - done)}] {frac:6.1%} {label}")
    parts: list[Any] = [
        head,
        books_table(monitor.rows()),
        exchanges_table(monitor.exchange_stats()),
    ]
    if monitor.depth:
        for (exchange, symbol), book in sorted(monitor.books.items()):
            parts.append(ladder(book, monitor.depth, f"{exchange} {symbol}"))
    if monitor.events:
        parts.append(Text("\n".join(monitor.events[-5:]), style="dim"))
    return Group(*parts)


def plain_lines(monitor: Monitor) -> list[str]:
    """One line per book (``--no-tui``), grep-friendly ``key=value`` pairs."""
    lines = []
    for r in monitor.rows():
        lines.append(
            f"t={monitor.elapsed:.1f}s {r.exchange} {r.symbol} state={r.state} "
            f"bid={_price(r.bid)} ask={_price(r.ask)} upd/s={r.rate:.0f} updates={r.updates} "
            f"resyncs={r.resyncs} gaps={r.gaps}"
        )
    if monitor.progress is not None:
        frac, label = monitor.progress()
        lines.append(f"t={monitor.elapsed:.1f}s progress={frac:.1%} {label}")
    return lines


class View:
    """Draws a monitor while a run goes on: ``rich.live.Live`` or periodic plain lines."""

    def __init__(
        self, monitor: Monitor, *, tui: bool, interval: float = 1.0, console: Console | None = None
    ) -> None:
        self.monitor = monitor
        self.tui = tui
        self.interval = interval if not tui else min(interval, 0.25)
        self.console = console or make_console()
        self._live: Live | None = None
        self._last = 0.0
        self._events_shown = 0

    def __enter__(self) -> View:
        if self.tui:
            self._live = Live(
                render(self.monitor),
                console=self.console,
                auto_refresh=False,
                transient=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(render(self.monitor), refresh=True)
            self._live.__exit__(None, None, None)
            self._live = None

    def tick(self, force: bool = False) -> None:
        """Redraw if ``interval`` has passed (call it often; it is cheap otherwise)."""
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        if self._live is not None:
            self._live.update(render(self.monitor), refresh=True)
            return
        events = self.monitor.events
        for line in events[self._events_shown :]:
            print(f"event {line.strip()}", flush=True)
        self._events_shown = len(events)
        for line in plain_lines(self.monitor):
            print(line, flush=True)


def print_summary(
    monitor: Monitor,
    console: Console | None = None,
    json_path: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Print the end-of-run summary table; write it (with ``extra``) as JSON when asked."""
    console = console or make_console()
    summary = monitor.summary() | (extra or {})
    fields = set(BookRow.__dataclass_fields__)
    rows = [BookRow(**{k: v for k, v in b.items() if k in fields}) for b in summary["books"]]
    console.print(books_table(rows, title=f"summary: {monitor.title}"))
    if monitor.depth:
        for (exchange, symbol), book in sorted(monitor.books.items()):
            console.print(ladder(book, monitor.depth, f"{exchange} {symbol}"))
    console.print(exchanges_table(summary["exchanges"]))
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("duration", f"{summary['seconds']:.1f} s")
    table.add_row("book updates", f"{summary['updates']:,}")
    if summary["books"]:
        out_ms = sum(b["out_of_sync_ms"] for b in summary["books"])
        recovered = "all recovered" if summary["all_in_sync"] else "NOT all recovered"
        table.add_row(
            "resyncs", f"{summary['resyncs']} ({recovered}; {out_ms:,.0f} ms out of sync)"
        )
        table.add_row("books in sync", "yes" if summary["all_in_sync"] else "NO")
    else:
        table.add_row("books", "none (streams only)")
    console.print(table)
    if summary["events"]:
        console.print(Text("events:\n" + "\n".join(summary["events"]), style="dim"))
    if json_path:
        Path(json_path).write_text(json.dumps(summary, indent=2, default=str))
    return summary
