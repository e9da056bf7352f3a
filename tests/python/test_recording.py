"""Recording file format, damage handling, and record -> replay through the same pipeline."""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from client_helpers import wait_for
from hypothesis import given
from hypothesis import strategies as st

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
)
from hftws.rest import RestError

records = st.lists(
    st.tuples(
        st.sampled_from([KIND_TEXT, KIND_BINARY, KIND_REST, KIND_STATE]),
        st.integers(0, 3),
        st.integers(0, 2**63),
        st.binary(max_size=300),
    ),
    max_size=60,
)


def write(path, recs, **kw) -> RecordingWriter:
    w = RecordingWriter(path, {"sources": ["mexc"]}, overwrite=True, **kw)
    for kind, source, ns, payload in recs:
        w.add(kind, ns, payload, source)
    w.close()
    return w


def read_all(path) -> tuple[list[Record], RecordingReader]:
    with RecordingReader(path) as r:
        return list(r.records()), r


@given(recs=records, block=st.sampled_from([64, 1000, 1 << 20]))
def test_roundtrip_any_records_any_block_size(tmp_path_factory, recs, block):
    path = tmp_path_factory.mktemp("rec") / "x.hfr"
    w = write(path, recs, block_bytes=block)
    got, reader = read_all(path)
    assert [(r.kind, r.source, r.recv_ns, r.payload) for r in got] == recs
    assert reader.damage is None
    assert reader.meta["sources"] == ["mexc"]
    assert w.records == len(recs)


def test_header_records_clock_and_wall_time(tmp_path):
    path = tmp_path / "x.hfr"
    before = time.time_ns()
    now = time.monotonic_ns()
    write(path, [(KIND_TEXT, 0, now, b"{}")])
    got, reader = read_all(path)
    assert abs(reader.wall_ns(got[0].recv_ns) - before) < 2_000_000_000
    assert reader.meta["created"].endswith("Z")


def test_existing_file_is_not_overwritten_by_default(tmp_path):
    path = tmp_path / "x.hfr"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        RecordingWriter(path, {})
    assert path.read_bytes() == b"precious"


def test_sealed_blocks_are_readable_while_the_writer_is_still_open(tmp_path):
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


def test_truncation_anywhere_replays_up_to_the_damage(tmp_path):
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


def test_corrupt_block_stops_there_with_a_checksum_error(tmp_path):
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
def test_not_a_recording(tmp_path, content, message):
    path = tmp_path / "x.hfr"
    path.write_bytes(content)
    with pytest.raises(RecordingError, match=message):
        RecordingReader(path)


async def test_replay_rest_serves_in_order_and_waits_for_the_stream():
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


async def _record(server, exchange, symbols, path, *, mode="classic", fault=None):
    writer = RecordingWriter(path, {"sources": [exchange]}, overwrite=True)
    live = Pipeline(
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
        await live.close()
        writer.close()
    return live


async def _replay(path, exchange, symbols, mode="classic"):
    replay = Pipeline(replay=True)
    with RecordingReader(path) as reader:
        await replay.manager(exchange)
        for s in symbols:
            await replay.watch(exchange, s, mode=mode, timeout=None)
        await asyncio.sleep(0)
        for rec in reader.records():
            replay.feed(exchange, rec.kind, rec.payload)
            if rec.kind in (KIND_REST, KIND_STATE) or replay.settling:
                await asyncio.sleep(0)
                await asyncio.sleep(0)
        assert reader.damage is None
    replay.replay_rest.end()
    await replay.close()
    return replay


def _same_books(live, replay, *, same_counts=True):
    assert set(live.books) == set(replay.books)
    for key, book in live.books.items():
        other = replay.books[key]
        assert book.in_sync and other.in_sync, key
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
async def test_mexc_record_then_replay_gives_the_same_books(mexc_server, tmp_path, fault):
    path = tmp_path / "m.hfr"
    live = await _record(mexc_server, "mexc", ["BTCUSDT", "ETHUSDT"], path, fault=fault)
    replay = await _replay(path, "mexc", ["BTCUSDT", "ETHUSDT"])
    _same_books(live, replay)
    if fault is not None:
        assert all(len(b.out_of_sync_windows) >= 2 for b in replay.books.values())
    assert replay.managers["mexc"].metrics.reconnects == live.managers["mexc"].metrics.reconnects


@pytest.mark.parametrize("mode", ["classic", "obu"])
async def test_gate_record_then_replay_gives_the_same_books(gate_spot_server, tmp_path, mode):
    path = tmp_path / "g.hfr"
    live = await _record(gate_spot_server, "gateio", ["BTC_USDT"], path, mode=mode)
    replay = await _replay(path, "gateio", ["BTC_USDT"], mode=mode)
    # obu syncs in-stream: increments buffered while syncing are applied but not counted as
    # updates, and how many are buffered depends on when the sync task runs.
    _same_books(live, replay, same_counts=mode == "classic")


def _demo_options():
    from hftws.cli.app import build_parser

    _, subparsers = build_parser()
    return {a.dest: a for a in subparsers["demo"]._actions if a.option_strings}


def test_config_precedence_cli_over_env_over_file(tmp_path):
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
def test_bad_config_is_a_config_error(tmp_path, text, match):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=match):
        command_defaults(load(cfg), "demo", _demo_options())
