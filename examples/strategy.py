"""The README's strategy example, run against the embedded local exchange.

Callbacks for trades and tickers, ``async for`` over the same stream, and a synced book.
"""

from __future__ import annotations

import asyncio

from hftws import OrderBookManager, create_websocket_manager
from hftws.testing.gate_server import GateSpotServer


async def strategy(url: str, rest_url: str) -> None:
    # --- the README example starts here ---
    manager = create_websocket_manager("gateio", url=url)
    manager.on_trade(lambda t: print(f"trade {t.symbol} {t.side} {t.amount_str} @ {t.price_str}"))
    manager.on_ticker(lambda q: None)  # best bid/ask pushes, as floats or exact Decimals
    async with manager:
        await manager.subscribe_trades("BTC_USDT")
        await manager.subscribe_ticker("BTC_USDT")
        async for event in manager:  # the same events, bounded queue, drops counted
            if event.kind == "book_ticker" and event.ask_price - event.bid_price > 0.5:
                print(f"wide spread: {event.bid_price_decimal} / {event.ask_price_decimal}")
                break
    async with OrderBookManager(urls={"gateio": url}, rest_urls={"gateio": rest_url}) as books:
        book = await books.watch("gateio", "BTC_USDT")  # snapshot + deltas, resyncs itself
        book.on_update(lambda b: print("top", b.best_bid(), b.best_ask()), top_only=True)
        await asyncio.sleep(0.05)
        print(f"in sync: {book.in_sync}, seq {book.sequence}, spread {book.spread()}")
    # --- the README example ends here ---
    print(manager.metrics.table())


async def main() -> None:
    async with GateSpotServer(rate=200) as server:
        await asyncio.wait_for(strategy(server.url, server.rest_url), timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
