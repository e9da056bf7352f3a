//! JSON text frames read in place: the one scanner every JSON exchange uses.
//!
//! Nothing here knows an exchange. [`scan`] is the validating, allocation-free scanner
//! (Gate.io, Binance, KuCoin and MEXC's JSON control frames all go through it); [`span`] turns
//! a string's position into a frame-relative [`Span`] that decoded events keep instead of a
//! borrow. Exchange modules add their own number encodings and error types on top.

pub mod compact;
pub mod scan;
pub mod span;

pub use scan::{string_stop, validate, JStr, JsonError, JsonErrorKind, Scan, Val};
pub use span::Span;
