"""Trades and tickers on the bus: the kind-5/6 encoding (docs/bus.md) round-trips exactly and
refuses malformed bytes; against a real nats-server, the gateway's trades for the local Gate.io
and MEXC exchanges reach a consumer equal to the exchange's own trades, in order, with a
gateway sequence without gaps, and garbage on a trades subject is counted, not a crash."""

from __future__ import annotations

import asyncio
import struct
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from bus_helpers import gateway, nats_server
from client_helpers import wait_for
from hypothesis import given
from hypothesis import strategies as st

from hftws._core import BusDecodeError
from hftws.bus.remote import RemoteBookManager
from hftws.bus.streams import (
    HEADER_SIZE,
    RemoteTicker,
    RemoteTrade,
    decode_stream_message,
    encode_ticker,
    encode_trade,
)
from hftws.bus.subjects import trades_subject
from hftws.testing.gate_server import GateSpotServer
from hftws.testing.market import Trade, fmt
from hftws.testing.mexc_server import MexcServer
from hftws.testing.nats import NatsServer

__all__ = ["nats_server"]

pytestmark = pytest.mark.timeout(60)

_decimal_text = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=8, allow_nan=False
).map(lambda d: format(d, "f"))


@given(
    price=_decimal_text,
    amount=_decimal_text,
    side=st.sampled_from([None, "buy", "sell"]),
    trade_id=st.one_of(st.none(), st.integers(0, 2**64 - 1), st.text("0123456789X", max_size=20)),
    trade_time=st.one_of(st.none(), st.integers(0, 2**62)),
    seq=st.integers(0, 2**64 - 1),
)
def test_a_trade_round_trips_exactly(
    price: str, amount: str, side: str | None, trade_id: Any, trade_time: int | None, seq: int
) -> None:
    t = SimpleNamespace(
        price_str=price, amount_str=amount, side=side, trade_id=trade_id, trade_time=trade_time
    )
    data = encode_trade("gateio", "BTC_USDT", seq, 11, 12, t)
    got = decode_stream_message(data)
    assert isinstance(got, RemoteTrade)
    assert (got.price_str, got.amount_str, got.side, got.trade_id, got.trade_time) == (
        price,
        amount,
        side,
        trade_id,
        trade_time,
    )
    assert (got.exchange, got.symbol, got.sequence, got.recv_ns, got.publish_ns) == (
        "gateio",
        "BTC_USDT",
        seq,
        11,
        12,
    )
    assert got.price_decimal == Decimal(price)


@given(
    texts=st.lists(st.one_of(st.none(), _decimal_text), min_size=4, max_size=4),
    update_id=st.one_of(st.none(), st.integers(0, 2**64 - 1)),
    time_ms=st.one_of(st.none(), st.integers(0, 2**62)),
)
def test_a_ticker_round_trips_exactly(
    texts: list[str | None], update_id: int | None, time_ms: int | None
) -> None:
    bp, bs, ap, as_ = texts
    t = SimpleNamespace(
        bid_price_str=bp,
        bid_size_str=bs,
        ask_price_str=ap,
        ask_size_str=as_,
        update_id=update_id,
        time_ms=time_ms,
    )
    got = decode_stream_message(encode_ticker("mexc", "BTCUSDT", 7, 1, 2, t))
    assert isinstance(got, RemoteTicker)
    assert (
        got.bid_price_str,
        got.bid_size_str,
        got.ask_price_str,
        got.ask_size_str,
        got.update_id,
        got.time_ms,
    ) == (bp, bs, ap, as_, update_id, time_ms)


def _trade_bytes() -> bytes:
    t = SimpleNamespace(
        price_str="65000.10", amount_str="0.5", side="buy", trade_id=42, trade_time=1700
    )
    return encode_trade("gateio", "BTC_USDT", 5, 1, 2, t)


def test_the_header_layout_is_the_documented_one() -> None:
    data = _trade_bytes()
    assert HEADER_SIZE == 44
    assert data[:4] == bytes([1, 5, 0b11, 1])
    assert struct.unpack_from("<QQQqQ", data, 4) == (5, 1, 2, 1700, 42)
    assert data[44:] == b"\x06gateio\x08BTC_USDT\x0865000.10\x030.5\xff"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d[:10],  # truncated header
        lambda d: d[:-1],  # truncated field
        lambda d: d + b"\x00",  # trailing byte
        lambda d: bytes([2]) + d[1:],  # unknown version
        lambda d: d[:1] + bytes([1]) + d[2:],  # a book kind
        lambda d: d[:1] + bytes([9]) + d[2:],  # unknown kind
        lambda d: d[:2] + bytes([0x80]) + d[3:],  # unknown flag
        lambda d: d[:3] + bytes([3]) + d[4:],  # unknown side
        lambda d: d.replace(b"65000.10", b"6500O.10"),  # not a decimal
        lambda d: d.replace(b"\x06gateio", b"\x06gate\xff\xfe"),  # not UTF-8
    ],
)
def test_malformed_messages_are_refused(mutate: Any) -> None:
    with pytest.raises(BusDecodeError):
        decode_stream_message(mutate(_trade_bytes()))


def _record_trades(server: Any) -> dict[str, list[Trade]]:
    """Every trade the local exchange's market makes, per symbol (its truth)."""
    truth: dict[str, list[Trade]] = {}
    market = server.market
    step = market.step

    def recording(symbol: str) -> Any:
        change = step(symbol)
        truth.setdefault(symbol, []).extend(change.trades)
        return change

    market.step = recording
    return truth


def _same(got: RemoteTrade, t: Trade, exchange: str) -> bool:
    """The exchange's exact text, side, id and time (Gate spot sends ``id`` = market id +
    9e9, see testing/gate_server.py; MEXC a text id)."""
    tid = t.trade_id + 9_000_000_000 if exchange == "gateio" else f"{t.trade_id}X0"
    return (
        got.price_str == fmt(t.price)
        and got.amount_str == fmt(t.size)
        and got.side == t.side
        and got.trade_id == tid
        and got.trade_time == t.time_ns // 1_000_000
    )


async def test_gateway_trades_reach_a_consumer_exactly_in_order_without_gaps(
    nats_server: NatsServer,
) -> None:
    async with GateSpotServer(rate=300) as gate, MexcServer(rate=300) as mexc:
        servers = {"gateio": gate, "mexc": mexc}
        truth = {"gateio": _record_trades(gate), "mexc": _record_trades(mexc)}
        symbols = {"gateio": "BTC_USDT", "mexc": "BTCUSDT"}
        async with (
            RemoteBookManager(nats_server.url) as remote,
            gateway(["gateio:BTC_USDT", "mexc:BTCUSDT"], nats_server.url, servers) as gw,
        ):
            got: dict[str, list[RemoteTrade]] = {"gateio": [], "mexc": []}
            tickers: list[RemoteTicker] = []
            mexc_tickers: list[RemoteTicker] = []
            readers = {
                ex: await remote.on_trade(ex, sym, got[ex].append) for ex, sym in symbols.items()
            }
            ticker_reader = await remote.on_ticker("gateio", "BTC_USDT", tickers.append)
            await remote.on_ticker("mexc", "BTCUSDT", mexc_tickers.append)
            assert remote.nc is not None
            await remote.nc.flush()
            await wait_for(
                lambda: all(len(v) >= 30 for v in got.values()) and tickers and mexc_tickers,
                timeout=20,
            )
            for s in servers.values():
                s.pause()
            await asyncio.sleep(0.3)
            for ex, sym in symbols.items():
                mine, exchange_trades = got[ex], truth[ex][sym]
                first = next(i for i, t in enumerate(exchange_trades) if _same(mine[0], t, ex))
                expected = exchange_trades[first : first + len(mine)]
                assert len(expected) == len(mine)
                bad = [(g, t) for g, t in zip(mine, expected, strict=True) if not _same(g, t, ex)]
                assert not bad, bad[:3]
                # Nothing the gateway saw after the first one is missing.
                assert len(mine) == len(exchange_trades) - first
                seqs = [g.sequence for g in mine]
                assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
                r = readers[ex]
                assert r.gaps == 0 and r.malformed == 0 and r.received == len(mine)
            # Tickers: the exchange's best levels at their update id, exactly.
            for server, quotes in ((gate, tickers), (mexc, mexc_tickers)):
                for t in quotes[-20:]:
                    assert t.update_id is not None
                    truth_at = server.market.snapshot_at(t.symbol, t.update_id, 1)
                    (bp, bs), (ap, as_) = truth_at.bids[0], truth_at.asks[0]
                    assert (t.bid_price_str, t.ask_price_str) == (fmt(bp), fmt(ap))
                    assert (Decimal(t.bid_size_str or "0"), Decimal(t.ask_size_str or "0")) == (
                        bs,
                        as_,
                    )
            assert ticker_reader.gaps == 0
            assert gw.stats["trades"] >= sum(len(v) for v in got.values())


async def test_garbage_on_a_trades_subject_is_counted_not_a_crash(
    nats_server: NatsServer,
) -> None:
    import nats

    async with GateSpotServer(rate=300) as gate:
        async with (
            RemoteBookManager(nats_server.url) as remote,
            gateway(["gateio:BTC_USDT"], nats_server.url, {"gateio": gate}),
        ):
            got: list[RemoteTrade] = []
            reader = await remote.on_trade("gateio", "BTC_USDT", got.append)
            await wait_for(lambda: len(got) >= 3, timeout=15)
            nc = await nats.connect(nats_server.url)
            try:
                for junk in (b"", b"\x01\x05garbage", _trade_bytes()[:-3], b"\x01\x01" + bytes(60)):
                    await nc.publish(trades_subject("gateio", "BTC_USDT"), junk)
                await nc.flush()
            finally:
                await nc.close()
            await wait_for(lambda: reader.malformed == 4, timeout=5)
            n = len(got)
            await wait_for(lambda: len(got) >= n + 3, timeout=10)  # still flowing
            assert reader.gaps == 0
            assert reader.last_error


def test_the_cli_turns_trades_and_tickers_off() -> None:
    from hftws.cli.app import build_parser

    parser, _subs = build_parser()
    on = parser.parse_args(["gateway", "gateio:BTC_USDT"])
    off = parser.parse_args(["gateway", "gateio:BTC_USDT", "--no-trades", "--no-tickers"])
    assert (on.trades, on.tickers) == (True, True)
    assert (off.trades, off.tickers) == (False, False)


async def test_a_gateway_without_trades_and_tickers_publishes_neither(
    nats_server: NatsServer,
) -> None:
    async with GateSpotServer(rate=300) as gate:
        async with (
            RemoteBookManager(nats_server.url) as remote,
            gateway(
                ["gateio:BTC_USDT"], nats_server.url, {"gateio": gate}, trades=False, tickers=False
            ) as gw,
        ):
            seen: list[Any] = []
            trades = await remote.on_trade("gateio", "BTC_USDT", seen.append)
            tickers = await remote.on_ticker("gateio", "BTC_USDT", seen.append)
            start = gw.stats["messages"]
            await wait_for(lambda: gw.stats["messages"] >= start + 100, timeout=10)
            assert remote.nc is not None
            await remote.nc.flush()
            assert not seen and trades.received == tickers.received == 0
            assert gw.stats["trades"] == gw.stats["tickers"] == 0
            # Not even subscribed at the exchange: only the book's stream.
            subs = [str(s) for s in gw.manager.managers["gateio"].subscriptions]
            assert subs == ["spot.order_book_update[BTC_USDT,100ms]"], subs
