//! `GateError`: why a Gate.io frame could not be decoded, naming the channel and field.
//!
//! Every failure carries where it happened (channel and field path, such as `result.b[3]`),
//! what was wrong, and the byte offset, so a log line is enough to find the bad frame. Only
//! the error path allocates.

use std::fmt;

use crate::error::DecimalError;
use crate::json::{JsonError, JsonErrorKind};

/// What is wrong with a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateErrorKind {
    /// Not valid JSON.
    Json(JsonErrorKind),
    /// A known field has the wrong JSON type (`expected`, got `found`).
    Type {
        /// The type the field must have.
        expected: &'static str,
        /// The JSON type that was sent.
        found: &'static str,
    },
    /// A price, size or amount is not an exact decimal.
    Decimal(DecimalError),
    /// An integer field is not an integer in range.
    Integer,
    /// A value is well typed but not allowed (negative size, bad stream name, ...).
    Invalid(&'static str),
    /// A field the message cannot do without is absent.
    Missing,
}

/// A frame that could not be decoded. Boxed, so that the `Result`s of the hot path stay one
/// pointer wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateError(Box<Detail>);

/// What [`GateError`] holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    /// Channel of the frame, or empty when it was not known yet.
    pub channel: String,
    /// Field path, e.g. `result.price` or `result.b[2].s`.
    pub field: String,
    /// Byte offset in the frame.
    pub pos: usize,
    /// What is wrong.
    pub kind: GateErrorKind,
}

impl std::ops::Deref for GateError {
    type Target = Detail;
    fn deref(&self) -> &Detail {
        &self.0
    }
}

impl std::ops::DerefMut for GateError {
    fn deref_mut(&mut self) -> &mut Detail {
        &mut self.0
    }
}

impl GateError {
    /// A syntax error found while reading `field`.
    #[cold]
    #[must_use]
    pub fn json(field: &str, e: JsonError) -> Self {
        Self::at(field, e.pos, GateErrorKind::Json(e.kind))
    }

    /// An error of `kind` at `field`.
    #[cold]
    #[must_use]
    pub fn at(field: &str, pos: usize, kind: GateErrorKind) -> Self {
        Self(Box::new(Detail {
            channel: String::new(),
            field: field.to_owned(),
            pos,
            kind,
        }))
    }

    /// A repeated key at `field`: refused, because Python's `json` (the judge of what a frame
    /// means) would keep only the last occurrence while a one-pass reader commits to the first.
    #[cold]
    #[must_use]
    pub fn duplicate(field: &str, pos: usize) -> Self {
        Self::at(
            field,
            pos,
            GateErrorKind::Invalid("duplicate key (refused: JSON would keep only the last one)"),
        )
    }

    /// Fills in the channel if the error was raised before it was known.
    #[must_use]
    pub fn in_channel(mut self, channel: &str) -> Self {
        if self.channel.is_empty() {
            channel.clone_into(&mut self.channel);
        }
        self
    }

    /// Prefixes the field path (`b[2]` inside `result` becomes `result.b[2]`).
    #[must_use]
    pub fn under(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for GateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let channel = if self.channel.is_empty() {
            "?"
        } else {
            &self.channel
        };
        let field = if self.field.is_empty() {
            "<frame>"
        } else {
            &self.field
        };
        write!(
            f,
            "gate.io {channel}: field {field}: {} (byte {})",
            self.kind, self.pos
        )
    }
}

/// What is wrong, in words (shared with the Binance decoder's errors).
impl fmt::Display for GateErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GateErrorKind::Json(k) => write!(f, "malformed JSON: {}", k.describe()),
            GateErrorKind::Type { expected, found } => {
                write!(f, "expected {expected}, got {found}")
            }
            GateErrorKind::Decimal(e) => write!(f, "{e}"),
            GateErrorKind::Integer => f.write_str("not an integer in range"),
            GateErrorKind::Invalid(why) => f.write_str(why),
            GateErrorKind::Missing => f.write_str("missing"),
        }
    }
}

impl std::error::Error for GateError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_channel_field_and_position() {
        let e = GateError::at("price", 42, GateErrorKind::Missing)
            .under("result")
            .in_channel("spot.trades");
        assert_eq!(e.field, "result.price");
        assert_eq!(
            e.to_string(),
            "gate.io spot.trades: field result.price: missing (byte 42)"
        );
        let e = GateError::at("[3]", 1, GateErrorKind::Integer).under("b");
        assert_eq!(e.field, "b[3]");
        let e = GateError::at(
            "s",
            0,
            GateErrorKind::Type {
                expected: "string",
                found: "number",
            },
        );
        assert!(e.to_string().contains("expected string, got number"));
        assert!(e.to_string().starts_with("gate.io ?:"));
    }
}
