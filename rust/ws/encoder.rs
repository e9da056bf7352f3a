//! Client frame encoder (RFC 6455 §5.2-5.3, §5.5 control frames, RFC 7692 §6.1 compression).
//!
//! Every frame is masked with a fresh key from the OS CSPRNG (`mask::MaskSource`). Data
//! messages are compressed when permessage-deflate was negotiated. `encode_with` lets the
//! caller supply the output buffer once the exact frame length is known, so the Python
//! binding writes straight into a new `bytes` object without an intermediate copy.

use super::deflate::{DeflateParams, Deflater};
use super::error::{WsError, WsErrorKind};
use super::frame::{
    is_valid_close_code, write_header, Opcode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN,
};
use super::mask::{mask_into, MaskSource};

/// Length of a masked client frame carrying `payload_len` bytes.
#[inline]
pub fn frame_len(payload_len: usize) -> usize {
    let len_bytes = if payload_len < 126 {
        0
    } else if payload_len <= 0xFFFF {
        2
    } else {
        8
    };
    2 + len_bytes + 4 + payload_len
}

/// Builds client frames.
pub struct Encoder {
    masks: MaskSource,
    deflater: Option<Deflater>,
    scratch: Vec<u8>,
}

impl Encoder {
    /// An encoder; with `deflate`, text and binary messages are compressed.
    pub fn new(deflate: Option<&DeflateParams>) -> Result<Self, WsError> {
        Ok(Self {
            masks: MaskSource::new(),
            deflater: deflate.map(Deflater::new).transpose()?,
            scratch: Vec::new(),
        })
    }

    /// True when data messages are sent compressed.
    pub fn compresses(&self) -> bool {
        self.deflater.is_some()
    }

    /// Encodes one unfragmented message. `sink(len, write)` must provide a buffer of exactly
    /// `len` bytes and call `write` on it once; its result is returned.
    pub fn encode_with<T, E, S>(&mut self, opcode: Opcode, payload: &[u8], sink: S) -> Result<T, E>
    where
        E: From<WsError>,
        S: FnOnce(usize, &mut dyn FnMut(&mut [u8])) -> Result<T, E>,
    {
        if opcode == Opcode::Continuation {
            return Err(WsError::new(
                WsErrorKind::InvalidInput,
                "send whole messages, not continuation frames",
            )
            .into());
        }
        if opcode.is_control() && payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(WsError::new(
                WsErrorKind::InvalidInput,
                format!("control frame payload of {} bytes (max 125)", payload.len()),
            )
            .into());
        }
        let mask = self.masks.next_key()?;
        let (rsv1, body): (bool, &[u8]) = match self.deflater.as_mut() {
            Some(d) if !opcode.is_control() => {
                self.scratch.clear();
                d.message(payload, &mut self.scratch)?;
                (true, &self.scratch)
            }
            _ => (false, payload),
        };
        let len = frame_len(body.len());
        let mut write = |dst: &mut [u8]| {
            let mut header = [0u8; MAX_HEADER_LEN];
            let n = write_header(&mut header, true, rsv1, opcode, body.len(), mask);
            // `sink` promised exactly `len` bytes; a shorter buffer is left as is, not a panic.
            if let Some((h, p)) = dst.split_at_mut_checked(n) {
                h.copy_from_slice(&header[..n]);
                mask_into(p, body, mask);
            }
        };
        sink(len, &mut write)
    }

    /// Appends one frame for `payload` to `out`.
    pub fn encode(
        &mut self,
        opcode: Opcode,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), WsError> {
        self.encode_with(opcode, payload, |len, write| {
            let start = out.len();
            out.resize(start + len, 0);
            write(&mut out[start..]);
            Ok(())
        })
    }

    /// The close body for `code` and `reason`, checked against §5.5.1 and §7.4.
    pub fn close_payload(code: Option<u16>, reason: &str) -> Result<Vec<u8>, WsError> {
        let Some(code) = code else {
            if reason.is_empty() {
                return Ok(Vec::new());
            }
            return Err(WsError::new(
                WsErrorKind::InvalidInput,
                "a close reason needs a code",
            ));
        };
        if !is_valid_close_code(code) {
            return Err(WsError::new(
                WsErrorKind::InvalidInput,
                format!("close code {code} may not be sent"),
            ));
        }
        if reason.len() > MAX_CONTROL_PAYLOAD - 2 {
            return Err(WsError::new(
                WsErrorKind::InvalidInput,
                "close reason longer than 123 bytes",
            ));
        }
        let mut p = Vec::with_capacity(2 + reason.len());
        p.extend_from_slice(&code.to_be_bytes());
        p.extend_from_slice(reason.as_bytes());
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::decoder::{Decoder, DecoderConfig};
    use crate::ws::deflate::Inflater;
    use crate::ws::mask::apply_mask;

    /// Unmasks a client frame so the (server-side) checks can run on it.
    fn unmask(frame: &[u8]) -> (u8, Vec<u8>) {
        let len7 = (frame[1] & 0x7F) as usize;
        let (n, len) = match len7 {
            126 => (4, u16::from_be_bytes([frame[2], frame[3]]) as usize),
            127 => (
                10,
                u64::from_be_bytes(frame[2..10].try_into().unwrap()) as usize,
            ),
            l => (2, l),
        };
        assert_eq!(frame[1] & 0x80, 0x80, "client frames are masked");
        let mask: [u8; 4] = frame[n..n + 4].try_into().unwrap();
        let mut p = frame[n + 4..].to_vec();
        assert_eq!(p.len(), len);
        apply_mask(&mut p, mask);
        (frame[0], p)
    }

    #[test]
    fn encodes_masked_frames_of_every_length_class() {
        let mut enc = Encoder::new(None).unwrap();
        for len in [0usize, 1, 125, 126, 65535, 65536, 100_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut out = Vec::new();
            enc.encode(Opcode::Binary, &payload, &mut out).unwrap();
            assert_eq!(out.len(), frame_len(len));
            let (b0, p) = unmask(&out);
            assert_eq!((b0, p), (0x82, payload));
        }
    }

    #[test]
    fn masks_with_fresh_keys() {
        let mut enc = Encoder::new(None).unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        enc.encode(Opcode::Text, b"same", &mut a).unwrap();
        enc.encode(Opcode::Text, b"same", &mut b).unwrap();
        assert_ne!(a[2..6], b[2..6]);
    }

    #[test]
    fn rejects_oversized_control_frames_and_bad_close_codes() {
        let mut enc = Encoder::new(None).unwrap();
        let e = enc
            .encode(Opcode::Ping, &[0; 126], &mut Vec::new())
            .unwrap_err();
        assert_eq!(e.kind, WsErrorKind::InvalidInput);
        assert!(enc
            .encode(Opcode::Continuation, b"", &mut Vec::new())
            .is_err());
        assert!(Encoder::close_payload(Some(1005), "").is_err());
        assert!(Encoder::close_payload(Some(1000), &"x".repeat(124)).is_err());
        assert!(Encoder::close_payload(None, "why").is_err());
        assert_eq!(
            Encoder::close_payload(Some(1000), "ok").unwrap(),
            b"\x03\xe8ok"
        );
    }

    #[test]
    fn compresses_data_but_not_control_frames() {
        let p = DeflateParams::default();
        let mut enc = Encoder::new(Some(&p)).unwrap();
        let mut inf = Inflater::new(&p);
        let msg = br#"{"channel":"spot.order_book_update","event":"subscribe"}"#;
        for _ in 0..3 {
            let mut out = Vec::new();
            enc.encode(Opcode::Text, msg, &mut out).unwrap();
            let (b0, z) = unmask(&out);
            assert_eq!(b0, 0xC1, "FIN + RSV1 + text");
            let mut plain = Vec::new();
            inf.message(&z, &mut plain, 1 << 20).unwrap();
            assert_eq!(plain, msg);
        }
        let mut out = Vec::new();
        enc.encode(Opcode::Ping, b"hi", &mut out).unwrap();
        assert_eq!(unmask(&out), (0x89, b"hi".to_vec()));
    }

    #[test]
    fn encoded_unmasked_frames_decode_back() {
        // The decoder refuses masked frames, so strip the mask bit and key first.
        let mut enc = Encoder::new(None).unwrap();
        let mut out = Vec::new();
        enc.encode(Opcode::Text, "héllo".as_bytes(), &mut out)
            .unwrap();
        let (_, payload) = unmask(&out);
        let mut server = vec![0x81, payload.len() as u8];
        server.extend_from_slice(&payload);
        let mut dec = Decoder::new(DecoderConfig::default());
        let msgs = dec.feed_owned(&server).unwrap();
        assert_eq!(msgs, vec![(Opcode::Text, "héllo".as_bytes().to_vec())]);
    }
}
