//! Gate.io v4 WebSocket JSON (spot and USDT futures), decoded without PyO3.
//!
//! Follows `/work/shared/reference/gateio.md`. Layers, bottom up: [`crate::json`] (the
//! shared validating zero-copy scanner), [`value`] (the exchange's loose number encodings),
//! [`envelope`] (`channel`/`event`/`time`/`error`/`result` in any key order), [`depth`] (the hot path:
//! depth pushes streamed into an [`OrderBook`](crate::book::OrderBook) with Gate's `U`/`u`
//! rules; `compact` reads `order_book_update` pushes written the way Gate writes them in one
//! pass and hands every other spelling to the general path), [`channels`] (table-driven records: trades, tickers, candles, orders, ...),
//! [`control`] (acks, errors, auth classification) and [`message`] (one frame to one typed
//! message). Errors are [`GateError`]s naming the channel and field.

pub mod channels;
mod compact;
mod compact_records;
pub mod control;
mod decline;
pub mod depth;
pub mod envelope;
pub mod error;
pub mod levels;
pub mod message;
pub mod route;
pub mod value;

pub use depth::{apply_frame, DepthOutcome};
pub use error::{GateError, GateErrorKind};
pub use message::{parse, Body, Message};
