//! The native I/O mode: one OS thread owns a WebSocket connection, its frame codec, the
//! exchange decoders and the books fed by it, outside the GIL.
//!
//! Python talks to that thread through three things only: a command channel (snapshots,
//! subscribe frames, pings, stop), per-book views published through a sequence lock (readers
//! never block the writer) and a bounded queue of the other messages with a wake-up socket.
//! Everything here is free of PyO3; `crate::py::native` is the binding.

pub mod conn;
pub mod dispatch;
pub mod queue;
pub mod stats;
pub mod sys;
pub mod tls;
pub mod view;
pub mod worker;

#[cfg(test)]
mod tests;
