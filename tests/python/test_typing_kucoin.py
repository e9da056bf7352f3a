"""KuCoin factories are precise: callbacks are checked against the events KuCoin delivers."""

from __future__ import annotations

from pathlib import Path

from test_typing import check

GOOD = """
    from hftws import OrderBookManager, create_websocket_handler_direct, create_websocket_manager
    from hftws.exchanges import KucoinFuturesPublicHandler

    async def main() -> None:
        manager = create_websocket_manager("kucoin")
        manager.on_trade(lambda t: print(t.price, t.size, t.side, t.trade_id, t.time_ns))
        manager.on_ticker(lambda q: print(q.bid_price, q.ask_price_decimal))
        fut: KucoinFuturesPublicHandler = create_websocket_handler_direct("kucoin_futures")
        fut.handler.on_trade(lambda t: print(t.sequence))
        async with manager:
            await manager.subscribe_trades("BTC-USDT")
        async with OrderBookManager() as books:
            book = await books.watch("kucoin", "BTC-USDT")
            print(book.snapshot_source, book.exact_depth, book.exact_levels(5))
"""


def test_kucoin_factories_type_check(tmp_path: Path) -> None:
    out = check(tmp_path, GOOD)
    assert "Success" in out, out
    bad = check(
        tmp_path,
        'from hftws import *\ncreate_websocket_manager("kucoin").on_trade(lambda t: t.prise)\n',
    )
    assert ".py:2: error" in bad and "prise" in bad, bad
