"""A remote-book consumer in its own process (run by test_bus_processes.py).

Usage: python bus_consumer.py NATS_URL EXCHANGE SYMBOL QUIET_S MAX_S

Prints ``READY`` once the book is in sync, then, once its exchange id has not changed for
QUIET_S seconds of running while in sync (or after MAX_S), one JSON line with its final state.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from hftws.bus.remote import RemoteBookManager


async def main(url: str, exchange: str, symbol: str, quiet: float, limit: float) -> None:
    async with RemoteBookManager(url) as remote:
        book = await remote.watch(exchange, symbol, timeout=limit)
        print("READY", flush=True)
        end = time.monotonic() + limit
        # The exchange's id, not the gateway sequence: a quiet book still gets a snapshot
        # message every snapshot interval (which moves the gateway sequence, not the book).
        last = (book.exchange_sequence, book.in_sync)
        still = time.monotonic()
        tick = time.monotonic()
        while time.monotonic() < end:
            await asyncio.sleep(0.05)
            now = (book.exchange_sequence, book.in_sync)
            woke = time.monotonic()
            stopped, tick = woke - tick > 0.5, woke
            if now != last or not book.in_sync or stopped:
                # Changed, out of sync, or this process was stopped (SIGSTOP): time it did
                # not run is not quiet time, the book has not read what arrived meanwhile.
                last, still = now, woke
            elif time.monotonic() - still >= quiet:
                break
        bids, asks = book.depth()
        out = {
            "in_sync": book.in_sync,
            "exchange_sequence": book.exchange_sequence,
            "bids": bids,
            "asks": asks,
            "resyncs": book.resyncs,
            "heartbeat_losses": book.heartbeat_losses,
            "gaps": book.gaps,
            "updates": book.updates,
        }
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    asyncio.run(main(a[0], a[1], a[2], float(a[3]), float(a[4])))
