//! `hftws.mexc` native functions: `decode`, `apply_depth`, `apply_depth_many`,
//! `parse_control` (mexc.md §2, §4, §6).
//!
//! `decode` keeps the frame's `bytes` object and decodes borrowing from it (see [`Cart`]);
//! `apply_depth` streams depth levels from the frame into the Rust book and returns the shared
//! `BookStatus` object, so a caller that only keeps a book creates no Python object per push.

mod batches;
mod events;

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyInt, PyList, PyString, PyTuple};
use yoke::Yoke;

use self::batches::{
    PyMexcBookTickers, PyMexcBookTickersPart, PyMexcDepthBatch, PyMexcDepthBatchPart,
    PyMexcMiniTickers, PyMexcMiniTickersPart, PyMexcTrades, PyMexcTradesPart, TradesBody,
};
use self::events::{
    DepthBody, PyMexcAccountUpdate, PyMexcAccountUpdatePart, PyMexcBookTicker,
    PyMexcBookTickerPart, PyMexcDeal, PyMexcDealPart, PyMexcDepthUpdate, PyMexcDepthUpdatePart,
    PyMexcKline, PyMexcKlinePart, PyMexcMiniTicker, PyMexcMiniTickerPart, PyMexcOrder,
    PyMexcOrderPart, TickerBody,
};
use super::book::{status_object, PyBookStatus, PyOrderBook};
use super::errors::depth_error;
use crate::book::Status;
use crate::feed::Offer;
use crate::mexc::bodies::PublicAggreDealsItem;
use crate::mexc::{Body, Control, ControlKind, Push, Value};

/// What every MEXC event's decoded part is yoked to: the frame's `bytes` object.
///
/// Events and the item events of a batch hold their header and body as a [`Yoke`] over this
/// cart: the borrow of the frame's bytes is checked by `yoke` (the part types are covariant,
/// the cart is an `Arc`, which never moves its contents), so no `'static` lifetime is made up.
/// Items of a batch clone the `Arc`, sharing the frame's bytes with the batch.
pub(crate) type Cart = Arc<Py<PyBytes>>;

/// A whole decoded push borrowing its frame, before it is projected into one event's part.
#[derive(yoke::Yokeable)]
struct Decoded<'a>(Push<'a>);

/// The frame as a `bytes` object: `bytes` is taken as is, other buffers are copied once.
fn frame_bytes<'py>(py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(b.clone());
    }
    if let Ok(b) = data.cast::<PyByteArray>() {
        return Ok(PyBytes::new(py, &b.to_vec()));
    }
    // A depth event (as the fused `StreamDecoder` delivers it) stands for the push it holds.
    if let Ok(ev) = data.cast::<PyMexcDepthUpdate>() {
        let ev = ev.get();
        if !ev.standalone {
            return Err(PyTypeError::new_err(
                "an item of a depth batch is not a whole push: pass the batch",
            ));
        }
        return Ok(ev.frame().bind(py).clone());
    }
    if let Ok(ev) = data.cast::<PyMexcDepthBatch>() {
        return Ok(ev.get().frame().bind(py).clone());
    }
    if data.is_instance_of::<PyInt>() || data.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "a MEXC push is a binary frame: bytes, bytearray or memoryview",
        ));
    }
    // memoryview and other buffer objects.
    Ok(py
        .get_type::<PyBytes>()
        .call1((data,))?
        .cast_into::<PyBytes>()?)
}

/// A protobuf-JSON value as Python objects: dicts, lists, str, int, bool.
pub(crate) fn value_to_py<'py>(py: Python<'py>, v: &Value<'_>) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Str(s) => PyString::new(py, s).into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Bool(b) => pyo3::types::PyBool::new(py, *b).to_owned().into_any(),
        Value::Msg(fields) => {
            let d = PyDict::new(py);
            for (k, v) in fields {
                d.set_item(PyString::intern(py, k), value_to_py(py, v)?)?;
            }
            d.into_any()
        }
        Value::List(items) => {
            let l = PyList::empty(py);
            for v in items {
                l.append(value_to_py(py, v)?)?;
            }
            l.into_any()
        }
    })
}

fn event(py: Python<'_>, push: Yoke<Decoded<'static>, Cart>) -> PyResult<Py<PyAny>> {
    let field = push.get().0.body.field_number();
    // Moves the body of the variant matched below into the event's part, still yoked to the
    // frame. The variant was checked before projecting, so the fallback arm never runs.
    macro_rules! make {
        ($cls:ident, $part:ident, $pat:pat => $body:expr) => {
            Py::new(
                py,
                $cls {
                    part: push.map_project(|d, _| {
                        let Push { header, body } = d.0;
                        match body {
                            $pat => $part {
                                header,
                                body: $body,
                            },
                            _ => unreachable!("variant checked before projecting"),
                        }
                    }),
                    field,
                    standalone: true,
                },
            )?
            .into_any()
        };
    }
    Ok(match &push.get().0.body {
        Body::PublicAggreDepths(_) => make!(
            PyMexcDepthUpdate,
            PyMexcDepthUpdatePart,
            Body::PublicAggreDepths(b) => DepthBody {
                asks: b.asks,
                bids: b.bids,
                event_type: b.event_type,
                from: b.from_version,
                to: b.to_version,
                last_order_create_time: b.last_order_create_time,
            }
        ),
        Body::PublicIncreaseDepths(_) => make!(
            PyMexcDepthUpdate,
            PyMexcDepthUpdatePart,
            Body::PublicIncreaseDepths(b) => DepthBody::increase(b)
        ),
        Body::PublicLimitDepths(_) => make!(
            PyMexcDepthUpdate,
            PyMexcDepthUpdatePart,
            Body::PublicLimitDepths(b) => DepthBody {
                asks: b.asks,
                bids: b.bids,
                event_type: b.event_type,
                from: b.version,
                to: b.version,
                last_order_create_time: b.last_order_create_time,
            }
        ),
        Body::PublicIncreaseDepthsBatch(_) => make!(
            PyMexcDepthBatch,
            PyMexcDepthBatchPart,
            Body::PublicIncreaseDepthsBatch(b) => b
        ),
        Body::PublicAggreDeals(_) => make!(
            PyMexcTrades,
            PyMexcTradesPart,
            Body::PublicAggreDeals(b) => TradesBody {
                deals: b.deals,
                event_type: b.event_type,
                aggregated: true,
            }
        ),
        Body::PublicDeals(_) => make!(
            PyMexcTrades,
            PyMexcTradesPart,
            Body::PublicDeals(b) => TradesBody {
                deals: b
                    .deals
                    .iter()
                    .map(|d| PublicAggreDealsItem {
                        price: d.price,
                        quantity: d.quantity,
                        trade_type: d.trade_type,
                        time: d.time,
                        trade_id: "",
                    })
                    .collect(),
                event_type: b.event_type,
                aggregated: false,
            }
        ),
        Body::PublicAggreBookTicker(_) => make!(
            PyMexcBookTicker,
            PyMexcBookTickerPart,
            Body::PublicAggreBookTicker(t) => TickerBody {
                t,
                aggregated: true,
            }
        ),
        Body::PublicBookTicker(_) => make!(
            PyMexcBookTicker,
            PyMexcBookTickerPart,
            Body::PublicBookTicker(t) => TickerBody::plain(&t)
        ),
        Body::PublicBookTickerBatch(_) => make!(
            PyMexcBookTickers,
            PyMexcBookTickersPart,
            Body::PublicBookTickerBatch(b) => b
        ),
        Body::PublicSpotKline(_) => make!(
            PyMexcKline,
            PyMexcKlinePart,
            Body::PublicSpotKline(b) => b
        ),
        Body::PublicMiniTicker(_) => make!(
            PyMexcMiniTicker,
            PyMexcMiniTickerPart,
            Body::PublicMiniTicker(b) => b
        ),
        Body::PublicMiniTickers(_) => make!(
            PyMexcMiniTickers,
            PyMexcMiniTickersPart,
            Body::PublicMiniTickers(b) => b
        ),
        Body::PrivateOrders(_) => make!(
            PyMexcOrder,
            PyMexcOrderPart,
            Body::PrivateOrders(b) => b
        ),
        Body::PrivateDeals(_) => make!(
            PyMexcDeal,
            PyMexcDealPart,
            Body::PrivateDeals(b) => b
        ),
        Body::PrivateAccount(_) => make!(
            PyMexcAccountUpdate,
            PyMexcAccountUpdatePart,
            Body::PrivateAccount(b) => b
        ),
    })
}

fn decode_bytes(py: Python<'_>, bytes: Bound<'_, PyBytes>) -> PyResult<Py<PyAny>> {
    let cart: Cart = Arc::new(bytes.unbind());
    let push = Yoke::try_attach_to_cart(cart, |b: &Py<PyBytes>| {
        Push::decode(b.as_bytes(py)).map(Decoded)
    })?;
    event(py, push)
}

/// The typed event of one binary push given as bytes borrowed from elsewhere (a socket
/// buffer): the payload is copied once into the `bytes` object the event keeps.
pub(crate) fn event_from_frame(py: Python<'_>, payload: &[u8]) -> PyResult<Py<PyAny>> {
    decode_bytes(py, PyBytes::new(py, payload))
}

/// The `MexcControl` of one text frame.
pub(crate) fn control_from_text(py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
    Ok(Py::new(
        py,
        PyMexcControl {
            inner: Control::parse(text)?,
        },
    )?
    .into_any())
}

/// Decodes one binary frame (a `PushDataV3ApiWrapper`) into its typed event.
///
/// Raises `MexcDecodeError` naming the field for malformed input.
#[pyfunction]
pub(crate) fn decode(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    decode_bytes(py, frame_bytes(py, data)?)
}

/// The book's status for a depth push; None for a push of another kind (the book untouched).
fn apply_one(book: &Bound<'_, PyOrderBook>, frame: &[u8]) -> PyResult<Option<Status>> {
    let mut b = book.try_borrow_mut()?;
    if !b.rule_is_mexc() {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "mexc.apply_depth needs a MEXC book (OrderBook('mexc'))",
        ));
    }
    match b.offer(frame) {
        Ok(Offer::Book(st)) => Ok(Some(st)),
        Ok(Offer::Held) => Ok(Some(Status::NotSynced)),
        Ok(Offer::NotDepth | Offer::WrongSymbol) => Ok(None),
        Err(e) => Err(depth_error(book.py(), &e)),
    }
}

/// Applies a depth push (313, 302, 312 or 303) to `book` without building level objects.
///
/// Returns the `BookStatus`, or None for a push that carries no depth (trades, tickers: the
/// book is untouched, so every push of a stream can be offered); `(status, event)` with
/// `event=True`.
#[pyfunction]
#[pyo3(signature = (data, book, event = false))]
pub(crate) fn apply_depth(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    book: &Bound<'_, PyOrderBook>,
    event: bool,
) -> PyResult<Py<PyAny>> {
    let status = |st: Option<Status>| -> PyResult<Py<PyAny>> {
        Ok(match st {
            Some(st) => status_object(py, st)?.into_any(),
            None => py.None(),
        })
    };
    // `bytes` (the usual case) is read in place; the object is needed only for `event`.
    if !event {
        if let Ok(b) = data.cast::<PyBytes>() {
            return status(apply_one(book, b.as_bytes())?);
        }
    }
    let bytes = frame_bytes(py, data)?;
    let st = status(apply_one(book, bytes.as_bytes())?)?;
    if event {
        let ev = decode_bytes(py, bytes)?;
        Ok(PyTuple::new(py, [st, ev])?.into_any().unbind())
    } else {
        Ok(st)
    }
}

/// Applies depth pushes in order (pushes of other kinds are skipped), stopping at the first
/// gap, crossed book or refusal; returns the last status (STALE for an empty list).
#[pyfunction]
pub(crate) fn apply_depth_many(
    py: Python<'_>,
    frames: &Bound<'_, PyAny>,
    book: &Bound<'_, PyOrderBook>,
) -> PyResult<Py<PyBookStatus>> {
    let mut last = Status::Stale;
    for f in frames.try_iter()? {
        let bytes = frame_bytes(py, &f?)?;
        let Some(st) = apply_one(book, bytes.as_bytes())? else {
            continue;
        };
        last = st;
        if !matches!(last, Status::Applied | Status::Stale) {
            break;
        }
    }
    status_object(py, last)
}

/// A JSON control frame: subscription ack, refusal, PONG or error.
#[pyclass(frozen, name = "MexcControl", module = "hftws.mexc")]
pub(crate) struct PyMexcControl {
    inner: Control,
}

#[pymethods]
impl PyMexcControl {
    /// 'ack', 'refused', 'pong', 'error' or 'text' (a non-JSON frame). Interned: the router
    /// reads it for every control frame, and a fresh string per read costs an allocation and
    /// a hash.
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        crate::py::router::kind_object(py, self.inner.kind.name())
    }
    /// `id`, if sent.
    #[getter]
    fn id(&self) -> Option<i64> {
        self.inner.id
    }
    /// `code`, if sent (0 even for refusals: never trust it).
    #[getter]
    fn code(&self) -> Option<i64> {
        self.inner.code
    }
    /// `msg` (the whole text for a non-JSON frame).
    #[getter]
    fn msg(&self) -> &str {
        &self.inner.msg
    }
    /// True for PONG.
    #[getter]
    fn is_pong(&self) -> bool {
        self.inner.kind == ControlKind::Pong
    }
    /// True when every channel named in `msg` is one of `requested` (mexc.md §2.2).
    fn is_success(&self, requested: Vec<String>) -> bool {
        self.inner.is_success(&requested)
    }
    /// Channels listed as refused ("Not Subscribed successfully! [...]").
    fn refused_channels(&self) -> Vec<&str> {
        self.inner.refused_channels()
    }
    /// `{"kind", "id", "code", "msg"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("kind", self.inner.kind.name())?;
        d.set_item("id", self.inner.id)?;
        d.set_item("code", self.inner.code)?;
        d.set_item("msg", &self.inner.msg)?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        let opt = |v: Option<i64>| v.map_or_else(|| "None".to_owned(), |v| v.to_string());
        format!(
            "MexcControl(kind='{}', id={}, code={}, msg='{}')",
            self.inner.kind.name(),
            opt(self.inner.id),
            opt(self.inner.code),
            self.inner.msg.escape_debug()
        )
    }
}

/// Parses a text frame (str, or UTF-8 bytes) from the MEXC socket.
#[pyfunction]
pub(crate) fn parse_control(text: &Bound<'_, PyAny>) -> PyResult<PyMexcControl> {
    let inner = if let Ok(s) = text.cast::<PyString>() {
        Control::parse(s.to_str()?)?
    } else if let Ok(b) = text.cast::<PyBytes>() {
        let s = std::str::from_utf8(b.as_bytes()).map_err(|e| {
            super::errors::MexcDecodeError::new_err(format!("control frame: invalid UTF-8: {e}"))
        })?;
        Control::parse(s)?
    } else {
        return Err(PyTypeError::new_err("a control frame is str or bytes"));
    };
    Ok(PyMexcControl { inner })
}

/// Registers the MEXC classes and functions on the native module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(apply_depth, m)?)?;
    m.add_function(wrap_pyfunction!(apply_depth_many, m)?)?;
    m.add_function(wrap_pyfunction!(parse_control, m)?)?;
    m.add_class::<PyMexcControl>()?;
    m.add_class::<PyMexcTrades>()?;
    m.add_class::<self::events::PyMexcTrade>()?;
    m.add_class::<PyMexcDepthUpdate>()?;
    m.add_class::<PyMexcDepthBatch>()?;
    m.add_class::<PyMexcBookTicker>()?;
    m.add_class::<PyMexcBookTickers>()?;
    m.add_class::<PyMexcKline>()?;
    m.add_class::<PyMexcMiniTicker>()?;
    m.add_class::<PyMexcMiniTickers>()?;
    m.add_class::<PyMexcOrder>()?;
    m.add_class::<PyMexcDeal>()?;
    m.add_class::<PyMexcAccountUpdate>()?;
    Ok(())
}
