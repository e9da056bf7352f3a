//! `hftws.binance` native functions: `parse`, `apply_depth`, `decode_sbe`, `apply_sbe_depth`.
//!
//! The depth functions borrow the frame's bytes from the `bytes`/`str` object, scan them once
//! and stream the levels into the Rust book (`crate::binance`), building no Python object but
//! the cached `BookStatus`. `parse` and `decode_sbe` return lazily materialised events
//! (`events.rs`). Errors become `BinanceDecodeError` with `stream`/`field`/`pos`.

mod events;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyByteArray, PyBytes, PyTuple};

use self::events::{
    PyBinanceAggTrade, PyBinanceBookTicker, PyBinanceDepthUpdate, PyBinanceError,
    PyBinanceForceOrder, PyBinanceKline, PyBinanceMarkPrice, PyBinanceMiniTicker, PyBinanceOther,
    PyBinanceReply, PyBinanceSbeBestBidAsk, PyBinanceSbeDepth, PyBinanceSbeTrades,
    PyBinanceServerShutdown, PyBinanceTrade,
};
use super::book::{status_object, PyBookStatus, PyOrderBook};
use super::errors::binance_error;
use super::feed::{offer_depth, wrong_symbol};
use super::frame::{src_of, text_frame_of, Src};
use crate::binance::records::Record;
use crate::binance::sbe::{self, SbeMessage};
use crate::binance::{self as core, Body, DepthOutcome, Kind};
use crate::book::{OrderBook, SeqRule};
use crate::json::Span;

/// One frame owned by its event, with where the stream name and the payload are.
pub(crate) struct BFrame {
    pub(crate) src: Src,
    pub(crate) stream: Option<Span>,
    /// Span of the payload value (`data` of a combined stream, else the whole frame).
    pub(crate) payload: (usize, usize),
    pub(crate) kind: Kind,
}

impl BFrame {
    /// The frame's bytes.
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        match &self.src {
            Src::Bytes(b) => b,
            Src::Str(s) => s.as_bytes(),
        }
    }
}

/// Decodes one Binance text frame (raw `/ws/` or combined `/stream` payload, or a control
/// reply) into a typed, immutable event; an array payload of records (`!miniTicker@arr`,
/// `!markPrice@arr`, ...) gives a tuple of events, each `to_dict()` its element. Raises
/// `BinanceDecodeError` naming stream and field.
#[pyfunction(name = "binance_parse")]
pub(crate) fn parse(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    event_from_src(py, src_of(data, "Binance")?)
}

/// The event(s) of one text frame borrowed from a socket buffer (copied once into the
/// `bytes` object the events keep).
pub(crate) fn event_from_frame(py: Python<'_>, payload: &[u8]) -> PyResult<Py<PyAny>> {
    event_from_src(
        py,
        Src::Bytes(PyBackedBytes::from(PyBytes::new(py, payload))),
    )
}

fn event_from_src(py: Python<'_>, src: Src) -> PyResult<Py<PyAny>> {
    let frame: &[u8] = match &src {
        Src::Bytes(b) => b,
        Src::Str(s) => s.as_bytes(),
    };
    let msg = core::parse(frame).map_err(|e| binance_error(py, &e))?;
    let f = BFrame {
        src,
        stream: msg.stream,
        payload: msg.payload,
        kind: msg.kind,
    };
    Ok(match msg.body {
        Body::Depth(u) => Py::new(py, PyBinanceDepthUpdate { f, u: *u })?.into_any(),
        Body::Record(rec) => record_event(py, f, rec)?,
        Body::Records(records) => {
            let items = records
                .into_iter()
                .map(|rec| {
                    let f = BFrame {
                        src: clone_src(py, &f.src),
                        stream: f.stream,
                        payload: rec.span,
                        kind: rec.kind,
                    };
                    record_event(py, f, rec)
                })
                .collect::<PyResult<Vec<_>>>()?;
            PyTuple::new(py, items)?.into_any().unbind()
        }
        Body::Reply { result_at, id } => {
            Py::new(py, PyBinanceReply { f, result_at, id })?.into_any()
        }
        Body::Error { code, msg, id } => {
            Py::new(py, PyBinanceError { f, code, msg, id })?.into_any()
        }
        Body::Other => Py::new(py, PyBinanceOther { f })?.into_any(),
    })
}

/// Another reference to the same frame object (for the events of one array payload).
fn clone_src(py: Python<'_>, src: &Src) -> Src {
    match src {
        Src::Bytes(b) => Src::Bytes(b.clone_ref(py)),
        Src::Str(s) => Src::Str(s.clone_ref(py)),
    }
}

/// The event of one record payload.
fn record_event(py: Python<'_>, f: BFrame, rec: Record) -> PyResult<Py<PyAny>> {
    Ok(match rec.kind {
        Kind::Trade => Py::new(py, PyBinanceTrade { f, rec })?.into_any(),
        Kind::AggTrade => Py::new(py, PyBinanceAggTrade { f, rec })?.into_any(),
        Kind::BookTicker => Py::new(py, PyBinanceBookTicker { f, rec })?.into_any(),
        Kind::Kline => Py::new(py, PyBinanceKline { f, rec })?.into_any(),
        Kind::MiniTicker => Py::new(py, PyBinanceMiniTicker { f, rec })?.into_any(),
        Kind::MarkPrice => Py::new(py, PyBinanceMarkPrice { f, rec })?.into_any(),
        Kind::ForceOrder => Py::new(py, PyBinanceForceOrder { f, rec })?.into_any(),
        Kind::ServerShutdown => Py::new(py, PyBinanceServerShutdown { f, rec })?.into_any(),
        Kind::DiffDepth | Kind::PartialDepth | Kind::Other => {
            Py::new(py, PyBinanceOther { f })?.into_any()
        }
    })
}

/// True when `frame` is a combined-stream frame (`{"stream":"<name>",...`) whose stream is not
/// a depth stream, and no later key can rename it: with no backslash in the frame (SIMD
/// `memchr`) a key can only be `stream` if those bytes appear again (SIMD `memmem`). The
/// general path would read the whole frame to decline it; what is wrong with a malformed one,
/// `binance.parse` reports.
fn not_depth_stream(frame: &[u8]) -> bool {
    let Some(rest) = frame.strip_prefix(b"{\"stream\":\"") else {
        return false;
    };
    let Some(len) = memchr::memchr(b'"', rest) else {
        return false;
    };
    let Ok(name) = std::str::from_utf8(&rest[..len]) else {
        return false;
    };
    !Kind::of_stream(name).is_depth()
        && memchr::memchr(b'\\', frame).is_none()
        && STREAM.find(&rest[len..]).is_none()
}

/// The searcher for `stream`, built once (building one per call costs more than the search).
static STREAM: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"stream"));

/// Applies a depth frame (`depthUpdate` diff, partial depth, or a REST snapshot body; raw or
/// combined) to `book` with the book's Binance rule, no Python object per level. Returns the
/// `BookStatus`, or None when the frame carries no depth. If the book has a symbol, a push for
/// another symbol raises ValueError before touching it.
#[pyfunction(name = "binance_apply_depth")]
pub(crate) fn apply_depth(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    book: &Bound<'_, PyOrderBook>,
) -> PyResult<Option<Py<PyBookStatus>>> {
    // Trades and tickers of a combined stream are declined from their stream name (the frame
    // is not read further); a wrong book is still refused below.
    if let Ok(b) = data.cast::<PyBytes>() {
        if not_depth_stream(b.as_bytes())
            && matches!(
                book.borrow_mut().inner_mut().rule(),
                SeqRule::BinanceSpot | SeqRule::BinanceFutures
            )
        {
            return Ok(None);
        }
    }
    offer_depth(
        py,
        data,
        book,
        |r| matches!(r, SeqRule::BinanceSpot | SeqRule::BinanceFutures),
        "binance.apply_depth needs a Binance book (OrderBook('binance'|'binance_futures'))",
    )
}

/// A core apply function: frame, book, the book's symbol.
type ApplyFn = fn(&[u8], &mut OrderBook, Option<&str>) -> Result<DepthOutcome, core::BinanceError>;

/// Runs a core apply function on the frame's bytes and the book (with its symbol, if any).
fn apply_with(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    book: &Bound<'_, PyOrderBook>,
    apply: ApplyFn,
) -> PyResult<Option<Py<PyBookStatus>>> {
    let frame = text_frame_of(data, "Binance")?;
    let mut b = book.borrow_mut();
    let (inner, symbol) = b.inner_with_symbol_mut();
    let want = (!symbol.is_empty()).then_some(symbol);
    let out = apply(&frame, inner, want);
    match out {
        Ok(DepthOutcome::Book(st)) => Ok(Some(status_object(py, st)?)),
        Ok(DepthOutcome::NotDepth) => Ok(None),
        Ok(DepthOutcome::WrongSymbol) => Err(wrong_symbol(symbol)),
        Err(e) => Err(binance_error(py, &e)),
    }
}

/// Decodes one SBE binary frame (trades, best bid/ask, depth snapshot or diff).
#[pyfunction(name = "binance_decode_sbe")]
pub(crate) fn decode_sbe(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let bytes: PyBackedBytes = match data.cast::<PyBytes>() {
        Ok(b) => PyBackedBytes::from(b.clone()),
        Err(_) if data.is_instance_of::<PyByteArray>() => data.extract()?,
        Err(_) => {
            return Err(PyTypeError::new_err(
                "an SBE frame must be bytes or bytearray",
            ))
        }
    };
    let msg = sbe::decode(&bytes).map_err(|e| binance_error(py, &e))?;
    Ok(match msg {
        SbeMessage::DepthDiff(_) | SbeMessage::DepthSnapshot(_) => {
            Py::new(py, PyBinanceSbeDepth { bytes })?.into_any()
        }
        SbeMessage::BestBidAsk(_) => Py::new(py, PyBinanceSbeBestBidAsk { bytes })?.into_any(),
        SbeMessage::Trades(_) => Py::new(py, PyBinanceSbeTrades { bytes })?.into_any(),
        SbeMessage::Other(h) => {
            return Err(binance_error(
                py,
                &core::BinanceError::invalid("templateId", 2, "unknown SBE template")
                    .in_stream(&format!("template {}", h.template_id)),
            ))
        }
    })
}

/// The event for one SBE binary frame of a socket (the fused decoder's binary opcode path).
pub(crate) fn sbe_event_from_frame(py: Python<'_>, payload: &[u8]) -> PyResult<Py<PyAny>> {
    decode_sbe(py, PyBytes::new(py, payload).as_any())
}

/// Applies an SBE depth frame (diff or depth20 snapshot) to `book`; None for other templates.
#[pyfunction(name = "binance_apply_sbe_depth")]
pub(crate) fn apply_sbe_depth(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    book: &Bound<'_, PyOrderBook>,
) -> PyResult<Option<Py<PyBookStatus>>> {
    apply_with(py, data, book, sbe::apply_sbe_depth)
}

/// Registers the Binance classes and functions on the native module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBinanceDepthUpdate>()?;
    m.add_class::<PyBinanceTrade>()?;
    m.add_class::<PyBinanceAggTrade>()?;
    m.add_class::<PyBinanceBookTicker>()?;
    m.add_class::<PyBinanceKline>()?;
    m.add_class::<PyBinanceMiniTicker>()?;
    m.add_class::<PyBinanceMarkPrice>()?;
    m.add_class::<PyBinanceForceOrder>()?;
    m.add_class::<PyBinanceServerShutdown>()?;
    m.add_class::<PyBinanceReply>()?;
    m.add_class::<PyBinanceError>()?;
    m.add_class::<PyBinanceOther>()?;
    m.add_class::<PyBinanceSbeDepth>()?;
    m.add_class::<PyBinanceSbeBestBidAsk>()?;
    m.add_class::<PyBinanceSbeTrades>()?;
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(apply_depth, m)?)?;
    m.add_function(wrap_pyfunction!(decode_sbe, m)?)?;
    m.add_function(wrap_pyfunction!(apply_sbe_depth, m)?)?;
    Ok(())
}
