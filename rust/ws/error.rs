//! Errors of the WebSocket codec (RFC 6455 §7.4.1 close codes, RFC 7692 §8).
//!
//! Every protocol violation the decoder, the inflater or the handshake validator can see is one
//! `WsErrorKind`; each kind knows the close code the client should send before it drops the
//! connection, so the I/O layer never has to map errors itself. Plain Rust values: `py::errors`
//! turns them into `hftws.ProtocolError`.

use std::fmt;

/// Close code 1002: the peer broke the framing rules.
pub const CLOSE_PROTOCOL_ERROR: u16 = 1002;
/// Close code 1007: a text message or close reason is not UTF-8.
pub const CLOSE_INVALID_PAYLOAD: u16 = 1007;
/// Close code 1009: a message is larger than the configured maximum.
pub const CLOSE_TOO_BIG: u16 = 1009;
/// Close code 1011: this side could not continue (e.g. no random source for masks).
pub const CLOSE_INTERNAL_ERROR: u16 = 1011;

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsErrorKind {
    /// A server frame had the mask bit set (RFC 6455 §5.1).
    MaskedFrame,
    /// RSV1/2/3 set without an extension that defines them (§5.2).
    ReservedBits,
    /// Opcode 3-7 or 0xB-0xF (§5.2).
    ReservedOpcode,
    /// A 64-bit length with its most significant bit set (§5.2).
    InvalidLength,
    /// A control frame with more than 125 bytes of payload (§5.5).
    ControlFrameTooLong,
    /// A control frame without FIN (§5.5).
    FragmentedControlFrame,
    /// A continuation frame with no fragmented message in progress (§5.4).
    UnexpectedContinuation,
    /// A new text/binary frame while a fragmented message is still open (§5.4).
    ExpectedContinuation,
    /// The message (after decompression) exceeds the maximum size.
    MessageTooBig,
    /// A text message is not valid UTF-8 (§8.1).
    InvalidUtf8,
    /// A close frame with a one-byte payload or a reason that is not UTF-8 (§5.5.1).
    InvalidClosePayload,
    /// A close code that may not be sent on the wire (§7.4).
    InvalidCloseCode,
    /// A compressed message could not be inflated (RFC 7692 §6.2).
    InflateFailed,
    /// Compressing an outgoing message failed.
    DeflateFailed,
    /// The operating system refused random bytes for a mask or key.
    RandomUnavailable,
    /// The server's upgrade response is not an acceptable RFC 6455 §4.1 answer.
    Handshake,
    /// The caller asked the encoder for something RFC 6455 forbids (e.g. a 126-byte ping).
    InvalidInput,
}

impl WsErrorKind {
    /// The close code RFC 6455 §7.4.1 assigns to this failure.
    pub fn close_code(self) -> u16 {
        match self {
            WsErrorKind::MessageTooBig => CLOSE_TOO_BIG,
            WsErrorKind::InvalidUtf8 => CLOSE_INVALID_PAYLOAD,
            WsErrorKind::DeflateFailed | WsErrorKind::RandomUnavailable => CLOSE_INTERNAL_ERROR,
            // A close reason that is not UTF-8 is invalid payload; a 1-byte close body is
            // a framing error. Both are this kind; the constructor picks the code.
            _ => CLOSE_PROTOCOL_ERROR,
        }
    }

    /// Short stable name, used in messages and by the Python `kind` attribute.
    pub fn name(self) -> &'static str {
        match self {
            WsErrorKind::MaskedFrame => "masked_frame",
            WsErrorKind::ReservedBits => "reserved_bits",
            WsErrorKind::ReservedOpcode => "reserved_opcode",
            WsErrorKind::InvalidLength => "invalid_length",
            WsErrorKind::ControlFrameTooLong => "control_frame_too_long",
            WsErrorKind::FragmentedControlFrame => "fragmented_control_frame",
            WsErrorKind::UnexpectedContinuation => "unexpected_continuation",
            WsErrorKind::ExpectedContinuation => "expected_continuation",
            WsErrorKind::MessageTooBig => "message_too_big",
            WsErrorKind::InvalidUtf8 => "invalid_utf8",
            WsErrorKind::InvalidClosePayload => "invalid_close_payload",
            WsErrorKind::InvalidCloseCode => "invalid_close_code",
            WsErrorKind::InflateFailed => "inflate_failed",
            WsErrorKind::DeflateFailed => "deflate_failed",
            WsErrorKind::RandomUnavailable => "random_unavailable",
            WsErrorKind::Handshake => "handshake",
            WsErrorKind::InvalidInput => "invalid_input",
        }
    }
}

/// A protocol violation (or local failure) with the close code to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsError {
    /// What went wrong.
    pub kind: WsErrorKind,
    /// Close code the client should send before closing (RFC 6455 §7.4.1).
    pub close_code: u16,
    /// Human-readable detail; small, never echoes more than a few bytes of peer data.
    pub detail: String,
}

impl WsError {
    /// An error with the kind's default close code.
    pub fn new(kind: WsErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            close_code: kind.close_code(),
            detail: detail.into(),
        }
    }

    /// An error with an explicit close code (when one kind maps to two codes).
    pub fn with_code(kind: WsErrorKind, close_code: u16, detail: impl Into<String>) -> Self {
        Self {
            kind,
            close_code,
            detail: detail.into(),
        }
    }

    /// A rejected upgrade response.
    pub fn handshake(detail: impl Into<String>) -> Self {
        Self::new(WsErrorKind::Handshake, detail)
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (close code {}): {}",
            self.kind.name(),
            self.close_code,
            self.detail
        )
    }
}

impl std::error::Error for WsError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_kinds_to_rfc_close_codes() {
        assert_eq!(WsError::new(WsErrorKind::MaskedFrame, "").close_code, 1002);
        assert_eq!(WsError::new(WsErrorKind::InvalidUtf8, "").close_code, 1007);
        assert_eq!(
            WsError::new(WsErrorKind::MessageTooBig, "").close_code,
            1009
        );
        assert_eq!(
            WsError::with_code(WsErrorKind::InvalidClosePayload, 1007, "").close_code,
            1007
        );
    }

    #[test]
    fn display_names_kind_and_code() {
        let e = WsError::new(WsErrorKind::ReservedOpcode, "opcode 3");
        assert_eq!(e.to_string(), "reserved_opcode (close code 1002): opcode 3");
    }
}
