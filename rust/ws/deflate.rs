//! permessage-deflate (RFC 7692), client side: the offer, the server's answer, and the
//! compressor/decompressor pair with context takeover in both directions.
//!
//! Payloads are raw DEFLATE (RFC 1951) ending in an empty sync-flush block whose
//! `00 00 ff ff` the sender strips (§7.2.1) and the receiver appends again (§7.2.2).
//! Window bits: we inflate with a 32 KiB window, which decodes any `server_max_window_bits`
//! from 8 to 15; we compress with the negotiated `client_max_window_bits` from 9 to 15 (zlib
//! cannot produce raw streams with an 8-bit window, so an answer of 8 is refused at
//! negotiation rather than honoured falsely).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::error::{WsError, WsErrorKind};

/// The empty stored block a sync flush ends with (§7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];

/// What the client proposes in `Sec-WebSocket-Extensions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateOffer {
    /// Offer `client_max_window_bits` without a value: the server may pick our window.
    pub client_max_window_bits: bool,
    /// Ask the server to reset its compressor after each message.
    pub server_no_context_takeover: bool,
    /// Announce that we reset our compressor after each message.
    pub client_no_context_takeover: bool,
    /// Ask the server to use at most this window (8..=15).
    pub server_max_window_bits: Option<u8>,
}

impl Default for DeflateOffer {
    /// The offer `websockets` makes: `permessage-deflate; client_max_window_bits`.
    fn default() -> Self {
        Self {
            client_max_window_bits: true,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
        }
    }
}

impl DeflateOffer {
    /// The `Sec-WebSocket-Extensions` value for this offer.
    pub fn header_value(&self) -> String {
        let mut s = String::from("permessage-deflate");
        if self.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        if let Some(bits) = self.server_max_window_bits {
            s.push_str(&format!("; server_max_window_bits={bits}"));
        }
        if self.client_max_window_bits {
            s.push_str("; client_max_window_bits");
        }
        s
    }
}

/// Parameters both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor per message: our inflater must reset too.
    pub server_no_context_takeover: bool,
    /// We must reset our compressor per message.
    pub client_no_context_takeover: bool,
    /// The server's LZ77 window (8..=15); informative, we inflate with 15.
    pub server_max_window_bits: u8,
    /// Our compressor's window (9..=15).
    pub client_max_window_bits: u8,
}

impl Default for DeflateParams {
    fn default() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

fn reject(detail: impl Into<String>) -> WsError {
    WsError::handshake(detail)
}

fn parse_bits(name: &str, value: Option<&str>, min: u8) -> Result<u8, WsError> {
    let v = value.ok_or_else(|| reject(format!("{name} needs a value in the response")))?;
    let v = v.trim_matches('"');
    let bits: u8 = v
        .parse()
        .map_err(|_| reject(format!("{name}={v:?} is not a number")))?;
    if !(8..=15).contains(&bits) {
        return Err(reject(format!("{name}={bits} is outside 8..=15")));
    }
    if bits < min {
        return Err(reject(format!(
            "{name}={bits} is not supported (zlib raw deflate needs at least {min})"
        )));
    }
    Ok(bits)
}

/// Validates the server's answer to `offer` (one extension from `Sec-WebSocket-Extensions`).
///
/// Accepts anything RFC 7692 §7.1 lets a server answer, including
/// `client_no_context_takeover` when we did not offer it (Gate.io does this).
pub fn negotiate(response: &str, offer: &DeflateOffer) -> Result<DeflateParams, WsError> {
    let mut parts = response.split(';').map(str::trim);
    let name = parts.next().unwrap_or("");
    if !name.eq_ignore_ascii_case("permessage-deflate") {
        return Err(reject(format!(
            "server accepted unrequested extension {name:?}"
        )));
    }
    let mut p = DeflateParams::default();
    let mut seen = [false; 4];
    for param in parts {
        let (key, value) = match param.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (param, None),
        };
        let slot = match key.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" => 0,
            "client_no_context_takeover" => 1,
            "server_max_window_bits" => 2,
            "client_max_window_bits" => 3,
            _ => {
                return Err(reject(format!(
                    "unknown permessage-deflate parameter {key:?}"
                )))
            }
        };
        if std::mem::replace(&mut seen[slot], true) {
            return Err(reject(format!(
                "duplicate permessage-deflate parameter {key:?}"
            )));
        }
        match slot {
            0 | 1 => {
                if value.is_some() {
                    return Err(reject(format!("{key} takes no value")));
                }
                if slot == 0 {
                    p.server_no_context_takeover = true;
                } else {
                    p.client_no_context_takeover = true;
                }
            }
            2 => {
                let bits = parse_bits(key, value, 8)?;
                if offer.server_max_window_bits.is_some_and(|max| bits > max) {
                    return Err(reject(format!(
                        "server_max_window_bits={bits} above our offer"
                    )));
                }
                p.server_max_window_bits = bits;
            }
            _ => {
                if !offer.client_max_window_bits {
                    return Err(reject(
                        "client_max_window_bits in the response was not offered",
                    ));
                }
                p.client_max_window_bits = parse_bits(key, value, 9)?;
            }
        }
    }
    if offer.server_no_context_takeover && !p.server_no_context_takeover {
        return Err(reject("server ignored our server_no_context_takeover"));
    }
    if let Some(max) = offer.server_max_window_bits {
        if !seen[2] {
            return Err(reject(format!(
                "server ignored our server_max_window_bits={max}"
            )));
        }
    }
    Ok(p)
}

/// The largest LZ77 window (15 bits): how far back a compressed message may refer.
const WINDOW: usize = 1 << 15;

/// Decompresses server messages.
///
/// A sender may end a message with a BFINAL block (§7.2.3.3). That ends the DEFLATE stream,
/// but with context takeover the next message may still refer back into the data before it,
/// so the inflater is reset and primed with the last 32 KiB of output as its dictionary (what
/// zlib's `inflateResetKeep` would keep). For that the last [`WINDOW`] bytes of output are
/// kept across messages (one copy of each message's output; none without context takeover).
pub struct Inflater {
    d: Decompress,
    reset_each_message: bool,
    /// The output of earlier messages, at most the last `2 * WINDOW` bytes (trimmed lazily).
    history: Vec<u8>,
    /// Where the current message starts in the caller's `out`, once its first piece came.
    msg_start: Option<usize>,
    /// A BFINAL block ended the stream and no byte of a new one has come since.
    ended: bool,
}

impl Inflater {
    /// An inflater for the negotiated parameters.
    pub fn new(params: &DeflateParams) -> Self {
        Self {
            d: Decompress::new(false),
            reset_each_message: params.server_no_context_takeover,
            history: Vec::new(),
            msg_start: None,
            ended: false,
        }
    }

    /// Starts a new DEFLATE stream after a BFINAL block, keeping the window: the last
    /// 32 KiB of earlier messages and of this one (`msg`) become the dictionary.
    #[cold]
    fn restart(&mut self, msg: &[u8]) -> Result<(), WsError> {
        self.d.reset(false);
        let dict: std::borrow::Cow<'_, [u8]> = if msg.len() >= WINDOW {
            msg[msg.len() - WINDOW..].into()
        } else {
            let older = &self.history[self.history.len().saturating_sub(WINDOW - msg.len())..];
            [older, msg].concat().into()
        };
        if dict.is_empty() {
            return Ok(());
        }
        self.d
            .set_dictionary(&dict)
            .map(drop)
            .map_err(|e| WsError::new(WsErrorKind::InflateFailed, format!("inflate: {e}")))
    }

    /// Inflates one more piece of a compressed message, appending to `out`.
    ///
    /// Fails with 1009 once `out` would exceed `max` bytes, so a small "zip bomb" frame
    /// cannot allocate more than the message limit.
    pub fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>, max: usize) -> Result<(), WsError> {
        let start = *self.msg_start.get_or_insert(out.len());
        loop {
            if out.len() > max {
                return Err(too_big(max));
            }
            if out.capacity() == out.len() {
                let room = max + 1 - out.len();
                out.reserve(out.len().clamp(4096, 1 << 20).min(room));
            }
            let (in0, out0) = (self.d.total_in(), self.d.total_out());
            let status = self
                .d
                .decompress_vec(input, out, FlushDecompress::Sync)
                .map_err(|e| WsError::new(WsErrorKind::InflateFailed, format!("inflate: {e}")))?;
            let used = (self.d.total_in() - in0) as usize;
            let made = (self.d.total_out() - out0) as usize;
            input = input.get(used..).unwrap_or(&[]);
            self.ended &= used == 0;
            if out.len() > max {
                return Err(too_big(max));
            }
            if status == Status::StreamEnd {
                // A BFINAL block (allowed by §7.2.3.3): the next bytes start a new stream that
                // may still refer back into the window.
                self.restart(out.get(start..).unwrap_or(&[]))?;
                self.ended = true;
                if input.is_empty() {
                    return Ok(());
                }
                continue;
            }
            let has_room = out.len() < out.capacity();
            if input.is_empty() && has_room {
                return Ok(());
            }
            if used == 0 && made == 0 && has_room {
                return Err(WsError::new(
                    WsErrorKind::InflateFailed,
                    "inflate made no progress",
                ));
            }
        }
    }

    /// Ends a message: feeds the stripped sync tail and resets if context takeover is off.
    pub fn finish(&mut self, out: &mut Vec<u8>, max: usize) -> Result<(), WsError> {
        if !self.ended {
            self.push(&TAIL, out, max)?;
        }
        // After a BFINAL block the tail would start the next stream with a broken stored
        // block: like zlib's `unused_data`, it is not part of any stream and is dropped.
        self.ended = false;
        let start = self.msg_start.take().unwrap_or(out.len());
        if self.reset_each_message {
            self.d.reset(false);
        } else {
            // Context takeover: keep the window for a later message's BFINAL restart.
            let msg = out.get(start..).unwrap_or(&[]);
            if msg.len() >= WINDOW {
                self.history.clear();
                self.history.extend_from_slice(&msg[msg.len() - WINDOW..]);
            } else {
                if self.history.len() + msg.len() > 2 * WINDOW {
                    let keep = WINDOW - msg.len();
                    self.history.drain(..self.history.len() - keep);
                }
                self.history.extend_from_slice(msg);
            }
        }
        Ok(())
    }

    /// Inflates a whole message (all fragments joined) into `out`.
    pub fn message(&mut self, input: &[u8], out: &mut Vec<u8>, max: usize) -> Result<(), WsError> {
        self.push(input, out, max)?;
        self.finish(out, max)
    }
}

fn too_big(max: usize) -> WsError {
    WsError::new(
        WsErrorKind::MessageTooBig,
        format!("decompressed message exceeds the {max}-byte limit"),
    )
}

/// Compresses client messages.
pub struct Deflater {
    c: Compress,
    reset_each_message: bool,
}

impl Deflater {
    /// A compressor for the negotiated parameters (window 9..=15, else an error).
    pub fn new(params: &DeflateParams) -> Result<Self, WsError> {
        let bits = params.client_max_window_bits;
        if !(9..=15).contains(&bits) {
            return Err(WsError::new(
                WsErrorKind::InvalidInput,
                format!("client_max_window_bits={bits} unsupported (9..=15)"),
            ));
        }
        Ok(Self {
            c: Compress::new_with_window_bits(Compression::default(), false, bits),
            reset_each_message: params.client_no_context_takeover,
        })
    }

    /// Appends the compressed form of one message to `out` (tail stripped, §7.2.1).
    pub fn message(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), WsError> {
        let start = out.len();
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(input.len() / 2 + 64);
            }
            let in0 = self.c.total_in();
            self.c
                .compress_vec(input, out, FlushCompress::Sync)
                .map_err(|e| WsError::new(WsErrorKind::DeflateFailed, format!("deflate: {e}")))?;
            let used = (self.c.total_in() - in0) as usize;
            input = input.get(used..).unwrap_or(&[]);
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if out[start..].ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if out.len() == start {
            // §7.2.3.6: an empty message is sent as a single 0x00 byte.
            out.push(0x00);
        }
        if self.reset_each_message {
            self.c.reset();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(server_nct: bool, client_nct: bool) -> DeflateParams {
        DeflateParams {
            server_no_context_takeover: server_nct,
            client_no_context_takeover: client_nct,
            ..DeflateParams::default()
        }
    }

    #[test]
    fn inflates_rfc7692_example_hello() {
        // RFC 7692 §7.2.3.1: "Hello" compressed, tail removed.
        let mut inf = Inflater::new(&params(false, false));
        let mut out = Vec::new();
        inf.message(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], &mut out, 100)
            .unwrap();
        assert_eq!(out, b"Hello");
        // §7.2.3.2: the second "Hello" refers back into the shared window.
        out.clear();
        inf.message(&[0xf2, 0x00, 0x11, 0x00, 0x00], &mut out, 100)
            .unwrap();
        assert_eq!(out, b"Hello");
    }

    #[test]
    fn round_trips_with_and_without_context_takeover() {
        for (snct, cnct) in [(false, false), (true, true), (true, false), (false, true)] {
            let p = params(snct, cnct);
            let mut def = Deflater::new(&p).unwrap();
            let mut inf = Inflater::new(&DeflateParams {
                server_no_context_takeover: cnct,
                ..p
            });
            for msg in [
                &b"{\"a\":1,\"b\":[1,2,3]}"[..],
                b"",
                b"{\"a\":1,\"b\":[1,2,3]}",
            ] {
                let mut z = Vec::new();
                def.message(msg, &mut z).unwrap();
                let mut out = Vec::new();
                inf.message(&z, &mut out, 1 << 20).unwrap();
                assert_eq!(out, msg);
            }
        }
    }

    #[test]
    fn rejects_inflated_output_above_limit() {
        let mut def = Deflater::new(&DeflateParams::default()).unwrap();
        let mut z = Vec::new();
        def.message(&vec![b'a'; 1 << 20], &mut z).unwrap();
        assert!(z.len() < 5000);
        let mut inf = Inflater::new(&DeflateParams::default());
        let mut out = Vec::new();
        let e = inf.message(&z, &mut out, 64 * 1024).unwrap_err();
        assert_eq!((e.kind, e.close_code), (WsErrorKind::MessageTooBig, 1009));
        assert!(out.capacity() <= 256 * 1024);
    }

    /// Finding 8 of issue 13: a message ending in a BFINAL block broke the next one.
    #[test]
    fn a_final_block_keeps_the_window_for_the_next_message() {
        let hello = [
            0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0x28, 0xcf, 0x2f, 0xca, 0x49, 0x01, 0x00,
        ];
        let mut inf = Inflater::new(&DeflateParams::default());
        for _ in 0..3 {
            let mut out = Vec::new();
            inf.message(&hello, &mut out, 100).unwrap();
            assert_eq!(out, b"hello world");
        }
        // A BFINAL message that refers back into the previous one: zlib with that dictionary.
        let mut def = Compress::new(Compression::default(), false);
        def.set_dictionary(b"hello world").unwrap();
        let mut z = Vec::with_capacity(64);
        def.compress_vec(b"hello world, hello", &mut z, FlushCompress::Finish)
            .unwrap();
        let mut out = Vec::new();
        inf.message(&z, &mut out, 100).unwrap();
        assert_eq!(out, b"hello world, hello");
    }

    #[test]
    fn rejects_corrupt_deflate_data() {
        let mut inf = Inflater::new(&DeflateParams::default());
        let e = inf
            .message(&[0xff, 0xff, 0xff, 0xff], &mut Vec::new(), 100)
            .unwrap_err();
        assert_eq!((e.kind, e.close_code), (WsErrorKind::InflateFailed, 1002));
    }

    #[test]
    fn accepts_gate_answer_with_unoffered_client_no_context_takeover() {
        let p = negotiate(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            &DeflateOffer::default(),
        )
        .unwrap();
        assert!(p.server_no_context_takeover && p.client_no_context_takeover);
        assert_eq!(
            (p.server_max_window_bits, p.client_max_window_bits),
            (15, 15)
        );
    }

    #[test]
    fn negotiates_window_bits() {
        let p = negotiate(
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=\"10\"",
            &DeflateOffer::default(),
        )
        .unwrap();
        assert_eq!(
            (p.server_max_window_bits, p.client_max_window_bits),
            (12, 10)
        );
    }

    #[test]
    fn rejects_answers_we_cannot_honour() {
        let offer = DeflateOffer::default();
        for bad in [
            "x-webkit-deflate-frame",
            "permessage-deflate; client_max_window_bits=8",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=abc",
            "permessage-deflate; mystery",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; client_no_context_takeover=1",
        ] {
            let e = negotiate(bad, &offer).unwrap_err();
            assert_eq!(e.kind, WsErrorKind::Handshake, "{bad}");
        }
        let no_cmwb = DeflateOffer {
            client_max_window_bits: false,
            ..offer
        };
        assert!(negotiate("permessage-deflate; client_max_window_bits=10", &no_cmwb).is_err());
        let want_snct = DeflateOffer {
            server_no_context_takeover: true,
            ..offer
        };
        assert!(negotiate("permessage-deflate", &want_snct).is_err());
    }

    #[test]
    fn offer_header_lists_requested_parameters() {
        assert_eq!(
            DeflateOffer::default().header_value(),
            "permessage-deflate; client_max_window_bits"
        );
        let o = DeflateOffer {
            client_max_window_bits: false,
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: Some(10),
        };
        assert_eq!(
            o.header_value(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"
        );
    }
}
