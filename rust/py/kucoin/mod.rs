//! `hftws.kucoin` native functions: `parse` and `apply_depth`.
//!
//! `apply_depth` borrows the frame's bytes and goes through the book's one feed path
//! (`PyOrderBook::offer`): applied, or held while the book waits for its snapshot; no Python
//! object is made but the cached `BookStatus`. `parse` returns the typed events of
//! `events.rs`. Errors become `KucoinDecodeError` with `topic`/`field`/`pos`.

mod events;

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;

use self::events::{
    KFrame, PyKucoinControl, PyKucoinDepthSnapshot, PyKucoinFuturesLevel2, PyKucoinLevel2,
    PyKucoinOther, PyKucoinTicker, PyKucoinTrade,
};
use super::book::{PyBookStatus, PyOrderBook};
use super::errors::kucoin_error;
use super::feed::offer_depth;
use super::frame::{src_of, Src};
use crate::book::SeqRule;
use crate::kucoin::{self as core, Kind};

/// Decodes one KuCoin text frame (`bytes`, `bytearray` or `str`) into a typed event.
#[pyfunction(name = "kucoin_parse")]
pub(crate) fn parse(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    event_from_src(py, src_of(data, "KuCoin")?)
}

/// The event of one text frame borrowed from a socket buffer (copied once into the `bytes`
/// object the event keeps).
pub(crate) fn event_from_frame(py: Python<'_>, payload: &[u8]) -> PyResult<Py<PyAny>> {
    event_from_src(
        py,
        Src::Bytes(PyBackedBytes::from(PyBytes::new(py, payload))),
    )
}

fn event_from_src(py: Python<'_>, src: Src) -> PyResult<Py<PyAny>> {
    let f = {
        let bytes = match &src {
            Src::Bytes(b) => &b[..],
            Src::Str(s) => s.as_bytes(),
        };
        core::parse(bytes).map_err(|e| kucoin_error(py, &e))?
    };
    let f = KFrame { src, msg: f };
    Ok(match f.msg.env.kind {
        Kind::Welcome | Kind::Pong | Kind::Ack | Kind::Error => {
            Py::new(py, PyKucoinControl { f })?.into_any()
        }
        Kind::SpotLevel2 => Py::new(py, PyKucoinLevel2 { f })?.into_any(),
        Kind::FuturesLevel2 => Py::new(py, PyKucoinFuturesLevel2 { f })?.into_any(),
        Kind::SpotDepth | Kind::FuturesDepth => {
            Py::new(py, PyKucoinDepthSnapshot { f })?.into_any()
        }
        Kind::SpotMatch | Kind::FuturesExecution => Py::new(py, PyKucoinTrade { f })?.into_any(),
        Kind::SpotTicker | Kind::FuturesTicker => Py::new(py, PyKucoinTicker { f })?.into_any(),
        Kind::Other => Py::new(py, PyKucoinOther { f })?.into_any(),
    })
}

/// Applies a depth frame (spot `/market/level2`, futures `/contractMarket/level2`, or a
/// `level2Depth5/50` stream snapshot) to `book` under its KuCoin rule. Returns the
/// `BookStatus`, or None when the frame carries no depth. If the book has a symbol, a push
/// for another symbol raises ValueError before touching it.
#[pyfunction(name = "kucoin_apply_depth")]
pub(crate) fn apply_depth(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    book: &Bound<'_, PyOrderBook>,
) -> PyResult<Option<Py<PyBookStatus>>> {
    offer_depth(
        py,
        data,
        book,
        |r| matches!(r, SeqRule::KucoinSpot | SeqRule::KucoinFutures),
        "kucoin.apply_depth needs a KuCoin book (OrderBook('kucoin'|'kucoin_futures'))",
    )
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(apply_depth, m)?)?;
    m.add_class::<PyKucoinControl>()?;
    m.add_class::<PyKucoinLevel2>()?;
    m.add_class::<PyKucoinFuturesLevel2>()?;
    m.add_class::<PyKucoinDepthSnapshot>()?;
    m.add_class::<PyKucoinTrade>()?;
    m.add_class::<PyKucoinTicker>()?;
    m.add_class::<PyKucoinOther>()?;
    Ok(())
}
