//! `hftws.WebSocketDecoder`, `WebSocketEncoder`, `DeflateOffer`, `DeflateParams`, `Opcode`
//! and the handshake helpers: thin wrappers over the sans-I/O codec in `crate::ws`.
//!
//! One Python call per socket read: `feed` decodes every frame in the chunk and returns the
//! messages as `(opcode, payload)` tuples; the payload is the only copy made per message.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use pyo3::IntoPyObjectExt;

use super::errors::ws_error;
use crate::ws::encoder::Encoder;
use crate::ws::handshake::{build_request, generate_key, validate_response};
use crate::ws::{
    Decoder, DecoderConfig, DeflateOffer, DeflateParams, Message, Opcode, WsError,
    DEFAULT_MAX_MESSAGE_SIZE,
};

/// Message opcodes (RFC 6455 §5.2); compares equal to the ints `feed` returns.
#[pyclass(eq, eq_int, frozen, hash, name = "Opcode", module = "hftws")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[allow(clippy::upper_case_acronyms)]
pub(crate) enum PyOpcode {
    CONTINUATION = 0,
    TEXT = 1,
    BINARY = 2,
    CLOSE = 8,
    PING = 9,
    PONG = 10,
}

/// Agreed permessage-deflate parameters (RFC 7692 §7.1).
#[pyclass(eq, frozen, name = "DeflateParams", module = "hftws")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct PyDeflateParams {
    pub(crate) inner: DeflateParams,
}

#[pymethods]
impl PyDeflateParams {
    #[new]
    #[pyo3(signature = (*, server_no_context_takeover = false, client_no_context_takeover = false,
                        server_max_window_bits = 15, client_max_window_bits = 15))]
    fn new(
        server_no_context_takeover: bool,
        client_no_context_takeover: bool,
        server_max_window_bits: u8,
        client_max_window_bits: u8,
    ) -> PyResult<Self> {
        if !(8..=15).contains(&server_max_window_bits) {
            return Err(PyValueError::new_err(
                "server_max_window_bits must be 8..=15",
            ));
        }
        if !(9..=15).contains(&client_max_window_bits) {
            return Err(PyValueError::new_err(
                "client_max_window_bits must be 9..=15 (zlib cannot compress raw with 8)",
            ));
        }
        Ok(Self {
            inner: DeflateParams {
                server_no_context_takeover,
                client_no_context_takeover,
                server_max_window_bits,
                client_max_window_bits,
            },
        })
    }

    #[getter]
    fn server_no_context_takeover(&self) -> bool {
        self.inner.server_no_context_takeover
    }

    #[getter]
    fn client_no_context_takeover(&self) -> bool {
        self.inner.client_no_context_takeover
    }

    #[getter]
    fn server_max_window_bits(&self) -> u8 {
        self.inner.server_max_window_bits
    }

    #[getter]
    fn client_max_window_bits(&self) -> u8 {
        self.inner.client_max_window_bits
    }

    fn __repr__(&self) -> String {
        let p = &self.inner;
        format!(
            "DeflateParams(server_no_context_takeover={}, client_no_context_takeover={}, \
             server_max_window_bits={}, client_max_window_bits={})",
            py_bool(p.server_no_context_takeover),
            py_bool(p.client_no_context_takeover),
            p.server_max_window_bits,
            p.client_max_window_bits
        )
    }
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// The permessage-deflate offer sent in the upgrade request.
#[pyclass(eq, frozen, name = "DeflateOffer", module = "hftws")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct PyDeflateOffer {
    inner: DeflateOffer,
}

#[pymethods]
impl PyDeflateOffer {
    #[new]
    #[pyo3(signature = (*, client_max_window_bits = true, server_no_context_takeover = false,
                        client_no_context_takeover = false, server_max_window_bits = None))]
    fn new(
        client_max_window_bits: bool,
        server_no_context_takeover: bool,
        client_no_context_takeover: bool,
        server_max_window_bits: Option<u8>,
    ) -> PyResult<Self> {
        if server_max_window_bits.is_some_and(|b| !(8..=15).contains(&b)) {
            return Err(PyValueError::new_err(
                "server_max_window_bits must be 8..=15",
            ));
        }
        Ok(Self {
            inner: DeflateOffer {
                client_max_window_bits,
                server_no_context_takeover,
                client_no_context_takeover,
                server_max_window_bits,
            },
        })
    }

    /// The `Sec-WebSocket-Extensions` header value.
    fn header_value(&self) -> String {
        self.inner.header_value()
    }

    fn __repr__(&self) -> String {
        format!("DeflateOffer({:?})", self.inner.header_value())
    }
}

/// `deflate=` argument: `False`/`None` (no offer), `True` (default offer) or a `DeflateOffer`.
fn offer_arg(deflate: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DeflateOffer>> {
    let Some(d) = deflate else { return Ok(None) };
    if d.is_none() {
        return Ok(None);
    }
    if let Ok(o) = d.cast::<PyDeflateOffer>() {
        return Ok(Some(o.get().inner));
    }
    if let Ok(b) = d.extract::<bool>() {
        return Ok(b.then(DeflateOffer::default));
    }
    Err(PyTypeError::new_err(
        "deflate must be a bool or a DeflateOffer",
    ))
}

/// Streaming RFC 6455 client decoder: feed socket reads, get whole messages.
#[pyclass(name = "WebSocketDecoder", module = "hftws")]
pub(crate) struct PyWebSocketDecoder {
    inner: Decoder,
}

/// Why `feed` stopped: the codec's verdict or a Python failure while building results.
pub(crate) enum FeedError {
    Ws(WsError),
    Py(PyErr),
}

impl From<WsError> for FeedError {
    fn from(e: WsError) -> Self {
        FeedError::Ws(e)
    }
}

impl From<PyErr> for FeedError {
    fn from(e: PyErr) -> Self {
        FeedError::Py(e)
    }
}

impl PyWebSocketDecoder {
    fn feed_slice<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        let r = self
            .inner
            .feed_with(data, |m: Message<'_>| -> Result<(), FeedError> {
                let item = PyTuple::new(
                    py,
                    [
                        (m.opcode as u8).into_bound_py_any(py)?,
                        PyBytes::new(py, m.payload).into_any(),
                    ],
                )?;
                list.append(item)?;
                Ok(())
            });
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

/// The bytes of a `bytes` argument in place; any other buffer (bytearray, memoryview) is
/// copied first, since Python code run while building results could resize it.
pub(crate) fn with_input<R>(
    data: &Bound<'_, PyAny>,
    f: impl FnOnce(&[u8]) -> PyResult<R>,
) -> PyResult<R> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return f(b.as_bytes());
    }
    let buf = PyBuffer::<u8>::get(data)?;
    f(&buf.to_vec(data.py())?)
}

#[pymethods]
impl PyWebSocketDecoder {
    #[new]
    #[pyo3(signature = (*, max_message_size = DEFAULT_MAX_MESSAGE_SIZE, deflate = None))]
    fn new(max_message_size: usize, deflate: Option<PyRef<'_, PyDeflateParams>>) -> PyResult<Self> {
        if max_message_size == 0 {
            return Err(PyValueError::new_err("max_message_size must be positive"));
        }
        Ok(Self {
            inner: Decoder::new(DecoderConfig {
                max_message_size,
                deflate: deflate.map(|d| d.inner),
            }),
        })
    }

    /// Decodes a chunk; returns `[(opcode, payload), ...]` for every complete message.
    ///
    /// Raises `ProtocolError` (with `close_code`, `kind`, and `messages`: those decoded from
    /// this chunk before the violation).
    fn feed<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        with_input(data, |data| self.feed_slice(py, data))
    }

    /// Decodes and validates a chunk without building Python objects; returns the number of
    /// messages. This is the per-frame cost a Rust-side consumer of `feed_with` pays.
    fn feed_count(&mut self, data: &Bound<'_, PyAny>) -> PyResult<usize> {
        with_input(data, |data| {
            let mut n = 0usize;
            self.inner
                .feed_with(data, |_m: Message<'_>| -> Result<(), WsError> {
                    n += 1;
                    Ok(())
                })?;
            Ok(n)
        })
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
}

/// RFC 6455 client frame encoder: masked frames, compressed when deflate was agreed.
#[pyclass(name = "WebSocketEncoder", module = "hftws")]
pub(crate) struct PyWebSocketEncoder {
    inner: Encoder,
}

/// Bytes of `bytes`, `str` (UTF-8) or any bytes-like argument; only the last is copied.
fn with_data<R>(data: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> PyResult<R>) -> PyResult<R> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return f(b.as_bytes());
    }
    if let Ok(s) = data.cast::<PyString>() {
        return f(s.to_str()?.as_bytes());
    }
    match PyBuffer::<u8>::get(data) {
        Ok(buf) => f(&buf.to_vec(data.py())?),
        Err(_) => Err(PyTypeError::new_err(
            "expected bytes, a bytes-like object or str",
        )),
    }
}

impl PyWebSocketEncoder {
    fn frame<'py>(
        &mut self,
        py: Python<'py>,
        opcode: Opcode,
        payload: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        self.inner.encode_with(opcode, payload, |len, write| {
            PyBytes::new_with(py, len, |buf| {
                write(buf);
                Ok(())
            })
        })
    }
}

#[pymethods]
impl PyWebSocketEncoder {
    #[new]
    #[pyo3(signature = (*, deflate = None))]
    fn new(deflate: Option<PyRef<'_, PyDeflateParams>>) -> PyResult<Self> {
        Ok(Self {
            inner: Encoder::new(deflate.as_ref().map(|d| &d.inner))?,
        })
    }

    /// A text frame; `str` is encoded as UTF-8, `bytes` must already be UTF-8.
    fn encode_text<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        with_data(data, |b| {
            if !data.is_instance_of::<PyString>() && std::str::from_utf8(b).is_err() {
                return Err(PyValueError::new_err("text payload is not valid UTF-8"));
            }
            self.frame(py, Opcode::Text, b)
        })
    }

    /// A binary frame.
    fn encode_binary<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        with_data(data, |b| self.frame(py, Opcode::Binary, b))
    }

    /// A ping (payload at most 125 bytes).
    #[pyo3(signature = (data = None))]
    fn encode_ping<'py>(
        &mut self,
        py: Python<'py>,
        data: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        match data {
            Some(d) => with_data(d, |b| self.frame(py, Opcode::Ping, b)),
            None => self.frame(py, Opcode::Ping, b""),
        }
    }

    /// A pong (payload at most 125 bytes), e.g. echoing a ping's payload.
    #[pyo3(signature = (data = None))]
    fn encode_pong<'py>(
        &mut self,
        py: Python<'py>,
        data: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        match data {
            Some(d) => with_data(d, |b| self.frame(py, Opcode::Pong, b)),
            None => self.frame(py, Opcode::Pong, b""),
        }
    }

    /// A close frame; `code=None` sends an empty body (then `reason` must be empty).
    #[pyo3(signature = (code = Some(1000), reason = ""))]
    fn encode_close<'py>(
        &mut self,
        py: Python<'py>,
        code: Option<u16>,
        reason: &str,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let body = Encoder::close_payload(code, reason)?;
        self.frame(py, Opcode::Close, &body)
    }

    /// True when text and binary messages are sent compressed.
    #[getter]
    fn compresses(&self) -> bool {
        self.inner.compresses()
    }
}

/// Header pairs from a mapping or an iterable of `(name, value)` pairs.
fn header_pairs(headers: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let Some(h) = headers else {
        return Ok(Vec::new());
    };
    if h.is_none() {
        return Ok(Vec::new());
    }
    if let Ok(d) = h.cast::<PyDict>() {
        return d
            .iter()
            .map(|(k, v)| Ok((k.extract()?, v.extract()?)))
            .collect();
    }
    h.try_iter()?
        .map(|item| item?.extract::<(String, String)>())
        .collect()
}

/// Builds the HTTP upgrade request; returns `(request bytes, Sec-WebSocket-Key)`.
#[pyfunction]
#[pyo3(signature = (host, path = "/", *, deflate = None, headers = None, key = None))]
pub(crate) fn build_handshake_request<'py>(
    py: Python<'py>,
    host: &str,
    path: &str,
    deflate: Option<&Bound<'py, PyAny>>,
    headers: Option<&Bound<'py, PyAny>>,
    key: Option<String>,
) -> PyResult<(Bound<'py, PyBytes>, String)> {
    let offer = offer_arg(deflate)?;
    let pairs = header_pairs(headers)?;
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let key = match key {
        Some(k) => k,
        None => generate_key()?,
    };
    let req = build_request(host, path, &key, offer.as_ref(), &refs)?;
    Ok((PyBytes::new(py, &req), key))
}

/// Validates the server's upgrade answer against `key` and the `deflate` offer that was sent.
///
/// Returns None while the response head is incomplete, else `(consumed, params)`: the number
/// of bytes of `data` that were the HTTP response (the rest are frames) and the negotiated
/// `DeflateParams` or None. Raises `HandshakeError` for any answer that must be refused.
#[pyfunction]
#[pyo3(signature = (data, key, deflate = None))]
pub(crate) fn validate_handshake_response(
    data: &[u8],
    key: &str,
    deflate: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<(usize, Option<PyDeflateParams>)>> {
    let offer = offer_arg(deflate)?;
    Ok(validate_response(data, key, offer.as_ref())?
        .map(|a| (a.consumed, a.deflate.map(|inner| PyDeflateParams { inner }))))
}
