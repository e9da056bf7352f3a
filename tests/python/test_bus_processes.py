"""Remote books and gateways in other processes: consumers end equal to the local exchange's
truth, including one frozen (SIGSTOP) for longer than the stream keeps messages and the
heartbeat bound; a standby gateway takes the lease when the active one is killed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from bus_helpers import RemoteSentinel, differs, gateway, gateway_process, nats_server
from client_helpers import wait_for

from hftws.bus.remote import RemoteBookManager
from hftws.testing.gate_server import GateSpotServer
from hftws.testing.mexc_server import MexcServer
from hftws.testing.nats import NatsServer

__all__ = ["nats_server"]

pytestmark = pytest.mark.timeout(60)

CONSUMER = str(Path(__file__).with_name("bus_consumer.py"))


async def _consumer(url: str, exchange: str, symbol: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        CONSUMER,
        url,
        exchange,
        symbol,
        "1.0",
        "30",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert line.strip() == b"READY", line
    return proc


async def _result(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 40)
    await asyncio.wait_for(proc.wait(), 10)
    result: dict[str, Any] = json.loads(line)
    return result


def _check(result: dict[str, Any], server: Any, symbol: str, depth: int | None) -> None:
    assert result["in_sync"]
    assert result["exchange_sequence"] == server.market.last_id(symbol)
    book = (result["bids"], result["asks"])
    assert not differs(book, server, symbol, result["exchange_sequence"], depth)


async def test_consumers_in_other_processes_end_with_the_exchange_truth(
    nats_server: NatsServer,
) -> None:
    async with GateSpotServer(rate=300) as gate, MexcServer(rate=300) as mexc:
        servers = {"gateio": gate, "mexc": mexc}
        async with gateway(["gateio:BTC_USDT", "mexc:BTCUSDT"], nats_server.url, servers):
            procs = [
                await _consumer(nats_server.url, "gateio", "BTC_USDT"),
                await _consumer(nats_server.url, "mexc", "BTCUSDT"),
            ]
            try:
                await asyncio.sleep(1.0)
                gate.pause()
                mexc.pause()
                g, m = [await _result(p) for p in procs]
            finally:
                for p in procs:
                    if p.returncode is None:
                        p.kill()
                        await p.wait()
            _check(g, gate, "BTC_USDT", 100)
            _check(m, mexc, "BTCUSDT", None)
            assert g["updates"] > 0 and m["updates"] > 0


async def test_a_consumer_frozen_past_the_retention_resyncs_to_the_truth(
    nats_server: NatsServer,
) -> None:
    async with GateSpotServer(rate=300) as gate:
        servers = {"gateio": gate}
        async with gateway(["gateio:BTC_USDT"], nats_server.url, servers, retention_age=1.0) as gw:
            proc = await _consumer(nats_server.url, "gateio", "BTC_USDT")
            try:
                os.kill(proc.pid, signal.SIGSTOP)
                await asyncio.sleep(3.0)  # > retention (1 s) and the heartbeat bound (1.5 s)
                os.kill(proc.pid, signal.SIGCONT)
                await asyncio.sleep(1.5)
                gate.pause()
                result = await _result(proc)
            finally:
                if proc.returncode is None:
                    os.kill(proc.pid, signal.SIGCONT)
                    proc.kill()
                    await proc.wait()
            _check(result, gate, "BTC_USDT", 100)
            assert result["resyncs"] >= 2, {
                k: v for k, v in result.items() if k not in ("bids", "asks")
            }
            assert gw.stats["publish_errors"] == 0


async def test_standby_gateway_takes_the_lease_when_the_active_one_is_killed(
    nats_server: NatsServer,
) -> None:
    lease = ("--lease", "--lease-ttl", "1.0")
    async with (
        GateSpotServer(rate=300) as gate,
        RemoteBookManager(nats_server.url, heartbeat_timeout=0.6) as remote,
    ):
        active = await gateway_process(nats_server.url, gate, "gw-a", *lease)
        standby = None
        try:
            book = await remote.watch("gateio", "BTC_USDT", timeout=20)
            assert remote.gateways["gateio"] == "gw-a"
            sentinel = RemoteSentinel(book, gate, depth=100)
            standby = await gateway_process(nats_server.url, gate, "gw-b", *lease)
            await asyncio.sleep(2.0)  # the standby is up with live books, and silent
            assert remote.gateways["gateio"] == "gw-a" and book.in_sync
            states: list[str] = []
            book.on_state_change(lambda b: states.append(b.state))
            active.kill()
            await active.wait()
            await wait_for(lambda: not book.in_sync, timeout=2)
            await wait_for(lambda: remote.gateways["gateio"] == "gw-b", timeout=10)
            await book.wait_in_sync(10)
            assert states[0] == "out_of_sync" and states[-1] == "in_sync"
            start = book.updates
            await wait_for(lambda: book.updates >= start + 20, timeout=10)
            gate.pause()
            await wait_for(
                lambda: book.exchange_sequence == gate.market.last_id("BTC_USDT"), timeout=10
            )
            await sentinel.stop()
            assert sentinel.checks > 0
        finally:
            for p in (active, standby):
                if p is not None and p.returncode is None:
                    p.kill()
                    await p.wait()
