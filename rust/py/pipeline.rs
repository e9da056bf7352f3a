//! `hftws.StreamDecoder` and `hftws.BookUpdate`: the fused receive pipeline.
//!
//! One Python call per socket read runs the RFC 6455 decoder (`crate::ws::Decoder::feed_with`)
//! and, for every data message in the chunk, the exchange decoder (MEXC protobuf, mexc.md §4;
//! Gate.io v4 JSON, gateio.md §3) in the same pass, so Python receives typed events instead of
//! `(opcode, payload)` pairs it would then decode one call at a time.
//!
//! Depth pushes for a symbol registered with `register_book` go straight from the socket buffer
//! into that `OrderBook` (no `bytes` copy, no level objects); the item returned for them is a
//! cached `BookUpdate` (one object per symbol and status, made at registration), or nothing.
//!
//! A payload the exchange decoder refuses is returned as its raw `bytes` (MEXC text as `str`,
//! as `MexcPublicHandler._message_raw` gives it), so the handler re-decodes it and reports the
//! error exactly as it does for unfused input, and the rest of the chunk is still delivered.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};
use pyo3::IntoPyObjectExt;

use super::book::{status_object, PyBookStatus, PyOrderBook};
use super::errors::{ws_error, HftwsError};
use super::ws::{with_input, FeedError, PyDeflateParams};
use super::{gate, mexc};
use crate::book::Status;
use crate::gate::depth::{apply_frame, DepthOutcome};
use crate::mexc::apply_depth as mexc_apply_depth;
use crate::mexc::push::split as mexc_split;
use crate::ws::{Decoder, DecoderConfig, Message, Opcode, DEFAULT_MAX_MESSAGE_SIZE};

/// Which wire format the data messages are in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exchange {
    Mexc,
    Gate,
    GateFutures,
}

impl Exchange {
    fn parse(name: &str) -> PyResult<Self> {
        match name {
            "mexc" => Ok(Self::Mexc),
            "gateio" | "gate" => Ok(Self::Gate),
            "gateio_futures" | "gate_futures" => Ok(Self::GateFutures),
            _ => Err(PyValueError::new_err(format!(
                "unknown exchange {name:?}: use 'mexc', 'gateio' or 'gateio_futures'"
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Mexc => "mexc",
            Self::Gate => "gateio",
            Self::GateFutures => "gateio_futures",
        }
    }
}

const STATUSES: [Status; 5] = [
    Status::Applied,
    Status::Stale,
    Status::Gap,
    Status::Crossed,
    Status::NotSynced,
];

fn status_index(s: Status) -> usize {
    match s {
        Status::Applied => 0,
        Status::Stale => 1,
        Status::Gap => 2,
        Status::Crossed => 3,
        Status::NotSynced => 4,
    }
}

/// What happened to a depth push applied to a registered book. Tuple-like:
/// `symbol, status = update`; `kind` is `"book"`, so handlers route it as ORDERBOOK.
#[pyclass(frozen, name = "BookUpdate", module = "hftws")]
pub(crate) struct PyBookUpdate {
    symbol: Py<PyString>,
    status: Py<PyBookStatus>,
    book: Py<PyOrderBook>,
}

#[pymethods]
impl PyBookUpdate {
    #[getter]
    fn kind(&self) -> &'static str {
        "book"
    }
    #[getter]
    fn symbol(&self, py: Python<'_>) -> Py<PyString> {
        self.symbol.clone_ref(py)
    }
    #[getter]
    fn status(&self, py: Python<'_>) -> Py<PyBookStatus> {
        self.status.clone_ref(py)
    }
    /// The registered `OrderBook` the push was applied to.
    #[getter]
    fn book(&self, py: Python<'_>) -> Py<PyOrderBook> {
        self.book.clone_ref(py)
    }
    fn __len__(&self) -> usize {
        2
    }
    fn __getitem__(&self, py: Python<'_>, i: isize) -> PyResult<Py<PyAny>> {
        match i {
            0 | -2 => Ok(self.symbol.clone_ref(py).into_any()),
            1 | -1 => Ok(self.status.clone_ref(py).into_any()),
            _ => Err(pyo3::exceptions::PyIndexError::new_err(
                "BookUpdate index out of range",
            )),
        }
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "BookUpdate(symbol={}, status={})",
            self.symbol.bind(py).as_any().repr()?,
            self.status.bind(py).as_any().repr()?
        ))
    }
}

/// A registered book with the items returned for it, one per status (None: return nothing).
struct BookEntry {
    symbol: String,
    book: Py<PyOrderBook>,
    items: Option<Vec<Py<PyBookUpdate>>>,
}

impl BookEntry {
    fn item(&self, py: Python<'_>, st: Status) -> Option<Py<PyAny>> {
        self.items
            .as_ref()
            .and_then(|v| v.get(status_index(st)))
            .map(|u| u.clone_ref(py).into_any())
    }
}

/// Where a data message went.
enum Routed {
    /// Not a depth push for a registered book: decode it into an event.
    NotBook,
    /// Applied to a book: this item (or nothing) goes to Python.
    Book(Option<Py<PyAny>>),
    /// The book path refused the frame: hand Python the raw payload to report.
    Raw,
}

/// Streaming decoder for one exchange connection: socket bytes in, typed events out.
#[pyclass(name = "StreamDecoder", module = "hftws")]
pub(crate) struct PyStreamDecoder {
    inner: Decoder,
    exchange: Exchange,
    books: Vec<BookEntry>,
    controls: usize,
}

/// A refused payload as the unfused path would have handed it to the handler.
fn raw_item(py: Python<'_>, ex: Exchange, opcode: Opcode, payload: &[u8]) -> Py<PyAny> {
    if ex == Exchange::Mexc && opcode == Opcode::Text {
        return PyString::new(py, &String::from_utf8_lossy(payload))
            .into_any()
            .unbind();
    }
    PyBytes::new(py, payload).into_any().unbind()
}

/// Decoder errors become the raw payload (reported by the handler); Python failures
/// (MemoryError and the like) propagate.
fn or_raw(
    py: Python<'_>,
    r: PyResult<Py<PyAny>>,
    ex: Exchange,
    opcode: Opcode,
    payload: &[u8],
) -> PyResult<Py<PyAny>> {
    match r {
        Ok(ev) => Ok(ev),
        Err(e) if e.is_instance_of::<HftwsError>(py) => Ok(raw_item(py, ex, opcode, payload)),
        Err(e) => Err(e),
    }
}

fn mexc_book(py: Python<'_>, books: &[BookEntry], payload: &[u8]) -> PyResult<Routed> {
    // Header only: the body is not decoded unless a registered book wants it.
    let Ok((header, num, _)) = mexc_split(payload) else {
        return Ok(Routed::NotBook);
    };
    if !matches!(num, 302 | 303 | 312 | 313) {
        return Ok(Routed::NotBook);
    }
    let Some(symbol) = header.symbol else {
        return Ok(Routed::NotBook);
    };
    let Some(entry) = books.iter().find(|e| e.symbol == symbol) else {
        return Ok(Routed::NotBook);
    };
    let mut b = entry.book.bind(py).try_borrow_mut()?;
    Ok(match mexc_apply_depth(payload, b.inner_mut()) {
        Ok(o) => Routed::Book(entry.item(py, o.status)),
        Err(_) => Routed::Raw,
    })
}

fn gate_book(py: Python<'_>, books: &[BookEntry], payload: &[u8]) -> PyResult<Routed> {
    // The pair is inside `result`, so each registered book is offered the frame in turn;
    // a push for another pair is refused before it touches a book.
    for entry in books {
        let mut b = entry.book.bind(py).try_borrow_mut()?;
        match apply_frame(payload, b.inner_mut(), Some(&entry.symbol)) {
            Ok(DepthOutcome::NotDepth) => return Ok(Routed::NotBook),
            Ok(DepthOutcome::WrongSymbol) => {}
            Ok(DepthOutcome::Book(st)) => return Ok(Routed::Book(entry.item(py, st))),
            Err(_) => return Ok(Routed::Raw),
        }
    }
    Ok(Routed::NotBook)
}

/// The Python item for one data message, or None when a book took it silently.
fn data_item(
    py: Python<'_>,
    ex: Exchange,
    books: &[BookEntry],
    opcode: Opcode,
    payload: &[u8],
) -> PyResult<Option<Py<PyAny>>> {
    let binary_mexc = ex == Exchange::Mexc && opcode == Opcode::Binary;
    if !books.is_empty() && (binary_mexc || ex != Exchange::Mexc) {
        let routed = if binary_mexc {
            mexc_book(py, books, payload)?
        } else {
            gate_book(py, books, payload)?
        };
        match routed {
            Routed::NotBook => {}
            Routed::Book(item) => return Ok(item),
            Routed::Raw => return Ok(Some(raw_item(py, ex, opcode, payload))),
        }
    }
    let ev = match (ex, opcode) {
        (Exchange::Mexc, Opcode::Text) => {
            let text = String::from_utf8_lossy(payload);
            mexc::control_from_text(py, &text)
        }
        (Exchange::Mexc, _) => mexc::event_from_frame(py, payload),
        _ => gate::event_from_frame(py, payload),
    };
    or_raw(py, ev, ex, opcode, payload).map(Some)
}

impl PyStreamDecoder {
    fn feed_slice<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        let mut controls = 0usize;
        let (ex, books) = (self.exchange, &self.books);
        let r = self
            .inner
            .feed_with(data, |m: Message<'_>| -> Result<(), FeedError> {
                match m.opcode {
                    Opcode::Text | Opcode::Binary => {
                        if let Some(item) = data_item(py, ex, books, m.opcode, m.payload)? {
                            list.append(item)?;
                        }
                    }
                    _ => {
                        controls += 1;
                        let item = PyTuple::new(
                            py,
                            [
                                (m.opcode as u8).into_bound_py_any(py)?,
                                PyBytes::new(py, m.payload).into_any(),
                            ],
                        )?;
                        list.append(item)?;
                    }
                }
                Ok(())
            });
        self.controls = controls;
        match r {
            Ok(()) => Ok(list),
            Err(FeedError::Py(e)) => Err(e),
            Err(FeedError::Ws(e)) => {
                let err = ws_error(py, &e);
                err.value(py).setattr("messages", list)?;
                Err(err)
            }
        }
    }
}

#[pymethods]
impl PyStreamDecoder {
    #[new]
    #[pyo3(signature = (exchange, *, max_message_size = DEFAULT_MAX_MESSAGE_SIZE, deflate = None))]
    fn new(
        exchange: &str,
        max_message_size: usize,
        deflate: Option<PyRef<'_, PyDeflateParams>>,
    ) -> PyResult<Self> {
        if max_message_size == 0 {
            return Err(PyValueError::new_err("max_message_size must be positive"));
        }
        Ok(Self {
            inner: Decoder::new(DecoderConfig {
                max_message_size,
                deflate: deflate.map(|d| d.inner),
            }),
            exchange: Exchange::parse(exchange)?,
            books: Vec::new(),
            controls: 0,
        })
    }

    /// Decodes a chunk; returns one item per message in arrival order: a typed event (MEXC:
    /// the `mexc.decode` event or a `MexcControl` for text; Gate.io: what `gateio.parse`
    /// returns), a `BookUpdate` for a registered book, or `(opcode, payload)` for a ping,
    /// pong or close frame (`controls` counts those in the last chunk).
    ///
    /// Raises `ProtocolError` (with `close_code`, `kind`, and `messages`: the items decoded
    /// from this chunk before the violation).
    fn feed<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        with_input(data, |data| self.feed_slice(py, data))
    }

    /// Applies depth pushes for `symbol` (MEXC `BTCUSDT`, Gate.io `BTC_USDT`) to `book` inside
    /// `feed`; their item is a cached `BookUpdate`, or nothing with `emit=False`.
    /// Registering a symbol again replaces its book.
    #[pyo3(signature = (symbol, book, *, emit = true))]
    fn register_book(
        &mut self,
        py: Python<'_>,
        symbol: &str,
        book: Py<PyOrderBook>,
        emit: bool,
    ) -> PyResult<()> {
        if symbol.is_empty() {
            return Err(PyValueError::new_err("symbol must not be empty"));
        }
        let items = if emit {
            let name = PyString::new(py, symbol).unbind();
            let v = STATUSES
                .iter()
                .map(|&st| {
                    Py::new(
                        py,
                        PyBookUpdate {
                            symbol: name.clone_ref(py),
                            status: status_object(py, st)?,
                            book: book.clone_ref(py),
                        },
                    )
                })
                .collect::<PyResult<Vec<_>>>()?;
            Some(v)
        } else {
            None
        };
        let entry = BookEntry {
            symbol: symbol.to_owned(),
            book,
            items,
        };
        match self.books.iter_mut().find(|e| e.symbol == symbol) {
            Some(e) => *e = entry,
            None => self.books.push(entry),
        }
        Ok(())
    }

    /// Stops applying pushes for `symbol`; returns whether it was registered.
    fn unregister_book(&mut self, symbol: &str) -> bool {
        let before = self.books.len();
        self.books.retain(|e| e.symbol != symbol);
        self.books.len() != before
    }

    /// Symbols with a registered book, in registration order.
    #[getter]
    fn symbols(&self) -> Vec<String> {
        self.books.iter().map(|e| e.symbol.clone()).collect()
    }

    /// `'mexc'`, `'gateio'` or `'gateio_futures'`.
    #[getter]
    fn exchange(&self) -> &'static str {
        self.exchange.name()
    }

    /// Number of control items (ping, pong, close) in the list the last `feed` returned.
    #[getter]
    fn controls(&self) -> usize {
        self.controls
    }

    /// Close code from the server's close frame (None before it, or for an empty body).
    #[getter]
    fn close_code(&self) -> Option<u16> {
        self.inner.close().and_then(|(c, _)| c)
    }

    /// Close reason from the server's close frame (None before it).
    #[getter]
    fn close_reason(&self) -> Option<String> {
        self.inner.close().map(|(_, r)| r.to_owned())
    }

    /// True once a close frame was received; later bytes are ignored.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.close().is_some()
    }

    /// Bytes held while waiting for the rest of a frame.
    #[getter]
    fn buffered(&self) -> usize {
        self.inner.buffered()
    }

    #[getter]
    fn max_message_size(&self) -> usize {
        self.inner.max_message_size()
    }

    /// Holds `OrderBook`s: let the cycle collector see them.
    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        for e in &self.books {
            visit.call(&e.book)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.books.clear();
    }
}
