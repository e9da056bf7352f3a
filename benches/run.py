"""Run every benchmark and write ``benches/RESULTS.md`` (and ``results/*.json``).

``python benches/run.py [--quick] [--only NAME ...]``: runs ``bench_gate``, ``bench_mexc``,
``bench_e2e``, ``bench_floor``, ``bench_book``, ``bench_frames``, ``bench_simulator``,
``bench_user_path``, ``bench_binance``, ``bench_kucoin``, ``bench_mixed``, ``bench_memory``,
``bench_bus`` and ``bench_busy`` (each in its own process, tasks shuffled between repetitions
inside each), then checks the project's targets against the ratios measured in the same run.
RESULTS.md is generated here, never written by hand; with ``--only``, the named sections are
regenerated and the others kept as they were, and each target row reads the newest results of
its own benchmark (every ratio in a row still comes from one run of one benchmark).
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
    "bench_mixed",
    "bench_memory",
    "bench_bus",
    "bench_busy",
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
    """A benchmark's results: the quick run's when ``quick`` and it exists, else the full run's."""
    path = RESULTS_DIR / f"{name}{'_quick' if quick else ''}.json"
    if not path.exists():
        path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text())


def load_opt(name: str, quick: bool) -> dict | None:
    try:
        return load(name, quick)
    except FileNotFoundError:
        return None


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
            20,
            split(one, g),
        )
    )
    rows.append(
        (
            "Gate depth, batched per socket read, vs fastest Python",
            py_fast / batched,
            30,
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
            25,
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
        if f"picows + msgspec typed + SortedDict [{lp}]" in rate:
            rows.append(
                (
                    f"E2E full stack vs picows+msgspec typed+book, depth only [{lp}] (info)",
                    full_r / r("picows + msgspec typed + SortedDict"),
                    1,
                    "fused transport alone: "
                    f"{thin_r / r('picows + msgspec typed + SortedDict'):.1f}x; the mixed-stream "
                    "rows (bench_mixed) carry the 5x target",
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
    rows += kucoin_targets(quick)
    rows += mixed_targets(quick)
    rows += binance_targets(quick)
    rows += memory_targets(quick)
    rows += bus_targets(quick)
    rows += busy_targets(quick)
    return rows


def bus_targets(quick: bool) -> list[tuple[str, float, float, str]]:
    """Issue 18: the bus encoding against orjson, and consumer fan-out (info)."""
    b = load_opt("bench_bus", quick)
    if b is None:
        return []
    cost = b["publish_cost_ns"]
    rows = [
        (
            "bus: Rust BusEncoder.update vs orjson.dumps of the same book update (encode only)",
            cost["encode_only_orjson"] / cost["encode_only_rust"],
            1,
            f"{cost['encode_only_rust']:.0f} ns vs {cost['encode_only_orjson']:.0f} ns; with "
            f"apply and publish {cost['rust+publish']:,.0f} vs {cost['orjson+publish']:,.0f} ns",
        )
    ]
    thr = b.get("consumer_throughput")
    if thr:
        by = {r["consumers"]: r for r in thr}
        one = by[min(by)]
        many = by[max(by)]
        rows.append(
            (
                f"bus consumers: {many['consumers']} consumers' total vs 1 consumer (info)",
                many["total_per_s"] / one["total_per_s"],
                1,
                "asyncio tasks in one process, own NATS connection each: "
                + ", ".join(
                    f"{c}: {r['per_consumer_median']:,.0f} msg/s each, "
                    f"{r['total_per_s']:,.0f} total"
                    for c, r in sorted(by.items())
                ),
            )
        )
    return rows


def kucoin_targets(quick: bool) -> list[tuple[str, float, float, str]]:
    """KuCoin level2 rows, from ``bench_kucoin`` alone (its ratios are measured in one run)."""
    kb = load_opt("bench_kucoin", quick)
    if kb is None:
        return []
    k = kb["depth"]
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


def mixed_targets(quick: bool) -> list[tuple[str, float, float, str]]:
    """Issue 19's targets on the mixed stream (bench_mixed), with the per-message floor."""
    mx = load_opt("bench_mixed", quick)
    if mx is None:
        return []
    rows = []
    t = mx.get("inproc", {})
    call = med(t, "profile: bare Python→Rust call (feed_count of b'')") if t else 0.0
    e2e = mx.get("e2e", {})
    for fmt, base, lead in (
        ("gate", "gate: msgspec typed union (1 pass) + SortedDict", "GateioSpotPublicHandler"),
        ("mexc", "mexc: upb ParseFromString + SortedDict", "MexcPublicHandler"),
    ):
        one = f"{fmt}: hftws apply_depth / {'parse' if fmt == 'gate' else 'decode'} (1 call/msg)"
        if base not in t:
            continue
        stale = med(
            t, f"{fmt}: profile: depth pushes replayed stale (call + scan + ids, no writes)"
        )
        fresh = med(t, f"{fmt}: profile: depth pushes alone, fresh book (call + scan + book)")
        feed1 = med(t, f"{fmt}: hftws StreamDecoder.feed (1 frame/call)")
        layers_key = f"{fmt}: profile: handler layers per message (pre-decoded, 1 read/msg)"
        layers = med(t, layers_key) if layers_key in t else float("nan")
        profile = (
            f"profile per depth push (same run): {call:.0f} ns bare call + {stale - call:,.0f} ns "
            f"envelope scan, id check and best read (pushes replayed stale) + {fresh - stale:,.0f}"
            " ns decimal parsing and book writes"
        )
        rows.append(
            (
                f"{fmt} mixed stream, 1 call/msg, vs {base.split(': ', 1)[1]} (info)",
                med(t, base) / med(t, one),
                1,
                profile,
            )
        )
        summary = e2e.get(fmt, {})
        for lp in ("asyncio", "uvloop"):
            full = f"hftws full stack ({lead} + book + callbacks) [{lp}]"
            ref = f"{GATE_E2E_BASE if fmt == 'gate' else MEXC_E2E_BASE} [{lp}]"
            thin = f"hftws transport + StreamDecoder + book + callbacks [{lp}]"
            if full not in summary:
                continue
            rate = lambda k, s=summary: s[k]["msgs_per_s"]["median"]  # noqa: E731
            cpu = lambda k, s=summary: s[k]["cpu_us_per_msg"]["median"] * 1000  # noqa: E731
            raw = f"hftws raw frames (no decoding) [{lp}]"
            rows.append(
                (
                    f"{fmt} mixed E2E full stack vs {ref}",
                    rate(full) / rate(ref),
                    5 if fmt == "gate" else 1,
                    f"CPU per message ratio {cpu(ref) / cpu(full):.2f}x; "
                    f"CPU/msg in this e2e run: full stack {cpu(full):,.0f} ns = socket, frames "
                    f"and loop {cpu(raw):,.0f} ns (hftws raw frames row) + fused decode, book and "
                    f"dispatch to callbacks {cpu(thin) - cpu(raw):,.0f} ns (transport row minus "
                    f"raw; in-process the decode + book is {feed1:,.0f} ns/msg) + handler layers "
                    f"{cpu(full) - cpu(thin):,.0f} ns (in-process with the callbacks, 1 read/msg: "
                    f"{layers:,.0f} ns); fused transport alone "
                    f"{rate(thin) / rate(ref):.1f}x",
                )
            )
    for title, needed in (
        ("typed gate trades", 1),
        ("typed gate book tickers", 1),
        ("typed mexc trades", 1),
        ("typed mexc book tickers", 1),
    ):
        d = mx.get(title)
        if not d:
            continue
        ours = next(k for k in d if k.startswith("hftws") and "profile" not in k)
        base = next(k for k in d if not k.startswith("hftws"))
        bare = next((k for k in d if "profile" in k), None)
        rows.append(
            (
                f"{title.removeprefix('typed ')} alone, fields read: hftws vs "
                + base.split(" + ")[0],
                med(d, base) / med(d, ours),
                needed,
                f"{med(d, ours):,.0f} vs {med(d, base):,.0f} ns/msg"
                + (
                    f"; of which parse alone (call, scan, event object) {med(d, bare):,.0f} ns, "
                    f"field reads {med(d, ours) - med(d, bare):,.0f} ns"
                    if bare
                    else ""
                ),
            )
        )
    return rows


GATE_E2E_BASE = "picows + msgspec typed union + SortedDict"
MEXC_E2E_BASE = "picows + upb + SortedDict"


BINANCE_FULL = "hftws full stack (BinanceSpotPublicHandler + book + callbacks)"


def binance_depth_targets(b: dict) -> list[tuple[str, float, float, str]]:
    """Issue 16: JSON depth >= 10x and SBE depth >= 20x the fastest Python pipeline."""
    d = b.get("depth")
    if not d or "profile: bbo() alone" not in d:
        return []
    ours = med(d, "hftws binance.apply_depth + bbo()")
    sbe = med(d, "hftws binance.apply_sbe_depth + bbo() (SBE)")
    py_fast = min(med(d, "orjson.loads + SortedDict"), med(d, "msgspec typed + SortedDict"))
    call = med(d, "profile: hftws apply_depth of a reply frame (call floor)")
    bbo = med(d, "profile: bbo() alone")
    stale = med(d, "profile: hftws apply_depth + bbo() of stale pushes (read + judge, no writes)")
    stale_sbe = med(
        d, "profile: hftws apply_sbe_depth + bbo() of stale pushes (decode + judge, no writes)"
    )
    return [
        (
            "Binance JSON depth parse+apply+best vs fastest Python (1 call/msg)",
            py_fast / ours,
            10,
            f"profile per message: {ours:,.0f} ns = {call:,.0f} ns call + {bbo:,.0f} ns bbo() + "
            f"{stale - call - bbo:,.0f} ns reading and judging the push (the same pushes "
            f"replayed stale) + {ours - stale:,.0f} ns book writes",
        ),
        (
            "Binance SBE depth decode+apply+best vs fastest Python (1 call/msg)",
            py_fast / sbe,
            20,
            f"profile per message: {sbe:,.0f} ns = {bbo:,.0f} ns bbo() + "
            f"{stale_sbe - bbo:,.0f} ns call, decode and judge (stale replay) + "
            f"{sbe - stale_sbe:,.0f} ns book writes",
        ),
    ]


def binance_targets(quick: bool) -> list[tuple[str, float, float, str]]:
    """Issue 16: Binance depth rows, then end to end through the user path >= 4x picows +
    orjson + book."""
    b = load_opt("bench_binance", quick)
    if b is None:
        return []
    rows = binance_depth_targets(b)
    if "e2e" not in b:
        return rows
    e = b["e2e"]
    for lp in ("asyncio", "uvloop"):
        ref = f"picows + orjson + SortedDict [{lp}]"
        rate = lambda k: e[k]["msgs_per_s"]["median"]  # noqa: E731
        cpu = lambda k: e[k]["cpu_us_per_msg"]["median"]  # noqa: E731
        ms = f"picows + msgspec typed union + SortedDict [{lp}]"
        for label, key, need in (
            (
                "full stack",
                f"hftws full stack (BinanceSpotPublicHandler + book + callbacks) [{lp}]",
                4,
            ),
            ("transport", f"hftws transport + StreamDecoder + book + callbacks [{lp}]", 1),
        ):
            if key in e:
                rows.append(
                    (
                        f"Binance E2E {label} vs picows+orjson+book [{lp}]"
                        + ("" if need > 1 else " (info)"),
                        rate(key) / rate(ref),
                        need,
                        f"CPU per message ratio {cpu(ref) / cpu(key):.2f}x ({cpu(key):.2f} vs "
                        f"{cpu(ref):.2f} µs); vs picows + msgspec typed + book: "
                        f"{rate(key) / rate(ms):.2f}x msgs/s, {cpu(ms) / cpu(key):.2f}x CPU",
                    )
                )
    return rows


def busy_targets(quick: bool) -> list[tuple[str, float, float, str]]:
    """Issue 19: with a strategy busy-waiting 1 ms every 10 ms, the native I/O mode applies
    pushes within 10 µs of their read (p99) at 50k msg/s, with no disconnect."""
    b = load_opt("bench_busy", quick)
    if b is None:
        return []
    s = b["summary"]
    rows = []
    for mode in ("native", "asyncio"):
        d = s.get(f"{mode} + busy strategy")
        if d is None:
            continue
        p99 = d["read_applied_p99_us"]
        rows.append(
            (
                f"{mode} I/O mode, busy strategy, 50k msg/s: read→applied p99 < 10 µs",
                10 / p99,
                1,
                f"p99 {p99:.1f} µs (p50 {d['read_applied_p50_us']:.1f}); send→applied p99 "
                f"{d['send_applied_p99_us']:.0f} µs; book freshness at the strategy's reads "
                f"p99 {d['fresh_p99_us']:.0f} µs; drops {d['drops']:.0f}, disconnects "
                f"{d['disconnects']:.0f}",
            )
        )
    return rows


def memory_targets(quick: bool) -> list[tuple[str, float, float, str]]:
    """Issue 19: at most 68 bytes per book level (100 books x 5,000 levels per side)."""
    m = load_opt("bench_memory", quick)
    if m is None:
        return []
    books = m["books"]
    ours = books["hftws OrderBook"]["bytes_per_level"]
    conn = m["connections"]
    return [
        (
            "book memory <= 68 bytes/level (100 books x 5,000 levels per side)",
            68 / ours,
            1,
            f"{ours:.0f} B/level; SortedDict floats "
            f"{books['SortedDict (float)']['bytes_per_level']:.0f}, Decimals "
            f"{books['SortedDict (Decimal)']['bytes_per_level']:.0f}; idle connection "
            + ", ".join(
                f"{ex} {r['rss_bytes_per_conn'] / 1024:.0f} KB RSS / "
                f"{r['python_bytes_per_conn'] / 1024:.0f} KB Python heap"
                for ex, r in conn.items()
            ),
        )
    ]


def previous_sections() -> dict[str, str]:
    """``## bench_*`` sections of the current RESULTS.md (kept when only some benches run)."""
    path = HERE / "RESULTS.md"
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    name = None
    for line in path.read_text().splitlines():
        if line.startswith("## ") and line[3:].startswith("bench_"):
            name = line[3:].strip()
            out[name] = ""
        elif line.startswith("## "):
            name = None
        elif name is not None:
            out[name] += line + "\n"
    return {k: v.strip() for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small runs (under a minute)")
    ap.add_argument("--only", nargs="*", default=list(BENCHES), help="subset of benchmarks")
    args = ap.parse_args()
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
    rows = targets(args.quick)
    info = machine() | {"cpu": cpu()}
    vers = versions()
    lines = [
        "# hftws benchmark results",
        "",
        f"Generated by `python benches/run.py{' --quick' if args.quick else ''}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in {time.time() - t_start:.0f} s"
        + (
            f" (sections regenerated: {', '.join(args.only)}; the others are kept from earlier "
            "runs)"
            if set(args.only) != set(BENCHES)
            else ""
        )
        + ". Do not edit: rerun the command.",
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
    for name, got, need, note in rows:
        lines.append(
            f"| {name} | {got:.2f}x | {need:g}x | {'yes' if got >= need else '**no**'} | {note} |"
        )
    sections = previous_sections() if set(args.only) != set(BENCHES) else {}
    sections.update(outputs)
    for name in [b for b in BENCHES if b in sections] + [b for b in sections if b not in BENCHES]:
        lines += ["", f"## {name}", "", sections[name]]
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
