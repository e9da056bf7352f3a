//! `hftws._core` bus functions: the wire encoding of `rust/bus` for gateways and remote books.
//!
//! The gateway's encoder reads the book's change journal and writes bytes in one call (no
//! Python object per level); readers apply a message to their book in one call.

use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use super::book::{status_object, PyBookStatus, PyOrderBook};
use super::convert::{extract_decimal, to_py_str};
use super::errors::bus_error;
use crate::book::OrderBook;
use crate::bus::{self, Applied, Header, Kind, FLAG_RESYNC};

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Per-book encoder of a gateway: owns the book's gateway sequence.
#[pyclass(name = "BusEncoder", module = "hftws")]
pub(crate) struct PyBusEncoder {
    exchange: String,
    symbol: String,
    sequence: u64,
    buf: Vec<u8>,
}

impl PyBusEncoder {
    fn header(&self, kind: Kind, flags: u8, first: u64, last: u64, recv_ns: u64) -> Header<'_> {
        Header {
            kind,
            flags,
            gateway_seq: self.sequence,
            first_id: first,
            last_id: last,
            recv_ns,
            publish_ns: now_ns(),
            exchange: &self.exchange,
            symbol: &self.symbol,
        }
    }

    fn finish<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let out = PyBytes::new(py, &self.buf);
        self.buf.clear();
        out
    }

    fn encode_snapshot<'py>(
        &mut self,
        py: Python<'py>,
        book: &OrderBook,
        recv_ns: u64,
        flags: u8,
        top: Option<usize>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let mut buf = std::mem::take(&mut self.buf);
        let h = self.header(Kind::Snapshot, flags, 0, book.sequence(), recv_ns);
        let r = bus::encode_book(&mut buf, &h, book, top);
        self.buf = buf;
        r.map_err(|e| bus_error(py, &e))?;
        Ok(self.finish(py))
    }
}

#[pymethods]
impl PyBusEncoder {
    #[new]
    #[pyo3(signature = (exchange, symbol, sequence = 0))]
    fn new(exchange: String, symbol: String, sequence: u64) -> PyResult<Self> {
        for (field, name) in [("exchange", &exchange), ("symbol", &symbol)] {
            bus::check_name(field, name).map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        Ok(Self {
            exchange,
            symbol,
            sequence,
            buf: Vec::new(),
        })
    }

    /// The gateway sequence of the last message encoded (0: none yet).
    #[getter]
    fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The book's changes since the last message, as one message taken from its journal
    /// (which is emptied): a delta, or a snapshot flagged back-in-sync when a snapshot
    /// replaced the book meanwhile; None when nothing changed. The book must have its
    /// journal on (`OrderBook.set_journal(True)`).
    fn update<'py>(
        &mut self,
        py: Python<'py>,
        book: &Bound<'py, PyOrderBook>,
        recv_ns: u64,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let mut b = book.try_borrow_mut()?;
        let inner = b.inner_mut();
        let Some(j) = inner.journal() else {
            return Err(PyValueError::new_err(
                "the book's change journal is off: call set_journal(True) first",
            ));
        };
        if j.reseeded {
            self.sequence += 1;
            let out = self.encode_snapshot(py, inner, recv_ns, FLAG_RESYNC, None)?;
            inner.clear_journal();
            return Ok(Some(out));
        }
        if j.changes.is_empty() {
            return Ok(None);
        }
        self.sequence += 1;
        let mut buf = std::mem::take(&mut self.buf);
        let h = self.header(Kind::Delta, 0, j.base_id, inner.sequence(), recv_ns);
        let r = bus::encode_changes(&mut buf, &h, &j.changes);
        self.buf = buf;
        r.map_err(|e| bus_error(py, &e))?;
        inner.clear_journal();
        Ok(Some(self.finish(py)))
    }

    /// The whole book (or its `top` levels per side) as the next message on the book
    /// subject; `resync` flags it as the book coming back in sync. Empties the journal.
    #[pyo3(signature = (book, recv_ns = 0, *, resync = true, top = None))]
    fn snapshot<'py>(
        &mut self,
        py: Python<'py>,
        book: &Bound<'py, PyOrderBook>,
        recv_ns: u64,
        resync: bool,
        top: Option<usize>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let mut b = book.try_borrow_mut()?;
        self.sequence += 1;
        let flags = if resync { FLAG_RESYNC } else { 0 };
        let out = self.encode_snapshot(py, b.inner_mut(), recv_ns, flags, top)?;
        b.inner_mut().clear_journal();
        Ok(out)
    }

    /// The book as of the last message encoded, for the key-value bucket: carries the
    /// current sequence (a reader continues at the next one); the sequence and the journal
    /// are left alone.
    #[pyo3(signature = (book, *, top = None))]
    fn stored_snapshot<'py>(
        &mut self,
        py: Python<'py>,
        book: &Bound<'py, PyOrderBook>,
        top: Option<usize>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let mut b = book.try_borrow_mut()?;
        self.encode_snapshot(py, b.inner_mut(), 0, 0, top)
    }

    /// The marker that the gateway's book left sync, as the next message.
    #[pyo3(signature = (recv_ns = 0, last_id = 0))]
    fn out_of_sync<'py>(
        &mut self,
        py: Python<'py>,
        recv_ns: u64,
        last_id: u64,
    ) -> PyResult<Bound<'py, PyBytes>> {
        self.sequence += 1;
        let mut buf = std::mem::take(&mut self.buf);
        let h = self.header(Kind::OutOfSync, 0, 0, last_id, recv_ns);
        let r = bus::encode(&mut buf, &h, std::iter::empty());
        self.buf = buf;
        r.map_err(|e| bus_error(py, &e))?;
        Ok(self.finish(py))
    }
}

/// A decoded message (for tools and tests; readers use `bus_apply`).
#[pyclass(frozen, name = "BusMessage", module = "hftws")]
pub(crate) struct PyBusMessage {
    #[pyo3(get)]
    version: u8,
    #[pyo3(get)]
    kind: &'static str,
    #[pyo3(get)]
    flags: u8,
    #[pyo3(get)]
    sequence: u64,
    #[pyo3(get)]
    first_id: u64,
    #[pyo3(get)]
    last_id: u64,
    #[pyo3(get)]
    recv_ns: u64,
    #[pyo3(get)]
    publish_ns: u64,
    #[pyo3(get)]
    exchange: String,
    #[pyo3(get)]
    symbol: String,
    #[pyo3(get)]
    levels: Py<PyList>,
}

#[pymethods]
impl PyBusMessage {
    fn __repr__(&self) -> String {
        format!(
            "BusMessage({} {}:{} seq={} ids={}..{})",
            self.kind, self.exchange, self.symbol, self.sequence, self.first_id, self.last_id
        )
    }
}

/// Encodes a message from explicit fields; `levels` are `(side, price, size)` with side
/// 'bid' or 'ask' and exact decimals.
#[pyfunction]
#[pyo3(signature = (kind, sequence, first_id, last_id, recv_ns, publish_ns, exchange, symbol, levels, flags = 0))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn bus_encode<'py>(
    py: Python<'py>,
    kind: &str,
    sequence: u64,
    first_id: u64,
    last_id: u64,
    recv_ns: u64,
    publish_ns: u64,
    exchange: &str,
    symbol: &str,
    levels: &Bound<'py, PyAny>,
    flags: u8,
) -> PyResult<Bound<'py, PyBytes>> {
    let kind = Kind::from_name(kind).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown kind {kind:?}: expected 'delta', 'snapshot', 'out_of_sync' or 'heartbeat'"
        ))
    })?;
    let mut lv = Vec::new();
    for item in levels.try_iter()? {
        let (side, p, s): (String, Bound<'py, PyAny>, Bound<'py, PyAny>) = item?.extract()?;
        let is_bid = match side.as_str() {
            "bid" => true,
            "ask" => false,
            _ => return Err(PyValueError::new_err("side must be 'bid' or 'ask'")),
        };
        let size = extract_decimal(&s)?;
        if size.is_negative() {
            return Err(PyValueError::new_err("sizes cannot be negative"));
        }
        lv.push((is_bid, extract_decimal(&p)?, size));
    }
    let h = Header {
        kind,
        flags,
        gateway_seq: sequence,
        first_id,
        last_id,
        recv_ns,
        publish_ns,
        exchange,
        symbol,
    };
    let mut out = Vec::new();
    bus::encode(&mut out, &h, lv.into_iter()).map_err(|e| PyValueError::new_err(e.to_string()))?;
    // Check what was produced, so that nothing this function returns is unreadable.
    bus::decode(&out).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(PyBytes::new(py, &out))
}

/// Reads a message; raises `BusDecodeError` (with `field` and `pos`) for bytes that are not
/// one.
#[pyfunction]
pub(crate) fn bus_decode(py: Python<'_>, data: &[u8]) -> PyResult<PyBusMessage> {
    let m = bus::decode(data).map_err(|e| bus_error(py, &e))?;
    let levels = PyList::empty(py);
    for (is_bid, p, s) in m.levels() {
        levels.append((
            if is_bid { "bid" } else { "ask" },
            to_py_str(py, p),
            to_py_str(py, s),
        ))?;
    }
    let h = m.header;
    Ok(PyBusMessage {
        version: bus::VERSION,
        kind: h.kind.name(),
        flags: h.flags,
        sequence: h.gateway_seq,
        first_id: h.first_id,
        last_id: h.last_id,
        recv_ns: h.recv_ns,
        publish_ns: h.publish_ns,
        exchange: h.exchange.to_owned(),
        symbol: h.symbol.to_owned(),
        levels: levels.unbind(),
    })
}

/// A heartbeat of gateway `gateway_id` for `exchange`, its `count`-th.
#[pyfunction]
pub(crate) fn bus_heartbeat<'py>(
    py: Python<'py>,
    exchange: &str,
    gateway_id: &str,
    count: u64,
) -> PyResult<Bound<'py, PyBytes>> {
    let h = Header {
        kind: Kind::Heartbeat,
        flags: 0,
        gateway_seq: count,
        first_id: 0,
        last_id: 0,
        recv_ns: 0,
        publish_ns: now_ns(),
        exchange,
        symbol: gateway_id,
    };
    let mut out = Vec::new();
    bus::encode(&mut out, &h, std::iter::empty())
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(PyBytes::new(py, &out))
}

/// Applies one message from a book subject to a reader's book (whose rule must be
/// 'kucoin_futures', the one-id-per-message rule): `(kind, status, last_id)` with the
/// message's exchange change id. Malformed bytes, a heartbeat or another book's message
/// raise `BusDecodeError` and leave the book out of sync.
#[pyfunction]
pub(crate) fn bus_apply(
    py: Python<'_>,
    book: &Bound<'_, PyOrderBook>,
    data: &[u8],
    exchange: &str,
    symbol: &str,
) -> PyResult<(&'static str, Py<PyBookStatus>, u64)> {
    let mut b = book.try_borrow_mut()?;
    let r = bus::apply(b.inner_mut(), data, exchange, symbol);
    drop(b);
    let (kind, st, last_id) = match r.map_err(|e| bus_error(py, &e))? {
        (Applied::Delta(st), id) => ("delta", st, id),
        (Applied::Snapshot(st), id) => ("snapshot", st, id),
        (Applied::OutOfSync(st), id) => ("out_of_sync", st, id),
    };
    Ok((kind, status_object(py, st)?, last_id))
}

/// Loads the bucket's copy of a book into a reader's book: a snapshot seeds it (APPLIED; in
/// sync once the stream's next delta bridges it), an `out_of_sync` marker leaves it out of
/// sync at the marker's sequence (NOT_SYNCED). Raises `BusDecodeError` otherwise.
#[pyfunction]
pub(crate) fn bus_load_snapshot(
    py: Python<'_>,
    book: &Bound<'_, PyOrderBook>,
    data: &[u8],
    exchange: &str,
    symbol: &str,
) -> PyResult<Py<PyBookStatus>> {
    let mut b = book.try_borrow_mut()?;
    let r = bus::load_stored(b.inner_mut(), data, exchange, symbol);
    drop(b);
    let st = r.map_err(|e| bus_error(py, &e))?;
    status_object(py, st)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBusEncoder>()?;
    m.add_class::<PyBusMessage>()?;
    m.add_function(wrap_pyfunction!(bus_encode, m)?)?;
    m.add_function(wrap_pyfunction!(bus_decode, m)?)?;
    m.add_function(wrap_pyfunction!(bus_heartbeat, m)?)?;
    m.add_function(wrap_pyfunction!(bus_apply, m)?)?;
    m.add_function(wrap_pyfunction!(bus_load_snapshot, m)?)?;
    Ok(())
}
