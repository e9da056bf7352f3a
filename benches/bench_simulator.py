"""Local exchange simulator: how fast can it feed a client in burst mode?

Tells soak tests what the simulator (not the client under test) can sustain. Cases, each a
pass of N depth pushes received by a plain ``websockets`` client over loopback, the servers
running with ``rate=None`` (as fast as the client reads):

- ``market.step`` alone (the floor: generating one aggregated book change);
- MEXC ``aggre.depth`` push: step + Google protobuf encode + send + client receive;
- Gate spot ``order_book_update`` push: step + JSON encode + send + client receive;
- Gate spot with 4 clients: one rendered frame sent to four connections (ns per step).

Run: ``python benches/bench_simulator.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from websockets.asyncio.client import ClientConnection, connect

from _harness import measure, save, table
from hftws.testing.gate_server import GateSpotServer
from hftws.testing.mexc_server import MexcServer
from hftws.testing.server import ExchangeServer

MEXC_DEPTH = "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"


async def drain(clients: list[ClientConnection], n: int) -> None:
    async def one(ws: ClientConnection) -> None:
        async with asyncio.timeout(60):
            for _ in range(n):
                await ws.recv()

    await asyncio.gather(*(one(ws) for ws in clients))


class Feed:
    """One server in burst mode and its clients; the server runs only during its own pass."""

    def __init__(self, server: ExchangeServer, request: str, clients: int) -> None:
        self.server, self.request, self.count = server, request, clients
        self.clients: list[ClientConnection] = []
        self.received = 0

    async def open(self) -> None:
        await self.server.start()
        for _ in range(self.count):
            ws = await connect(self.server.url, max_queue=64)
            await ws.send(self.request)
            await ws.recv()  # the ack
            self.clients.append(ws)
        self.server.pause()
        self.received = self.server.frames_sent

    async def close(self) -> None:
        for ws in self.clients:
            await ws.close()
        await self.server.stop()

    async def one_pass(self, n: int) -> int:
        """Receive ``n`` pushes per client, pause, then the frames still in flight; returns
        the pushes per client received in this pass."""
        self.server.resume()
        await drain(self.clients, n)
        self.server.pause()
        await asyncio.sleep(0)  # let the driver finish its current step
        backlog = (self.server.frames_sent - self.received) // self.count - n
        await drain(self.clients, backlog)
        self.received = self.server.frames_sent
        return n + backlog


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, repeat = (1_000, 3) if args.quick else (5_000, 5)

    loop = asyncio.new_event_loop()
    gate_req = json.dumps(
        {
            "time": 0,
            "channel": "spot.order_book_update",
            "event": "subscribe",
            "payload": ["BTC_USDT", "100ms"],
        }
    )
    mexc_req = json.dumps({"method": "SUBSCRIPTION", "params": [MEXC_DEPTH]})
    opts = {"rate": None, "seed": 1, "slow_client_timeout": None}
    feeds = {
        "MEXC depth push (protobuf), 1 client": Feed(MexcServer(**opts), mexc_req, 1),
        "Gate spot depth push (JSON), 1 client": Feed(GateSpotServer(**opts), gate_req, 1),
        "Gate spot depth push (JSON), 4 clients": Feed(GateSpotServer(**opts), gate_req, 4),
    }
    for feed in feeds.values():
        loop.run_until_complete(feed.open())
    market = GateSpotServer(seed=2).market

    def step_only() -> int:
        for _ in range(n):
            market.step("BTC_USDT")
        return n

    cases = {"market.step only": step_only}
    for name, feed in feeds.items():
        cases[name] = lambda feed=feed: loop.run_until_complete(feed.one_pass(n))
    timings = measure(cases, repeat=repeat)
    for feed in feeds.values():
        loop.run_until_complete(feed.close())
    loop.close()
    print(
        table(
            f"Simulator burst throughput (ns per step, {n:,} pushes per client per pass)",
            timings,
            baseline="market.step only",
        )
    )
    print("\n".join(f"- {name}: {1e9 / t.median:,.0f} steps/s" for name, t in timings.items()))
    save("simulator", {"pushes_per_pass": n, "timings": timings})


if __name__ == "__main__":
    main()
