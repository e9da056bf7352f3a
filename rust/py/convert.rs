//! Conversions between Python values and core decimals.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyFloat, PyInt, PyString, PyType};

use crate::decimal::Decimal;

static DECIMAL_CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Reads a price or size: `str` and `bytes` are parsed exactly, `int` is taken as is, and
/// anything else but `float` goes through `str()` (so `decimal.Decimal` works). Floats are
/// refused: they are not the exchange's number.
#[inline]
pub(crate) fn extract_decimal(obj: &Bound<'_, PyAny>) -> PyResult<Decimal> {
    if let Ok(s) = obj.cast::<PyString>() {
        // The stable ABI (abi3) has no access to a str's internal buffer; `to_str` is
        // PyUnicode_AsUTF8AndSize, which for ASCII text (every exchange decimal) points into
        // the string itself without copying.
        return Ok(Decimal::parse(s.to_str()?)?);
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Decimal::parse_bytes(b.as_bytes())?);
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(v) = obj.extract::<i64>() {
            return Ok(Decimal::from_i64(v));
        }
    }
    if obj.is_instance_of::<PyFloat>() {
        return Err(PyTypeError::new_err(
            "prices and sizes must be decimal strings, not float",
        ));
    }
    Ok(Decimal::parse(obj.str()?.to_str()?)?)
}

/// A Python `decimal.Decimal` equal to `d`.
pub(crate) fn to_py_decimal<'py>(py: Python<'py>, d: Decimal) -> PyResult<Bound<'py, PyAny>> {
    let cls = DECIMAL_CLASS.import(py, "decimal", "Decimal")?;
    let mut buf = [0u8; 64];
    cls.call1((d.write_to(&mut buf),))
}

/// The canonical string of `d` (no exponent, no trailing zeros).
pub(crate) fn to_py_str<'py>(py: Python<'py>, d: Decimal) -> Bound<'py, PyString> {
    let mut buf = [0u8; 64];
    PyString::new(py, d.write_to(&mut buf))
}

/// Parses a decimal string exactly into `decimal.Decimal`.
///
/// Raises `DecimalParseError` for malformed, out-of-range or over-precise input.
#[pyfunction]
pub(crate) fn parse_decimal<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    to_py_decimal(py, extract_decimal(text)?)
}

/// Parses a decimal string and returns its canonical spelling.
#[pyfunction]
pub(crate) fn normalize_decimal<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyString>> {
    Ok(to_py_str(py, extract_decimal(text)?))
}
