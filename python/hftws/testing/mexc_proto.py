"""MEXC spot v3 protobuf with Google's runtime, compiled from ``proto/`` on first use.

Development only: tests compare our decoder (and the pure-Python encoder the local servers
use, :mod:`hftws.testing.mexc_wire`) against Google's, and benchmarks use Google's runtime as
the baseline. :func:`load` compiles ``proto/`` of a source checkout (or ``$HFTWS_PROTO_DIR``)
with ``grpc_tools.protoc`` into a temporary directory once per process and returns the
generated messages. Generated ``_pb2`` modules are never committed, and nothing in an installed
wheel needs this module.

Needs ``grpcio-tools`` and ``protobuf`` (``requirements/dev.txt``)::

    pb = load()
    push = pb.PushDataV3ApiWrapper(channel="spot@public.aggre.deals.v3.api.pb@10ms@BTCUSDT")
    frame = push.SerializeToString()
"""

from __future__ import annotations

import atexit
import functools
import importlib
import os
import shutil
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

__all__ = ["PROTO_DIR", "encode", "load", "to_dict"]

#: The schema shipped with the repository (``proto/`` at the project root).
PROTO_DIR = Path(os.environ.get("HFTWS_PROTO_DIR", Path(__file__).resolve().parents[3] / "proto"))


@functools.cache
def load(proto_dir: str | None = None) -> types.SimpleNamespace:
    """Compile the 16 ``.proto`` files and return a namespace of their message classes.

    The namespace has one attribute per message (``PushDataV3ApiWrapper``,
    ``PublicAggreDepthsV3Api``, ...), ``modules`` (file stem -> generated module) and
    ``body_fields`` (wrapper field number -> field name, 301-315).

    Raises:
        RuntimeError: ``protoc`` failed or ``proto/`` is missing.
    """
    from grpc_tools import protoc  # imported lazily: a dev-only dependency

    src = Path(proto_dir) if proto_dir else PROTO_DIR
    files = sorted(str(p) for p in src.glob("*.proto"))
    if not files:
        raise RuntimeError(
            f"no .proto files in {src}: Google's runtime is for a source checkout "
            "(set HFTWS_PROTO_DIR to its proto/ directory)"
        )
    out = tempfile.mkdtemp(prefix="hftws_mexc_pb_")
    atexit.register(shutil.rmtree, out, True)
    rc = protoc.main(["grpc_tools.protoc", f"-I{src}", f"--python_out={out}", *files])
    if rc != 0:
        raise RuntimeError(f"protoc failed with status {rc} on {src}")
    sys.path.insert(0, out)
    try:
        modules = {Path(f).stem: importlib.import_module(Path(f).stem + "_pb2") for f in files}
    finally:
        sys.path.remove(out)
    ns = types.SimpleNamespace(modules=modules)
    for mod in modules.values():
        for name in mod.DESCRIPTOR.message_types_by_name:
            setattr(ns, name, getattr(mod, name))
    body = ns.PushDataV3ApiWrapper.DESCRIPTOR.oneofs_by_name["body"]
    ns.body_fields = {f.number: f.name for f in body.fields}
    return ns


def encode(push: dict[str, Any]) -> bytes:
    """Serialize a push given in ``to_dict`` shape (schema field names) with Google's runtime."""
    from google.protobuf import json_format

    msg = load().PushDataV3ApiWrapper()
    json_format.ParseDict(push, msg)
    frame: bytes = msg.SerializeToString()
    return frame


def to_dict(frame: bytes) -> dict[str, Any]:
    """Google's view of a frame in ``to_dict`` shape: every implicit-presence field present,
    schema field names as keys, int64 as int (``MessageToDict`` renders them as strings)."""
    from google.protobuf import json_format

    msg = load().PushDataV3ApiWrapper()
    msg.ParseFromString(frame)
    out: dict[str, Any] = json_format.MessageToDict(
        msg, always_print_fields_with_no_presence=True, preserving_proto_field_name=True
    )
    _ints(out, msg.DESCRIPTOR)
    return out


def _ints(node: dict[str, Any], desc: Any) -> None:
    from google.protobuf.descriptor import FieldDescriptor

    for name, value in node.items():
        field = desc.fields_by_name[name]
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            for item in value if isinstance(value, list) else [value]:
                _ints(item, field.message_type)
        elif field.type == FieldDescriptor.TYPE_INT64:
            node[name] = int(value)
