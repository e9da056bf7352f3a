"""MEXC spot public streams: protobuf pushes and JSON control frames on one socket."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from hftws import mexc
from hftws._core import (
    BookUpdate,
    MexcBookTicker,
    MexcBookTickers,
    MexcControl,
    MexcDepthBatch,
    MexcDepthUpdate,
    MexcKline,
    MexcMiniTicker,
    MexcMiniTickers,
    MexcTrade,
    MexcTrades,
)
from hftws.handlers.public import PublicMessageHandler
from hftws.interface import BaseWebSocketInterface
from hftws.mixins.auth import NoAuthMixin
from hftws.mixins.connection import MexcConnectionMixin
from hftws.mixins.subscription import SubscriptionMixin

OP_TEXT = 1
#: What callbacks and ``async for`` of a MEXC public connection receive, all routes together.
MexcPublicEvent = mexc.MexcEvent | MexcControl | BookUpdate
#: ... and per route (``on_orderbook``, ``on_trade``, ``on_ticker``, ``on_kline``).
MexcBookEvent = MexcDepthUpdate | MexcDepthBatch | BookUpdate
#: A trades push (301, 314) and a book-ticker batch (311) reach callbacks one item per call, in
#: the common shapes (``hftws.Trade``, ``hftws.BookTicker``) every exchange delivers.
MexcTradeEvent = MexcTrade
MexcTickerEvent = MexcBookTicker | MexcMiniTicker | MexcMiniTickers
MexcKlineEvent = MexcKline


class MexcPublicMessageHandler(
    PublicMessageHandler[MexcBookEvent, MexcTradeEvent, MexcTickerEvent, MexcKlineEvent]
):
    """Decodes MEXC frames in Rust: binary -> typed push, text -> control (ack, PONG, refusal)."""

    exchange: ClassVar[str] = "mexc"
    #: Trade and book-ticker batches fan out one trade or ticker per call.
    BATCHES: ClassVar[tuple[type[Iterable[Any]], ...]] = (MexcTrades, MexcBookTickers)

    def _parse(self, raw: Any) -> Any:
        return parse_frame(raw)


def parse_frame(raw: Any) -> Any:
    """A MEXC payload: text frames reach handlers as str (control), pushes as bytes."""
    return mexc.parse_control(raw) if isinstance(raw, str) else mexc.decode(raw)


class MexcPublicHandler(
    MexcConnectionMixin, NoAuthMixin, SubscriptionMixin, BaseWebSocketInterface[MexcPublicEvent]
):
    """A MEXC spot public connection (up to 30 streams; use a manager for more)."""

    handler_class = MexcPublicMessageHandler
    handler: MexcPublicMessageHandler
    stream_decoder: ClassVar[str | None] = "mexc"

    def _message_raw(self, opcode: int, payload: bytes) -> Any:
        # Control frames are rare; decoding them to str tells them apart from protobuf.
        return payload.decode("utf-8", "replace") if opcode == OP_TEXT else payload
