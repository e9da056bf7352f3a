"""Our MEXC decoder against Google's protobuf runtime, on random pushes of every body.

``proto/`` is compiled with ``grpc_tools.protoc`` in this run (``hftws.testing.mexc_proto``);
hypothesis builds random messages from the compiled descriptors (non-ASCII strings, extreme
integers, absent optional fields, repeated fields of 0..50 items, unknown extra fields, fields
shuffled out of order), Google serializes them, and ``hftws.mexc.decode(frame).to_dict()`` must
equal Google's ``MessageToDict`` of the same bytes.
"""

from __future__ import annotations

import decimal
from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import given
from hypothesis import strategies as st

import hftws
from hftws import mexc
from hftws.testing import mexc_proto

pb = mexc_proto.load()
BODY_FIELDS = sorted(pb.body_fields)

# String fields that are not decimals. Every other string field of the schema is a decimal
# (mexc.md §4 "DEC"); if the Rust decoder disagreed, random decimals or random text would make
# one side fail.
VERSION_FIELDS = {"fromVersion", "toVersion", "version"}
TEXT_FIELDS = {
    "channel", "symbol", "symbolId", "eventType", "tradeId", "id", "clientId", "interval",
    "clientOrderId", "orderId", "feeCurrency", "vcoinName", "coinId", "type", "market", "ocoId",
    "routeFactor", "marketId", "marketCurrencyId", "currencyId",
}  # fmt: skip

text = st.text(st.characters(exclude_categories=["Cs"]), max_size=24)


@st.composite
def decimal_text(draw: st.DrawFn) -> str:
    """Valid decimals in the spellings exchanges use, plus signs and exponents."""
    form = draw(st.integers(0, 9))
    if form == 0:
        return ""  # proto3 default: absent
    int_part = draw(st.integers(0, 10**19))
    frac_len = draw(st.integers(0, 18))
    frac = draw(st.integers(0, 10**frac_len - 1)) if frac_len else 0
    s = f"{int_part}.{frac:0{frac_len}d}" if frac_len else str(int_part)
    if form == 1:
        s = "-" + s
    elif form == 2:
        s = f"{draw(st.integers(1, 99999))}E-{draw(st.integers(0, 8))}"
    elif form == 3:
        s = "0" * draw(st.integers(1, 3)) + s
    return s


version_text = st.one_of(st.just(""), st.integers(0, 2**64 - 1).map(str))
INT32 = st.integers(-(2**31), 2**31 - 1)
INT64 = st.integers(-(2**63), 2**63 - 1)


def scalar(field: FieldDescriptor) -> st.SearchStrategy[object]:
    if field.type == FieldDescriptor.TYPE_STRING:
        if field.name in VERSION_FIELDS:
            return version_text
        if field.name in TEXT_FIELDS:
            return text
        return decimal_text()
    if field.type == FieldDescriptor.TYPE_INT32:
        return INT32
    if field.type == FieldDescriptor.TYPE_INT64:
        return INT64
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    raise AssertionError(f"unexpected field type {field.type} for {field.full_name}")


@st.composite
def message_dict(draw: st.DrawFn, desc: object, depth: int = 0) -> dict[str, object]:
    """A random message as a ParseDict-able dict; optional fields sometimes absent."""
    out: dict[str, object] = {}
    for f in desc.fields:  # type: ignore[attr-defined]
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            assert f.is_repeated, f.full_name
            n = draw(st.integers(0, 50 if depth == 0 else 5))
            out[f.name] = [draw(message_dict(f.message_type, depth + 1)) for _ in range(n)]
            continue
        if f.has_presence and draw(st.booleans()):
            continue
        out[f.name] = draw(scalar(f))
    return out


def varint(v: int) -> bytes:
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


@st.composite
def unknown_fields(draw: st.DrawFn, taken: set[int]) -> bytes:
    """Fields the schema does not have, of every skippable wire type."""
    out = b""
    for _ in range(draw(st.integers(0, 3))):
        num = draw(st.integers(1, 2000).filter(lambda n: n not in taken and not 301 <= n <= 315))
        wire = draw(st.sampled_from([0, 1, 2, 5]))
        out += varint(num << 3 | wire)
        if wire == 0:
            out += varint(draw(st.integers(0, 2**64 - 1)))
        elif wire == 1:
            out += draw(st.binary(min_size=8, max_size=8))
        elif wire == 2:
            payload = draw(st.binary(max_size=20))
            out += varint(len(payload)) + payload
        else:
            out += draw(st.binary(min_size=4, max_size=4))
    return out


def split_fields(buf: bytes) -> list[tuple[int, bytes]]:
    """A message's top-level fields as (number, raw bytes incl. tag), for reordering."""
    out, i = [], 0
    while i < len(buf):
        start = i
        key, i = read_varint(buf, i)
        wire = key & 7
        if wire == 0:
            _, i = read_varint(buf, i)
        elif wire == 1:
            i += 8
        elif wire == 2:
            n, i = read_varint(buf, i)
            i += n
        else:
            i += 4
        out.append((key >> 3, buf[start:i]))
    return out


def read_varint(buf: bytes, i: int) -> tuple[int, int]:
    v, shift = 0, 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return v, i


def shuffled(draw: st.DrawFn, buf: bytes) -> bytes:
    """Fields permuted, keeping the relative order of repeated occurrences of one field."""
    fields = split_fields(buf)
    keys = draw(st.permutations(range(len(fields))))
    by_num: dict[int, list[bytes]] = {}
    for num, raw in fields:
        by_num.setdefault(num, []).append(raw)
    order = [fields[k][0] for k in keys]
    return b"".join(by_num[num].pop(0) for num in order)


@st.composite
def pushes(draw: st.DrawFn, body_numbers: list[int] = BODY_FIELDS) -> tuple[int, bytes]:
    """A random frame of a random body kind: Google-serialized, extended and reordered."""
    num = draw(st.sampled_from(body_numbers))
    name = pb.body_fields[num]
    wrapper = pb.PushDataV3ApiWrapper.DESCRIPTOR
    body_desc = wrapper.fields_by_name[name].message_type
    body_cls = getattr(pb, body_desc.name)
    body = body_cls()
    from google.protobuf import json_format

    json_format.ParseDict(draw(message_dict(body_desc)), body)
    body_bytes = body.SerializeToString()
    body_bytes += draw(unknown_fields({f.number for f in body_desc.fields}))
    if draw(st.booleans()):
        body_bytes = shuffled(draw, body_bytes)
    header = pb.PushDataV3ApiWrapper(channel=draw(text))
    for field, strat in (
        ("symbol", text),
        ("symbolId", text),
        ("createTime", INT64),
        ("sendTime", INT64),
    ):
        value = draw(st.none() | strat)
        if value is not None:
            setattr(header, field, value)
    frame = header.SerializeToString() + varint(num << 3 | 2) + varint(len(body_bytes)) + body_bytes
    frame += draw(unknown_fields({1, 3, 4, 5, 6}))
    if draw(st.booleans()):
        frame = shuffled(draw, frame)
    return num, frame


@given(pushes())
def test_every_body_matches_google(case: tuple[int, bytes]) -> None:
    num, frame = case
    expected = mexc_proto.to_dict(frame)
    event: Any = mexc.decode(frame)
    assert event.body_field == num
    assert event.to_dict() == expected


@pytest.mark.parametrize("num", BODY_FIELDS)
@given(data=st.data())
def test_each_body_kind_matches_google(num: int, data: st.DataObject) -> None:
    # The test above samples bodies at random; this one guarantees every kind is exercised.
    _, frame = data.draw(pushes([num]))
    assert mexc.decode(frame).to_dict() == mexc_proto.to_dict(frame)


@given(pushes([313, 303, 302]))
def test_depth_accessors_agree_with_google(case: tuple[int, bytes]) -> None:
    num, frame = case
    body = mexc_proto.to_dict(frame)[pb.body_fields[num]]
    event: Any = mexc.decode(frame)
    for side in ("bids", "asks"):
        levels = [(lvl["price"], lvl["quantity"]) for lvl in body[side]]
        assert getattr(event, f"{side}_str") == levels
        exact = [
            (decimal.Decimal(p) if p else None, decimal.Decimal(q) if q else None)
            for p, q in levels
        ]
        assert getattr(event, f"{side}_decimal") == exact
        floats = [(float(p) if p else None, float(q) if q else None) for p, q in levels]
        got = [(None if x != x else x, None if y != y else y) for x, y in getattr(event, side)]
        assert got == floats
    if num == 313:
        assert event.from_version == (int(body["fromVersion"]) if body["fromVersion"] else None)
        assert event.to_version == (int(body["toVersion"]) if body["toVersion"] else None)


def decimal_fields(desc: object, prefix: str) -> list[tuple[str, list[str]]]:
    """(dotted path, dict path) of every decimal field reachable with one item per list."""
    out = []
    for f in desc.fields:  # type: ignore[attr-defined]
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            for path, keys in decimal_fields(f.message_type, f"{prefix}.{f.name}"):
                out.append((path, [f.name, *keys]))
        elif (
            f.type == FieldDescriptor.TYPE_STRING
            and f.name not in TEXT_FIELDS
            and f.name not in VERSION_FIELDS
        ):
            out.append((f"{prefix}.{f.name}", [f.name]))
    return out


def minimal(desc: object) -> dict[str, object]:
    """One item in every list and every field left at its default: a template to corrupt."""
    return {
        f.name: [minimal(f.message_type)]
        for f in desc.fields  # type: ignore[attr-defined]
        if f.type == FieldDescriptor.TYPE_MESSAGE
    }


BAD_DECIMALS = ["1.2.3", "abc", "1e", "--1", " 1", "1_000", "NaN", "١٢", "0.0000000000000000001"]
BAD_INTEGERS = ["12x", "-1", "18446744073709551616", " 7", "1.0"]
DECIMAL_CASES = [
    (num, path, keys)
    for num in BODY_FIELDS
    for path, keys in decimal_fields(
        pb.PushDataV3ApiWrapper.DESCRIPTOR.fields_by_name[pb.body_fields[num]].message_type,
        pb.body_fields[num],
    )
]


def corrupt(num: int, keys: list[str], value: str) -> bytes:
    name = pb.body_fields[num]
    body = minimal(pb.PushDataV3ApiWrapper.DESCRIPTOR.fields_by_name[name].message_type)
    node: object = body
    for k in keys[:-1]:
        node = node[k][0]  # type: ignore[index]
    node[keys[-1]] = value  # type: ignore[index]
    return mexc_proto.encode({"channel": "c", name: body})


@pytest.mark.parametrize(("num", "path", "keys"), DECIMAL_CASES, ids=[c[1] for c in DECIMAL_CASES])
@given(bad=st.sampled_from(BAD_DECIMALS))
def test_invalid_decimals_name_their_field(num: int, path: str, keys: list[str], bad: str) -> None:
    with pytest.raises(mexc.MexcDecodeError, match=rf"^{path}: ") as err:
        mexc.decode(corrupt(num, keys, bad))
    assert "decimal" in str(err.value)


VERSION_CASES = [
    (num, f"{pb.body_fields[num]}.{'.'.join(keys)}", keys)
    for num, keys in [
        (313, ["fromVersion"]),
        (313, ["toVersion"]),
        (302, ["version"]),
        (303, ["version"]),
        (315, ["version"]),
        (311, ["version"]),
        (312, ["items", "version"]),
    ]
]


@pytest.mark.parametrize(("num", "path", "keys"), VERSION_CASES, ids=[c[1] for c in VERSION_CASES])
@pytest.mark.parametrize("bad", BAD_INTEGERS)
def test_invalid_versions_name_their_field(num: int, path: str, keys: list[str], bad: str) -> None:
    with pytest.raises(mexc.MexcDecodeError, match=rf"^{path}: invalid integer '{bad}'$"):
        mexc.decode(corrupt(num, keys, bad))


def test_every_schema_string_field_is_classified() -> None:
    # A new string field in proto/ must be classified here (decimal or text) on purpose.
    seen: set[str] = set()

    def walk(desc: object) -> None:
        for f in desc.fields:  # type: ignore[attr-defined]
            if f.type == FieldDescriptor.TYPE_MESSAGE:
                walk(f.message_type)
            elif f.type == FieldDescriptor.TYPE_STRING:
                seen.add(f.name)

    walk(pb.PushDataV3ApiWrapper.DESCRIPTOR)
    decimals = seen - TEXT_FIELDS - VERSION_FIELDS
    assert "price" in decimals and "balanceAmountChange" in decimals
    assert TEXT_FIELDS <= seen and VERSION_FIELDS <= seen


# --- Issue 13: hostile encodings. Either hftws refuses with MexcDecodeError, or it means
# exactly what Google's runtime (upb) decodes; never accepts what upb refuses. ---


def padded(v: int, length: int) -> bytes:
    """``v`` as a varint spelled with ``length`` bytes (redundant continuation bytes)."""
    out = bytearray(varint(v))
    if len(out) >= length:
        return bytes(out)
    out[-1] |= 0x80
    out += b"\x80" * (length - len(out) - 1) + b"\x00"
    return bytes(out)


def reencode(raw: bytes, tag_len: int | None, len_len: int | None) -> bytes:
    """One field (tag included) with its tag and, for LEN fields, its length re-spelled."""
    key, i = read_varint(raw, 0)
    head = padded(key, tag_len) if tag_len else raw[:i]
    if key & 7 != 2 or not len_len:
        return head + raw[i:]
    n, j = read_varint(raw, i)
    return head + padded(n, len_len) + raw[j:]


@st.composite
def hostile_pushes(draw: st.DrawFn) -> bytes:
    _, frame = draw(pushes())
    fields = split_fields(frame)
    for _ in range(draw(st.integers(1, 2))):
        op = draw(st.sampled_from(["second_body", "respell", "long_value"]))
        if op == "second_body":
            num, other = draw(pushes())
            body = [raw for n, raw in split_fields(other) if n == num]
            fields.insert(draw(st.integers(0, len(fields))), (num, body[0]))
        elif op == "respell" and fields:
            k = draw(st.integers(0, len(fields) - 1))
            num, raw = fields[k]
            tag_len = draw(st.none() | st.integers(1, 7))
            len_len = draw(st.none() | st.integers(1, 7))
            fields[k] = (num, reencode(raw, tag_len, len_len))
        else:
            value = draw(st.integers(0, 2**64 - 1))
            spelled = padded(value, draw(st.integers(1, 11)))
            if len(spelled) == 10 and draw(st.booleans()):
                spelled = spelled[:9] + bytes([draw(st.integers(0, 0x7F))])
            fields.insert(draw(st.integers(0, len(fields))), (99, b"\x98\x06" + spelled))
    return b"".join(raw for _, raw in fields)


def judge(frame: bytes) -> dict[str, object] | None:
    try:
        return mexc_proto.to_dict(frame)
    except Exception:  # google.protobuf.message.DecodeError, or a body Google leaves unset
        return None


@given(hostile_pushes())
def test_hostile_frames_are_refused_or_match_google(frame: bytes) -> None:
    expected = judge(frame)
    try:
        got = mexc.decode(frame).to_dict()
    except mexc.MexcDecodeError:
        return
    assert expected is not None, "hftws accepted a frame Google's runtime refuses"
    assert got == expected


@st.composite
def signed_depth(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A 313 push whose levels may be negative; returns the frame and whether any is."""

    def text(neg: bool) -> str:
        return ("-" if neg else "") + str(draw(st.integers(1, 10**6)))

    body, negative = b"", False
    for side in (1, 2):
        for _ in range(draw(st.integers(0, 4))):
            neg_p, neg_q = draw(st.booleans()) and draw(st.booleans()), draw(st.booleans())
            negative |= neg_p or neg_q
            item = bytes([0x0A]) + varint(len(p := text(neg_p))) + p.encode()
            item += bytes([0x12]) + varint(len(q := text(neg_q))) + q.encode()
            if draw(st.booleans()):  # off the serializers' layout: the general path
                item = item[item.index(0x12) :] + item[: item.index(0x12)]
            body += bytes([side << 3 | 2]) + varint(len(item)) + item
    body += b"\x22\x03101\x2a\x03102"
    return b"\xca\x13" + varint(len(body)) + body, negative


@given(signed_depth())
def test_negative_levels_are_refused_before_the_book(case: tuple[bytes, bool]) -> None:
    frame, negative = case
    assert judge(frame) is not None  # a negative decimal string is valid protobuf
    book = hftws.OrderBook("mexc")
    book.load_snapshot([], [], 100)
    try:
        mexc.apply_depth(frame, book)
    except mexc.MexcDecodeError as exc:
        assert negative and "negative value" in str(exc)
        return
    assert not negative
    assert all(decimal.Decimal(x) >= 0 for side in book.depth() for lvl in side for x in lvl)
