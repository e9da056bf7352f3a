"""The ``hftws`` command: argument parsing, configuration, exit codes.

Commands: ``demo`` (the main job: the client stack against an embedded local exchange),
``watch`` (one live book from a real exchange), ``record``/``replay`` (raw frames to a file and
back through the same pipeline) and ``bench`` (the project's benchmarks).

Exit codes: 0 success; 1 the run finished unhealthy (a book ended out of sync, nothing
received, a benchmark failed); 2 usage or configuration error; 3 connection failure (DNS, TLS,
refused, HTTP status) or a book that never synced; 4 damaged recording (replayed up to the
damage); 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hftws import HftwsError
from hftws.cli import capture, config, demo, gateway, watch
from hftws.cli.common import (
    EXIT_CONNECT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNHEALTHY,
    EXIT_USAGE,
    CliError,
    err_console,
)
from hftws.cli.config import ConfigError
from hftws.credentials import AuthenticationError, MissingCredentials
from hftws.mixins.subscription import SubscriptionError
from hftws.transport import ConnectError

EPILOG = """commands:
  demo     the client stack against an embedded local exchange (start here)
  watch    one live order book from a real exchange
  record   raw frames to a compressed file
  replay   a recording back through the same pipeline
  bench    the project's benchmarks
  gateway  publish books on NATS JetStream (docs/bus.md; the bus extra)

example:
  hftws demo --duration 20
  hftws watch mexc BTCUSDT --depth 10
  hftws record mexc depth:BTCUSDT -o btc.hfr --duration 60 && hftws replay btc.hfr

exit codes: 0 ok, 1 unhealthy run, 2 usage, 3 connection, 4 damaged recording, 130 interrupted
"""


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--tui",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="live view refreshed in place (default: when stdout is a terminal); "
        "--no-tui prints plain periodic lines",
    )
    p.add_argument(
        "--interval", type=config.positive, default=1.0, help="seconds between plain lines"
    )
    p.add_argument("--summary-json", metavar="FILE", help="also write the summary as JSON")
    p.add_argument("--config", metavar="FILE", help="TOML config file (or $HFTWS_CONFIG)")
    p.add_argument("-v", "--verbose", action="store_true", help="library warnings to stderr too")
    return p


def _endpoint_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", help="WebSocket URL override (default: the exchange's public one)")
    p.add_argument("--rest-url", help="REST base URL override (for snapshots)")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="hftws",
        description="HFT market data over WebSockets (MEXC, Gate.io): demo, watch, record, "
        "replay, bench.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from hftws import __version__

    parser.add_argument("--version", action="version", version=f"hftws {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo.add_parser(sub, common)
    watch.add_parser(sub, common, _endpoint_opts)
    capture.add_parsers(sub, common, _endpoint_opts)
    gateway.add_parser(sub)
    # No common options: bench runs scripts that print their own tables (no view, no config).
    b = sub.add_parser(
        "bench",
        help="run the project's benchmarks and print their tables",
        description="Run benches/run.py (or, without it, every benches/bench_*.py) from a "
        "source checkout and print the tables.",
        epilog="example:\n  hftws bench --quick",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument("--quick", action="store_true", help="short runs (< 30 s per benchmark)")
    b.add_argument("--benches", metavar="DIR", help="benchmarks directory (default: ./benches)")
    b.set_defaults(run=run_bench)
    return parser, dict(sub.choices)


def _apply_config(
    subparsers: dict[str, argparse.ArgumentParser], argv: Sequence[str]
) -> dict[str, Any]:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(argv)
    data = config.load(known.config)
    for name, p in subparsers.items():
        if name in data:
            options = {a.dest: a for a in p._actions if a.option_strings and a.dest != "help"}
            p.set_defaults(**config.command_defaults(data, name, options))
    return data


#: Errors that reach the top, most specific first: (type, exit code, what to do). Each is shown
#: as one line; a traceback on the command line is a bug, so anything else still gets one.
_ERRORS: tuple[tuple[type[BaseException], int, str], ...] = (
    (MissingCredentials, EXIT_USAGE, ""),
    (AuthenticationError, EXIT_CONNECT, "check the API key and secret"),
    (SubscriptionError, EXIT_CONNECT, "check the symbol and channel names"),
    (ConnectError, EXIT_CONNECT, "check --url/--rest-url and the network"),
    (HftwsError, EXIT_UNHEALTHY, ""),
    # Files named on the command line: missing, a directory, no permission.
    (OSError, EXIT_USAGE, "check the path"),
)


def describe(exc: BaseException) -> tuple[str, int] | None:
    """``(one-line message, exit code)`` for an error a user can fix, else None."""
    for kind, code, hint in _ERRORS:
        if isinstance(exc, kind):
            if isinstance(exc, OSError) and not isinstance(exc, ConnectError):
                text = f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)
            else:
                text = str(exc) or type(exc).__name__
            return (f"{text} ({hint})" if hint else text), code
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hftws`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, subparsers = build_parser()
    err = err_console()
    try:
        data = _apply_config(subparsers, argv)
    except ConfigError as exc:
        err.print(f"hftws: error: {exc}", markup=False)
        return EXIT_USAGE
    args = parser.parse_args(argv)  # exits with 2 and a usage line on bad arguments
    args.config_data = data
    if getattr(args, "tui", False) is None:
        args.tui = sys.stdout.isatty()
    try:
        result = args.run(args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return int(result)
    except ConfigError as exc:
        subparsers[args.command].print_usage(sys.stderr)
        err.print(f"hftws {args.command}: error: {exc}", markup=False)
        return EXIT_USAGE
    except CliError as exc:
        err.print(f"hftws: {exc}", markup=False)
        return exc.code
    except KeyboardInterrupt:
        err.print("hftws: interrupted", markup=False)
        return EXIT_INTERRUPTED
    except Exception as exc:
        known = describe(exc)
        if known is None:
            raise
        err.print(f"hftws {args.command}: error: {known[0]}", markup=False)
        return known[1]


def run_bench(args: argparse.Namespace) -> int:
    root = Path(args.benches) if args.benches else Path.cwd() / "benches"
    if not root.is_dir():
        raise CliError(
            f"no benchmarks directory at {root} (run from a source checkout or pass --benches)"
        )
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    extra = ["--quick"] if args.quick else []
    runner = root / "run.py"
    if runner.exists():
        scripts = [runner]
    else:
        scripts = sorted(root.glob("bench_*.py"))
        if not scripts:
            raise CliError(f"no benchmarks in {root}")
        print(
            f"{runner} does not exist yet; running the {len(scripts)} benchmark scripts one by "
            "one instead",
            flush=True,
        )
    failed = []
    for script in scripts:
        print(
            f"$ {Path(sys.executable).name} {script.relative_to(root.parent)} {' '.join(extra)}",
            flush=True,
        )
        rc = subprocess.call([sys.executable, str(script), *extra], env=env, cwd=root.parent)
        if rc != 0:
            failed.append(f"{script.name} (exit {rc})")
    if failed:
        err_console().print(f"hftws: benchmarks failed: {', '.join(failed)}", markup=False)
        return EXIT_UNHEALTHY
    return EXIT_OK
