"""The Rust module graph stays acyclic and the bindings stay per exchange (issue 14).

Reads `use`/path references in `rust/` (no build needed): the core's top-level modules form
a graph without cycles, only Gate's own modules use Gate's scanner path (it lives in
`crate::json`), and no exchange's binding module (`rust/py/<exchange>/`) or shared binding
module (`rust/py/frame.rs`, `feed.rs`, ...) refers to another exchange's binding module.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

RUST = Path(__file__).resolve().parents[2] / "rust"
EXCHANGES = ("gate", "mexc", "binance", "kucoin")
# Modules of rust/py that dispatch over every exchange by design.
DISPATCHERS = {"mod.rs", "pipeline.rs", "ws.rs"}

pytestmark = pytest.mark.skipif(not RUST.is_dir(), reason="needs the source tree")


def core_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in RUST.rglob("*.rs"):
        top = path.relative_to(RUST).parts[0].removesuffix(".rs")
        if top in ("py", "lib"):
            continue
        deps = set(re.findall(r"crate::(\w+)", path.read_text())) - {top}
        graph.setdefault(top, set()).update(deps)
    return graph


def test_core_modules_have_no_cycle() -> None:
    graph = core_graph()
    done: set[str] = set()

    def visit(node: str, stack: list[str]) -> None:
        assert node not in stack, f"cycle: {' -> '.join([*stack, node])}"
        if node in done:
            return
        for dep in sorted(graph.get(node, ())):
            visit(dep, [*stack, node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    assert {"json", "book", "gate", "mexc"} <= set(graph)


def test_other_exchanges_take_the_scanner_from_json() -> None:
    offenders = [
        str(p.relative_to(RUST))
        for p in RUST.rglob("*.rs")
        if re.search(r"crate::gate::(json|span)\b", p.read_text())
    ]
    assert offenders == []


def test_no_binding_imports_another_exchanges_binding() -> None:
    py = RUST / "py"
    offenders = []
    for path in sorted(py.rglob("*.rs")):
        rel = path.relative_to(py)
        own = rel.parts[0] if len(rel.parts) > 1 else None
        if own is None and rel.name in DISPATCHERS:
            continue
        text = path.read_text()
        for other in EXCHANGES:
            if other == own:
                continue
            for m in re.finditer(rf"(crate::py::|\bsuper::(super::)?){other}\b", text):
                offenders.append(f"{rel}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}")
    assert offenders == []
    assert {p.name for p in (py / "mexc").iterdir()} >= {"mod.rs", "events.rs", "batches.rs"}
