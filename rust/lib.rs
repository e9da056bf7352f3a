//! hftws core: sans-I/O building blocks for exchange market data.
//!
//! Bytes go in, events and book states come out; sockets, clocks and tasks live in the
//! Python package. Everything outside `py` is free of PyO3 so that
//! `cargo test --no-default-features` exercises the engine without an interpreter.

pub mod binance;
pub mod book;
pub mod bus;
pub mod decimal;
pub mod error;
pub mod feed;
pub mod gate;
pub mod json;
pub mod kucoin;
pub mod metrics;
pub mod mexc;
pub mod native;
pub mod ws;

#[cfg(feature = "python")]
mod py;
