"""The recording file format: raw frames with receive timestamps, zstd blocks, append-only.

Layout (all integers little-endian)::

    file   := header block*
    header := b"HFTWSREC" version:u16 flags:u16 meta_len:u32 meta:JSON(utf-8)
    block  := b"HBLK" comp_len:u32 raw_len:u32 crc32:u32 zstd_frame[comp_len]
    raw    := record*            (the decompressed block, raw_len bytes)
    record := kind:u8 source:u16 recv_ns:u64 len:u32 payload[len]

``kind`` is the WebSocket opcode for frames (1 text, 2 binary) or ``KIND_REST`` for a REST
response the book pipeline asked for (payload: JSON ``{"url", "params", "body"}``);
``source`` indexes ``meta["sources"]`` (one per exchange connection pipeline); ``recv_ns`` is
the ``time.monotonic_ns()`` the transport stamped on the socket read, and ``meta["clock"]``
pairs one monotonic reading with wall-clock time so absolute times can be recovered.

Blocks are independent zstd frames (with zstd's own content checksum, plus a CRC32 of the
compressed bytes so a torn write is caught before decompression). The writer only ever
appends: it seals a block every ``flush_interval`` seconds (or ``block_bytes`` of raw data),
writes it and flushes the OS buffer, so a crash loses at most the last interval. A reader
stops at the first damaged or incomplete block and reports where (:class:`Damage`).

A recording is untrusted input: whatever the bytes, :class:`RecordingReader` either works or
raises :class:`RecordingError` (an :class:`~hftws.HftwsError`); the header's JSON is checked
for the shape ``hftws replay`` relies on (:func:`check_meta`) so a hostile header cannot fail
later with a ``KeyError`` or ``TypeError`` deep inside a replay.
"""

from __future__ import annotations

import json
import os
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from hftws._core import HftwsError

MAGIC = b"HFTWSREC"
BLOCK_MAGIC = b"HBLK"
VERSION = 1
KIND_TEXT = 1
KIND_BINARY = 2
KIND_REST = 16

_HEADER = struct.Struct("<8sHHI")
_BLOCK = struct.Struct("<4sIII")
_RECORD = struct.Struct("<BHQI")
_LEN = struct.Struct("<I")
#: Largest block a reader accepts (a corrupt length must not make it allocate gigabytes).
MAX_BLOCK = 64 << 20


class RecordingError(HftwsError):
    """The file is not a recording this version can read (bad magic, version, header)."""


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _list_of(meta: dict[str, Any], key: str, ok: Any) -> str | None:
    items = meta.get(key, [])
    if not isinstance(items, list):
        return f"{key!r} is not a list"
    for i, item in enumerate(items):
        if not ok(item):
            return f"{key}[{i}] is malformed"
    return None


def _book_ok(b: object) -> bool:
    return (
        isinstance(b, dict)
        and isinstance(b.get("exchange"), str)
        and isinstance(b.get("symbol"), str)
        and isinstance(b.get("mode", "classic"), str)
        and (b.get("limit") is None or _is_int(b.get("limit")))
    )


def _subscription_ok(s: object) -> bool:
    return (
        isinstance(s, dict)
        and isinstance(s.get("exchange"), str)
        and isinstance(s.get("channel"), str)
        and isinstance(s.get("params"), list)
        and all(isinstance(p, str) for p in s["params"])
    )


def check_meta(meta: object) -> str | None:
    """Why a header's JSON is not what a replay needs, or ``None`` when it is."""
    if not isinstance(meta, dict):
        return f"header is a JSON {type(meta).__name__}, not an object"
    clock = meta.get("clock", {})
    if not isinstance(clock, dict) or not all(
        _is_int(clock.get(k, 0)) for k in ("wall_ns", "monotonic_ns")
    ):
        return "'clock' is not {'monotonic_ns': int, 'wall_ns': int}"
    return (
        _list_of(meta, "sources", lambda s: isinstance(s, str))
        or _list_of(meta, "books", _book_ok)
        or _list_of(meta, "subscriptions", _subscription_ok)
    )


@dataclass(frozen=True, slots=True)
class Damage:
    """Where a reader stopped early and why."""

    offset: int
    block: int
    records: int
    reason: str

    def __str__(self) -> str:
        return (
            f"recording damaged at byte {self.offset:,} (block {self.block}): {self.reason}; "
            f"{self.records:,} records before it were replayed"
        )


def _zstd() -> Any:
    try:
        import zstandard
    except ImportError:  # pragma: no cover - pinned in requirements/dev.txt
        raise RecordingError(
            "recording needs the 'zstandard' package (pip install zstandard)"
        ) from None
    return zstandard


class RecordingWriter:
    """Appends records to a new recording file (see the module docstring for the format).

    Args:
        path: file to create (an existing file is refused unless ``overwrite``).
        meta: JSON-serialisable description (exchange sources, channels, books); the writer
            adds ``clock`` and ``created``.
        flush_interval: seconds after which buffered records are sealed into a block.
        block_bytes: raw bytes after which a block is sealed regardless of time.
        level: zstd compression level.
        fsync: also ``os.fsync`` after each block (survives power loss, not only a crash).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        meta: dict[str, Any],
        *,
        flush_interval: float = 1.0,
        block_bytes: int = 1 << 20,
        level: int = 3,
        fsync: bool = False,
        overwrite: bool = False,
    ) -> None:
        zstd = _zstd()
        self.path = Path(path)
        self._compressor = zstd.ZstdCompressor(level=level, write_checksum=True)
        self._buf = bytearray()
        #: False after :meth:`stop`: later records are dropped (the run's end is fixed).
        self.accepting = True
        self._flush_interval = flush_interval
        self._block_bytes = block_bytes
        self._fsync = fsync
        self._last_flush = time.monotonic()
        self.records = 0
        self.blocks = 0
        self.raw_bytes = 0
        meta = dict(meta)
        meta.setdefault("clock", {"monotonic_ns": time.monotonic_ns(), "wall_ns": time.time_ns()})
        meta.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        self.meta = meta
        head = json.dumps(meta, separators=(",", ":")).encode()
        self._file: BinaryIO = open(self.path, "wb" if overwrite else "xb")
        self._file.write(_HEADER.pack(MAGIC, VERSION, 0, len(head)) + head)
        self._file.flush()

    def stop(self) -> None:
        """Take no more records: what arrives while the connections close is not part of
        the run its summary describes."""
        self.accepting = False

    def add(self, kind: int, recv_ns: int, payload: bytes, source: int = 0) -> None:
        """Buffer one record; seals a block when the interval or size limit is reached."""
        if not self.accepting:
            return
        buf = self._buf
        buf += _RECORD.pack(kind, source, recv_ns, len(payload))
        buf += payload
        self.records += 1
        if len(buf) >= self._block_bytes or (
            time.monotonic() - self._last_flush >= self._flush_interval
        ):
            self.flush()

    def add_records(self, raw: bytes) -> None:
        """Append records already in the record format (a decoder's recording tap)."""
        if not self.accepting:
            return
        pos, n = 0, len(raw)
        while pos < n:
            (length,) = _LEN.unpack_from(raw, pos + _RECORD.size - 4)
            pos += _RECORD.size + length
            self.records += 1
        self._buf += raw
        if len(self._buf) >= self._block_bytes or (
            time.monotonic() - self._last_flush >= self._flush_interval
        ):
            self.flush()

    def add_rest(self, recv_ns: int, url: str, params: Any, body: Any, source: int = 0) -> None:
        """Record one REST response (already decoded JSON) the book pipeline used."""
        doc = {"url": url, "params": params, "body": body}
        # Bodies read with exact decimals (KuCoin futures prices) keep them as text.
        text = json.dumps(doc, separators=(",", ":"), default=_decimal_text)
        self.add(KIND_REST, recv_ns, text.encode(), source)

    def flush(self) -> None:
        """Seal the buffered records into a block and hand it to the OS (no-op when empty)."""
        self._last_flush = time.monotonic()
        if not self._buf or self._file.closed:
            return
        raw = bytes(self._buf)
        self._buf.clear()
        comp = self._compressor.compress(raw)
        self._file.write(_BLOCK.pack(BLOCK_MAGIC, len(comp), len(raw), zlib.crc32(comp)))
        self._file.write(comp)
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())
        self.blocks += 1
        self.raw_bytes += len(raw)

    def close(self) -> None:
        """Flush the last block and close the file (idempotent)."""
        if not self._file.closed:
            self.flush()
            self._file.close()

    @property
    def size(self) -> int:
        """Bytes written to the file so far."""
        return self.path.stat().st_size

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class Record:
    kind: int
    source: int
    recv_ns: int
    payload: bytes


class RecordingReader:
    """Reads a recording block by block; stops at the first damage (see :attr:`damage`).

    ``meta`` is the header's JSON; :meth:`records` yields :class:`Record` objects;
    ``position``/``size`` give progress in bytes.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._zstd = _zstd().ZstdDecompressor()
        self._file: BinaryIO = open(self.path, "rb")
        self.size = os.fstat(self._file.fileno()).st_size
        head = self._file.read(_HEADER.size)
        if len(head) < _HEADER.size:
            self._file.close()
            raise RecordingError(f"{self.path}: not an hftws recording (file too short)")
        magic, version, _flags, meta_len = _HEADER.unpack(head)
        if magic != MAGIC:
            self._file.close()
            raise RecordingError(f"{self.path}: not an hftws recording (bad magic {magic!r})")
        if version != VERSION:
            self._file.close()
            raise RecordingError(
                f"{self.path}: recording format version {version} (this hftws reads {VERSION})"
            )
        raw_meta = self._file.read(meta_len)
        try:
            # RecursionError: deeply nested JSON; ValueError covers bad UTF-8 and syntax.
            meta = json.loads(raw_meta)
        except (ValueError, RecursionError) as exc:
            self._file.close()
            raise RecordingError(f"{self.path}: damaged header ({exc})") from None
        why = check_meta(meta)
        if why is not None:
            self._file.close()
            raise RecordingError(f"{self.path}: damaged header ({why})")
        self.meta: dict[str, Any] = meta
        self.position = self._file.tell()
        self.damage: Damage | None = None
        self.blocks = 0
        self.records_read = 0

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RecordingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stop(self, offset: int, reason: str) -> None:
        self.damage = Damage(offset, self.blocks, self.records_read, reason)

    def _blocks(self) -> Iterator[bytes]:
        f = self._file
        while True:
            offset = f.tell()
            head = f.read(_BLOCK.size)
            if not head:
                return
            if len(head) < _BLOCK.size:
                self._stop(offset, f"truncated block header ({len(head)} of {_BLOCK.size} bytes)")
                return
            magic, comp_len, raw_len, crc = _BLOCK.unpack(head)
            if magic != BLOCK_MAGIC or comp_len > MAX_BLOCK or raw_len > MAX_BLOCK:
                self._stop(offset, "bad block header")
                return
            comp = f.read(comp_len)
            if len(comp) < comp_len:
                self._stop(offset, f"truncated block ({len(comp):,} of {comp_len:,} bytes)")
                return
            if zlib.crc32(comp) != crc:
                self._stop(offset, "block checksum mismatch")
                return
            try:
                raw = self._zstd.decompress(comp, max_output_size=raw_len)
            except Exception as exc:  # zstandard.ZstdError; the module is imported lazily
                self._stop(offset, f"undecompressable block ({exc})")
                return
            if len(raw) != raw_len:
                self._stop(offset, f"block decompressed to {len(raw)} bytes, expected {raw_len}")
                return
            self.position = f.tell()
            yield raw
            self.blocks += 1

    def records(self) -> Iterator[Record]:
        """Every record up to the end or the first damage."""
        size = _RECORD.size
        unpack = _RECORD.unpack_from
        for raw in self._blocks():
            pos, end = 0, len(raw)
            while pos < end:
                if end - pos < size:
                    self._stop(self.position, "record header cut inside a block")
                    return
                kind, source, recv_ns, length = unpack(raw, pos)
                pos += size
                if pos + length > end:
                    self._stop(self.position, "record payload overruns its block")
                    return
                yield Record(kind, source, recv_ns, raw[pos : pos + length])
                pos += length
                self.records_read += 1

    def wall_ns(self, recv_ns: int) -> int:
        """Wall-clock time of a record's monotonic receive timestamp."""
        clock = self.meta.get("clock", {})  # ints, see check_meta
        return int(clock.get("wall_ns", 0)) + recv_ns - int(clock.get("monotonic_ns", 0))


def _decimal_text(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot record a {type(value).__name__} in a REST body")


def decode_rest(payload: bytes) -> dict[str, Any]:
    """The ``{"url", "params", "body"}`` document of a ``KIND_REST`` record.

    Raises:
        RecordingError: the payload is not such a document (``url`` a string, ``params`` the
            query string or ``None``, ``body`` present).
    """
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise RecordingError(f"damaged REST record ({exc})") from None
    if not (
        isinstance(doc, dict)
        and isinstance(doc.get("url"), str)
        and (doc.get("params") is None or isinstance(doc.get("params"), str))
        and "body" in doc
    ):
        raise RecordingError("damaged REST record (not {'url': str, 'params': str, 'body'})")
    return doc
