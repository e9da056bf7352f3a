"""The public surface: one import for users, one exception family, results of subscriptions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from client_helpers import wait_for

import hftws
import hftws.ws
from hftws import (
    ConnectError,
    ConnectionState,
    ConnectTimeout,
    HftwsError,
    Subscription,
    SubscriptionError,
    UnknownExchange,
    create_websocket_handler_direct,
    create_websocket_manager,
)
from hftws.testing.mexc_server import MexcServer

FAST: dict[str, Any] = {"ping_interval": 0.5, "idle_timeout": 2.0}


def test_users_import_everything_from_hftws_and_the_codec_from_hftws_ws() -> None:
    for name in (
        "create_websocket_manager",
        "create_websocket_handler_direct",
        "WebSocketManager",
        "OrderBookManager",
        "OrderBook",
        "Credentials",
        "AuthenticationError",
        "SnapshotError",
        "DecodeError",
    ):
        assert name in hftws.__all__ and hasattr(hftws, name)
    for internal in ("DeflateOffer", "build_handshake_request", "StreamDecoder", "Opcode"):
        assert internal not in hftws.__all__
        assert hasattr(hftws.ws, internal)


def test_every_error_is_an_hftws_error() -> None:
    for cls in (
        ConnectError,
        ConnectTimeout,
        SubscriptionError,
        UnknownExchange,
        hftws.AuthenticationError,
        hftws.MissingCredentials,
        hftws.SnapshotError,
        hftws.RestError,
        hftws.DecodeError,
        hftws.ProtocolError,
    ):
        assert issubclass(cls, HftwsError), cls
    # The builtin bases old code caught are kept.
    assert issubclass(ConnectError, OSError) and issubclass(ConnectTimeout, TimeoutError)
    assert issubclass(UnknownExchange, ValueError)
    with pytest.raises(UnknownExchange, match=r"valid choices: .*gateio"):
        create_websocket_manager("kraken")


async def test_a_refused_connection_names_the_exchange_and_the_endpoint() -> None:
    ws = create_websocket_handler_direct("gateio", url="ws://127.0.0.1:9/ws/v4/?secret=1", **FAST)
    with pytest.raises(ConnectError) as info:
        await ws.connect()
    text = str(info.value)
    assert text.startswith("gateio: ") and "127.0.0.1:9" in text and "refused" in text
    assert "secret" not in text
    assert ws.state is ConnectionState.CLOSED
    await ws.close()


async def test_subscription_results_reach_the_hook_on_subscribe_and_resubscribe(
    mexc_server: MexcServer,
) -> None:
    mexc_server.faults.refuse("*ETHUSDT*")
    ws = create_websocket_handler_direct("mexc", url=mexc_server.url, **FAST)
    results: list[tuple[Subscription, bool, str]] = []
    ws.on_subscription_result(lambda sub, ok, why: results.append((sub, ok, why)))
    good, bad = ws.depth_subscription("BTCUSDT"), ws.depth_subscription("ETHUSDT")
    async with ws:
        await ws.subscribe(good)
        with pytest.raises(SubscriptionError) as info:
            await ws.subscribe(bad)
        assert "mexc" in str(info.value) and "Blocked" in str(info.value)
        assert results == [(good, True, ""), (bad, False, results[1][2])]
        assert "Blocked" in results[1][2]
        mexc_server.faults.close_with(1006)
        await wait_for(lambda: ws.metrics.reconnects == 1 and len(results) == 3)
        await asyncio.sleep(0)
    # The re-subscription after the reconnect is confirmed again; the refused one is not retried.
    assert results[2] == (good, True, "")
