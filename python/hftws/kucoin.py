"""KuCoin spot and futures market data (classic WebSocket JSON streams).

Protocol facts follow the project's ``kucoin.md`` reference (sections cited in the Rust
sources, ``rust/kucoin/``). The connection layer (token REST, welcome, pings), private
streams and subscriptions are not here.

::

    ev = kucoin.parse(frame)          # KucoinLevel2, KucoinTrade, KucoinControl, ...
    ev.to_dict()                      # the frame as json.loads reads it

    book = hftws.OrderBook("kucoin", symbol="BTC-USDT")     # or "kucoin_futures"
    status = kucoin.apply_depth(frame, book)   # BookStatus, or None for non-depth frames

Choices where the reference leaves room: spot ``level2Depth5/50`` pushes carry no sequence, so
their ``timestamp`` is the id of the stream snapshot they load; a futures change with price 0 is
ignored like a spot one; futures sizes are read as exact decimals (integers in practice).
"""

from hftws._core import (
    KucoinControl,
    KucoinDecodeError,
    KucoinDepthSnapshot,
    KucoinFuturesLevel2,
    KucoinLevel2,
    KucoinOther,
    KucoinTicker,
    KucoinTrade,
)
from hftws._core import kucoin_apply_depth as apply_depth
from hftws._core import kucoin_parse as parse

__all__ = [
    "KucoinControl",
    "KucoinDecodeError",
    "KucoinDepthSnapshot",
    "KucoinEvent",
    "KucoinFuturesLevel2",
    "KucoinLevel2",
    "KucoinOther",
    "KucoinTicker",
    "KucoinTrade",
    "apply_depth",
    "parse",
]

#: Every event ``parse`` returns.
KucoinEvent = (
    KucoinControl
    | KucoinLevel2
    | KucoinFuturesLevel2
    | KucoinDepthSnapshot
    | KucoinTrade
    | KucoinTicker
    | KucoinOther
)
