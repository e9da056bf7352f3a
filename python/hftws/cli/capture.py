"""``hftws record`` and ``hftws replay``: raw frames to a file, and back through the pipeline.

``record`` runs the live pipeline (:class:`~hftws.cli.pipeline.Pipeline`) with a
:class:`~hftws.cli.record.RecordingWriter` attached: every raw frame with its receive
timestamp, every connection state change and every REST snapshot the books used. ``replay``
builds the same pipeline unconnected and feeds it the file record by record, as fast as
possible or at the recorded pace (``--speed``), so the final books match the live run's.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from hftws.cli.common import (
    EXIT_CONNECT,
    EXIT_DAMAGED,
    EXIT_OK,
    EXIT_UNHEALTHY,
    CliError,
    capture_logs,
    err_console,
    monitor_pipeline,
    run_view,
    stop_event,
)
from hftws.cli.config import ConfigError, endpoint, exchange_name, non_negative, positive
from hftws.cli.demo import base_of, spell
from hftws.cli.pipeline import KIND_STATE, Pipeline
from hftws.cli.record import KIND_REST, RecordingError, RecordingReader, RecordingWriter
from hftws.cli.view import Monitor, View, print_summary
from hftws.mixins.subscription import Subscription
from hftws.transport import ConnectError

BOOK_KINDS = ("depth", "obu")
STREAM_KINDS = ("trades", "ticker")


def parse_channel(exchange: str, text: str) -> tuple[str, Any]:
    """``depth:SYM``/``obu:SYM`` -> ("book", (symbol, mode)); ``trades:SYM``/``ticker:SYM``
    or an exchange channel (MEXC ``spot@...@SYM``, Gate ``spot.trades:BTC_USDT``) ->
    ("stream", Subscription)."""
    from hftws import exchanges
    from hftws.manager import EXCHANGES

    kind, sep, rest = text.partition(":")
    if sep and kind in BOOK_KINDS + STREAM_KINDS:
        if not rest:
            raise ConfigError(f"channel {text!r} needs a symbol, e.g. {kind}:BTCUSDT")
        symbol = spell(exchange, base_of(rest))
        if kind in BOOK_KINDS:
            if kind == "obu" and not exchange.startswith("gateio"):
                raise ConfigError(
                    f"obu books are a Gate.io stream; use depth:SYMBOL for {exchange}"
                )
            return "book", (symbol, "obu" if kind == "obu" else "classic")
        cls = getattr(exchanges, EXCHANGES[exchange])
        make = cls.trades_subscription if kind == "trades" else cls.ticker_subscription
        return "stream", make(symbol)
    if exchange.startswith("binance"):
        symbol_part = text.partition("@")[0]
        if "@" not in text or (symbol_part != symbol_part.lower() and not text.startswith("!")):
            raise ConfigError(
                f"bad channel {text!r}: use depth:SYM, trades:SYM, ticker:SYM or a Binance "
                "stream name such as btcusdt@aggTrade (lower case)"
            )
        return "stream", Subscription(text)
    if exchange.startswith("mexc"):
        if not text.startswith("spot@"):
            raise ConfigError(
                f"bad channel {text!r}: use depth:SYM, trades:SYM, ticker:SYM or a MEXC "
                "channel such as spot@public.aggre.deals.v3.api.pb@10ms@BTCUSDT"
            )
        return "stream", Subscription(text)
    if exchange.startswith("kucoin"):
        if not (sep and kind.startswith("/") and rest):
            raise ConfigError(
                f"bad channel {text!r}: use depth:SYM, trades:SYM, ticker:SYM or a KuCoin "
                "topic such as /market/match:BTC-USDT"
            )
        return "stream", Subscription(kind, tuple(p for p in rest.split(",") if p))
    if not sep or "." not in kind:
        raise ConfigError(
            f"bad channel {text!r}: use depth:SYM, obu:SYM, trades:SYM, ticker:SYM or a Gate.io "
            "channel with its payload, such as spot.trades:BTC_USDT"
        )
    return "stream", Subscription(kind, tuple(p for p in rest.split(",") if p))


async def run_record(args: argparse.Namespace) -> int:
    exchange = exchange_name(args.exchange)
    plan = [parse_channel(exchange, c) for c in args.channels]
    ep = endpoint(args.config_data, exchange, url=args.url, rest_url=args.rest_url)
    books = [
        {"exchange": exchange, "symbol": s, "mode": m}
        for k, (s, m) in ((k, v) for k, v in plan if k == "book")
    ]
    subs = [
        {"exchange": exchange, "channel": sub.channel, "params": list(sub.params)}
        for k, sub in plan
        if k == "stream"
    ]
    meta = {
        "tool": "hftws record",
        "sources": [exchange],
        "books": books,
        "subscriptions": subs,
        "endpoint": {"url": ep.url, "rest_url": ep.rest_url},
    }
    try:
        writer = RecordingWriter(
            args.output, meta, flush_interval=args.flush_interval, overwrite=args.force
        )
    except FileExistsError:
        raise ConfigError(f"{args.output} exists (use --force to overwrite)") from None
    except OSError as exc:
        raise ConfigError(f"cannot create {args.output}: {exc.strerror}") from None
    except RecordingError as exc:  # zstandard missing
        raise CliError(str(exc)) from None
    pipeline = Pipeline(
        writer=writer,
        urls={exchange: ep.url} if ep.url else None,
        rest_urls={exchange: ep.rest_url} if ep.rest_url else None,
    )
    monitor = Monitor(f"hftws record {exchange} -> {args.output}")
    monitor.progress = lambda: (0.0, f"{writer.records:,} records, {writer.size:,} bytes")
    view = View(monitor, tui=args.tui, interval=args.interval)
    stop = stop_event()
    try:
        with capture_logs(monitor, args.verbose), view:
            try:
                await pipeline.manager(exchange)
                for book in books:
                    await pipeline.watch(exchange, book["symbol"], mode=book["mode"], timeout=None)
                if subs:
                    await pipeline.subscribe(exchange, *(sub for k, sub in plan if k == "stream"))
            except ConnectError as exc:
                raise CliError(f"cannot connect to {exchange}: {exc}", EXIT_CONNECT) from None
            monitor_pipeline(monitor, pipeline)
            await run_view(view, args.duration, until=stop.is_set)
            view.tick(force=True)
    finally:
        writer.stop()
        monitor.freeze()
        await pipeline.close()
        writer.close()
    summary = print_summary(monitor, json_path=args.summary_json)
    print(
        f"recorded {writer.records:,} records in {writer.blocks} blocks "
        f"({writer.size:,} bytes, {writer.raw_bytes:,} raw) to {writer.path}"
    )
    if not writer.records or (books and not summary["all_in_sync"]):
        return EXIT_UNHEALTHY
    return EXIT_OK


async def run_replay(args: argparse.Namespace) -> int:
    try:
        reader = RecordingReader(args.file)
    except FileNotFoundError:
        raise CliError(f"{args.file}: no such file", EXIT_DAMAGED) from None
    except RecordingError as exc:
        raise CliError(str(exc), EXIT_DAMAGED) from None
    meta = reader.meta
    sources = [exchange_name(s) for s in meta.get("sources", [])]
    pipeline = Pipeline(replay=True)
    monitor = Monitor(f"hftws replay {args.file}")
    fed = 0
    monitor.progress = lambda: (reader.position / max(reader.size, 1), f"{fed:,} records")
    view = View(monitor, tui=args.tui, interval=args.interval)
    try:
        with capture_logs(monitor, args.verbose), view:
            for ex in sources:
                await pipeline.manager(ex)
            for book in meta.get("books", []):
                await pipeline.watch(
                    book["exchange"],
                    book["symbol"],
                    mode=book.get("mode", "classic"),
                    limit=book.get("limit"),
                    timeout=None,
                )
            for sub in meta.get("subscriptions", []):
                await pipeline.subscribe(
                    sub["exchange"], Subscription(sub["channel"], tuple(sub["params"]))
                )
            monitor_pipeline(monitor, pipeline)
            await asyncio.sleep(0)  # let the book tasks start waiting for their first push
            start_wall = time.monotonic_ns()
            first_ns: int | None = None
            for record in reader.records():
                if record.source >= len(sources):
                    monitor.event(f"record {fed} names unknown source {record.source}; skipped")
                    continue
                if args.speed > 0:
                    first_ns = record.recv_ns if first_ns is None else first_ns
                    due = start_wall + (record.recv_ns - first_ns) / args.speed
                    ahead = (due - time.monotonic_ns()) / 1e9
                    if ahead > 0.001:
                        view.tick()
                        await asyncio.sleep(ahead)
                pipeline.feed(sources[record.source], record.kind, record.payload)
                fed += 1
                if record.kind in (KIND_REST, KIND_STATE) or pipeline.settling:
                    # The book sync tasks run between frames, as they did live.
                    await asyncio.sleep(0)
                    await asyncio.sleep(0)
                elif fed % 2048 == 0:
                    await asyncio.sleep(0)
                    view.tick()
            assert pipeline.replay_rest is not None
            pipeline.replay_rest.end()
            await asyncio.sleep(0)
            view.tick(force=True)
    finally:
        monitor.freeze()
        await pipeline.close()
        reader.close()
    damage = (
        None
        if reader.damage is None
        else {
            "offset": reader.damage.offset,
            "block": reader.damage.block,
            "records": reader.damage.records,
            "reason": reader.damage.reason,
        }
    )
    summary = print_summary(monitor, json_path=args.summary_json, extra={"damage": damage})
    took = max(monitor.elapsed, 1e-9)
    print(
        f"replayed {fed:,} records from {args.file} ({reader.blocks} blocks) in {took:.2f} s "
        f"({fed / took:,.0f} records/s)"
    )
    if reader.damage is not None:
        err_console().print(f"hftws: {reader.damage}", markup=False)
        return EXIT_DAMAGED
    if not fed or (pipeline.books and not summary["all_in_sync"]):
        return EXIT_UNHEALTHY
    return EXIT_OK


def add_parsers(sub: Any, common: argparse.ArgumentParser, endpoint_opts: Any) -> None:
    p = sub.add_parser(
        "record",
        parents=[common],
        help="record raw frames (and the snapshots books need) to a file",
        description="Record every raw frame of EXCHANGE's CHANNELs with its receive timestamp "
        "(ns) to a compressed, versioned, append-only file; blocks are flushed every "
        "--flush-interval seconds, so a crash loses at most that much. Books (depth:/obu:) "
        "are kept live while recording and their REST snapshots are recorded too.",
        epilog="channels: depth:SYM  obu:SYM (Gate.io)  trades:SYM  ticker:SYM  or a raw "
        "exchange channel\nexample:\n  hftws record mexc depth:BTCUSDT trades:BTCUSDT "
        "-o btc.hfr --duration 60\n  hftws record gateio depth:BTC_USDT spot.trades:ETH_USDT "
        "-o gate.hfr",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "exchange",
        metavar="EXCHANGE",
        help="mexc, gateio, gateio_futures, kucoin, kucoin_futures, binance or binance_futures",
    )
    p.add_argument("channels", metavar="CHANNEL", nargs="+", help="what to record")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="recording to create")
    p.add_argument("--duration", type=positive, default=None, help="seconds (default: until ^C)")
    p.add_argument("--flush-interval", type=positive, default=1.0, help="seconds per block")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    endpoint_opts(p)
    p.set_defaults(run=run_record)

    p = sub.add_parser(
        "replay",
        parents=[common],
        help="push a recording through the same decode/book pipeline",
        description="Replay a recording through the exact live pipeline (decode, handler, "
        "book routing, REST snapshots as recorded) and print the same summary. A truncated "
        "or corrupt file is replayed up to the damage, which is reported (exit code 4).",
        epilog="example:\n  hftws replay btc.hfr            # as fast as possible\n"
        "  hftws replay btc.hfr --speed 1  # at the recorded pace",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="a file written by hftws record (or demo --record)")
    p.add_argument(
        "--speed",
        type=non_negative,
        default=0.0,
        help="1 = recorded pace, 10 = 10x; 0 = max (default)",
    )
    p.set_defaults(run=run_replay)
