//! RFC 6455 §5.2 frame headers: opcodes, header parsing and writing, close payloads.
//!
//! Parsing checks everything that can be decided from the header alone (mask bit, reserved
//! bits and opcodes, control-frame rules, the 64-bit length MSB, the size limit) so that a
//! hostile peer is refused before a single payload byte is buffered. Fragment sequencing and
//! UTF-8 live in `decoder`. Client side only: server frames must be unmasked (§5.1).

use super::error::{WsError, WsErrorKind, CLOSE_INVALID_PAYLOAD, CLOSE_PROTOCOL_ERROR};

/// Longest possible header: 2 + 8 (64-bit length) + 4 (mask key).
pub const MAX_HEADER_LEN: usize = 14;
/// Largest control-frame payload (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// Frame opcode (§5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Opcode {
    /// Continuation of a fragmented message.
    Continuation = 0x0,
    /// UTF-8 text.
    Text = 0x1,
    /// Binary data.
    Binary = 0x2,
    /// Close (code + reason).
    Close = 0x8,
    /// Ping.
    Ping = 0x9,
    /// Pong.
    Pong = 0xA,
}

impl Opcode {
    /// Decodes the low nibble of the first header byte; reserved values are errors.
    #[inline]
    pub fn from_u8(v: u8) -> Result<Self, WsError> {
        Ok(match v {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => {
                return Err(WsError::new(
                    WsErrorKind::ReservedOpcode,
                    format!("reserved opcode {v:#x}"),
                ))
            }
        })
    }

    /// Close, ping and pong (§5.5).
    #[inline]
    pub fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Final fragment.
    pub fin: bool,
    /// RSV1: "compressed" under permessage-deflate (RFC 7692 §6).
    pub rsv1: bool,
    /// Frame opcode.
    pub opcode: Opcode,
    /// Bytes of header (2, 4 or 10; servers never mask).
    pub header_len: usize,
    /// Bytes of payload.
    pub payload_len: usize,
}

impl FrameHeader {
    /// Header plus payload.
    #[inline]
    pub fn frame_len(&self) -> usize {
        self.header_len + self.payload_len
    }
}

/// Parses a server frame header from the start of `buf`.
///
/// Returns `Ok(None)` when `buf` holds less than a whole header. `allow_rsv1` is true when
/// permessage-deflate was negotiated; `max_payload` bounds data frames so that a peer cannot
/// make the decoder buffer more than the message limit.
#[inline]
pub fn parse_header(
    buf: &[u8],
    allow_rsv1: bool,
    max_payload: usize,
) -> Result<Option<FrameHeader>, WsError> {
    let (b0, b1) = match buf {
        [b0, b1, ..] => (*b0, *b1),
        _ => return Ok(None),
    };
    let fin = b0 & 0x80 != 0;
    let rsv1 = b0 & 0x40 != 0;
    if b0 & 0x30 != 0 || (rsv1 && !allow_rsv1) {
        return Err(WsError::new(
            WsErrorKind::ReservedBits,
            format!("reserved bits set: {:#05b}", (b0 >> 4) & 0x7),
        ));
    }
    let opcode = Opcode::from_u8(b0 & 0x0F)?;
    if b1 & 0x80 != 0 {
        return Err(WsError::new(
            WsErrorKind::MaskedFrame,
            "server frames must not be masked",
        ));
    }
    let len7 = b1 & 0x7F;
    let (header_len, payload_len) = match len7 {
        126 => match buf.get(2..4) {
            Some(&[a, b]) => (4, u16::from_be_bytes([a, b]) as u64),
            _ => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(s) => {
                let mut w = [0u8; 8];
                w.copy_from_slice(s);
                let n = u64::from_be_bytes(w);
                if n >> 63 != 0 {
                    return Err(WsError::new(
                        WsErrorKind::InvalidLength,
                        "64-bit payload length has its most significant bit set",
                    ));
                }
                (10, n)
            }
            None => return Ok(None),
        },
        n => (2, n as u64),
    };
    if opcode.is_control() {
        if !fin {
            return Err(WsError::new(
                WsErrorKind::FragmentedControlFrame,
                "control frames must not be fragmented",
            ));
        }
        if payload_len > MAX_CONTROL_PAYLOAD as u64 {
            return Err(WsError::new(
                WsErrorKind::ControlFrameTooLong,
                format!("control frame payload of {payload_len} bytes (max 125)"),
            ));
        }
        if rsv1 {
            // RFC 7692 §6: RSV1 only ever marks data messages.
            return Err(WsError::new(
                WsErrorKind::ReservedBits,
                "RSV1 set on a control frame",
            ));
        }
    } else if payload_len > max_payload as u64 {
        return Err(WsError::new(
            WsErrorKind::MessageTooBig,
            format!("frame of {payload_len} bytes exceeds the {max_payload}-byte limit"),
        ));
    }
    Ok(Some(FrameHeader {
        fin,
        rsv1,
        opcode,
        header_len,
        // Fits: bounded by `max_payload` (a usize) or 125 above.
        payload_len: payload_len as usize,
    }))
}

/// Writes a client frame header (always masked, §5.3) into `out`; returns its length.
#[inline]
pub fn write_header(
    out: &mut [u8; MAX_HEADER_LEN],
    fin: bool,
    rsv1: bool,
    opcode: Opcode,
    payload_len: usize,
    mask: [u8; 4],
) -> usize {
    out[0] = (u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode as u8;
    let n = if payload_len < 126 {
        out[1] = 0x80 | payload_len as u8;
        2
    } else if payload_len <= 0xFFFF {
        out[1] = 0x80 | 126;
        out[2..4].copy_from_slice(&(payload_len as u16).to_be_bytes());
        4
    } else {
        out[1] = 0x80 | 127;
        out[2..10].copy_from_slice(&(payload_len as u64).to_be_bytes());
        10
    };
    out[n..n + 4].copy_from_slice(&mask);
    n + 4
}

/// Whether a close code may appear in a close frame (RFC 6455 §7.4.1-2, IANA registry).
pub fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Splits and validates a close payload: `(None, "")` for an empty body, else the code and
/// the UTF-8 reason (§5.5.1).
pub fn parse_close(payload: &[u8]) -> Result<(Option<u16>, &str), WsError> {
    match payload {
        [] => Ok((None, "")),
        [_] => Err(WsError::with_code(
            WsErrorKind::InvalidClosePayload,
            CLOSE_PROTOCOL_ERROR,
            "close frame with a 1-byte payload",
        )),
        [a, b, reason @ ..] => {
            let code = u16::from_be_bytes([*a, *b]);
            if !is_valid_close_code(code) {
                return Err(WsError::new(
                    WsErrorKind::InvalidCloseCode,
                    format!("invalid close code {code}"),
                ));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| {
                WsError::with_code(
                    WsErrorKind::InvalidClosePayload,
                    CLOSE_INVALID_PAYLOAD,
                    "close reason is not UTF-8",
                )
            })?;
            Ok((Some(code), reason))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(buf: &[u8], rsv1: bool) -> WsErrorKind {
        parse_header(buf, rsv1, 1 << 20).unwrap_err().kind
    }

    #[test]
    fn parses_7_16_and_64_bit_lengths() {
        let h = parse_header(&[0x82, 125], false, 1 << 20).unwrap().unwrap();
        assert_eq!((h.header_len, h.payload_len, h.fin), (2, 125, true));
        let h = parse_header(&[0x02, 126, 0x01, 0x00], false, 1 << 20)
            .unwrap()
            .unwrap();
        assert_eq!((h.header_len, h.payload_len, h.fin), (4, 256, false));
        let h = parse_header(&[0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0], false, 1 << 20)
            .unwrap()
            .unwrap();
        assert_eq!((h.header_len, h.payload_len), (10, 65536));
    }

    #[test]
    fn waits_for_a_whole_header() {
        assert_eq!(parse_header(&[0x82], false, 10).unwrap(), None);
        assert_eq!(parse_header(&[0x82, 126, 1], false, 10).unwrap(), None);
        assert_eq!(parse_header(&[0x82, 127, 0, 0], false, 10).unwrap(), None);
    }

    #[test]
    fn rejects_masked_server_frame() {
        assert_eq!(
            kind(&[0x81, 0x85, 1, 2, 3, 4], false),
            WsErrorKind::MaskedFrame
        );
    }

    #[test]
    fn rejects_reserved_bits_unless_deflate_allows_rsv1() {
        assert_eq!(kind(&[0xC1, 0], false), WsErrorKind::ReservedBits);
        assert_eq!(kind(&[0xA1, 0], true), WsErrorKind::ReservedBits);
        assert_eq!(kind(&[0x91, 0], true), WsErrorKind::ReservedBits);
        assert!(parse_header(&[0xC1, 0], true, 10).unwrap().unwrap().rsv1);
        assert_eq!(kind(&[0xC9, 0], true), WsErrorKind::ReservedBits);
    }

    #[test]
    fn rejects_reserved_opcodes() {
        for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assert_eq!(kind(&[0x80 | op, 0], false), WsErrorKind::ReservedOpcode);
        }
    }

    #[test]
    fn rejects_long_or_fragmented_control_frames() {
        assert_eq!(
            kind(&[0x89, 126, 0, 126], false),
            WsErrorKind::ControlFrameTooLong
        );
        assert_eq!(kind(&[0x09, 0], false), WsErrorKind::FragmentedControlFrame);
    }

    #[test]
    fn rejects_length_with_msb_and_oversized_frames() {
        assert_eq!(
            kind(&[0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1], false),
            WsErrorKind::InvalidLength
        );
        let e = parse_header(&[0x82, 126, 0x01, 0x00], false, 255).unwrap_err();
        assert_eq!((e.kind, e.close_code), (WsErrorKind::MessageTooBig, 1009));
    }

    #[test]
    fn writes_minimal_masked_headers() {
        let mut h = [0u8; MAX_HEADER_LEN];
        let m = [9, 8, 7, 6];
        assert_eq!(write_header(&mut h, true, false, Opcode::Text, 5, m), 6);
        assert_eq!(&h[..6], &[0x81, 0x85, 9, 8, 7, 6]);
        assert_eq!(write_header(&mut h, false, true, Opcode::Binary, 126, m), 8);
        assert_eq!(&h[..4], &[0x42, 0xFE, 0, 126]);
        assert_eq!(
            write_header(&mut h, true, false, Opcode::Binary, 70000, m),
            14
        );
        assert_eq!(&h[..10], &[0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
    }

    #[test]
    fn validates_close_payloads() {
        assert_eq!(parse_close(b"").unwrap(), (None, ""));
        assert_eq!(parse_close(b"\x03\xe8bye").unwrap(), (Some(1000), "bye"));
        assert_eq!(parse_close(b"\x03").unwrap_err().close_code, 1002);
        assert_eq!(
            parse_close(b"\x03\xed").unwrap_err().kind,
            WsErrorKind::InvalidCloseCode
        );
        assert_eq!(parse_close(b"\x03\xe8\xff").unwrap_err().close_code, 1007);
        for bad in [0u16, 999, 1004, 1005, 1006, 1015, 2999, 5000] {
            assert!(!is_valid_close_code(bad), "{bad}");
        }
    }
}
