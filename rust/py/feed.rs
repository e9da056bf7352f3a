//! A depth frame offered to a registered book from Python, for any JSON exchange.
//!
//! `binance.apply_depth` and `kucoin.apply_depth` take the same path as a connection's
//! decoder (`crate::feed`): the book's rule picks the parser, and a push that arrives before
//! the snapshot is held. Neutral, so that no exchange's binding imports another's.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::book::{status_object, PyBookStatus, PyOrderBook};
use super::errors::depth_error;
use super::frame::text_frame_of;
use crate::book::{SeqRule, Status};
use crate::feed::Offer;

/// ValueError for a push whose symbol is not the book's.
pub(crate) fn wrong_symbol(want: &str) -> PyErr {
    PyValueError::new_err(format!(
        "depth frame is not for this book's symbol {want:?}"
    ))
}

/// A JSON depth frame offered to `book` if its rule passes `takes` (else ValueError
/// `wrong_book`): the same path as a connection's decoder, applied or held while the book
/// waits for its snapshot. None for frames that carry no depth.
pub(crate) fn offer_depth(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    book: &Bound<'_, PyOrderBook>,
    takes: fn(SeqRule) -> bool,
    wrong_book: &'static str,
) -> PyResult<Option<Py<PyBookStatus>>> {
    let frame = text_frame_of(data, "depth")?;
    let mut b = book.borrow_mut();
    if !takes(b.inner_mut().rule()) {
        return Err(PyValueError::new_err(wrong_book));
    }
    let st = match b.offer(&frame) {
        Ok(Offer::Book(st)) => st,
        Ok(Offer::Held) => Status::NotSynced,
        Ok(Offer::NotDepth) => return Ok(None),
        Ok(Offer::WrongSymbol) => return Err(wrong_symbol(b.symbol_str())),
        Err(e) => return Err(depth_error(py, &e)),
    };
    Ok(Some(status_object(py, st)?))
}
