"""Pieces every command shares: exit codes, errors shown as one line, logging into the view,
and the loop that keeps the view fresh while a run goes on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from rich.console import Console

from hftws.cli.view import Monitor, View

EXIT_OK = 0
#: The run finished but is not healthy (a book ended out of sync, nothing was received).
EXIT_UNHEALTHY = 1
EXIT_USAGE = 2
#: Could not connect (DNS, TLS, refused, HTTP status) or the books never synced.
EXIT_CONNECT = 3
#: The recording is damaged; it was replayed up to the damage.
EXIT_DAMAGED = 4
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A failure to report as one line (``hftws: <message>``) with an exit code."""

    def __init__(self, message: str, code: int = EXIT_UNHEALTHY) -> None:
        super().__init__(message)
        self.code = code


_ROLE = re.compile(r":\w+:`~?(?:[\w.]*\.)?([^`]+)`")


def plain(doc: str) -> str:
    """A docstring paragraph as ``--help`` text: reST markup removed, wrapped at 79 columns."""
    return textwrap.fill(" ".join(_ROLE.sub(r"\1", doc).replace("``", "").split()), 79)


def err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


class EventLog(logging.Handler):
    """Library warnings become monitor events (shown in the view) instead of stray lines."""

    def __init__(self, monitor: Monitor) -> None:
        super().__init__(logging.WARNING)
        self.monitor = monitor

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.monitor.event(record.getMessage())
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


@contextlib.contextmanager
def capture_logs(monitor: Monitor, verbose: bool = False) -> Iterator[None]:
    """Route ``hftws.*`` warnings into ``monitor`` for the duration (and to stderr if verbose)."""
    logger = logging.getLogger("hftws")
    handler = EventLog(monitor)
    logger.addHandler(handler)
    old_propagate = logger.propagate
    logger.propagate = verbose
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = old_propagate


def monitor_pipeline(monitor: Monitor, pipeline: Any) -> None:
    """Show the books and per-exchange metrics of an ``OrderBookManager``."""
    monitor.books = pipeline.books
    for name in list(pipeline.managers):
        add_metrics(monitor, pipeline, name)


def add_metrics(monitor: Monitor, pipeline: Any, exchange: str) -> None:
    monitor.metrics[exchange] = lambda: pipeline.managers[exchange].metrics


async def run_view(
    view: View,
    duration: float | None,
    *,
    until: Callable[[], bool] | None = None,
    schedule: list[tuple[float, Callable[[], Awaitable[None] | None]]] | None = None,
) -> None:
    """Refresh ``view`` until ``duration`` seconds pass (or ``until()``), running ``schedule``
    actions (``(seconds, callable)``) when their time comes."""
    start = time.monotonic()
    todo = sorted(schedule or [], key=lambda x: x[0])
    while True:
        elapsed = time.monotonic() - start
        while todo and todo[0][0] <= elapsed:
            _, action = todo.pop(0)
            result = action()
            if asyncio.iscoroutine(result):
                await result
        view.tick()
        if duration is not None and elapsed >= duration:
            return
        if until is not None and until():
            return
        await asyncio.sleep(0.05)


def stop_event() -> asyncio.Event:
    """Set on the first SIGINT/SIGTERM, so Ctrl-C ends a run cleanly (summary printed, file
    flushed); a second Ctrl-C interrupts at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    sigs = (signal.SIGINT, signal.SIGTERM)

    def first() -> None:
        stop.set()
        for sig in sigs:
            loop.remove_signal_handler(sig)

    for sig in sigs:
        try:
            loop.add_signal_handler(sig, first)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
            pass
    return stop


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()
