"""``hftws demo --bus`` runs end to end: NATS cluster, two gateways, two consumers, a gateway
and a NATS node killed, and both consumers end in sync with the exchange's truth."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(150)


def test_demo_bus_survives_its_faults() -> None:
    args = ["demo", "--bus", "--duration", "8", "--interval", "2"]
    args += ["--exchanges", "gateio", "--symbols", "BTC"]
    r = subprocess.run(
        [sys.executable, "-m", "hftws", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = r.stdout
    assert r.returncode == 0, (out[-2000:], r.stderr[-2000:])
    assert "FAULT kill gateway gw-a" in out and "FAULT kill NATS node" in out
    assert "via gw-b" in out  # the consumers moved to the standby
    assert "verdict: both consumers in sync and equal to the exchange's truth" in out
