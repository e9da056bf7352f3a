"""A three-node NATS cluster (stream and bucket replicated three times) keeps the bus working
when a node is killed: remote books go out of sync, resync, and end equal to the truth."""

from __future__ import annotations

import pytest
from bus_helpers import RemoteSentinel, gateway
from client_helpers import wait_for

from hftws.bus.remote import RemoteBookManager
from hftws.testing.gate_server import GateSpotServer
from hftws.testing.nats import NatsCluster

pytestmark = pytest.mark.timeout(90)


async def test_killing_a_node_of_a_three_node_cluster_keeps_books_exact() -> None:
    async with NatsCluster(3) as cluster, GateSpotServer(rate=300) as gate:
        servers = {"gateio": gate}
        async with (
            gateway(["gateio:BTC_USDT"], cluster.urls, servers, replicas=3) as gw,
            RemoteBookManager(cluster.urls) as remote,
        ):
            book = await remote.watch("gateio", "BTC_USDT", timeout=30)
            sentinel = RemoteSentinel(book, gate, depth=100)
            await wait_for(lambda: book.updates >= 30, timeout=10)
            # Kill the node the reader is connected to: it must notice, and resync elsewhere.
            assert remote.nc is not None and remote.nc.connected_url is not None
            port = remote.nc.connected_url.port
            victim = next(n for n in cluster.nodes if n.port == port)
            victim.stop(kill=True)
            await wait_for(lambda: remote.disconnects >= 1, timeout=5)
            await book.wait_in_sync(30)
            start = book.updates
            await wait_for(lambda: book.updates >= start + 30, timeout=15)
            gate.pause()
            await wait_for(
                lambda: book.in_sync and book.exchange_sequence == gate.market.last_id("BTC_USDT"),
                timeout=15,
            )
            await sentinel.stop()
            assert sentinel.checks > 0
            assert book.depth() == gw.manager.books[("gateio", "BTC_USDT")].depth()
