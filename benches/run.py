"""Run every benchmark and write ``benches/RESULTS.md`` (and ``results/*.json``).

``python benches/run.py [--quick]``: runs ``bench_gate``, ``bench_mexc``, ``bench_e2e``,
``bench_floor``, ``bench_book``, ``bench_frames``, ``bench_simulator``, ``bench_user_path``,
``bench_binance`` and ``bench_kucoin`` (each in its own
process, tasks shuffled between repetitions inside each),
then checks the project's targets against the ratios measured in the same run. RESULTS.md is
generated here, never written by hand.

``python benches/run.py --only bench_kucoin --update`` reruns some benchmarks and replaces only
their sections and their own target rows in the existing RESULTS.md (the header says which
sections were rerun and when); the other rows and sections stay as their last run left them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import RESULTS_DIR, machine

HERE = Path(__file__).resolve().parent

BENCHES = (
    "bench_gate",
    "bench_mexc",
    "bench_e2e",
    "bench_floor",
    "bench_book",
    "bench_frames",
    "bench_simulator",
    "bench_user_path",
    "bench_binance",
    "bench_kucoin",
)
PACKAGES = (
    "hftws",
    "orjson",
    "msgspec",
    "protobuf",
    "order-book",
    "sortedcontainers",
    "websockets",
    "aiohttp",
    "picows",
    "uvloop",
    "ccxt",
)


def cpu() -> str:
    """CPU model and count (Linux), for the report header."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model} x {os.cpu_count()}"


def versions() -> dict[str, str]:
    out = {}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def load(name: str, quick: bool) -> dict:
    path = RESULTS_DIR / f"{name}{'_quick' if quick else ''}.json"
    return json.loads(path.read_text())


def med(d: dict, key: str) -> float:
    return d[key]["median"]


def targets(quick: bool) -> list[tuple[str, float, float, str]]:
    """(target, measured ratio, required ratio, note)."""
    g = load("bench_gate", quick)["depth"]
    m = load("bench_mexc", quick)["depth"]
    e = load("bench_e2e", quick)
    fl = load("bench_floor", quick)["floor"]
    call = med(fl, "Python→Rust call (feed_count of b'')")

    stale_key = "profile: hftws apply_depth of stale pushes (scan + id check, no writes)"

    def split(total: float, bench: dict) -> str:
        stale = med(bench, stale_key)
        return (
            f"profile per message: {total:,.0f} ns = {stale:,.0f} ns call, envelope scan, id "
            f"check and bbo (the same pushes replayed stale, same run) + {total - stale:,.0f} ns "
            f"for the ~10 levels: decimal parsing and book writes (a bare Python→Rust call is "
            f"{call:.0f} ns)"
        )

    rows = []
    py_fast = min(med(g, "msgspec structs + SortedDict"), med(g, "orjson + order_book C ext"))
    one = med(g, "hftws apply_depth (1 call/msg)")
    batched = min(
        med(g, "hftws apply_depth_many (10 msgs/call)"),
        med(g, "hftws StreamDecoder.feed (10 frames/read)"),
    )
    rows.append(
        (
            "Gate depth parse+apply+best vs fastest Python (1 call/msg)",
            py_fast / one,
            10,
            split(one, g),
        )
    )
    rows.append(
        (
            "Gate depth, batched per socket read, vs fastest Python",
            py_fast / batched,
            20,
            f"batching saves {one - batched:,.0f} ns/msg of calls and best reads; the rest is "
            "the per-message profile of the row above",
        )
    )
    if "ccxt.pro gate handle_message" in g:
        rows.append(
            (
                "Gate depth vs ccxt.pro handle_message",
                med(g, "ccxt.pro gate handle_message") / one,
                30,
                "",
            )
        )
    upb = min(med(m, "upb + SortedDict"), med(m, "upb + order_book (C)"))
    ours = min(
        med(m, "hftws apply_depth + bbo"), med(m, "hftws StreamDecoder.feed (10 frames/read)")
    )
    rows.append(
        (
            "MEXC depth decode+apply+best vs fastest upb pipeline",
            upb / ours,
            20,
            split(ours, m),
        )
    )
    rate = e["rate"]
    for lp in ("asyncio", "uvloop"):
        full = f"hftws full stack (interface + handler + book) [{lp}]"
        if full not in rate:
            continue
        r = lambda k, lp=lp: rate[f"{k} [{lp}]"]["msgs_per_s"]["median"]  # noqa: E731
        full_r = r("hftws full stack (interface + handler + book)")
        thin_r = r("hftws transport + StreamDecoder + book")
        cpu = lambda k, lp=lp: rate[f"{k} [{lp}]"]["cpu_us_per_msg"]["median"]  # noqa: E731
        layers = (
            f"CPU/msg: full stack {cpu('hftws full stack (interface + handler + book)'):.2f} µs "
            f"= fused transport {cpu('hftws transport + StreamDecoder + book'):.2f} µs + "
            "interface/handler dispatch in Python"
        )
        rows.append(
            (
                f"E2E full stack vs picows+orjson+book [{lp}]",
                full_r / r("picows + orjson + SortedDict"),
                4,
                f"fused transport alone: {thin_r / r('picows + orjson + SortedDict'):.1f}x",
            )
        )
        rows.append(
            (
                f"E2E full stack vs websockets+orjson+book [{lp}]",
                full_r / r("websockets + orjson + SortedDict"),
                10,
                f"fused transport alone: {thin_r / r('websockets + orjson + SortedDict'):.1f}x; "
                + layers,
            )
        )
        before = r("hftws full stack unfused (before: parse per call, book.apply)")
        rows.append(
            (
                f"E2E full stack, fused pipeline vs before it [{lp}] (info)",
                full_r / before,
                1,
                "before: bytes to the handler, gateio.parse per message, book.apply",
            )
        )
        rows.append(
            (
                f"E2E raw frames: hftws vs picows [{lp}]",
                r("hftws raw frames (no decoding)") / r("picows raw frames (no decoding)"),
                1,
                "",
            )
        )
    u = load("bench_user_path", quick)
    for exchange in ("gateio", "mexc"):
        ratio = u[f"{exchange}_user_over_floor"]["user: OrderBookManager book, no listener"]
        # Expressed as a speed-up like every row: floor / user must be >= 1 / 1.2.
        rows.append(
            (
                f"{exchange}: OrderBookManager depth push <= 1.2x the bare decoder (no listener)",
                1 / ratio,
                1 / 1.2,
                f"user path {ratio:.2f}x the bare StreamDecoder.feed; the rest is the one Python "
                "call per socket read (ClientProtocol.receive_data)",
            )
        )
    loop_us = med(fl, "asyncio data_received callback (per read)") / 1000
    for k, v in e["latency"].items():
        if k.startswith("hftws"):
            # Expressed as a ratio: 20 µs / p99 must be >= 1.
            rows.append(
                (
                    f"p99 receive→callback at 50k msg/s < 20 µs: {k}",
                    20 / v["p99_us"],
                    1,
                    f"median p99 {v['p99_us']:.1f} µs over runs "
                    f"({v['p99_min_us']:.1f}-{v['p99_max_us']:.1f}), p50 {v['p50_us']:.1f} µs; "
                    f"profile: one asyncio read callback costs {loop_us:.1f} µs here "
                    f"(bench_floor), so at one message per read the loop alone is "
                    f"{loop_us * 5:.0f}% busy: the tail is messages queued behind a read",
                )
            )
    return rows


def kucoin_targets(quick: bool) -> list[tuple[str, float, float, str]]:
    """KuCoin level2 rows, from ``bench_kucoin`` alone (its ratios are measured in one run)."""
    k = load("bench_kucoin", quick)["depth"]
    ours = med(k, "hftws kucoin.apply_depth + bbo()")
    py_fast = min(med(k, "orjson.loads + SortedDict"), med(k, "msgspec typed + SortedDict"))
    call = med(k, "profile: hftws apply_depth of a pong frame (call floor)")
    bbo = med(k, "profile: bbo() alone")
    stale = med(k, "profile: hftws apply_depth + bbo() of stale pushes (read + judge, no writes)")
    rows = [
        (
            "KuCoin level2 parse+apply+best vs fastest Python (1 call/msg)",
            py_fast / ours,
            10,
            f"profile per message: {ours:,.0f} ns = {call:,.0f} ns call + {bbo:,.0f} ns bbo() + "
            f"{stale - call - bbo:,.0f} ns reading and judging the push (the same pushes "
            f"replayed stale) + {ours - stale:,.0f} ns book writes",
        )
    ]
    if "ccxt.pro kucoin handle_message" in k:
        rows.append(
            (
                "KuCoin level2 vs ccxt.pro kucoin handle_message (info)",
                med(k, "ccxt.pro kucoin handle_message") / ours,
                1,
                "",
            )
        )
    return rows


# Benchmarks whose target rows come from their own results alone (so they can be rerun alone).
OWN_TARGETS = {"bench_kucoin": kucoin_targets}


def target_row(name: str, got: float, need: float, note: str) -> str:
    return f"| {name} | {got:.2f}x | {need:g}x | {'yes' if got >= need else '**no**'} | {note} |"


def update(names: list[str], quick: bool, outputs: dict[str, str]) -> None:
    """Replaces the sections and own target rows of ``names`` in the existing RESULTS.md."""
    rows = [r for n in names for r in OWN_TARGETS[n](quick)]
    path = HERE / "RESULTS.md"
    lines = path.read_text().rstrip("\n").split("\n")
    stamp = (
        f"Rerun alone on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `python "
        f"benches/run.py{' --quick' if quick else ''} --only {' '.join(names)} --update`: the "
        f"sections {', '.join(names)} and their target rows; ratios are still medians of one run."
    )
    t = lines.index("## Targets")
    if lines[t - 2].startswith("Rerun alone on "):
        lines[t - 2] = stamp
    else:
        lines[t:t] = [stamp, ""]
    names_of = {r[0] for r in rows}
    lines = [ln for ln in lines if not any(ln.startswith(f"| {n} |") for n in names_of)]
    at = lines.index("## Targets") + 4
    while at < len(lines) and lines[at].startswith("| "):
        at += 1
    lines[at:at] = [target_row(*r) for r in rows]
    for name in names:
        section = ["## " + name, "", outputs[name]]
        if f"## {name}" in lines:
            start = lines.index(f"## {name}")
            end = next(
                (i for i in range(start + 1, len(lines)) if lines[i].startswith("## bench_")),
                len(lines),
            )
            lines[start:end] = section + ([""] if end < len(lines) else [])
        else:
            lines += ["", *section]
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(target_row(*r) for r in rows))
    print(f"updated {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small runs (under a minute)")
    ap.add_argument("--only", nargs="*", default=list(BENCHES), help="subset of benchmarks")
    ap.add_argument(
        "--update",
        action="store_true",
        help="with --only: replace only those sections and target rows in RESULTS.md "
        f"(for {', '.join(OWN_TARGETS)})",
    )
    args = ap.parse_args()
    if args.update and not set(args.only) <= set(OWN_TARGETS):
        raise SystemExit(f"--update takes only {', '.join(OWN_TARGETS)}")
    outputs: dict[str, str] = {}
    t_start = time.time()
    for name in args.only:
        cmd = [sys.executable, str(HERE / f"{name}.py")] + (["--quick"] if args.quick else [])
        print(f"== {name}", flush=True)
        t0 = time.time()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit(f"{name} failed")
        outputs[name] = proc.stdout.rsplit("saved ", 1)[0].strip()
        print(f"   {time.time() - t0:.0f}s", flush=True)
    if args.update:
        update(args.only, args.quick, outputs)
        return
    rows = targets(args.quick) + [
        r for name in args.only if name in OWN_TARGETS for r in OWN_TARGETS[name](args.quick)
    ]
    info = machine() | {"cpu": cpu()}
    vers = versions()
    lines = [
        "# hftws benchmark results",
        "",
        f"Generated by `python benches/run.py{' --quick' if args.quick else ''}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in {time.time() - t_start:.0f} s. "
        "Do not edit: rerun the command.",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()),
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()),
        "",
        "Every pipeline's final book is checked against the corpus's expected book before its "
        "timings count; ratios compare medians measured in the same run (tasks shuffled "
        "between repetitions).",
        "",
        "## Targets",
        "",
        "| target | measured | required | met | note |",
        "|---|---:|---:|:---:|---|",
    ]
    lines += [target_row(*r) for r in rows]
    for name in args.only:
        lines += ["", f"## {name}", "", outputs[name]]
    text = "\n".join(lines) + "\n"
    (HERE / "RESULTS.md").write_text(text)
    (RESULTS_DIR / ("run_quick.json" if args.quick else "run.json")).write_text(
        json.dumps(
            {
                "machine": info,
                "versions": vers,
                "targets": [
                    {"target": n, "ratio": g, "required": r, "met": g >= r, "note": no}
                    for n, g, r, no in rows
                ],
            },
            indent=2,
        )
    )
    print("\n".join(lines[lines.index("## Targets") :][: 4 + len(rows)]))
    print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
