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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

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
    cases: dict[str, Callable[[], int]], repeat: int = 5, seed: int = 1
) -> dict[str, Timing]:
    """Run each case ``repeat`` times in shuffled order.

    A case is a callable doing one full pass and returning how many operations it did.
    """
    timings = {name: Timing(name, 0) for name in cases}
    order = list(cases)
    rng = random.Random(seed)
    for _ in range(repeat):
        rng.shuffle(order)
        for name in order:
            t0 = time.perf_counter_ns()
            ops = cases[name]()
            elapsed = time.perf_counter_ns() - t0
            timings[name].ops = ops
            timings[name].ns_per_op.append(elapsed / max(ops, 1))
    return timings


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
