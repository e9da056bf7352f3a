//! `hftws.gateio` native functions: `parse`, `apply_depth`, `apply_depth_many`.
//!
//! The depth functions never build a Python object per level (or at all, beyond the cached
//! `BookStatus`): the frame's bytes are borrowed from the `bytes`/`str` object, scanned once
//! and streamed into the Rust book (`crate::gate::depth`). `parse` returns lazily materialised
//! events (`events.rs`). Errors become `GateDecodeError` with `channel`/`field`/`pos`.

mod events;

use std::borrow::Cow;
use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyList, PyTuple};

use self::events::{
    PyGateAck, PyGateBalance, PyGateBookTicker, PyGateCandle, PyGateDepthUpdate, PyGateError,
    PyGateOrder, PyGateOther, PyGatePong, PyGatePosition, PyGateTicker, PyGateTrade,
    PyGateUserTrade,
};
use super::book::{status_object, PyBookStatus, PyOrderBook};
use super::errors::{depth_error, gate_error};
use super::frame::{src_of, text_frame_of, Src};
use crate::book::Status;
use crate::feed::Offer;
use crate::gate::channels::{Kind, Record, Records};
use crate::gate::depth::DepthChannel;
use crate::gate::message::{self, Body, Head};

/// One frame owned by its events, with the envelope fields.
pub(crate) struct Shared {
    pub(crate) src: Src,
    pub(crate) head: Head,
}

impl Shared {
    /// The frame's bytes.
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        match &self.src {
            Src::Bytes(b) => b,
            Src::Str(s) => s.as_bytes(),
        }
    }
}

/// How an event holds its frame: alone (no shared allocation), or shared with the other
/// records of a list `result`.
pub(crate) enum FrameRef {
    One(Shared),
    Many(Arc<Shared>),
}

impl std::ops::Deref for FrameRef {
    type Target = Shared;
    #[inline]
    fn deref(&self) -> &Shared {
        match self {
            Self::One(s) => s,
            Self::Many(a) => a,
        }
    }
}

/// The bytes of a text frame: `bytes`, `str` and depth events are borrowed, `bytearray` is
/// copied.
#[inline]
fn frame_of<'a>(obj: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    // A depth event (as the fused `StreamDecoder` delivers it) stands for its frame.
    if let Ok(ev) = obj.cast::<PyGateDepthUpdate>() {
        return Ok(Cow::Borrowed(ev.get().f.bytes()));
    }
    text_frame_of(obj, "Gate.io")
}

fn record_obj(
    py: Python<'_>,
    f: FrameRef,
    kind: Kind,
    rec: Record,
    in_list: bool,
) -> PyResult<Py<PyAny>> {
    Ok(match kind {
        Kind::Trade => Py::new(py, PyGateTrade::new(py, f, rec, in_list)?)?.into_any(),
        Kind::BookTicker => Py::new(py, PyGateBookTicker::new(py, f, rec, in_list))?.into_any(),
        Kind::Ticker => Py::new(py, PyGateTicker { f, rec, in_list })?.into_any(),
        Kind::Candle => Py::new(py, PyGateCandle { f, rec, in_list })?.into_any(),
        Kind::Order => Py::new(py, PyGateOrder { f, rec, in_list })?.into_any(),
        Kind::UserTrade => Py::new(py, PyGateUserTrade { f, rec, in_list })?.into_any(),
        Kind::Position => Py::new(py, PyGatePosition { f, rec, in_list })?.into_any(),
        Kind::Balance => Py::new(py, PyGateBalance { f, rec, in_list })?.into_any(),
    })
}

fn records_to_py(py: Python<'_>, f: Shared, kind: Kind, records: Records) -> PyResult<Py<PyAny>> {
    match records {
        Records::One(rec) => record_obj(py, FrameRef::One(f), kind, rec, false),
        Records::List(list) => {
            let f = Arc::new(f);
            let items = list
                .into_iter()
                .map(|rec| record_obj(py, FrameRef::Many(Arc::clone(&f)), kind, rec, true))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(PyTuple::new(py, items)?.into_any().unbind())
        }
    }
}

fn depth_channel_of(f: &Shared) -> DepthChannel {
    let name = f
        .head
        .channel
        .and_then(|s| s.decode(f.bytes()).ok())
        .unwrap_or_default();
    let tail = name.rsplit('.').next().unwrap_or_default();
    DepthChannel::from_name(tail).unwrap_or(DepthChannel::Update)
}

/// Decodes one Gate.io text frame into a typed, immutable event.
///
/// Returns one event for an object `result` (and for depth, acks, errors, pongs); a `tuple`
/// of record events, one per element, when `result` is a JSON list (spot private channels,
/// most futures channels). Raises `GateDecodeError` naming the channel and field.
#[pyfunction(name = "gate_parse")]
pub(crate) fn parse(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    event_from_src(py, src_of(data, "Gate.io")?)
}

/// The event(s) of one text frame given as bytes borrowed from elsewhere (a socket buffer):
/// the payload is copied once into the `bytes` object the events keep.
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
    let msg = message::parse(frame).map_err(|e| gate_error(py, &e))?;
    let shared = Shared {
        src,
        head: msg.head,
    };
    let one = FrameRef::One;
    Ok(match msg.body {
        Body::Depth(u) => {
            let channel = depth_channel_of(&shared);
            Py::new(
                py,
                PyGateDepthUpdate {
                    f: one(shared),
                    u: *u,
                    channel,
                },
            )?
            .into_any()
        }
        Body::Records { kind, records } => records_to_py(py, shared, kind, records)?,
        Body::Ack { status } => Py::new(
            py,
            PyGateAck {
                f: one(shared),
                status,
            },
        )?
        .into_any(),
        Body::Error(info) => Py::new(
            py,
            PyGateError {
                f: one(shared),
                info,
            },
        )?
        .into_any(),
        Body::Pong => Py::new(py, PyGatePong { f: one(shared) })?.into_any(),
        Body::Other => Py::new(py, PyGateOther { f: one(shared) })?.into_any(),
    })
}

fn wrong_symbol(want: &str) -> PyErr {
    PyValueError::new_err(format!(
        "depth frame is not for this book's symbol {want:?}"
    ))
}

/// Applies one frame to `book` if it is a depth push; `None` for any other frame.
#[inline]
fn apply_one(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    book: &mut PyOrderBook,
) -> PyResult<Option<Status>> {
    let frame = frame_of(data)?;
    if book.rule_is_mexc() {
        return Err(PyValueError::new_err(
            "gateio.apply_depth needs a Gate.io book (OrderBook('gate'))",
        ));
    }
    match book.offer(&frame) {
        Ok(Offer::Book(st)) => Ok(Some(st)),
        Ok(Offer::Held) => Ok(Some(Status::NotSynced)),
        Ok(Offer::NotDepth) => Ok(None),
        Ok(Offer::WrongSymbol) => Err(wrong_symbol(book.symbol_str())),
        Err(e) => Err(depth_error(py, &e)),
    }
}

/// Applies a depth frame (`*.order_book_update`, `*.obu`, `*.order_book`) to `book` with
/// Gate's U/u rules, with no Python object per level. Returns the `BookStatus`, or None when
/// the frame is not a depth push (ack, pong, error, other channel; a frame whose channel is
/// not a depth channel is declined from the channel, without reading the rest: `parse`
/// reports what is wrong with it). If the book has a symbol, a push for another pair raises
/// ValueError before touching it.
#[pyfunction(name = "gate_apply_depth")]
pub(crate) fn apply_depth(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    book: &Bound<'_, PyOrderBook>,
) -> PyResult<Option<Py<PyBookStatus>>> {
    let mut b = book.borrow_mut();
    match apply_one(py, data, &mut b)? {
        Some(st) => Ok(Some(status_object(py, st)?)),
        None => Ok(None),
    }
}

/// Applies the frames of one socket read in order. Every frame is processed (a later
/// `full: true` push can resync the book within the batch). Returns the last depth frame's
/// status, except that a GAP or CROSSED is reported if the book is still out of sync at the
/// end; None when no frame was a depth push. A malformed frame raises after the frames before
/// it were applied.
#[pyfunction(name = "gate_apply_depth_many")]
pub(crate) fn apply_depth_many(
    py: Python<'_>,
    frames: &Bound<'_, PyAny>,
    book: &Bound<'_, PyOrderBook>,
) -> PyResult<Option<Py<PyBookStatus>>> {
    let mut b = book.borrow_mut();
    let mut last: Option<Status> = None;
    let mut trouble: Option<Status> = None;
    let mut step = |item: &Bound<'_, PyAny>| -> PyResult<()> {
        if let Some(st) = apply_one(py, item, &mut b)? {
            if matches!(st, Status::Gap | Status::Crossed) && trouble.is_none() {
                trouble = Some(st);
            }
            if st == Status::Applied && b.inner_mut().in_sync() {
                trouble = None;
            }
            last = Some(st);
        }
        Ok(())
    };
    if let Ok(list) = frames.cast::<PyList>() {
        for item in list.iter() {
            step(&item)?;
        }
    } else {
        for item in frames.try_iter()? {
            step(&item?)?;
        }
    }
    let out = match (trouble, last) {
        (Some(t), Some(l)) if l != Status::Applied => Some(t),
        (_, l) => l,
    };
    out.map(|st| status_object(py, st)).transpose()
}

/// Registers the Gate.io classes and functions on the native module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGateDepthUpdate>()?;
    m.add_class::<PyGateTrade>()?;
    m.add_class::<PyGateBookTicker>()?;
    m.add_class::<PyGateTicker>()?;
    m.add_class::<PyGateCandle>()?;
    m.add_class::<PyGateOrder>()?;
    m.add_class::<PyGateUserTrade>()?;
    m.add_class::<PyGatePosition>()?;
    m.add_class::<PyGateBalance>()?;
    m.add_class::<PyGateAck>()?;
    m.add_class::<PyGateError>()?;
    m.add_class::<PyGatePong>()?;
    m.add_class::<PyGateOther>()?;
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(apply_depth, m)?)?;
    m.add_function(wrap_pyfunction!(apply_depth_many, m)?)?;
    Ok(())
}
