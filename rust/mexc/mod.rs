//! MEXC spot v3 WebSocket: protobuf push frames and JSON control frames (mexc.md §2-§4, §6).
//!
//! `proto/` is the schema's source of truth; this is a hand-written zero-copy decoder of it
//! (`tests/python/test_mexc_crosscheck.py` proves it agrees with Google's runtime). Layers:
//! [`wire`] reads the protobuf encoding, [`bodies`] and [`push`] decode messages into borrowed
//! structs, [`depth`] streams depth bodies into an [`crate::book::OrderBook`] without building
//! any level objects, and [`control`] reads the JSON acks and pongs on the same socket.

pub mod bodies;
pub mod control;
pub mod depth;
pub mod error;
pub mod push;
pub mod wire;

#[cfg(test)]
mod testdata;

pub use bodies::{FieldKind, Message, Value};
pub use control::{Control, ControlKind};
pub use depth::{apply_depth, DepthOutcome};
pub use error::{ErrorKind, FieldPath, MexcError};
pub use push::{Body, Header, Push};
pub use wire::{Dec, Ver};
