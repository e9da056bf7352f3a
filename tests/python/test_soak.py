"""Soak: a million messages through one manager with periodic faults; memory stays flat.

The server answers subscriptions like Gate.io, then writes pre-framed Gate.io pushes
(depth, trades, tickers for several symbols) straight to its transport as fast as the
socket takes them, and drops the connection every 200,000 messages. The client must keep
reconnecting and resubscribing, and its RSS, task count and open file descriptors must
stop growing after warm-up.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
from pathlib import Path
from typing import Any

from client_helpers import own_tasks, wait_for
from websockets.asyncio.server import serve

from hftws.interface import ConnectionState
from hftws.manager import create_websocket_manager

TOTAL = 1_000_000
DROP_EVERY = 200_000
SYMBOLS = ("BTC_USDT", "ETH_USDT", "SOL_USDT", "XRP_USDT")


def frame(payload: bytes) -> bytes:
    """An unmasked server text frame (RFC 6455 §5.2)."""
    n = len(payload)
    if n < 126:
        return bytes([0x81, n]) + payload
    return bytes([0x81, 126]) + n.to_bytes(2, "big") + payload


def pushes() -> bytes:
    """1,000 distinct pushes, pre-framed, cycling over symbols and channels."""
    out = []
    for i in range(1000):
        sym = SYMBOLS[i % len(SYMBOLS)]
        kind = i % 3
        if kind == 0:
            result = {
                "t": 1,
                "s": sym,
                "U": i * 2 + 1,
                "u": i * 2 + 2,
                "b": [["100.5", "1.25"]],
                "a": [["100.7", "0"], ["100.9", "3.5"]],
            }
            msg = {
                "time": 1,
                "channel": "spot.order_book_update",
                "event": "update",
                "result": result,
            }
        elif kind == 1:
            result = {
                "id": i,
                "create_time": 1,
                "create_time_ms": "1.5",
                "side": "buy",
                "currency_pair": sym,
                "amount": "0.01",
                "price": "100.6",
            }
            msg = {"time": 1, "channel": "spot.trades", "event": "update", "result": result}
        else:
            result = {"t": 1, "u": i, "s": sym, "b": "100.5", "B": "1", "a": "100.6", "A": "2"}
            msg = {"time": 1, "channel": "spot.book_ticker", "event": "update", "result": result}
        out.append(frame(json.dumps(msg, separators=(",", ":")).encode()))
    return b"".join(out)


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_a_million_messages_with_periodic_drops_keep_memory_flat() -> None:
    blob = pushes()
    sent = 0

    async def handler(ws: Any) -> None:
        nonlocal sent
        subscribed = 0
        async for raw in ws:
            req = json.loads(raw)
            if req.get("event") == "subscribe":
                await ws.send(
                    json.dumps(
                        {
                            "time": 1,
                            "id": req["id"],
                            "channel": req["channel"],
                            "event": "subscribe",
                            "result": {"status": "success"},
                        }
                    )
                )
                subscribed += 1
                if subscribed == len(SYMBOLS) * 3:
                    break
        transport = ws.transport
        since_drop = 0
        while sent < TOTAL:
            transport.write(blob)
            sent += 1000
            since_drop += 1000
            # Let the client read: keep at most ~4 MB in flight.
            while transport.get_write_buffer_size() > 4_000_000:
                await asyncio.sleep(0.001)
            if since_drop >= DROP_EVERY:
                transport.abort()  # 1006 for the client
                return
            await asyncio.sleep(0)
        await asyncio.sleep(30)

    async with serve(handler, "127.0.0.1", 0, max_queue=None) as server:
        port = server.sockets[0].getsockname()[1]
        manager = create_websocket_manager(
            "gateio", url=f"ws://127.0.0.1:{port}/ws/v4/", ping_interval=5.0, idle_timeout=10.0
        )
        counts = {"book": 0, "trade": 0, "ticker": 0}
        manager.on_orderbook(lambda e: counts.__setitem__("book", counts["book"] + 1))
        manager.on_trade(lambda e: counts.__setitem__("trade", counts["trade"] + 1))
        manager.on_ticker(lambda e: counts.__setitem__("ticker", counts["ticker"] + 1))

        def received() -> int:
            return sum(counts.values())

        async with manager:
            for sym in SYMBOLS:
                await manager.subscribe_depth(sym)
                await manager.subscribe_trades(sym)
                await manager.subscribe_ticker(sym)
            # Warm-up covers the first reconnect, so allocator pools are at their working size.
            await wait_for(lambda: received() >= 2 * DROP_EVERY + 1000, timeout=120, step=0.05)
            gc.collect()
            base_rss, base_fds, base_tasks = rss_bytes(), open_fds(), len(asyncio.all_tasks())
            await wait_for(lambda: received() >= 3 * DROP_EVERY + 100_000, timeout=300, step=0.05)
            gc.collect()
            mid_rss = rss_bytes()
            await wait_for(lambda: received() >= TOTAL - DROP_EVERY, timeout=300, step=0.05)
            await wait_for(lambda: sent >= TOTAL, timeout=60, step=0.05)
            await wait_for(lambda: received() >= TOTAL * 0.9, timeout=60, step=0.05)
            gc.collect()
            end_rss = rss_bytes()
            growth, late_growth = end_rss - base_rss, end_rss - mid_rss
            stats = manager.stats()
            assert manager.handler.state in (
                ConnectionState.SUBSCRIBED,
                ConnectionState.RECONNECTING,
            )
            assert len(asyncio.all_tasks()) <= base_tasks + 1
            assert open_fds() <= base_fds + 1

    # Four drops, four reconnects, each followed by a full resubscription.
    reconnects = stats["reconnects"]
    assert isinstance(reconnects, int) and reconnects >= 4
    assert received() >= TOTAL * 0.9
    assert min(counts.values()) > 0
    summary = f"{received():,} messages, {stats['reconnects']} reconnects"
    print(
        f"soak: {summary}, RSS growth {growth / 1e6:.2f} MB, last 300k {late_growth / 1e6:.2f} MB"
    )
    # A leak of even 64 bytes a message would add 38 MB over the measured 600,000 messages.
    assert growth < 32 * 1024 * 1024, f"RSS grew by {growth / 1e6:.1f} MB after warm-up"
    assert late_growth < 16 * 1024 * 1024, f"RSS still growing: {late_growth / 1e6:.1f} MB"
    assert not own_tasks()
