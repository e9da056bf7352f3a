//! Streaming client-side decoder: raw bytes from the socket in, whole messages out
//! (RFC 6455 §5 framing, §5.4 fragmentation, §8.1 UTF-8; RFC 7692 decompression).
//!
//! `feed_with` accepts any chunking. Complete frames inside the chunk are decoded in place:
//! an unfragmented, uncompressed message is handed to the callback as a slice of the
//! caller's buffer, with no copy. Only a frame cut by the end of a chunk is copied, into a
//! small pending buffer, and fragments or compressed messages are assembled in one reusable
//! message buffer. Memory is bounded by the message limit: a frame header announcing more
//! is refused before any of its payload is stored.
//!
//! This is the hook for later layers: a PyO3 pipeline owns a `Decoder` and passes a closure
//! that runs the exchange parser and the book on `Message::payload` directly.

use super::deflate::{DeflateParams, Inflater};
use super::error::{WsError, WsErrorKind};
use super::frame::{parse_close, parse_header, FrameHeader, Opcode, MAX_HEADER_LEN};

/// Default largest message (after decompression): 4 MiB, far above any exchange book
/// snapshot, small enough that a hostile peer cannot exhaust memory.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 4 << 20;

/// Pending-buffer capacity kept between frames; a larger one left by a big frame is freed.
const KEEP_CAPACITY: usize = 64 << 10;
/// Reassembly-buffer capacity kept between messages.
const KEEP_MESSAGE_CAPACITY: usize = 1 << 20;

/// One complete message, borrowing its payload from the input chunk or the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// Text, Binary, Ping, Pong or Close (never Continuation).
    pub opcode: Opcode,
    /// The payload: validated UTF-8 for Text, the raw close body for Close.
    pub payload: &'a [u8],
}

impl<'a> Message<'a> {
    /// For a Close message: the code (None for an empty body) and reason; already validated.
    pub fn close_info(&self) -> Option<(Option<u16>, &'a str)> {
        if self.opcode == Opcode::Close {
            parse_close(self.payload).ok()
        } else {
            None
        }
    }
}

/// Decoder settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderConfig {
    /// Largest message in bytes, after reassembly and decompression (1009 above it).
    pub max_message_size: usize,
    /// Negotiated permessage-deflate, if any; enables RSV1 on data frames.
    pub deflate: Option<DeflateParams>,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        Self {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            deflate: None,
        }
    }
}

/// A fragmented message being assembled.
#[derive(Debug, Clone, Copy)]
struct Fragmented {
    opcode: Opcode,
    compressed: bool,
}

/// The streaming decoder.
pub struct Decoder {
    max_size: usize,
    inflater: Option<Inflater>,
    /// Bytes of a frame cut by the end of the previous chunk.
    pending: Vec<u8>,
    /// Reassembled or inflated message.
    message: Vec<u8>,
    fragmented: Option<Fragmented>,
    close: Option<(Option<u16>, String)>,
    failed: Option<WsError>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(DecoderConfig::default())
    }
}

impl Decoder {
    /// A decoder for a freshly opened connection.
    pub fn new(config: DecoderConfig) -> Self {
        Self {
            max_size: config.max_message_size,
            inflater: config.deflate.as_ref().map(Inflater::new),
            pending: Vec::new(),
            message: Vec::new(),
            fragmented: None,
            close: None,
            failed: None,
        }
    }

    /// The largest message accepted.
    pub fn max_message_size(&self) -> usize {
        self.max_size
    }

    /// Code and reason of the server's close frame, once received.
    pub fn close(&self) -> Option<(Option<u16>, &str)> {
        self.close.as_ref().map(|(c, r)| (*c, r.as_str()))
    }

    /// The error that stopped the decoder, if any; every later feed returns it again.
    pub fn error(&self) -> Option<&WsError> {
        self.failed.as_ref()
    }

    /// Bytes held back because they do not yet form a whole frame.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// Decodes `data` and calls `on_message` for every complete message, in order.
    ///
    /// This is the hook for the layers above: run the exchange parser on `payload` inside
    /// the closure, so no Python object is created per message. `E` is the caller's error
    /// type; it only needs `From<WsError>`.
    ///
    /// ```
    /// use _core::ws::{Decoder, DecoderConfig, Message, Opcode, WsError};
    ///
    /// let mut dec = Decoder::new(DecoderConfig::default());
    /// let mut total = 0;
    /// // "ab" as two fragments with a ping in between, then half of the next frame.
    /// let stream = b"\x01\x01a\x89\x00\x80\x01b\x82\x02x";
    /// dec.feed_with(stream, |m: Message<'_>| -> Result<(), WsError> {
    ///     if m.opcode == Opcode::Text {
    ///         total += m.payload.len(); // parse m.payload here
    ///     }
    ///     Ok(())
    /// })?;
    /// assert_eq!((total, dec.buffered()), (2, 3));
    /// # Ok::<(), WsError>(())
    /// ```
    ///
    /// A protocol violation stops decoding and is returned (converted into `E`); the decoder
    /// then stays failed. An error returned by `on_message` stops this call and is passed
    /// through; that message counts as delivered and the rest of `data` is kept, so the next
    /// call continues with the following message. After a Close message every later byte is ignored
    /// (§5.5.1: the server sends nothing after it).
    pub fn feed_with<E, F>(&mut self, mut data: &[u8], mut on_message: F) -> Result<(), E>
    where
        E: From<WsError>,
        F: FnMut(Message<'_>) -> Result<(), E>,
    {
        if let Some(e) = &self.failed {
            return Err(e.clone().into());
        }
        if self.close.is_some() {
            return Ok(());
        }
        let allow_rsv1 = self.inflater.is_some();
        // 1. Complete the frame cut by the previous chunk, copying only what it needs.
        while !self.pending.is_empty() {
            let h = match parse_header(&self.pending, allow_rsv1, self.max_size) {
                Ok(Some(h)) => h,
                Ok(None) => {
                    if data.is_empty() {
                        return Ok(());
                    }
                    let take = MAX_HEADER_LEN
                        .saturating_sub(self.pending.len())
                        .min(data.len());
                    if take == 0 {
                        // Unreachable (14 bytes always decide a header); never spin.
                        return Ok(());
                    }
                    self.pending.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    continue;
                }
                Err(e) => return Err(self.fail(e)),
            };
            let total = h.frame_len();
            if self.pending.len() < total {
                let take = (total - self.pending.len()).min(data.len());
                self.pending.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.pending.len() < total {
                    return Ok(());
                }
            }
            let pending = std::mem::take(&mut self.pending);
            let r = self.frame(h, &pending[h.header_len..total], &mut on_message);
            self.pending = pending;
            self.pending.drain(..total);
            if self.pending.capacity() > KEEP_CAPACITY && self.pending.len() < KEEP_CAPACITY {
                self.pending.shrink_to(KEEP_CAPACITY);
            }
            if let Err(e) = r {
                self.keep_after_callback_error(data);
                return Err(e);
            }
            if self.close.is_some() {
                self.pending.clear();
                return Ok(());
            }
        }
        // 2. Whole frames straight from the caller's buffer.
        loop {
            match parse_header(data, allow_rsv1, self.max_size) {
                Ok(Some(h)) if h.frame_len() <= data.len() => {
                    prefetch(data, PREFETCH_AHEAD);
                    let (frame, rest) = data.split_at(h.frame_len());
                    data = rest;
                    if let Err(e) = self.frame(h, &frame[h.header_len..], &mut on_message) {
                        self.keep_after_callback_error(data);
                        return Err(e);
                    }
                    if self.close.is_some() {
                        return Ok(());
                    }
                }
                Ok(_) => break,
                Err(e) => return Err(self.fail(e)),
            }
        }
        self.pending.extend_from_slice(data);
        Ok(())
    }

    /// Decodes `data` into owned `(opcode, payload)` pairs: convenient, allocates per message.
    pub fn feed_owned(&mut self, data: &[u8]) -> Result<Vec<(Opcode, Vec<u8>)>, WsError> {
        let mut out = Vec::new();
        self.feed_with(data, |m: Message<'_>| -> Result<(), WsError> {
            out.push((m.opcode, m.payload.to_vec()));
            Ok(())
        })?;
        Ok(out)
    }

    /// After `on_message` failed, keeps the undecoded bytes so the next feed resumes at the
    /// right frame boundary (a protocol failure or a close needs nothing kept).
    fn keep_after_callback_error(&mut self, rest: &[u8]) {
        if self.failed.is_none() && self.close.is_none() {
            self.pending.extend_from_slice(rest);
        }
    }

    fn fail<E: From<WsError>>(&mut self, e: WsError) -> E {
        self.failed = Some(e.clone());
        e.into()
    }

    fn frame<E, F>(&mut self, h: FrameHeader, payload: &[u8], on_message: &mut F) -> Result<(), E>
    where
        E: From<WsError>,
        F: FnMut(Message<'_>) -> Result<(), E>,
    {
        match h.opcode {
            Opcode::Ping | Opcode::Pong => on_message(Message {
                opcode: h.opcode,
                payload,
            }),
            Opcode::Close => {
                let (code, reason) = match parse_close(payload) {
                    Ok(c) => c,
                    Err(e) => return Err(self.fail(e)),
                };
                self.close = Some((code, reason.to_owned()));
                on_message(Message {
                    opcode: Opcode::Close,
                    payload,
                })
            }
            Opcode::Text | Opcode::Binary => {
                if self.fragmented.is_some() {
                    return Err(self.fail(WsError::new(
                        WsErrorKind::ExpectedContinuation,
                        "new data frame while a fragmented message is open",
                    )));
                }
                if h.fin && !h.rsv1 {
                    if h.opcode == Opcode::Text {
                        if let Err(e) = check_utf8(payload) {
                            return Err(self.fail(e));
                        }
                    }
                    return on_message(Message {
                        opcode: h.opcode,
                        payload,
                    });
                }
                self.message.clear();
                self.fragmented = Some(Fragmented {
                    opcode: h.opcode,
                    compressed: h.rsv1,
                });
                self.append(payload, h.fin, on_message)
            }
            Opcode::Continuation => {
                if self.fragmented.is_none() {
                    return Err(self.fail(WsError::new(
                        WsErrorKind::UnexpectedContinuation,
                        "continuation frame without a fragmented message",
                    )));
                }
                if h.rsv1 {
                    return Err(self.fail(WsError::new(
                        WsErrorKind::ReservedBits,
                        "RSV1 set on a continuation frame",
                    )));
                }
                self.append(payload, h.fin, on_message)
            }
        }
    }

    /// Adds one fragment to the open message; on the final one, delivers it.
    fn append<E, F>(&mut self, payload: &[u8], fin: bool, on_message: &mut F) -> Result<(), E>
    where
        E: From<WsError>,
        F: FnMut(Message<'_>) -> Result<(), E>,
    {
        let Some(frag) = self.fragmented else {
            return Ok(());
        };
        let step = if frag.compressed {
            match self.inflater.as_mut() {
                Some(inf) => inf
                    .push(payload, &mut self.message, self.max_size)
                    .and_then(|()| {
                        if fin {
                            inf.finish(&mut self.message, self.max_size)
                        } else {
                            Ok(())
                        }
                    }),
                None => Err(WsError::new(
                    WsErrorKind::ReservedBits,
                    "RSV1 without deflate",
                )),
            }
        } else if self.message.len() + payload.len() > self.max_size {
            Err(WsError::new(
                WsErrorKind::MessageTooBig,
                format!("message exceeds the {}-byte limit", self.max_size),
            ))
        } else {
            self.message.extend_from_slice(payload);
            Ok(())
        };
        if let Err(e) = step {
            return Err(self.fail(e));
        }
        if !fin {
            return Ok(());
        }
        self.fragmented = None;
        if frag.opcode == Opcode::Text {
            if let Err(e) = check_utf8(&self.message) {
                return Err(self.fail(e));
            }
        }
        let r = on_message(Message {
            opcode: frag.opcode,
            payload: &self.message,
        });
        if self.message.capacity() > KEEP_MESSAGE_CAPACITY {
            self.message = Vec::new();
        }
        r
    }
}

/// How far ahead of the current frame to ask for memory (a few small frames).
const PREFETCH_AHEAD: usize = 2048;

/// Hints the CPU to load the cache line at `data[ahead]`. Small frames put headers 60-400
/// bytes apart and only the header is read, a pattern the hardware prefetcher does not
/// follow; on input that is not in cache each frame would otherwise wait a memory round trip.
#[inline(always)]
fn prefetch(data: &[u8], ahead: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(p) = data.get(ahead) {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is only a hint, never faults, and the address is inside `data`.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(p).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, ahead);
}

#[inline]
fn check_utf8(payload: &[u8]) -> Result<(), WsError> {
    match std::str::from_utf8(payload) {
        Ok(_) => Ok(()),
        Err(_) => Err(WsError::new(
            WsErrorKind::InvalidUtf8,
            "text message is not valid UTF-8",
        )),
    }
}

#[cfg(test)]
#[path = "decoder_tests.rs"]
mod tests;
