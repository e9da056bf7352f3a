"""Exact decimal parsing across the FFI boundary."""

from decimal import MAX_EMAX, MIN_EMIN, Decimal, InvalidOperation, localcontext
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import hftws

LIMIT = Decimal("170141183460469231731.687303715884105727")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("117145.48", "117145.48"),
        ("0.00000000", "0"),
        ("0", "0"),
        ("0.0", "0"),
        ("1E-8", "0.00000001"),
        ("-250", "-250"),
        ("0.51200000", "0.512"),
        (b"63250.1", "63250.1"),
        (42, "42"),
        (Decimal("1.50"), "1.5"),
    ],
)
def test_parses_exactly(text: Any, want: Any) -> None:
    assert hftws.normalize_decimal(text) == want
    assert hftws.parse_decimal(text) == Decimal(want)


@pytest.mark.parametrize(
    "text", ["", "1.2.3", "abc", "-", "1e", "NaN", "Infinity", " 1", "1_000", "1e-19", "1e21"]
)
def test_rejects_malformed_with_typed_error_naming_the_text(text: Any) -> None:
    with pytest.raises(hftws.DecimalParseError) as info:
        hftws.parse_decimal(text)
    assert isinstance(info.value, hftws.DecodeError)
    if text:
        assert repr(text) in str(info.value) or text in str(info.value)


def test_float_is_refused() -> None:
    with pytest.raises(TypeError):
        not_a_decimal: Any = 0.1  # the type error is the point
        hftws.parse_decimal(not_a_decimal)


def _python_view(text: str) -> Decimal | None:
    """What an exact parser must return for ``text``, or None if it must refuse."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    # Unbounded exponents: the default context would overflow on 1E1000000 (abs) and flush
    # 1E-2000000 to zero (normalize), making the model disagree with exact arithmetic.
    with localcontext(prec=200, Emax=MAX_EMAX, Emin=MIN_EMIN):
        if abs(value) > LIMIT:
            return None
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -18:
            return None
    return value


decimal_like = st.one_of(
    st.text(alphabet="0123456789.-+eE", max_size=30),
    st.decimals(allow_nan=False, allow_infinity=False, places=8).map(str),
    st.from_regex(r"-?[0-9]{1,22}(\.[0-9]{0,20})?([eE][-+]?[0-9]{1,3})?", fullmatch=True),
    st.text(max_size=20),
)


@given(decimal_like)
@example("0.000000000000000001")
@example("1E1000000")
@example("1E-2000000")
@example("1.0000000000000000000000000000000000001")
@example("170141183460469231731.687303715884105727")
def test_never_crashes_and_parses_exactly_or_raises(text: Any) -> None:
    try:
        got = hftws.parse_decimal(text)
    except hftws.DecimalParseError:
        got = None
    want = _python_view(text)
    if got is not None:
        # Whatever we accept must be exactly Python's value.
        assert want is not None and got == want, (text, got, want)
    elif want is not None and "_" not in text and text.strip() == text:
        # We may refuse only what Python refuses or what does not fit exactly.
        pytest.fail(f"refused representable {text!r} = {want}")


@given(
    st.one_of(
        st.decimals(min_value=0, max_value=10**15, places=8, allow_nan=False),
        st.decimals(min_value=0, max_value=Decimal("1.7e20"), places=18, allow_nan=False),
    )
)
def test_float_view_is_correctly_rounded(value: Any) -> None:
    book = hftws.OrderBook()
    text = str(value)
    book.load_snapshot([(text, text)], [], 1)
    if value == 0:
        assert book.best_bid() is None
    else:
        assert book.best_bid() == (float(value), float(value))
