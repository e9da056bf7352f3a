"""Helpers shared by the JSON fuzz tests: frame mutation and the ``json.loads`` verdict."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import strategies as st


def json_values(keys: list[str], words: list[str]) -> st.SearchStrategy[Any]:
    """Random JSON values whose objects use ``keys`` and whose strings are often ``words``."""
    return st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-(2**70), 2**70),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(max_size=10),
            st.sampled_from(words),
        ),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(keys), inner, max_size=5)
        ),
        max_leaves=14,
    )


def mutate(frame: bytes, data: st.DataObject) -> bytes:
    """One to four random edits: flip a byte, cut the tail, repeat a run, delete a byte,
    or write a number/string/list character."""
    buf = bytearray(frame)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "dup", "del", "digit"]))
        i = data.draw(st.integers(0, max(len(buf) - 1, 0)))
        if op == "flip" and buf:
            buf[i] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del buf[i:]
        elif op == "dup":
            buf[i:i] = buf[i : i + data.draw(st.integers(1, 12))]
        elif op == "del" and buf:
            del buf[i]
        elif op == "digit" and buf:
            buf[i] = data.draw(st.sampled_from(b'0123456789-.eE",'))
    return bytes(buf)


def _refuse(name: str) -> None:
    raise ValueError(name)


def agrees_with_json(data: bytes, got: object, error: type[Exception]) -> None:
    """Invalid JSON is always refused with ``error`` (NaN/Infinity and lone surrogates on
    purpose); valid JSON is never called malformed (lone surrogates aside)."""
    try:
        json.loads(data.decode("utf-8"), parse_constant=_refuse)
        valid = True
    except ValueError:
        valid = False
    if not valid:
        assert isinstance(got, error)
    elif isinstance(got, error):
        text = data.decode("utf-8")
        if not re.search(r"\\u[dD][89abAB]", text):
            assert "malformed JSON" not in str(got), (text, got)
