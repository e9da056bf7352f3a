"""The ``hftws`` command line driven as a user would: subprocesses, exit codes, output."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hftws.cli.demo import DEFAULT_EXCHANGES
from hftws.testing.binance_server import BinanceFuturesServer, BinanceSpotServer
from hftws.testing.gate_server import GateFuturesServer, GateSpotServer
from hftws.testing.mexc_server import MexcServer

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "COLUMNS": "140", "PYTHONUNBUFFERED": "1"}
ENV.pop("HFTWS_CONFIG", None)


def hftws(*args: str, timeout: float = 60.0, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hftws", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=kw.pop("env", ENV),
        cwd=kw.pop("cwd", ROOT),
        **kw,
    )


async def ahftws(*args: str, timeout: float = 60.0) -> tuple[int, str, str]:
    """Run the CLI while this event loop keeps serving the local exchange fixtures."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hftws",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=ENV,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def test_demo_runs_resyncs_and_recovers(tmp_path: Path) -> None:
    summary = tmp_path / "s.json"
    r = hftws("demo", "--duration", "5", "--no-tui", "--summary-json", str(summary))
    assert r.returncode == 0, r.stderr + r.stdout
    assert "Traceback" not in r.stderr
    doc = json.loads(summary.read_text())
    assert len(doc["books"]) == 2 * len(DEFAULT_EXCHANGES) and doc["all_in_sync"]
    assert {b["exchange"] for b in doc["books"]} >= {"binance", "binance_futures"}
    assert all(b["state"] == "in_sync" and b["updates"] > 50 for b in doc["books"])
    # The injected gap (MEXC) and dropped connection (Gate.io spot) were seen and recovered.
    assert all(
        b["gaps"] >= 1 and b["resyncs"] >= 1 for b in doc["books"] if b["exchange"] == "mexc"
    )
    assert all(b["resyncs"] >= 1 for b in doc["books"] if b["exchange"] == "gateio")
    assert doc["exchanges"]["gateio"]["reconnects"] >= 1
    assert all(e["messages"] > 0 for e in doc["exchanges"].values())
    assert all(e["latency_us"]["callback"]["p99"] > 0 for e in doc["exchanges"].values())
    # The same facts are in the printed summary and the plain lines.
    assert re.search(r"books in sync\s+yes", r.stdout)
    assert re.search(r"resyncs\s+\d+ \(all recovered", r.stdout)
    assert "FAULT mexc" in r.stdout and "FAULT gateio" in r.stdout
    assert re.search(r"mexc BTCUSDT state=in_sync .*updates=\d+", r.stdout)


async def test_record_then_replay_matches_the_live_books(
    mexc_server: MexcServer, tmp_path: Path
) -> None:
    path, live, again = tmp_path / "r.hfr", tmp_path / "live.json", tmp_path / "replay.json"
    rc, out, err = await ahftws(
        "record", "mexc", "depth:BTCUSDT", "depth:ETHUSDT", "trades:BTCUSDT",
        "-o", str(path), "--duration", "2", "--no-tui", "--summary-json", str(live),
        "--url", mexc_server.url, "--rest-url", mexc_server.rest_url,
    )  # fmt: skip
    assert rc == 0, err
    assert re.search(r"recorded [\d,]+ records in \d+ blocks", out)
    rc, out, err = await ahftws("replay", str(path), "--no-tui", "--summary-json", str(again))
    assert rc == 0, err
    a, b = json.loads(live.read_text()), json.loads(again.read_text())
    assert [x["symbol"] for x in a["books"]] == ["BTCUSDT", "ETHUSDT"]
    for x, y in zip(a["books"], b["books"], strict=True):
        assert x["updates"] > 50
        assert (y["sequence"], y["digest"], y["updates"]) == (
            x["sequence"],
            x["digest"],
            x["updates"],
        )
    assert b["exchanges"]["mexc"]["messages"] == a["exchanges"]["mexc"]["messages"]
    assert b["damage"] is None
    found = re.search(r"replayed ([\d,]+) records", out)
    assert found is not None
    total = int(found.group(1).replace(",", ""))

    # At 4x the recorded pace a ~2 s recording takes at least ~0.5 s, and ends the same.
    t0 = time.monotonic()
    rc, out, err = await ahftws("replay", str(path), "--speed", "4", "--no-tui", "--summary-json",
                                str(again))  # fmt: skip
    assert rc == 0, err
    assert time.monotonic() - t0 >= 0.45
    assert [y["digest"] for y in json.loads(again.read_text())["books"]] == [
        x["digest"] for x in a["books"]
    ]

    # A recording cut short (a crash mid-write) replays up to the damage and says where.
    cut = tmp_path / "cut.hfr"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) - 100])
    rc, out, err = await ahftws("replay", str(cut), "--no-tui", "--summary-json", str(again))
    assert rc == 4
    assert "Traceback" not in err
    assert re.search(r"recording damaged at byte [\d,]+ \(block \d+\): truncated block", err)
    doc = json.loads(again.read_text())
    assert doc["damage"]["reason"].startswith("truncated block")
    assert 0 < doc["damage"]["records"] < total and doc["updates"] > 0


async def test_watch_local_server_and_one_line_failures(
    mexc_server: MexcServer, gate_spot_server: GateSpotServer
) -> None:
    rc, out, err = await ahftws(
        "watch", "gateio", "BTC", "--depth", "3", "--duration", "1", "--no-tui",
        "--url", gate_spot_server.url, "--rest-url", gate_spot_server.rest_url,
    )  # fmt: skip
    assert rc == 0, err
    assert "gateio BTC_USDT state=in_sync" in out and "top 3" in out
    # Refused port, HTTP status (a REST server is not a WebSocket), DNS: one line, exit 3.
    for url, cause in (
        ("ws://127.0.0.1:9/ws", "refused"),
        (mexc_server.rest_url.replace("http://", "ws://") + "/ws", "404 Not Found"),
        ("wss://no-such-host.invalid/ws", "DNS"),
    ):
        rc, out, err = await ahftws("watch", "mexc", "BTCUSDT", "--url", url, "--no-tui")
        assert rc == 3, (url, out, err)
        assert cause in err and err.startswith("hftws: cannot connect to mexc")
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


async def test_binance_watch_record_and_replay(
    binance_spot_server: BinanceSpotServer,
    binance_futures_server: BinanceFuturesServer,
    tmp_path: Path,
) -> None:
    for exchange, server in (
        ("binance", binance_spot_server),
        ("binance_futures", binance_futures_server),
    ):
        rc, out, err = await ahftws(
            "watch", exchange, "BTC", "--depth", "3", "--duration", "1", "--no-tui",
            "--url", server.url, "--rest-url", server.rest_url,
        )  # fmt: skip
        assert rc == 0, err
        assert f"{exchange} BTCUSDT state=in_sync" in out
        path, live, again = tmp_path / f"{exchange}.hfr", tmp_path / "a.json", tmp_path / "b.json"
        rc, out, err = await ahftws(
            "record", exchange, "depth:BTCUSDT", "trades:BTCUSDT", "btcusdt@bookTicker",
            "-o", str(path), "--duration", "1.5", "--no-tui", "--summary-json", str(live),
            "--url", server.url, "--rest-url", server.rest_url,
        )  # fmt: skip
        assert rc == 0, err
        rc, out, err = await ahftws("replay", str(path), "--no-tui", "--summary-json", str(again))
        assert rc == 0, err
        a, b = json.loads(live.read_text()), json.loads(again.read_text())
        assert a["books"][0]["updates"] > 50
        for x, y in zip(a["books"], b["books"], strict=True):
            assert (y["sequence"], y["digest"]) == (x["sequence"], x["digest"])


async def test_watch_reports_a_book_that_never_syncs(mexc_server: MexcServer) -> None:
    mexc_server.faults.rest_status(500, times=None)
    rc, _out, err = await ahftws(
        "watch", "mexc", "BTCUSDT", "--sync-timeout", "1.5", "--no-tui",
        "--url", mexc_server.url, "--rest-url", mexc_server.rest_url,
    )  # fmt: skip
    assert rc == 3
    assert "book not in sync after 1.5s" in err and "HTTP 500" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["frobnicate"],
        ["demo", "--duration", "soon"],
        ["demo", "--exchanges", "kraken"],
        ["watch", "binance", "BTCUSDT", "--mode", "obu"],
        ["record", "binance", "BTCUSDT@trade", "-o", "x.hfr"],
        ["demo", "--duration", "-1"],
        ["demo", "--symbols", "BTC/USDT"],
        ["watch", "mexc"],
        ["watch", "kraken", "BTCUSD"],
        ["watch", "mexc", "BTCUSDT", "--mode", "obu"],
        ["record", "mexc", "depth:BTCUSDT"],
        ["record", "mexc", "nonsense", "-o", "x.hfr"],
        ["record", "gateio", "depth:", "-o", "x.hfr"],
        ["replay"],
        ["watch", "mexc", "BTCUSDT", "--url", "http://127.0.0.1:9/ws"],
        ["record", "mexc", "depth:BTCUSDT", "-o", "x.hfr", "--rest-url", "ftp://x"],
        ["replay", "x.hfr", "--speed", "-2"],
        ["demo", "--config", "/nonexistent.toml"],
        ["demo", "--exchanges", "mexc_private"],
        ["watch", "mexc_private", "BTCUSDT"],
        ["watch", "mexc", "BTCUSDT", "--url", "ws://[::1"],
        ["watch", "mexc", "BTCUSDT", "--url", "ws://:80/ws"],
        ["replay", "."],
        ["demo", "--duration", "nan"],  # would never end
        ["demo", "--rate", "-5"],
        ["demo", "--interval", "0"],
        [
            "record",
            "mexc",
            "depth:BTCUSDT",
            "-o",
            "no/such/dir/x.hfr",
            "--url",
            "ws://127.0.0.1:9/ws",
        ],
    ],
)
def test_bad_arguments_give_a_usage_error(args: Any, tmp_path: Path) -> None:
    r = hftws(*args, cwd=tmp_path)
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    assert "error" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.hfr").exists()


def _one_line_error(r: subprocess.CompletedProcess[str] | tuple[int, str, str]) -> str:
    err = r.stderr if isinstance(r, subprocess.CompletedProcess) else r[2]
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith(("usage:", " "))]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[demo]\nsymbols = 5", "[demo] symbols must be a string or an array of strings"),
        ("[demo]\nduration = true", "[demo] duration must be a number, not a boolean"),
        ("[demo]\nrate = -1", "[demo] rate must be a finite number > 0, not '-1'"),
        ("[watch]\nmode = 'fast'", "[watch] mode must be one of classic, obu"),
        ("[exchanges.mexc]\nurl = 5", "url must be a string"),
    ],
)
def test_config_values_of_the_wrong_type(tmp_path: Path, toml: str, message: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml + "\n")
    r = hftws("watch", "mexc", "BTC", "--config", str(cfg), "--no-tui", "--duration", "1")
    if toml.startswith("[demo]"):
        r = hftws("demo", "--config", str(cfg), "--no-tui", "--duration", "1")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in _one_line_error(r)


def test_private_record_without_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in ENV.items() if not k.startswith("HFTWS_MEXC_")}
    r = hftws(
        "record", "mexc_private", "spot@private.orders.v3.api.pb", "-o", "p.hfr",
        "--duration", "1", "--no-tui", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "need credentials" in _one_line_error(r) and "HFTWS_MEXC_API_KEY" in r.stderr


async def test_record_of_a_refused_symbol(mexc_server: MexcServer, tmp_path: Path) -> None:
    mexc_server.faults.refuse("*BTCUSDT*")
    r = await ahftws(
        "record", "mexc", "depth:BTCUSDT", "-o", str(tmp_path / "r.hfr"), "--duration", "1",
        "--no-tui", "--url", mexc_server.url, "--rest-url", mexc_server.rest_url,
    )  # fmt: skip
    assert r[0] == 3, r
    line = _one_line_error(r)
    assert line.startswith("hftws record: error: mexc: refused by 127.0.0.1:")
    assert "spot@public.aggre.depth" in line
    assert "check the symbol" in line


def test_help_is_plain_text_and_bench_lists_only_working_options() -> None:
    for command in ("demo", "watch", "record", "replay"):
        out = hftws(command, "--help").stdout
        assert "``" not in out and ":class:" not in out, command
    bench = hftws("bench", "--help").stdout
    options = set(re.findall(r"(--[a-z-]+)", bench))
    assert options == {"--help", "--quick", "--benches"}, options


@pytest.mark.parametrize("command", ["demo", "watch", "record", "replay", "bench"])
def test_every_command_has_help_with_an_example(command: Any) -> None:
    r = hftws(command, "--help")
    assert r.returncode == 0
    assert "example:" in r.stdout and f"hftws {command}" in r.stdout


def test_console_script_and_top_level_help() -> None:
    script = Path(sys.executable).with_name("hftws")
    r = subprocess.run([str(script), "--help"], capture_output=True, text=True, env=ENV, timeout=30)
    assert r.returncode == 0 and "exit codes" in r.stdout
    assert hftws("--version").stdout.startswith("hftws ")


def test_replay_of_a_file_that_is_not_a_recording(tmp_path: Path) -> None:
    bad = tmp_path / "bad.hfr"
    bad.write_bytes(b"hello, world, this is not a recording")
    r = hftws("replay", str(bad))
    assert r.returncode == 4
    assert r.stderr.strip() == f"hftws: {bad}: not an hftws recording (bad magic b'hello, w')"


def test_config_file_supplies_defaults(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[demo]\nduration = 1.5\nexchanges = ["mexc"]\nsymbols = ["SOL"]\n')
    summary = tmp_path / "s.json"
    r = hftws("demo", "--config", str(cfg), "--no-tui", "--summary-json", str(summary))
    assert r.returncode == 0, r.stderr
    doc = json.loads(summary.read_text())
    assert [(b["exchange"], b["symbol"]) for b in doc["books"]] == [("mexc", "SOLUSDT")]
    assert doc["seconds"] < 10


def test_bench_falls_back_to_the_scripts_then_uses_run_py(tmp_path: Path) -> None:
    benches = tmp_path / "benches"
    benches.mkdir()
    (benches / "bench_a.py").write_text("import sys; print('| a |', sys.argv[1:])\n")
    r = hftws("bench", "--quick", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "does not exist yet" in r.stdout and "| a | ['--quick']" in r.stdout
    (benches / "run.py").write_text("import sys; print('| all |', sys.argv[1:]); sys.exit(3)\n")
    r = hftws("bench", cwd=tmp_path)
    assert "| all | []" in r.stdout and r.returncode == 1
    assert "run.py (exit 3)" in r.stderr


def test_tui_renders_in_a_pseudo_terminal() -> None:
    pid, fd = pty.fork()
    if pid == 0:  # child: the CLI on a terminal
        os.environ.update(COLUMNS="140", LINES="40", TERM="xterm-256color")
        os.execv(
            sys.executable,
            [sys.executable, "-m", "hftws", "demo", "--duration", "2.5",
             "--exchanges", "mexc,gateio", "--symbols", "BTC,ETH"],
        )  # fmt: skip
    out = bytearray()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = out.decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, text[-2000:]
    assert "Traceback" not in text
    for symbol in ("BTCUSDT", "ETHUSDT", "BTC_USDT", "ETH_USDT"):
        assert symbol in text
    assert "\x1b[" in text  # styled and redrawn in place (cursor movement), not plain lines
    assert re.search(r"\x1b\[\d*A", text) or "\x1b[2K" in text
    assert "state=" not in text  # the plain-line mode was not used
    assert "books in sync" in text


async def test_ctrl_c_ends_a_recording_cleanly(
    gate_futures_server: GateFuturesServer, tmp_path: Path
) -> None:
    path = tmp_path / "f.hfr"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hftws", "record", "gateio_futures", "depth:BTC_USDT",
        "-o", str(path), "--no-tui", "--url", gate_futures_server.url,
        "--rest-url", gate_futures_server.rest_url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=ENV,
    )  # fmt: skip
    await asyncio.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert "recorded" in out.decode() and "Traceback" not in err.decode()
    rc, text, errors = await ahftws("replay", str(path), "--no-tui")
    assert rc == 0, errors
    assert re.search(r"gateio_futures\s+│\s+BTC_USDT .* in sync", text)
