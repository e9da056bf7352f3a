"""hftws: exchange WebSockets for high-frequency trading, with a Rust core.

The native module ``hftws._core`` does the byte work (decimals, order books, frames,
exchange decoders); this package re-exports its public names and adds the asyncio layer.
"""

from hftws._core import (
    BookStatus,
    DecimalParseError,
    DecodeError,
    GateDecodeError,
    HftwsError,
    OrderBook,
    normalize_decimal,
    parse_decimal,
)

__all__ = [
    "BookStatus",
    "DecimalParseError",
    "DecodeError",
    "GateDecodeError",
    "HftwsError",
    "OrderBook",
    "normalize_decimal",
    "parse_decimal",
]

__version__ = "0.1.0"
