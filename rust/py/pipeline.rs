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
use super::router::PyRouter;
use super::ws::{with_input, FeedError, PyDeflateParams};
use super::{binance, gate, kucoin, mexc};
use crate::book::Status;
use crate::feed::Offer;
use crate::native::dispatch::{depth_route, DepthRoute, Exchange, EXCHANGE_NAMES};
use crate::ws::{Decoder, DecoderConfig, Message, Opcode, DEFAULT_MAX_MESSAGE_SIZE};

fn parse_exchange(name: &str) -> PyResult<Exchange> {
    Exchange::parse(name).ok_or_else(|| {
        PyValueError::new_err(format!("unknown exchange {name:?}: use {EXCHANGE_NAMES}"))
    })
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
    /// `"book"` (interned: routing reads it for every update).
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> &Bound<'py, PyString> {
        pyo3::intern!(py, "book")
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

/// Which pushes of a registered book produce an item for Python.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Emit {
    /// Every depth push.
    All,
    /// Applied pushes that changed the best bid or ask, and every sync change.
    Top,
    /// Only what changes the book's sync: held (waiting for a snapshot), gap, crossed, a bad
    /// push, and the applied push that brings the book into sync.
    Changes,
}

/// A registered book with the items returned for it, one per status.
struct BookEntry {
    symbol: String,
    book: Py<PyOrderBook>,
    items: Vec<Py<PyBookUpdate>>,
    emit: Emit,
    /// Called with the `BookStatus` instead of returning an item (`register_book(notify=)`).
    notify: Option<Py<PyAny>>,
}

impl BookEntry {
    fn item(&self, py: Python<'_>, st: Status) -> Py<PyAny> {
        self.items[status_index(st)].clone_ref(py).into_any()
    }

    /// Offers one push to the book; the item for Python, if its emit policy wants one.
    fn offer(&self, py: Python<'_>, payload: &[u8]) -> PyResult<Routed> {
        let mut b = self.book.bind(py).try_borrow_mut()?;
        let was_in_sync = b.inner_mut().in_sync();
        let st = match b.offer_for(&self.symbol, payload) {
            Ok(Offer::NotDepth) => return Ok(Routed::NotBook),
            Ok(Offer::WrongSymbol) => return Ok(Routed::WrongSymbol),
            Ok(Offer::Held) => Status::NotSynced,
            Ok(Offer::Book(st)) => st,
            Err(_) => return Ok(Routed::Raw),
        };
        let wanted = match (self.emit, st) {
            (Emit::All, _) => true,
            (_, Status::Applied) => {
                !was_in_sync && b.inner_mut().in_sync()
                    || self.emit == Emit::Top && b.inner_mut().top_changed()
            }
            (_, Status::Stale) => false,
            // Held pushes wake the book's sync task only while it has none to work with.
            (_, Status::NotSynced) => b.inner_mut().pending.len() <= 1,
            (_, Status::Gap | Status::Crossed) => true,
        };
        if !wanted {
            return Ok(Routed::Book(None));
        }
        let Some(notify) = &self.notify else {
            return Ok(Routed::Book(Some(self.item(py, st))));
        };
        // The listener reads the book: release it first.
        drop(b);
        if let Err(e) = notify.call1(py, (status_object(py, st)?,)) {
            // A failing listener must not stop the read (the other messages still count).
            e.write_unraisable(py, Some(notify.bind(py)));
        }
        Ok(Routed::Book(None))
    }
}

/// Where a data message went.
enum Routed {
    /// Not a depth push for a registered book: decode it into an event.
    NotBook,
    /// A Gate.io depth push for another pair than the book offered it.
    WrongSymbol,
    /// Applied to (or held by) a book: this item (or nothing) goes to Python.
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
    /// Recording tap: the source index written into each record, and the records not yet
    /// taken (`kind:u8 source:u16 recv_ns:u64 len:u32 payload`, little-endian).
    record_source: Option<u16>,
    recording: Vec<u8>,
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

/// Offers a data message to the registered books, as `crate::native::dispatch` routes it.
fn book_route(
    py: Python<'_>,
    ex: Exchange,
    books: &[BookEntry],
    opcode: Opcode,
    payload: &[u8],
) -> PyResult<Routed> {
    match depth_route(ex, opcode, payload) {
        DepthRoute::NotDepth => Ok(Routed::NotBook),
        DepthRoute::Symbol(symbol) => match books.iter().find(|e| e.symbol == symbol) {
            Some(entry) => entry.offer(py, payload),
            None => Ok(Routed::NotBook),
        },
        DepthRoute::EachBook => {
            // A push for another pair is refused before it touches a book.
            for entry in books {
                match entry.offer(py, payload)? {
                    Routed::WrongSymbol => {}
                    other => return Ok(other),
                }
            }
            Ok(Routed::NotBook)
        }
    }
}

/// The Python item for one data message, or None when a book took it silently.
fn data_item(
    py: Python<'_>,
    ex: Exchange,
    books: &[BookEntry],
    opcode: Opcode,
    payload: &[u8],
) -> PyResult<Option<Py<PyAny>>> {
    if !books.is_empty() {
        match book_route(py, ex, books, opcode, payload)? {
            Routed::NotBook | Routed::WrongSymbol => {}
            Routed::Book(item) => return Ok(item),
            Routed::Raw => return Ok(Some(raw_item(py, ex, opcode, payload))),
        }
    }
    event_item(py, ex, opcode, payload).map(Some)
}

/// The typed event for a data message that is not a book's depth push (the raw payload when
/// the exchange decoder refuses it); the native I/O mode's drain builds its events here too.
pub(crate) fn event_item(
    py: Python<'_>,
    ex: Exchange,
    opcode: Opcode,
    payload: &[u8],
) -> PyResult<Py<PyAny>> {
    let ev = match (ex, opcode) {
        (Exchange::Mexc, Opcode::Text) => {
            let text = String::from_utf8_lossy(payload);
            mexc::control_from_text(py, &text)
        }
        (Exchange::Mexc, _) => mexc::event_from_frame(py, payload),
        (Exchange::Gate | Exchange::GateFutures, _) => gate::event_from_frame(py, payload),
        // Binary frames are SBE market data (`binance.md` §5); text frames JSON.
        (Exchange::Binance | Exchange::BinanceFutures, Opcode::Binary) => {
            binance::sbe_event_from_frame(py, payload)
        }
        (Exchange::Binance | Exchange::BinanceFutures, _) => binance::event_from_frame(py, payload),
        (Exchange::Kucoin | Exchange::KucoinFutures, _) => kucoin::event_from_frame(py, payload),
    };
    or_raw(py, ev, ex, opcode, payload)
}

/// Appends one record in the recording format (see `hftws.cli.record`).
fn append_record(out: &mut Vec<u8>, source: u16, opcode: Opcode, recv_ns: u64, payload: &[u8]) {
    out.push(opcode as u8);
    out.extend_from_slice(&source.to_le_bytes());
    out.extend_from_slice(&recv_ns.to_le_bytes());
    // Messages are bounded by max_message_size, far below 4 GiB.
    out.extend_from_slice(
        &u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    out.extend_from_slice(payload);
}

fn control_item<'py>(
    py: Python<'py>,
    opcode: Opcode,
    payload: &[u8],
) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(
        py,
        [
            (opcode as u8).into_bound_py_any(py)?,
            PyBytes::new(py, payload).into_any(),
        ],
    )
}

impl PyStreamDecoder {
    fn feed_slice<'py>(
        &mut self,
        py: Python<'py>,
        data: &[u8],
        recv_ns: u64,
    ) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        let mut controls = 0usize;
        let (ex, books) = (self.exchange, &self.books);
        let (source, recording) = (self.record_source, &mut self.recording);
        let r = self
            .inner
            .feed_with(data, |m: Message<'_>| -> Result<(), FeedError> {
                match m.opcode {
                    Opcode::Text | Opcode::Binary => {
                        if let Some(src) = source {
                            // Recorded before decoding: a replay sees exactly what arrived.
                            append_record(recording, src, m.opcode, recv_ns, m.payload);
                        }
                        if let Some(item) = data_item(py, ex, books, m.opcode, m.payload)? {
                            list.append(item)?;
                        }
                    }
                    _ => {
                        controls += 1;
                        list.append(control_item(py, m.opcode, m.payload)?)?;
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
    #[pyo3(signature = (exchange, *, max_message_size = DEFAULT_MAX_MESSAGE_SIZE, deflate = None, record_source = None))]
    fn new(
        exchange: &str,
        max_message_size: usize,
        deflate: Option<PyRef<'_, PyDeflateParams>>,
        record_source: Option<u16>,
    ) -> PyResult<Self> {
        if max_message_size == 0 {
            return Err(PyValueError::new_err("max_message_size must be positive"));
        }
        Ok(Self {
            inner: Decoder::new(DecoderConfig {
                max_message_size,
                deflate: deflate.map(|d| d.inner),
            }),
            exchange: parse_exchange(exchange)?,
            books: Vec::new(),
            controls: 0,
            record_source,
            recording: Vec::new(),
        })
    }

    /// Decodes a chunk; returns one item per message in arrival order: a typed event (MEXC:
    /// the `mexc.decode` event or a `MexcControl` for text; Gate.io: what `gateio.parse`
    /// returns), a `BookUpdate` for a registered book, or `(opcode, payload)` for a ping,
    /// pong or close frame (`controls` counts those in the last chunk).
    ///
    /// Raises `ProtocolError` (with `close_code`, `kind`, and `messages`: the items decoded
    /// from this chunk before the violation).
    ///
    /// With `record_source=`, every data message is also appended to the recording (see
    /// `take_recording`) with `recv_ns`, before it is decoded.
    #[pyo3(signature = (data, recv_ns = 0))]
    fn feed<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        recv_ns: u64,
    ) -> PyResult<Bound<'py, PyList>> {
        with_input(data, |data| self.feed_slice(py, data, recv_ns))
    }

    /// `feed` and, for the common read, the routing in the same native call: when the read
    /// held data items and no control frame (and no recording is configured), they go to
    /// `router.dispatch(items, recv_ns)` here and None is returned; a read with nothing in it
    /// returns None too (nothing to dispatch, as the transport skips empty reads). Otherwise
    /// the items come back exactly as `feed` returns them, undelivered, for the caller's own
    /// path (control frames, recording). Errors are `feed`'s (`ProtocolError` with `messages`,
    /// undelivered) or whatever `dispatch` raises.
    fn feed_routed<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        recv_ns: u64,
        router: &Bound<'py, PyRouter>,
    ) -> PyResult<Option<Bound<'py, PyList>>> {
        let items = with_input(data, |data| self.feed_slice(py, data, recv_ns))?;
        if self.controls != 0 || self.record_source.is_some() {
            return Ok(Some(items));
        }
        if !items.is_empty() {
            // monotonic_ns readings fit an i64 for centuries; saturate rather than wrap.
            let ns = i64::try_from(recv_ns).unwrap_or(i64::MAX);
            PyRouter::dispatch(router, items.as_any(), ns)?;
        }
        Ok(None)
    }

    /// Decodes one whole message that is already unframed (a recorded one, for replay): the
    /// same routing, books and events as `feed`. Returns its items (none or one; a control
    /// opcode gives `(opcode, payload)`).
    fn feed_message<'py>(
        &mut self,
        py: Python<'py>,
        opcode: u8,
        payload: &[u8],
    ) -> PyResult<Bound<'py, PyList>> {
        let op = match opcode {
            1 => Opcode::Text,
            2 => Opcode::Binary,
            8 => Opcode::Close,
            9 => Opcode::Ping,
            10 => Opcode::Pong,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "not a message opcode: {opcode}"
                )))
            }
        };
        let list = PyList::empty(py);
        if matches!(op, Opcode::Text | Opcode::Binary) {
            if let Some(item) = data_item(py, self.exchange, &self.books, op, payload)? {
                list.append(item)?;
            }
        } else {
            list.append(control_item(py, op, payload)?)?;
        }
        Ok(list)
    }

    /// The records appended since the last call (empty without `record_source`).
    fn take_recording<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let out = PyBytes::new(py, &self.recording);
        self.recording.clear();
        out
    }

    /// Offers depth pushes for `symbol` (MEXC `BTCUSDT`, Gate.io `BTC_USDT`) to `book` inside
    /// `feed`: applied, or held while the book waits for a snapshot (`OrderBook(hold=)`).
    /// Their item is a cached `BookUpdate`: for every push (`emit=True`), or only for applied
    /// pushes that moved the top of the book and sync changes (`top_only=True`), or only for
    /// sync changes (`emit=False`: held, gap, crossed, and the push that brings the book into
    /// sync). With `notify`, the same pushes call `notify(status)` inside `feed` (after the
    /// book is released) instead of returning an item: a book's owner gets its statuses with
    /// no routing through the message handler. Registering a symbol again replaces its book.
    #[pyo3(signature = (symbol, book, *, emit = true, top_only = false, notify = None))]
    fn register_book(
        &mut self,
        py: Python<'_>,
        symbol: &str,
        book: Py<PyOrderBook>,
        emit: bool,
        top_only: bool,
        notify: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        if symbol.is_empty() {
            return Err(PyValueError::new_err("symbol must not be empty"));
        }
        let name = PyString::new(py, symbol).unbind();
        let items = STATUSES
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
        let emit = match (emit, top_only) {
            (false, _) => Emit::Changes,
            (true, true) => Emit::Top,
            (true, false) => Emit::All,
        };
        let entry = BookEntry {
            symbol: symbol.to_owned(),
            book,
            items,
            emit,
            notify,
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
            if let Some(n) = &e.notify {
                visit.call(n)?;
            }
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.books.clear();
    }
}
