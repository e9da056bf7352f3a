//! Sans-I/O RFC 6455 client WebSocket codec with RFC 7692 permessage-deflate.
//!
//! `handshake` builds the upgrade request and validates the answer, `decoder` turns received
//! bytes into messages (borrowed, no copy when possible), `encoder` builds masked client
//! frames. Later layers call `Decoder::feed_with` with a closure that parses each payload in
//! place.

pub mod decoder;
pub mod deflate;
pub mod encoder;
pub mod error;
pub mod frame;
pub mod handshake;
pub mod mask;

pub use decoder::{Decoder, DecoderConfig, Message, DEFAULT_MAX_MESSAGE_SIZE};
pub use deflate::{DeflateOffer, DeflateParams};
pub use encoder::Encoder;
pub use error::{WsError, WsErrorKind};
pub use frame::Opcode;
