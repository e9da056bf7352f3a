//! Error types of the core. Each is a plain Rust value; `py::errors` alone maps them to
//! Python exceptions, so the engine can be used and tested without an interpreter.

use std::fmt;

/// Why a decimal string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalErrorKind {
    /// Nothing to parse.
    Empty,
    /// Not a decimal number (letters, two dots, a lone sign, ...).
    Invalid,
    /// Larger in magnitude than the fixed-point range (about 1.7e20).
    Overflow,
    /// More fractional digits than the fixed-point scale holds; refusing beats rounding.
    TooPrecise,
}

/// A decimal string that could not be represented exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecimalError {
    /// What went wrong.
    pub kind: DecimalErrorKind,
    /// The offending text (lossy UTF-8, cut to 64 bytes so hostile input stays small).
    pub text: String,
}

impl DecimalError {
    pub(crate) fn new(kind: DecimalErrorKind, raw: &[u8]) -> Self {
        let cut = &raw[..raw.len().min(64)];
        let mut text = String::from_utf8_lossy(cut).into_owned();
        if raw.len() > 64 {
            text.push('…');
        }
        Self { kind, text }
    }
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.kind {
            DecimalErrorKind::Empty => "empty decimal",
            DecimalErrorKind::Invalid => "invalid decimal",
            DecimalErrorKind::Overflow => "decimal out of range",
            DecimalErrorKind::TooPrecise => "decimal has more than 18 fractional digits",
        };
        write!(f, "{why}: {:?}", self.text)
    }
}

impl std::error::Error for DecimalError {}
