"""``hftws demo --bus``: the market-data bus end to end on one machine, with faults.

A three-node NATS cluster (``nats-server`` processes, stream and bucket replicated), the
embedded local exchange, two gateways (processes, ``hftws gateway --lease``: one active, one
standing by) and two consumer processes (``python -m hftws.bus.consume``). Every interval it
prints each book as the exchange has it beside both consumers' copies; part-way through it
kills the active gateway, drops the exchange connection, and kills a NATS node. At the end
both consumers must be in sync and equal to the exchange's truth at their update id.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hftws.cli.common import EXIT_OK, EXIT_UNHEALTHY

Proc = asyncio.subprocess.Process


def _event(t0: float, text: str) -> None:
    print(f"[{time.monotonic() - t0:6.1f}s] EVENT {text}", flush=True)


async def _gateway(gid: str, nats: str, books: list[str], servers: dict[str, Any]) -> Proc:
    args = [sys.executable, "-m", "hftws", "gateway", *books, "--nats", nats, "--id", gid]
    args += ["--lease", "--lease-ttl", "1.5", "--heartbeat-interval", "0.2", "--interval", "3600"]
    args += ["--replicas", "3", "--sync-timeout", "60"]
    for ex, s in servers.items():
        args += ["--url", f"{ex}={s.url}", "--rest-url", f"{ex}={s.rest_url}"]
    return await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )


async def _consumer(nats: str, books: list[str]) -> Proc:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hftws.bus.consume",
        nats,
        *books,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        limit=1 << 24,
    )


async def _follow(proc: Proc, latest: dict[str, Any]) -> None:
    assert proc.stdout is not None
    while line := await proc.stdout.readline():
        with contextlib.suppress(ValueError):
            latest.update(json.loads(line))


def _truth_ok(server: Any, symbol: str, status: dict[str, Any], depth: int | None) -> bool:
    try:
        truth = server.market.snapshot_at(symbol, status["exchange_sequence"], 100_000)
    except LookupError:
        return False
    bids, asks = status["depth"]
    n = depth or max(len(truth.bids), len(truth.asks), 1)

    def exact(levels: Any) -> list[tuple[Decimal, Decimal]]:
        return [(Decimal(str(p)), Decimal(str(s))) for p, s in levels]

    return exact(bids) == exact(truth.bids[:n]) and exact(asks) == exact(truth.asks[:n])


def _side(status: dict[str, Any] | None) -> str:
    if not status:
        return "-"
    bids, asks = status["depth"]
    bid = bids[0][0] if bids else "-"
    ask = asks[0][0] if asks else "-"
    gw = status.get("gateway") or "?"
    return f"{status['state']:<11} id={status['exchange_sequence']} {bid}/{ask} via {gw}"


async def run(args: argparse.Namespace, exchanges: list[str], bases: list[str]) -> int:
    from hftws.cli.demo import _start_servers, spell
    from hftws.testing.nats import NatsCluster

    servers = await _start_servers(exchanges, bases, args.rate, args.seed)
    plan = [(ex, spell(ex, b)) for ex in exchanges for b in bases]
    books = [f"{ex}:{sym}" for ex, sym in plan]
    depth = {ex: (None if ex == "mexc" else 100) for ex in exchanges}
    cluster = NatsCluster(3)
    procs: list[Proc] = []
    followers: list[asyncio.Task[None]] = []
    t0 = time.monotonic()
    try:
        await cluster.start()
        nats = ",".join(cluster.urls)
        _event(t0, f"NATS cluster up: {nats}")
        gw_a = await _gateway("gw-a", nats, books, servers)
        procs.append(gw_a)
        await asyncio.sleep(1.0)
        gw_b = await _gateway("gw-b", nats, books, servers)
        procs.append(gw_b)
        _event(t0, "gateways gw-a (active) and gw-b (standby) started")
        views: list[dict[str, Any]] = [{}, {}]
        for v in views:
            c = await _consumer(nats, books)
            procs.append(c)
            followers.append(asyncio.create_task(_follow(c, v)))
        _event(t0, "two consumer processes started")
        faults: list[tuple[float, str, Callable[[], object]]] = [
            (0.35, "kill gateway gw-a (SIGKILL): the standby must take over", lambda: gw_a.kill()),
            (
                0.55,
                "drop the exchange connections (1006): gateways resync, consumers see markers",
                lambda: [s.faults.close_with(1006) for s in servers.values()],
            ),
            (
                0.75,
                f"kill NATS node {cluster.nodes[0].name} (SIGKILL)",
                lambda: cluster.nodes[0].stop(kill=True),
            ),
        ]
        start = time.monotonic()
        while time.monotonic() - start < args.duration:
            await asyncio.sleep(args.interval)
            done = (time.monotonic() - start) / args.duration
            while faults and done >= faults[0][0]:
                _, text, act = faults.pop(0)
                _event(t0, f"FAULT {text}")
                act()
            for ex, sym in plan:
                key = f"{ex}:{sym}"
                last = servers[ex].market.last_id(sym)
                print(f"  {key:<22} exchange id={last}", flush=True)
                for i, v in enumerate(views):
                    print(f"    consumer {i + 1}: {_side(v.get(key))}", flush=True)
        for s in servers.values():
            s.pause()
        _event(t0, "market frozen: waiting for the consumers to catch up")
        ok = False
        for _ in range(100):  # bounded: 10 s
            await asyncio.sleep(0.1)
            ok = all(
                (st := v.get(f"{ex}:{sym}")) is not None
                and st["state"] == "in_sync"
                and st["exchange_sequence"] == servers[ex].market.last_id(sym)
                and _truth_ok(servers[ex], sym, st, depth[ex])
                for v in views
                for ex, sym in plan
            )
            if ok:
                break
        # The final views: after the takeover they name the gateway now publishing.
        for ex, sym in plan:
            key = f"{ex}:{sym}"
            for i, v in enumerate(views):
                print(f"  final {key} consumer {i + 1}: {_side(v.get(key))}", flush=True)
        print(
            "verdict: both consumers in sync and equal to the exchange's truth"
            if ok
            else "verdict: a consumer is not in sync with the truth",
            flush=True,
        )
        return EXIT_OK if ok else EXIT_UNHEALTHY
    finally:
        for p in procs:
            if p.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    p.send_signal(signal.SIGKILL)
                await p.wait()
        for t in followers:
            t.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
        cluster.stop()
        for s in servers.values():
            with contextlib.suppress(Exception):
                await s.stop()
