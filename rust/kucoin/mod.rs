//! KuCoin spot and futures market data, decoded without PyO3.
//!
//! Follows `/work/shared/reference/kucoin.md`. JSON reuses the Gate.io scanner and value
//! readers. Layers: [`route`] (the one match from `type` and topic to [`Kind`]), [`object`]
//! (one validating pass that locates known keys and refuses repeats), [`envelope`],
//! [`depth`] (level2 increments and top-N books straight into an
//! [`OrderBook`](crate::book::OrderBook) under the KuCoin sequence rules; `compact` reads
//! level2 pushes written as KuCoin writes them in one pass), [`records`]
//! (trades and tickers by table) and [`message`] (one frame to one checked message).

mod compact;
pub mod depth;
pub mod envelope;
pub mod error;
pub mod message;
pub mod object;
pub mod records;
pub mod route;

pub use depth::DepthOutcome;
pub use error::KucoinError;
pub use message::{parse, Message};
pub use route::Kind;

use crate::book::OrderBook;
use crate::gate::GateErrorKind;

/// Applies one text frame to `book` when it carries depth; `want` (the exchange symbol,
/// `BTC-USDT` / `XBTUSDTM`) refuses pushes for another symbol before they touch the book.
///
/// # Errors
/// A [`KucoinError`] for malformed frames or a push of the other market; if it happened
/// while levels were being written the book is out of sync.
pub fn apply_frame(
    frame: &[u8],
    book: &mut OrderBook,
    want: Option<&str>,
) -> Result<DepthOutcome, KucoinError> {
    // Level2 pushes as KuCoin writes them, in one pass; anything else (the book untouched)
    // takes the general path below.
    if let Some(st) = compact::apply(frame, book, want) {
        return Ok(DepthOutcome::Book(st));
    }
    apply_checked(frame, book, want)
}

/// [`apply_frame`] for every spelling: validates the whole frame, then reads the push.
fn apply_checked(
    frame: &[u8],
    book: &mut OrderBook,
    want: Option<&str>,
) -> Result<DepthOutcome, KucoinError> {
    let env = envelope::scan(frame)?;
    if !env.kind.is_depth() {
        return Ok(DepthOutcome::NotDepth);
    }
    let topic = env.topic_text(frame);
    let named = |e: KucoinError| e.in_topic(&topic);
    let data = env
        .data
        .ok_or_else(|| named(KucoinError::at("data", 0, GateErrorKind::Missing)))?;
    if !env.symbol_is(frame, want) {
        // A malformed push is an error whatever its symbol (as `parse` says).
        parse(frame)?;
        return Ok(DepthOutcome::WrongSymbol);
    }
    depth::apply(frame, env.kind, data, book, want).map_err(named)
}

#[cfg(test)]
mod tests;
