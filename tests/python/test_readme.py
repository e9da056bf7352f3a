"""Every Python block of README.md runs as written: each is saved to a file and run as a
script in an empty directory (so it can only use the installed package), against the embedded
local exchange; a block that fails, hangs or leaves a traceback fails here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[int, str]]:
    text = README.read_text()
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in _BLOCK.finditer(text)]


def test_readme_has_its_examples() -> None:
    found = blocks()
    assert len(found) >= 8
    # The first block is the hello world: imports first, then the embedded local exchange.
    first = found[0][1]
    assert first.startswith("import asyncio\n") and "hftws.testing" in first


@pytest.mark.parametrize(("line", "code"), blocks(), ids=[f"line{n}" for n, _ in blocks()])
def test_readme_block_runs(line: int, code: str, tmp_path: Path) -> None:
    script = tmp_path / "block.py"
    script.write_text(code)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HFTWS_")}
    r = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert r.returncode == 0, f"README.md line {line}:\n{r.stdout}\n{r.stderr}"
    assert "Traceback" not in r.stderr, f"README.md line {line}:\n{r.stderr}"
