//! Text frames as the bindings hold and read them, shared by the JSON exchanges' bindings.
//!
//! A frame stays the Python object it came in (`bytes`/`str` borrowed, `bytearray` copied);
//! events keep it and decode a field's text, decimal, float or JSON value only when Python
//! asks. This module knows spans and slots, not exchanges: the Gate.io, Binance and KuCoin
//! bindings all read their frames through it, and it imports none of them.

use std::borrow::Cow;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyType};

use crate::gate::channels::{Slot, Tag};
use crate::json::{Scan, Span, Val};

/// The frame's text, kept alive by its Python object: `bytes` and ASCII `str` frames are not
/// copied (a `bytearray` is, since it can change).
pub(crate) enum Src {
    Bytes(PyBackedBytes),
    Str(PyBackedStr),
}

/// A text frame kept as Python gave it (`bytes` or `str` borrowed, `bytearray` copied);
/// `what` names the exchange in the error for any other type.
pub(crate) fn src_of(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Src> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Src::Bytes(PyBackedBytes::from(b.clone())));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Src::Str(PyBackedStr::try_from(s.clone())?));
    }
    if obj.is_instance_of::<PyByteArray>() {
        return Ok(Src::Bytes(obj.extract()?));
    }
    Err(wrong_frame_type(what))
}

fn wrong_frame_type(what: &str) -> PyErr {
    PyTypeError::new_err(format!("a {what} frame must be bytes, bytearray or str"))
}

/// The bytes of a text frame: `bytes` and `str` are borrowed, `bytearray` is copied.
#[inline]
pub(crate) fn text_frame_of<'a>(obj: &'a Bound<'_, PyAny>, what: &str) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(b.as_bytes()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Cow::Borrowed(s.to_str()?.as_bytes()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Cow::Owned(b.to_vec()));
    }
    Err(wrong_frame_type(what))
}

/// Decoded text of a span.
pub(crate) fn span_text<'py>(
    py: Python<'py>,
    frame: &[u8],
    s: Span,
) -> PyResult<Bound<'py, PyString>> {
    let text = s
        .decode(frame)
        .map_err(|k| PyValueError::new_err(k.describe()))?;
    Ok(PyString::new(py, &text))
}

/// The text of a string or number slot; None when absent, null or empty.
pub(crate) fn slot_text<'py>(
    py: Python<'py>,
    frame: &[u8],
    s: Slot,
) -> PyResult<Option<Bound<'py, PyString>>> {
    match s.tag {
        Tag::Str | Tag::Num => Ok(Some(span_text(py, frame, s.span)?)),
        _ => Ok(None),
    }
}

static DECIMAL_CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A decimal slot as a float: the original text, correctly rounded (as Python's `float()`).
pub(crate) fn slot_float(frame: &[u8], s: Slot) -> Option<f64> {
    if !matches!(s.tag, Tag::Str | Tag::Num) {
        return None;
    }
    if let Some(d) = s.decimal() {
        return Some(d.to_f64());
    }
    let text = s.span.decode(frame).ok()?;
    text.parse::<f64>().ok()
}

/// A decimal slot as Python's exact `decimal.Decimal`, built from the exchange's text (so
/// values beyond 18 fractional digits stay exact too).
pub(crate) fn slot_decimal<'py>(
    py: Python<'py>,
    frame: &[u8],
    s: Slot,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(text) = slot_text(py, frame, s)? else {
        return Ok(None);
    };
    py_decimal(py, &text).map(Some)
}

/// `decimal.Decimal(text)` (the class looked up once).
pub(crate) fn py_decimal<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyString>,
) -> PyResult<Bound<'py, PyAny>> {
    DECIMAL_CLASS
        .import(py, "decimal", "Decimal")?
        .call1((text,))
}

/// A slot as `json.loads` would give it.
pub(crate) fn slot_any<'py>(py: Python<'py>, frame: &[u8], s: Slot) -> PyResult<Bound<'py, PyAny>> {
    Ok(match s.tag {
        Tag::Str => span_text(py, frame, s.span)?.into_any(),
        Tag::Num => number_to_py(py, s.span.raw(frame))?,
        Tag::Bool => PyBool::new(py, s.val != 0).to_owned().into_any(),
        Tag::Null | Tag::Absent => py.None().into_bound(py),
    })
}

/// A JSON number literal as Python `int` or `float`, exactly as `json.loads` reads it.
fn number_to_py<'py>(py: Python<'py>, lit: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let text = std::str::from_utf8(lit).map_err(|_| PyValueError::new_err("bad number"))?;
    if lit.iter().any(|c| matches!(c, b'.' | b'e' | b'E')) {
        // Rust's parser rounds correctly, as Python's float() does.
        let v: f64 = text
            .parse()
            .map_err(|_| PyValueError::new_err("bad number"))?;
        return Ok(PyFloat::new(py, v).into_any());
    }
    if let Ok(v) = text.parse::<i64>() {
        return Ok(v.into_pyobject(py)?.into_any());
    }
    py.get_type::<PyInt>().call1((text,))
}

/// Converts the JSON value at byte `start` of `frame` into Python objects (dict, list, str,
/// int, float, bool, None). The frame was validated by the decoder, so this only builds.
pub(crate) fn json_to_py<'py>(
    py: Python<'py>,
    frame: &[u8],
    start: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let mut s = Scan::at(frame, start);
    value_to_py(py, &mut s)
}

fn bad(e: crate::json::JsonError) -> PyErr {
    PyValueError::new_err(format!("{} at byte {}", e.kind.describe(), e.pos))
}

fn value_to_py<'py>(py: Python<'py>, s: &mut Scan<'_>) -> PyResult<Bound<'py, PyAny>> {
    match s.peek() {
        Some(b'{') => {
            let d = PyDict::new(py);
            let mut first = true;
            while let Some(k) = s.next_key(&mut first).map_err(bad)? {
                let key = k
                    .decode()
                    .map_err(|k| PyValueError::new_err(k.describe()))?;
                let v = value_to_py(py, s)?;
                d.set_item(PyString::new(py, &key), v)?;
            }
            Ok(d.into_any())
        }
        Some(b'[') => {
            let l = PyList::empty(py);
            let mut first = true;
            while s.next_item(&mut first).map_err(bad)? {
                l.append(value_to_py(py, s)?)?;
            }
            Ok(l.into_any())
        }
        _ => match s.value().map_err(bad)? {
            Val::Str(j) => Ok(PyString::new(
                py,
                &j.decode()
                    .map_err(|k| PyValueError::new_err(k.describe()))?,
            )
            .into_any()),
            Val::Num(n) => number_to_py(py, n),
            Val::Bool(b) => Ok(PyBool::new(py, b).to_owned().into_any()),
            Val::Null | Val::Obj(..) | Val::Arr(..) => Ok(py.None().into_bound(py)),
        },
    }
}
