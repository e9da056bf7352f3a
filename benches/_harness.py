"""Timing helpers shared by every benchmark in ``benches/``.

Each benchmark builds its inputs first, then times whole passes over them with
``time.perf_counter_ns``; a pass is repeated and the min/median/max per operation reported.
Competing implementations run in the same process on the same data, in shuffled order, so
ratios are comparable even on a noisy machine.
"""

from __future__ import annotations

import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sortedcontainers import SortedDict

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Timing:
    """Nanoseconds per operation over several repetitions."""

    name: str
    ops: int
    ns_per_op: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.ns_per_op)

    @property
    def median(self) -> float:
        return statistics.median(self.ns_per_op)

    @property
    def worst(self) -> float:
        return max(self.ns_per_op)


def measure(
    cases: dict[str, Callable[[], int]],
    repeat: int = 5,
    seed: int = 1,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> dict[str, Timing]:
    """Run each case ``repeat`` times in shuffled order.

    A case is a callable doing one full pass and returning how many operations it did.
    ``clock`` is wall time by default; ``time.thread_time_ns`` counts only this thread's CPU,
    which other processes on a shared machine do not inflate.
    """
    timings = {name: Timing(name, 0) for name in cases}
    order = list(cases)
    rng = random.Random(seed)
    for _ in range(repeat):
        rng.shuffle(order)
        for name in order:
            t0 = clock()
            ops = cases[name]()
            elapsed = clock() - t0
            timings[name].ops = ops
            timings[name].ns_per_op.append(elapsed / max(ops, 1))
    return timings


def float_book(
    bids: Iterable[tuple[str, str]], asks: Iterable[tuple[str, str]]
) -> tuple[SortedDict, SortedDict]:
    """The fastest pure-Python book in ``bench_gate.py``: a ``SortedDict`` per side, float keys."""
    return (
        SortedDict({float(p): float(s) for p, s in bids}),
        SortedDict({float(p): float(s) for p, s in asks}),
    )


def apply_float(side: SortedDict, levels: Iterable[Sequence[str]]) -> None:
    """Apply ``[price, size, ...]`` levels to one float-keyed side (size 0 deletes)."""
    for lvl in levels:
        fs = float(lvl[1])
        if fs == 0.0:
            side.pop(float(lvl[0]), None)
        else:
            side[float(lvl[0])] = fs


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "system": f"{platform.system()} {platform.release()}",
    }


def table(title: str, timings: dict[str, Timing], baseline: str | None = None) -> str:
    """A Markdown table of ns/op with the ratio against ``baseline`` (default: the slowest)."""
    rows = sorted(timings.values(), key=lambda t: t.median)
    base = timings[baseline].median if baseline else rows[-1].median
    lines = [
        f"### {title}",
        "",
        "| pipeline | ns/op (median) | min | max | speed-up vs "
        + (baseline or rows[-1].name)
        + " |",
        "|---|---:|---:|---:|---:|",
    ]
    for t in rows:
        cells = (t.name, f"{t.median:,.0f}", f"{t.best:,.0f}", f"{t.worst:,.0f}")
        lines.append("| " + " | ".join(cells) + f" | {base / t.median:.1f}x |")
    return "\n".join(lines) + "\n"


def save(name: str, payload: dict[str, object]) -> Path:
    """Write ``benches/results/<name>.json`` with the machine description."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    data = {"machine": machine(), **payload}
    for key, value in list(data.items()):
        if isinstance(value, dict) and value and all(isinstance(v, Timing) for v in value.values()):
            data[key] = {k: asdict(v) | {"median": v.median} for k, v in value.items()}
    path.write_text(json.dumps(data, indent=2))
    return path


# --- what a strategy does per event, the same for every pipeline ------------------------------


class Strategy:
    """The fields a strategy reads per event, kept in slots (so reading them is not skipped)."""

    __slots__ = ("ask", "bid", "last_trade")

    def __init__(self) -> None:
        self.bid = self.ask = 0.0
        self.last_trade: tuple[float, float, str] | None = None


class Callbacks:
    """The same three strategy callbacks for every end-to-end client; each counts a message
    through ``tick`` (``bench_e2e.Run.tick``)."""

    def __init__(self, tick: Callable[[], None], book_top: Callable[[], tuple[float, float]]):
        self.tick, self.st, self.top = tick, Strategy(), book_top

    def on_book(self, _update: object = None) -> None:
        self.st.bid, self.st.ask = self.top()
        self.tick()

    def on_trade(self, price: float, amount: float, side: str) -> None:
        self.st.last_trade = (price, amount, side)
        self.tick()

    def on_ticker(self, bid: float, ask: float) -> None:
        self.st.bid, self.st.ask = bid, ask
        self.tick()


def summarize(results: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, dict]]:
    """Per key and metric: min, median and max over the repetitions."""
    return {
        k: {m: {"min": min(v), "median": statistics.median(v), "max": max(v)} for m, v in d.items()}
        for k, d in results.items()
    }


def e2e_table(title: str, summary: dict[str, dict[str, dict]], base: str) -> str:
    """Markdown rows of an end-to-end run (``"<client> [<loop>]"`` keys) with two ratios against
    ``base`` on the same loop: messages/s and CPU per message."""
    lines = [
        f"### {title}",
        "",
        f"| client | msgs/s (median) | min | max | CPU µs/msg | msgs/s vs {base} | "
        f"CPU/msg: {base} ÷ client |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for k, d in sorted(summary.items(), key=lambda kv: -kv[1]["msgs_per_s"]["median"]):
        lp = k.rsplit("[", 1)[1].rstrip("]")
        ref = summary[f"{base} [{lp}]"]
        m, cpu = d["msgs_per_s"], d["cpu_us_per_msg"]["median"]
        lines.append(
            f"| {k} | {m['median']:,.0f} | {m['min']:,.0f} | {m['max']:,.0f} | {cpu:.2f} | "
            f"{m['median'] / ref['msgs_per_s']['median']:.2f}x | "
            f"{ref['cpu_us_per_msg']['median'] / cpu:.2f}x |"
        )
    return "\n".join(lines) + "\n"
