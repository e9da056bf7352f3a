"""The public API type-checks the way users see it: precise factories, typed events.

Runs mypy (strict) on small programs: the README's examples must pass, a misspelled event
attribute must not.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from mypy import api


def check(tmp_path: Path, source: str) -> str:
    path = tmp_path / "snippet.py"
    path.write_text(textwrap.dedent(source))
    out, err, _status = api.run(["--strict", "--follow-imports=silent", str(path)])
    return f"{out}{err}"


STRATEGY = """
    from hftws import OrderBookManager, create_websocket_manager

    async def main() -> None:
        manager = create_websocket_manager("gateio")
        manager.on_trade(lambda t: print(t.symbol, t.side, t.amount_str, t.price_str))
        manager.on_ticker(lambda q: None)
        async with manager:
            await manager.subscribe_trades("BTC_USDT")
            async for event in manager:
                if event.kind == "book_ticker":
                    print(event.bid_price_decimal, event.ask_price_decimal)
                    break
        async with OrderBookManager() as books:
            book = await books.watch("gateio", "BTC_USDT")
            print(book.in_sync, book.sequence, book.spread())
"""

PRIVATE = """
    from hftws import Credentials, create_websocket_handler_direct

    async def private() -> None:
        creds = Credentials("my-key", "my-secret")
        ws = create_websocket_handler_direct("mexc_private", credentials=creds)
        ws.handler.on_order(lambda o: print(o.symbol, o.side, o.status, o.price, o.filled_quantity))
        ws.handler.on_execution(lambda f: print("fill", f.order_id, f.price, f.quantity, f.fee))
        ws.handler.on_balance(lambda b: print(b.asset, b.available, b.frozen))
        ws.handler.on_error(print)
        async with ws:
            await ws.subscribe_private()
"""


BINANCE = """
    from hftws import OrderBookManager, create_websocket_handler_direct, create_websocket_manager
    from hftws.exchanges.binance import BinanceSpotPublicHandler

    async def binance() -> None:
        spot: BinanceSpotPublicHandler = create_websocket_handler_direct("binance")
        futures = create_websocket_manager("binance_futures")
        futures.on_trade(lambda t: print(t.symbol, t.price_decimal, t.quantity_str))
        futures.on_orderbook(lambda b: print(b.symbol))
        async with spot, futures:
            await futures.subscribe_trades("BTCUSDT")
        async with OrderBookManager() as books:
            book = await books.watch("binance", "BTCUSDT")
            print(book.in_sync, book.best_bid())
"""


def test_readme_examples_type_check(tmp_path: Path) -> None:
    out = check(tmp_path, STRATEGY + PRIVATE + BINANCE)
    assert "Success" in out, out


MISSPELLED = {
    "prise_str": 'create_websocket_manager("gateio").on_trade(lambda t: print(t.prise_str))',
    "bidz": 'create_websocket_manager("mexc").on_orderbook(lambda b: print(b.bidz))',
    "trade_idd": 'create_websocket_manager("binance").on_trade(lambda t: print(t.trade_idd))',
    "update_idd": (
        'create_websocket_manager("binance_futures").on_ticker(lambda q: print(q.update_idd))'
    ),
    "filled_qty": (
        'create_websocket_handler_direct("gateio_private").handler.on_order('
        "lambda o: print(o.filled_qty))"
    ),
}


def test_a_misspelled_event_attribute_is_a_type_error(tmp_path: Path) -> None:
    out = check(tmp_path, "from hftws import *\n" + "\n".join(MISSPELLED.values()) + "\n")
    for line, wrong in enumerate(MISSPELLED, start=2):
        # attr-defined for one event class, union-attr for a route that delivers several.
        errors = [e for e in out.splitlines() if f".py:{line}: error" in e]
        assert errors and all(wrong in e for e in errors), out
        assert any("[attr-defined]" in e or "[union-attr]" in e for e in errors), out
