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

/// True when `frame` starts with its topic (`{"topic":"<topic>",...` or
/// `{"type":"message","topic":"<topic>",...`), the topic is not a depth topic, and no later key
/// can change that: with no backslash in the frame (SIMD `memchr`) a key can only be `topic`
/// if those bytes appear again (SIMD `memmem`), and `type` cannot matter (a frame is depth only
/// as a `message` on a depth topic). The general path would read the whole frame to decline
/// it; what is wrong with a malformed one, `kucoin.parse` reports.
fn not_depth_topic(frame: &[u8]) -> bool {
    let Some(rest) = frame
        .strip_prefix(b"{\"topic\":\"")
        .or_else(|| frame.strip_prefix(b"{\"type\":\"message\",\"topic\":\""))
    else {
        return false;
    };
    let Some(len) = memchr::memchr(b'"', rest) else {
        return false;
    };
    let Ok(topic) = std::str::from_utf8(&rest[..len]) else {
        return false;
    };
    !Kind::of_topic(topic).is_depth()
        && memchr::memchr(b'\\', frame).is_none()
        && TOPIC.find(&rest[len..]).is_none()
}

/// The searcher for `topic`, built once (building one per call costs more than the search).
static TOPIC: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"topic"));

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
    // Matches and tickers are declined from their topic (the frame is not read further); a
    // wrong book is still refused below.
    if let Ok(b) = data.cast::<PyBytes>() {
        if not_depth_topic(b.as_bytes())
            && matches!(
                book.borrow_mut().inner_mut().rule(),
                SeqRule::KucoinSpot | SeqRule::KucoinFutures
            )
        {
            return Ok(None);
        }
    }
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
