"""The pure-Python MEXC push encoder (what the local server and ``hftws demo`` ship) against
Google's runtime compiled from ``proto/``: same schema, same bytes."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import given, settings
from hypothesis import strategies as st

from hftws import mexc
from hftws.testing import mexc_proto, mexc_wire

pb = mexc_proto.load()

_TYPES = {
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_BOOL: "bool",
}


def _google_schema(desc: Any, out: dict[str, dict[str, tuple[int, str, str]]]) -> None:
    fields: dict[str, tuple[int, str, str]] = {}
    for f in sorted(desc.fields, key=lambda f: f.number):
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            kind = f.message_type.name
            _google_schema(f.message_type, out)
        else:
            kind = _TYPES[f.type]
        if f.is_repeated:
            label = "repeated"
        else:
            label = "optional" if f.has_presence else ""
        fields[f.name] = (f.number, kind, label)
    out[desc.name] = fields


def test_schema_matches_proto_files() -> None:
    google: dict[str, dict[str, tuple[int, str, str]]] = {}
    _google_schema(pb.PushDataV3ApiWrapper.DESCRIPTOR, google)
    assert google == mexc_wire.SCHEMA
    # Dict order is the encoding order: it must be field-number order.
    for fields in mexc_wire.SCHEMA.values():
        numbers = [n for n, _, _ in fields.values()]
        assert numbers == sorted(numbers)


def _values(message: str, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    scalars = {
        "string": st.text(max_size=6),
        "int32": st.integers(-(2**31), 2**31 - 1),
        "int64": st.integers(-(2**63), 2**63 - 1) | st.sampled_from([0, 1, 127, 128, 300]),
        "bool": st.booleans(),
    }
    fields = {}
    for name, (_, kind, label) in mexc_wire.SCHEMA[message].items():
        one = scalars[kind] if kind in scalars else _values(kind, depth + 1)
        fields[name] = st.lists(one, max_size=3 - depth) if label == "repeated" else one
    return st.fixed_dictionaries({}, optional=fields)


@st.composite
def _pushes(draw: st.DrawFn) -> dict[str, Any]:
    push = draw(_values("PushDataV3ApiWrapper"))
    bodies = [k for k, (n, _, _) in mexc_wire.SCHEMA["PushDataV3ApiWrapper"].items() if n > 300]
    # ``body`` is a oneof: keep at most one member.
    keep = draw(st.sampled_from([None, *bodies]))
    return {k: v for k, v in push.items() if k not in bodies or k == keep}


def _google(push: dict[str, Any]) -> bytes:
    from google.protobuf import json_format

    msg = pb.PushDataV3ApiWrapper()
    json_format.ParseDict(push, msg)
    frame: bytes = msg.SerializeToString()
    return frame


@settings(max_examples=300, deadline=None)
@given(_pushes())
def test_same_bytes_as_google(push: dict[str, Any]) -> None:
    assert mexc_wire.encode(push) == _google(push)


def test_encodes_a_decodable_depth_push() -> None:
    push = {
        "channel": "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT",
        "symbol": "BTCUSDT",
        "sendTime": 1_700_000_000_000,
        "publicAggreDepths": {
            "asks": [{"price": "100.5", "quantity": "0"}],
            "bids": [{"price": "100.4", "quantity": "2"}],
            "fromVersion": "7",
            "toVersion": "9",
        },
    }
    frame = mexc_wire.encode(push)
    assert frame == _google(push)
    assert mexc.decode(frame).to_dict()["publicAggreDepths"]["toVersion"] == "9"


def test_defaults_and_presence() -> None:
    # Implicit presence: defaults are not written; explicit presence and oneof members are.
    assert mexc_wire.encode({"channel": "", "publicAggreDeals": {"eventType": ""}}) == (
        b"\xd2\x13\x00"  # field 314, length-delimited, empty
    )
    assert mexc_wire.encode({"sendTime": 0}) == b"\x30\x00"
    assert mexc_wire.encode({"createTime": "-1"}) == b"\x28" + b"\xff" * 9 + b"\x01"


@pytest.mark.parametrize(
    ("push", "error"),
    [
        ({"chanel": "x"}, "PushDataV3ApiWrapper has no field 'chanel'"),
        ({"channel": 5}, "channel is a string, got int"),
        ({"sendTime": 2**63}, "out of int64 range"),
        ({"sendTime": True}, "sendTime is an int64, got bool"),
        ({"publicAggreDeals": {"deals": {}}}, "deals is repeated"),
        ({"publicAggreDeals": []}, "give a mapping"),
        ({"privateDeals": {"isMaker": 1}}, "isMaker is a bool, got int"),
    ],
)
def test_bad_values_are_refused(push: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        mexc_wire.encode(push)
