"""``hftws watch/record/replay`` with KuCoin spot and futures against the local servers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_cli import ahftws

from hftws.cli.capture import parse_channel
from hftws.cli.config import ConfigError
from hftws.cli.demo import base_of, spell
from hftws.subscriptions import Subscription
from hftws.testing.kucoin_server import KucoinFuturesServer, KucoinServer


def test_symbols_and_channels_are_spelled_the_kucoin_way() -> None:
    assert spell("kucoin", base_of("btc")) == "BTC-USDT"
    assert spell("kucoin_futures", base_of("BTC-USDT")) == "XBTUSDTM"
    assert spell("kucoin_futures", base_of("XBTUSDTM")) == "XBTUSDTM"
    assert spell("mexc", base_of("XBTUSDTM")) == "BTCUSDT"
    assert parse_channel("kucoin", "depth:BTC") == ("book", ("BTC-USDT", "classic"))
    assert parse_channel("kucoin_futures", "trades:BTC") == (
        "stream",
        Subscription("/contractMarket/execution", ("XBTUSDTM",)),
    )
    assert parse_channel("kucoin", "/market/match:BTC-USDT,ETH-USDT") == (
        "stream",
        Subscription("/market/match", ("BTC-USDT", "ETH-USDT")),
    )
    with pytest.raises(ConfigError, match="KuCoin topic"):
        parse_channel("kucoin", "spot.trades:BTC_USDT")
    with pytest.raises(ConfigError, match=r"obu books are a Gate\.io stream"):
        parse_channel("kucoin", "obu:BTC")


async def test_watch_says_how_deep_the_book_is_exact(kucoin_server: KucoinServer) -> None:
    rc, out, err = await ahftws(
        "watch", "kucoin", "BTC", "--depth", "3", "--duration", "1", "--no-tui",
        "--rest-url", kucoin_server.rest_url,
    )  # fmt: skip
    assert rc == 0, err
    assert "kucoin BTC-USDT state=in_sync" in out
    assert "book from public level2_100, exact to 100 levels" in out


@pytest.mark.parametrize("exchange", ["kucoin", "kucoin_futures"])
async def test_record_then_replay_matches_the_live_book(
    exchange: str,
    kucoin_server: KucoinServer,
    kucoin_futures_server: KucoinFuturesServer,
    tmp_path: Path,
) -> None:
    server = kucoin_server if exchange == "kucoin" else kucoin_futures_server
    path, live, again = tmp_path / "r.hfr", tmp_path / "live.json", tmp_path / "replay.json"
    rc, out, err = await ahftws(
        "record", exchange, "depth:BTC", "trades:BTC", "-o", str(path), "--duration", "1.5",
        "--no-tui", "--summary-json", str(live), "--rest-url", server.rest_url,
    )  # fmt: skip
    assert rc == 0, err
    assert re.search(r"recorded [\d,]+ records", out)
    rc, out, err = await ahftws("replay", str(path), "--no-tui", "--summary-json", str(again))
    assert rc == 0, err
    a, b = json.loads(live.read_text()), json.loads(again.read_text())
    (x,) = a["books"]
    (y,) = b["books"]
    assert x["updates"] > 20
    assert (y["sequence"], y["digest"], y["updates"]) == (x["sequence"], x["digest"], x["updates"])
