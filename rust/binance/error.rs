//! `BinanceError`: why a Binance frame could not be decoded, naming the stream and field.
//!
//! The JSON side reuses the Gate.io scanner and value readers, so a failure is described by
//! the same [`GateErrorKind`] (malformed JSON, wrong type, bad decimal, missing field, ...);
//! this type only names the Binance stream instead of a Gate channel. SBE failures use
//! [`GateErrorKind::Invalid`] with the byte offset in the binary frame.

use std::fmt;

use crate::gate::{GateError, GateErrorKind};

/// A frame that could not be decoded. Boxed so that the hot path's `Result`s stay small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinanceError(Box<Detail>);

/// What [`BinanceError`] holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    /// Stream name (combined streams) or event type, empty when not known yet.
    pub stream: String,
    /// Field path, e.g. `data.b[2]` or `k.o`.
    pub field: String,
    /// Byte offset in the frame.
    pub pos: usize,
    /// What is wrong.
    pub kind: GateErrorKind,
}

impl std::ops::Deref for BinanceError {
    type Target = Detail;
    fn deref(&self) -> &Detail {
        &self.0
    }
}

impl BinanceError {
    /// An error of `kind` at `field`.
    #[cold]
    #[must_use]
    pub fn at(field: &str, pos: usize, kind: GateErrorKind) -> Self {
        Self(Box::new(Detail {
            stream: String::new(),
            field: field.to_owned(),
            pos,
            kind,
        }))
    }

    /// A well-typed value that is not allowed (`why` says what).
    #[cold]
    #[must_use]
    pub fn invalid(field: &str, pos: usize, why: &'static str) -> Self {
        Self::at(field, pos, GateErrorKind::Invalid(why))
    }

    /// A key that appears twice: `json.loads` would keep the last value, which a streaming
    /// decoder cannot honour, so such frames are refused rather than read differently.
    #[cold]
    #[must_use]
    pub fn duplicate(field: &str, pos: usize) -> Self {
        Self::invalid(field, pos, "duplicate key")
    }

    /// Names the stream (or event type) if it was not known when the error was raised.
    #[must_use]
    pub fn in_stream(mut self, stream: &str) -> Self {
        if self.0.stream.is_empty() {
            stream.clone_into(&mut self.0.stream);
        }
        self
    }

    /// Prefixes the field path (`b[2]` inside `data` becomes `data.b[2]`).
    #[must_use]
    pub fn under(mut self, parent: &str) -> Self {
        let d = &mut self.0;
        d.field = if d.field.is_empty() {
            parent.to_owned()
        } else if d.field.starts_with('[') {
            format!("{parent}{}", d.field)
        } else {
            format!("{parent}.{}", d.field)
        };
        self
    }
}

impl From<GateError> for BinanceError {
    #[cold]
    fn from(e: GateError) -> Self {
        Self(Box::new(Detail {
            stream: e.channel.clone(),
            field: e.field.clone(),
            pos: e.pos,
            kind: e.kind.clone(),
        }))
    }
}

impl fmt::Display for BinanceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stream = if self.stream.is_empty() {
            "?"
        } else {
            &self.stream
        };
        let field = if self.field.is_empty() {
            "<frame>"
        } else {
            &self.field
        };
        write!(
            f,
            "binance {stream}: field {field}: {} (byte {})",
            self.kind, self.pos
        )
    }
}

impl std::error::Error for BinanceError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_stream_field_and_position() {
        let e = BinanceError::at("p", 42, GateErrorKind::Missing)
            .under("data")
            .in_stream("btcusdt@trade");
        assert_eq!(
            e.to_string(),
            "binance btcusdt@trade: field data.p: missing (byte 42)"
        );
        let e = BinanceError::duplicate("b", 3).under("data");
        assert_eq!(e.field, "data.b");
        assert!(e.to_string().contains("duplicate key"));
        let g: BinanceError = GateError::at("[1]", 7, GateErrorKind::Integer)
            .under("b")
            .into();
        assert_eq!(g.field, "b[1]");
        assert!(g
            .to_string()
            .starts_with("binance ?: field b[1]: not an integer"));
    }
}
