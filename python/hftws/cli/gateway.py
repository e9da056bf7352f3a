"""``hftws gateway``: keep books once and publish them on NATS JetStream (``docs/bus.md``).

Books are ``exchange:symbol`` (or ``exchange:symbol:depth``); each is kept by an
``OrderBookManager`` and published on ``hftws.<exchange>.<symbol>.book``, with a snapshot per
book in the ``hftws_books`` bucket and a heartbeat on ``hftws.<exchange>.heartbeat``; trades and
best bid/ask on ``.trades`` and ``.ticker`` (``--no-trades`` / ``--no-tickers`` to skip). Strategies
anywhere read them with ``hftws.bus.remote.RemoteBookManager(source="nats://host:port")``.
Needs the ``bus`` extra (``pip install hftws[bus]``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any

from hftws.cli.common import EXIT_OK, EXIT_UNHEALTHY, plain, stop_event
from hftws.cli.config import ConfigError, positive


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for v in values or []:
        ex, sep, url = v.partition("=")
        if not sep or not ex or not url:
            raise ConfigError(f"{what} {v!r}: expected EXCHANGE=URL")
        out[ex] = url
    return out


async def run(args: argparse.Namespace) -> int:
    try:
        from hftws.bus.gateway import Gateway, parse_book_spec
    except ImportError as exc:  # nats-py missing
        raise ConfigError(
            f"hftws gateway needs the bus extra (pip install hftws[bus]): {exc}"
        ) from None
    try:
        specs = [parse_book_spec(b) for b in args.books]
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    urls = _pairs(args.url, "--url")
    rest_urls = _pairs(args.rest_url, "--rest-url")
    servers: dict[str, Any] = {}
    nats_server = None
    try:
        if args.local:
            from hftws.cli.demo import _start_servers, base_of

            exchanges = sorted({s.exchange for s in specs})
            bases = sorted({base_of(s.symbol) for s in specs})
            servers = await _start_servers(exchanges, bases, args.rate, 0)
            urls |= {ex: s.url for ex, s in servers.items()}
            rest_urls |= {ex: s.rest_url for ex, s in servers.items()}
        nats_urls = args.nats.split(",")
        if args.start_nats:
            from hftws.testing.nats import NatsServer

            nats_server = await NatsServer().start()
            nats_urls = [nats_server.url]
            print(f"nats-server pid {nats_server.pid} on {nats_server.url}", flush=True)
        gw = Gateway(
            specs,
            servers=nats_urls,
            gateway_id=args.id,
            urls=urls,
            rest_urls=rest_urls,
            retention_age=args.retention_age,
            retention_msgs=args.retention_msgs,
            snapshot_every=args.snapshot_every,
            snapshot_interval=args.snapshot_interval,
            heartbeat_interval=args.heartbeat_interval,
            replicas=args.replicas,
            lease=args.lease,
            lease_ttl=args.lease_ttl,
            sync_timeout=args.sync_timeout,
            trades=args.trades,
            tickers=args.tickers,
        )
        stop = stop_event()
        loop = asyncio.get_running_loop()
        end = None if args.duration is None else loop.time() + args.duration
        async with gw:
            print(f"gateway {gw.gateway_id}: {len(specs)} books on {', '.join(nats_urls)}")
            while not stop.is_set() and (end is None or loop.time() < end):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), args.interval)
                books = " ".join(
                    f"{ex}:{sym}={p.book.state}@{p.encoder.sequence % 1_000_000}"
                    for (ex, sym), p in gw.publishers.items()
                )
                lead = "active" if gw.leader else "standby"
                print(f"{lead} {gw.stats} {books}", flush=True)
            healthy = all(p.book.in_sync for p in gw.publishers.values())
    finally:
        for s in servers.values():
            with contextlib.suppress(Exception):
                await s.stop()
        if nats_server is not None:
            nats_server.cleanup()
    return EXIT_OK if healthy else EXIT_UNHEALTHY


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "gateway",
        help="publish books on NATS JetStream for remote strategies",
        description=plain(__doc__.split("\n\n")[1]),
        epilog="example:\n  hftws gateway gateio:BTC_USDT mexc:BTCUSDT --nats nats://10.0.0.5:4222\n"
        "  hftws gateway gateio:BTC_USDT --local --start-nats --duration 30",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("books", nargs="+", metavar="EXCHANGE:SYMBOL[:DEPTH]")
    p.add_argument("--nats", default="nats://127.0.0.1:4222", help="NATS URL(s), comma-separated")
    p.add_argument("--id", default=None, help="gateway id (default: host-pid)")
    p.add_argument("--url", action="append", metavar="EX=URL", help="WebSocket URL override")
    p.add_argument("--rest-url", action="append", metavar="EX=URL", help="REST URL override")
    p.add_argument("--local", action="store_true", help="use the embedded local exchange")
    p.add_argument("--rate", type=positive, default=200.0, help="local exchange steps/s")
    p.add_argument("--start-nats", action="store_true", help="start a local nats-server")
    p.add_argument("--retention-age", type=positive, default=60.0, help="stream max age (s)")
    p.add_argument("--retention-msgs", type=int, default=1_000_000, help="stream max messages")
    p.add_argument("--snapshot-every", type=int, default=1000, help="store every N messages")
    p.add_argument("--snapshot-interval", type=positive, default=1.0, help="and every S seconds")
    p.add_argument("--heartbeat-interval", type=positive, default=0.25, help="seconds")
    p.add_argument("--replicas", type=int, default=1, help="stream/bucket replicas (cluster)")
    p.add_argument("--lease", action="store_true", help="high availability: hold a lease")
    p.add_argument("--lease-ttl", type=positive, default=2.0, help="lease expiry (s)")
    p.add_argument("--sync-timeout", type=positive, default=20.0, help="books in sync by then")
    p.add_argument(
        "--trades",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="publish trades on hftws.<exchange>.<symbol>.trades (default: on)",
    )
    p.add_argument(
        "--tickers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="publish best bid/ask on hftws.<exchange>.<symbol>.ticker (default: on)",
    )
    p.add_argument("--duration", type=positive, default=None, help="seconds (default: until ^C)")
    p.add_argument("--interval", type=positive, default=2.0, help="seconds between status lines")
    p.set_defaults(run=run)
    return p
