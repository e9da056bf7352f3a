"""``hftws watch``: one live book from a real exchange (or any compatible endpoint).

The same pipeline and view as the demo, pointed at the exchange's public endpoints (override
them with ``--url``/``--rest-url``, the config file or ``HFTWS_<EXCHANGE>_URL``). A failed
connection is reported as one line naming the cause (DNS, TLS, refused, HTTP status).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from hftws.cli.common import (
    EXIT_CONNECT,
    EXIT_OK,
    EXIT_UNHEALTHY,
    CliError,
    capture_logs,
    monitor_pipeline,
    plain,
    run_view,
    stop_event,
)
from hftws.cli.config import ConfigError, endpoint, exchange_name, positive
from hftws.cli.demo import base_of, note_snapshot_sources, spell
from hftws.cli.pipeline import Pipeline
from hftws.cli.view import Monitor, View, print_summary
from hftws.mixins.subscription import SubscriptionError
from hftws.transport import ConnectError


async def run(args: argparse.Namespace) -> int:
    exchange = exchange_name(args.exchange)
    if exchange.endswith("_private"):
        public = exchange.removesuffix("_private")
        raise ConfigError(
            f"{exchange} carries account events, not order books: watch {public} instead"
        )
    symbol = spell(exchange, base_of(args.symbol))
    if args.depth < 0:
        raise ConfigError("--depth must be >= 0")
    if args.mode == "obu" and not exchange.startswith("gateio"):
        raise ConfigError(f"--mode obu is a Gate.io stream; {exchange} books use classic")
    ep = endpoint(args.config_data, exchange, url=args.url, rest_url=args.rest_url)
    pipeline = Pipeline(
        urls={exchange: ep.url} if ep.url else None,
        rest_urls={exchange: ep.rest_url} if ep.rest_url else None,
    )
    monitor = Monitor(f"hftws watch {exchange} {symbol}", depth=args.depth)
    view = View(monitor, tui=args.tui, interval=args.interval)
    stop = stop_event()
    try:
        with capture_logs(monitor, args.verbose), view:
            try:
                await pipeline.manager(exchange)
                book = await pipeline.watch(exchange, symbol, mode=args.mode, timeout=None)
            except ConnectError as exc:
                where = ep.url or manager_url(exchange)
                raise CliError(
                    f"cannot connect to {exchange} ({where}): {exc}", EXIT_CONNECT
                ) from None
            except SubscriptionError as exc:
                raise CliError(f"{exchange} refused {symbol}: {exc}", EXIT_CONNECT) from None
            monitor_pipeline(monitor, pipeline)
            note_snapshot_sources(monitor, pipeline)
            deadline = time.monotonic() + args.sync_timeout
            await run_view(
                view,
                None,
                until=lambda: book.in_sync or time.monotonic() > deadline or stop.is_set(),
            )
            if not book.in_sync and not stop.is_set():
                last = monitor.events[-1].split("  ", 1)[-1] if monitor.events else "no data"
                raise CliError(
                    f"{exchange} {symbol}: book not in sync after {args.sync_timeout:g}s "
                    f"({book.snapshot_failures} snapshot failures; last: {last})",
                    EXIT_CONNECT,
                )
            await run_view(view, args.duration, until=stop.is_set)
            view.tick(force=True)
    finally:
        monitor.freeze()
        await pipeline.close()
    summary = print_summary(monitor, json_path=args.summary_json)
    return EXIT_OK if summary["all_in_sync"] else EXIT_UNHEALTHY


def manager_url(exchange: str) -> str:
    from hftws import exchanges
    from hftws.manager import EXCHANGES

    cls: Any = getattr(exchanges, EXCHANGES[exchange])
    return str(cls.DEFAULT_URL)


def add_parser(sub: Any, common: argparse.ArgumentParser, endpoint_opts: Any) -> None:
    p = sub.add_parser(
        "watch",
        parents=[common],
        help="watch one live order book on an exchange",
        description=plain(__doc__.split("\n\n")[1]),
        epilog="example:\n  hftws watch mexc BTCUSDT --depth 10\n"
        "  hftws watch gateio BTC_USDT --mode obu --duration 60 --no-tui",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "exchange",
        metavar="EXCHANGE",
        help="mexc, gateio, gateio_futures, kucoin, kucoin_futures, binance or binance_futures",
    )
    p.add_argument("symbol", metavar="SYMBOL", help="BTCUSDT, BTC_USDT, BTC-USDT or just BTC")
    p.add_argument("--depth", type=int, default=5, help="levels per side to show (default 5)")
    p.add_argument("--mode", choices=("classic", "obu"), default="classic", help="book stream")
    p.add_argument("--duration", type=positive, default=None, help="seconds (default: until ^C)")
    p.add_argument(
        "--sync-timeout", type=positive, default=15.0, help="give up if not in sync by then"
    )
    endpoint_opts(p)
    p.set_defaults(run=run)
