//! Binance spot and USDⓈ-M futures market data, decoded without PyO3.
//!
//! Follows `/work/shared/reference/binance.md`. JSON reuses the shared scanner (`crate::json`)
//! and Gate.io's value readers (`value`, `levels`, `channels` slots). Layers: [`route`] (the
//! one match from event type / stream name to [`Kind`]), [`frame`] (raw payloads and the
//! combined-stream wrapper), `compact` (one pass over diff depth as Binance writes it), [`depth`] (depth payloads straight into an
//! [`OrderBook`](crate::book::OrderBook) with the Binance sequence rules), [`records`]
//! (table-driven trade/aggTrade/bookTicker/kline/miniTicker/markPrice/forceOrder/
//! serverShutdown payloads), [`message`] (one frame to one typed message, control replies
//! included) and [`sbe`] (the binary spot streams). Field names of markPrice, forceOrder and
//! 24hrMiniTicker, which the reference lists by stream only, follow Binance's stream pages.

mod compact;
pub mod depth;
pub mod error;
pub mod frame;
pub mod message;
pub mod records;
pub mod route;
pub mod sbe;

pub use depth::DepthOutcome;
pub use error::BinanceError;
pub use message::{parse, Body, Message};
pub use route::Kind;

use crate::book::OrderBook;
use crate::json::Scan;

/// Applies one text frame (raw or combined stream) to `book` when it carries depth; `want`
/// (the exchange symbol, `BTCUSDT`) refuses pushes for another symbol before they touch the
/// book (the stream name's lower-case symbol is checked too).
///
/// # Errors
/// A [`BinanceError`] for malformed frames; if it happened while levels were being written
/// the book is out of sync.
pub fn apply_frame(
    frame: &[u8],
    book: &mut OrderBook,
    want: Option<&str>,
) -> Result<DepthOutcome, BinanceError> {
    // Diff depth as Binance writes it, in one pass; anything else (the book untouched) takes
    // the general path below.
    if let Some(st) = compact::apply(frame, book, want) {
        return Ok(DepthOutcome::Book(st));
    }
    apply_checked(frame, book, want)
}

/// [`apply_frame`] for every spelling: the wrapper and payload read by the validating scanner.
fn apply_checked(
    frame: &[u8],
    book: &mut OrderBook,
    want: Option<&str>,
) -> Result<DepthOutcome, BinanceError> {
    frame::scan_frame(frame, |stream, s: &mut Scan<'_>| {
        let cx = depth::Ctx {
            route: stream.map(|st| st.kind),
            stream_symbol: stream.and_then(frame::Stream::symbol),
            want,
        };
        if cx.route.is_some_and(|k| !k.is_depth()) {
            s.skip()
                .map_err(|e| BinanceError::from(crate::gate::GateError::json("", e)))?;
            return Ok(DepthOutcome::NotDepth);
        }
        depth::apply_payload(s, book, &cx)
    })
    .map(|(_, out)| out)
}

#[cfg(test)]
mod depth_tests;
