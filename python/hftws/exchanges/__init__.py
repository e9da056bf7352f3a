"""Exchange handlers: the interface composed with each exchange's mixins and handler.

Imported lazily, so a MEXC-only program never loads the Gate.io module and vice versa.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "BinanceSpotPublicHandler": "hftws.exchanges.binance",
    "BinanceSpotPublicMessageHandler": "hftws.exchanges.binance",
    "BinanceFuturesPublicHandler": "hftws.exchanges.binance",
    "BinanceFuturesPublicMessageHandler": "hftws.exchanges.binance",
    "BinanceSbePublicHandler": "hftws.exchanges.binance",
    "BinanceSbePublicMessageHandler": "hftws.exchanges.binance",
    "MexcPublicHandler": "hftws.exchanges.mexc",
    "MexcPublicMessageHandler": "hftws.exchanges.mexc",
    "GateioSpotPublicHandler": "hftws.exchanges.gateio",
    "GateioSpotPublicMessageHandler": "hftws.exchanges.gateio",
    "GateioFuturesPublicHandler": "hftws.exchanges.gateio",
    "GateioFuturesPublicMessageHandler": "hftws.exchanges.gateio",
    "KucoinSpotPublicHandler": "hftws.exchanges.kucoin",
    "KucoinSpotPublicMessageHandler": "hftws.exchanges.kucoin",
    "KucoinFuturesPublicHandler": "hftws.exchanges.kucoin",
    "KucoinFuturesPublicMessageHandler": "hftws.exchanges.kucoin",
    "MexcPrivateHandler": "hftws.exchanges.mexc_private",
    "MexcPrivateMessageHandler": "hftws.exchanges.mexc_private",
    "GateioSpotPrivateHandler": "hftws.exchanges.gateio_private",
    "GateioSpotPrivateMessageHandler": "hftws.exchanges.gateio_private",
    "GateioFuturesPrivateHandler": "hftws.exchanges.gateio_private",
    "GateioFuturesPrivateMessageHandler": "hftws.exchanges.gateio_private",
    "BinanceSpotPrivateHandler": "hftws.exchanges.binance_private",
    "BinancePrivateMessageHandler": "hftws.exchanges.binance_private",
    "BinanceFuturesPrivateHandler": "hftws.exchanges.binance_private",
    "BinanceFuturesPrivateMessageHandler": "hftws.exchanges.binance_private",
    "KucoinSpotPrivateHandler": "hftws.exchanges.kucoin_private",
    "KucoinSpotPrivateMessageHandler": "hftws.exchanges.kucoin_private",
    "KucoinFuturesPrivateHandler": "hftws.exchanges.kucoin_private",
    "KucoinFuturesPrivateMessageHandler": "hftws.exchanges.kucoin_private",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hftws.exchanges' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
