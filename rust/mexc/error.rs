//! Typed errors of the MEXC decoder, each naming the schema field it happened in.
//!
//! Field paths are static name segments (`publicAggreDepths`, `asks`, `price`) carried in a
//! fixed array, so building one costs nothing on the hot path and an error never allocates
//! until it is rendered. Messages read like `publicAggreDepths.toVersion: invalid integer
//! "12x"`; the segments are the field names of `proto/` (mexc.md §4).

use std::fmt;

use crate::error::DecimalError;

const MAX_DEPTH: usize = 4;

/// Where in the message an error happened: up to four schema field names.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FieldPath {
    segs: [&'static str; MAX_DEPTH],
    len: u8,
}

impl FieldPath {
    /// The wrapper itself (an empty path).
    pub const ROOT: FieldPath = FieldPath {
        segs: [""; MAX_DEPTH],
        len: 0,
    };

    /// This path extended by one field name. The schema nests at most four deep
    /// (`publicIncreaseDepthsBatch.items.asks.price`); deeper pushes keep the last slot.
    #[must_use]
    #[inline]
    pub const fn push(self, seg: &'static str) -> Self {
        let mut out = self;
        let i = if (self.len as usize) < MAX_DEPTH {
            out.len += 1;
            self.len as usize
        } else {
            MAX_DEPTH - 1
        };
        out.segs[i] = seg;
        out
    }

    /// The segments, outermost first.
    #[must_use]
    pub fn segments(&self) -> &[&'static str] {
        &self.segs[..self.len as usize]
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == 0 {
            return f.write_str("PushDataV3ApiWrapper");
        }
        f.write_str(&self.segments().join("."))
    }
}

impl fmt::Debug for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What was wrong with the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The buffer ended inside a tag, a varint or a fixed-width value.
    Truncated,
    /// A varint ran past ten bytes, or its tenth byte overflows 64 bits (upb refuses both).
    VarintTooLong,
    /// A tag or a length prefix spelled with more than five bytes (upb refuses them).
    OverlongPrefix,
    /// A price or size below zero: a book level is never negative (zero deletes it).
    Negative,
    /// A second body field (301-315) in one wrapper. Google's runtime would merge two of the
    /// same field, or keep the last of two different ones; hftws refuses rather than give
    /// the frame a meaning the sender may not have meant.
    DuplicateBody,
    /// A length prefix points past the end of the enclosing message.
    LengthPastEnd {
        /// Declared length.
        len: u64,
        /// Bytes actually left.
        left: usize,
    },
    /// A known field arrived with the wrong wire type (or a group / reserved wire type).
    BadWireType {
        /// The wire type the schema implies.
        expected: u8,
        /// The wire type on the wire.
        got: u8,
    },
    /// Field number zero (or above 2^29 - 1): not a protobuf tag.
    BadTag(u64),
    /// A string field is not valid UTF-8.
    InvalidUtf8,
    /// A decimal string field is not an exact decimal.
    InvalidDecimal(DecimalError),
    /// An integer string field (a version) is not an unsigned 64-bit integer.
    InvalidInteger(String),
    /// A field the operation needs is absent (e.g. `fromVersion` for a book update).
    Missing,
    /// The wrapper carries no body this decoder knows (absent, or newer than the schema).
    NoBody,
    /// The body is not the kind the operation needs (e.g. trades given to `apply_depth`).
    WrongBody(&'static str),
    /// A JSON control frame could not be parsed.
    InvalidJson(&'static str),
}

/// A frame that could not be decoded; `path` names the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MexcError {
    /// The schema field where decoding stopped.
    pub path: FieldPath,
    /// What went wrong there.
    pub kind: ErrorKind,
}

impl MexcError {
    /// An error of `kind` at `path`.
    #[must_use]
    pub fn new(path: FieldPath, kind: ErrorKind) -> Self {
        Self { path, kind }
    }
}

/// Cuts hostile input to a printable 64-byte excerpt.
pub(crate) fn excerpt(raw: &[u8]) -> String {
    let cut = &raw[..raw.len().min(64)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if raw.len() > 64 {
        s.push('…');
    }
    s
}

impl fmt::Display for MexcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let ErrorKind::InvalidJson(why) = &self.kind {
            // Text frames are not protobuf: no field path to show.
            return write!(f, "invalid JSON control frame: {why}");
        }
        write!(f, "{}: ", self.path)?;
        match &self.kind {
            ErrorKind::Truncated => f.write_str("message truncated"),
            ErrorKind::VarintTooLong => f.write_str("varint longer than 10 bytes or over 64 bits"),
            ErrorKind::OverlongPrefix => f.write_str("tag or length spelled with over 5 bytes"),
            ErrorKind::Negative => f.write_str("negative value"),
            ErrorKind::DuplicateBody => f.write_str("more than one body field (301-315)"),
            ErrorKind::LengthPastEnd { len, left } => {
                write!(f, "length {len} runs past the end ({left} bytes left)")
            }
            ErrorKind::BadWireType { expected, got } => {
                write!(f, "wrong wire type {got} (schema needs {expected})")
            }
            ErrorKind::BadTag(key) => write!(f, "invalid field tag {key}"),
            ErrorKind::InvalidUtf8 => f.write_str("string is not valid UTF-8"),
            ErrorKind::InvalidDecimal(e) => write!(f, "{e}"),
            ErrorKind::InvalidInteger(t) => write!(f, "invalid integer '{t}'"),
            ErrorKind::Missing => f.write_str("missing"),
            ErrorKind::NoBody => f.write_str("no known body (fields 301-315)"),
            ErrorKind::WrongBody(name) => write!(f, "{name} is not a depth body"),
            ErrorKind::InvalidJson(_) => Ok(()),
        }
    }
}

impl std::error::Error for MexcError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_with_dots_and_saturate() {
        let p = FieldPath::ROOT.push("publicAggreDepths").push("toVersion");
        let e = MexcError::new(p, ErrorKind::InvalidInteger("12x".into()));
        assert_eq!(
            e.to_string(),
            "publicAggreDepths.toVersion: invalid integer '12x'"
        );
        let deep = FieldPath::ROOT
            .push("a")
            .push("b")
            .push("c")
            .push("d")
            .push("e");
        assert_eq!(deep.segments(), ["a", "b", "c", "e"]);
        assert_eq!(FieldPath::ROOT.to_string(), "PushDataV3ApiWrapper");
    }

    #[test]
    fn excerpts_are_bounded() {
        assert_eq!(excerpt(&[b'1'; 100]).chars().count(), 65);
        assert_eq!(excerpt(b"\xff1"), "\u{fffd}1");
    }
}
