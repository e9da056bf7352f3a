"""Type stubs for the native module ``hftws._core``."""

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Literal, final

from typing_extensions import Buffer

DecimalLike = str | bytes | int | Decimal
Level = tuple[DecimalLike, DecimalLike] | Sequence[DecimalLike]

class HftwsError(Exception):
    """Base class of every hftws error."""

class DecodeError(HftwsError):
    """Bytes from the network could not be decoded."""

class DecimalParseError(DecodeError):
    """A price or size is not an exact decimal in the supported range."""

def parse_decimal(text: DecimalLike, /) -> Decimal:
    """Parse a decimal string exactly; raises DecimalParseError."""

def normalize_decimal(text: DecimalLike, /) -> str:
    """Parse a decimal string and return its canonical spelling."""

@final
class BookStatus:
    """Outcome of a snapshot or delta (compares equal to its int value)."""

    APPLIED: BookStatus
    STALE: BookStatus
    GAP: BookStatus
    CROSSED: BookStatus
    NOT_SYNCED: BookStatus
    @property
    def ok(self) -> bool:
        """True for APPLIED and STALE: the book is still in sync."""
    def __int__(self) -> int: ...

class OrderBook:
    """A local L2 order book with exchange sequence rules (``'mexc'`` or ``'gate'``)."""

    def __init__(
        self,
        rule: Literal["mexc", "gate", "gateio"] = "gate",
        max_depth: int | None = None,
        symbol: str = "",
    ) -> None: ...
    def load_snapshot(
        self, bids: Iterable[Level], asks: Iterable[Level], sequence: int
    ) -> BookStatus: ...
    def apply(
        self, bids: Iterable[Level], asks: Iterable[Level], first_seq: int, last_seq: int
    ) -> BookStatus: ...
    def apply_many(
        self, updates: Iterable[tuple[Iterable[Level], Iterable[Level], int, int]]
    ) -> BookStatus: ...
    def check(self, first_seq: int, last_seq: int) -> BookStatus: ...
    def best_bid(self) -> tuple[float, float] | None: ...
    def best_ask(self) -> tuple[float, float] | None: ...
    def best_bid_decimal(self) -> tuple[Decimal, Decimal] | None: ...
    def best_ask_decimal(self) -> tuple[Decimal, Decimal] | None: ...
    def bbo(self) -> tuple[float, float, float, float]: ...
    def mid(self) -> float | None: ...
    def spread(self) -> Decimal | None: ...
    def top(self, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]: ...
    def top_decimal(
        self, n: int
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]: ...
    def depth(
        self, n: int | None = None
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]: ...
    def size_at(self, side: Literal["bid", "ask"], price: DecimalLike) -> Decimal: ...
    def mark_out_of_sync(self) -> None: ...
    def clear(self) -> None: ...
    @property
    def in_sync(self) -> bool: ...
    @property
    def state(self) -> Literal["empty", "synced", "out_of_sync"]: ...
    @property
    def sequence(self) -> int: ...
    @property
    def symbol(self) -> str: ...
    @property
    def rule(self) -> Literal["mexc", "gate"]: ...
    @property
    def max_depth(self) -> int | None: ...
    @property
    def bid_count(self) -> int: ...
    @property
    def ask_count(self) -> int: ...
    @property
    def top_changed(self) -> bool: ...
    @property
    def counts(self) -> dict[str, int]: ...

class LatencyHistogram:
    """Log-linear latency histogram in nanoseconds (about 3% resolution)."""

    def __init__(self) -> None: ...
    def record(self, ns: int) -> None: ...
    def record_many(self, values: list[int]) -> None: ...
    def quantile(self, q: float) -> int: ...
    def merge(self, other: LatencyHistogram) -> None: ...
    def reset(self) -> None: ...
    def summary(self) -> dict[str, float]: ...
    @property
    def count(self) -> int: ...
    @property
    def min(self) -> int: ...
    @property
    def max(self) -> int: ...
    @property
    def mean(self) -> float: ...
    def __len__(self) -> int: ...
# --- WebSocket codec (RFC 6455 client, RFC 7692 permessage-deflate) -------------------------

class ProtocolError(HftwsError):
    """The WebSocket peer broke RFC 6455/7692.

    ``close_code`` is the code to close with (1002, 1007 or 1009), ``kind`` a stable short
    name (``"masked_frame"``, ``"invalid_utf8"``...). Raised by ``WebSocketDecoder.feed``
    with ``messages``: the messages decoded from that chunk before the violation.
    """

    close_code: int
    kind: str
    messages: list[tuple[int, bytes]]

class HandshakeError(ProtocolError):
    """The server's HTTP upgrade response was refused."""

@final
class Opcode:
    """Message opcodes (RFC 6455 §5.2); compare equal to the ints ``feed`` returns."""

    CONTINUATION: Opcode
    TEXT: Opcode
    BINARY: Opcode
    CLOSE: Opcode
    PING: Opcode
    PONG: Opcode
    def __int__(self) -> int: ...

@final
class DeflateOffer:
    """The permessage-deflate offer sent in the upgrade request."""

    def __init__(
        self,
        *,
        client_max_window_bits: bool = True,
        server_no_context_takeover: bool = False,
        client_no_context_takeover: bool = False,
        server_max_window_bits: int | None = None,
    ) -> None: ...
    def header_value(self) -> str:
        """The ``Sec-WebSocket-Extensions`` header value."""

@final
class DeflateParams:
    """Agreed permessage-deflate parameters (RFC 7692 §7.1)."""

    def __init__(
        self,
        *,
        server_no_context_takeover: bool = False,
        client_no_context_takeover: bool = False,
        server_max_window_bits: int = 15,
        client_max_window_bits: int = 15,
    ) -> None: ...
    @property
    def server_no_context_takeover(self) -> bool: ...
    @property
    def client_no_context_takeover(self) -> bool: ...
    @property
    def server_max_window_bits(self) -> int: ...
    @property
    def client_max_window_bits(self) -> int: ...

class WebSocketDecoder:
    """Streaming RFC 6455 client decoder: feed socket reads, get whole messages.

    ``max_message_size`` (default 4 MiB) bounds a message after reassembly and decompression.
    """

    def __init__(
        self, *, max_message_size: int = 4194304, deflate: DeflateParams | None = None
    ) -> None: ...
    def feed(self, data: Buffer, /) -> list[tuple[int, bytes]]:
        """Decode a chunk; ``[(opcode, payload), ...]`` for each complete message.

        Raises ProtocolError; the decoder then stays failed.
        """
    def feed_count(self, data: Buffer, /) -> int:
        """Decode and validate a chunk without building Python objects; message count."""
    @property
    def close_code(self) -> int | None: ...
    @property
    def close_reason(self) -> str | None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def buffered(self) -> int: ...
    @property
    def max_message_size(self) -> int: ...

class WebSocketEncoder:
    """RFC 6455 client frames, masked with OS randomness, compressed if deflate is given."""

    def __init__(self, *, deflate: DeflateParams | None = None) -> None: ...
    def encode_text(self, data: str | Buffer, /) -> bytes: ...
    def encode_binary(self, data: Buffer | str, /) -> bytes: ...
    def encode_ping(self, data: Buffer | str | None = None, /) -> bytes: ...
    def encode_pong(self, data: Buffer | str | None = None, /) -> bytes: ...
    def encode_close(self, code: int | None = 1000, reason: str = "") -> bytes: ...
    @property
    def compresses(self) -> bool: ...

def build_handshake_request(
    host: str,
    path: str = "/",
    *,
    deflate: bool | DeflateOffer | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    key: str | None = None,
) -> tuple[bytes, str]:
    """The HTTP upgrade request and its ``Sec-WebSocket-Key``."""

def validate_handshake_response(
    data: bytes, key: str, deflate: bool | DeflateOffer | None = None
) -> tuple[int, DeflateParams | None] | None:
    """None while incomplete, else (bytes consumed, negotiated deflate); HandshakeError."""
