//! The bus wire encoding: book messages a gateway publishes and remote books read.
//!
//! One message is one NATS payload. Everything is little-endian; decimals are the book's own
//! fixed-point integers (`i128` counts of `10^-scale`, scale 18 today, carried in every
//! message), so nothing is rounded and no float is involved. The layout (version 1):
//!
//! ```text
//! off  size  field
//!   0     1  version       1
//!   1     1  kind          1 delta, 2 snapshot, 3 out_of_sync, 4 heartbeat
//!   2     1  flags         bit 0 (snapshot): back in sync; other bits zero
//!   3     1  scale         decimal places of every price and size (18)
//!   4     8  gateway_seq   u64, per book, +1 for every book message (no gaps)
//!  12     8  first_id      u64, exchange change id the message starts after (delta) / 0
//!  20     8  last_id       u64, exchange change id of the book after the message
//!  28     8  recv_ns       u64, gateway wall clock when the exchange push was read (ns)
//!  36     8  publish_ns    u64, gateway wall clock when the message was encoded (ns)
//!  44     1  exchange_len  n, then n bytes of UTF-8 exchange name
//!   .     1  symbol_len    m, then m bytes of UTF-8 symbol (heartbeat: the gateway id)
//!   .     4  level_count   u32, then level_count levels of 33 bytes:
//!                            side u8 (0 bid, 1 ask), price i128, size i128
//! ```
//!
//! A delta lists the levels the gateway's book set, as applied, in order (new absolute size,
//! zero: gone, including levels its depth limit cut off); replaying them on the book as of
//! `gateway_seq - 1` gives the book as of `gateway_seq`. A snapshot lists the whole book
//! (bids best first, then asks best first) as of `gateway_seq`. `out_of_sync` says the
//! gateway's book has left sync: readers must stop trusting theirs until a snapshot. A
//! heartbeat carries no levels and its own counter in `gateway_seq`. Nothing may follow the
//! last level.

use std::fmt;

use crate::book::{Change, OrderBook, Status, SyncState};
use crate::decimal::{Decimal, SCALE};

/// The encoding's version byte.
pub const VERSION: u8 = 1;
/// Fixed header bytes before the exchange name.
pub const HEADER: usize = 44;
/// Bytes per level.
pub const LEVEL: usize = 33;
/// Snapshot flag: the gateway's book came (back) in sync with this state.
pub const FLAG_RESYNC: u8 = 1;

/// What a message says.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The levels one or more applied pushes changed.
    Delta = 1,
    /// The whole book.
    Snapshot = 2,
    /// The gateway's book is out of sync.
    OutOfSync = 3,
    /// The gateway is alive.
    Heartbeat = 4,
}

impl Kind {
    /// Lower-case name used in Python.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Delta => "delta",
            Kind::Snapshot => "snapshot",
            Kind::OutOfSync => "out_of_sync",
            Kind::Heartbeat => "heartbeat",
        }
    }

    /// The kind named `name`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "delta" => Some(Kind::Delta),
            "snapshot" => Some(Kind::Snapshot),
            "out_of_sync" => Some(Kind::OutOfSync),
            "heartbeat" => Some(Kind::Heartbeat),
            _ => None,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Kind::Delta),
            2 => Some(Kind::Snapshot),
            3 => Some(Kind::OutOfSync),
            4 => Some(Kind::Heartbeat),
            _ => None,
        }
    }
}

/// The fixed fields of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// What the message says.
    pub kind: Kind,
    /// [`FLAG_RESYNC`] or zero.
    pub flags: u8,
    /// Per-book gateway sequence.
    pub gateway_seq: u64,
    /// Exchange change id the levels follow (delta).
    pub first_id: u64,
    /// Exchange change id of the book after the message.
    pub last_id: u64,
    /// When the gateway read the exchange push (ns since the epoch).
    pub recv_ns: u64,
    /// When the gateway encoded the message (ns since the epoch).
    pub publish_ns: u64,
    /// Exchange name.
    pub exchange: &'a str,
    /// Symbol (the gateway id for a heartbeat).
    pub symbol: &'a str,
}

/// Why bytes are not a bus message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusError {
    /// The field being read.
    pub field: &'static str,
    /// Byte offset where it failed.
    pub pos: usize,
    /// What was wrong.
    pub detail: String,
}

impl fmt::Display for BusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bus message: bad {} at byte {}: {}",
            self.field, self.pos, self.detail
        )
    }
}

impl std::error::Error for BusError {}

fn err(field: &'static str, pos: usize, detail: impl Into<String>) -> BusError {
    BusError {
        field,
        pos,
        detail: detail.into(),
    }
}

/// Writes the header and names; the level count follows (patched by the caller if needed).
///
/// # Panics
/// If the exchange or the symbol is longer than 255 bytes (callers check first).
fn put_header(out: &mut Vec<u8>, h: &Header<'_>, count: u32) {
    out.push(VERSION);
    out.push(h.kind as u8);
    out.push(h.flags);
    // SCALE is 18: it fits a byte by construction.
    out.push(SCALE as u8);
    out.extend_from_slice(&h.gateway_seq.to_le_bytes());
    out.extend_from_slice(&h.first_id.to_le_bytes());
    out.extend_from_slice(&h.last_id.to_le_bytes());
    out.extend_from_slice(&h.recv_ns.to_le_bytes());
    out.extend_from_slice(&h.publish_ns.to_le_bytes());
    for name in [h.exchange, h.symbol] {
        let n = u8::try_from(name.len()).expect("names are checked to fit a byte");
        out.push(n);
        out.extend_from_slice(name.as_bytes());
    }
    out.extend_from_slice(&count.to_le_bytes());
}

#[inline]
fn put_level(out: &mut Vec<u8>, is_bid: bool, price: Decimal, size: Decimal) {
    out.push(u8::from(!is_bid));
    out.extend_from_slice(&price.raw().to_le_bytes());
    out.extend_from_slice(&size.raw().to_le_bytes());
}

/// Checks that a name fits the one-byte length.
///
/// # Errors
/// A name longer than 255 bytes.
pub fn check_name(field: &'static str, name: &str) -> Result<(), BusError> {
    if name.len() > 255 {
        return Err(err(field, 0, "longer than 255 bytes"));
    }
    Ok(())
}

fn count_of(n: usize) -> Result<u32, BusError> {
    u32::try_from(n).map_err(|_| err("level_count", 0, "more than 2^32 - 1 levels"))
}

/// Encodes a message from explicit levels (`(is_bid, price, size)` in order).
///
/// # Errors
/// A name longer than 255 bytes, or more than 2^32 - 1 levels.
pub fn encode(
    out: &mut Vec<u8>,
    h: &Header<'_>,
    levels: impl ExactSizeIterator<Item = (bool, Decimal, Decimal)>,
) -> Result<(), BusError> {
    check_name("exchange", h.exchange)?;
    check_name("symbol", h.symbol)?;
    out.reserve(HEADER + 6 + h.exchange.len() + h.symbol.len() + levels.len() * LEVEL);
    put_header(out, h, count_of(levels.len())?);
    for (is_bid, p, s) in levels {
        put_level(out, is_bid, p, s);
    }
    Ok(())
}

/// Encodes a delta straight from a journal's changes.
///
/// # Errors
/// As [`encode`].
pub fn encode_changes(
    out: &mut Vec<u8>,
    h: &Header<'_>,
    changes: &[Change],
) -> Result<(), BusError> {
    encode(out, h, changes.iter().map(|c| (c.is_bid, c.price, c.size)))
}

/// Encodes a snapshot of `book`: bids best first, then asks best first, at most `top` per
/// side.
///
/// # Errors
/// As [`encode`].
pub fn encode_book(
    out: &mut Vec<u8>,
    h: &Header<'_>,
    book: &OrderBook,
    top: Option<usize>,
) -> Result<(), BusError> {
    let n = top.unwrap_or(usize::MAX);
    let bids = book.bids().iter().take(n).map(|(p, s)| (true, p, s));
    let asks = book.asks().iter().take(n).map(|(p, s)| (false, p, s));
    let count = book.bids().len().min(n) + book.asks().len().min(n);
    encode(out, h, Counted(bids.chain(asks), count))
}

/// An iterator with a known length (a chain of two `take`s does not say it).
struct Counted<I>(I, usize);

impl<I: Iterator> Iterator for Counted<I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        let x = self.0.next();
        if x.is_some() {
            self.1 -= 1;
        }
        x
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.1, Some(self.1))
    }
}

impl<I: Iterator> ExactSizeIterator for Counted<I> {}

/// A checked message: its header and its levels, read lazily from the bytes.
#[derive(Clone, Debug)]
pub struct Message<'a> {
    /// The fixed fields.
    pub header: Header<'a>,
    levels: &'a [u8],
}

impl<'a> Message<'a> {
    /// Number of levels.
    #[must_use]
    pub fn len(&self) -> usize {
        self.levels.len() / LEVEL
    }

    /// True when the message carries no level.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// The levels as `(is_bid, price, size)`, in message order (checked by [`decode`]).
    pub fn levels(&self) -> impl ExactSizeIterator<Item = (bool, Decimal, Decimal)> + 'a {
        self.levels.chunks_exact(LEVEL).map(|c| {
            let mut p = [0u8; 16];
            let mut s = [0u8; 16];
            p.copy_from_slice(&c[1..17]);
            s.copy_from_slice(&c[17..33]);
            (
                c[0] == 0,
                Decimal::from_raw(i128::from_le_bytes(p)),
                Decimal::from_raw(i128::from_le_bytes(s)),
            )
        })
    }
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

fn name_at<'a>(b: &'a [u8], at: usize, field: &'static str) -> Result<(&'a str, usize), BusError> {
    let n = *b
        .get(at)
        .ok_or_else(|| err(field, at, "message ends before the length byte"))? as usize;
    let raw = b
        .get(at + 1..at + 1 + n)
        .ok_or_else(|| err(field, at, format!("{n} bytes announced, message too short")))?;
    let s = std::str::from_utf8(raw).map_err(|_| err(field, at + 1, "not UTF-8"))?;
    Ok((s, at + 1 + n))
}

/// Checks and reads a message; every level is checked here (side byte, size not negative),
/// so [`Message::levels`] cannot fail.
///
/// # Errors
/// [`BusError`] naming the field and byte offset: unknown version, kind or flags, another
/// scale, a truncated or overlong message, a name that is not UTF-8, a bad side byte, a
/// negative size, or levels on a message kind that carries none.
pub fn decode(b: &[u8]) -> Result<Message<'_>, BusError> {
    if b.is_empty() {
        return Err(err("version", 0, "empty message"));
    }
    if b[0] != VERSION {
        return Err(err(
            "version",
            0,
            format!("version {} (this build reads {VERSION})", b[0]),
        ));
    }
    if b.len() < HEADER {
        return Err(err(
            "header",
            b.len(),
            format!("{} bytes, the header needs {HEADER}", b.len()),
        ));
    }
    let kind =
        Kind::from_byte(b[1]).ok_or_else(|| err("kind", 1, format!("unknown kind {}", b[1])))?;
    let flags = b[2];
    let allowed = if kind == Kind::Snapshot {
        FLAG_RESYNC
    } else {
        0
    };
    if flags & !allowed != 0 {
        return Err(err("flags", 2, format!("unknown flags {flags:#04x}")));
    }
    if u32::from(b[3]) != SCALE {
        return Err(err(
            "scale",
            3,
            format!("scale {} (this build keeps {SCALE})", b[3]),
        ));
    }
    let (exchange, at) = name_at(b, HEADER, "exchange")?;
    let (symbol, at) = name_at(b, at, "symbol")?;
    let count_raw = b
        .get(at..at + 4)
        .ok_or_else(|| err("level_count", at, "message ends before the level count"))?;
    let count =
        u32::from_le_bytes([count_raw[0], count_raw[1], count_raw[2], count_raw[3]]) as usize;
    let start = at + 4;
    let levels = &b[start..];
    if Some(levels.len()) != count.checked_mul(LEVEL) {
        return Err(err(
            "levels",
            start,
            format!(
                "{count} levels announced, {} bytes follow (need {} each)",
                levels.len(),
                LEVEL
            ),
        ));
    }
    if count > 0 && matches!(kind, Kind::OutOfSync | Kind::Heartbeat) {
        return Err(err(
            "levels",
            start,
            format!("a {} carries no level", kind.name()),
        ));
    }
    for (i, c) in levels.chunks_exact(LEVEL).enumerate() {
        let pos = start + i * LEVEL;
        if c[0] > 1 {
            return Err(err("side", pos, format!("side byte {}", c[0])));
        }
        // The sign bit of the little-endian size is the top bit of its last byte.
        if c[32] & 0x80 != 0 {
            return Err(err("size", pos + 17, "negative size"));
        }
    }
    Ok(Message {
        header: Header {
            kind,
            flags,
            gateway_seq: u64_at(b, 4),
            first_id: u64_at(b, 12),
            last_id: u64_at(b, 20),
            recv_ns: u64_at(b, 28),
            publish_ns: u64_at(b, 36),
            exchange,
            symbol,
        },
        levels,
    })
}

/// What a book message did to a reader's book.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A delta, with the book's verdict (`Stale`: an older message, skipped; `Gap`: a
    /// message is missing and the book is now out of sync; `NotSynced`: the book waits for a
    /// snapshot).
    Delta(Status),
    /// A snapshot was loaded (`Applied`, or `Crossed`), or skipped as older than the book
    /// (`Stale`).
    Snapshot(Status),
    /// The gateway's book left sync: so did this one (`Applied`), unless the marker is older
    /// than the book (`Stale`).
    OutOfSync(Status),
}

fn check_names(h: &Header<'_>, exchange: &str, symbol: &str) -> Result<(), BusError> {
    if h.exchange != exchange || h.symbol != symbol {
        return Err(err(
            "symbol",
            HEADER,
            format!(
                "message for {}:{} offered to the book of {exchange}:{symbol}",
                h.exchange, h.symbol
            ),
        ));
    }
    Ok(())
}

/// Applies one message from the book subject to a reader's book, in stream order.
///
/// The book's change id is the gateway sequence, under the one-id-per-message rule
/// ([`crate::book::SeqRule::KucoinFutures`]: `seq == L + 1` applies, `seq <= L` is stale,
/// anything else is a gap). A snapshot on the stream is its own confirmation.
///
/// # Errors
/// Malformed bytes, a heartbeat, or a message for another book: the book is then marked out
/// of sync (a reader must not trust a stream that carries garbage).
pub fn apply(
    book: &mut OrderBook,
    bytes: &[u8],
    exchange: &str,
    symbol: &str,
) -> Result<(Applied, u64), BusError> {
    let result = apply_checked(book, bytes, exchange, symbol);
    if result.is_err() {
        book.mark_out_of_sync();
    }
    result
}

fn apply_checked(
    book: &mut OrderBook,
    bytes: &[u8],
    exchange: &str,
    symbol: &str,
) -> Result<(Applied, u64), BusError> {
    let m = decode(bytes)?;
    if m.header.kind == Kind::Heartbeat {
        return Err(err("kind", 1, "a heartbeat on a book subject"));
    }
    check_names(&m.header, exchange, symbol)?;
    let seq = m.header.gateway_seq;
    // Replayed history: the book already holds (or has been told of) a later state.
    let older = book.state() != SyncState::Empty && seq <= book.sequence();
    let applied = match m.header.kind {
        Kind::Delta => {
            let st = book.apply_delta::<std::convert::Infallible>(seq, seq, |w| {
                for (is_bid, p, s) in m.levels() {
                    if is_bid {
                        w.bid(p, s);
                    } else {
                        w.ask(p, s);
                    }
                }
                Ok(())
            });
            Applied::Delta(st.unwrap_or_else(|e| match e {}))
        }
        Kind::Snapshot if older => Applied::Snapshot(Status::Stale),
        Kind::Snapshot => Applied::Snapshot(load(book, &m, false)),
        Kind::OutOfSync if older => Applied::OutOfSync(Status::Stale),
        Kind::OutOfSync => {
            book.mark_out_of_sync();
            Applied::OutOfSync(Status::Applied)
        }
        // Refused above, before the names (a heartbeat names its gateway, not a book).
        Kind::Heartbeat => return Err(err("kind", 1, "a heartbeat on a book subject")),
    };
    Ok((applied, m.header.last_id))
}

fn load(book: &mut OrderBook, m: &Message<'_>, stored: bool) -> Status {
    let fill = |w: &mut crate::book::SnapshotWriter<'_>| -> Result<(), std::convert::Infallible> {
        for (is_bid, p, s) in m.levels() {
            if is_bid {
                w.bid(p, s);
            } else {
                w.ask(p, s);
            }
        }
        Ok(())
    };
    let seq = m.header.gateway_seq;
    let st = if stored {
        book.load_snapshot(seq, fill)
    } else {
        book.load_stream_snapshot(seq, fill)
    };
    st.unwrap_or_else(|e| match e {})
}

/// Loads the bucket's copy of a book into a reader's book.
///
/// A snapshot seeds the book, not in sync until the stream's next delta (`gateway_seq + 1`)
/// bridges it: [`Status::Applied`] (or [`Status::Crossed`]). An `out_of_sync` marker (the
/// gateway's book was out of sync when it was stored) leaves the book empty and out of sync
/// at the marker's sequence, so that only a later snapshot from the stream can bring it back
/// (older ones replayed from the stream are skipped): [`Status::NotSynced`].
///
/// # Errors
/// Malformed bytes, a delta or heartbeat, or another book's message (the book is then out of
/// sync).
pub fn load_stored(
    book: &mut OrderBook,
    bytes: &[u8],
    exchange: &str,
    symbol: &str,
) -> Result<Status, BusError> {
    let m = decode(bytes).and_then(|m| {
        check_names(&m.header, exchange, symbol)?;
        match m.header.kind {
            Kind::Snapshot | Kind::OutOfSync => Ok(m),
            other => Err(err(
                "kind",
                1,
                format!("a {} is not a stored book", other.name()),
            )),
        }
    });
    match m {
        Ok(m) if m.header.kind == Kind::OutOfSync => {
            // Seeded with nothing at the marker's sequence, then out of sync: the sequence
            // is the floor below which the stream's messages are history.
            load(book, &m, true);
            book.mark_out_of_sync();
            Ok(Status::NotSynced)
        }
        Ok(m) => Ok(load(book, &m, true)),
        Err(e) => {
            book.mark_out_of_sync();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests;
