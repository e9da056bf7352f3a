"""``hftws demo``: the whole client stack against an embedded local exchange, with faults.

The local servers are the protocol-faithful simulators the tests use
(``hftws.testing``: MEXC protobuf, Gate.io spot and futures JSON, Binance spot and USDⓈ-M
JSON, REST snapshots), driven by the random-walk market with bursts. The client side is the
library as a user runs it: an ``OrderBookManager`` (here the CLI's
:class:`~hftws.cli.pipeline.Pipeline`, which can also record) syncing every book through
snapshot + deltas. Part-way through, the demo breaks
things on purpose so the resync machinery is seen working: the MEXC stream silently skips ids
(a gap), the Gate.io spot connection is aborted without a close frame (a reconnect) and the
Binance spot server announces ``serverShutdown`` (the client rolls over make-before-break).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from hftws.books import Mode
from hftws.cli.common import (
    EXIT_OK,
    EXIT_UNHEALTHY,
    capture_logs,
    monitor_pipeline,
    plain,
    run_view,
    stop_event,
)
from hftws.cli.config import ConfigError, exchange_name, positive
from hftws.cli.pipeline import Pipeline
from hftws.cli.record import RecordingWriter
from hftws.cli.view import Monitor, View, print_summary

DEFAULT_EXCHANGES = (
    "mexc",
    "gateio",
    "gateio_futures",
    "kucoin",
    "kucoin_futures",
    "binance",
    "binance_futures",
)
#: Futures exchanges of the demo (integer contract sizes).
FUTURES = ("gateio_futures", "kucoin_futures")
DEFAULT_SYMBOLS = ("BTC", "ETH")


def spell(exchange: str, base: str) -> str:
    """Exchange spelling of a USDT pair: ``BTCUSDT`` (MEXC, Binance), ``BTC_USDT`` (Gate.io),
    ``BTC-USDT`` (KuCoin spot), ``XBTUSDTM`` (KuCoin USDT-margined futures: BTC is XBT)."""
    if exchange == "kucoin":
        return f"{base}-USDT"
    if exchange == "kucoin_futures":
        return f"{'XBT' if base == 'BTC' else base}USDTM"
    return f"{base}USDT" if exchange in ("mexc", "binance", "binance_futures") else f"{base}_USDT"


def base_of(symbol: str) -> str:
    """``btc``, ``BTCUSDT``, ``BTC_USDT`` and ``BTC-USDT`` all name the base ``BTC``."""
    s = symbol.upper().replace("-", "_")
    for suffix in ("_USDT", "USDTM", "USDT"):
        if s.endswith(suffix) and len(s) > len(suffix):
            s = s[: -len(suffix)]
            s = "BTC" if s == "XBT" else s
            break
    if not s.isalnum():
        raise ConfigError(f"bad symbol {symbol!r} (use a base such as BTC, or BTCUSDT)")
    return s


def _specs(server_cls: Any, exchange: str, bases: list[str]) -> list[Any]:
    """The simulator's instruments for ``bases``: its defaults where it has one, else a made-up
    instrument with a mid price of 100 (any symbol can be demonstrated)."""
    from hftws.testing.market import SymbolSpec

    known = {spec.symbol: spec for spec in server_cls.DEFAULT_SPECS}
    futures = exchange in FUTURES
    out = []
    for base in bases:
        name = spell(exchange, base)
        out.append(
            known.get(name)
            or SymbolSpec(
                name,
                Decimal("0.01"),
                Decimal(1) if futures else Decimal("0.001"),
                Decimal("100.00"),
                max_lots=50_000,
                quanto_multiplier=Decimal("0.01"),
            )
        )
    return out


async def _start_servers(
    exchanges: list[str], bases: list[str], rate: float, seed: int
) -> dict[str, Any]:
    from hftws.testing.binance_server import BinanceFuturesServer, BinanceSpotServer
    from hftws.testing.gate_server import GateFuturesServer, GateSpotServer
    from hftws.testing.kucoin_server import KucoinFuturesServer, KucoinServer
    from hftws.testing.mexc_server import MexcServer

    classes = {
        "mexc": MexcServer,
        "gateio": GateSpotServer,
        "gateio_futures": GateFuturesServer,
        "binance": BinanceSpotServer,
        "binance_futures": BinanceFuturesServer,
        "kucoin": KucoinServer,
        "kucoin_futures": KucoinFuturesServer,
    }
    servers = {}
    for ex in exchanges:
        cls = classes[ex]
        servers[ex] = await cls(_specs(cls, ex, bases), rate=rate, seed=seed).start()
    return servers


def _fault_plan(
    servers: dict[str, Any], monitor: Monitor, duration: float
) -> list[tuple[float, Callable[[], Awaitable[None] | None]]]:
    """When and how the demo breaks the streams (one gap, one dropped connection and, with
    Binance spot, a ``serverShutdown``)."""
    names = list(servers)
    gap_on = names[0]
    drop_on = names[1] if len(names) > 1 else names[0]

    def gap() -> None:
        monitor.event(f"FAULT {gap_on}: the stream skips 5 update ids (books must see a gap)")
        servers[gap_on].faults.gap(5)

    def drop() -> None:
        monitor.event(f"FAULT {drop_on}: connection aborted, no close frame (1006)")
        servers[drop_on].faults.close_with(1006)

    def shutdown() -> None:
        monitor.event(
            "FAULT binance: serverShutdown, the socket closes in 1 s "
            "(the client rolls over make-before-break)"
        )
        servers["binance"].server_shutdown(close_after=1.0)

    plan: list[tuple[float, Callable[[], Awaitable[None] | None]]] = [
        (duration * 0.35, gap),
        (duration * 0.6, drop),
    ]
    if "binance" in servers and drop_on != "binance":
        plan.append((duration * 0.45, shutdown))
    return plan


async def run(args: argparse.Namespace) -> int:
    exchanges = list(dict.fromkeys(exchange_name(e) for e in args.exchanges))
    for ex in exchanges:
        if ex not in DEFAULT_EXCHANGES:
            raise ConfigError(
                f"the demo's local exchange has no {ex}: choose --exchanges from "
                f"{', '.join(DEFAULT_EXCHANGES)}"
            )
    bases = list(dict.fromkeys(base_of(s) for s in args.symbols))
    if not exchanges or not bases:
        raise ConfigError("need at least one exchange and one symbol")
    mode: Mode = "obu" if args.obu else "classic"
    plan: list[tuple[str, str, Mode]] = [
        (ex, spell(ex, b), mode if ex.startswith("gateio") else "classic")
        for ex in exchanges
        for b in bases
    ]
    writer = None
    if args.record:
        meta = {
            "tool": "hftws demo",
            "sources": exchanges,
            "books": [{"exchange": e, "symbol": s, "mode": m} for e, s, m in plan],
            "subscriptions": [],
        }
        try:
            writer = RecordingWriter(args.record, meta, overwrite=args.force)
        except FileExistsError:
            raise ConfigError(f"{args.record} exists (use --force to overwrite)") from None
    try:
        servers = await _start_servers(exchanges, bases, args.rate, args.seed)
    except BaseException:
        if writer is not None:
            writer.close()
        raise
    pipeline = Pipeline(
        writer=writer,
        urls={ex: s.url for ex, s in servers.items()},
        rest_urls={ex: s.rest_url for ex, s in servers.items()},
    )
    monitor = Monitor("hftws demo: local MEXC + Gate.io + KuCoin + Binance exchange")
    view = View(monitor, tui=args.tui, interval=args.interval)
    stop = stop_event()  # Ctrl-C ends the run early and still prints the summary
    try:
        with capture_logs(monitor, args.verbose), view:
            for ex, symbol, book_mode in plan:
                await pipeline.watch(ex, symbol, mode=book_mode, timeout=None)
            monitor_pipeline(monitor, pipeline)
            note_snapshot_sources(monitor, pipeline)
            monitor.event(
                f"{len(pipeline.books)} books on {len(exchanges)} exchanges; syncing "
                "from REST snapshot + buffered deltas"
            )
            await run_view(
                view,
                args.duration,
                until=stop.is_set,
                schedule=_fault_plan(servers, monitor, args.duration),
            )
            # Let a resync still running finish before the verdict (bounded).
            settle = asyncio.get_running_loop().time() + 5.0
            await run_view(
                view,
                None,
                until=lambda: (
                    stop.is_set()
                    or all(b.in_sync for b in pipeline.books.values())
                    or asyncio.get_running_loop().time() > settle
                ),
            )
            view.tick(force=True)
    finally:
        if writer is not None:
            writer.stop()
        monitor.freeze()
        await pipeline.close()
        for server in servers.values():
            with contextlib.suppress(Exception):
                await server.stop()
        if writer is not None:
            writer.close()
    summary = print_summary(monitor, json_path=args.summary_json)
    if writer is not None:
        print(f"recorded {writer.records:,} records ({writer.size:,} bytes) to {writer.path}")
    healthy = summary["all_in_sync"] and summary["updates"] > 0
    return EXIT_OK if healthy else EXIT_UNHEALTHY


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "demo",
        parents=[common],
        help="run the client stack against an embedded local exchange (the main job)",
        description=plain(
            __doc__.split("\n\n")[0]
            + " Books sync via snapshot + deltas; a gap and a dropped connection are injected "
            "part-way; a live view refreshes in place and a summary table ends the run."
        ),
        epilog="example:\n  hftws demo --duration 20 --symbols BTC,ETH,SOL "
        "--exchanges mexc,gateio\n  hftws demo --duration 5 --no-tui   # plain lines for CI",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--duration", type=positive, default=20.0, help="seconds to run (default 20)")
    p.add_argument(
        "--symbols",
        type=_csv,
        default=list(DEFAULT_SYMBOLS),
        help="comma-separated bases or pairs, e.g. BTC,ETH,SOL (default BTC,ETH)",
    )
    p.add_argument(
        "--exchanges",
        type=_csv,
        default=list(DEFAULT_EXCHANGES),
        help="comma-separated: mexc, gateio, gateio_futures, kucoin, kucoin_futures, binance, "
        "binance_futures (default: all)",
    )
    p.add_argument("--rate", type=positive, default=100.0, help="market steps/s per symbol")
    p.add_argument("--seed", type=int, default=0, help="market seed (same seed, same stream)")
    p.add_argument("--obu", action="store_true", help="Gate.io books use the v2 obu stream")
    p.add_argument("--record", metavar="FILE", help="also record everything to FILE")
    p.add_argument("--force", action="store_true", help="overwrite the --record file")
    p.set_defaults(run=run)
    parser: argparse.ArgumentParser = p
    return parser


def note_snapshot_sources(monitor: Monitor, pipeline: Pipeline) -> None:
    """Say which snapshot the books whose exchange offers several sync from, and how deep
    they are exact (KuCoin spot without a key: the public top 100)."""
    for (ex, symbol), book in sorted(pipeline.books.items()):
        if book.source is not None:
            monitor.event(f"{ex} {symbol}: book from {book.snapshot_source}")


def _csv(text: str | list[str]) -> list[str]:
    if isinstance(text, list):  # from a config file
        return [str(t) for t in text]
    return [t.strip() for t in text.split(",") if t.strip()]
