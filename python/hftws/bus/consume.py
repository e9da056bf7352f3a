"""``python -m hftws.bus.consume NATS_URL[,URL...] EXCHANGE:SYMBOL...``: remote books in a
process of their own, one JSON status line per interval on stdout (``hftws demo --bus`` runs
two of these beside the gateways)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from hftws.bus.remote import RemoteBookManager


async def run(servers: list[str], books: list[tuple[str, str]], interval: float) -> None:
    async with RemoteBookManager(servers) as remote:
        watched = [await remote.watch(ex, sym, timeout=None) for ex, sym in books]
        while True:
            status = {
                f"{b.exchange}:{b.symbol}": {
                    "state": b.state,
                    "exchange_sequence": b.exchange_sequence,
                    "depth": b.depth(),
                    "resyncs": b.resyncs,
                    "gateway": remote.gateways.get(b.exchange),
                }
                for b in watched
            }
            print(json.dumps(status), flush=True)
            await asyncio.sleep(interval)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m hftws.bus.consume")
    p.add_argument("nats")
    p.add_argument("books", nargs="+", metavar="EXCHANGE:SYMBOL")
    p.add_argument("--interval", type=float, default=0.5)
    a = p.parse_args(argv)
    books = [tuple(b.split(":", 1)) for b in a.books]
    if any(len(b) != 2 for b in books):
        p.error("books are EXCHANGE:SYMBOL")
    try:
        asyncio.run(run(a.nats.split(","), [(b[0], b[1]) for b in books], a.interval))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
