"""Recording file format, damage handling, and record -> replay through the same pipeline."""

from __future__ import annotations

import asyncio
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from client_helpers import wait_for
from hypothesis import given
from hypothesis import strategies as st

from hftws import HftwsError
from hftws.cli.config import ConfigError, command_defaults, endpoint, load
from hftws.cli.pipeline import KIND_STATE, Pipeline, ReplayRest
from hftws.cli.record import (
    KIND_BINARY,
    KIND_REST,
    KIND_TEXT,
    Record,
    RecordingError,
    RecordingReader,
    RecordingWriter,
    decode_rest,
)
from hftws.rest import RestError
from hftws.testing.gate_server import GateSpotServer
from hftws.testing.mexc_server import MexcServer

records = st.lists(
    st.tuples(
        st.sampled_from([KIND_TEXT, KIND_BINARY, KIND_REST, KIND_STATE]),
        st.integers(0, 3),
        st.integers(0, 2**63),
        st.binary(max_size=300),
    ),
    max_size=60,
)


def write(path: Any, recs: Any, **kw: Any) -> RecordingWriter:
    w = RecordingWriter(path, {"sources": ["mexc"]}, overwrite=True, **kw)
    for kind, source, ns, payload in recs:
        w.add(kind, ns, payload, source)
    w.close()
    return w


def read_all(path: Any) -> tuple[list[Record], RecordingReader]:
    with RecordingReader(path) as r:
        return list(r.records()), r


@given(recs=records, block=st.sampled_from([64, 1000, 1 << 20]))
def test_roundtrip_any_records_any_block_size(tmp_path_factory: Any, recs: Any, block: Any) -> None:
    path = tmp_path_factory.mktemp("rec") / "x.hfr"
    w = write(path, recs, block_bytes=block)
    got, reader = read_all(path)
    assert [(r.kind, r.source, r.recv_ns, r.payload) for r in got] == recs
    assert reader.damage is None
    assert reader.meta["sources"] == ["mexc"]
    assert w.records == len(recs)


def test_header_records_clock_and_wall_time(tmp_path: Path) -> None:
    path = tmp_path / "x.hfr"
    before = time.time_ns()
    now = time.monotonic_ns()
    write(path, [(KIND_TEXT, 0, now, b"{}")])
    got, reader = read_all(path)
    assert abs(reader.wall_ns(got[0].recv_ns) - before) < 2_000_000_000
    assert reader.meta["created"].endswith("Z")


def test_existing_file_is_not_overwritten_by_default(tmp_path: Path) -> None:
    path = tmp_path / "x.hfr"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        RecordingWriter(path, {})
    assert path.read_bytes() == b"precious"


def test_sealed_blocks_are_readable_while_the_writer_is_still_open(tmp_path: Path) -> None:
    """A crash loses at most the records of the current flush interval."""
    path = tmp_path / "x.hfr"
    w = RecordingWriter(path, {}, flush_interval=0.05)
    w.add(KIND_TEXT, 1, b"a")
    assert read_all(path)[0] == []  # still buffered: this is what a crash would lose
    time.sleep(0.06)
    w.add(KIND_TEXT, 2, b"b")  # the interval passed: both are sealed now
    got, reader = read_all(path)
    assert [r.payload for r in got] == [b"a", b"b"] and reader.damage is None
    w.close()


def test_truncation_anywhere_replays_up_to_the_damage(tmp_path: Path) -> None:
    path = tmp_path / "x.hfr"
    rng = random.Random(7)  # incompressible but reproducible payloads
    recs = [(KIND_BINARY, 0, i, rng.randbytes(40)) for i in range(300)]
    write(path, recs, block_bytes=2000)
    data = path.read_bytes()
    full, _ = read_all(path)
    cut_path = tmp_path / "cut.hfr"
    with RecordingReader(path) as r:
        header_end = r.position
    # Every cut point inside the last blocks, plus a sample further in (bounded loop).
    cuts = list(range(len(data) - 1, len(data) - 200, -1)) + list(
        range(header_end + 1, len(data) - 200, 97)
    )
    # Block ends: a cut exactly there is a shorter, undamaged recording.
    ends, pos = {header_end}, header_end
    while pos < len(data):
        pos += 16 + int.from_bytes(data[pos + 4 : pos + 8], "little")
        ends.add(pos)
    assert pos == len(data)
    for cut in cuts:
        cut_path.write_bytes(data[:cut])
        got, reader = read_all(cut_path)
        assert got == full[: len(got)]
        if cut in ends:
            assert reader.damage is None
            continue
        assert reader.damage is not None, cut
        assert reader.damage.offset <= cut
        assert reader.damage.records == len(got)
        assert "truncated" in reader.damage.reason
        assert f"byte {reader.damage.offset:,}" in str(reader.damage)


def test_corrupt_block_stops_there_with_a_checksum_error(tmp_path: Path) -> None:
    path = tmp_path / "x.hfr"
    write(path, [(KIND_TEXT, 0, i, b"x" * 100) for i in range(100)], block_bytes=1000)
    good, _ = read_all(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    got, reader = read_all(path)
    assert 0 < len(got) < len(good)
    assert got == good[: len(got)]
    assert reader.damage is not None and reader.damage.reason == "block checksum mismatch"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "too short"),
        (b"NOTAREC!" + bytes(8), "bad magic"),
        (b"HFTWSREC\x09\x00\x00\x00\x00\x00\x00\x00", "version 9"),
        (b"HFTWSREC\x01\x00\x00\x00\x05\x00\x00\x00{bad}", "damaged header"),
    ],
)
def test_not_a_recording(tmp_path: Path, content: Any, message: Any) -> None:
    path = tmp_path / "x.hfr"
    path.write_bytes(content)
    with pytest.raises(RecordingError, match=message):
        RecordingReader(path)


async def test_replay_rest_serves_in_order_and_waits_for_the_stream() -> None:
    rest = ReplayRest()
    waiter = asyncio.ensure_future(rest.get("http://x/api/v3/depth", params={"symbol": "A"}))
    await asyncio.sleep(0)
    assert not waiter.done() and rest.waiting
    rest.offer(b'{"url":"/api/v3/depth","params":"symbol=A","body":1}')
    rest.offer(b'{"url":"/api/v3/depth","params":"symbol=A","body":2}')
    assert await waiter == 1
    assert await rest.get("http://y/api/v3/depth", params={"symbol": "A"}) == 2
    rest.end()
    with pytest.raises(RestError, match="no further response"):
        await rest.get("http://y/api/v3/depth", params={"symbol": "A"})


class _Pipeline(Pipeline):
    #: Whether each book was in sync when the run ended (before closing takes it out).
    ended_in_sync: dict[tuple[str, str], bool]


async def _record(
    server: Any, exchange: Any, symbols: Any, path: Any, *, mode: Any = "classic", fault: Any = None
) -> Any:
    writer = RecordingWriter(path, {"sources": [exchange]}, overwrite=True)
    live = _Pipeline(
        writer=writer, urls={exchange: server.url}, rest_urls={exchange: server.rest_url}
    )
    try:
        books = [await live.watch(exchange, s, mode=mode, timeout=10) for s in symbols]
        await wait_for(lambda: all(b.updates >= 30 for b in books))
        if fault is not None:
            fault(server)
            await wait_for(lambda: all(len(b.out_of_sync_windows) >= 2 for b in books))
            await wait_for(lambda: all(b.in_sync for b in books))
            start = [b.updates for b in books]
            await wait_for(
                lambda: all(b.updates >= s + 20 for b, s in zip(books, start, strict=True))
            )
    finally:
        # Closing takes every book out of sync; compare how the run ended.
        live.ended_in_sync = {k: b.in_sync for k, b in live.books.items()}
        await live.close()
        writer.close()
    return live


async def _replay(path: Any, exchange: Any, symbols: Any, mode: Any = "classic") -> Any:
    replay = _Pipeline(replay=True)
    with RecordingReader(path) as reader:
        await replay.manager(exchange)
        for s in symbols:
            await replay.watch(exchange, s, mode=mode, timeout=None)
        await asyncio.sleep(0)
        for rec in reader.records():
            if rec.kind == KIND_STATE and rec.payload == b"closed":
                # The live run's close is recorded too: compare how the run ended before it.
                replay.ended_in_sync = {k: b.in_sync for k, b in replay.books.items()}
            replay.feed(exchange, rec.kind, rec.payload)
            if rec.kind in (KIND_REST, KIND_STATE) or replay.settling:
                await asyncio.sleep(0)
                await asyncio.sleep(0)
        assert reader.damage is None
    assert replay.replay_rest is not None
    replay.replay_rest.end()
    await replay.close()
    assert not any(b.in_sync for b in replay.books.values()), "closed books are not in sync"
    return replay


def _same_books(live: Any, replay: Any, *, same_counts: Any = True) -> None:
    assert set(live.books) == set(replay.books)
    for key, book in live.books.items():
        other = replay.books[key]
        assert live.ended_in_sync[key] and replay.ended_in_sync[key], key
        assert other.sequence == book.sequence
        assert other.depth() == book.depth()
        if same_counts:
            # Snapshots are served at the recorded point, so even the counters agree.
            assert other.updates == book.updates
            assert other.gaps == book.gaps


@pytest.mark.parametrize(
    "fault",
    [None, lambda s: s.faults.gap(3), lambda s: s.faults.close_with(1006)],
    ids=["clean", "gap", "reconnect"],
)
async def test_mexc_record_then_replay_gives_the_same_books(
    mexc_server: MexcServer, tmp_path: Path, fault: Any
) -> None:
    path = tmp_path / "m.hfr"
    live = await _record(mexc_server, "mexc", ["BTCUSDT", "ETHUSDT"], path, fault=fault)
    replay = await _replay(path, "mexc", ["BTCUSDT", "ETHUSDT"])
    _same_books(live, replay)
    if fault is not None:
        assert all(len(b.out_of_sync_windows) >= 2 for b in replay.books.values())
    assert replay.managers["mexc"].metrics.reconnects == live.managers["mexc"].metrics.reconnects


@pytest.mark.parametrize("mode", ["classic", "obu"])
async def test_gate_record_then_replay_gives_the_same_books(
    gate_spot_server: GateSpotServer, tmp_path: Path, mode: Any
) -> None:
    path = tmp_path / "g.hfr"
    live = await _record(gate_spot_server, "gateio", ["BTC_USDT"], path, mode=mode)
    replay = await _replay(path, "gateio", ["BTC_USDT"], mode=mode)
    # obu syncs in-stream: increments buffered while syncing are applied but not counted as
    # updates, and how many are buffered depends on when the sync task runs.
    _same_books(live, replay, same_counts=mode == "classic")


def _demo_options() -> dict[str, Any]:
    from hftws.cli.app import build_parser

    _, subparsers = build_parser()
    return {a.dest: a for a in subparsers["demo"]._actions if a.option_strings}


def test_config_precedence_cli_over_env_over_file(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[demo]\nduration = 3\n[exchanges.mexc]\nurl = "ws://file"\nrest_url = "http://file"\n'
        'api_key = "k-file"\n'
    )
    data = load(cfg)
    assert command_defaults(data, "demo", _demo_options()) == {"duration": 3}
    env = {"HFTWS_MEXC_REST_URL": "http://env", "HFTWS_MEXC_API_SECRET": "s-env"}
    ep = endpoint(data, "mexc", url="ws://cli", environ=env)
    assert (ep.url, ep.rest_url, ep.api_key, ep.api_secret) == (
        "ws://cli",
        "http://env",
        "k-file",
        "s-env",
    )
    assert "s-env" not in repr(ep) and "k-file" not in repr(ep)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[demo]\nbogus = 1\n", "unknown option 'bogus'"),
        ("[exchanges.nope]\nurl = 'x'\n", "unknown exchange 'nope'"),
        ("[exchanges.mexc]\npassword = 'x'\n", "unknown key"),
        ("[demo\n", "config file"),
        # TOML values of the wrong type are named, never passed on to crash the command.
        ("[demo]\nsymbols = 5\n", r"\[demo\] symbols must be a string or an array of strings"),
        ("[demo]\nduration = true\n", "duration must be a number, not a boolean"),
        ("[demo]\nduration = nan\n", r"duration must be a finite number > 0, not 'nan'"),
        ("[demo]\nseed = 1.5\n", "seed must be an integer, not a float"),
        ("[demo]\ntui = 'yes'\n", "tui must be true or false, not a string"),
        ("[demo]\nexchanges = [1]\n", "exchanges must be a string or an array"),
    ],
)
def test_bad_config_is_a_config_error(tmp_path: Path, text: Any, match: Any) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=match):
        command_defaults(load(cfg), "demo", _demo_options())


# --- Issue 13, finding 9: hostile headers and records raise RecordingError (an HftwsError) ---

HOSTILE_META = [
    b"[" * 100_000 + b"]" * 100_000,  # RecursionError in json.loads
    b"[1, 2]",  # not an object: meta.get -> AttributeError
    b'"text"',
    b"null",
    b'{"clock": {"wall_ns": 1e400}}',  # float('inf'): int() -> OverflowError
    b'{"clock": {"wall_ns": "x"}}',
    b'{"clock": 5}',
    b'{"sources": "mexc"}',
    b'{"sources": [1]}',
    b'{"books": [{"exchange": "gateio"}]}',
    b'{"books": [5]}',
    b'{"subscriptions": [{"exchange": "mexc", "channel": "x", "params": 3}]}',
    b"\xff\xfe",
]


def header(meta: bytes) -> bytes:
    return b"HFTWSREC\x01\x00\x00\x00" + len(meta).to_bytes(4, "little") + meta


@pytest.mark.parametrize("meta", HOSTILE_META, ids=range(len(HOSTILE_META)))
def test_hostile_headers_raise_recording_error(tmp_path: Path, meta: Any) -> None:
    path = tmp_path / "x.hfr"
    path.write_bytes(header(meta))
    with pytest.raises(RecordingError, match="damaged header") as err:
        with RecordingReader(path) as r:
            r.wall_ns(0)
    assert isinstance(err.value, HftwsError)


@pytest.mark.parametrize(
    "payload",
    [b"[" * 100_000, b"[]", b'{"url": 1, "params": null, "body": 1}', b'{"url": "u"}', b"\xff"],
)
def test_hostile_rest_records_raise_recording_error(payload: bytes) -> None:
    with pytest.raises(RecordingError, match="damaged REST record"):
        decode_rest(payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
meta_keys = st.sampled_from(["sources", "books", "subscriptions", "clock", "x"])


@given(
    meta=st.one_of(
        st.dictionaries(meta_keys, json_values, max_size=4).map(
            lambda d: json.dumps(d, allow_nan=True).encode()
        ),
        json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
        st.binary(max_size=40),
    ),
    blocks=st.binary(max_size=120),
    meta_len_delta=st.integers(-3, 3),
)
def test_any_recording_bytes_give_records_or_a_typed_error(
    tmp_path_factory: Any, meta: Any, blocks: Any, meta_len_delta: int
) -> None:
    path = tmp_path_factory.mktemp("rec") / "x.hfr"
    n = max(0, len(meta) + meta_len_delta)
    path.write_bytes(b"HFTWSREC\x01\x00\x00\x00" + n.to_bytes(4, "little") + meta + blocks)
    try:
        with RecordingReader(path) as r:
            got = list(r.records())
            assert isinstance(r.wall_ns(0), int)
            for rec in got:
                if rec.kind == KIND_REST:
                    try:
                        decode_rest(rec.payload)
                    except RecordingError:
                        pass
    except RecordingError as exc:
        assert isinstance(exc, HftwsError)
