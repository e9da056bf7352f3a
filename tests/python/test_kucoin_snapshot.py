"""The full KuCoin level2 snapshot (spot signed, futures public) against the local servers:
equal to the simulated truth, exact, and refused clearly without the right key."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import pytest_asyncio

from hftws import AuthenticationError, Credentials, MissingCredentials, OrderBook
from hftws.auth.kucoin import KucoinRest, KucoinTokenAuthenticator
from hftws.kucoin_snapshot import SPOT_SNAPSHOT_PATH, fetch_full_snapshot, full_snapshot_fetcher
from hftws.rest import RestClient, RestError
from hftws.testing.kucoin_private import (
    DEFAULT_KUCOIN_ACCOUNT as ACCOUNT,
)
from hftws.testing.kucoin_private import (
    KucoinFuturesPrivateServer,
    KucoinSpotPrivateServer,
)

CREDS = Credentials(ACCOUNT.api_key, ACCOUNT.api_secret, passphrase=ACCOUNT.passphrase)


@pytest_asyncio.fixture
async def spot_server() -> AsyncIterator[KucoinSpotPrivateServer]:
    async with KucoinSpotPrivateServer() as server:
        yield server


@pytest_asyncio.fixture
async def futures_server() -> AsyncIterator[KucoinFuturesPrivateServer]:
    async with KucoinFuturesPrivateServer() as server:
        yield server


async def test_spot_signed_snapshot_is_the_whole_truth(
    spot_server: KucoinSpotPrivateServer,
) -> None:
    market = spot_server.market
    for _ in range(20):
        market.step("BTC-USDT")
    async with RestClient() as rest:
        bids, asks, sequence = await fetch_full_snapshot(
            CREDS, "BTC-USDT", rest_url=spot_server.rest_url, rest=rest
        )
        truth = market.snapshot("BTC-USDT", 1_000_000)
        assert sequence == truth.last_id == market.last_id("BTC-USDT")
        assert (tuple(bids), tuple(asks)) == (truth.bids, truth.asks)
        assert all(isinstance(p, Decimal) and isinstance(s, Decimal) for p, s in bids + asks)
        # Key version 3 and a server clock 30 s ahead (re-read, then signed with it).
        market.step("BTC-USDT")
        spot_server.private.clock_skew = 30.0
        later = await fetch_full_snapshot(
            CREDS, "BTC-USDT", rest_url=spot_server.rest_url, rest=rest, key_version="3"
        )
        assert later.sequence == market.last_id("BTC-USDT") > sequence
    assert [outcome for _, outcome in spot_server.private.auth_log] == ["ok", "ok"]
    # The book takes it as is.
    book = OrderBook("kucoin", symbol="BTC-USDT")
    book.load_snapshot(later.bids, later.asks, later.sequence)
    best = book.best_bid()
    assert best is not None and Decimal(str(best[0])) == later.bids[0][0]


@pytest.mark.parametrize(
    ("creds", "code"),
    [
        (Credentials(ACCOUNT.api_key, "wr0ng-s3cret", passphrase=ACCOUNT.passphrase), "400005"),
        (Credentials(ACCOUNT.api_key, ACCOUNT.api_secret, passphrase="wr0ng-phr4se"), "400004"),
    ],
)
async def test_spot_snapshot_bad_key(
    spot_server: KucoinSpotPrivateServer,
    creds: Credentials,
    code: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="hftws")
    with pytest.raises(AuthenticationError) as info:
        await fetch_full_snapshot(creds, "BTC-USDT", rest_url=spot_server.rest_url)
    text = str(info.value)
    assert info.value.reason == code
    assert "GET /api/v3/market/orderbook/level2" in text and "BTC-USDT" not in text.split(":")[0]
    for secret in ("wr0ng-s3cret", "wr0ng-phr4se", ACCOUNT.api_secret, ACCOUNT.passphrase):
        assert secret not in text and secret not in caplog.text


async def test_spot_snapshot_needs_a_key_and_a_known_symbol(
    spot_server: KucoinSpotPrivateServer,
) -> None:
    with pytest.raises(MissingCredentials, match="level2_100"):
        await fetch_full_snapshot(None, "BTC-USDT", rest_url=spot_server.rest_url)
    with pytest.raises(RestError, match="900001"):
        await fetch_full_snapshot(CREDS, "NOPE-USDT", rest_url=spot_server.rest_url)
    spot_server.faults.rest_malformed()
    with pytest.raises(RestError):
        await fetch_full_snapshot(CREDS, "BTC-USDT", rest_url=spot_server.rest_url)


async def test_futures_snapshot_is_public_and_exact(
    futures_server: KucoinFuturesPrivateServer,
) -> None:
    market = futures_server.market
    for _ in range(10):
        market.step("XBTUSDTM")
    snap = await fetch_full_snapshot(
        None, "XBTUSDTM", futures=True, rest_url=futures_server.rest_url
    )
    truth = market.snapshot("XBTUSDTM", 1_000_000)
    assert snap.sequence == truth.last_id
    assert (tuple(snap.bids), tuple(snap.asks)) == (truth.bids, truth.asks)
    # Prices travel as JSON numbers and stay exact; sizes are whole contracts.
    assert all(s == s.to_integral_value() for _, s in snap.bids + snap.asks)
    assert futures_server.private.auth_log == []  # no signature asked or sent


async def test_clock_drift_is_resynced_and_signed_again(
    spot_server: KucoinSpotPrivateServer,
) -> None:
    api = KucoinRest(CREDS, spot_server.rest_url)
    try:
        await api.call("GET", SPOT_SNAPSHOT_PATH, [("symbol", "BTC-USDT")])
        spot_server.private.clock_skew = -20.0  # the server clock jumps back
        data = await api.call("GET", SPOT_SNAPSHOT_PATH, [("symbol", "BTC-USDT")])
        assert int(data["sequence"]) == spot_server.market.last_id("BTC-USDT")
    finally:
        await api.close()
    assert [o for _, o in spot_server.private.auth_log] == ["ok", "400002", "ok"]
    # A query value with characters that need encoding is signed un-encoded, sent encoded.
    with pytest.raises(RestError, match="900001"):
        await fetch_full_snapshot(CREDS, "A B/&=!@#", rest_url=spot_server.rest_url)
    assert spot_server.private.auth_log[-1][1] == "ok"


async def test_token_provider_hook(spot_server: KucoinSpotPrivateServer) -> None:
    auth = KucoinTokenAuthenticator(CREDS)
    async with RestClient() as rest:
        body = await auth.kucoin_token_provider(rest, spot_server.rest_url)
    assert body["code"] == "200000" and body["data"]["token"] == spot_server.private.issued[-1]
    (server,) = body["data"]["instanceServers"]
    assert server["endpoint"] == spot_server.url and auth.stats["tokens"] == 1


async def test_fetcher_for_a_book_manager(spot_server: KucoinSpotPrivateServer) -> None:
    fetch = full_snapshot_fetcher(CREDS)
    async with RestClient() as rest:
        bids, asks, sequence = await fetch(rest, spot_server.rest_url, "ETH-USDT")
    truth = spot_server.market.snapshot("ETH-USDT", 1_000_000)
    assert (tuple(bids), tuple(asks), sequence) == (truth.bids, truth.asks, truth.last_id)
    with pytest.raises(MissingCredentials):
        full_snapshot_fetcher(None)


async def test_books_with_a_key_choose_the_signed_whole_book(
    spot_server: KucoinSpotPrivateServer,
) -> None:
    from hftws.snapshots import KUCOIN_LEVEL2_100, choose_snapshot_source

    assert choose_snapshot_source("kucoin", None) is KUCOIN_LEVEL2_100
    source = choose_snapshot_source("kucoin", CREDS)
    assert source is not None and source.exact_depth is None and "signed" in source.name
    market = spot_server.market
    for _ in range(5):
        market.step("BTC-USDT")
    async with RestClient() as rest:
        bids, asks, sequence = await source.fetch(rest, spot_server.rest_url, "BTC-USDT")
    truth = market.snapshot("BTC-USDT", 1_000_000)
    assert (tuple(bids), tuple(asks), sequence) == (truth.bids, truth.asks, truth.last_id)
