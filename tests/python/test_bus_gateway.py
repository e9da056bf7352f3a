"""Gateway -> NATS JetStream -> remote books, against real nats-server processes and the local
exchanges: remote books end equal to the exchange's truth and are never in sync while they
differ from it (sampled), through late joins, exchange faults, garbage on the bus and a
gateway that stops."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from bus_helpers import RemoteSentinel, differs, gateway, gateway_process, nats_server
from client_helpers import own_tasks, wait_for

from hftws.bus.remote import RemoteBookManager
from hftws.bus.subjects import book_subject
from hftws.testing.binance_server import BinanceSpotServer
from hftws.testing.gate_server import GateSpotServer
from hftws.testing.kucoin_server import KucoinServer
from hftws.testing.mexc_server import MexcServer
from hftws.testing.nats import NatsServer

__all__ = ["nats_server"]

pytestmark = pytest.mark.timeout(60)


async def _settle(books: list[Any], servers: dict[str, Any]) -> None:
    """Freeze the market and wait until every remote book has the exchange's last id."""
    for s in servers.values():
        s.pause()
    await wait_for(
        lambda: all(
            b.in_sync and b.exchange_sequence == servers[b.exchange].market.last_id(b.symbol)
            for b in books
        ),
        timeout=10,
    )


async def test_remote_books_follow_the_gateway_exactly_and_a_late_joiner_catches_up(
    nats_server: NatsServer,
) -> None:
    async with (
        GateSpotServer(rate=300) as gate,
        MexcServer(rate=300) as mexc,
    ):
        servers = {"gateio": gate, "mexc": mexc}
        async with (
            gateway(["gateio:BTC_USDT", "mexc:BTCUSDT"], nats_server.url, servers) as gw,
            RemoteBookManager(nats_server.url) as early,
        ):
            g = await early.watch("gateio", "BTC_USDT")
            m = await early.watch("mexc", "BTCUSDT")
            sentinels = [RemoteSentinel(g, gate, depth=100), RemoteSentinel(m, mexc)]
            await wait_for(lambda: g.updates >= 200 and m.updates >= 200, timeout=15)
            # A late joiner: the bucket's snapshot, then the stream from the next sequence.
            async with RemoteBookManager(nats_server.url) as late:
                g2 = await late.watch("gateio", "BTC_USDT", timeout=10)
                sentinels.append(RemoteSentinel(g2, gate, depth=100))
                start = g2.updates
                await wait_for(lambda: g2.updates >= start + 100, timeout=10)
                await _settle([g, m, g2], servers)
                for s in sentinels:
                    await s.stop()
                assert all(s.checks > 0 for s in sentinels)
                assert g2.depth() == g.depth() == gw.manager.books[("gateio", "BTC_USDT")].depth()
                assert g.gaps == m.gaps == g2.gaps == 0
                assert gw.stats["kv_writes"] > 0 and gw.stats["publish_errors"] == 0
    assert not own_tasks()


async def test_binance_and_kucoin_books_cross_the_bus_exactly(nats_server: NatsServer) -> None:
    """Every exchange goes through the same gateway: books kept by OrderBookManager."""
    async with BinanceSpotServer(rate=300) as bn, KucoinServer(rate=300) as ku:
        servers: dict[str, Any] = {"binance": bn, "kucoin": ku}
        async with (
            gateway(["binance:BTCUSDT", "kucoin:BTC-USDT"], nats_server.url, servers) as gw,
            RemoteBookManager(nats_server.url) as remote,
        ):
            b = await remote.watch("binance", "BTCUSDT", timeout=15)
            k = await remote.watch("kucoin", "BTC-USDT", timeout=15)
            # KuCoin without a key: the public snapshot is exact to 100 levels.
            sentinels = [RemoteSentinel(b, bn), RemoteSentinel(k, ku, depth=100)]
            await wait_for(lambda: b.updates >= 100 and k.updates >= 100, timeout=15)
            await _settle([b, k], servers)
            for s in sentinels:
                await s.stop()
            assert all(s.checks > 0 and not s.violations for s in sentinels)
            assert b.depth() == gw.manager.books[("binance", "BTCUSDT")].depth()
            assert differs(b.depth(), bn, "BTCUSDT", b.exchange_sequence, None) == ""
            assert differs(k.depth(100), ku, "BTC-USDT", k.exchange_sequence, 100) == ""
    assert not own_tasks()


async def test_exchange_faults_reach_remote_books_as_markers_and_they_recover(
    nats_server: NatsServer,
) -> None:
    async with GateSpotServer(rate=300) as gate:
        servers = {"gateio": gate}
        async with (
            gateway(["gateio:BTC_USDT"], nats_server.url, servers) as gw,
            RemoteBookManager(nats_server.url) as remote,
        ):
            book = await remote.watch("gateio", "BTC_USDT")
            sentinel = RemoteSentinel(book, gate, depth=100)
            states: list[str] = []
            book.on_state_change(lambda b: states.append(b.state))
            # The gateway's exchange connection drops, then its stream skips ids.
            gate.faults.close_with(1006)
            await wait_for(lambda: book.gateway_out_of_sync >= 1, timeout=10)
            await book.wait_in_sync(15)
            gate.faults.gap(3)
            await wait_for(lambda: book.gateway_out_of_sync >= 2, timeout=10)
            await book.wait_in_sync(15)
            await _settle([book], servers)
            await sentinel.stop()
            assert "out_of_sync" in states and states[-1] == "in_sync"
            assert book.gaps == 0  # markers, not lost messages
            local = gw.manager.books[("gateio", "BTC_USDT")]
            assert local.resyncs >= 3, (local.resyncs, gw.stats, states)
            assert states == ["out_of_sync", "in_sync"] * (len(states) // 2)


async def test_garbage_on_a_book_subject_takes_the_book_out_of_sync_then_it_resyncs(
    nats_server: NatsServer,
) -> None:
    import nats

    async with GateSpotServer(rate=300) as gate:
        servers = {"gateio": gate}
        async with (
            gateway(["gateio:BTC_USDT"], nats_server.url, servers),
            RemoteBookManager(nats_server.url) as remote,
        ):
            book = await remote.watch("gateio", "BTC_USDT")
            sentinel = RemoteSentinel(book, gate, depth=100)
            lost: list[str] = []
            book.on_state_change(lambda b: lost.append(b.state) if not b.in_sync else None)
            nc = await nats.connect(nats_server.url)
            try:
                for i, junk in enumerate((b"\x01\x01garbage", b"\x07" * 60, b"{}")):
                    await nc.publish(book_subject("gateio", "BTC_USDT"), junk)
                    await nc.flush()
                    await wait_for(lambda i=i: book.malformed > i, timeout=5)  # type: ignore[misc]
                    assert len(lost) == i + 1  # each one took it out of sync
                    await book.wait_in_sync(10)
            finally:
                await nc.close()
            await _settle([book], servers)
            await sentinel.stop()
            assert book.malformed == 3


async def test_a_killed_gateway_takes_remote_books_out_of_sync_and_a_new_one_takes_over(
    nats_server: NatsServer,
) -> None:
    async with (
        GateSpotServer(rate=300) as gate,
        RemoteBookManager(nats_server.url, heartbeat_timeout=0.6) as remote,
    ):
        first = await gateway_process(nats_server.url, gate, "gw-a")
        try:
            book = await remote.watch("gateio", "BTC_USDT", timeout=20)
            sentinel = RemoteSentinel(book, gate, depth=100)
            await wait_for(lambda: book.updates >= 50, timeout=10)
            # Killed outright: no marker, only the missing heartbeat tells.
            first.kill()
            await first.wait()
            await wait_for(lambda: not book.in_sync, timeout=2)
            assert book.heartbeat_losses >= 1
            await asyncio.sleep(0.5)
            assert not book.in_sync
            async with gateway(
                ["gateio:BTC_USDT"], nats_server.url, {"gateio": gate}, gateway_id="gw-b"
            ) as second:
                await book.wait_in_sync(15)
                await _settle([book], {"gateio": gate})
                await sentinel.stop()
                assert book.depth() == second.manager.books[("gateio", "BTC_USDT")].depth()
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()


async def test_lost_nats_connection_is_out_of_sync_at_once_and_recovers_on_restart() -> None:
    async with GateSpotServer(rate=300) as gate:
        servers = {"gateio": gate}
        ns = await NatsServer().start()
        try:
            async with (
                gateway(["gateio:BTC_USDT"], ns.url, servers) as gw,
                RemoteBookManager(ns.url) as remote,
            ):
                book = await remote.watch("gateio", "BTC_USDT")
                sentinel = RemoteSentinel(book, gate, depth=100)
                ns.stop(kill=True)
                await wait_for(lambda: not book.in_sync, timeout=3)
                assert remote.disconnects >= 1
                await ns.start()  # same port, same storage: stream and bucket survive
                await book.wait_in_sync(20)
                await _settle([book], servers)
                await sentinel.stop()
                assert not differs(book.depth(), gate, "BTC_USDT", book.exchange_sequence, 100)
                assert gw.stats["messages"] > 0
        finally:
            ns.cleanup()


async def test_a_quiet_book_still_comes_in_sync_for_a_late_reader(nats_server: NatsServer) -> None:
    async with GateSpotServer(rate=300) as gate:
        servers = {"gateio": gate}
        async with gateway(["gateio:BTC_USDT"], nats_server.url, servers) as gw:
            await wait_for(lambda: gw.stats["kv_writes"] >= 1, timeout=5)
            gate.pause()  # no more deltas: nothing will bridge a stored snapshot
            await asyncio.sleep(0.6)
            async with RemoteBookManager(nats_server.url) as remote:
                book = await remote.watch("gateio", "BTC_USDT", timeout=10)
                assert not differs(book.depth(), gate, "BTC_USDT", book.exchange_sequence, 100)
                assert book.exchange_sequence == gate.market.last_id("BTC_USDT")
